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

static bool handle_stale(CK_RV crv)
{
	return crv == CKR_KEY_HANDLE_INVALID || crv == CKR_OBJECT_HANDLE_INVALID;
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

cs_rv cs_key_sign(cs_token *tok, const char *uri, const cs_sign_mech *mech, const unsigned char *in,
		  size_t inlen, unsigned char *out, size_t *outlen, cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref;
	cs_key_info key;
	CK_MECHANISM m = {0};
	CK_RSA_PKCS_PSS_PARAMS pss;
	unsigned char *di = NULL, *sig = NULL;
	size_t dilen = 0;
	const unsigned char *data = in;
	CK_ULONG datalen = inlen, siglen = 0;
	bool rsa = mech->alg == CS_SIGN_RSA_PKCS1 || mech->alg == CS_SIGN_RSA_PSS;
	cs_rv rv;
	CK_RV crv = CKR_OK;

	rv = cs_key_ref_parse(tok, uri, &ref, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_session_get(tok, &s, err);
	if (rv == CS_OK)
		rv = cs_find_private(&s, uri, &ref, false, &key, err);
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
	switch (mech->alg) {
	case CS_SIGN_RSA_PKCS1:
		m.mechanism = CKM_RSA_PKCS;
		if (mech->md != NID_undef) {
			rv = digest_info(mech->md, in, inlen, &di, &dilen, err);
			if (rv != CS_OK)
				goto out;
			data = di;
			datalen = dilen;
		}
		break;
	case CS_SIGN_RSA_PSS: {
		const EVP_MD *md = EVP_get_digestbynid(mech->md);
		int hlen = md ? EVP_MD_get_size(md) : 0;
		int mgf_nid = mech->mgf1_md != NID_undef ? mech->mgf1_md : mech->md;
		long salt = mech->salt_len;
		size_t bits = key.size * 8; /* near enough: moduli are whole bytes */

		if (md == NULL || (size_t)hlen != inlen ||
		    !cs_p11_hash(mech->md, &pss.hashAlg, NULL) ||
		    !cs_p11_hash(mgf_nid, NULL, &pss.mgf)) {
			rv = cs_err_set(err, CS_ERR_USAGE,
					"RSA-PSS needs a SHA-1/SHA-2 digest as input");
			goto out;
		}
		if (salt == -1)
			salt = hlen;
		else if (salt == -2)
			salt = (long)((bits - 1 + 7) / 8) - hlen - 2;
		if (salt < 0) {
			rv = cs_err_set(err, CS_ERR_USAGE, "bad RSA-PSS salt length %d",
					mech->salt_len);
			goto out;
		}
		pss.sLen = (CK_ULONG)salt;
		m.mechanism = CKM_RSA_PKCS_PSS;
		m.pParameter = &pss;
		m.ulParameterLen = sizeof(pss);
		break;
	}
	case CS_SIGN_ECDSA:
	case CS_SIGN_ECDSA_RAW:
		m.mechanism = CKM_ECDSA;
		break;
	default:
		rv =
		    cs_err_set(err, CS_ERR_USAGE, "unknown signature mechanism %d", (int)mech->alg);
		goto out;
	}
	siglen = 2 * key.size + 16;
	sig = malloc(siglen);
	if (sig == NULL) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		crv = tok->p11->C_SignInit(s.h, &m, key.handle);
		if (crv == CKR_OK) {
			siglen = 2 * key.size + 16;
			crv = tok->p11->C_Sign(s.h, (CK_BYTE *)data, datalen, sig, &siglen);
		}
		if (!handle_stale(crv) || attempt > 0)
			break;
		/* The object was re-created (or the cache outlived it): look again. */
		cs_cache_clear(tok);
		rv = cs_find_private(&s, uri, &ref, true, &key, err);
		if (rv != CS_OK)
			goto out;
	}
	if (crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "signing with key %s", uri);
		if (cs_p11_session_dead(crv)) {
			cs_session_put(&s, true);
		}
		goto out;
	}
	if (mech->alg == CS_SIGN_ECDSA)
		rv = ecdsa_der(sig, siglen, out, outlen, err);
	else
		rv = give(sig, siglen, out, outlen, err);
out:
	free(sig);
	OPENSSL_free(di);
	cs_session_put(&s, false);
	cs_key_ref_clear(&ref);
	return rv;
}

