/*
 * keyref.c - naming keys: specs, CKA_IDs, pkcs11: URIs, finding objects,
 * and reading a key's public half out of the token.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "keys_internal.h"

/* ---- key specifications ------------------------------------------------- */

static const struct {
	const char *name;
	cs_key_spec spec;
} specs[] = {
	{"rsa", {CS_KEY_RSA, 2048, 0}},
	{"rsa:2048", {CS_KEY_RSA, 2048, 0}},
	{"rsa:3072", {CS_KEY_RSA, 3072, 0}},
	{"rsa:4096", {CS_KEY_RSA, 4096, 0}},
	{"ec", {CS_KEY_EC, 256, NID_X9_62_prime256v1}},
	{"ec:p256", {CS_KEY_EC, 256, NID_X9_62_prime256v1}},
	{"ec:p-256", {CS_KEY_EC, 256, NID_X9_62_prime256v1}},
	{"ec:prime256v1", {CS_KEY_EC, 256, NID_X9_62_prime256v1}},
	{"ec:p384", {CS_KEY_EC, 384, NID_secp384r1}},
	{"ec:p-384", {CS_KEY_EC, 384, NID_secp384r1}},
	{"ec:secp384r1", {CS_KEY_EC, 384, NID_secp384r1}},
};

cs_rv cs_key_spec_parse(const char *s, cs_key_spec *out, cs_err *err)
{
	if (s == NULL || *s == '\0')
		s = "rsa:2048";
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		if (strcasecmp(s, specs[i].name) == 0) {
			*out = specs[i].spec;
			return CS_OK;
		}
	}
	return cs_err_set(err, CS_ERR_USAGE,
			  "unknown key type '%s' (use rsa:2048, rsa:3072, rsa:4096, ec:p256 or "
			  "ec:p384)",
			  s);
}

const char *cs_key_spec_name(const cs_key_spec *spec)
{
	if (spec->type == CS_KEY_EC)
		return spec->bits == 384 ? "ec:p384" : "ec:p256";
	switch (spec->bits) {
	case 3072:
		return "rsa:3072";
	case 4096:
		return "rsa:4096";
	default:
		return "rsa:2048";
	}
}

void cs_key_spec_of_public(const EVP_PKEY *pub, cs_key_spec *out)
{
	char group[64] = "";

	if (EVP_PKEY_is_a(pub, "RSA")) {
		*out = (cs_key_spec){CS_KEY_RSA, (unsigned)EVP_PKEY_get_bits(pub), 0};
		return;
	}
	EVP_PKEY_get_utf8_string_param(pub, "group", group, sizeof(group), NULL);
	if (strcmp(group, "secp384r1") == 0)
		*out = (cs_key_spec){CS_KEY_EC, 384, NID_secp384r1};
	else
		*out = (cs_key_spec){CS_KEY_EC, 256, NID_X9_62_prime256v1};
}

/* ---- small conversions ---------------------------------------------------- */

bool cs_p11_hash(int nid, CK_MECHANISM_TYPE *hash, CK_RSA_PKCS_MGF_TYPE *mgf)
{
	static const struct {
		int nid;
		CK_MECHANISM_TYPE hash;
		CK_RSA_PKCS_MGF_TYPE mgf;
	} t[] = {
		{NID_sha1, CKM_SHA_1, CKG_MGF1_SHA1},
		{NID_sha224, CKM_SHA224, CKG_MGF1_SHA224},
		{NID_sha256, CKM_SHA256, CKG_MGF1_SHA256},
		{NID_sha384, CKM_SHA384, CKG_MGF1_SHA384},
		{NID_sha512, CKM_SHA512, CKG_MGF1_SHA512},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].nid == nid) {
			if (hash != NULL)
				*hash = t[i].hash;
			if (mgf != NULL)
				*mgf = t[i].mgf;
			return true;
		}
	}
	return false;
}

cs_rv cs_ec_params_der(int curve_nid, unsigned char **der, size_t *len, cs_err *err)
{
	ASN1_OBJECT *oid = OBJ_nid2obj(curve_nid);
	unsigned char *p = NULL;
	int n;

	*der = NULL;
	n = oid != NULL ? i2d_ASN1_OBJECT(oid, &p) : -1;
	if (n <= 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot encode the curve %s",
				  OBJ_nid2sn(curve_nid));
	*der = p;
	*len = (size_t)n;
	return CS_OK;
}

