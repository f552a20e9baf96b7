/*
 * keys.c - the life of a key in the token: generate, import, look up,
 * check, delete, export.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "keys_internal.h"

static CK_BBOOL ck_true = CK_TRUE, ck_false = CK_FALSE;

#define ATTR(t, v) ((CK_ATTRIBUTE){(t), (void *)&(v), sizeof(v)})
#define ATTR_BUF(t, p, n) ((CK_ATTRIBUTE){(t), (void *)(p), (n)})

/* Sets CKA_ID on the new pair from its public key.  The id is only known
 * once the token has made the key, hence after the fact. */
static cs_rv set_ids(cs_session *s, CK_KEY_TYPE kt, CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv,
		     unsigned char id[20], EVP_PKEY **pub_out, cs_err *err)
{
	CK_ATTRIBUTE a = ATTR_BUF(CKA_ID, id, 20);
	EVP_PKEY *pk = NULL;
	cs_rv rv;
	CK_RV crv;

	rv = cs_public_of_object(s, pub, kt, &pk, err);
	if (rv == CS_OK && pk == NULL)
		rv = cs_err_set(err, CS_ERR_TOKEN, "token '%s' made a key without a public key",
				s->tok->label);
	if (rv == CS_OK)
		rv = cs_key_id_from_public(pk, id, err);
	if (rv != CS_OK)
		goto out;
	crv = s->tok->p11->C_SetAttributeValue(s->h, priv, &a, 1);
	if (crv == CKR_OK)
		crv = s->tok->p11->C_SetAttributeValue(s->h, pub, &a, 1);
	if (crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "setting CKA_ID on a new key");
		goto out;
	}
	if (pub_out != NULL) {
		*pub_out = pk;
		pk = NULL;
	}
out:
	EVP_PKEY_free(pk);
	return rv;
}

cs_rv cs_key_generate(cs_token *tok, const cs_key_spec *spec, const char *label, bool exportable,
		      char **uri_out, EVP_PKEY **pub_out, cs_err *err)
{
	cs_session s = {.write = true}; /* a new key pair: object files */
	CK_BBOOL extractable = exportable ? CK_TRUE : CK_FALSE;
	CK_ULONG bits = spec->bits;
	CK_BYTE e65537[] = {0x01, 0x00, 0x01};
	unsigned char *ecp = NULL;
	size_t ecp_len = 0;
	const char *lbl = label ? label : "";
	CK_ATTRIBUTE pubt[12], privt[14];
	CK_ULONG npub = 0, npriv = 0;
	CK_MECHANISM mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
	unsigned char id[20];
	cs_rv rv;
	CK_RV crv;

	if (uri_out != NULL)
		*uri_out = NULL;
	if (pub_out != NULL)
		*pub_out = NULL;
	pubt[npub++] = ATTR(CKA_TOKEN, ck_true);
	pubt[npub++] = ATTR(CKA_PRIVATE, ck_false);
	pubt[npub++] = ATTR(CKA_VERIFY, ck_true);
	pubt[npub++] = ATTR_BUF(CKA_LABEL, lbl, strlen(lbl));
	pubt[npub++] = ATTR(CKA_WRAP, ck_false);
	/* SoftHSM2 defaults unwrap/wrap (and derive) to true: a key does only
	 * what we name. */
	privt[npriv++] = ATTR(CKA_UNWRAP, ck_false);
	privt[npriv++] = ATTR(CKA_TOKEN, ck_true);
	privt[npriv++] = ATTR(CKA_PRIVATE, ck_true);
	privt[npriv++] = ATTR(CKA_SENSITIVE, ck_true);
	privt[npriv++] = ATTR(CKA_EXTRACTABLE, extractable);
	privt[npriv++] = ATTR(CKA_SIGN, ck_true);
	privt[npriv++] = ATTR_BUF(CKA_LABEL, lbl, strlen(lbl));
	if (spec->type == CS_KEY_RSA) {
		pubt[npub++] = ATTR(CKA_MODULUS_BITS, bits);
		pubt[npub++] = ATTR_BUF(CKA_PUBLIC_EXPONENT, e65537, sizeof(e65537));
		pubt[npub++] = ATTR(CKA_ENCRYPT, ck_true);
		privt[npriv++] = ATTR(CKA_DECRYPT, ck_true);
	} else {
		rv = cs_ec_params_der(spec->curve_nid, &ecp, &ecp_len, err);
		if (rv != CS_OK)
			return rv;
		pubt[npub++] = ATTR_BUF(CKA_EC_PARAMS, ecp, ecp_len);
		/* SoftHSM2 would default CKA_DECRYPT to true even for EC. */
		privt[npriv++] = ATTR(CKA_DECRYPT, ck_false);
		privt[npriv++] = ATTR(CKA_DERIVE, ck_false);
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
	}
	rv = cs_session_get(tok, &s, err);
	if (rv != CS_OK)
		goto out;
	crv = tok->p11->C_GenerateKeyPair(s.h, &mech, pubt, npub, privt, npriv, &hpub, &hpriv);
	if (crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "generating a %s key in token '%s'",
				cs_key_spec_name(spec), tok->label);
		goto out;
	}
	rv = set_ids(&s, spec->type == CS_KEY_RSA ? CKK_RSA : CKK_EC, hpub, hpriv, id, pub_out,
		     err);
	if (rv == CS_OK && uri_out != NULL)
		rv = cs_key_uri_make(tok, id, sizeof(id), uri_out, err);
	if (rv != CS_OK) {
		tok->p11->C_DestroyObject(s.h, hpriv);
		tok->p11->C_DestroyObject(s.h, hpub);
		if (pub_out != NULL) {
			EVP_PKEY_free(*pub_out);
			*pub_out = NULL;
		}
	}
