/*
 * pkcs12.h - PFX (PKCS#12) in and out: a certificate with its private key.
 *
 * Import puts the key into the store's token and the certificate into My
 * bound to it; export reads an exportable key back out of the token (the
 * token decides, see cs_key_export).  Both read and write modern PFX
 * (PBES2: PBKDF2 + AES-256-CBC, SHA-256 MAC) and legacy PFX
 * (PBE-SHA1-3DES / RC2-40, SHA-1 MAC, as older Windows writes them); the
 * legacy algorithms come from OpenSSL's legacy provider, loaded in a private
 * library context so the rest of the process never sees it.
 *
 * Conventions are those of certstore.h.  Passwords are never copied into an
 * error message; the caller wipes its own copy.
 */
#ifndef CERTSTORE_PKCS12_H
#define CERTSTORE_PKCS12_H

#include <stdbool.h>

#include <openssl/evp.h>

#include "certstore.h"
#include "keys.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a PFX holds, decoded in the process's default library context. */
typedef struct cs_pfx {
	EVP_PKEY *key;	     /* the private key */
	cs_cert *cert;	     /* the certificate of that key */
	cs_cert_list chain;  /* every other certificate, in file order */
	char *friendly_name; /* the certificate's friendlyName attribute, or NULL */
} cs_pfx;

/*
 * Decrypts and decodes a PFX.  `name` (the file name) is only used in
 * messages.  A wrong password is CS_ERR_AUTH ("wrong password for NAME");
 * anything that is not a PFX, or a PFX without a private key or without the
 * key's certificate, is CS_ERR_BAD_INPUT.  An empty password also tries
 * "no password", as Windows does.  Free with cs_pfx_clear.
 */
cs_rv cs_pfx_parse(const unsigned char *data, size_t len, const char *name, const char *password,
		   cs_pfx *out, cs_err *err);
void cs_pfx_clear(cs_pfx *pfx);

typedef struct cs_pfx_import_opts {
	const char *friendly_name; /* NULL: the PFX's friendlyName (if any) */
	bool exportable;	   /* CKA_EXTRACTABLE of the key put in the token */
	bool trust_root;	   /* a self-signed root in the PFX goes to Root;
				    * otherwise it is skipped (CS_IMPORT_SKIPPED_ROOT) */
} cs_pfx_import_opts;

/*
 * Imports a PFX: the key into tok (cs_key_import, label = the friendly
 * name), its certificate into My bound to it (key_uri, exportable), the
 * other certificates placed as cs_import_certs places them (CA; Root only
 * with trust_root).  The certificates go in one transaction.  A key the
 * token already holds (same CKA_ID) is reused, with its own exportable flag.
 *
 * The certificate already in My without a key gets the PFX's key bound
 * (Windows attaches it): res's first item is then a duplicate with
 * key_attached set.
 *
 * Errors: those of cs_pfx_parse; the certificate already in My with a key
 * is CS_ERR_DUPLICATE (checked before the token is touched); a key type the
 * token cannot hold is CS_ERR_TOKEN.  On any failure the store is unchanged
 * and a key this call put into the token is deleted again.
 * res lists every certificate (the key's first); clear with
 * cs_import_result_clear.  *key_uri_out (may be NULL) receives the key's
 * URI, freed with free().
 */
cs_rv cs_pfx_import(cs_store *store, cs_token *tok, const char *name, const unsigned char *data,
		    size_t len, const char *password, const cs_pfx_import_opts *opts,
		    cs_import_result *res, char **key_uri_out, cs_err *err);

typedef struct cs_pfx_export_opts {
	bool chain;  /* add the chain as far as the store can build it */
	bool legacy; /* PBE-SHA1-3DES key, RC2-40 certificates, SHA-1 MAC */
} cs_pfx_export_opts;

/*
 * Writes cert and its private key as a PFX encrypted under password
 * (non-empty).  Default: PBES2 (PBKDF2 with HMAC-SHA-256, AES-256-CBC) for
 * key and certificates, SHA-256 MAC; opts->legacy for old consumers.  The
 * friendlyName attribute is the certificate's friendly name.
 * A certificate without key reference is CS_ERR_KEY; a key the token
 * will not release is CS_ERR_REFUSED ("the private key of ... is not
 * exportable").  The key material is freed (wiped) before returning.
 */
cs_rv cs_pfx_export(cs_store *store, cs_token *tok, const cs_cert *cert, const char *password,
		    const cs_pfx_export_opts *opts, cs_bytes *out, cs_err *err);

#ifdef __cplusplus
}
#endif

#endif /* CERTSTORE_PKCS12_H */
