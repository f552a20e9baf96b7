/*
 * keyops.c - what a private key does in the token: sign, decrypt, and (for
 * exportable keys only) leave it, wrapped.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "keys_internal.h"

/* Copies a result into the caller's buffer, PKCS#11-style. */
static cs_rv give(const unsigned char *res, size_t len, unsigned char *out, size_t *outlen,
		  cs_err *err)
{
	if (*outlen < len)
		return cs_err_set(err, CS_ERR_INTERNAL,
				  "output buffer too small (%zu bytes needed)", len);
	memcpy(out, res, len);
	*outlen = len;
	return CS_OK;
}

/* DigestInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING digest } */
static cs_rv digest_info(int md, const unsigned char *in, size_t inlen, unsigned char **out,
			 size_t *outlen, cs_err *err)
{
	const EVP_MD *m = EVP_get_digestbynid(md);
	X509_SIG *sig = X509_SIG_new();
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *dig;
	unsigned char *der = NULL;
	int n = -1;

	*out = NULL;
	if (m == NULL || (size_t)EVP_MD_get_size(m) != inlen) {
		X509_SIG_free(sig);
		return cs_err_set(err, CS_ERR_USAGE, "the input is not a %s digest",
				  m ? EVP_MD_get0_name(m) : "known");
	}
	if (sig != NULL) {
		X509_SIG_getm(sig, &alg, &dig);
		if (X509_ALGOR_set0(alg, OBJ_nid2obj(md), V_ASN1_NULL, NULL) &&
		    ASN1_OCTET_STRING_set(dig, in, (int)inlen))
			n = i2d_X509_SIG(sig, &der);
	}
	X509_SIG_free(sig);
	if (n <= 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot build a DigestInfo");
	*out = der;
	*outlen = (size_t)n;
	return CS_OK;
}

static cs_rv ecdsa_der(const unsigned char *rs, size_t len, unsigned char *out, size_t *outlen,
		       cs_err *err)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, (int)(len / 2), NULL),
	       *s = BN_bin2bn(rs + len / 2, (int)(len / 2), NULL);
	unsigned char *der = NULL;
	int n = -1;
	cs_rv rv;

	if (sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s)) {
		r = s = NULL;
		n = i2d_ECDSA_SIG(sig, &der);
	}
	if (n > 0)
		rv = give(der, (size_t)n, out, outlen, err);
	else
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot encode an ECDSA signature");
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return rv;
}

static size_t sign_size(const cs_key_info *k, cs_sign_alg alg)
{
	if (alg == CS_SIGN_ECDSA)
		return 2 * k->size + 9;
	if (alg == CS_SIGN_ECDSA_RAW)
		return 2 * k->size;
	return k->size;
}

/* One signature or decryption: the mechanism and input as the token takes
 * them, and a result buffer sized for the key found. */
typedef struct key_job {
	CK_MECHANISM m;
	union {
		CK_RSA_PKCS_PSS_PARAMS pss;
		CK_RSA_PKCS_OAEP_PARAMS oaep;
	} params;
	unsigned char *di; /* DigestInfo made for RSA PKCS#1 signing (OpenSSL-allocated) */
	const unsigned char *in;
	CK_ULONG inlen;
	bool decrypt;
	unsigned char *res;
	size_t cap; /* bytes at res: sized for the key found, which a retry may change */
	CK_ULONG reslen;
} key_job;

static cs_rv pss_params(const cs_sign_mech *mech, const cs_key_info *key, size_t inlen, key_job *j,
			cs_err *err)
{
	const EVP_MD *md = EVP_get_digestbynid(mech->md);
	int hlen = md ? EVP_MD_get_size(md) : 0;
	int mgf_nid = mech->mgf1_md != NID_undef ? mech->mgf1_md : mech->md;
	long salt = mech->salt_len;
	size_t bits = key->size * 8; /* near enough: moduli are whole bytes */

	if (md == NULL || (size_t)hlen != inlen ||
	    !cs_p11_hash(mech->md, &j->params.pss.hashAlg, NULL) ||
	    !cs_p11_hash(mgf_nid, NULL, &j->params.pss.mgf))
		return cs_err_set(err, CS_ERR_USAGE, "RSA-PSS needs a SHA-1/SHA-2 digest as input");
	if (salt == -1)
		salt = hlen;
	else if (salt == -2)
		salt = (long)((bits - 1 + 7) / 8) - hlen - 2;
	if (salt < 0)
		return cs_err_set(err, CS_ERR_USAGE, "bad RSA-PSS salt length %d", mech->salt_len);
	j->params.pss.sLen = (CK_ULONG)salt;
	j->m.mechanism = CKM_RSA_PKCS_PSS;
	j->m.pParameter = &j->params.pss;
	j->m.ulParameterLen = sizeof(j->params.pss);
	return CS_OK;
}

