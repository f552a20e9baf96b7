/*
 * http.h - every byte between certstore and an online CA goes through here,
 * over libcurl: the CA's TLS certificate checked against the Root store
 * (published/roots.pem) or the profile's ca-file and nothing else,
 * the profile's timeouts, its credentials (password-file or a no-echo
 * prompt; never argv, never a URL, never logged), and one mapping of
 * failures to error classes:
 *
 *   unreachable, timeout, other transport errors  CS_ERR_CA with curl's words
 *   the CA's TLS certificate not trusted           CS_ERR_CA saying how to fix it
 *   HTTP 401 / 403                                 CS_ERR_AUTH
 *   any other HTTP status >= 400                   CS_ERR_CA with the status
 */
#ifndef CERTSTORE_ENROLL_HTTP_H
#define CERTSTORE_ENROLL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "enroll.h"

/* Answers larger than this are refused (CS_ERR_CA): no CA sends 4 MiB. */
#define HTTP_MAX_BODY (4u * 1024 * 1024)

typedef struct http_conn {
	void *curl;                   /* CURL *, one handle: NTLM needs one connection */
	const enroll_profile *profile;
	char *ca_pem;                 /* the Root store as PEM, when roots.pem is absent */
	bool announced;               /* "waiting for the CA" printed once */
} http_conn;

typedef struct http_response {
	long status;
	char *body;          /* NUL-terminated for convenience; len excludes the NUL */
	size_t len;
	char *content_type;  /* the headers protocols read, NULL when absent */
	char *location;
	char *replay_nonce;
	char *link_up;       /* ACME: Link: <url>;rel="up" */
	long retry_after;    /* seconds, -1 when absent */
} http_response;

/*
 * Sets up a connection to ctx->profile's CA: trust anchors, timeouts, and
 * (when the profile's auth asks for them) credentials.  The password is read
 * here, handed to libcurl and wiped.  Close with http_close.
 */
cs_rv http_open(enroll_ctx *ctx, http_conn *out, cs_err *err);
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

/* http_request then http_status_error. */
cs_rv http_get(http_conn *h, const char *url, const char *accept, http_response *out,
	       cs_err *err);

void http_response_clear(http_response *r);

/* "a=b&c=d" form encoding of one value (caller frees). */
char *http_form_escape(const char *s);

/* The error class of a failed libcurl transfer (a CURLcode), the same for
 * every protocol: CS_ERR_UNREACHABLE (exit 17) when the CA could not be
 * reached, CS_ERR_TLS (18) when its TLS certificate does not verify, else
 * CS_ERR_CA (12). */
cs_rv enroll_curl_class(int curl_code);

/*
 * The profile's password: password-file (a regular file, not a symlink, mode
 * 0600 or 0400, first line) or, on a terminal, a no-echo prompt.  Wipe with
 * http_secret_free.
 */
cs_rv http_read_password(const enroll_profile *p, char **out, cs_err *err);
/* The same checks for any secret file (what: "password-file", "challenge-file"). */
/* The file must be a regular file, no symbolic link, 0600 or 0400, owned by
 * the owner of store_dir (certstore.conf(5)); a file breaking these rules is
 * refused by policy (CS_ERR_REFUSED, exit 11) before a byte is read. */
cs_rv http_read_secret_file(const char *store_dir, const char *path, const char *what,
			    char **out, cs_err *err);
void http_secret_free(char *secret);

#endif
