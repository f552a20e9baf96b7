/*
 * request.h - certificate requests: what the admin asks for (a spec, from
 * options or a certreq INF file) turned into a signed PKCS#10 request, and
 * the pending requests the Request store keeps until the CA answers.
 *
 * Conventions are those of certstore.h.
 */
#ifndef CERTSTORE_REQUEST_H
#define CERTSTORE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certstore.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CS_REQUEST_MAX_SANS 64
#define CS_REQUEST_MAX_EKUS 16

/*
 * What a request asks for.  Every string is owned by the spec (strdup'ed by
 * the setters and the INF reader) and freed by cs_request_spec_clear.
 */
typedef struct cs_request_spec {
	char *subject; /* "CN=a, O=b" (Windows/RFC 2253 order) or "/CN=a/O=b" */
	char *cn, *org, *ou, *country, *state, *city, *email; /* used when no subject */
	char *sans[CS_REQUEST_MAX_SANS]; /* "dns:x", "ip:1.2.3.4", "email:a@b", "uri:…" */
	size_t n_sans;
	char *key;	     /* "rsa:2048" (default), see cs_key_spec_parse */
	char *hash;	     /* "sha256" (default), sha224, sha384, sha512 */
	char *template_name; /* Microsoft certificate template name (1.3.6.1.4.1.311.20.2) */
	char *template_oid;  /* "OID:major[:minor]" (1.3.6.1.4.1.311.21.7) */
	char *friendly_name; /* NULL: generated from the CN and the date */
	unsigned key_usage;  /* Windows KeyUsage bits (0x80 digitalSignature, 0x20
			      * keyEncipherment, ...) for a keyUsage extension; 0: none */
	char *ekus[CS_REQUEST_MAX_EKUS]; /* dotted OIDs for an extendedKeyUsage extension */
	size_t n_ekus;
	/* PKCS#9 challengePassword attribute (SCEP's one-time enrollment
	 * secret); a secret: wiped by cs_request_spec_clear, never printed. */
	char *challenge_password;
	bool exportable;
} cs_request_spec;

void cs_request_spec_clear(cs_request_spec *spec);
/* Replaces *field with a copy of value (NULL clears it). */
cs_rv cs_request_spec_set(char **field, const char *value, cs_err *err);
/* Adds one SAN ("dns:…", "ip:…", "email:…", "uri:…", case-insensitive prefix). */
cs_rv cs_request_spec_add_san(cs_request_spec *spec, const char *san, cs_err *err);

/*
 * Reads the certreq INF subset Windows admins already have:
 *   [NewRequest]  Subject, KeyLength, KeyAlgorithm (RSA, ECDSA_P256, ECDSA_P384),
 *                 Exportable, FriendlyName, HashAlgorithm
 *   [Extensions]  2.5.29.17 = "{text}" with _continue_ = "DNS=a&" lines
 *   [RequestAttributes] CertificateTemplate
 *   [NewRequest] KeyUsage (0xa0, or CERT_..._KEY_USAGE names joined by '|')
 *   [EnhancedKeyUsageExtension] OID = 1.3.6.1.5.5.7.3.1 (one line each)
 * into spec (fields already set by the caller are overwritten only by keys
 * present in the file).  Unknown keys in [NewRequest] that change the key or
 * its protection (e.g. MachineKeySet, ProviderName) are accepted and ignored;
 * anything malformed is CS_ERR_BAD_INPUT naming the file and line.
 */
cs_rv cs_request_spec_read_inf(const char *path, cs_request_spec *spec, cs_err *err);

/* The subject as an X509_NAME (from subject, or from cn/org/... when no subject). */
cs_rv cs_request_subject(const cs_request_spec *spec, X509_NAME **out, cs_err *err);

/* The friendly name to use: spec's, else "<CN> <YYYY-MM-DD>". Caller frees. */
char *cs_request_friendly_name(const cs_request_spec *spec, time_t now);