/* Fills j's mechanism and input for mech over in. */
static cs_rv sign_mechanism(const cs_sign_mech *mech, const cs_key_info *key,
			    const unsigned char *in, size_t inlen, key_job *j, cs_err *err)
{
	size_t dilen = 0;
	cs_rv rv;

	j->in = in;
	j->inlen = inlen;
	switch (mech->alg) {
	case CS_SIGN_RSA_PKCS1:
		j->m.mechanism = CKM_RSA_PKCS;
		if (mech->md == NID_undef)
			return CS_OK;
		rv = digest_info(mech->md, in, inlen, &j->di, &dilen, err);
		j->in = j->di;
		j->inlen = dilen;
		return rv;
	case CS_SIGN_RSA_PSS:
		return pss_params(mech, key, inlen, j, err);
	case CS_SIGN_ECDSA:
	case CS_SIGN_ECDSA_RAW:
		j->m.mechanism = CKM_ECDSA;
		return CS_OK;
	default:
		return cs_err_set(err, CS_ERR_USAGE, "unknown signature mechanism %d",
				  (int)mech->alg);
	}
}

/* Makes room for the key found (a retry after a stale handle may find
 * another), then one init and call.  A decryption's result is secret, so an
 * outgrown buffer is wiped. */
static CK_RV run_once(cs_session *s, const cs_key_info *key, void *ctx)
{
	key_job *j = ctx;
	size_t need = j->decrypt ? key->size : 2 * key->size + 16;
	CK_FUNCTION_LIST *p11 = s->tok->p11;
	CK_RV crv;

	if (j->cap < need) {
		if (j->res != NULL)
			OPENSSL_clear_free(j->res, j->cap);
		j->res = malloc(need);
		j->cap = j->res != NULL ? need : 0;
		if (j->res == NULL)
			return CKR_HOST_MEMORY;
	}
	j->reslen = need;
	if (j->decrypt) {
		crv = p11->C_DecryptInit(s->h, &j->m, key->handle);
		if (crv == CKR_OK)
			crv = p11->C_Decrypt(s->h, (CK_BYTE *)j->in, j->inlen, j->res, &j->reslen);
	} else {
		crv = p11->C_SignInit(s->h, &j->m, key->handle);
		if (crv == CKR_OK)
			crv = p11->C_Sign(s->h, (CK_BYTE *)j->in, j->inlen, j->res, &j->reslen);
	}
	return crv;
}

cs_rv cs_key_sign(cs_token *tok, const char *uri, const cs_sign_mech *mech, const unsigned char *in,
		  size_t inlen, unsigned char *out, size_t *outlen, cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref = {0};
	cs_key_info key;
	key_job j = {0};
	bool rsa = mech->alg == CS_SIGN_RSA_PKCS1 || mech->alg == CS_SIGN_RSA_PSS;
	cs_rv rv;
	CK_RV crv = CKR_OK;

	rv = cs_key_open(tok, uri, false, &s, &ref, &key, err);
	if (rv != CS_OK)
		goto out;
	if (rsa != (key.type == CKK_RSA)) {
		rv = cs_err_set(err, CS_ERR_USAGE, "key %s is %s, it cannot make that signature",
				uri, key.type == CKK_RSA ? "RSA" : "EC");
		goto out;
	}
	if (out == NULL) {
		*outlen = sign_size(&key, mech->alg);
		goto out;
	}
	rv = sign_mechanism(mech, &key, in, inlen, &j, err);
	if (rv != CS_OK)
		goto out;
	rv = cs_key_run(&s, uri, &ref, &key, run_once, &j, &crv, err);
	if (rv == CS_OK && crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "signing with key %s", uri);
		if (cs_p11_session_dead(crv))
			cs_session_put(&s, true);
	}
	if (rv == CS_OK && mech->alg == CS_SIGN_ECDSA)
		rv = ecdsa_der(j.res, j.reslen, out, outlen, err);
	else if (rv == CS_OK)
		rv = give(j.res, j.reslen, out, outlen, err);
out:
	free(j.res);
	OPENSSL_free(j.di);
	cs_key_close(&s, &ref);
	return rv;
}

