/*
 * x509.c - what the bottom of the store needs to know of a certificate:
 * the key id of a bare X509, which the database computes for its key_id
 * column (db.c registers it as an SQL function) and certs/ for cs_cert.
 * Here, below both, so the database layer asks no subsystem.
 */
#include "internal.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

bool cs_x509_key_id(const X509 *x, unsigned char id[20])
{
	unsigned int len = 0;

	/* EVP_sha1() fetches from the thread's default library context, which
	 * is the PKCS#11 module's own inside its calls. */
	return X509_pubkey_digest(x, EVP_sha1(), id, &len) == 1 && len == 20;
}
