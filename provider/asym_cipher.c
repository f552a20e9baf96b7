/*
 * asym_cipher.c - ASYM_CIPHER: RSA decryption with store keys (PKCS#1 v1.5,
 * OAEP, and the TLS 1.2 RSA key exchange's premaster secret).
 *
 * Encryption with any key (a store key's public half included), and
 * decryption with a foreign key (OpenSSL hands them to us when certstore
 * is listed before default), are delegated to default in our own library
 * context (delegate.c).
 */
#include "provider.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "keys.h"

#define TLS_PREMASTER_LEN 48

typedef struct dec_ctx {
	csp_ctx *prov;
	csp_key *key;
	int pad;
	int oaep_md, mgf1_md;
	unsigned char *label;
	size_t label_len;
	unsigned int client_version, alt_version;
	EVP_PKEY_CTX *dpctx; /* a delegated encryption or decryption */
} dec_ctx;

static void *dec_newctx(void *provctx)
{
	dec_ctx *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		c->prov = provctx;
		c->pad = RSA_PKCS1_PADDING;
	}
	return c;
}

static void dec_freectx(void *ctx)
{
	dec_ctx *c = ctx;

	if (c == NULL)
		return;
	csp_key_free(c->key);
	EVP_PKEY_CTX_free(c->dpctx);
	free(c->label);
	free(c);
}

static void *dec_dupctx(void *ctx)
{
	dec_ctx *c = ctx, *d = malloc(sizeof(*d));

	if (d == NULL)
		return NULL;
	*d = *c;
	d->key = NULL;
	d->label = NULL;
	d->dpctx = NULL;
	if ((c->key != NULL && (d->key = csp_key_dup(c->key)) == NULL) ||
	    (c->label != NULL && (d->label = malloc(c->label_len ? c->label_len : 1)) == NULL) ||
	    (c->dpctx != NULL && (d->dpctx = EVP_PKEY_CTX_dup(c->dpctx)) == NULL)) {
		dec_freectx(d);
		return NULL;
	}
	if (c->label != NULL)
		memcpy(d->label, c->label, c->label_len);
	return d;
}

static int md_nid(csp_ctx *prov, const OSSL_PARAM *p, int *out)
{
	OSSL_LIB_CTX *lc = csp_dflt(prov);
	const char *s;
	EVP_MD *md;

	if (lc == NULL || !OSSL_PARAM_get_utf8_string_ptr(p, &s) ||
	    (md = EVP_MD_fetch(lc, s, NULL)) == NULL)
		return 0;
	*out = EVP_MD_get_type(md);
	EVP_MD_free(md);
	return 1;
}

static int set_pad(dec_ctx *c, const OSSL_PARAM *p)
{
	const char *s;

	if (p->data_type != OSSL_PARAM_UTF8_STRING)
		return OSSL_PARAM_get_int(p, &c->pad);
	if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
		return 0;
	if (strcasecmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0)
		c->pad = RSA_PKCS1_PADDING;
	else if (strcasecmp(s, OSSL_PKEY_RSA_PAD_MODE_OAEP) == 0)
		c->pad = RSA_PKCS1_OAEP_PADDING;
	else
		return 0;
	return 1;
}

static int set_label(dec_ctx *c, const OSSL_PARAM *p)
{
	void *label = NULL;
	size_t len = 0;

	if (!OSSL_PARAM_get_octet_string(p, &label, 0, &len))
		return 0;
	free(c->label);
	c->label = label;
	c->label_len = len;
	return 1;
}

