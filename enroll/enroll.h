/*
 * enroll.h - CA profiles and the protocols that talk to CAs.
 *
 * `certstore request --ca PROFILE` builds the request (store/requests/request.h),
 * keeps it pending with its key, and hands it to the profile's protocol.
 * Every protocol answers the same way: issued (the certificate and what chain
 * the CA sent), or pending (the CA's request ID, for --retrieve later).  The
 * answer then goes through the library's import, which binds the certificate
 * to the pending request's key (certreq -accept) — one path for all CAs.
 *
 * Protocols: local (a CA kept in the store, store/requests/localca.h); the online ones
 * (certsrv, est, acme, scep) plug in through the same table.
 */
#ifndef CERTSTORE_ENROLL_H
#define CERTSTORE_ENROLL_H

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certstore.h"
#include "keys.h"
#include "request.h"

/*
 * What enrollment needs of the program that runs it: the store's key token
 * and a way to ask for a secret.  enroll/ never opens a token, loads a
 * provider or talks to a terminal itself; the certstore tool fills this in
 * from its own (tools/cli_keys.c, cli_enroll_keys), so the dependency runs
 * one way: tools -> enroll -> store.
 */
typedef struct enroll_keys {
	OSSL_LIB_CTX *libctx; /* the keys' provider context; NULL: no token was opened */
	cs_token *token;      /* the store's token (ACME account keys), or NULL */
	/* The key at uri (pkcs11:) as an EVP_PKEY whose private half stays in
	 * the token; CS_ERR_KEY when it cannot be had. */
	cs_rv (*load_key)(void *arg, const char *uri, EVP_PKEY **out, cs_err *err);
	/* A secret typed at a terminal without echo ("PROMPT: "); CS_ERR_USAGE
	 * when there is no terminal.  *out must come from malloc: enroll/
	 * wipes and frees it.  NULL: no secret can be asked. */
	cs_rv (*ask_secret)(void *arg, const char *prompt, char **out, cs_err *err);
	void *arg; /* passed to both */
} enroll_keys;

/* ctx->keys->load_key, or CS_ERR_INTERNAL when the program gave no keys. */
struct enroll_ctx;
cs_rv enroll_load_key(const struct enroll_ctx *ctx, const char *uri, EVP_PKEY **out, cs_err *err);

/* A [ca.NAME] section of certstore.conf, or a local CA of that name. */
typedef struct enroll_profile {
	char *name;
	char *protocol; /* "local", "certsrv", "est", "acme", "scep" */
	char *url;
	char *auth; /* "none", "basic", "ntlm", "negotiate" */
	char *user;
	char *password_file; /* absolute: relative ones are resolved in store_dir */
	char *template_name;
	char *ca_file;	     /* pinned CA for the CA's TLS, else the Root store; absolute */
	char *store_dir;     /* relative paths are relative to it; its owner owns secrets */
	char *issue_profile; /* local: server (default), client, both */
	long days;	     /* local: validity of issued certificates */
	long connect_timeout, timeout; /* seconds */
	CONF *conf;		       /* the whole file, for protocol-specific keys */
} enroll_profile;

cs_rv enroll_profile_load(cs_store *store, const char *name, enroll_profile **out, cs_err *err);
void enroll_profile_free(enroll_profile *p);
/* Protocol-specific key of the profile's section (NULL when absent). */
const char *enroll_profile_get(const enroll_profile *p, const char *key);
/* A path-valued key of the profile's section, relative ones resolved in the
 * store directory; NULL when absent.  Caller frees. */
char *enroll_profile_path(const enroll_profile *p, const char *key);
/* Every profile name: [ca.*] sections, then local CAs. NULL-terminated, caller frees. */
char **enroll_profile_names(cs_store *store, cs_err *err);

typedef enum {
	ENROLL_ISSUED = 1,
	ENROLL_PENDING,
	/* The CA refused the request itself (with CS_ERR_CA): final, so the
	 * caller keeps neither the request nor its new key. */
	ENROLL_DENIED,
} enroll_state;

typedef struct enroll_answer {
	enroll_state state;
	cs_cert_list certs;  /* ISSUED: the certificate first, then the chain sent */
	char *ca_request_id; /* PENDING (and ISSUED when the CA numbers requests) */
	char *detail;	     /* the CA's own words, when it gave any */
} enroll_answer;

void enroll_answer_clear(enroll_answer *a);
/* Clears an answer after a failure but keeps ENROLL_DENIED: a CA's denial is
 * final, and the request flow drops the request and its key on it. */
void enroll_answer_clear_failed(enroll_answer *a);

typedef struct enroll_ctx {
	cs_store *store;
	const enroll_keys *keys; /* NULL when the caller needs no key (local prepare) */
	const enroll_profile *profile;
	/* `ca roots --expect-fingerprint`: the admin's out-of-band fingerprint of
	 * the CA's root, for a first connection no anchor can verify yet
	 * (RFC 7030 4.1.1 bootstrap).  NULL otherwise. */
	const char *bootstrap_fingerprint;
} enroll_ctx;

typedef struct enroll_protocol {
	const char *name;
	/* Sends the request; CA refusals are CS_ERR_CA with its message. */
	cs_rv (*submit)(enroll_ctx *ctx, X509_REQ *req, const cs_pending *pending,
			enroll_answer *out, cs_err *err);
	/* Asks again for a pending request (pending->ca_request_id). */
	cs_rv (*retrieve)(enroll_ctx *ctx, const cs_pending *pending, enroll_answer *out,
			  cs_err *err);
	/* The CA's certificates, root last where known. */
	cs_rv (*roots)(enroll_ctx *ctx, cs_cert_list *out, cs_err *err);
	/* Optional: adjusts the request before it is built and its key made
	 * (SCEP: the challenge password; EST: what /csrattrs asks for). */
	cs_rv (*prepare)(enroll_ctx *ctx, cs_request_spec *spec, cs_err *err);
	/* Optional: renews current (a certificate in My with its key in the
	 * token) with req, authenticating as current where the protocol can
	 * (EST simplereenroll: TLS client auth).  NULL: renew with submit. */
	cs_rv (*renew)(enroll_ctx *ctx, X509_REQ *req, const cs_pending *pending,
		       const cs_cert *current, enroll_answer *out, cs_err *err);
} enroll_protocol;

/*
 * For retrieve when the CA has no ID for the request (it never took it: it
 * was unreachable, refused or garbled the answer): submits the recorded
 * request again through the profile's protocol.
 */
cs_rv enroll_resubmit(enroll_ctx *ctx, const cs_pending *pending, enroll_answer *out, cs_err *err);

/* The request a pending one recorded (pending->csr_der), decoded: the caller
 * frees *out with X509_REQ_free.  A record that does not decode is
 * CS_ERR_STORE naming the pending request. */
cs_rv enroll_pending_csr(const cs_pending *pending, X509_REQ **out, cs_err *err);

/* The protocol of that name; CS_ERR_USAGE listing the known ones if none. */
cs_rv enroll_protocol_find(const char *name, const enroll_protocol **out, cs_err *err);

extern const enroll_protocol enroll_local;
extern const enroll_protocol enroll_est;
extern const enroll_protocol enroll_scep;
extern const enroll_protocol enroll_certsrv;
extern const enroll_protocol enroll_acme;

#endif
