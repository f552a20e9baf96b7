/*
 * est_http.h - the minimal libcurl layer EST and SCEP need: one request, one
 * answer, TLS verified against explicit anchors (the Root store or the
 * profile's ca-file, never the system bundle), optional TLS client auth with
 * an HSM key through the provider, Basic auth from a password file.
 *
 * Written for EST/SCEP while the common layer (tools/enroll/http.c, branch
 * acme) is not on main yet; the two are to be folded together.
 */
#ifndef CERTSTORE_EST_HTTP_H
#define CERTSTORE_EST_HTTP_H

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "enroll.h"

typedef struct enroll_http_tls {
	STACK_OF(X509) *anchors; /* the only trusted roots (owned by the caller) */
	/* RFC 7030 4.1.1: accept whatever chain the server shows and keep it in
	 * peer_chain, for the caller to check against what it then fetched. */
	bool provisional;
	STACK_OF(X509) *peer_chain; /* out, provisional only; free with the answer */
	X509 *client_cert;          /* TLS client auth (with client_key), or NULL */
	EVP_PKEY *client_key;
} enroll_http_tls;

typedef struct enroll_http_req {
	const char *what;   /* "EST server lab", for messages */
	const char *url;
	const char *method; /* "GET" or "POST" */
	const void *body;
	size_t body_len;
	const char *content_type; /* of the body */
	const char *user;         /* Basic auth when set */
	const char *password;
	long connect_timeout, timeout; /* seconds */
	enroll_http_tls *tls;          /* NULL for plain http:// */
} enroll_http_req;

typedef struct enroll_http_resp {
	long status;
	char *content_type; /* NULL when the server sent none */
	char *retry_after;  /* the Retry-After header's value, or NULL */
	cs_bytes body;
} enroll_http_resp;

void enroll_http_resp_clear(enroll_http_resp *r);

/*
 * Performs the request.  Transport failures are classified: no connection,
 * no such host or a timeout is CS_ERR_UNREACHABLE; a server certificate that
 * does not verify (or a host name that does not match) is CS_ERR_TLS; any
 * other is CS_ERR_CA.  An HTTP status is not an error here: the caller
 * reads out->status.  Bodies over 4 MiB are refused.
 */
cs_rv enroll_http_perform(const enroll_http_req *req, enroll_http_resp *out, cs_err *err);

/* The anchors for the CA's TLS: every certificate in ca_file when set, else
 * the Root store.  Caller frees with sk_X509_pop_free(.., X509_free). */
cs_rv enroll_http_anchors(cs_store *store, const char *ca_file, STACK_OF(X509) **out,
			  cs_err *err);

/* The certificate with this thumbprint in My and its key from the token. */
cs_rv enroll_http_client_identity(enroll_ctx *ctx, const char *thumbprint, X509 **cert,
				  EVP_PKEY **key, cs_err *err);

/* A message-safe excerpt of a server's body: printable ASCII, at most n chars. */
void enroll_http_excerpt(const cs_bytes *body, char *out, size_t n);

#endif