out:
	cs_session_put(&s, false);
	OPENSSL_free(ecp);
	return rv;
}

/* ---- import ---------------------------------------------------------------- */

/* A big-endian unsigned parameter of pkey in a fresh buffer (padded to pad
 * bytes when pad > 0).  Missing: *out NULL. */
static void get_bn(EVP_PKEY *pkey, const char *name, size_t pad, unsigned char **out, size_t *len)
{
	BIGNUM *bn = NULL;
	size_t n;

	*out = NULL;
	*len = 0;
	if (!EVP_PKEY_get_bn_param(pkey, name, &bn)) {
		ERR_clear_error();
		return;
	}
	n = pad > 0 ? pad : (size_t)BN_num_bytes(bn);
	*out = malloc(n ? n : 1);
	if (*out != NULL && BN_bn2binpad(bn, *out, (int)n) >= 0)
		*len = n;
	BN_clear_free(bn);
}

enum { RSA_N, RSA_E, RSA_D, RSA_P, RSA_Q, RSA_DP, RSA_DQ, RSA_QI, EC_D, NPARTS };

typedef struct {
	unsigned char *v[NPARTS];
	size_t len[NPARTS];
	unsigned char *ec_params;
	size_t ec_params_len;
	unsigned char *ec_point; /* DER OCTET STRING */
	size_t ec_point_len;
} key_parts;

static void parts_clear(key_parts *k)
{
	for (int i = 0; i < NPARTS; i++) {
		if (k->v[i] != NULL)
			OPENSSL_clear_free(k->v[i], k->len[i]);
	}
	OPENSSL_free(k->ec_params);
	OPENSSL_free(k->ec_point);
}

static cs_rv ec_parts(EVP_PKEY *priv, key_parts *k, cs_err *err)
{
	char group[80];
	int nid;
	EC_GROUP *g = NULL;
	EC_POINT *pt = NULL;
	unsigned char buf[256], *p = NULL;
	size_t blen = 0;
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	cs_rv rv = CS_OK;
	int n;

	if (!EVP_PKEY_get_utf8_string_param(priv, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    NULL) ||
	    (nid = OBJ_txt2nid(group)) == NID_undef ||
	    (g = EC_GROUP_new_by_curve_name(nid)) == NULL) {
		rv = cs_err_set(err, CS_ERR_TOKEN,
				"the EC key is on a curve the token cannot name");
		goto out;
	}
	rv = cs_ec_params_der(nid, &k->ec_params, &k->ec_params_len, err);
	if (rv != CS_OK)
		goto out;
	get_bn(priv, OSSL_PKEY_PARAM_PRIV_KEY, (size_t)(EC_GROUP_get_degree(g) + 7) / 8,
	       &k->v[EC_D], &k->len[EC_D]);
	/* The token wants the uncompressed point, whatever form the key uses. */
	if (!EVP_PKEY_get_octet_string_param(priv, OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof(buf),
					     &blen) ||
	    (pt = EC_POINT_new(g)) == NULL || !EC_POINT_oct2point(g, pt, buf, blen, NULL) ||
	    (blen = EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, buf, sizeof(buf),
				       NULL)) == 0 ||
	    os == NULL || !ASN1_OCTET_STRING_set(os, buf, (int)blen) ||
	    (n = i2d_ASN1_OCTET_STRING(os, &p)) <= 0 || k->v[EC_D] == NULL) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "the EC private key is incomplete");
		goto out;
	}
	k->ec_point = p;
	k->ec_point_len = (size_t)n;
