/*
 * key_import.c - a private key from outside (a PFX, a PEM key) into the
 * token: its parts in PKCS#11 terms, the id from its public half as for
 * generated keys, both objects created or neither.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "keys_internal.h"

static CK_BBOOL ck_true = CK_TRUE, ck_false = CK_FALSE;

#define ATTR(t, v) ((CK_ATTRIBUTE){(t), (void *)&(v), sizeof(v)})
#define ATTR_BUF(t, p, n) ((CK_ATTRIBUTE){(t), (void *)(p), (n)})

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

/* The private key's parts in the token's terms, once the token says it can
 * hold a key of this type and size. */
static cs_rv import_parts(cs_token *tok, EVP_PKEY *priv, key_parts *k, CK_KEY_TYPE *kt, cs_err *err)
{
	int base = EVP_PKEY_get_base_id(priv);
	cs_rv rv;

	if (base == EVP_PKEY_RSA || base == EVP_PKEY_RSA_PSS) {
		static const char *names[] = {
			OSSL_PKEY_PARAM_RSA_N,	       OSSL_PKEY_PARAM_RSA_E,
			OSSL_PKEY_PARAM_RSA_D,	       OSSL_PKEY_PARAM_RSA_FACTOR1,
			OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
			OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};

		*kt = CKK_RSA;
		rv = token_can(tok, CKM_RSA_PKCS, "RSA", (unsigned)EVP_PKEY_get_bits(priv), err);
		if (rv != CS_OK)
			return rv;
		for (int i = RSA_N; i <= RSA_QI; i++)
			get_bn(priv, names[i], 0, &k->v[i], &k->len[i]);
		if (k->v[RSA_N] == NULL || k->v[RSA_E] == NULL || k->v[RSA_D] == NULL)
			return cs_err_set(err, CS_ERR_BAD_INPUT,
					  "the RSA private key is incomplete");
		return CS_OK;
	}
	if (base == EVP_PKEY_EC) {
		*kt = CKK_EC;
		rv = token_can(tok, CKM_ECDSA, "EC", (unsigned)EVP_PKEY_get_bits(priv), err);
		return rv == CS_OK ? ec_parts(priv, k, err) : rv;
	}
	return cs_err_set(err, CS_ERR_TOKEN,
			  "certstore keeps only RSA and EC keys in the token; this is a%s %s key",
			  base == EVP_PKEY_ED25519 || base == EVP_PKEY_ED448 ? "n" : "",
			  EVP_PKEY_get0_type_name(priv) ? EVP_PKEY_get0_type_name(priv)
							: "unknown");
}

/* The id comes from the public half, exactly as for generated keys. */
static cs_rv import_id(EVP_PKEY *priv, unsigned char id[20], cs_err *err)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int n = i2d_PUBKEY(priv, &der);
	EVP_PKEY *pub;
	cs_rv rv;

	p = der;
	pub = n > 0 ? d2i_PUBKEY(NULL, &p, n) : NULL;
	OPENSSL_free(der);
	if (pub == NULL)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "cannot read the public half of the key");
	rv = cs_key_id_from_public(pub, id, err);
	EVP_PKEY_free(pub);
	return rv;
}

/* The two templates of an imported pair; the attributes point into it and
 * into the key's parts, so both outlive the C_CreateObject calls. */
typedef struct {
	CK_OBJECT_CLASS c_priv, c_pub;
	CK_KEY_TYPE kt;
	CK_BBOOL extractable;
	CK_ATTRIBUTE pt[24], ut[12];
	CK_ULONG np, nu;
} import_tmpl;

