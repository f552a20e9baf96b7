/*
 * acme.h - the parts of protocol "acme" (RFC 8555) that acme.c strings
 * together: the account (acme_account.c), JWS signing through the provider
 * (acme_jws.c), the order's identifiers (acme_names.c) and the http-01
 * responder (acme_http01.c).
 *
 * Profile keys ([ca.NAME], protocol = acme):
 *   url         the ACME directory URL
 *   listen      where the http-01 responder listens (default 0.0.0.0:80)
 *   email       contact for the account (optional)
 *   roots-url   where `ca roots` gets the root (PEM); ACME itself has none
 *
 * The account key is an EC P-256 key made in the store's token on first use;
 * <store>/acme/NAME.account (mode 0600) keeps its URI and the account URL.
 */
#ifndef CERTSTORE_ENROLL_ACME_H
#define CERTSTORE_ENROLL_ACME_H

#include <json-c/json.h>

#include "enroll.h"
#include "http.h"

typedef struct acme_session {
	enroll_ctx *ctx;
	http_conn http;
	EVP_PKEY *key; /* the account key: private half in the token */
	char *key_uri;
	char *jwk;	  /* canonical JWK JSON (RFC 7638 member order) */
	char *thumbprint; /* base64url SHA-256 of jwk */
	char *nonce;
	char *kid; /* the account URL, once known */
	char *new_nonce, *new_account, *new_order;
	char problem[48];    /* the type of the CA's problem answer to the last POST, or "" */
	long problem_status; /* its HTTP status, or 0 */
} acme_session;

/* ---- acme_jws.c ---- */

/* base64url without padding (caller frees). */
char *acme_b64url(const unsigned char *data, size_t len);
/* s->jwk and s->thumbprint from s->key (EC P-256 only). */
cs_rv acme_jwk(acme_session *s, cs_err *err);
/* The flattened JWS JSON for a POST to url.  payload NULL: POST-as-GET (""). */
cs_rv acme_jws(acme_session *s, const char *url, const char *payload, char **out, cs_err *err);

/* ---- acme_account.c ---- */

/* s->key_uri and s->key: the profile's account key, made in the token if new. */
cs_rv acme_account_key(acme_session *s, cs_err *err);
/* Records the account URL beside the key URI. */
cs_rv acme_account_save(acme_session *s, cs_err *err);

/* ---- acme_names.c ---- */

/* The order's identifiers: the request's DNS and IP SANs, else its CN (a new array). */
json_object *acme_identifiers(X509_REQ *req);

/* ---- acme_http01.c ---- */

typedef struct acme_responder acme_responder;

/* Listens on addr ("HOST:PORT", "[v6]:PORT" or "PORT") in a thread of its own. */
cs_rv acme_responder_start(const char *addr, acme_responder **out, cs_err *err);
/* Serves /.well-known/acme-challenge/token with keyauth from now on. */
cs_rv acme_responder_add(acme_responder *r, const char *token, const char *keyauth, cs_err *err);
void acme_responder_stop(acme_responder *r);

#endif
