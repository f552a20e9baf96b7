/*
 * front.c - certstore.so, the module OpenSSL loads: a small front for the
 * provider proper, certstore-core.so (provider.c and the rest, with
 * libcertstore, SQLite and p11-kit).
 *
 * Why a front: loading the core costs every program ~2.9 M instructions,
 * nearly all of it the dynamic linker resolving libp11-kit's and
 * libsqlite3's relocations (both linked BIND_NOW), which is all
 * `openssl version` does with the snippet included (design notes, "Cost
 * when loaded and unused").  As shipped (lazy) it answers for the core
 * until the store is used: the certstore: STORE scheme (each of its
 * functions loads the core and forwards), the key-reference decoders
 * below (which load the core when they see a key reference), nothing for
 * the other operations (the core registers nothing either until the store
 * is used, see `lazy` in provider.c), and no TLS groups (they matter only
 * once the core's EC key management is registered).  With `lazy = no` in
 * the provider's section the front loads the core at once and hands
 * OpenSSL the core's own dispatch table and context, so nothing of the
 * front is in any path after the load.
 */

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/params.h> /* OSSL_PARAM_UNMODIFIED */

#include "pemblock.h"
#include "../provider.h" /* the size of the core's context, nothing it calls */
#include "../reasons.h"

#define CORE_NAME "certstore-core.so"

/*
 * Lazy, OpenSSL gets this as the provider context at load, and
 * passes the same pointer to every function of every algorithm, the core's
 * too once it is loaded: so the core's context is the first member, made in
 * place by csp_provider_init_at, and the core's teardown frees the whole.
 */
typedef struct front {
	csp_ctx core; /* must be first */
	const OSSL_CORE_HANDLE *handle;
	const OSSL_DISPATCH *in; /* the core's upcalls (static in libcrypto) */
	pthread_mutex_t lock;
	int state;			       /* 0: not loaded, 1: loaded, -1: failed */
	const OSSL_DISPATCH *out;	       /* the core's provider functions */
	OSSL_FUNC_BIO_read_ex_fn *bio_read_ex; /* the key-reference decoder's input */
	OSSL_FUNC_BIO_gets_fn *bio_gets;
} front;

/* The core's functions the front calls: the same for every instance of the
 * module. */
static int (*core_keyref_decode_pem)(csp_ctx *, int, const unsigned char *, size_t, OSSL_CALLBACK *,
				     void *);
static OSSL_FUNC_decoder_export_object_fn *core_keyref_export_object;
static struct {
	OSSL_FUNC_store_open_fn *open;
	OSSL_FUNC_store_settable_ctx_params_fn *settable_ctx_params;
	OSSL_FUNC_store_set_ctx_params_fn *set_ctx_params;
	OSSL_FUNC_store_load_fn *load;
	OSSL_FUNC_store_eof_fn *eof;
	OSSL_FUNC_store_close_fn *close;
} core_store;

static void (*find_fn(const OSSL_DISPATCH *d, int id))(void)
{
	for (; d != NULL && d->function_id != 0; d++)
		if (d->function_id == id)
			return d->function;
	return NULL;
}

/* certstore-core.so beside this module (OpenSSL's modules directory, or
 * the build tree's .libs). */
static void *open_core(void)
{
	Dl_info info;
	char path[4096];
	const char *slash;

	if (dladdr((void *)open_core, &info) == 0 || info.dli_fname == NULL ||
	    (slash = strrchr(info.dli_fname, '/')) == NULL)
		return dlopen(CORE_NAME, RTLD_NOW | RTLD_LOCAL);
	if (snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - info.dli_fname), info.dli_fname,
		     CORE_NAME) >= (int)sizeof(path))
		return NULL;
	return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

