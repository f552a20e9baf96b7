/*
 * values.c - attribute values: how a value is held (p11_value), and the
 * values made from a certificate that every object kind shows (issuer,
 * serial, digests, label).  Below objects.c, keyobj.c and trust.c, which all
 * use it; it uses none of them.
 */
#include "p11.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

void p11_value_clear(p11_value *v)
{
	free(v->heap);
	memset(v, 0, sizeof(*v));
}

CK_RV p11_value_copy(p11_value *v, const void *p, size_t len)
{
	if (len <= sizeof(v->buf)) {
		memcpy(v->buf, p, len);
		v->ptr = v->buf;
	} else {
		v->heap = malloc(len);
		if (v->heap == NULL)
			return CKR_HOST_MEMORY;
		memcpy(v->heap, p, len);
		v->ptr = v->heap;
	}
	v->len = len;
	return CKR_OK;
}

CK_RV p11_value_ulong(p11_value *v, CK_ULONG u)
{
	return p11_value_copy(v, &u, sizeof(u));
}

CK_RV p11_value_bool(p11_value *v, bool b)
{
	CK_BBOOL x = b ? CK_TRUE : CK_FALSE;

	return p11_value_copy(v, &x, sizeof(x));
}

CK_RV p11_value_bytes(p11_value *v, const void *p, size_t len)
{
	v->ptr = p;
	v->len = len;
	return CKR_OK;
}

/* Takes an OpenSSL-allocated DER buffer.  An i2d_* that failed returned
 * 0 or less: no DER is that short. */
CK_RV p11_value_openssl_der(p11_value *v, unsigned char *der, int len)
{
	CK_RV rv;

	if (len <= 0) {
		OPENSSL_free(der);
		return CKR_GENERAL_ERROR;
	}
	rv = p11_value_copy(v, der, (size_t)len);
	OPENSSL_free(der);
	return rv;
}

CK_RV p11_value_name(p11_value *v, const X509_NAME *name)
{
	const unsigned char *der;
	size_t len;

	if (!X509_NAME_get0_der(name, &der, &len))
		return CKR_GENERAL_ERROR;
	return p11_value_bytes(v, der, len);
}

CK_RV p11_value_issuer(const cs_cert *c, p11_value *v)
{
	return p11_value_name(v, X509_get_issuer_name(c->x509));
}

CK_RV p11_value_spki(const cs_cert *c, p11_value *v)
{
	unsigned char *der = NULL;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c->x509), &der);

	return p11_value_openssl_der(v, der, len);
}

CK_RV p11_value_serial(const cs_cert *c, p11_value *v)
{
	unsigned char *der = NULL;
	int len = i2d_ASN1_INTEGER(X509_get0_serialNumber(c->x509), &der);

	return p11_value_openssl_der(v, der, len);
}

/* The module's library context is the thread default inside every entry
 * point (module.c), so this fetch never reaches a provider from openssl.cnf. */
CK_RV p11_value_digest(const cs_cert *c, const char *md_name, p11_value *v)
{
	EVP_MD *md = EVP_MD_fetch(NULL, md_name, NULL);
	unsigned int len = 0;
	int ok;

	if (md == NULL)
		return CKR_GENERAL_ERROR;
	ok = EVP_Digest(c->der.data, c->der.len, v->buf, &len, md, NULL);
	EVP_MD_free(md);
	if (!ok)
		return CKR_GENERAL_ERROR;
	v->ptr = v->buf;
	v->len = len;
	return CKR_OK;
}

static char *subject_cn(const cs_cert *c)
{
	const X509_NAME *name = X509_get_subject_name(c->x509);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	char *out;

	if (i < 0)
		return NULL;
	if (ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))) < 0)
		return NULL;
	out = strdup((const char *)utf8);
	OPENSSL_free(utf8);
	return out;
}

CK_RV p11_value_label(const cs_cert *c, p11_value *v)
{
	char *cn;

	if (c->friendly_name != NULL && *c->friendly_name != '\0')
		return p11_value_bytes(v, c->friendly_name, strlen(c->friendly_name));
	cn = subject_cn(c);
	if (cn == NULL)
		return p11_value_bytes(v, c->subject, strlen(c->subject));
	v->heap = (unsigned char *)cn;
	return p11_value_bytes(v, cn, strlen(cn));
}

/* ---- certificate attributes --------------------------------------------- */