out:
	ERR_clear_error();
	ASN1_OCTET_STRING_free(os);
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	return rv;
}

/* Does the token do mech for keys of this many bits? */
static cs_rv token_can(cs_token *tok, CK_MECHANISM_TYPE mech, const char *what, unsigned bits,
		       cs_err *err)
{
	CK_MECHANISM_INFO mi;
	CK_RV crv = tok->p11->C_GetMechanismInfo(tok->slot, mech, &mi);

	if (crv == CKR_MECHANISM_INVALID)
		return cs_err_set(err, CS_ERR_TOKEN, "token '%s' cannot hold %s keys", tok->label,
				  what);
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "asking token '%s' about %s keys", tok->label, what);
	if (bits > 0 && mi.ulMaxKeySize > 0 && (bits < mi.ulMinKeySize || bits > mi.ulMaxKeySize))
		return cs_err_set(err, CS_ERR_TOKEN,
				  "token '%s' cannot hold a %u-bit %s key (it takes %lu to %lu)",
				  tok->label, bits, what, (unsigned long)mi.ulMinKeySize,
				  (unsigned long)mi.ulMaxKeySize);
	return CS_OK;
}

cs_rv cs_key_import(cs_token *tok, EVP_PKEY *priv, const char *label, bool exportable,
		    char **uri_out, cs_err *err)
{
	cs_session s = {.write = true};
	key_parts k = {0};
	EVP_PKEY *pub = NULL;
	unsigned char id[20];
	const char *lbl = label ? label : "";
	CK_BBOOL extractable = exportable ? CK_TRUE : CK_FALSE;
	CK_OBJECT_CLASS c_priv = CKO_PRIVATE_KEY, c_pub = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt;
	CK_ATTRIBUTE pt[24], ut[12];
	CK_ULONG np = 0, nu = 0;
	CK_OBJECT_HANDLE hpriv = CK_INVALID_HANDLE, hpub = CK_INVALID_HANDLE;
	cs_key_ref ref = {0};
	int base = EVP_PKEY_get_base_id(priv);
	cs_rv rv;
	CK_RV crv;

	*uri_out = NULL;
	if (base == EVP_PKEY_RSA || base == EVP_PKEY_RSA_PSS) {
		static const char *names[] = {
			OSSL_PKEY_PARAM_RSA_N,	       OSSL_PKEY_PARAM_RSA_E,
			OSSL_PKEY_PARAM_RSA_D,	       OSSL_PKEY_PARAM_RSA_FACTOR1,
			OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
			OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};

		kt = CKK_RSA;
		rv = token_can(tok, CKM_RSA_PKCS, "RSA", (unsigned)EVP_PKEY_get_bits(priv), err);
		if (rv != CS_OK)
			goto out;
		for (int i = RSA_N; i <= RSA_QI; i++)
			get_bn(priv, names[i], 0, &k.v[i], &k.len[i]);
		if (k.v[RSA_N] == NULL || k.v[RSA_E] == NULL || k.v[RSA_D] == NULL) {
			rv = cs_err_set(err, CS_ERR_BAD_INPUT, "the RSA private key is incomplete");
			goto out;
		}
	} else if (base == EVP_PKEY_EC) {
		kt = CKK_EC;
		rv = token_can(tok, CKM_ECDSA, "EC", (unsigned)EVP_PKEY_get_bits(priv), err);
		if (rv == CS_OK)
			rv = ec_parts(priv, &k, err);
		if (rv != CS_OK)
			goto out;
	} else {
		rv = cs_err_set(
			err, CS_ERR_TOKEN,
			"certstore keeps only RSA and EC keys in the token; this is a%s %s key",
			base == EVP_PKEY_ED25519 || base == EVP_PKEY_ED448 ? "n" : "",
			EVP_PKEY_get0_type_name(priv) ? EVP_PKEY_get0_type_name(priv) : "unknown");
		goto out;
	}

	/* The id comes from the public half, exactly as for generated keys. */
	{
		unsigned char *der = NULL;
		const unsigned char *p;
		int n = i2d_PUBKEY(priv, &der);

		p = der;
		pub = n > 0 ? d2i_PUBKEY(NULL, &p, n) : NULL;
		OPENSSL_free(der);
	}
	if (pub == NULL) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "cannot read the public half of the key");
		goto out;
	}
	rv = cs_key_id_from_public(pub, id, err);
	if (rv != CS_OK)
		goto out;

	rv = cs_session_get(tok, &s, err);
	if (rv != CS_OK)
		goto out;
	memcpy(ref.id, id, sizeof(id));
	ref.id_len = sizeof(id);
	if (cs_find_object(&s, CKO_PRIVATE_KEY, &ref, "", &hpriv, NULL) == CS_OK) {
		hpriv = CK_INVALID_HANDLE;
		rv = cs_key_uri_make(tok, id, sizeof(id), uri_out, err);
		if (rv == CS_OK)
			rv = cs_err_set(err, CS_ERR_DUPLICATE, "token '%s' already holds this key",
					tok->label);
		goto out;
	}

	pt[np++] = ATTR(CKA_CLASS, c_priv);
	pt[np++] = ATTR(CKA_KEY_TYPE, kt);
	pt[np++] = ATTR(CKA_TOKEN, ck_true);
	pt[np++] = ATTR(CKA_PRIVATE, ck_true);
	pt[np++] = ATTR(CKA_SENSITIVE, ck_true);
	pt[np++] = ATTR(CKA_EXTRACTABLE, extractable);
	pt[np++] = ATTR(CKA_SIGN, ck_true);
	pt[np++] = ATTR_BUF(CKA_LABEL, lbl, strlen(lbl));
	pt[np++] = ATTR_BUF(CKA_ID, id, sizeof(id));
	pt[np++] = ATTR(CKA_UNWRAP, ck_false);
	ut[nu++] = ATTR(CKA_WRAP, ck_false);
	ut[nu++] = ATTR(CKA_CLASS, c_pub);
	ut[nu++] = ATTR(CKA_KEY_TYPE, kt);
	ut[nu++] = ATTR(CKA_TOKEN, ck_true);
	ut[nu++] = ATTR(CKA_PRIVATE, ck_false);
	ut[nu++] = ATTR(CKA_VERIFY, ck_true);
	ut[nu++] = ATTR_BUF(CKA_LABEL, lbl, strlen(lbl));
	ut[nu++] = ATTR_BUF(CKA_ID, id, sizeof(id));
	if (kt == CKK_RSA) {
		static const CK_ATTRIBUTE_TYPE types[] = {
			CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
			CKA_PRIME_2, CKA_EXPONENT_1,	  CKA_EXPONENT_2,	CKA_COEFFICIENT};

		pt[np++] = ATTR(CKA_DECRYPT, ck_true);
		for (int i = RSA_N; i <= RSA_QI; i++)
			if (k.v[i] != NULL)
				pt[np++] = ATTR_BUF(types[i], k.v[i], k.len[i]);
		ut[nu++] = ATTR(CKA_ENCRYPT, ck_true);
		ut[nu++] = ATTR_BUF(CKA_MODULUS, k.v[RSA_N], k.len[RSA_N]);
		ut[nu++] = ATTR_BUF(CKA_PUBLIC_EXPONENT, k.v[RSA_E], k.len[RSA_E]);
	} else {
		pt[np++] = ATTR(CKA_DECRYPT, ck_false);
		pt[np++] = ATTR(CKA_DERIVE, ck_false);
		pt[np++] = ATTR_BUF(CKA_EC_PARAMS, k.ec_params, k.ec_params_len);
		pt[np++] = ATTR_BUF(CKA_VALUE, k.v[EC_D], k.len[EC_D]);
		ut[nu++] = ATTR_BUF(CKA_EC_PARAMS, k.ec_params, k.ec_params_len);
		ut[nu++] = ATTR_BUF(CKA_EC_POINT, k.ec_point, k.ec_point_len);
	}
	crv = tok->p11->C_CreateObject(s.h, pt, np, &hpriv);
	if (crv == CKR_OK)
		crv = tok->p11->C_CreateObject(s.h, ut, nu, &hpub);
	if (crv == CKR_CURVE_NOT_SUPPORTED || crv == CKR_ATTRIBUTE_VALUE_INVALID ||
	    crv == CKR_TEMPLATE_INCONSISTENT || crv == CKR_DOMAIN_PARAMS_INVALID) {
		rv = cs_p11_err(err, crv, "token '%s' cannot hold this %s key", tok->label,
				kt == CKK_RSA ? "RSA" : "EC");
		goto out;
	}
	if (crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "putting the key into token '%s'", tok->label);
		goto out;
	}
	rv = cs_key_uri_make(tok, id, sizeof(id), uri_out, err);