/* Loads and initialises the core once; 1 when it is there. */
static int load_core(front *f)
{
	static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
	int (*init_at)(csp_ctx *, const OSSL_CORE_HANDLE *, const OSSL_DISPATCH *,
		       const OSSL_DISPATCH **);
	const OSSL_ALGORITHM *algs;
	const OSSL_DISPATCH *st;
	void *dl;
	int no_cache = 0;

	pthread_mutex_lock(&f->lock);
	if (f->state != 0)
		goto out;
	f->state = -1;
	if ((dl = open_core()) == NULL) {
		fprintf(stderr, "certstore.so: cannot load %s: %s\n", CORE_NAME, dlerror());
		goto out;
	}
	*(void **)&init_at = dlsym(dl, "csp_provider_init_at");
	*(void **)&core_keyref_decode_pem = dlsym(dl, "csp_keyref_decode_pem");
	*(void **)&core_keyref_export_object = dlsym(dl, "csp_keyref_export_object");
	if (init_at == NULL || core_keyref_decode_pem == NULL ||
	    core_keyref_export_object == NULL || !init_at(&f->core, f->handle, f->in, &f->out))
		goto out;
	__atomic_store_n(&f->state, 1, __ATOMIC_RELEASE);
	algs = ((OSSL_FUNC_provider_query_operation_fn *)find_fn(
		f->out, OSSL_FUNC_PROVIDER_QUERY_OPERATION))(&f->core, OSSL_OP_STORE, &no_cache);
	st = algs != NULL ? algs[0].implementation : NULL;
	pthread_mutex_lock(&store_lock);
	core_store.open = (OSSL_FUNC_store_open_fn *)find_fn(st, OSSL_FUNC_STORE_OPEN);
	core_store.settable_ctx_params = (OSSL_FUNC_store_settable_ctx_params_fn *)find_fn(
		st, OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS);
	core_store.set_ctx_params =
		(OSSL_FUNC_store_set_ctx_params_fn *)find_fn(st, OSSL_FUNC_STORE_SET_CTX_PARAMS);
	core_store.load = (OSSL_FUNC_store_load_fn *)find_fn(st, OSSL_FUNC_STORE_LOAD);
	core_store.eof = (OSSL_FUNC_store_eof_fn *)find_fn(st, OSSL_FUNC_STORE_EOF);
	core_store.close = (OSSL_FUNC_store_close_fn *)find_fn(st, OSSL_FUNC_STORE_CLOSE);
	pthread_mutex_unlock(&store_lock);
out:
	pthread_mutex_unlock(&f->lock);
	return f->state == 1;
}

/* ---- the STORE, forwarded ------------------------------------------------ */

static void *fs_open(void *provctx, const char *uri)
{
	front *f = provctx;

	return load_core(f) && core_store.open != NULL ? core_store.open(&f->core, uri) : NULL;
}

static const OSSL_PARAM *fs_settable_ctx_params(void *provctx)
{
	front *f = provctx;

	return load_core(f) && core_store.settable_ctx_params != NULL
		       ? core_store.settable_ctx_params(&f->core)
		       : NULL;
}

/* The loader functions below get a loader that fs_open made, so the core
 * is loaded and core_store filled. */
static int fs_set_ctx_params(void *loaderctx, const OSSL_PARAM params[])
{
	return core_store.set_ctx_params(loaderctx, params);
}

static int fs_load(void *loaderctx, OSSL_CALLBACK *object_cb, void *object_cbarg,
		   OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
	return core_store.load(loaderctx, object_cb, object_cbarg, pw_cb, pw_cbarg);
}

static int fs_eof(void *loaderctx)
{
	return core_store.eof(loaderctx);
}

static int fs_close(void *loaderctx)
{
	return core_store.close(loaderctx);
}

static const OSSL_DISPATCH front_store_functions[] = {
	{OSSL_FUNC_STORE_OPEN, (void (*)(void))fs_open},
	{OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS, (void (*)(void))fs_settable_ctx_params},
	{OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*)(void))fs_set_ctx_params},
	{OSSL_FUNC_STORE_LOAD, (void (*)(void))fs_load},
	{OSSL_FUNC_STORE_EOF, (void (*)(void))fs_eof},
	{OSSL_FUNC_STORE_CLOSE, (void (*)(void))fs_close},
	{0, NULL},
};

/* As provider.c's csp_stores (CSP_PROPS). */
static const OSSL_ALGORITHM front_stores[] = {
	{"certstore", "provider=certstore", front_store_functions,
	 "the certstore machine certificate store"},
	{NULL, NULL, NULL, NULL},
};

/* ---- key references: the one decoder, always registered ------------------ */

/*
 * PEM key references (usages/NAME/key.pem) must load in servers that read
 * them with PEM_read_bio_PrivateKey (nginx, haproxy, apache, stunnel,
 * curl, python's ssl) while nothing else of certstore is registered: that
 * call is the first moment certstore is needed, and our decoder is the
 * only code of ours it runs.  So the front registers, for good, one decoder
 * per key type from input=pem, named for the type, and nothing named "DER"
 * (that name would join every chain OpenSSL 3.0 builds through
 * OSSL_DECODER_CTX_add_extra, ~20 M instructions of `openssl verify`).  It
 * answers private-key selections only, so it stays out of the chains made
 * for certificates' public keys; in a private-key chain it reads one PEM
 * block and declines anything but a key reference without loading the
 * core.  A key reference loads the core, which resolves it and arms
 * (csp_keyref_decode_pem).  The file: STORE loader (`openssl pkey -in`,
 * `s_server -key`) builds only "DER"-named steps and does not reach it:
 * those read key references with `lazy = no`.
 */