/*
 * Builds and signs the PKCS#10 request with key (any EVP_PKEY that can sign:
 * a certstore provider key in practice).  Carries the SANs and template
 * extensions in an extensionRequest attribute, and challenge_password (when
 * set) in a challengePassword attribute.  Checks the spec first: a
 * missing subject, a bad SAN, an unknown hash are CS_ERR_USAGE.
 */
cs_rv cs_request_build(const cs_request_spec *spec, EVP_PKEY *key, X509_REQ **out, cs_err *err);

/* A spec asking for cert again: its subject, SANs and key type (renewal). */
cs_rv cs_request_spec_from_cert(const cs_cert *cert, cs_request_spec *spec, cs_err *err);

/*
 * Refuses what cs_request_build would refuse (key type, hash, subject, SANs,
 * template extensions), with the same messages, without a key: so a dry run
 * validates exactly as the real run.
 */
cs_rv cs_request_spec_check(const cs_request_spec *spec, cs_err *err);

/* The summary the enrollment wizard shows before it makes a key (for --dry-run);
 * the spec is checked first (cs_request_spec_check). */
cs_rv cs_request_summary(const cs_request_spec *spec, char **out, cs_err *err);

/* ---- pending requests (the Request store) ------------------------------- */

/* A request waiting for its certificate, with the key made for it. */
typedef struct cs_pending {
	int64_t id;
	int64_t created;
	char *subject;
	cs_bytes csr_der;
	char *key_uri;	 /* the key in the token */
	char key_id[41]; /* SHA-1 of the public key (upper-case hex), as CKA_ID */
	char *key_spec;	 /* "rsa:2048", ... */
	char *friendly_name;
	bool friendly_name_generated; /* cs_pending_add makes it unique ("NAME (2)") */
	char *hash;		      /* the request's hash, for the audit log (not stored) */
	bool exportable;
	char *ca_profile;    /* NULL for a delayed (file) request */
	char *ca_request_id; /* the CA's own ID once it has one */
	char *usages;	     /* comma-separated usages to assign once issued */
	char *renews;	     /* SHA-1 of the certificate this request renews, or NULL */
} cs_pending;

typedef struct cs_pending_list {
	cs_pending **items;
	size_t n;
} cs_pending_list;

void cs_pending_free(cs_pending *p);
void cs_pending_list_clear(cs_pending_list *l);

/* SHA-1 of the public key's subjectPublicKey bits (RFC 5280 4.2.1.2 (1)), upper-case hex. */
cs_rv cs_pubkey_id_hex(EVP_PKEY *pub, char out[41], cs_err *err);

/*
 * Records a pending request built from req (subject, key id and DER are taken
 * from it) with its key.  Sets p->id, unique for the life of the store (an ID
 * is never reused).  A generated friendly name is made unique first (p's may
 * change).  Audit-logged as "request", with key type, hash and exportable.
 */
cs_rv cs_pending_add(cs_store *store, X509_REQ *req, cs_pending *p, cs_err *err);
cs_rv cs_pending_list_get(cs_store *store, cs_pending_list *out, cs_err *err);
/* By its ID as `certstore requests` shows it; CS_ERR_NOT_FOUND when none. */
cs_rv cs_pending_get(cs_store *store, int64_t id, cs_pending **out, cs_err *err);
/* The pending request whose key has this id; CS_ERR_NOT_FOUND when none. */
cs_rv cs_pending_find_by_key_id(cs_store *store, const char *key_id, cs_pending **out, cs_err *err);
/* Records the CA's request ID (a CA that answered "pending"). */
cs_rv cs_pending_set_ca_request_id(cs_store *store, int64_t id, const char *ca_request_id,
				   cs_err *err);
/* Removes the row (the key is the caller's business). Audit-logged with reason. */
cs_rv cs_pending_remove(cs_store *store, int64_t id, const char *reason, cs_err *err);

#ifdef __cplusplus
}
#endif

#endif
