/*
 * provider.c - the certstore OpenSSL provider: entry point, parameters,
 * the algorithms it offers, errors, and lazy access to the store.
 *
 * What is offered: the `certstore:` STORE scheme, PEM key references, and
 * key management and operations for RSA and EC keys, which serve the store's
 * keys from its token and every other RSA or EC key by delegating to
 * `default` (delegate.c): listed before default, certstore receives the
 * process's own keys too.  No digests, no ciphers: SoftHSM2 hashes with
 * OpenSSL inside C_Login (see DESIGN.md, "Known traps").
 */
#include "provider.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/params.h>

#include "config.h"
#include "keys.h"

/* ---- errors ------------------------------------------------------------- */

#include "reasons.h"

static void vraise(const csp_ctx *ctx, int reason, const char *fmt, va_list ap)
{
	if (ctx == NULL || ctx->new_error == NULL || ctx->vset_error == NULL)
		return;
	ctx->new_error(ctx->handle);
	if (ctx->set_error_debug != NULL)
		ctx->set_error_debug(ctx->handle, NULL, 0, NULL);
	ctx->vset_error(ctx->handle, (uint32_t)reason, fmt, ap);
}

void csp_raise(const csp_ctx *ctx, int reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vraise(ctx, reason, fmt, ap);
	va_end(ap);
}

void csp_raise_err(const csp_ctx *ctx, const cs_err *err)
{
	int reason = err->rv != CS_OK ? (int)err->rv : CS_ERR_INTERNAL;

	csp_raise(ctx, reason, "%s", err->msg[0] != '\0' ? err->msg : cs_rv_name(err->rv));
}

