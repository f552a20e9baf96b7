/*
 * signature.c - SIGNATURE: RSA (PKCS#1 v1.5, PSS) and ECDSA.
 *
 * Signing with a store key: plain (the caller hashed) and digest-sign (we
 * hash, the token signs).  Hashing uses the default provider's digests in
 * our own library context (we offer none ourselves).
 *
 * Everything else is delegated to default in our own library context
 * (delegate.c): verification with any key (a store key's public half
 * included), and signing with a foreign key, which OpenSSL hands us when
 * certstore is listed before default.
 */
#include "provider.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "keys.h"
#include "signature.h"

static void *sig_newctx(void *provctx, const char *propq, int is_rsa)
{
	sig_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->prov = provctx;
	c->is_rsa = is_rsa;
	c->pad = RSA_PKCS1_PADDING;
	c->saltlen = RSA_PSS_SALTLEN_AUTO;
	return c;
}

static void *rsa_newctx(void *provctx, const char *propq)
{
	return sig_newctx(provctx, propq, 1);
}

static void *ecdsa_newctx(void *provctx, const char *propq)
{
	return sig_newctx(provctx, propq, 0);
}

static void sig_freectx(void *ctx)
{
	sig_ctx *c = ctx;

	if (c == NULL)
		return;
	csp_key_free(c->key);
	EVP_MD_CTX_free(c->mdctx);
	EVP_PKEY_CTX_free(c->dpctx);
	EVP_MD_CTX_free(c->dmdctx);
	free(c);
}

static void *sig_dupctx(void *ctx)
{
	sig_ctx *c = ctx, *d = malloc(sizeof(*d));

	if (d == NULL)
		return NULL;
	*d = *c;
	d->key = NULL;
	d->mdctx = NULL;
	d->dpctx = NULL;
	d->dmdctx = NULL;
	if ((c->key != NULL && (d->key = csp_key_dup(c->key)) == NULL) ||
	    (c->mdctx != NULL &&
	     ((d->mdctx = EVP_MD_CTX_new()) == NULL || !EVP_MD_CTX_copy_ex(d->mdctx, c->mdctx))) ||
	    (c->dpctx != NULL && (d->dpctx = EVP_PKEY_CTX_dup(c->dpctx)) == NULL) ||
	    (c->dmdctx != NULL && ((d->dmdctx = EVP_MD_CTX_new()) == NULL ||
				   !EVP_MD_CTX_copy_ex(d->dmdctx, c->dmdctx)))) {
		sig_freectx(d);
		return NULL;
	}
	return d;
}

/* ---- delegated operations ---------------------------------------------------- */

enum { OP_SIGN, OP_VERIFY, OP_VERIFY_RECOVER };

static void drop_delegate(sig_ctx *c)
{
	EVP_PKEY_CTX_free(c->dpctx);
	EVP_MD_CTX_free(c->dmdctx);
	c->dpctx = NULL;
	c->dmdctx = NULL;
}

/* keydata NULL: the same key again (a re-init keeps the key). */
static int take_key(sig_ctx *c, void *keydata)
{
	if (keydata == NULL)
		return c->key != NULL;
	csp_key_free(c->key);
	c->key = csp_key_dup(keydata);
	return c->key != NULL;
}

static int delegate_init(sig_ctx *c, int op, const OSSL_PARAM params[])
{
	int ok;

	drop_delegate(c);
	if ((c->dpctx = csp_key_pctx(c->key)) == NULL)
		return 0;
	switch (op) {
	case OP_SIGN:
		ok = EVP_PKEY_sign_init_ex(c->dpctx, params);
		break;
	case OP_VERIFY:
		ok = EVP_PKEY_verify_init_ex(c->dpctx, params);
		break;
	default:
		ok = EVP_PKEY_verify_recover_init_ex(c->dpctx, params);
		break;
	}
	return ok == 1;
}

