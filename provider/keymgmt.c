/*
 * keymgmt.c - KEYMGMT for RSA and EC store keys.
 *
 * Our key objects come only from `load` (a csp_keyref from our STORE or
 * DECODER).  Nothing else gets in: no generation (libssl's ephemeral keys
 * stay with the default provider) and no import (so OpenSSL never moves a
 * software key here to use our operations on it).  Export gives the public
 * half only, which is what verification, EVP_PKEY_eq and
 * SSL_CTX_check_private_key need; the private key never leaves the token.
 */
#include "provider.h"

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
	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && strcmp(a->uri, b->uri) != 0)
		return 0;
	return EVP_PKEY_eq(a->pub, b->pub) == 1;
}

/* Public parts and domain parameters, whatever was asked: the private half
 * is not ours to give, and what callers compare or verify with is public. */
static int km_export(void *keydata, int selection, OSSL_CALLBACK *param_cb, void *cbarg)
{
	csp_key *key = keydata;
	OSSL_PARAM *params = NULL;
	int ok;

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
	    {OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))km_get_params}

const OSSL_DISPATCH csp_rsa_keymgmt_functions[] = {
	COMMON_FUNCTIONS,
	{OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))rsa_export_types},
	{OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))rsa_gettable_params},
	{OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))rsa_query_operation_name},
	{0, NULL},
};

const OSSL_DISPATCH csp_ec_keymgmt_functions[] = {
	COMMON_FUNCTIONS,
	{OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))ec_export_types},
	{OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))ec_gettable_params},
	{OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))ec_query_operation_name},
	{0, NULL},
};