void csp_trace(const char *fmt, ...)
{
	va_list ap;
	const char *env = getenv("CERTSTORE_PROVIDER_TRACE");

	if (env == NULL || *env == '\0')
		return;
	va_start(ap, fmt);
	fputs("certstore-provider: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- the store, opened on first use -------------------------------------- */

const char *csp_store_dir(const csp_ctx *ctx)
{
	return ctx->store_dir != NULL ? ctx->store_dir : cs_store_default_dir();
}

cs_rv csp_store_acquire(csp_ctx *ctx, cs_store **out, cs_err *err)
{
	cs_rv rv = CS_OK;

	*out = NULL;
	pthread_mutex_lock(&ctx->lock);
	/* A SQLite connection must not cross fork(); the child opens its own and
	 * leaves the parent's alone (closing it could drop the parent's locks). */
	if (ctx->store != NULL && ctx->store_pid != getpid())
		ctx->store = NULL;
	if (ctx->store == NULL) {
		csp_arm(ctx);
		rv = cs_store_open(ctx->store_dir, CS_OPEN_READONLY, &ctx->store, err);
		csp_trace("open store %s: %s", csp_store_dir(ctx), rv == CS_OK ? "ok" : "failed");
		ctx->store_pid = getpid();
	}
	if (rv != CS_OK) {
		pthread_mutex_unlock(&ctx->lock);
		return rv;
	}
	*out = ctx->store;
	return CS_OK;
}

cs_rv csp_token_get(csp_ctx *ctx, cs_token **out, cs_err *err)
{
	cs_rv rv = CS_OK;

	pthread_mutex_lock(&ctx->lock);
	if (ctx->token == NULL) {
		rv = cs_token_open_store(csp_store_dir(ctx), &ctx->token, err);
		csp_trace("open token of %s: %s", csp_store_dir(ctx),
			  rv == CS_OK ? "ok" : "failed");
	}
	*out = ctx->token;
	pthread_mutex_unlock(&ctx->lock);
	return rv;
}

const char *csp_agent(csp_ctx *ctx)
{
	cs_token_config *cfg = NULL;
	const char *agent;

	pthread_mutex_lock(&ctx->lock);
	if (ctx->agent == NULL && !ctx->agent_checked) {
		/* once per store: the configuration is read on the first key
		 * operation, never per signature */
		if (cs_token_config_load(csp_store_dir(ctx), &cfg, NULL) == CS_OK &&
		    cfg->agent != NULL) {
			ctx->agent = cfg->agent;
			cfg->agent = NULL;
		}
		cs_token_config_free(cfg);
		ctx->agent_checked = true;
	}
	agent = ctx->agent;
	pthread_mutex_unlock(&ctx->lock);
	return agent;
}

void csp_store_release(csp_ctx *ctx)
{
	pthread_mutex_unlock(&ctx->lock);
}

static bool same_dir(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (strcmp(a, b) == 0)
		return true;
	return realpath(a, ra) != NULL && realpath(b, rb) != NULL && strcmp(ra, rb) == 0;
}

cs_rv csp_ctx_for_store(csp_ctx *ctx, const char *dir, csp_ctx **out, cs_err *err)
{
	csp_ctx *c;
	cs_rv rv = CS_OK;

	if (ctx->parent != NULL)
		ctx = ctx->parent;
	csp_arm(ctx);
	if (ctx->store_dir != NULL && same_dir(ctx->store_dir, dir)) {
		*out = ctx;
		return CS_OK;
	}
	pthread_mutex_lock(&ctx->lock);
	for (c = ctx->others; c != NULL; c = c->next)
		if (strcmp(c->store_dir, dir) == 0)
			break;
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL || (c->store_dir = strdup(dir)) == NULL ||
		    (ctx->agent != NULL && (c->agent = strdup(ctx->agent)) == NULL) ||
		    pthread_mutex_init(&c->lock, NULL) != 0 ||
		    pthread_mutex_init(&c->dflt_lock, NULL) != 0) {
			if (c != NULL) {
				free(c->store_dir);
				free(c->agent);
			}
			free(c);
			c = NULL;
			rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		} else {
			c->handle = ctx->handle;
			c->new_error = ctx->new_error;
			c->set_error_debug = ctx->set_error_debug;
			c->vset_error = ctx->vset_error;
			c->bio_read_ex = ctx->bio_read_ex;
			c->bio_gets = ctx->bio_gets;
			c->parent = ctx;
			c->next = ctx->others;
			ctx->others = c;
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	*out = c;
	return rv;
}

/* ---- provider parameters and algorithms ---------------------------------- */

static const OSSL_PARAM *csp_gettable_params(void *provctx)
{
	static const OSSL_PARAM params[] = {
		OSSL_PARAM_DEFN(OSSL_PROV_PARAM_NAME, OSSL_PARAM_UTF8_PTR, NULL, 0),
		OSSL_PARAM_DEFN(OSSL_PROV_PARAM_VERSION, OSSL_PARAM_UTF8_PTR, NULL, 0),
		OSSL_PARAM_DEFN(OSSL_PROV_PARAM_BUILDINFO, OSSL_PARAM_UTF8_PTR, NULL, 0),
		OSSL_PARAM_DEFN(OSSL_PROV_PARAM_STATUS, OSSL_PARAM_INTEGER, NULL, 0),
		OSSL_PARAM_END,
	};
	return params;
}

static int csp_get_params(void *provctx, OSSL_PARAM params[])
{
	OSSL_PARAM *p;

	p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
	if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, "certstore: the machine certificate store"))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION);
	if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, PACKAGE_VERSION))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO);
	if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, PACKAGE_STRING))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS);
	if (p != NULL && !OSSL_PARAM_set_int(p, 1))
		return 0;
	return 1;
}

static const OSSL_ALGORITHM csp_stores[] = {
	{"certstore", CSP_PROPS, csp_store_functions, "the certstore machine certificate store"},
	{NULL, NULL, NULL, NULL},
};

/* The names libssl and X.509 use for these key types, so our keys are
 * recognised as RSA and EC keys.  The same names make a fetch of "RSA" or
 * "EC" land here when certstore is listed first: the operations below then
 * get foreign keys, and hand them to default (delegate.c). */
#define RSA_NAMES "RSA:rsaEncryption:1.2.840.113549.1.1.1"
#define EC_NAMES "EC:id-ecPublicKey:1.2.840.10045.2.1"

