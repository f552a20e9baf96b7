/*
 * signature_params.c - the SIGNATURE context's parameters: digest, padding
 * and PSS settings in, the signature's AlgorithmIdentifier out (X.509 and
 * CMS ask for it when signing with a store key).  A delegated operation
 * (signature.c) answers with default's own.
 */
#include "signature.h"

#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

static int md_nid(csp_ctx *prov, const char *name)
{
	OSSL_LIB_CTX *lc = csp_dflt(prov);
	EVP_MD *md = lc != NULL ? EVP_MD_fetch(lc, name, NULL) : NULL;
	int nid = md != NULL ? EVP_MD_get_type(md) : NID_undef;

	EVP_MD_free(md);
	return nid;
}

static int set_pad(sig_ctx *c, const OSSL_PARAM *p)
{
	const char *s;

	if (p->data_type == OSSL_PARAM_UTF8_STRING) {
		if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
			return 0;
		if (strcasecmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0)
			c->pad = RSA_PKCS1_PADDING;
		else if (strcasecmp(s, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0)
			c->pad = RSA_PKCS1_PSS_PADDING;
		else
			return 0;
		return 1;
	}
	return OSSL_PARAM_get_int(p, &c->pad) &&
	       (c->pad == RSA_PKCS1_PADDING || c->pad == RSA_PKCS1_PSS_PADDING);
}

static int set_saltlen(sig_ctx *c, const OSSL_PARAM *p)
{
	const char *s;

	if (p->data_type != OSSL_PARAM_UTF8_STRING)
		return OSSL_PARAM_get_int(p, &c->saltlen);
	if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
		return 0;
	if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0)
		c->saltlen = RSA_PSS_SALTLEN_DIGEST;
	else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_MAX) == 0)
		c->saltlen = RSA_PSS_SALTLEN_MAX;
	else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO) == 0)
		c->saltlen = RSA_PSS_SALTLEN_AUTO;
	else
		c->saltlen = atoi(s);
	return 1;
}

static int set_md(csp_ctx *prov, int *out, const OSSL_PARAM *p)
{
	const char *s;

	if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
		return 0;
	*out = md_nid(prov, s);
	return *out != NID_undef;
}

/* The delegated operation's context, NULL when the key is the store's. */
static EVP_PKEY_CTX *delegate(const sig_ctx *c)
{
	if (c->dpctx != NULL)
		return c->dpctx;
	return c->dmdctx != NULL ? EVP_MD_CTX_get_pkey_ctx(c->dmdctx) : NULL;
}

int csp_sig_set_ctx_params(void *ctx, const OSSL_PARAM params[])
{
	sig_ctx *c = ctx;
	const OSSL_PARAM *p;

	if (params == NULL)
		return 1;
	if (delegate(c) != NULL)
		return EVP_PKEY_CTX_set_params(delegate(c), params);
	p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST);
	if (p != NULL && !set_md(c->prov, &c->md, p))
		return 0;
	if (!c->is_rsa)
		return 1;
	p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE);
	if (p != NULL && !set_pad(c, p))
		return 0;
	p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN);
	if (p != NULL && !set_saltlen(c, p))
		return 0;
	p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST);
	if (p != NULL && !set_md(c->prov, &c->mgf1_md, p))
		return 0;
	return 1;
}

/* default's lists: a foreign key takes what default takes, and what a
 * store key takes is among them. */
const OSSL_PARAM *csp_rsa_sig_settable_ctx_params(void *ctx, void *provctx)
{
	EVP_SIGNATURE *s = csp_dflt_signature(provctx, EVP_PKEY_RSA);

	return s != NULL ? EVP_SIGNATURE_settable_ctx_params(s) : NULL;
}

const OSSL_PARAM *csp_ecdsa_sig_settable_ctx_params(void *ctx, void *provctx)
{
	EVP_SIGNATURE *s = csp_dflt_signature(provctx, EVP_PKEY_EC);

	return s != NULL ? EVP_SIGNATURE_settable_ctx_params(s) : NULL;
}

/* The PSS salt length as it will be used, for the AlgorithmIdentifier. */
static int pss_salt_bytes(const sig_ctx *c, int md)
{
	int hlen = EVP_MD_get_size(EVP_get_digestbynid(md));
	int emlen = (EVP_PKEY_get_bits(c->key->pub) - 1 + 7) / 8;

	if (c->saltlen >= 0)
		return c->saltlen;
	if (c->saltlen == RSA_PSS_SALTLEN_DIGEST)
		return hlen;
	return emlen - hlen - 2; /* AUTO and MAX: we sign with the maximum */
}