static int dec_set_ctx_params(void *ctx, const OSSL_PARAM params[])
{
	dec_ctx *c = ctx;
	const OSSL_PARAM *p;

	if (params == NULL)
		return 1;
	if (c->dpctx != NULL)
		return EVP_PKEY_CTX_set_params(c->dpctx, params) == 1;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_PAD_MODE)) != NULL &&
	    !set_pad(c, p))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST)) != NULL &&
	    !md_nid(c->prov, p, &c->oaep_md))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST)) != NULL &&
	    !md_nid(c->prov, p, &c->mgf1_md))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL)) != NULL &&
	    !set_label(c, p))
		return 0;
	p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION);
	if (p != NULL && !OSSL_PARAM_get_uint(p, &c->client_version))
		return 0;
	p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION);
	if (p != NULL && !OSSL_PARAM_get_uint(p, &c->alt_version))
		return 0;
	return 1;
}

static int dec_get_ctx_params(void *ctx, OSSL_PARAM params[])
{
	dec_ctx *c = ctx;

	return c->dpctx != NULL ? EVP_PKEY_CTX_get_params(c->dpctx, params) == 1 : 1;
}

/* default's lists: what a store key takes is among them. */
static const OSSL_PARAM *dec_settable_ctx_params(void *ctx, void *provctx)
{
	EVP_ASYM_CIPHER *a = csp_dflt_asym_cipher(provctx);

	return a != NULL ? EVP_ASYM_CIPHER_settable_ctx_params(a) : NULL;
}

static const OSSL_PARAM *dec_gettable_ctx_params(void *ctx, void *provctx)
{
	EVP_ASYM_CIPHER *a = csp_dflt_asym_cipher(provctx);

	return a != NULL ? EVP_ASYM_CIPHER_gettable_ctx_params(a) : NULL;
}

static int delegate_init(dec_ctx *c, void *keydata, int encrypt, const OSSL_PARAM params[])
{
	csp_key_free(c->key);
	EVP_PKEY_CTX_free(c->dpctx);
	c->dpctx = NULL;
	if ((c->key = csp_key_dup(keydata)) == NULL || (c->dpctx = csp_key_pctx(c->key)) == NULL)
		return 0;
	return (encrypt ? EVP_PKEY_encrypt_init_ex(c->dpctx, params)
			: EVP_PKEY_decrypt_init_ex(c->dpctx, params)) == 1;
}

static int enc_init(void *ctx, void *keydata, const OSSL_PARAM params[])
{
	return delegate_init(ctx, keydata, 1, params);
}

static int enc_encrypt(void *ctx, unsigned char *out, size_t *outlen, size_t outsize,
		       const unsigned char *in, size_t inlen)
{
	dec_ctx *c = ctx;

	*outlen = outsize;
	return c->dpctx != NULL && EVP_PKEY_encrypt(c->dpctx, out, outlen, in, inlen) == 1;
}

static int dec_init(void *ctx, void *keydata, const OSSL_PARAM params[])
{
	dec_ctx *c = ctx;

	if (keydata != NULL && ((csp_key *)keydata)->uri == NULL)
		return delegate_init(c, keydata, 0, params);
	EVP_PKEY_CTX_free(c->dpctx);
	c->dpctx = NULL;
	csp_key_free(c->key);
	c->key = csp_key_dup(keydata);
	if (c->key == NULL || c->key->uri == NULL) {
		csp_raise(c->prov, CS_ERR_KEY, "no private key to decrypt with");
		return 0;
	}
	return dec_set_ctx_params(c, params);
}

static cs_rv token_decrypt(dec_ctx *c, const unsigned char *in, size_t inlen, unsigned char *out,
			   size_t *outlen, cs_err *err)
{
	cs_decrypt_mech mech = {.alg = CS_DECRYPT_RSA_PKCS1};

	if (c->pad == RSA_PKCS1_OAEP_PADDING) {
		mech.alg = CS_DECRYPT_RSA_OAEP;
		mech.md = c->oaep_md;
		mech.mgf1_md = c->mgf1_md;
		mech.label = c->label;
		mech.label_len = c->label_len;
	}
	return csp_key_decrypt(c->key, &mech, in, inlen, out, outlen, err);
}

