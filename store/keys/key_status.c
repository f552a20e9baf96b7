/*
 * key_status.c - what status asks of key custody: is this certificate's key
 * in the token, and does it match?  Above keys.c (it asks cs_key_check);
 * nothing in key custody calls it.
 */
#include <openssl/err.h>
#include <openssl/x509.h>

#include "keys_internal.h"

cs_status cs_token_key_checker(void *ctx, const cs_cert *cert)
{
	cs_status st = CS_STATUS_MISSING_KEY;
	EVP_PKEY *pub;

	if (ctx == NULL || cert == NULL || cert->key_uri == NULL || cert->x509 == NULL)
		return CS_STATUS_MISSING_KEY;
	pub = X509_get0_pubkey(cert->x509);
	if (pub == NULL || cs_key_check(ctx, cert->key_uri, pub, &st, NULL) != CS_OK)
		st = CS_STATUS_MISSING_KEY;
	ERR_clear_error();
	return st;
}
