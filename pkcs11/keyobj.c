/*
 * keyobj.c - the key pair of a Personal certificate that has a key
 * (key_uri set): a CKO_PUBLIC_KEY and a CKO_PRIVATE_KEY object derived from
 * the certificate's public key, with the certificate's CKA_ID and CKA_LABEL,
 * so consumers pair them up as they pair any token's objects.  The private
 * key's value never passes here: its secret attributes answer
 * CKR_ATTRIBUTE_SENSITIVE, and using it goes to the HSM (keyops.c).
 *
 * Nothing asks the HSM while listing: attributes come from the row, so a
 * consumer that only lists (keytool -list, certutil -K) never opens the key
 * token.  CKA_EXTRACTABLE is the store's exportable flag; whether a key was
 * always sensitive is not recorded (an imported PFX key was not), so
 * CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE claim nothing (FALSE).
 */
#include "p11.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

bool p11_cert_has_key(const cs_cert *c)
{
	return c->store == CS_STORE_MY && c->key_uri != NULL && *c->key_uri != '\0' &&
	       p11_cert_key_type(c) != CK_UNAVAILABLE_INFORMATION;
}

CK_KEY_TYPE p11_cert_key_type(const cs_cert *c)
{
	EVP_PKEY *pub = X509_get0_pubkey(c->x509);

	if (pub == NULL)
		return CK_UNAVAILABLE_INFORMATION;
	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_RSA:
		return CKK_RSA;
	case EVP_PKEY_EC:
		return CKK_EC;
	default:
		return CK_UNAVAILABLE_INFORMATION;
	}
}

size_t p11_cert_key_size(const cs_cert *c)
{
	EVP_PKEY *pub = X509_get0_pubkey(c->x509);
	int bits = pub != NULL ? EVP_PKEY_get_bits(pub) : 0;

	return bits > 0 ? ((size_t)bits + 7) / 8 : 0;
}

/* The subjectPublicKey BIT STRING contents and the algorithm parameters. */
static bool spki_parts(const cs_cert *c, const unsigned char **pk, int *pklen,
		       const X509_ALGOR **alg)
{
	X509_PUBKEY *spki = X509_get_X509_PUBKEY(c->x509);
	X509_ALGOR *a = NULL;

	if (spki == NULL || !X509_PUBKEY_get0_param(NULL, pk, pklen, &a, spki))
		return false;
	*alg = a;
	return true;
}

static CK_RV value_bn(const cs_cert *c, const char *param, p11_value *v)
{
	BIGNUM *bn = NULL;
	unsigned char *buf;
	int len;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!EVP_PKEY_get_bn_param(X509_get0_pubkey(c->x509), param, &bn))
		return CKR_GENERAL_ERROR;
	len = BN_num_bytes(bn);
	buf = OPENSSL_malloc(len > 0 ? (size_t)len : 1);
	if (buf != NULL && BN_bn2bin(bn, buf) == len)
		rv = p11_value_copy(v, buf, (size_t)len);
	OPENSSL_free(buf);
	BN_free(bn);
	return rv;
}

/* CKA_EC_PARAMS: the ECParameters of the certificate (a named curve OID). */
static CK_RV value_ec_params(const cs_cert *c, p11_value *v)
{
	const unsigned char *pk;
	const X509_ALGOR *alg;
	const void *pval = NULL;
	int pklen, ptype = 0, len;
	unsigned char *der = NULL;

	if (!spki_parts(c, &pk, &pklen, &alg))
		return CKR_GENERAL_ERROR;
	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	if (ptype != V_ASN1_OBJECT)
		return CKR_ATTRIBUTE_TYPE_INVALID; /* explicit curves: not ours */
	len = i2d_ASN1_OBJECT(pval, &der);
	return p11_value_openssl_der(v, der, len);
}

/* CKA_EC_POINT: the point as a DER OCTET STRING, as PKCS#11 2.40 says and
 * OpenSC, GnuTLS and NSS read it. */
static CK_RV value_ec_point(const cs_cert *c, p11_value *v)
{
	const unsigned char *pk;
	const X509_ALGOR *alg;
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	unsigned char *der = NULL;
	int pklen, len = -1;

	if (os != NULL && spki_parts(c, &pk, &pklen, &alg) && ASN1_OCTET_STRING_set(os, pk, pklen))
		len = i2d_ASN1_OCTET_STRING(os, &der);
	ASN1_OCTET_STRING_free(os);
	return p11_value_openssl_der(v, der, len);
}

static CK_RV value_id(const cs_cert *c, p11_value *v)
{
	if (!cs_cert_key_id(c, v->buf))
		return CKR_GENERAL_ERROR;
	v->ptr = v->buf;
	v->len = 20;
	return CKR_OK;
}