typedef struct front_dec {
	front *f;
	int type; /* EVP_PKEY_RSA or EVP_PKEY_EC */
} front_dec;

static void *fd_newctx(void *provctx, int type)
{
	front_dec *d = malloc(sizeof(*d));

	if (d != NULL) {
		d->f = provctx;
		d->type = type;
	}
	return d;
}

static void *fd_rsa_newctx(void *provctx)
{
	return fd_newctx(provctx, EVP_PKEY_RSA);
}

static void *fd_ec_newctx(void *provctx)
{
	return fd_newctx(provctx, EVP_PKEY_EC);
}

static void fd_freectx(void *ctx)
{
	free(ctx);
}

/* Private keys only: a key reference is a private key file. */
static int fd_does_selection(void *provctx, int selection)
{
	(void)provctx;
	return selection == 0 || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0;
}

static int fd_decode(void *ctx, OSSL_CORE_BIO *in, int selection, OSSL_CALLBACK *data_cb,
		     void *data_cbarg, OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
	front_dec *d = ctx;
	front *f = d->f;
	unsigned char *data = NULL;
	size_t len = 0;
	int ok = 1;

	(void)pw_cb;
	(void)pw_cbarg;
	/* One block, even when declining (see csp_read_pem_block). */
	if (!csp_read_pem_block(f->bio_gets, f->bio_read_ex, in, &data, &len))
		return 1;
	if (fd_does_selection(NULL, selection) &&
	    strstr((const char *)data, CSP_KEYREF_PEM_BEGIN) != NULL)
		ok = load_core(f) &&
		     core_keyref_decode_pem(&f->core, d->type, data, len, data_cb, data_cbarg);
	free(data);
	return ok;
}

/* Only for objects fd_decode handed out: the core is loaded. */
static int fd_export_object(void *ctx, const void *objref, size_t objref_sz,
			    OSSL_CALLBACK *export_cb, void *export_cbarg)
{
	return core_keyref_export_object(ctx, objref, objref_sz, export_cb, export_cbarg);
}

#define FD_FUNCTIONS(newctx)                                                                       \
	{                                                                                          \
		{OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))newctx},                                \
			{OSSL_FUNC_DECODER_FREECTX, (void (*)(void))fd_freectx},                   \
			{OSSL_FUNC_DECODER_DOES_SELECTION, (void (*)(void))fd_does_selection},     \
			{OSSL_FUNC_DECODER_DECODE, (void (*)(void))fd_decode},                     \
			{OSSL_FUNC_DECODER_EXPORT_OBJECT, (void (*)(void))fd_export_object},       \
			{0, NULL},                                                                 \
	}

static const OSSL_DISPATCH front_rsa_decoder_functions[] = FD_FUNCTIONS(fd_rsa_newctx);
static const OSSL_DISPATCH front_ec_decoder_functions[] = FD_FUNCTIONS(fd_ec_newctx);

/* The names as provider.c's key managers (RSA_NAMES, EC_NAMES). */
static const OSSL_ALGORITHM front_decoders[] = {
	{"RSA:rsaEncryption:1.2.840.113549.1.1.1", "provider=certstore,input=pem",
	 front_rsa_decoder_functions, "certstore key reference to an RSA key in the token"},
	{"EC:id-ecPublicKey:1.2.840.10045.2.1", "provider=certstore,input=pem",
	 front_ec_decoder_functions, "certstore key reference to an EC key in the token"},
	{NULL, NULL, NULL, NULL},
};

/* ---- the provider, forwarded once the core is loaded --------------------- */

static const OSSL_ALGORITHM *front_query_operation(void *provctx, int operation_id, int *no_cache)
{
	front *f = provctx;
	OSSL_FUNC_provider_query_operation_fn *q;

	*no_cache = 0;
	if (operation_id == OSSL_OP_DECODER)
		return front_decoders; /* the core's own are for `lazy = no` */
	if (__atomic_load_n(&f->state, __ATOMIC_ACQUIRE) == 1) {
		q = (OSSL_FUNC_provider_query_operation_fn *)find_fn(
			f->out, OSSL_FUNC_PROVIDER_QUERY_OPERATION);
		return q(&f->core, operation_id, no_cache);
	}
	if (operation_id == OSSL_OP_STORE)
		return front_stores;
	*no_cache = 1; /* ask again: the store's first use registers the rest */
	return NULL;
}