cs_rv cs_key_id_from_public(EVP_PKEY *pub, unsigned char id[20], cs_err *err)
{
	X509_PUBKEY *xpk = NULL;
	const unsigned char *pk;
	int pklen;
	cs_rv rv = CS_OK;

	if (pub == NULL || !X509_PUBKEY_set(&xpk, pub) ||
	    !X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, xpk)) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot encode the public key");
		cs_err_add_openssl(err);
		goto out;
	}
	SHA1(pk, (size_t)pklen, id);
out:
	X509_PUBKEY_free(xpk);
	return rv;
}

/* ---- URIs --------------------------------------------------------------- */

cs_rv cs_key_uri_make(cs_token *tok, const unsigned char *id, size_t id_len, char **out,
		      cs_err *err)
{
	P11KitUri *u = p11_kit_uri_new();
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE a_id = {CKA_ID, (void *)id, id_len};
	CK_ATTRIBUTE a_cls = {CKA_CLASS, &cls, sizeof(cls)};
	cs_rv rv = CS_OK;

	*out = NULL;
	if (u == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	memcpy(p11_kit_uri_get_token_info(u), &tok->info, sizeof(CK_TOKEN_INFO));
	if (p11_kit_uri_set_attribute(u, &a_id) != P11_KIT_URI_OK ||
	    p11_kit_uri_set_attribute(u, &a_cls) != P11_KIT_URI_OK ||
	    p11_kit_uri_format(u, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, out) != P11_KIT_URI_OK) {
		*out = NULL;
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot format a key URI");
	}
	p11_kit_uri_free(u);
	return rv;
}

void cs_key_ref_clear(cs_key_ref *ref)
{
	free(ref->label);
	memset(ref, 0, sizeof(*ref));
}

cs_rv cs_key_ref_parse(cs_token *tok, const char *uri, cs_key_ref *ref, cs_err *err)
{
	P11KitUri *u = p11_kit_uri_new();
	CK_ATTRIBUTE *a;
	cs_rv rv = CS_OK;
	int r;

	memset(ref, 0, sizeof(*ref));
	if (u == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (uri == NULL) {
		rv = cs_err_set(err, CS_ERR_NOT_FOUND, "no key URI");
		goto out;
	}
	r = p11_kit_uri_parse(uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, u);
	if (r != P11_KIT_URI_OK) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "key URI %s: %s", uri,
				p11_kit_uri_message(r));
		goto out;
	}
	if (!p11_kit_uri_match_token_info(u, &tok->info)) {
		rv = cs_err_set(err, CS_ERR_NOT_FOUND, "key %s is not on token '%s'", uri,
				tok->label);
		goto out;
	}
	a = p11_kit_uri_get_attribute(u, CKA_ID);
	if (a != NULL && a->ulValueLen > 0) {
		if (a->ulValueLen > CS_KEY_ID_MAX) {
			rv = cs_err_set(err, CS_ERR_BAD_INPUT,
					"key URI %s: id longer than %d bytes", uri, CS_KEY_ID_MAX);
			goto out;
		}
		memcpy(ref->id, a->pValue, a->ulValueLen);
		ref->id_len = a->ulValueLen;
	}
	a = p11_kit_uri_get_attribute(u, CKA_LABEL);
	if (a != NULL && a->ulValueLen > 0) {
		ref->label = strndup(a->pValue, a->ulValueLen);
		if (ref->label == NULL) {
			rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
			goto out;
		}
	}
	if (ref->id_len == 0 && ref->label == NULL)
		rv = cs_err_set(err, CS_ERR_BAD_INPUT,
				"key URI %s names no object (needs id= or object=)", uri);
out:
	if (rv != CS_OK)
		cs_key_ref_clear(ref);
	p11_kit_uri_free(u);
	return rv;
}

/* ---- finding objects ----------------------------------------------------- */