static const OSSL_ALGORITHM csp_keymgmt[] = {
	{RSA_NAMES, CSP_PROPS, csp_rsa_keymgmt_functions, "certstore RSA key in the token"},
	{EC_NAMES, CSP_PROPS, csp_ec_keymgmt_functions, "certstore EC key in the token"},
	{NULL, NULL, NULL, NULL},
};

/* Loaded lazily by the front, the key managers also carry the alias the
 * front's key references are handed out with (csp_keyref_decode_pem).  Not
 * when loaded at once: each name of a key type is one more comparison in
 * every decoder chain OpenSSL builds for that type, and there nothing needs
 * it. */
static const OSSL_ALGORITHM csp_keymgmt_aliased[] = {
	{RSA_NAMES ":CERTSTORE-RSA", CSP_PROPS, csp_rsa_keymgmt_functions,
	 "certstore RSA key in the token"},
	{EC_NAMES ":CERTSTORE-EC", CSP_PROPS, csp_ec_keymgmt_functions,
	 "certstore EC key in the token"},
	{NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM csp_signature[] = {
	{RSA_NAMES, CSP_PROPS, csp_rsa_signature_functions, "RSA signature in the token"},
	{"ECDSA", CSP_PROPS, csp_ecdsa_signature_functions, "ECDSA in the token"},
	{NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM csp_asym_cipher[] = {
	{RSA_NAMES, CSP_PROPS, csp_rsa_asym_cipher_functions, "RSA decryption in the token"},
	{NULL, NULL, NULL, NULL},
};

/* PEM key references (decoder.c): "DER" takes the body of a CERTSTORE KEY
 * REFERENCE block out of its PEM (and nothing else), "RSA"/"EC" resolve
 * such a body to a store key.  They are named for the key types so that
 * OpenSSL's key decoding picks them up, one per type (a decoder announces
 * the type it makes before it has read anything). */
#define KEYREF_STRUCTURE ",structure=certstore-keyref"
static const OSSL_ALGORITHM csp_decoders[] = {
	{"DER", CSP_PROPS ",input=pem", csp_pem_decoder_functions,
	 "certstore key reference: PEM to its body"},
	{RSA_NAMES, CSP_PROPS ",input=der" KEYREF_STRUCTURE, csp_rsa_der_decoder_functions,
	 "certstore key reference to an RSA key in the token"},
	{EC_NAMES, CSP_PROPS ",input=der" KEYREF_STRUCTURE, csp_ec_der_decoder_functions,
	 "certstore key reference to an EC key in the token"},
	{NULL, NULL, NULL, NULL},
};

/* Set while csp_keyref_decode_pem resolves a reference on this thread. */
static __thread bool arm_held;

void csp_arm(csp_ctx *ctx)
{
	if (arm_held)
		return;
	if (ctx->parent != NULL)
		ctx = ctx->parent;
	__atomic_store_n(&ctx->armed, CSP_ARMED, __ATOMIC_RELEASE);
}

void csp_arm_hold(bool hold)
{
	arm_held = hold;
}

void csp_arm_begin(csp_ctx *ctx)
{
	int unarmed = CSP_UNARMED;

	if (ctx->parent != NULL)
		ctx = ctx->parent;
	__atomic_compare_exchange_n(&ctx->armed, &unarmed, CSP_ARMING, 0, __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE);
}

/*
 * Loaded lazily (the front's default), key management, signatures, ciphers
 * and decoders are not registered until the store is used: OpenSSL 3.0
 * builds every registered KEYMGMT and DECODER into the decoder chain it
 * makes for each certificate it parses, so a provider that is only loaded
 * costs a program ~25% more instructions per certificate (design notes).
 * no_cache makes OpenSSL ask again at its next fetch; once armed, the
 * answer is cached.  While arming, the key managers are offered uncached:
 * OpenSSL then puts them in a fetch's temporary store, which it searches
 * before its permanent one (csp_keyref_decode_pem).
 */
static const OSSL_ALGORITHM *lazy(csp_ctx *ctx, int operation_id, const OSSL_ALGORITHM *algs,
				  int *no_cache)
{
	int armed = __atomic_load_n(&ctx->armed, __ATOMIC_ACQUIRE);

	if (armed == CSP_ARMED)
		return algs;
	*no_cache = 1;
	return armed == CSP_ARMING && operation_id == OSSL_OP_KEYMGMT ? algs : NULL;
}

static const OSSL_ALGORITHM *csp_query_operation(void *provctx, int operation_id, int *no_cache)
{
	csp_ctx *ctx = provctx;

	*no_cache = 0;
	switch (operation_id) {
	case OSSL_OP_STORE:
		return csp_stores;
	case OSSL_OP_KEYMGMT:
		return lazy(ctx, operation_id, ctx->aliased ? csp_keymgmt_aliased : csp_keymgmt,
			    no_cache);
	case OSSL_OP_SIGNATURE:
		return lazy(ctx, operation_id, csp_signature, no_cache);
	case OSSL_OP_ASYM_CIPHER:
		return lazy(ctx, operation_id, csp_asym_cipher, no_cache);
	case OSSL_OP_DECODER:
		return lazy(ctx, operation_id, csp_decoders, no_cache);
	default:
		return NULL;
	}
}

/*
 * TLS groups.  libssl keeps a group only when a fetch of its KEYMGMT lands
 * on the provider that announced it; listed first, we get the fetch of "EC",
 * so default's NIST curves would be dropped.  We announce them too (with
 * default's values): whichever provider gets the fetch keeps each group
 * once, and the ephemeral keys our EC KEYMGMT makes are default's.
 */
typedef struct tls_group {
	const char *name, *internal;
	unsigned int id, secbits;
} tls_group;

static const tls_group tls_groups[] = {
	{"secp256r1", "prime256v1", 23, 128}, {"P-256", "prime256v1", 23, 128},
	{"secp384r1", "secp384r1", 24, 192},  {"P-384", "secp384r1", 24, 192},
	{"secp521r1", "secp521r1", 25, 256},  {"P-521", "secp521r1", 25, 256},
};

static int csp_get_capabilities(void *provctx, const char *capability, OSSL_CALLBACK *cb, void *arg)
{
	size_t i;

	if (strcasecmp(capability, "TLS-GROUP") != 0)
		return 1;
	for (i = 0; i < sizeof(tls_groups) / sizeof(tls_groups[0]); i++) {
		const tls_group *g = &tls_groups[i];
		unsigned int id = g->id, secbits = g->secbits;
		int min_tls = 0x0301 /* TLS 1.0 */, max_tls = 0, min_dtls = 0xFEFF, max_dtls = 0;
		OSSL_PARAM params[] = {
			OSSL_PARAM_utf8_string(OSSL_CAPABILITY_TLS_GROUP_NAME, (char *)g->name,
					       strlen(g->name)),
			OSSL_PARAM_utf8_string(OSSL_CAPABILITY_TLS_GROUP_NAME_INTERNAL,
					       (char *)g->internal, strlen(g->internal)),
			OSSL_PARAM_utf8_string(OSSL_CAPABILITY_TLS_GROUP_ALG, "EC", 2),
			OSSL_PARAM_uint(OSSL_CAPABILITY_TLS_GROUP_ID, &id),
			OSSL_PARAM_uint(OSSL_CAPABILITY_TLS_GROUP_SECURITY_BITS, &secbits),
			OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MIN_TLS, &min_tls),
			OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MAX_TLS, &max_tls),
			OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MIN_DTLS, &min_dtls),
			OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MAX_DTLS, &max_dtls),
			OSSL_PARAM_END,
		};

		if (!cb(params, arg))
			return 0;
	}
	return 1;
}

