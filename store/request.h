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

/*
 * What a request asks for.  Every string is owned by the spec (strdup'ed by
 * the setters and the INF reader) and freed by cs_request_spec_clear.
 */
typedef struct cs_request_spec {
	char *subject; /* "CN=a, O=b" (Windows/RFC 2253 order) or "/CN=a/O=b" */
	char *cn, *org, *ou, *country, *state, *city, *email; /* used when no subject */
	char *sans[CS_REQUEST_MAX_SANS]; /* "dns:x", "ip:1.2.3.4", "email:a@b", "uri:…" */
	size_t n_sans;
	char *key;           /* "rsa:2048" (default), see cs_key_spec_parse */
	char *hash;          /* "sha256" (default), sha224, sha384, sha512 */
	char *template_name; /* Microsoft certificate template name (1.3.6.1.4.1.311.20.2) */
	char *template_oid;  /* "OID:major[:minor]" (1.3.6.1.4.1.311.21.7) */
	char *friendly_name; /* NULL: generated from the CN and the date */
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
 * extensions in an extensionRequest attribute.  Checks the spec first: a
 * missing subject, a bad SAN, an unknown hash are CS_ERR_USAGE.
 */
cs_rv cs_request_build(const cs_request_spec *spec, EVP_PKEY *key, X509_REQ **out, cs_err *err);

/* The summary the enrollment wizard shows before it makes a key (for --dry-run). */
cs_rv cs_request_summary(const cs_request_spec *spec, char **out, cs_err *err);

#ifdef __cplusplus
}
#endif

#endif
