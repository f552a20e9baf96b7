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
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certstore.h"
#include "keys.h"

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
	OSSL_FUNC_BIO_read_ex_fn *bio_read_ex; /* the DECODER reads its input with it */
	OSSL_FUNC_BIO_gets_fn *bio_gets;       /* ... and PEM one line at a time */
	char *store_dir; /* the `store` parameter, NULL: cs_store_default_dir() */
	char *agent;	 /* the `agent` parameter: key agent socket, NULL: none */

	/* Guards everything below: the SQLite connection is opened NOMUTEX. */
	pthread_mutex_t lock;
	cs_store *store;	/* opened on first use */
	pid_t store_pid;	/* a connection is never used across fork() */
	struct cs_token *token; /* opened by the first private-key operation */
	bool agent_checked;	/* certstore.conf's [token] agent = was read */
	/* Root context: which operations to register (CSP_UNARMED ...).
	 * CSP_ARMED at load when the core is loaded at once (`lazy = no`),
	 * else when the store is first used (csp_arm); never goes back. */
	int armed;
	bool aliased; /* loaded by the front: key managers carry CERTSTORE-RSA/EC */

	/* Key references may name another store than this one: each such store
	 * gets a context of its own (same handle, explicit store_dir), made on
	 * first use, freed with the provider.  Guarded by lock of the parent. */
	struct csp_ctx *parent;
	struct csp_ctx *others;
	struct csp_ctx *next;

	/* Keys that are not the store's (delegate.c), in the root context only:
	 * a library context with only `default`, made on first use, and its
	 * methods whose parameter lists we announce.  Guarded by dflt_lock. */
	pthread_mutex_t dflt_lock;
	OSSL_LIB_CTX *dflt;
	OSSL_PROVIDER *dflt_prov;
	EVP_KEYMGMT *dflt_keymgmt[2]; /* by csp_type_index */
	EVP_SIGNATURE *dflt_signature[2];
	EVP_ASYM_CIPHER *dflt_asym_cipher;
} csp_ctx;

#define CSP_TYPES 2

enum {
	CSP_UNARMED, /* STORE only (the front answers DECODER itself) */
	CSP_ARMING,  /* csp_keyref_decode_pem is handing out a key: KEYMGMT, not cached */
	CSP_ARMED,   /* everything, cached */
};

/*
 * OSSL_provider_init into ctx, zeroed memory the caller owns until the
 * provider's teardown, which frees it (free(ctx)): front/front.c keeps the
 * context at the start of its own, so that the pointer OpenSSL was given
 * before the core was loaded is the core's context.  1 on success.
 */
int csp_provider_init_at(csp_ctx *ctx, const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
			 const OSSL_DISPATCH **out);

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

/* The store's key token, opened on first use (thread-safe once open; keys.h
 * handles fork).  Not owned by the caller. */
cs_rv csp_token_get(csp_ctx *ctx, struct cs_token **out, cs_err *err);

/* The store is being used: from now on the provider registers everything
 * (see `lazy` in provider.c).  Any context of the provider; thread-safe. */
void csp_arm(csp_ctx *ctx);
/* Until csp_arm: our key managers are offered, but not for OpenSSL's
 * permanent store (decoder.c, csp_keyref_decode_pem, says why).  No-op
 * once armed. */
void csp_arm_begin(csp_ctx *ctx);
/* While held, csp_arm on this thread does nothing: csp_keyref_decode_pem
 * resolves a reference (which uses the store) before it knows whether the
 * key is the type it hands out, and arms only when it does. */
void csp_arm_hold(bool hold);

/*
 * For the front's key-reference decoder (front/front.c): data, one PEM block
 * holding a CERTSTORE KEY REFERENCE, resolved and handed to data_cb as a key
 * of type (EVP_PKEY_RSA or EVP_PKEY_EC), or declined (1, nothing) when the
 * key is of the other type.  0 with the reason raised when the reference
 * cannot be resolved.  Arms the provider.
 */
int csp_keyref_decode_pem(csp_ctx *prov, int type, const unsigned char *data, size_t len,
			  OSSL_CALLBACK *data_cb, void *data_cbarg);
/* OSSL_FUNC_decoder_export_object for objects csp_keyref_decode_pem made. */
int csp_keyref_export_object(void *ctx, const void *objref, size_t objref_sz,
			     OSSL_CALLBACK *export_cb, void *export_cbarg);

/* The directory the store is (or will be) opened from. */
const char *csp_store_dir(const csp_ctx *ctx);

/*
 * The context serving the store in dir (an absolute path): ctx itself when
 * its `store` parameter names that directory, else a context of its own,
 * kept until the provider is unloaded.  Keys made through it remember it, so
 * their operations use that store's token even after the environment that
 * named the store is gone (nginx workers start with an empty environment).
 */
cs_rv csp_ctx_for_store(csp_ctx *ctx, const char *dir, csp_ctx **out, cs_err *err);

/* With CERTSTORE_PROVIDER_TRACE set, one line on stderr per store query or
 * token event, so tests can see what an operation cost (and what it did not). */
void csp_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Records, once per process and certificate, that this process loaded the
 * key of sha1: into the store when it may write it, and to syslog
 * (served.c).  Never fails the load. */
void csp_served_note(csp_ctx *ctx, const char *sha1);
/* The certstore tool's own key operations are not a service: no records. */
void csp_served_disable(void);

/* ---- certstore: URIs (uri.c) ------------------------------------------- */

