/*
 * est_parse.h - what an EST server (RFC 7030) sends back, parsed with no
 * trust in it: the base64 PKCS#7 certs-only of /cacerts, /simpleenroll and
 * /simplereenroll, the base64 CsrAttrs of /csrattrs, and Retry-After.
 * Pure functions on bytes (no network, no store): the libFuzzer target
 * tests/fuzz/fuzz_est.c drives them directly.
 */
#ifndef CERTSTORE_EST_PARSE_H
#define CERTSTORE_EST_PARSE_H

#include <stddef.h>
#include <time.h>

#include "certstore.h"

/*
 * RFC 7030 4.1.3/4.2.3: content_type must be application/pkcs7-mime, the
 * body base64 (line breaks allowed) of a PKCS#7 SignedData holding at least
 * one certificate.  HTML, bad base64, a bare certificate or an empty PKCS#7
 * are CS_ERR_BAD_INPUT saying which.  With leaf_first, the one end-entity
 * certificate is moved to the front (an issued answer); otherwise the order
 * is the server's, roots moved last (/cacerts).
 */
cs_rv est_parse_certs(const char *content_type, const unsigned char *body, size_t len,
		      int leaf_first, cs_cert_list *out, cs_err *err);

/* What /csrattrs asks for (RFC 7030 4.5.2), one entry per AttrOrOID. */
typedef struct est_csrattr {
	char oid[80];	    /* dotted */
	char name[80];	    /* OpenSSL's long name, or the OID */
	char values[4][80]; /* an attribute's OID values (e.g. a curve, a hash), dotted */
	int n_values;
} est_csrattr;

typedef struct est_csrattrs {
	est_csrattr *items;
	size_t n;
} est_csrattrs;

void est_csrattrs_clear(est_csrattrs *a);
/* An empty body is an empty list (RFC 7030: "no attributes"). */
cs_rv est_parse_csrattrs(const unsigned char *body, size_t len, est_csrattrs *out, cs_err *err);

/* Retry-After: delta-seconds or an HTTP-date; -1 when absent or unreadable. */
long est_parse_retry_after(const char *value, time_t now);

/* Strict base64 (whitespace ignored, padding checked) into DER. */
cs_rv est_base64_decode(const unsigned char *in, size_t len, cs_bytes *out, cs_err *err);

#endif
