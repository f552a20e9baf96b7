/*
 * http.h - every byte between certstore and an online CA (EST, ACME, AD CS
 * certsrv, SCEP) goes through here, over libcurl, under one policy decided
 * per protocol in http.c (http_policy_for):
 *
 *   protocols      https only; plain http only where the protocol's own
 *                  messages are signed and the profile says http:// (SCEP)
 *   user agent     certstore/VERSION
 *   trust          only what the admin chose, never the system bundle:
 *                  the profile's ca-file, else the Root store — as
 *                  published/roots.pem (ACME, certsrv) or read from the
 *                  database (EST, SCEP, which also need the TLS context for
 *                  RFC 7030 bootstrap and TLS client certificates)
 *   credentials    password-file or a no-echo prompt; never argv, never a
 *                  URL, never logged
 *   failures       one mapping to error classes and one wording:
 *     unreachable, timeout                  CS_ERR_UNREACHABLE (17)
 *     the CA's TLS certificate not trusted   CS_ERR_TLS (18), saying how to fix it
 *     other transport errors                 CS_ERR_CA with curl's words
 *     HTTP 401 / 403                         CS_ERR_AUTH
 *     any other HTTP status >= 400           CS_ERR_CA with the status
 */
#ifndef CERTSTORE_ENROLL_HTTP_H
#define CERTSTORE_ENROLL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "enroll.h"

/* Answers larger than this are refused (CS_ERR_CA): no CA sends 4 MiB. */
#define HTTP_MAX_BODY (4u * 1024 * 1024)

/* How a protocol authenticates to its CA. */
typedef enum {
	HTTP_AUTH_PROFILE = 1, /* auth = none | basic | ntlm | negotiate (certsrv, ACME) */
	HTTP_AUTH_BASIC_ONLY,  /* basic when user is set, or none (EST) */
	HTTP_AUTH_NONE,	       /* the protocol carries its own secret (SCEP challenge) */
} http_auth_kind;

/* Where the CA's TLS anchors come from when the profile has no ca-file. */
typedef enum {
	HTTP_TRUST_ROOTS_FILE = 1, /* published/roots.pem, else the Root store */
	HTTP_TRUST_ROOT_STORE,	   /* the Root store, installed in the TLS context */
} http_trust_kind;

/* The whole policy for one protocol; see the table in http.c. */
typedef struct http_policy {
	const char *protocol;  /* "est", "acme", "certsrv", "scep" */
	const char *peer;      /* "CA", "the EST server": + the profile's name in messages */
	bool allow_plain_http; /* http:// accepted */
	http_trust_kind trust;
	http_auth_kind auth;
	bool bootstrap_advice; /* a TLS failure advises `ca roots --expect-fingerprint` */
} http_policy;

/* The policy for profile->protocol (the certsrv/ACME one for unknown names). */
const http_policy *http_policy_for(const char *protocol);

/* TLS context settings for HTTP_TRUST_ROOT_STORE connections. */
typedef struct http_tls {
	STACK_OF(X509) * anchors; /* the only trusted roots (owned by the connection) */
	/* RFC 7030 4.1.1: accept whatever chain the server shows and keep it in
	 * peer_chain, for the caller to check against what it then fetched. */
	bool provisional;
	STACK_OF(X509) * peer_chain; /* out, provisional only (owned by the connection) */
	X509 *client_cert;	     /* TLS client auth (with client_key), or NULL; owned */
	EVP_PKEY *client_key;
} http_tls;

typedef struct http_conn {
	void *curl; /* CURL *, one handle: NTLM needs one connection */
	const enroll_profile *profile;
	const http_policy *policy;
	char what[160]; /* the peer as messages name it */
	char *ca_pem;	/* the Root store as PEM, when roots.pem is absent */
	http_tls tls;
	bool plain;	/* an http:// URL: no TLS settings apply */
	bool too_big;	/* the last answer passed HTTP_MAX_BODY */
	bool announced; /* "waiting for the CA" printed once */
} http_conn;

typedef struct http_response {
	long status;
	char *body; /* NUL-terminated for convenience; len excludes the NUL */
	size_t len;
	char *content_type; /* the headers protocols read, NULL when absent */
	char *location;
	char *replay_nonce;
	char *link_up;		    /* ACME: Link: <url>;rel="up" */
	long retry_after;	    /* seconds, -1 when absent (HTTP-dates count as 10) */
	char *retry_after_value;    /* the header as sent, for protocols that read dates */
	unsigned long auth_offered; /* CURLAUTH_* bits of the schemes a 401 offered */
} http_response;

