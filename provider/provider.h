/*
 * provider.h - what the files of the certstore OpenSSL provider share.
 *
 * The provider is thin: every decision lives in libcertstore.  This header
 * holds the provider context (one per loaded provider instance), the lazy
 * access to the store, and the one way errors reach OpenSSL's error stack.
 *
 * Loading costs nothing: OSSL_provider_init only records parameters.  The
 * database is opened (read-only) by the first operation that needs it, the
 * key token by the first private-key operation.
 */
#ifndef CSP_PROVIDER_H
#define CSP_PROVIDER_H

#include <pthread.h>
#include <stdarg.h>
#include <sys/types.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>

#include "certstore.h"

#define CSP_NAME "certstore"
#define CSP_PROPS "provider=certstore"

/* Reasons on the error stack.  The cs_rv classes are used as they are
 * (1..99); the provider's own start at 100. */
enum {
	CSP_R_BAD_URI = 100,
	CSP_R_UNSUPPORTED,
	CSP_R_BAD_PARAM,
};

typedef struct csp_ctx {
	const OSSL_CORE_HANDLE *handle;
	OSSL_FUNC_core_new_error_fn *new_error;
	OSSL_FUNC_core_set_error_debug_fn *set_error_debug;
	OSSL_FUNC_core_vset_error_fn *vset_error;
	char *store_dir; /* the `store` parameter, NULL: cs_store_default_dir() */

	/* Guards everything below: the SQLite connection is opened NOMUTEX. */
	pthread_mutex_t lock;
	cs_store *store; /* opened on first use */
	pid_t store_pid; /* a connection is never used across fork() */
} csp_ctx;

/* Puts reason and the formatted message on OpenSSL's error stack. */
void csp_raise(const csp_ctx *ctx, int reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The library's error as it is: class as the reason, message as the text. */
void csp_raise_err(const csp_ctx *ctx, const cs_err *err);

/*
 * Locks the context and returns the store, opening it read-only first if
 * needed.  On CS_OK the caller holds the lock and must call
 * csp_store_release; on failure the lock is not held and err says why.
 */
cs_rv csp_store_acquire(csp_ctx *ctx, cs_store **out, cs_err *err);
void csp_store_release(csp_ctx *ctx);

/* The directory the store is (or will be) opened from. */
const char *csp_store_dir(const csp_ctx *ctx);

/* With CERTSTORE_PROVIDER_TRACE set, one line on stderr per store query or
 * token event, so tests can see what an operation cost (and what it did not). */
void csp_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- certstore: URIs (uri.c) ------------------------------------------- */

typedef enum {
	CSP_SEL_NONE = 0,      /* the whole store */
	CSP_SEL_THUMBPRINT,    /* ?thumbprint=HEX, SHA-1 or SHA-256 */
	CSP_SEL_FRIENDLY_NAME, /* ?friendly-name=NAME (percent-encoded) */
	CSP_SEL_USAGE,         /* ?usage=NAME */
} csp_selector;

typedef struct csp_uri {
	cs_store_id store; /* CS_STORE_NONE only with a selector: every store */
	csp_selector sel;
	char *value; /* decoded selector value; thumbprints upper-case hex */
} csp_uri;

/*
 * Parses "certstore:STORE[?SELECTOR=VALUE]": STORE is a store name or alias
 * (any case, percent-encoded), at most one selector.  Anything malformed is
 * CS_ERR_BAD_INPUT saying what; an unknown store is cs_store_id_parse's
 * CS_ERR_NOT_FOUND.  Free with csp_uri_clear.
 */
cs_rv csp_uri_parse(const char *uri, csp_uri *out, cs_err *err);
void csp_uri_clear(csp_uri *uri);

/* Dispatch tables of the operations, one file each. */
extern const OSSL_DISPATCH csp_store_functions[];

#endif
