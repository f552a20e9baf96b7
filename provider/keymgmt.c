/*
 * keymgmt.c - KEYMGMT for RSA and EC keys: the store's, and everybody else's.
 *
 * Store keys come only from `load` (a csp_keyref from our STORE or
 * DECODER); their private half stays in the token.  Export gives their
 * public parts and domain parameters and refuses any request that includes
 * the private key: OpenSSL exports a key with everything selected when it
 * wants to run an operation in another provider, and a public-only copy
 * there would fail later with "missing private key" instead of falling back
 * to our own SIGNATURE.
 *
 * Every other key (import, generation, dup) is a foreign key: OpenSSL 3.0
 * hands them to us whenever certstore is listed before `default` (see
 * delegate.c).  They are held as default-provider keys in our own library
 * context and every function here answers for them exactly as default's
 * KEYMGMT would, private parts included: such a key is the caller's own.
 */
#include "provider.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/params.h>

static void *km_load(const void *reference, size_t reference_sz)
{
	const csp_keyref *ref = reference;

	if (reference_sz != sizeof(*ref) || memcmp(ref->magic, CSP_KEYREF_MAGIC, 8) != 0)
		return NULL;
	return csp_key_dup(ref->key);
}

static csp_key *km_new(void *provctx, int type)
{
	csp_key *key = calloc(1, sizeof(*key));

	if (key != NULL) {
		key->prov = provctx;
		key->type = type;
	}
	return key;
}

static void *rsa_new(void *provctx)
{
	return km_new(provctx, EVP_PKEY_RSA);
}

static void *ec_new(void *provctx)
{
	return km_new(provctx, EVP_PKEY_EC);
}

/* A new (empty) object takes whatever default would import into it. */
static int km_import(void *keydata, int selection, const OSSL_PARAM params[])
{
	csp_key *key = keydata;
	OSSL_LIB_CTX *lc;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (key == NULL || key->uri != NULL || key->pub != NULL)
		return 0;
	if ((lc = csp_dflt(key->prov)) == NULL)
		return 0;
	pctx = EVP_PKEY_CTX_new_from_name(lc, csp_key_type_name(key->type), NULL);
	if (pctx != NULL && EVP_PKEY_fromdata_init(pctx) == 1 &&
	    EVP_PKEY_fromdata(pctx, &pkey, selection, (OSSL_PARAM *)params) == 1)
		key->pub = pkey;
	EVP_PKEY_CTX_free(pctx);
	return key->pub != NULL;
}

static void km_free(void *keydata)
{
	csp_key_free(keydata);
}

/* Does the foreign key hold the parameter called name? */
static int has_param(const EVP_PKEY *pkey, const char *name, int is_bn)
{
	BIGNUM *bn = NULL;
	size_t len = 0;
	int ok;

	if (is_bn) {
		ok = EVP_PKEY_get_bn_param(pkey, name, &bn);
		BN_clear_free(bn);
	} else {
		ok = EVP_PKEY_get_octet_string_param(pkey, name, NULL, 0, &len);
	}
	return ok;
}

static int km_has(const void *keydata, int selection)
{
	const csp_key *key = keydata;
	int rsa;

	if (key == NULL)
		return 0;
	if (key->uri != NULL) {
		if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) && key->pub == NULL)
			return 0;
		return 1;
	}
	if (key->pub == NULL)
		return (selection & OSSL_KEYMGMT_SELECT_ALL) == 0;
	rsa = key->type == EVP_PKEY_RSA;
	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) &&
	    !has_param(key->pub, rsa ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY, 1))
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) &&
	    !has_param(key->pub, rsa ? OSSL_PKEY_PARAM_RSA_N : OSSL_PKEY_PARAM_PUB_KEY, rsa))
		return 0;
	if (!rsa && (selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS)) {
		char group[64];
		size_t len;

		if (!EVP_PKEY_get_group_name(key->pub, group, sizeof(group), &len) &&
		    !has_param(key->pub, OSSL_PKEY_PARAM_EC_P, 1))
			return 0;
	}
	return 1;
}