static const OSSL_PARAM *front_gettable_params(void *provctx)
{
	front *f = provctx;
	OSSL_FUNC_provider_gettable_params_fn *fn;

	if (!load_core(f) || (fn = (OSSL_FUNC_provider_gettable_params_fn *)find_fn(
				      f->out, OSSL_FUNC_PROVIDER_GETTABLE_PARAMS)) == NULL)
		return NULL;
	return fn(&f->core);
}

static int front_get_params(void *provctx, OSSL_PARAM params[])
{
	front *f = provctx;
	OSSL_FUNC_provider_get_params_fn *fn;

	if (!load_core(f) || (fn = (OSSL_FUNC_provider_get_params_fn *)find_fn(
				      f->out, OSSL_FUNC_PROVIDER_GET_PARAMS)) == NULL)
		return 0;
	return fn(&f->core, params);
}

static int front_get_capabilities(void *provctx, const char *capability, OSSL_CALLBACK *cb,
				  void *arg)
{
	front *f = provctx;
	OSSL_FUNC_provider_get_capabilities_fn *fn;

	if (__atomic_load_n(&f->state, __ATOMIC_ACQUIRE) != 1 ||
	    (fn = (OSSL_FUNC_provider_get_capabilities_fn *)find_fn(
		     f->out, OSSL_FUNC_PROVIDER_GET_CAPABILITIES)) == NULL)
		return 1;
	return fn(&f->core, capability, cb, arg);
}

static const OSSL_ITEM *front_get_reason_strings(void *provctx)
{
	(void)provctx;
	return csp_reason_strings;
}

static void front_teardown(void *provctx)
{
	front *f = provctx;
	OSSL_FUNC_provider_teardown_fn *fn;

	/* The core stays mapped: dlclose under a running program buys nothing.
	 * Its teardown frees f (its context is f's first member). */
	pthread_mutex_destroy(&f->lock);
	if (f->state == 1 && (fn = (OSSL_FUNC_provider_teardown_fn *)find_fn(
				      f->out, OSSL_FUNC_PROVIDER_TEARDOWN)) != NULL)
		fn(&f->core);
	else
		free(f);
}

static const OSSL_DISPATCH front_dispatch[] = {
	{OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))front_teardown},
	{OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))front_gettable_params},
	{OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))front_get_params},
	{OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))front_query_operation},
	{OSSL_FUNC_PROVIDER_GET_CAPABILITIES, (void (*)(void))front_get_capabilities},
	{OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, (void (*)(void))front_get_reason_strings},
	{0, NULL},
};

/* Eager: the core's own OSSL_provider_init, its context and dispatch. */
static int init_core(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
		     const OSSL_DISPATCH **out, void **provctx)
{
	void *dl = open_core();
	OSSL_provider_init_fn *init;

	if (dl == NULL) {
		fprintf(stderr, "certstore.so: cannot load %s: %s\n", CORE_NAME, dlerror());
		return 0;
	}
	*(void **)&init = dlsym(dl, "OSSL_provider_init");
	return init != NULL && init(handle, in, out, provctx);
}

/* The section's `lazy` parameter: lazy unless it says no (no section, as
 * with `-provider certstore`, is lazy too). */
static int lazy_configured(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in)
{
	OSSL_FUNC_core_get_params_fn *get_params =
		(OSSL_FUNC_core_get_params_fn *)find_fn(in, OSSL_FUNC_CORE_GET_PARAMS);
	char *v = NULL;
	OSSL_PARAM params[] = {
		{"lazy", OSSL_PARAM_UTF8_PTR, &v, 0, OSSL_PARAM_UNMODIFIED},
		{NULL, 0, NULL, 0, 0},
	};

	if (get_params == NULL || !get_params(handle, params) || v == NULL)
		return 1;
	return !(strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 ||
		 strcasecmp(v, "off") == 0);
}

int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
		       const OSSL_DISPATCH **out, void **provctx);

int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
		       const OSSL_DISPATCH **out, void **provctx)
{
	front *f = calloc(1, sizeof(*f));

	if (f == NULL || pthread_mutex_init(&f->lock, NULL) != 0) {
		free(f);
		return 0;
	}
	f->handle = handle;
	f->in = in;
	f->bio_read_ex = (OSSL_FUNC_BIO_read_ex_fn *)find_fn(in, OSSL_FUNC_BIO_READ_EX);
	f->bio_gets = (OSSL_FUNC_BIO_gets_fn *)find_fn(in, OSSL_FUNC_BIO_GETS);
	if (lazy_configured(handle, in)) {
		*out = front_dispatch;
		*provctx = f;
		return 1;
	}
	/* As shipped: the core, with nothing of the front left in the way. */
	pthread_mutex_destroy(&f->lock);
	free(f);
	return init_core(handle, in, out, provctx);
}