out:
	if (rv != CS_OK && rv != CS_ERR_DUPLICATE) {
		/* No orphans: whatever was created goes. */
		if (hpriv != CK_INVALID_HANDLE)
			tok->p11->C_DestroyObject(s.h, hpriv);
		if (hpub != CK_INVALID_HANDLE)
			tok->p11->C_DestroyObject(s.h, hpub);
		free(*uri_out);
		*uri_out = NULL;
	}
	cs_session_put(&s, false);
	parts_clear(&k);
	EVP_PKEY_free(pub);
	return rv;
}

/* ---- looking keys up ------------------------------------------------------ */

cs_rv cs_key_public(cs_token *tok, const char *uri, EVP_PKEY **out, cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref = {0};
	cs_key_info key;
	cs_rv rv;

	*out = NULL;
	rv = cs_key_open(tok, uri, true, &s, &ref, &key, err);
	if (rv == CS_OK)
		rv = cs_public_from_objects(&s, key.handle, out, err);
	cs_key_close(&s, &ref);
	return rv;
}

/* Is priv's public key pub?  (false when it cannot be told) */
static bool same_public(cs_session *s, CK_OBJECT_HANDLE priv, EVP_PKEY *pub)
{
	EVP_PKEY *pk = NULL;
	bool same;

	if (cs_public_from_objects(s, priv, &pk, NULL) != CS_OK)
		return false;
	same = EVP_PKEY_eq(pk, pub) == 1;
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return same;
}