static const OSSL_ITEM *csp_get_reason_strings(void *provctx)
{
	return csp_reason_strings;
}

static void csp_ctx_free(csp_ctx *ctx)
{
	csp_ctx *c, *next;

	/* The store is closed; a token is left to process exit (SoftHSM2 can
	 * crash when finalised late, see keys.h). */
	for (c = ctx->others; c != NULL; c = next) {
		next = c->next;
		csp_ctx_free(c);
	}
	if (ctx->store != NULL && ctx->store_pid == getpid())
		cs_store_close(ctx->store);
	csp_dflt_free(ctx);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx->store_dir);
	free(ctx->agent);
	free(ctx);
}

static void csp_teardown(void *provctx)
{
	csp_ctx_free(provctx);
}

static const OSSL_DISPATCH csp_dispatch[] = {
	{OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))csp_teardown},
	{OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))csp_gettable_params},
	{OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))csp_get_params},
	{OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))csp_query_operation},
	{OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, (void (*)(void))csp_get_reason_strings},
	{OSSL_FUNC_PROVIDER_GET_CAPABILITIES, (void (*)(void))csp_get_capabilities},
	{0, NULL},
};

/* ---- entry point --------------------------------------------------------- */

static void take_core_functions(csp_ctx *ctx, const OSSL_DISPATCH *in,
				OSSL_FUNC_core_get_params_fn **get_params)
{
	for (; in->function_id != 0; in++) {
		switch (in->function_id) {
		case OSSL_FUNC_CORE_GET_PARAMS:
			*get_params = OSSL_FUNC_core_get_params(in);
			break;
		case OSSL_FUNC_CORE_NEW_ERROR:
			ctx->new_error = OSSL_FUNC_core_new_error(in);
			break;
		case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
			ctx->set_error_debug = OSSL_FUNC_core_set_error_debug(in);
			break;
		case OSSL_FUNC_CORE_VSET_ERROR:
			ctx->vset_error = OSSL_FUNC_core_vset_error(in);
			break;
		case OSSL_FUNC_BIO_READ_EX:
			ctx->bio_read_ex = OSSL_FUNC_BIO_read_ex(in);
			break;
		case OSSL_FUNC_BIO_GETS:
			ctx->bio_gets = OSSL_FUNC_BIO_gets(in);
			break;
		default:
			break;
		}
	}
}