static int delegate_digest_init(sig_ctx *c, int op, const char *mdname, const OSSL_PARAM params[])
{
	OSSL_LIB_CTX *lc = csp_dflt(c->prov);
	int ok;

	drop_delegate(c);
	if (lc == NULL || (c->dmdctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	if (mdname != NULL && *mdname == '\0')
		mdname = NULL;
	if (op == OP_SIGN)
		ok = EVP_DigestSignInit_ex(c->dmdctx, NULL, mdname, lc, NULL, c->key->pub, params);
	else
		ok = EVP_DigestVerifyInit_ex(c->dmdctx, NULL, mdname, lc, NULL, c->key->pub,
					     params);
	return ok == 1;
}

static int sig_verify_init(void *ctx, void *keydata, const OSSL_PARAM params[])
{
	sig_ctx *c = ctx;

	return take_key(c, keydata) && delegate_init(c, OP_VERIFY, params);
}

static int sig_verify_recover_init(void *ctx, void *keydata, const OSSL_PARAM params[])
{
	sig_ctx *c = ctx;

	return take_key(c, keydata) && delegate_init(c, OP_VERIFY_RECOVER, params);
}

static int sig_verify(void *ctx, const unsigned char *sig, size_t siglen, const unsigned char *tbs,
		      size_t tbslen)
{
	sig_ctx *c = ctx;

	return c->dpctx != NULL && EVP_PKEY_verify(c->dpctx, sig, siglen, tbs, tbslen) == 1;
}

static int sig_verify_recover(void *ctx, unsigned char *rout, size_t *routlen, size_t routsize,
			      const unsigned char *sig, size_t siglen)
{
	sig_ctx *c = ctx;

	*routlen = routsize;
	return c->dpctx != NULL &&
	       EVP_PKEY_verify_recover(c->dpctx, rout, routlen, sig, siglen) == 1;
}

static int sig_digest_verify_init(void *ctx, const char *mdname, void *keydata,
				  const OSSL_PARAM params[])
{
	sig_ctx *c = ctx;

	return take_key(c, keydata) && delegate_digest_init(c, OP_VERIFY, mdname, params);
}

static int sig_digest_verify_update(void *ctx, const unsigned char *data, size_t datalen)
{
	sig_ctx *c = ctx;

	return c->dmdctx != NULL && EVP_DigestVerifyUpdate(c->dmdctx, data, datalen) == 1;
}

static int sig_digest_verify_final(void *ctx, const unsigned char *sig, size_t siglen)
{
	sig_ctx *c = ctx;

	return c->dmdctx != NULL && EVP_DigestVerifyFinal(c->dmdctx, sig, siglen) == 1;
}

/* ---- signing ---------------------------------------------------------------- */

static int sig_init(void *ctx, void *keydata, const OSSL_PARAM params[])
{
	sig_ctx *c = ctx;

	if (keydata != NULL && ((csp_key *)keydata)->uri == NULL)
		return take_key(c, keydata) && delegate_init(c, OP_SIGN, params);
	if (keydata == NULL && c->dpctx != NULL)
		return delegate_init(c, OP_SIGN, params);
	drop_delegate(c);
	if (keydata != NULL) {
		csp_key_free(c->key);
		if ((c->key = csp_key_dup(keydata)) == NULL)
			return 0;
	}
	if (c->key == NULL || c->key->uri == NULL) {
		csp_raise(c->prov, CS_ERR_KEY, "no private key to sign with");
		return 0;
	}
	return csp_sig_set_ctx_params(c, params);
}

/* The digest a bare hash of this length most likely is (EVP_PKEY_sign
 * without a digest set). */
static int md_from_len(size_t len)
{
	switch (len) {
	case 20:
		return NID_sha1;
	case 28:
		return NID_sha224;
	case 32:
		return NID_sha256;
	case 48:
		return NID_sha384;
	case 64:
		return NID_sha512;
	default:
		return NID_undef;
	}
}

static void fill_mech(const sig_ctx *c, size_t tbslen, cs_sign_mech *m)
{
	memset(m, 0, sizeof(*m));
	m->md = c->md;
	if (!c->is_rsa) {
		m->alg = CS_SIGN_ECDSA;
		return;
	}
	if (c->pad != RSA_PKCS1_PSS_PADDING) {
		m->alg = CS_SIGN_RSA_PKCS1;
		return;
	}
	m->alg = CS_SIGN_RSA_PSS;
	if (m->md == NID_undef)
		m->md = md_from_len(tbslen);
	m->mgf1_md = c->mgf1_md;
	/* OpenSSL's DIGEST (-1) is ours; MAX (-3) and AUTO (-2, for signing
	 * the maximum too) are our -2. */
	m->salt_len = c->saltlen == RSA_PSS_SALTLEN_DIGEST ? -1 : c->saltlen < 0 ? -2 : c->saltlen;
}

static int sig_sign(void *ctx, unsigned char *sig, size_t *siglen, size_t sigsize,
		    const unsigned char *tbs, size_t tbslen)
{
	sig_ctx *c = ctx;
	cs_sign_mech mech;
	cs_err err = {0};
	size_t len = sigsize;

	if (c->dpctx != NULL) {
		*siglen = sigsize;
		return EVP_PKEY_sign(c->dpctx, sig, siglen, tbs, tbslen) == 1;
	}
	if (c->key == NULL || c->key->uri == NULL)
		return 0;

	/* The size query costs no token: the public key knows it. */
	if (sig == NULL) {
		*siglen = (size_t)EVP_PKEY_get_size(c->key->pub);
		return *siglen > 0;
	}
	fill_mech(c, tbslen, &mech);
	if (csp_key_sign(c->key, &mech, tbs, tbslen, sig, &len, &err) != CS_OK) {
		csp_raise_err(c->prov, &err);
		return 0;
	}
	*siglen = len;
	return 1;
}

/* ---- digest-sign ------------------------------------------------------------ */

static int sig_digest_sign_init(void *ctx, const char *mdname, void *keydata,
				const OSSL_PARAM params[])
{
	sig_ctx *c = ctx;
	OSSL_LIB_CTX *lc;
	EVP_MD *md;
	int ok;

	if ((keydata != NULL && ((csp_key *)keydata)->uri == NULL) ||
	    (keydata == NULL && c->dmdctx != NULL))
		return take_key(c, keydata) && delegate_digest_init(c, OP_SIGN, mdname, params);
	if (!sig_init(c, keydata, params) || (lc = csp_dflt(c->prov)) == NULL)
		return 0;
	if (mdname == NULL || *mdname == '\0')
		mdname = "SHA256";
	md = EVP_MD_fetch(lc, mdname, NULL);
	if (md == NULL) {
		csp_raise(c->prov, CSP_R_UNSUPPORTED, "digest %s is not available", mdname);
		return 0;
	}
	c->md = EVP_MD_get_type(md);
	if (c->mdctx == NULL)
		c->mdctx = EVP_MD_CTX_new();
	ok = c->mdctx != NULL && EVP_DigestInit_ex2(c->mdctx, md, NULL);
	EVP_MD_free(md);
	return ok;
}

static int sig_digest_sign_update(void *ctx, const unsigned char *data, size_t datalen)
{
	sig_ctx *c = ctx;

	if (c->dmdctx != NULL)
		return EVP_DigestSignUpdate(c->dmdctx, data, datalen) == 1;
	return c->mdctx != NULL && EVP_DigestUpdate(c->mdctx, data, datalen);
}

static int sig_digest_sign_final(void *ctx, unsigned char *sig, size_t *siglen, size_t sigsize)
{
	sig_ctx *c = ctx;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	if (c->dmdctx != NULL) {
		*siglen = sigsize;
		return EVP_DigestSignFinal(c->dmdctx, sig, siglen) == 1;
	}
	if (c->mdctx == NULL)
		return 0;
	if (sig == NULL)
		return sig_sign(c, NULL, siglen, 0, NULL, 0);
	if (!EVP_DigestFinal_ex(c->mdctx, digest, &dlen))
		return 0;
	return sig_sign(c, sig, siglen, sigsize, digest, dlen);
}

#define SIG_FUNCTIONS                                                                              \
	{OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))sig_freectx},                                \
		{OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))sig_dupctx},                          \
		{OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*)(void))sig_init},                         \
		{OSSL_FUNC_SIGNATURE_SIGN, (void (*)(void))sig_sign},                              \
		{OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))sig_digest_sign_init},      \
		{OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))sig_digest_sign_update},  \
		{OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void))sig_digest_sign_final},    \
		{OSSL_FUNC_SIGNATURE_VERIFY_INIT, (void (*)(void))sig_verify_init},                \
		{OSSL_FUNC_SIGNATURE_VERIFY, (void (*)(void))sig_verify},                          \
		{OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, (void (*)(void))sig_digest_verify_init},  \
		{OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_UPDATE,                                         \
		 (void (*)(void))sig_digest_verify_update},                                        \
		{OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_FINAL,                                          \
		 (void (*)(void))sig_digest_verify_final},                                         \
		{OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void))csp_sig_set_ctx_params},      \
	{                                                                                          \
		OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))csp_sig_get_ctx_params         \
	}

const OSSL_DISPATCH csp_rsa_signature_functions[] = {
	SIG_FUNCTIONS,
	{OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))rsa_newctx},
	{OSSL_FUNC_SIGNATURE_VERIFY_RECOVER_INIT, (void (*)(void))sig_verify_recover_init},
	{OSSL_FUNC_SIGNATURE_VERIFY_RECOVER, (void (*)(void))sig_verify_recover},
	{OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void))csp_rsa_sig_settable_ctx_params},
	{OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))csp_rsa_sig_gettable_ctx_params},
	{0, NULL},
};

const OSSL_DISPATCH csp_ecdsa_signature_functions[] = {
	SIG_FUNCTIONS,
	{OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))ecdsa_newctx},
	{OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS,
	 (void (*)(void))csp_ecdsa_sig_settable_ctx_params},
	{OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS,
	 (void (*)(void))csp_ecdsa_sig_gettable_ctx_params},
	{0, NULL},
};