cs_rv cs_key_find_by_public(cs_token *tok, EVP_PKEY *pub, char **uri_out, cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref = {0};
	CK_OBJECT_HANDLE h, batch[32];
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl = ATTR(CKA_CLASS, cls);
	CK_ULONG n;
	unsigned char id[20], *oid = NULL;
	size_t oid_len = 0;
	bool found = false;
	cs_rv rv;
	CK_RV crv;

	*uri_out = NULL;
	rv = cs_key_id_from_public(pub, id, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_session_get(tok, &s, err);
	if (rv != CS_OK)
		return rv;
	memcpy(ref.id, id, sizeof(id));
	ref.id_len = sizeof(id);
	if (cs_find_object(&s, CKO_PRIVATE_KEY, &ref, "", &h, NULL) == CS_OK &&
	    same_public(&s, h, pub)) {
		rv = cs_key_uri_make(tok, id, sizeof(id), uri_out, err);
		goto out;
	}
	/* Keys made by other tools carry other ids: compare every key. */
	crv = tok->p11->C_FindObjectsInit(s.h, &tmpl, 1);
	while (crv == CKR_OK && !found &&
	       (crv = tok->p11->C_FindObjects(s.h, batch, 32, &n)) == CKR_OK && n > 0) {
		for (CK_ULONG i = 0; i < n && !found; i++) {
			if (!same_public(&s, batch[i], pub))
				continue;
			/* Nested calls inside a search are allowed for attribute reads. */
			rv = cs_get_attr(&s, batch[i], CKA_ID, &oid, &oid_len, NULL, err);
			found = rv == CS_OK && oid != NULL && oid_len > 0;
			if (!found) {
				free(oid);
				oid = NULL;
			}
		}
	}
	tok->p11->C_FindObjectsFinal(s.h);
	if (crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "searching token '%s'", tok->label);
		goto out;
	}
	if (!found) {
		rv = cs_err_set(err, CS_ERR_NOT_FOUND,
				"token '%s' holds no private key for this public key", tok->label);
		goto out;
	}
	rv = cs_key_uri_make(tok, oid, oid_len, uri_out, err);
out:
	free(oid);
	cs_session_put(&s, false);
	return rv;
}