static void import_templates(import_tmpl *t, const key_parts *k, const char *lbl,
			     const unsigned char id[20])
{
	t->c_priv = CKO_PRIVATE_KEY;
	t->c_pub = CKO_PUBLIC_KEY;
	t->pt[t->np++] = ATTR(CKA_CLASS, t->c_priv);
	t->pt[t->np++] = ATTR(CKA_KEY_TYPE, t->kt);
	t->pt[t->np++] = ATTR(CKA_TOKEN, ck_true);
	t->pt[t->np++] = ATTR(CKA_PRIVATE, ck_true);
	t->pt[t->np++] = ATTR(CKA_SENSITIVE, ck_true);
	t->pt[t->np++] = ATTR(CKA_EXTRACTABLE, t->extractable);
	t->pt[t->np++] = ATTR(CKA_SIGN, ck_true);
	t->pt[t->np++] = ATTR_BUF(CKA_LABEL, lbl, strlen(lbl));
	t->pt[t->np++] = ATTR_BUF(CKA_ID, id, 20);
	t->pt[t->np++] = ATTR(CKA_UNWRAP, ck_false);
	t->ut[t->nu++] = ATTR(CKA_WRAP, ck_false);
	t->ut[t->nu++] = ATTR(CKA_CLASS, t->c_pub);
	t->ut[t->nu++] = ATTR(CKA_KEY_TYPE, t->kt);
	t->ut[t->nu++] = ATTR(CKA_TOKEN, ck_true);
	t->ut[t->nu++] = ATTR(CKA_PRIVATE, ck_false);
	t->ut[t->nu++] = ATTR(CKA_VERIFY, ck_true);
	t->ut[t->nu++] = ATTR_BUF(CKA_LABEL, lbl, strlen(lbl));
	t->ut[t->nu++] = ATTR_BUF(CKA_ID, id, 20);
	if (t->kt == CKK_RSA) {
		static const CK_ATTRIBUTE_TYPE types[] = {
			CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
			CKA_PRIME_2, CKA_EXPONENT_1,	  CKA_EXPONENT_2,	CKA_COEFFICIENT};

		t->pt[t->np++] = ATTR(CKA_DECRYPT, ck_true);
		for (int i = RSA_N; i <= RSA_QI; i++)
			if (k->v[i] != NULL)
				t->pt[t->np++] = ATTR_BUF(types[i], k->v[i], k->len[i]);
		t->ut[t->nu++] = ATTR(CKA_ENCRYPT, ck_true);
		t->ut[t->nu++] = ATTR_BUF(CKA_MODULUS, k->v[RSA_N], k->len[RSA_N]);
		t->ut[t->nu++] = ATTR_BUF(CKA_PUBLIC_EXPONENT, k->v[RSA_E], k->len[RSA_E]);
	} else {
		t->pt[t->np++] = ATTR(CKA_DECRYPT, ck_false);
		t->pt[t->np++] = ATTR(CKA_DERIVE, ck_false);
		t->pt[t->np++] = ATTR_BUF(CKA_EC_PARAMS, k->ec_params, k->ec_params_len);
		t->pt[t->np++] = ATTR_BUF(CKA_VALUE, k->v[EC_D], k->len[EC_D]);
		t->ut[t->nu++] = ATTR_BUF(CKA_EC_PARAMS, k->ec_params, k->ec_params_len);
		t->ut[t->nu++] = ATTR_BUF(CKA_EC_POINT, k->ec_point, k->ec_point_len);
	}
}

/* Creates both objects; what was created is left in the handles for the
 * caller to destroy when anything fails. */
static cs_rv import_create(cs_session *s, import_tmpl *t, CK_OBJECT_HANDLE *hpriv,
			   CK_OBJECT_HANDLE *hpub, cs_err *err)
{
	cs_token *tok = s->tok;
	CK_RV crv = tok->p11->C_CreateObject(s->h, t->pt, t->np, hpriv);

	if (crv == CKR_OK)
		crv = tok->p11->C_CreateObject(s->h, t->ut, t->nu, hpub);
	if (crv == CKR_CURVE_NOT_SUPPORTED || crv == CKR_ATTRIBUTE_VALUE_INVALID ||
	    crv == CKR_TEMPLATE_INCONSISTENT || crv == CKR_DOMAIN_PARAMS_INVALID)
		return cs_p11_err(err, crv, "token '%s' cannot hold this %s key", tok->label,
				  t->kt == CKK_RSA ? "RSA" : "EC");
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "putting the key into token '%s'", tok->label);
	return CS_OK;
}

cs_rv cs_key_import(cs_token *tok, EVP_PKEY *priv, const char *label, bool exportable,
		    char **uri_out, cs_err *err)
{
	cs_session s = {.write = true};
	key_parts k = {0};
	import_tmpl t = {.extractable = exportable ? CK_TRUE : CK_FALSE};
	unsigned char id[20];
	CK_OBJECT_HANDLE hpriv = CK_INVALID_HANDLE, hpub = CK_INVALID_HANDLE;
	cs_key_ref ref = {0};
	cs_rv rv;

	*uri_out = NULL;
	rv = import_parts(tok, priv, &k, &t.kt, err);
	if (rv == CS_OK)
		rv = import_id(priv, id, err);
	if (rv == CS_OK)
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
	import_templates(&t, &k, label ? label : "", id);
	rv = import_create(&s, &t, &hpriv, &hpub, err);
	if (rv == CS_OK)
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
	return rv;
}