/*
 * As default's match: public keys when they are selected, private keys
 * only when public keys are not (a store key's private half is its token
 * object); domain parameters alone when only they are selected.
 */
static int km_match(const void *keydata1, const void *keydata2, int selection)
{
	const csp_key *a = keydata1, *b = keydata2;

	if (a->pub == NULL || b->pub == NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0)
		return (selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS) == 0 ||
		       EVP_PKEY_parameters_eq(a->pub, b->pub) == 1;
	if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) == 0 && (a->uri != NULL || b->uri != NULL))
		return a->uri != NULL && b->uri != NULL && strcmp(a->uri, b->uri) == 0 &&
		       EVP_PKEY_eq(a->pub, b->pub) == 1;
	return EVP_PKEY_eq(a->pub, b->pub) == 1;
}

static int km_validate(const void *keydata, int selection, int checktype)
{
	const csp_key *key = keydata;
	EVP_PKEY_CTX *pctx;
	int ok = 1, quick = checktype == OSSL_KEYMGMT_VALIDATE_QUICK_CHECK;

	if (key == NULL || key->pub == NULL)
		return 0;
	if (key->uri != NULL) /* the private half is the token's to check */
		selection &= ~OSSL_KEYMGMT_SELECT_PRIVATE_KEY;
	if ((pctx = csp_key_pctx(key)) == NULL)
		return 0;
	if (ok && (selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS))
		ok = (quick ? EVP_PKEY_param_check_quick(pctx) : EVP_PKEY_param_check(pctx)) == 1;
	if (ok && (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == OSSL_KEYMGMT_SELECT_KEYPAIR)
		ok = EVP_PKEY_pairwise_check(pctx) == 1;
	else if (ok && (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY))
		ok = (quick ? EVP_PKEY_public_check_quick(pctx) : EVP_PKEY_public_check(pctx)) == 1;
	else if (ok && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY))
		ok = EVP_PKEY_private_check(pctx) == 1;
	EVP_PKEY_CTX_free(pctx);
	return ok;
}

/* Foreign keys: everything selected.  Store keys: public parts and domain
 * parameters only (see the top of the file). */
static int km_export(void *keydata, int selection, OSSL_CALLBACK *param_cb, void *cbarg)
{
	csp_key *key = keydata;
	OSSL_PARAM *params = NULL;
	int ok;

	if (key == NULL || key->pub == NULL)
		return 0;
	if (key->uri != NULL) {
		if (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY)
			return 0;
		if ((selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS) == 0 &&
		    (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) == 0)
			return 0;
		selection = EVP_PKEY_PUBLIC_KEY;
	}
	if (EVP_PKEY_todata(key->pub, selection, &params) != 1)
		return 0;
	ok = param_cb(params, cbarg);
	OSSL_PARAM_free(params);
	return ok;
}

static void *km_dup(const void *keydata_from, int selection)
{
	const csp_key *from = keydata_from;
	csp_key *key;

	if (from->uri != NULL || from->pub == NULL)
		return csp_key_dup(from);
	/* A deep copy: set_params on the copy must not change the original. */
	if ((key = km_new(from->prov, from->type)) != NULL &&
	    (key->pub = EVP_PKEY_dup(from->pub)) == NULL) {
		free(key);
		key = NULL;
	}
	return key;
}

static const OSSL_PARAM *rsa_import_types(int selection)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_D, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR1, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_FACTOR2, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT1, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_EXPONENT2, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_COEFFICIENT1, NULL, 0),
		OSSL_PARAM_END,
	};
	return (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) ? types : NULL;
}

static const OSSL_PARAM *ec_import_types(int selection)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
		OSSL_PARAM_int(OSSL_PKEY_PARAM_USE_COFACTOR_ECDH, NULL),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0),
		OSSL_PARAM_END,
	};
	return (selection & (OSSL_KEYMGMT_SELECT_KEYPAIR | OSSL_KEYMGMT_SELECT_ALL_PARAMETERS))
		       ? types
		       : NULL;
}

