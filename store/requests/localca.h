/*
 * localca.h - a certification authority kept in the store: its key in the
 * HSM, its certificate and the serials it issued in the database.  The
 * embedded CA for the demo, labs and tests, and the `protocol = local`
 * profile of `certstore request --ca`.
 *
 * Conventions are those of certstore.h.  Signing keys are EVP_PKEYs the
 * caller obtains (through the certstore provider, for HSM keys), so this
 * module never talks PKCS#11 itself.
 */
#ifndef CERTSTORE_LOCALCA_H
#define CERTSTORE_LOCALCA_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certstore.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_local_ca {
	char *name;
	cs_cert *cert;
	char *key_uri;
	int64_t created;
} cs_local_ca;

typedef enum {
	CS_ISSUE_SERVER = 1, /* serverAuth (the default) */
	CS_ISSUE_CLIENT,     /* clientAuth */
	CS_ISSUE_BOTH,	     /* serverAuth + clientAuth */
} cs_issue_profile;

/* "server", "client", "both" (also "server,client"). */
cs_rv cs_issue_profile_parse(const char *s, cs_issue_profile *out, cs_err *err);

void cs_local_ca_free(cs_local_ca *ca);

/*
 * Makes a self-signed CA certificate for key (whose private half is at
 * key_uri) named NAME ([A-Za-z0-9._-]+), subject "CN=<subject_cn>" (NULL:
 * "certstore <NAME> CA"), valid for days, and records it.  The certificate is
 * not trusted by this: its root goes into Root only through `ca roots NAME
 * --trust`.  An existing NAME is CS_ERR_DUPLICATE.
 */
cs_rv cs_local_ca_create(cs_store *store, const char *name, const char *subject_cn, EVP_PKEY *key,
			 const char *key_uri, int days, cs_local_ca **out, cs_err *err);
/* CS_ERR_NOT_FOUND when there is no local CA of that name. */
cs_rv cs_local_ca_get(cs_store *store, const char *name, cs_local_ca **out, cs_err *err);
/* Every local CA's name, as a NULL-terminated array the caller frees (each, then the array). */
cs_rv cs_local_ca_names(cs_store *store, char ***out, cs_err *err);

/*
 * Signs req with the CA's key: verifies the request's own signature (else
 * CS_ERR_BAD_INPUT), copies its subject and subjectAltName, adds
 * basicConstraints CA:FALSE, keyUsage for the key type and the profile's EKU
 * (or the request's own keyUsage / extendedKeyUsage when it carries them),
 * subject and authority key identifiers, a random 128-bit serial; signed with
 * the hash the request was signed with (SHA-2; SHA-256 otherwise); validity
 * from five minutes ago for days, never past the CA's own notAfter.  The
 * serial is recorded.  *out is the new certificate (caller frees).
 */
cs_rv cs_local_ca_issue(cs_store *store, const cs_local_ca *ca, EVP_PKEY *ca_key, X509_REQ *req,
			cs_issue_profile profile, int days, X509 **out, cs_err *err);

#ifdef __cplusplus
}
#endif

#endif