typedef enum {
	CSP_SEL_NONE = 0,      /* the whole store */
	CSP_SEL_THUMBPRINT,    /* ?thumbprint=HEX, SHA-1 or SHA-256 */
	CSP_SEL_FRIENDLY_NAME, /* ?friendly-name=NAME (percent-encoded) */
	CSP_SEL_USAGE,	       /* ?usage=NAME */
	CSP_SEL_KEY,	       /* ?key=PKCS11-URI: a token key with no certificate yet */
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

/* ---- keys (key.c) ------------------------------------------------------- */

/*
 * A store key: the private half stays in the token, named by uri; the public
 * half comes from the certificate, so nothing opens the token until a
 * private-key operation.
 *
 * A foreign key (uri NULL): any RSA or EC key OpenSSL hands us because we
 * were listed first (a certificate's, a PEM file's, an ephemeral one); pub
 * is then the whole key, and every operation on it is delegated
 * (delegate.c).  pub is always in the provider's own default-only library
 * context, so operations on it never come back to certstore.  The STORE and DECODER resolve a key
 * (reporting errors with their context) and hand it to KEYMGMT's load as a csp_keyref, valid during
 * the object callback only: load makes its own copy.
 */
/* The key agent this store's key operations go through: the provider's
 * `agent` parameter, else certstore.conf's [token] agent =; NULL: the
 * token is opened in this process. */
const char *csp_agent(csp_ctx *ctx);

typedef struct csp_key {
	csp_ctx *prov;
	int type; /* EVP_PKEY_RSA or EVP_PKEY_EC */
	char sha1[41];
	char *uri;     /* the key in the token; NULL: a foreign key */
	EVP_PKEY *pub; /* store key: its public half; foreign: the key */
} csp_key;

#define CSP_KEYREF_MAGIC "CSKEYRF1"
typedef struct csp_keyref {
	char magic[8];
	const csp_key *key;
} csp_keyref;

/* The key of the certificate with that SHA-1 thumbprint (upper-case hex), in
 * any store.  No key reference: CS_ERR_KEY naming the certificate. */
cs_rv csp_key_from_thumbprint(csp_ctx *ctx, const char *sha1, csp_key **out, cs_err *err);
/* A key named by its pkcs11: URI alone (a pending request's key, a local
 * CA's key): the public half is read from the token, so this opens it. */
cs_rv csp_key_from_uri(csp_ctx *ctx, const char *uri, csp_key **out, cs_err *err);
csp_key *csp_key_dup(const csp_key *key);
void csp_key_free(csp_key *key);
/*
 * The private-key operations, as keys.h's cs_key_sign / cs_key_decrypt: in
 * the token, or through the key agent when the provider's `agent`
 * parameter names one (agent.h: workers that may not open the token).
 */
cs_rv csp_key_sign(const csp_key *key, const cs_sign_mech *mech, const unsigned char *in,
		   size_t inlen, unsigned char *out, size_t *outlen, cs_err *err);
cs_rv csp_key_decrypt(const csp_key *key, const cs_decrypt_mech *mech, const unsigned char *in,
		      size_t inlen, unsigned char *out, size_t *outlen, cs_err *err);
/* Hands key to OpenSSL as a PKEY object by reference (OSSL_OBJECT_PKEY). */
int csp_key_emit(const csp_key *key, OSSL_CALLBACK *object_cb, void *object_cbarg);
/* As csp_key_emit, with name as the object's data type. */
int csp_key_emit_as(const csp_key *key, const char *name, OSSL_CALLBACK *object_cb,
		    void *object_cbarg);
/* "RSA" or "EC": the data type a keyref is handed out with. */
const char *csp_key_type_name(int type);
/* "CERTSTORE-RSA" or "CERTSTORE-EC": the alias only our key managers carry
 * when the front loaded the core lazily (decoder.c, csp_keyref_decode_pem). */
const char *csp_key_alias_name(int type);
/* The key type of a certificate's public key, 0 if not one we serve. */
int csp_cert_key_type(const cs_cert *cert);

/* ---- foreign keys (delegate.c) ----------------------------------------- */

/* The provider's library context with only `default` loaded, made on first
 * use (NULL, with an error raised, if it cannot be). */
OSSL_LIB_CTX *csp_dflt(csp_ctx *ctx);
/* Frees what csp_dflt made, at teardown. */
void csp_dflt_free(csp_ctx *ctx);
/* 0 for EVP_PKEY_RSA, 1 for EVP_PKEY_EC. */
int csp_type_index(int type);
/* default's methods there, fetched once; not owned by the caller. */
EVP_KEYMGMT *csp_dflt_keymgmt(csp_ctx *ctx, int type);
EVP_SIGNATURE *csp_dflt_signature(csp_ctx *ctx, int type);
EVP_ASYM_CIPHER *csp_dflt_asym_cipher(csp_ctx *ctx);
/* A copy of the public half of pkey / of a certificate's key, in csp_dflt. */
EVP_PKEY *csp_dflt_public(csp_ctx *ctx, const EVP_PKEY *pkey);
EVP_PKEY *csp_dflt_public_of_cert(csp_ctx *ctx, const X509 *x509);
/* A new EVP_PKEY_CTX for key->pub in csp_dflt. */
EVP_PKEY_CTX *csp_key_pctx(const csp_key *key);

/* Dispatch tables of the operations, one file each. */
extern const OSSL_DISPATCH csp_store_functions[];
extern const OSSL_DISPATCH csp_rsa_keymgmt_functions[];
extern const OSSL_DISPATCH csp_ec_keymgmt_functions[];
extern const OSSL_DISPATCH csp_rsa_signature_functions[];
extern const OSSL_DISPATCH csp_ecdsa_signature_functions[];
extern const OSSL_DISPATCH csp_rsa_asym_cipher_functions[];
extern const OSSL_DISPATCH csp_pem_decoder_functions[];
extern const OSSL_DISPATCH csp_rsa_der_decoder_functions[];
extern const OSSL_DISPATCH csp_ec_der_decoder_functions[];

#endif
