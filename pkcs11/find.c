/*
 * find.c - C_FindObjectsInit: which rows can match a template (by an index
 * when the template names one: subject, issuer and serial, SHA-1 of the
 * certificate, the certificate itself, CKA_ID), then the exact match per object.
 */
#include "p11.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

static const CK_ATTRIBUTE *attr_find(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_ATTRIBUTE_TYPE t)
{
	CK_ULONG i;

	for (i = 0; i < n; i++)
		if (tmpl[i].type == t && tmpl[i].pValue != NULL)
			return &tmpl[i];
	return NULL;
}

static bool class_is_ours(const CK_ATTRIBUTE *a)
{
	CK_OBJECT_CLASS k;

	if (a == NULL)
		return true;
	if (a->ulValueLen != sizeof(k))
		return false;
	memcpy(&k, a->pValue, sizeof(k));
	return k == CKO_CERTIFICATE || k == CKO_NSS_TRUST || k == CKO_X_TRUST_ASSERTION ||
	       k == CKO_PUBLIC_KEY || k == CKO_PRIVATE_KEY;
}

static cs_rv by_subject(const CK_ATTRIBUTE *a, const cs_find_opts *o, cs_cert_list *out,
			cs_err *err)
{
	const unsigned char *p = a->pValue;
	X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)a->ulValueLen);
	cs_rv rv = CS_OK;

	if (name != NULL)
		rv = cs_store_find_by_subject(p11_store_ro(), name, o, out, err);
	X509_NAME_free(name);
	return rv;
}

static cs_rv by_issuer_serial(const CK_ATTRIBUTE *ia, const CK_ATTRIBUTE *sa, const cs_find_opts *o,
			      cs_cert_list *out, cs_err *err)
{
	const unsigned char *p = ia->pValue, *q = sa->pValue;
	X509_NAME *issuer = d2i_X509_NAME(NULL, &p, (long)ia->ulValueLen);
	ASN1_INTEGER *serial = d2i_ASN1_INTEGER(NULL, &q, (long)sa->ulValueLen);
	cs_rv rv = CS_OK;

	if (issuer != NULL && serial != NULL)
		rv = cs_store_find_by_issuer_serial(p11_store_ro(), issuer, serial, o, out, err);
	X509_NAME_free(issuer);
	ASN1_INTEGER_free(serial);
	return rv;
}

static cs_rv by_sha1(const unsigned char *sha1, cs_store_id store, cs_cert_list *out, cs_err *err)
{
	static const char hexdig[] = "0123456789ABCDEF";
	char hex[41];
	cs_cert *c = NULL;
	cs_rv rv;
	int i;

	for (i = 0; i < 20; i++) {
		hex[2 * i] = hexdig[sha1[i] >> 4];
		hex[2 * i + 1] = hexdig[sha1[i] & 15];
	}
	hex[40] = '\0';
	rv = cs_store_find_by_thumbprint(p11_store_ro(), store, hex, &c, err);
	if (rv == CS_ERR_NOT_FOUND)
		return CS_OK;
	if (rv == CS_OK && c->archived) {
		cs_cert_free(c);
		return CS_OK;
	}
	return rv == CS_OK ? cs_cert_list_push(out, c, err) : rv;
}

static cs_rv by_value(const CK_ATTRIBUTE *a, cs_store_id store, cs_cert_list *out, cs_err *err)
{
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA1", NULL);
	unsigned char sha1[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	int ok;

	if (md == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "SHA-1 is not available");
	ok = EVP_Digest(a->pValue, a->ulValueLen, sha1, &len, md, NULL);
	EVP_MD_free(md);
	if (!ok)
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot compute SHA-1");
	return by_sha1(sha1, store, out, err);
}

/* The rows worth matching: through an index when the template allows. */
static cs_rv candidates(cs_store_id store, const CK_ATTRIBUTE *tmpl, CK_ULONG n, cs_cert_list *out,
			cs_err *err)
{
	cs_find_opts o = {.store = store};
	const CK_ATTRIBUTE *a, *b;

	if (!class_is_ours(attr_find(tmpl, n, CKA_CLASS)))
		return CS_OK;
	if ((a = attr_find(tmpl, n, CKA_SUBJECT)) != NULL)
		return by_subject(a, &o, out, err);
	a = attr_find(tmpl, n, CKA_ISSUER);
	b = attr_find(tmpl, n, CKA_SERIAL_NUMBER);
	if (a != NULL && b != NULL)
		return by_issuer_serial(a, b, &o, out, err);
	if ((a = attr_find(tmpl, n, CKA_CERT_SHA1_HASH)) != NULL)
		return a->ulValueLen == 20 ? by_sha1(a->pValue, store, out, err) : CS_OK;
	if ((a = attr_find(tmpl, n, CKA_VALUE)) != NULL ||
	    (a = attr_find(tmpl, n, CKA_X_CERTIFICATE_VALUE)) != NULL)
		return by_value(a, store, out, err);
	if ((a = attr_find(tmpl, n, CKA_ID)) != NULL)
		return cs_store_find_by_key_id(p11_store_ro(), a->pValue, a->ulValueLen, &o, out,
					       err);
	return cs_store_list(p11_store_ro(), &o, out, err);
}

static CK_RV push(CK_OBJECT_HANDLE **arr, size_t *n, size_t *cap, CK_OBJECT_HANDLE h)
{
	CK_OBJECT_HANDLE *grown;

	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		grown = realloc(*arr, *cap * sizeof(*grown));
		if (grown == NULL)
			return CKR_HOST_MEMORY;
		*arr = grown;
	}
	(*arr)[(*n)++] = h;
	return CKR_OK;
}

/* Matches every object a certificate shows as; true when one matched. */
static CK_RV match_cert(const cs_cert *c, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
			CK_OBJECT_HANDLE **arr, size_t *nout, size_t *cap, bool *any)
{
	unsigned kinds[16];
	size_t i, nk = p11_object_kinds(c, p11_private_visible(c->store), kinds, 16);
	p11_object obj = {.cert = c};
	CK_RV rv;

	for (i = 0; i < nk; i++) {
		obj.kind = kinds[i];
		obj.handle = p11_handle(c->id, kinds[i]);
		if (!p11_object_match(&obj, tmpl, n))
			continue;
		rv = push(arr, nout, cap, obj.handle);
		if (rv != CKR_OK)
			return rv;
		*any = true;
	}
	return CKR_OK;
}

CK_RV p11_find(cs_store_id store, const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE **out,
	       size_t *nout)
{
	cs_cert_list list = {0};
	size_t cap = 0, i;
	cs_err err = {0};
	bool present, any;
	CK_RV rv;
	cs_rv crv;

	*out = NULL;
	*nout = 0;
	rv = p11_store_refresh(&present);
	if (rv != CKR_OK || !present)
		return rv;
	crv = candidates(store, tmpl, n, &list, &err);
	if (crv != CS_OK)
		return p11_ckr(crv, &err);
	for (i = 0; i < list.n && rv == CKR_OK; i++) {
		any = false;
		rv = match_cert(list.items[i], tmpl, n, out, nout, &cap, &any);
		if (any) {
			/* keep it: the caller reads attributes of what it found next */
			p11_cache_put(list.items[i]);
			list.items[i] = NULL;
		}
	}
	cs_cert_list_clear(&list);
	if (rv != CKR_OK) {
		free(*out);
		*out = NULL;
		*nout = 0;
	}
	return rv;
}