static X509_ALGOR *md_algor(int nid, int ptype)
{
	X509_ALGOR *a = X509_ALGOR_new();

	if (a != NULL && !X509_ALGOR_set0(a, OBJ_nid2obj(nid), ptype, NULL)) {
		X509_ALGOR_free(a);
		return NULL;
	}
	return a;
}

/* RSASSA-PSS-params: hash, MGF1 with its hash, salt length. */
static ASN1_STRING *pss_params(const sig_ctx *c, int md)
{
	RSA_PSS_PARAMS *pss = RSA_PSS_PARAMS_new();
	X509_ALGOR *mgf_md = NULL;
	ASN1_STRING *out = NULL, *mgf_params = NULL;
	int mgf1 = c->mgf1_md != NID_undef ? c->mgf1_md : md;

	if (pss == NULL)
		return NULL;
	pss->hashAlgorithm = md_algor(md, V_ASN1_NULL);
	mgf_md = md_algor(mgf1, V_ASN1_NULL);
	pss->maskGenAlgorithm = X509_ALGOR_new();
	pss->saltLength = ASN1_INTEGER_new();
	if (pss->hashAlgorithm != NULL && mgf_md != NULL && pss->maskGenAlgorithm != NULL &&
	    pss->saltLength != NULL && ASN1_INTEGER_set(pss->saltLength, pss_salt_bytes(c, md)) &&
	    ASN1_item_pack(mgf_md, ASN1_ITEM_rptr(X509_ALGOR), &mgf_params) != NULL &&
	    X509_ALGOR_set0(pss->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1), V_ASN1_SEQUENCE,
			    mgf_params)) {
		mgf_params = NULL;
		ASN1_item_pack(pss, ASN1_ITEM_rptr(RSA_PSS_PARAMS), &out);
	}
	ASN1_STRING_free(mgf_params);
	X509_ALGOR_free(mgf_md);
	RSA_PSS_PARAMS_free(pss);
	return out;
}

/* The signature's AlgorithmIdentifier, which X.509 and PKCS#10 signing ask for. */
static int set_algorithm_id(const sig_ctx *c, OSSL_PARAM *p)
{
	int md = c->md != NID_undef ? c->md : NID_sha256, sig_nid = NID_undef, ok = 0, len;
	X509_ALGOR *a = X509_ALGOR_new();
	unsigned char *der = NULL;
	ASN1_STRING *params;

	if (a == NULL)
		return 0;
	if (c->is_rsa && c->pad == RSA_PKCS1_PSS_PADDING) {
		params = pss_params(c, md);
		ok = params != NULL &&
		     X509_ALGOR_set0(a, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE, params);
		if (!ok)
			ASN1_STRING_free(params);
	} else if (OBJ_find_sigid_by_algs(&sig_nid, md,
					  c->is_rsa ? NID_rsaEncryption
						    : NID_X9_62_id_ecPublicKey)) {
		ok = X509_ALGOR_set0(a, OBJ_nid2obj(sig_nid),
				     c->is_rsa ? V_ASN1_NULL : V_ASN1_UNDEF, NULL);
	}
	len = ok ? i2d_X509_ALGOR(a, &der) : 0;
	ok = len > 0 && OSSL_PARAM_set_octet_string(p, der, (size_t)len);
	OPENSSL_free(der);
	X509_ALGOR_free(a);
	return ok;
}

int csp_sig_get_ctx_params(void *ctx, OSSL_PARAM params[])
{
	sig_ctx *c = ctx;
	OSSL_PARAM *p;

	if (delegate(c) != NULL)
		return EVP_PKEY_CTX_get_params(delegate(c), params);
	p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID);
	if (p != NULL && (c->key == NULL || !set_algorithm_id(c, p)))
		return 0;

	p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST);
	if (p != NULL && c->md != NID_undef && !OSSL_PARAM_set_utf8_string(p, OBJ_nid2sn(c->md)))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE);
	if (p != NULL && c->is_rsa && !OSSL_PARAM_set_int(p, c->pad))
		return 0;
	return 1;
}

const OSSL_PARAM *csp_rsa_sig_gettable_ctx_params(void *ctx, void *provctx)
{
	EVP_SIGNATURE *s = csp_dflt_signature(provctx, EVP_PKEY_RSA);

	return s != NULL ? EVP_SIGNATURE_gettable_ctx_params(s) : NULL;
}

const OSSL_PARAM *csp_ecdsa_sig_gettable_ctx_params(void *ctx, void *provctx)
{
	EVP_SIGNATURE *s = csp_dflt_signature(provctx, EVP_PKEY_EC);

	return s != NULL ? EVP_SIGNATURE_gettable_ctx_params(s) : NULL;
}