cs_rv cs_key_check(cs_token *tok, const char *uri, EVP_PKEY *cert_pub, cs_status *status_out,
		   cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref = {0};
	cs_key_info key;
	EVP_PKEY *pk = NULL;
	cs_rv rv;

	*status_out = CS_STATUS_MISSING_KEY;
	if (uri == NULL)
		return CS_OK;
	rv = cs_key_open(tok, uri, true, &s, &ref, &key, err);
	if (rv == CS_ERR_NOT_FOUND) {
		rv = CS_OK; /* not in this token (or on another one): missing here */
		goto out;
	}
	if (rv == CS_OK)
		rv = cs_public_from_objects(&s, key.handle, &pk, err);
	if (rv != CS_OK)
		goto out;
	*status_out = EVP_PKEY_eq(pk, cert_pub) == 1 ? CS_STATUS_VALID : CS_STATUS_KEY_MISMATCH;
	ERR_clear_error();
out:
	EVP_PKEY_free(pk);
	cs_key_close(&s, &ref);
	return rv;
}

cs_rv cs_key_is_exportable(cs_token *tok, const char *uri, bool *out, cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref = {0};
	cs_key_info key;
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE a = ATTR(CKA_EXTRACTABLE, b);
	cs_rv rv;
	CK_RV crv;

	*out = false;
	rv = cs_key_open(tok, uri, true, &s, &ref, &key, err);
	if (rv == CS_OK) {
		crv = tok->p11->C_GetAttributeValue(s.h, key.handle, &a, 1);
		if (crv != CKR_OK)
			rv = cs_p11_err(err, crv, "reading CKA_EXTRACTABLE of %s", uri);
		*out = b == CK_TRUE;
	}
	cs_key_close(&s, &ref);
	return rv;
}

cs_rv cs_key_delete(cs_token *tok, const char *uri, cs_err *err)
{
	cs_session s = {.write = true};
	cs_key_ref ref = {0}, byid = {0};
	cs_key_info key;
	unsigned char *id = NULL;
	size_t idlen = 0;
	CK_OBJECT_HANDLE batch[16];
	CK_ATTRIBUTE tmpl;
	CK_ULONG n;
	cs_rv rv;
	CK_RV crv;

	rv = cs_key_open(tok, uri, true, &s, &ref, &key, err);
	if (rv == CS_OK)
		rv = cs_get_attr(&s, key.handle, CKA_ID, &id, &idlen, NULL, err);
	if (rv != CS_OK)
		goto out;
	cs_cache_clear(tok);
	crv = tok->p11->C_DestroyObject(s.h, key.handle);
	if (crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "deleting key %s", uri);
		goto out;
	}
	if (id == NULL || idlen == 0 || idlen > CS_KEY_ID_MAX)
		goto out;
	/* Everything else sharing the id: the public key, certificates.  Found
	 * first, destroyed after: a search must not run while objects vanish. */
	memcpy(byid.id, id, idlen);
	byid.id_len = idlen;
	tmpl = ATTR_BUF(CKA_ID, byid.id, idlen);
	for (int round = 0; round < 8; round++) {
		crv = tok->p11->C_FindObjectsInit(s.h, &tmpl, 1);
		if (crv != CKR_OK)
			break;
		crv = tok->p11->C_FindObjects(s.h, batch, 16, &n);
		tok->p11->C_FindObjectsFinal(s.h);
		if (crv != CKR_OK || n == 0)
			break;
		for (CK_ULONG i = 0; i < n; i++)
			tok->p11->C_DestroyObject(s.h, batch[i]);
	}
	if (crv != CKR_OK)
		rv = cs_p11_err(err, crv, "deleting the objects of key %s", uri);
out:
	free(id);
	cs_key_close(&s, &ref);
	return rv;
}