cs_rv cs_find_object(cs_session *s, CK_OBJECT_CLASS cls, const cs_key_ref *ref, const char *uri,
		     CK_OBJECT_HANDLE *out, cs_err *err)
{
	CK_FUNCTION_LIST *p11 = s->tok->p11;
	CK_ATTRIBUTE tmpl[3];
	CK_ULONG n = 0, found = 0;
	CK_OBJECT_HANDLE h[2];
	CK_RV crv;

	tmpl[n++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
	if (ref->id_len > 0)
		tmpl[n++] = (CK_ATTRIBUTE){CKA_ID, (void *)ref->id, ref->id_len};
	if (ref->label != NULL)
		tmpl[n++] = (CK_ATTRIBUTE){CKA_LABEL, ref->label, strlen(ref->label)};
	crv = p11->C_FindObjectsInit(s->h, tmpl, n);
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "searching token '%s'", s->tok->label);
	crv = p11->C_FindObjects(s->h, h, 2, &found);
	p11->C_FindObjectsFinal(s->h);
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "searching token '%s'", s->tok->label);
	if (found == 0)
		return cs_err_set(err, CS_ERR_NOT_FOUND, "no %s %s in token '%s'",
				  cls == CKO_PRIVATE_KEY ? "private key" : "object", uri,
				  s->tok->label);
	if (found > 1)
		return cs_err_set(err, CS_ERR_AMBIGUOUS, "%s names more than one %s in token '%s'",
				  uri, cls == CKO_PRIVATE_KEY ? "private key" : "object",
				  s->tok->label);
	*out = h[0];
	return CS_OK;
}

cs_rv cs_get_attr(cs_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, unsigned char **val,
		  size_t *len, CK_RV *rv_out, cs_err *err)
{
	CK_FUNCTION_LIST *p11 = s->tok->p11;
	CK_ATTRIBUTE a = {type, NULL, 0};
	CK_RV crv;

	*val = NULL;
	*len = 0;
	crv = p11->C_GetAttributeValue(s->h, h, &a, 1);
	if (rv_out != NULL)
		*rv_out = crv;
	if (crv == CKR_ATTRIBUTE_SENSITIVE || crv == CKR_ATTRIBUTE_TYPE_INVALID ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return CS_OK;
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "reading an attribute in token '%s'", s->tok->label);
	a.pValue = malloc(a.ulValueLen ? a.ulValueLen : 1);
	if (a.pValue == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	crv = p11->C_GetAttributeValue(s->h, h, &a, 1);
	if (crv != CKR_OK) {
		free(a.pValue);
		return cs_p11_err(err, crv, "reading an attribute in token '%s'", s->tok->label);
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return CS_OK;
}

/* Group order size in bytes for a DER curve OID. */
static size_t ec_order_bytes(const unsigned char *params, size_t len)
{
	const unsigned char *p = params;
	ASN1_OBJECT *oid = d2i_ASN1_OBJECT(NULL, &p, (long)len);
	EC_GROUP *g = oid ? EC_GROUP_new_by_curve_name(OBJ_obj2nid(oid)) : NULL;
	size_t n = g ? (size_t)(EC_GROUP_order_bits(g) + 7) / 8 : 0;

	EC_GROUP_free(g);
	ASN1_OBJECT_free(oid);
	return n;
}

cs_rv cs_find_private(cs_session *s, const char *uri, const cs_key_ref *ref, bool fresh,
		      cs_key_info *out, cs_err *err)
{
	CK_FUNCTION_LIST *p11 = s->tok->p11;
	CK_KEY_TYPE kt;
	CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	CK_ATTRIBUTE_TYPE size_attr;
	unsigned char *v = NULL;
	size_t vlen;
	cs_rv rv;
	CK_RV crv;

	if (!fresh && ref->id_len > 0 && ref->label == NULL &&
	    cs_cache_get(s->tok, ref->id, ref->id_len, out))
		return CS_OK;
	rv = cs_find_object(s, CKO_PRIVATE_KEY, ref, uri, &out->handle, err);
	if (rv != CS_OK)
		return rv;
	crv = p11->C_GetAttributeValue(s->h, out->handle, &a, 1);
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "reading the type of key %s", uri);
	if (kt != CKK_RSA && kt != CKK_EC)
		return cs_err_set(err, CS_ERR_TOKEN, "key %s is neither RSA nor EC (type 0x%lx)",
				  uri, (unsigned long)kt);
	out->type = kt;
	size_attr = kt == CKK_RSA ? CKA_MODULUS : CKA_EC_PARAMS;
	rv = cs_get_attr(s, out->handle, size_attr, &v, &vlen, NULL, err);
	if (rv != CS_OK)
		return rv;
	out->size = kt == CKK_RSA ? vlen : (v ? ec_order_bytes(v, vlen) : 0);
	free(v);
	if (out->size == 0)
		return cs_err_set(err, CS_ERR_TOKEN, "cannot tell the size of key %s", uri);
	if (ref->id_len > 0 && ref->label == NULL)
		cs_cache_put(s->tok, ref->id, ref->id_len, out);
	return CS_OK;
}

/* ---- public keys ---------------------------------------------------------- */

static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *rsa_public(const unsigned char *n, size_t nlen, const unsigned char *e,
			    size_t elen)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
	EVP_PKEY *pkey = NULL;

	if (bld != NULL && bn != NULL && be != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		pkey = pkey_fromdata("RSA", bld);
	BN_free(bn);
	BN_free(be);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static EVP_PKEY *ec_public(const unsigned char *params, size_t plen, const unsigned char *point,
			   size_t ptlen)
{
	const unsigned char *p = params;
	ASN1_OBJECT *oid = d2i_ASN1_OBJECT(NULL, &p, (long)plen);
	ASN1_OCTET_STRING *os = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pkey = NULL;
	const char *group = oid ? OBJ_nid2sn(OBJ_obj2nid(oid)) : NULL;

	/* CKA_EC_POINT is a DER OCTET STRING; some tokens give the bare point. */
	p = point;
	os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)ptlen);
	if (os != NULL && p == point + ptlen) {
		point = ASN1_STRING_get0_data(os);
		ptlen = (size_t)ASN1_STRING_length(os);
	}
	if (bld != NULL && group != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, ptlen))
		pkey = pkey_fromdata("EC", bld);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(oid);
	OSSL_PARAM_BLD_free(bld);
	ERR_clear_error();
	return pkey;
}