/* The `store` and `agent` parameters from the provider's configuration
 * section (`lazy` is the front's). */
static int read_config(csp_ctx *ctx, OSSL_FUNC_core_get_params_fn *get_params)
{
	char *dir = NULL, *agent = NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_ptr("store", &dir, 0),
		OSSL_PARAM_utf8_ptr("agent", &agent, 0),
		OSSL_PARAM_END,
	};

	if (get_params == NULL || !get_params(ctx->handle, params))
		return 1;
	if (dir != NULL && *dir != '\0' && (ctx->store_dir = strdup(dir)) == NULL)
		return 0;
	if (agent != NULL && *agent != '\0' && (ctx->agent = strdup(agent)) == NULL)
		return 0;
	return 1;
}

int csp_provider_init_at(csp_ctx *ctx, const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
			 const OSSL_DISPATCH **out)
{
	OSSL_FUNC_core_get_params_fn *get_params = NULL;

	/* Called by the front, which loads the core when the store is first
	 * used; OSSL_provider_init arms at once. */
	ctx->armed = CSP_UNARMED;
	ctx->aliased = true;
	ctx->handle = handle;
	take_core_functions(ctx, in, &get_params);
	if (!read_config(ctx, get_params) || pthread_mutex_init(&ctx->lock, NULL) != 0 ||
	    pthread_mutex_init(&ctx->dflt_lock, NULL) != 0) {
		free(ctx->store_dir);
		free(ctx->agent);
		ctx->store_dir = ctx->agent = NULL;
		return 0;
	}
	*out = csp_dispatch;
	return 1;
}

int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
		       const OSSL_DISPATCH **out, void **provctx);

int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
		       const OSSL_DISPATCH **out, void **provctx)
{
	csp_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL)
		return 0;
	if (!csp_provider_init_at(ctx, handle, in, out)) {
		free(ctx);
		return 0;
	}
	ctx->armed = CSP_ARMED;
	ctx->aliased = false;
	*provctx = ctx;
	return 1;
}