/* What the public and the private key object both have. */
static CK_RV common_value(const cs_cert *c, CK_KEY_TYPE kt, CK_ATTRIBUTE_TYPE type, p11_value *v)
{
	const unsigned char *der;
	size_t len;

	switch (type) {
	case CKA_TOKEN:
		return p11_value_bool(v, true);
	case CKA_MODIFIABLE:
	case CKA_COPYABLE:
	case CKA_DESTROYABLE:
	case CKA_LOCAL: /* not known: imported keys are not local */
	case CKA_DERIVE:
		return p11_value_bool(v, false);
	case CKA_LABEL:
		return p11_value_label(c, v);
	case CKA_ID:
		return value_id(c, v);
	case CKA_KEY_TYPE:
		return p11_value_ulong(v, kt);
	case CKA_KEY_GEN_MECHANISM:
		return p11_value_ulong(v, CK_UNAVAILABLE_INFORMATION);
	case CKA_START_DATE:
	case CKA_END_DATE:
		return p11_value_bytes(v, "", 0);
	case CKA_SUBJECT:
		if (!X509_NAME_get0_der(X509_get_subject_name(c->x509), &der, &len))
			return CKR_GENERAL_ERROR;
		return p11_value_bytes(v, der, len);
	case CKA_PUBLIC_KEY_INFO:
		return p11_value_spki(c, v);
	case CKA_MODULUS:
		return kt == CKK_RSA ? value_bn(c, OSSL_PKEY_PARAM_RSA_N, v)
				     : CKR_ATTRIBUTE_TYPE_INVALID;
	case CKA_PUBLIC_EXPONENT:
		return kt == CKK_RSA ? value_bn(c, OSSL_PKEY_PARAM_RSA_E, v)
				     : CKR_ATTRIBUTE_TYPE_INVALID;
	case CKA_MODULUS_BITS:
		return kt == CKK_RSA ? p11_value_ulong(v, (CK_ULONG)EVP_PKEY_get_bits(
								  X509_get0_pubkey(c->x509)))
				     : CKR_ATTRIBUTE_TYPE_INVALID;
	case CKA_EC_PARAMS:
		return kt == CKK_EC ? value_ec_params(c, v) : CKR_ATTRIBUTE_TYPE_INVALID;
	case CKA_EC_POINT:
		/* also on the private key: OpenSC and GnuTLS look for it there */
		return kt == CKK_EC ? value_ec_point(c, v) : CKR_ATTRIBUTE_TYPE_INVALID;
	default:
		return CKR_ATTRIBUTE_TYPE_INVALID;
	}
}

static CK_RV public_value(const cs_cert *c, CK_KEY_TYPE kt, CK_ATTRIBUTE_TYPE type, p11_value *v)
{
	switch (type) {
	case CKA_CLASS:
		return p11_value_ulong(v, CKO_PUBLIC_KEY);
	case CKA_PRIVATE:
		return p11_value_bool(v, false);
	case CKA_ENCRYPT:
	case CKA_WRAP:
		return p11_value_bool(v, type == CKA_ENCRYPT && kt == CKK_RSA);
	case CKA_VERIFY:
		return p11_value_bool(v, true);
	case CKA_VERIFY_RECOVER:
	case CKA_TRUSTED:
		return p11_value_bool(v, false);
	default:
		return common_value(c, kt, type, v);
	}
}

static CK_RV private_value(const cs_cert *c, CK_KEY_TYPE kt, CK_ATTRIBUTE_TYPE type, p11_value *v)
{
	switch (type) {
	case CKA_CLASS:
		return p11_value_ulong(v, CKO_PRIVATE_KEY);
	case CKA_PRIVATE: /* seen and used after C_Login only (module.c) */
		return p11_value_bool(v, true);
	case CKA_SIGN:
	case CKA_SENSITIVE:
		return p11_value_bool(v, true);
	case CKA_DECRYPT:
		return p11_value_bool(v, kt == CKK_RSA);
	case CKA_EXTRACTABLE:
		return p11_value_bool(v, c->exportable);
	case CKA_ALWAYS_SENSITIVE:
	case CKA_NEVER_EXTRACTABLE:
	case CKA_SIGN_RECOVER:
	case CKA_UNWRAP:
	case CKA_WRAP_WITH_TRUSTED:
	case CKA_ALWAYS_AUTHENTICATE:
		return p11_value_bool(v, false);
	case CKA_VALUE:
	case CKA_PRIVATE_EXPONENT:
	case CKA_PRIME_1:
	case CKA_PRIME_2:
	case CKA_EXPONENT_1:
	case CKA_EXPONENT_2:
	case CKA_COEFFICIENT:
		if ((type == CKA_VALUE) != (kt == CKK_EC))
			return CKR_ATTRIBUTE_TYPE_INVALID;
		return CKR_ATTRIBUTE_SENSITIVE;
	default:
		return common_value(c, kt, type, v);
	}
}

CK_RV p11_key_value(const p11_object *obj, CK_ATTRIBUTE_TYPE type, p11_value *v)
{
	CK_KEY_TYPE kt = p11_cert_key_type(obj->cert);

	if (obj->kind == P11_KIND_PUBLIC_KEY)
		return public_value(obj->cert, kt, type, v);
	return private_value(obj->cert, kt, type, v);
}