static cs_rv decrypt_mechanism(const cs_decrypt_mech *mech, key_job *j, cs_err *err)
{
	int md = mech->md != NID_undef ? mech->md : NID_sha1;
	int mgf = mech->mgf1_md != NID_undef ? mech->mgf1_md : md;

	j->m.mechanism = CKM_RSA_PKCS;
	if (mech->alg == CS_DECRYPT_RSA_PKCS1)
		return CS_OK;
	if (mech->alg != CS_DECRYPT_RSA_OAEP)
		return cs_err_set(err, CS_ERR_USAGE, "unknown decryption mechanism %d",
				  (int)mech->alg);
	if (!cs_p11_hash(md, &j->params.oaep.hashAlg, NULL) ||
	    !cs_p11_hash(mgf, NULL, &j->params.oaep.mgf))
		return cs_err_set(err, CS_ERR_USAGE, "OAEP needs SHA-1 or SHA-2");
	j->params.oaep.source = CKZ_DATA_SPECIFIED;
	j->params.oaep.pSourceData = (void *)mech->label;
	j->params.oaep.ulSourceDataLen = mech->label ? mech->label_len : 0;
	j->m.mechanism = CKM_RSA_PKCS_OAEP;
	j->m.pParameter = &j->params.oaep;
	j->m.ulParameterLen = sizeof(j->params.oaep);
	return CS_OK;
}

/* What a failed C_Decrypt means, in words. */
static cs_rv decrypt_error(cs_session *s, const char *uri, const cs_decrypt_mech *mech, CK_RV crv,
			   cs_err *err)
{
	cs_rv rv;

	switch (crv) {
	case CKR_ENCRYPTED_DATA_INVALID:
	case CKR_ENCRYPTED_DATA_LEN_RANGE:
	case CKR_GENERAL_ERROR: /* SoftHSM2's answer to bad padding */
		return cs_err_set(err, CS_ERR_BAD_INPUT, "decryption failed");
	case CKR_MECHANISM_PARAM_INVALID:
	case CKR_ARGUMENTS_BAD:
	case CKR_MECHANISM_INVALID:
		return cs_err_set(err, CS_ERR_TOKEN, "token '%s' cannot decrypt %s with %s%s",
				  s->tok->label,
				  mech->alg == CS_DECRYPT_RSA_OAEP ? "RSA-OAEP" : "RSA PKCS#1 v1.5",
				  mech->alg == CS_DECRYPT_RSA_OAEP ? "hash " : "these parameters",
				  mech->alg == CS_DECRYPT_RSA_OAEP
					  ? OBJ_nid2sn(mech->md != NID_undef ? mech->md : NID_sha1)
					  : "");
	default:
		rv = cs_p11_err(err, crv, "decrypting with key %s", uri);
		if (cs_p11_session_dead(crv))
			cs_session_put(s, true);
		return rv;
	}
}

cs_rv cs_key_decrypt(cs_token *tok, const char *uri, const cs_decrypt_mech *mech,
		     const unsigned char *in, size_t inlen, unsigned char *out, size_t *outlen,
		     cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref = {0};
	cs_key_info key;
	key_job j = {.in = in, .inlen = inlen, .decrypt = true};
	cs_rv rv;
	CK_RV crv = CKR_OK;

	rv = cs_key_open(tok, uri, false, &s, &ref, &key, err);
	if (rv != CS_OK)
		goto out;
	if (key.type != CKK_RSA) {
		rv = cs_err_set(err, CS_ERR_USAGE, "key %s is not an RSA key: it cannot decrypt",
				uri);
		goto out;
	}
	if (out == NULL) {
		*outlen = key.size;
		goto out;
	}
	rv = decrypt_mechanism(mech, &j, err);
	if (rv != CS_OK)
		goto out;
	rv = cs_key_run(&s, uri, &ref, &key, run_once, &j, &crv, err);
	if (rv == CS_OK)
		rv = crv == CKR_OK ? give(j.res, j.reslen, out, outlen, err)
				   : decrypt_error(&s, uri, mech, crv, err);
out:
	if (j.res != NULL)
		OPENSSL_clear_free(j.res, j.cap);
	cs_key_close(&s, &ref);
	return rv;
}

/* ---- export --------------------------------------------------------------- */