/* What a caller adds to a connection beyond its profile. */
typedef struct http_open_opts {
	bool provisional;     /* RFC 7030 4.1.1 bootstrap: see http_tls */
	X509 *client_cert;    /* TLS client certificate and its key; the connection */
	EVP_PKEY *client_key; /* takes these references over, also on failure */
} http_open_opts;

/*
 * Sets up a connection to ctx->profile's CA under its protocol's policy:
 * allowed URL scheme, trust anchors, timeouts, user agent and credentials.
 * The password is read here, handed to libcurl and wiped.  opts may be NULL.
 * Close with http_close.
 */
cs_rv http_open(enroll_ctx *ctx, const http_open_opts *opts, http_conn *out, cs_err *err);

/*
 * The CURLAUTH_* scheme h's profile asks for under h's policy, 0 for none:
 * what http_open gives libcurl, and what a 401 is explained against.  A
 * profile the policy refuses (auth = ntlm for EST, no user) is an error.
 */
cs_rv http_auth_scheme(const http_conn *h, long *how, cs_err *err);
void http_close(http_conn *h);

/*
 * One request.  method: "GET", "POST" or "HEAD"; body/len/content_type for
 * POST; accept may be NULL.  Any HTTP status is CS_OK here (the caller may
 * want a problem document); transport and TLS failures are errors.
 */
cs_rv http_request(http_conn *h, const char *method, const char *url, const char *content_type,
		   const void *body, size_t len, const char *accept, http_response *out,
		   cs_err *err);

/* The error for resp's status (CS_OK for 1xx-3xx), naming url. */
cs_rv http_status_error(const http_conn *h, const char *url, const http_response *resp,
			cs_err *err);

/* The class of an HTTP status: CS_ERR_AUTH for 401/403, CS_ERR_CA for the
 * rest of >= 400 (and garbage under 100), CS_OK otherwise. */
cs_rv http_status_class(long status);

/* http_request then http_status_error. */
cs_rv http_get(http_conn *h, const char *url, const char *accept, http_response *out, cs_err *err);

void http_response_clear(http_response *r);

/* "a=b&c=d" form encoding of one value (caller frees). */
char *http_form_escape(const char *s);

/* A message-safe excerpt of a server's body: printable ASCII, at most n chars. */
void http_excerpt(const char *body, size_t len, char *out, size_t n);

/* The error class of a failed libcurl transfer (a CURLcode), the same for
 * every protocol: CS_ERR_UNREACHABLE (exit 17) when the CA could not be
 * reached, CS_ERR_TLS (18) when its TLS certificate does not verify, else
 * CS_ERR_CA (12). */
cs_rv enroll_curl_class(int curl_code);

/* The one wording of a failed transfer (rc a CURLcode, detail curl's words
 * or ""), classed by enroll_curl_class; TLS failures carry the policy's advice. */
cs_rv http_transport_error(const http_conn *h, const char *url, int rc, const char *detail,
			   cs_err *err);

/* http_tls.c: the anchors for the CA's TLS: every certificate in ca_file
 * when set, else the Root store.  Caller frees with sk_X509_pop_free. */
cs_rv http_anchors(cs_store *store, const char *ca_file, STACK_OF(X509) * *out, cs_err *err);

/* http_tls.c: installs h->tls in curl's TLS context (HTTP_TRUST_ROOT_STORE). */
cs_rv http_tls_setup(http_conn *h, cs_store *store, cs_err *err);
void http_tls_clear(http_tls *tls);

/* The certificate with this thumbprint in My and its key from the token. */
cs_rv http_client_identity(enroll_ctx *ctx, const char *thumbprint, X509 **cert, EVP_PKEY **key,
			   cs_err *err);

/*
 * ctx->profile's password: password-file (a regular file, not a symlink, mode
 * 0600 or 0400, first line) or ctx->keys->ask_secret (the tool: a no-echo
 * prompt on the terminal).  Wipe with http_secret_free.
 */
cs_rv http_read_password(const enroll_ctx *ctx, char **out, cs_err *err);
/* The same checks for any secret file (what: "password-file", "challenge-file"). */
/* The file must be a regular file, no symbolic link, 0600 or 0400, owned by
 * the owner of store_dir (certstore.conf(5)); a file breaking these rules is
 * refused by policy (CS_ERR_REFUSED, exit 11) before a byte is read. */
cs_rv http_read_secret_file(const char *store_dir, const char *path, const char *what, char **out,
			    cs_err *err);
void http_secret_free(char *secret);

#endif