cs_rv cs_public_of_object(cs_session *s, CK_OBJECT_HANDLE h, CK_KEY_TYPE kt, EVP_PKEY **out,
			  cs_err *err)
{
	unsigned char *a = NULL, *b = NULL;
	size_t alen, blen;
	cs_rv rv;

	*out = NULL;
	rv = cs_get_attr(s, h, kt == CKK_RSA ? CKA_MODULUS : CKA_EC_PARAMS, &a, &alen, NULL, err);
	if (rv == CS_OK)
		rv = cs_get_attr(s, h, kt == CKK_RSA ? CKA_PUBLIC_EXPONENT : CKA_EC_POINT, &b,
				 &blen, NULL, err);
	if (rv == CS_OK && a != NULL && b != NULL)
		*out = kt == CKK_RSA ? rsa_public(a, alen, b, blen) : ec_public(a, alen, b, blen);
	free(a);
	free(b);
	return rv;
}

cs_rv cs_public_from_objects(cs_session *s, CK_OBJECT_HANDLE priv, EVP_PKEY **out, cs_err *err)
{
	CK_FUNCTION_LIST *p11 = s->tok->p11;
	CK_KEY_TYPE kt;
	CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	cs_key_ref ref = {0};
	unsigned char *id = NULL;
	size_t idlen;
	CK_OBJECT_HANDLE pubh;
	cs_rv rv;
	CK_RV crv;

	*out = NULL;
	crv = p11->C_GetAttributeValue(s->h, priv, &a, 1);
	if (crv != CKR_OK)
		return cs_p11_err(err, crv, "reading a key type in token '%s'", s->tok->label);
	if (kt != CKK_RSA && kt != CKK_EC)
		return cs_err_set(err, CS_ERR_TOKEN, "key type 0x%lx is neither RSA nor EC",
				  (unsigned long)kt);
	rv = cs_get_attr(s, priv, CKA_ID, &id, &idlen, NULL, err);
	if (rv != CS_OK)
		return rv;
	if (id != NULL && idlen > 0 && idlen <= CS_KEY_ID_MAX) {
		memcpy(ref.id, id, idlen);
		ref.id_len = idlen;
		if (cs_find_object(s, CKO_PUBLIC_KEY, &ref, "", &pubh, NULL) == CS_OK) {
			rv = cs_public_of_object(s, pubh, kt, out, err);
			if (rv != CS_OK || *out != NULL)
				goto out;
		}
	}
	rv = cs_public_of_object(s, priv, kt, out, err);
	if (rv == CS_OK && *out == NULL)
		rv = cs_err_set(err, CS_ERR_NOT_FOUND,
				"token '%s' holds no public key for this private key",
				s->tok->label);
out:
	free(id);
	return rv;
}