/* RFC 5649 unwrap in software. */
static cs_rv unwrap(const unsigned char kek[32], const unsigned char *in, size_t inlen,
		    unsigned char **out, size_t *outlen, cs_err *err)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char *buf = malloc(inlen + 16);
	int n = 0, m = 0;
	cs_rv rv = CS_OK;

	*out = NULL;
	if (ctx == NULL || buf == NULL) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (!EVP_DecryptInit_ex(ctx, EVP_aes_256_wrap_pad(), NULL, kek, NULL) ||
	    !EVP_DecryptUpdate(ctx, buf, &n, in, (int)inlen) ||
	    !EVP_DecryptFinal_ex(ctx, buf + n, &m)) {
		rv = cs_err_set(err, CS_ERR_TOKEN, "the token's wrapped key does not unwrap");
		cs_err_add_openssl(err);
		goto out;
	}
	*out = buf;
	*outlen = (size_t)(n + m);
	buf = NULL;
out:
	if (buf != NULL)
		OPENSSL_clear_free(buf, inlen + 16);
	EVP_CIPHER_CTX_free(ctx);
	return rv;
}

/* A session key made from our own random bytes kek: unwrapping in software
 * needs its value. */
static cs_rv make_wrapping_key(cs_session *s, unsigned char kek[32], CK_OBJECT_HANDLE *wk,
			       cs_err *err)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &no, sizeof(no)},	{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_WRAP, &yes, sizeof(yes)},	{CKA_VALUE, kek, 32},
	};
	CK_RV crv;

	if (RAND_priv_bytes(kek, 32) != 1)
		return cs_err_set(err, CS_ERR_INTERNAL, "no random bytes for the wrapping key");
	crv = s->tok->p11->C_CreateObject(s->h, t, sizeof(t) / sizeof(t[0]), wk);
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "making a wrapping key in token '%s'", s->tok->label);
	return CS_OK;
}

/* The private key wrapped with wk (malloc'd); a key the token will not
 * release is CS_ERR_REFUSED. */
static cs_rv wrap_private(cs_session *s, const char *uri, CK_OBJECT_HANDLE wk, CK_OBJECT_HANDLE key,
			  unsigned char **wrapped, CK_ULONG *wlen, cs_err *err)
{
	CK_MECHANISM m = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
	CK_FUNCTION_LIST *p11 = s->tok->p11;
	CK_RV crv;

	*wrapped = NULL;
	crv = p11->C_WrapKey(s->h, &m, wk, key, NULL, wlen);
	if (crv == CKR_OK && (*wrapped = malloc(*wlen)) != NULL)
		crv = p11->C_WrapKey(s->h, &m, wk, key, *wrapped, wlen);
	if (crv == CKR_KEY_UNEXTRACTABLE || crv == CKR_KEY_NOT_WRAPPABLE)
		return cs_err_set(
			err, CS_ERR_REFUSED,
			"the private key %s is not exportable (token '%s' refuses to release it)",
			uri, s->tok->label);
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "wrapping key %s", uri);
	if (*wrapped == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	return CS_OK;
}

cs_rv cs_key_export(cs_token *tok, const char *uri, EVP_PKEY **priv_out, cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref = {0};
	cs_key_info key;
	unsigned char kek[32];
	CK_OBJECT_HANDLE wk = CK_INVALID_HANDLE;
	unsigned char *wrapped = NULL, *plain = NULL;
	CK_ULONG wlen = 0;
	size_t plen = 0;
	const unsigned char *p;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	cs_rv rv;

	*priv_out = NULL;
	rv = cs_key_open(tok, uri, true, &s, &ref, &key, err);
	if (rv == CS_OK)
		rv = make_wrapping_key(&s, kek, &wk, err);
	if (rv == CS_OK)
		rv = wrap_private(&s, uri, wk, key.handle, &wrapped, &wlen, err);
	if (rv == CS_OK)
		rv = unwrap(kek, wrapped, wlen, &plain, &plen, err);
	if (rv != CS_OK)
		goto out;
	p = plain;
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)plen);
	*priv_out = p8 ? EVP_PKCS82PKEY(p8) : NULL;
	if (*priv_out == NULL) {
		rv = cs_err_set(err, CS_ERR_TOKEN,
				"the token exported key %s in a form not understood", uri);
		cs_err_add_openssl(err);
	}
out:
	if (wk != CK_INVALID_HANDLE)
		tok->p11->C_DestroyObject(s.h, wk);
	OPENSSL_cleanse(kek, sizeof(kek));
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (plain != NULL)
		OPENSSL_clear_free(plain, plen);
	free(wrapped);
	cs_key_close(&s, &ref);
	return rv;
}