/* Sizes, the group, the public key: all answered by default's key. */
static int km_get_params(void *keydata, OSSL_PARAM params[])
{
	csp_key *key = keydata;
	OSSL_PARAM *p;

	if (key->pub == NULL)
		return 0;
	if (key->uri != NULL) {
		p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_DEFAULT_DIGEST);
		if (p != NULL && !OSSL_PARAM_set_utf8_string(p, "SHA256"))
			return 0;
	}
	return EVP_PKEY_get_params(key->pub, params);
}

/* libssl sets a peer's ECDHE share on a key made from the group alone. */
static int km_set_params(void *keydata, const OSSL_PARAM params[])
{
	csp_key *key = keydata;

	if (params == NULL || params[0].key == NULL)
		return 1;
	if (key->pub == NULL || key->uri != NULL)
		return 0;
	return EVP_PKEY_set_params(key->pub, (OSSL_PARAM *)params);
}

static const OSSL_PARAM *gettable(void *provctx, int type)
{
	EVP_KEYMGMT *km = csp_dflt_keymgmt(provctx, type);

	return km != NULL ? EVP_KEYMGMT_gettable_params(km) : NULL;
}

static const OSSL_PARAM *settable(void *provctx, int type)
{
	EVP_KEYMGMT *km = csp_dflt_keymgmt(provctx, type);

	return km != NULL ? EVP_KEYMGMT_settable_params(km) : NULL;
}

static const OSSL_PARAM *rsa_gettable_params(void *provctx)
{
	return gettable(provctx, EVP_PKEY_RSA);
}

static const OSSL_PARAM *ec_gettable_params(void *provctx)
{
	return gettable(provctx, EVP_PKEY_EC);
}

static const OSSL_PARAM *rsa_settable_params(void *provctx)
{
	return settable(provctx, EVP_PKEY_RSA);
}

static const OSSL_PARAM *ec_settable_params(void *provctx)
{
	return settable(provctx, EVP_PKEY_EC);
}

/* ---- generation: always foreign keys, made by default ------------------- */

typedef struct gen_ctx {
	csp_ctx *prov;
	int type;
	EVP_PKEY_CTX *pctx;
} gen_ctx;

static void km_gen_cleanup(void *genctx)
{
	gen_ctx *g = genctx;

	if (g == NULL)
		return;
	EVP_PKEY_CTX_free(g->pctx);
	free(g);
}