cs_rv cs_key_decrypt(cs_token *tok, const char *uri, const cs_decrypt_mech *mech,
		     const unsigned char *in, size_t inlen, unsigned char *out, size_t *outlen,
		     cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref;
	cs_key_info key;
	CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
	CK_RSA_PKCS_OAEP_PARAMS oaep;
	unsigned char *res = NULL;
	CK_ULONG reslen = 0;
	cs_rv rv;
	CK_RV crv = CKR_OK;

	rv = cs_key_ref_parse(tok, uri, &ref, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_session_get(tok, &s, err);
	if (rv == CS_OK)
		rv = cs_find_private(&s, uri, &ref, false, &key, err);
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
	if (mech->alg == CS_DECRYPT_RSA_OAEP) {
		int md = mech->md != NID_undef ? mech->md : NID_sha1;
		int mgf = mech->mgf1_md != NID_undef ? mech->mgf1_md : md;

		if (!cs_p11_hash(md, &oaep.hashAlg, NULL) || !cs_p11_hash(mgf, NULL, &oaep.mgf)) {
			rv = cs_err_set(err, CS_ERR_USAGE, "OAEP needs SHA-1 or SHA-2");
			goto out;
		}
		oaep.source = CKZ_DATA_SPECIFIED;
		oaep.pSourceData = (void *)mech->label;
		oaep.ulSourceDataLen = mech->label ? mech->label_len : 0;
		m.mechanism = CKM_RSA_PKCS_OAEP;
		m.pParameter = &oaep;
		m.ulParameterLen = sizeof(oaep);
	} else if (mech->alg != CS_DECRYPT_RSA_PKCS1) {
		rv = cs_err_set(err, CS_ERR_USAGE, "unknown decryption mechanism %d",
				(int)mech->alg);
		goto out;
	}
	res = malloc(key.size);
	if (res == NULL) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		crv = tok->p11->C_DecryptInit(s.h, &m, key.handle);
		if (crv == CKR_OK) {
			reslen = key.size;
			crv = tok->p11->C_Decrypt(s.h, (CK_BYTE *)in, inlen, res, &reslen);
		}
		if (!handle_stale(crv) || attempt > 0)
			break;
		cs_cache_clear(tok);
		rv = cs_find_private(&s, uri, &ref, true, &key, err);
		if (rv != CS_OK)
			goto out;
	}
	switch (crv) {
	case CKR_OK:
		rv = give(res, reslen, out, outlen, err);
		break;
	case CKR_ENCRYPTED_DATA_INVALID:
	case CKR_ENCRYPTED_DATA_LEN_RANGE:
	case CKR_GENERAL_ERROR: /* SoftHSM2's answer to bad padding */
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "decryption failed");
		break;
	case CKR_MECHANISM_PARAM_INVALID:
	case CKR_ARGUMENTS_BAD:
	case CKR_MECHANISM_INVALID:
		rv = cs_err_set(err, CS_ERR_TOKEN, "token '%s' cannot decrypt %s with %s%s",
				tok->label,
				mech->alg == CS_DECRYPT_RSA_OAEP ? "RSA-OAEP" : "RSA PKCS#1 v1.5",
				mech->alg == CS_DECRYPT_RSA_OAEP ? "hash " : "these parameters",
				mech->alg == CS_DECRYPT_RSA_OAEP
				    ? OBJ_nid2sn(mech->md != NID_undef ? mech->md : NID_sha1)
				    : "");
		break;
	default:
		rv = cs_p11_err(err, crv, "decrypting with key %s", uri);
		if (cs_p11_session_dead(crv))
			cs_session_put(&s, true);
	}
out:
	if (res != NULL)
		OPENSSL_clear_free(res, key.size);
	cs_session_put(&s, false);
	cs_key_ref_clear(&ref);
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

cs_rv cs_key_export(cs_token *tok, const char *uri, EVP_PKEY **priv_out, cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref;
	cs_key_info key;
	unsigned char kek[32];
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	/* A key we made from our own random bytes: unwrapping needs its value. */
	CK_ATTRIBUTE t[] = {
	    {CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
	    {CKA_TOKEN, &no, sizeof(no)},   {CKA_PRIVATE, &yes, sizeof(yes)},
	    {CKA_WRAP, &yes, sizeof(yes)},  {CKA_VALUE, kek, sizeof(kek)},
	};
	CK_MECHANISM m = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
	CK_OBJECT_HANDLE wk = CK_INVALID_HANDLE;
	unsigned char *wrapped = NULL, *plain = NULL;
	CK_ULONG wlen = 0;
	size_t plen = 0;
	const unsigned char *p;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	cs_rv rv;
	CK_RV crv;

	*priv_out = NULL;
	rv = cs_key_ref_parse(tok, uri, &ref, err);
	if (rv != CS_OK)
		return rv;
	if (RAND_priv_bytes(kek, sizeof(kek)) != 1) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "no random bytes for the wrapping key");
		goto out;
	}
	rv = cs_session_get(tok, &s, err);
	if (rv == CS_OK)
		rv = cs_find_private(&s, uri, &ref, true, &key, err);
	if (rv != CS_OK)
		goto out;
	crv = tok->p11->C_CreateObject(s.h, t, sizeof(t) / sizeof(t[0]), &wk);
	if (crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "making a wrapping key in token '%s'", tok->label);
		goto out;
	}
	crv = tok->p11->C_WrapKey(s.h, &m, wk, key.handle, NULL, &wlen);
	if (crv == CKR_OK && (wrapped = malloc(wlen)) != NULL)
		crv = tok->p11->C_WrapKey(s.h, &m, wk, key.handle, wrapped, &wlen);
	if (crv == CKR_KEY_UNEXTRACTABLE || crv == CKR_KEY_NOT_WRAPPABLE) {
		rv = cs_err_set(
		    err, CS_ERR_REFUSED,
		    "the private key %s is not exportable (token '%s' refuses to release it)", uri,
		    tok->label);
		goto out;
	}
	if (crv != CKR_OK || wrapped == NULL) {
		rv = wrapped == NULL && crv == CKR_OK
			 ? cs_err_set(err, CS_ERR_INTERNAL, "out of memory")
			 : cs_p11_err(err, crv, "wrapping key %s", uri);
		goto out;
	}
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
	cs_session_put(&s, false);
	cs_key_ref_clear(&ref);
	return rv;
}
