/*
 * keymgmt.c - KEYMGMT for RSA and EC store keys.
 *
 * Private keys come only from `load` (a csp_keyref from our STORE or
 * DECODER).  No generation (libssl's ephemeral keys stay with the default
 * provider), and import takes public keys only: EVP_PKEY_eq (what
 * SSL_CTX_check_private_key uses) compares a certificate's key with ours by
 * importing it here; a software private key is refused, so OpenSSL never
 * moves one here to use our operations on it.
 *
 * Export gives public parts and domain parameters, and refuses any request
 * that includes the private key: OpenSSL exports a key with everything
 * selected when it wants to run an operation in another provider, and a
 * public-only copy there would fail later with "missing private key"
 * instead of falling back to our own SIGNATURE.
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

static void *km_new(void *provctx, int type)
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

static int km_import(void *keydata, int selection, const OSSL_PARAM params[])
{
	csp_key *key = keydata;
	EVP_PKEY_CTX *pctx;
	EVP_PKEY *pub = NULL;

	if (OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_D) != NULL ||
	    OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PRIV_KEY) != NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) == 0 || key->pub != NULL)
		return 0;
	pctx = EVP_PKEY_CTX_new_from_name(NULL, csp_key_type_name(key->type), "provider=default");
	if (pctx != NULL && EVP_PKEY_fromdata_init(pctx) == 1 &&
	    EVP_PKEY_fromdata(pctx, &pub, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)params) == 1)
		key->pub = pub;
	EVP_PKEY_CTX_free(pctx);
	return key->pub != NULL;
}

static void km_free(void *keydata)
{
	csp_key_free(keydata);
}

static int km_has(const void *keydata, int selection)
{
	const csp_key *key = keydata;

	if (key == NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && key->uri == NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) && key->pub == NULL)
		return 0;
	return 1;
}

static int km_match(const void *keydata1, const void *keydata2, int selection)
{
	const csp_key *a = keydata1, *b = keydata2;

	if (a->pub == NULL || b->pub == NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) &&
	    (a->uri == NULL || b->uri == NULL || strcmp(a->uri, b->uri) != 0))
		return 0;
	return EVP_PKEY_eq(a->pub, b->pub) == 1;
}

/* Public parts and domain parameters only (see the top of the file). */
static int km_export(void *keydata, int selection, OSSL_CALLBACK *param_cb, void *cbarg)
{
	csp_key *key = keydata;
	OSSL_PARAM *params = NULL;
	int ok;

	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && key->uri != NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS) == 0 &&
	    (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) == 0)
		return 0;
	if (key->pub == NULL || EVP_PKEY_todata(key->pub, EVP_PKEY_PUBLIC_KEY, &params) != 1)
		return 0;
	ok = param_cb(params, cbarg);
	OSSL_PARAM_free(params);
	return ok;
}

static const OSSL_PARAM *rsa_export_types(int selection)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
		OSSL_PARAM_END,
	};
	return (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) ? types : NULL;
}

static const OSSL_PARAM *ec_export_types(int selection)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
		OSSL_PARAM_END,
	};
	return selection & (OSSL_KEYMGMT_SELECT_PUBLIC_KEY | OSSL_KEYMGMT_SELECT_ALL_PARAMETERS)
		       ? types
		       : NULL;
}

/* Sizes, the group, the public key: all answered by the public half. */
static int km_get_params(void *keydata, OSSL_PARAM params[])
{
	csp_key *key = keydata;
	OSSL_PARAM *p;

	if (key->pub == NULL)
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_DEFAULT_DIGEST);
	if (p != NULL && !OSSL_PARAM_set_utf8_string(p, "SHA256"))
		return 0;
	return EVP_PKEY_get_params(key->pub, params);
}

static const OSSL_PARAM *rsa_gettable_params(void *provctx)
{
	static const OSSL_PARAM params[] = {
		OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
		OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
		OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
		OSSL_PARAM_END,
	};
	return params;
}

static const OSSL_PARAM *ec_gettable_params(void *provctx)
{
	static const OSSL_PARAM params[] = {
		OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
		OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
		OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
		OSSL_PARAM_END,
	};
	return params;
}

static const char *rsa_query_operation_name(int operation_id)
{
	return "RSA";
}

static const char *ec_query_operation_name(int operation_id)
{
	return operation_id == OSSL_OP_SIGNATURE ? "ECDSA" : NULL;
}

#define COMMON_FUNCTIONS                                                                   \
	{OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))km_load},                                 \
	    {OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))km_free},                             \
	    {OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))km_has},                               \
	    {OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))km_match},                           \
	    {OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))km_export},                         \
	    {OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))km_import},                         \
	    {OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))km_get_params}

const OSSL_DISPATCH csp_rsa_keymgmt_functions[] = {
	COMMON_FUNCTIONS,
	{OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))rsa_new},
	{OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))rsa_export_types},
	{OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))rsa_export_types},
	{OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))rsa_gettable_params},
	{OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))rsa_query_operation_name},
	{0, NULL},
};

const OSSL_DISPATCH csp_ec_keymgmt_functions[] = {
	COMMON_FUNCTIONS,
	{OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))ec_new},
	{OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))ec_export_types},
	{OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))ec_export_types},
	{OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))ec_gettable_params},
	{OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))ec_query_operation_name},
	{0, NULL},
};