static void *km_gen_init(void *provctx, int type, int selection, const OSSL_PARAM params[])
{
	OSSL_LIB_CTX *lc = csp_dflt(provctx);
	gen_ctx *g;
	int ok;

	if (lc == NULL || (g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->prov = provctx;
	g->type = type;
	g->pctx = EVP_PKEY_CTX_new_from_name(lc, csp_key_type_name(type), NULL);
	ok = g->pctx != NULL;
	if (ok && (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0)
		ok = EVP_PKEY_keygen_init(g->pctx) == 1;
	else if (ok)
		ok = EVP_PKEY_paramgen_init(g->pctx) == 1;
	if (ok && params != NULL)
		ok = EVP_PKEY_CTX_set_params(g->pctx, params) == 1;
	if (!ok) {
		km_gen_cleanup(g);
		return NULL;
	}
	return g;
}

static void *rsa_gen_init(void *provctx, int selection, const OSSL_PARAM params[])
{
	return km_gen_init(provctx, EVP_PKEY_RSA, selection, params);
}

static void *ec_gen_init(void *provctx, int selection, const OSSL_PARAM params[])
{
	return km_gen_init(provctx, EVP_PKEY_EC, selection, params);
}

static int km_gen_set_params(void *genctx, const OSSL_PARAM params[])
{
	gen_ctx *g = genctx;

	return params == NULL || EVP_PKEY_CTX_set_params(g->pctx, params) == 1;
}

static const OSSL_PARAM *km_gen_settable_params(void *genctx, void *provctx)
{
	gen_ctx *g = genctx;

	return g != NULL ? EVP_PKEY_CTX_settable_params(g->pctx) : NULL;
}

static const OSSL_PARAM *rsa_gen_settable_params(void *genctx, void *provctx)
{
	EVP_KEYMGMT *km;

	if (genctx != NULL)
		return km_gen_settable_params(genctx, provctx);
	km = csp_dflt_keymgmt(provctx, EVP_PKEY_RSA);
	return km != NULL ? EVP_KEYMGMT_gen_settable_params(km) : NULL;
}

static const OSSL_PARAM *ec_gen_settable_params(void *genctx, void *provctx)
{
	EVP_KEYMGMT *km;

	if (genctx != NULL)
		return km_gen_settable_params(genctx, provctx);
	km = csp_dflt_keymgmt(provctx, EVP_PKEY_EC);
	return km != NULL ? EVP_KEYMGMT_gen_settable_params(km) : NULL;
}

/* A key "like that one" (EVP_PKEY_keygen from a key with parameters): the
 * template's group, which is all an EC template carries that matters. */
static int km_gen_set_template(void *genctx, void *templ)
{
	gen_ctx *g = genctx;
	const csp_key *t = templ;
	char group[64];
	size_t len = 0;
	OSSL_PARAM params[2];

	if (t == NULL || t->pub == NULL || g->type != EVP_PKEY_EC)
		return 1;
	if (!EVP_PKEY_get_group_name(t->pub, group, sizeof(group), &len))
		return 0;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_end();
	return EVP_PKEY_CTX_set_params(g->pctx, params) == 1;
}

static void *km_gen(void *genctx, OSSL_CALLBACK *cb, void *cbarg)
{
	gen_ctx *g = genctx;
	EVP_PKEY *pkey = NULL;
	csp_key *key;

	if (EVP_PKEY_generate(g->pctx, &pkey) != 1)
		return NULL;
	if ((key = km_new(g->prov, g->type)) == NULL) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	key->pub = pkey;
	return key;
}

/* ---- names ------------------------------------------------------------------ */

static const char *rsa_query_operation_name(int operation_id)
{
	return "RSA";
}

static const char *ec_query_operation_name(int operation_id)
{
	switch (operation_id) {
	case OSSL_OP_SIGNATURE:
		return "ECDSA";
	case OSSL_OP_KEYEXCH:
		return "ECDH";
	default:
		return NULL;
	}
}

#define COMMON_FUNCTIONS                                                                           \
	{OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))km_load},                                         \
		{OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))km_free},                                 \
		{OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))km_has},                                   \
		{OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))km_match},                               \
		{OSSL_FUNC_KEYMGMT_VALIDATE, (void (*)(void))km_validate},                         \
		{OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))km_export},                             \
		{OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))km_import},                             \
		{OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))km_dup},                                   \
		{OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))km_get_params},                     \
		{OSSL_FUNC_KEYMGMT_SET_PARAMS, (void (*)(void))km_set_params},                     \
		{OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))km_gen_set_params},             \
		{OSSL_FUNC_KEYMGMT_GEN_SET_TEMPLATE, (void (*)(void))km_gen_set_template},         \
		{OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))km_gen},                                   \
	{                                                                                          \
		OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))km_gen_cleanup                      \
	}

const OSSL_DISPATCH csp_rsa_keymgmt_functions[] = {
	COMMON_FUNCTIONS,
	{OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))rsa_new},
	{OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))rsa_gen_init},
	{OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, (void (*)(void))rsa_gen_settable_params},
	{OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))rsa_import_types},
	{OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))rsa_import_types},
	{OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))rsa_gettable_params},
	{OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS, (void (*)(void))rsa_settable_params},
	{OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))rsa_query_operation_name},
	{0, NULL},
};

const OSSL_DISPATCH csp_ec_keymgmt_functions[] = {
	COMMON_FUNCTIONS,
	{OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))ec_new},
	{OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))ec_gen_init},
	{OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, (void (*)(void))ec_gen_settable_params},
	{OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))ec_import_types},
	{OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))ec_import_types},
	{OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))ec_gettable_params},
	{OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS, (void (*)(void))ec_settable_params},
	{OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))ec_query_operation_name},
	{0, NULL},
};