/*
 * RFC 5246 7.4.7.1: a bad premaster secret must not be told apart from a
 * good one, so whatever goes wrong the caller gets 48 bytes: the secret when
 * padding, length and version are right, random bytes otherwise.
 */
static int tls_premaster(dec_ctx *c, unsigned char *out, size_t *outlen, size_t outsize,
			 const unsigned char *in, size_t inlen)
{
	unsigned char fake[TLS_PREMASTER_LEN], buf[1024];
	size_t len = sizeof(buf);
	cs_err err = {0};
	int good;

	if (outsize < TLS_PREMASTER_LEN || RAND_priv_bytes(fake, sizeof(fake)) != 1)
		return 0;
	good = token_decrypt(c, in, inlen, buf, &len, &err) == CS_OK && len == TLS_PREMASTER_LEN;
	good = good &&
	       ((buf[0] == (c->client_version >> 8) && buf[1] == (c->client_version & 0xff)) ||
		(c->alt_version != 0 && buf[0] == (c->alt_version >> 8) &&
		 buf[1] == (c->alt_version & 0xff)));
	memcpy(out, good ? buf : fake, TLS_PREMASTER_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	*outlen = TLS_PREMASTER_LEN;
	return 1;
}

static int dec_decrypt(void *ctx, unsigned char *out, size_t *outlen, size_t outsize,
		       const unsigned char *in, size_t inlen)
{
	dec_ctx *c = ctx;
	cs_err err = {0};
	size_t len = outsize;

	if (c->dpctx != NULL) {
		*outlen = outsize;
		return EVP_PKEY_decrypt(c->dpctx, out, outlen, in, inlen) == 1;
	}
	if (out == NULL) {
		*outlen = (size_t)EVP_PKEY_get_size(c->key->pub);
		return *outlen > 0;
	}
	if (c->pad == RSA_PKCS1_WITH_TLS_PADDING)
		return tls_premaster(c, out, outlen, outsize, in, inlen);
	if (c->pad != RSA_PKCS1_PADDING && c->pad != RSA_PKCS1_OAEP_PADDING) {
		csp_raise(c->prov, CSP_R_UNSUPPORTED, "RSA padding mode %d is not supported",
			  c->pad);
		return 0;
	}
	if (token_decrypt(c, in, inlen, out, &len, &err) != CS_OK) {
		csp_raise_err(c->prov, &err);
		return 0;
	}
	*outlen = len;
	return 1;
}

const OSSL_DISPATCH csp_rsa_asym_cipher_functions[] = {
	{OSSL_FUNC_ASYM_CIPHER_NEWCTX, (void (*)(void))dec_newctx},
	{OSSL_FUNC_ASYM_CIPHER_FREECTX, (void (*)(void))dec_freectx},
	{OSSL_FUNC_ASYM_CIPHER_DUPCTX, (void (*)(void))dec_dupctx},
	{OSSL_FUNC_ASYM_CIPHER_ENCRYPT_INIT, (void (*)(void))enc_init},
	{OSSL_FUNC_ASYM_CIPHER_ENCRYPT, (void (*)(void))enc_encrypt},
	{OSSL_FUNC_ASYM_CIPHER_GET_CTX_PARAMS, (void (*)(void))dec_get_ctx_params},
	{OSSL_FUNC_ASYM_CIPHER_GETTABLE_CTX_PARAMS, (void (*)(void))dec_gettable_ctx_params},
	{OSSL_FUNC_ASYM_CIPHER_DECRYPT_INIT, (void (*)(void))dec_init},
	{OSSL_FUNC_ASYM_CIPHER_DECRYPT, (void (*)(void))dec_decrypt},
	{OSSL_FUNC_ASYM_CIPHER_SET_CTX_PARAMS, (void (*)(void))dec_set_ctx_params},
	{OSSL_FUNC_ASYM_CIPHER_SETTABLE_CTX_PARAMS, (void (*)(void))dec_settable_ctx_params},
	{0, NULL},
};
