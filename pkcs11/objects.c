/*
 * objects.c - store rows as PKCS#11 certificate objects, and the attribute
 * plumbing every object kind shares (C_GetAttributeValue, template matching).
 * The kinds of object a row shows (certificate, trust, keys) are asked of
 * keyobj.c and trust.c; the values they are made of are values.c's.
 */
#include "p11.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

CK_OBJECT_HANDLE p11_handle(int64_t row, unsigned kind)
{
	return ((CK_OBJECT_HANDLE)row << P11_KIND_BITS) | kind;
}

size_t p11_object_kinds(const cs_cert *cert, bool private_visible, unsigned *kinds, size_t max)
{
	size_t n = 0, i;

	kinds[n++] = P11_KIND_CERT;
	if (cert->store == CS_STORE_ROOT || cert->store == CS_STORE_DISALLOWED) {
		kinds[n++] = P11_KIND_NSS_TRUST;
		for (i = 0; i < P11_NPURPOSES && n < max; i++)
			kinds[n++] = P11_KIND_ASSERTION + (unsigned)i;
	}
	if (p11_cert_has_key(cert) && n + 2 <= max) {
		kinds[n++] = P11_KIND_PUBLIC_KEY;
		/* a private object: there only for the logged-in user (5.6), so
		 * neither finding nor a remembered handle reaches it before */
		if (private_visible)
			kinds[n++] = P11_KIND_PRIVATE_KEY;
	}
	return n;
}

static CK_RV value_date(p11_value *v, int64_t when)
{
	time_t t = (time_t)when;
	struct tm tm;
	char s[32];
	CK_DATE d;

	if (gmtime_r(&t, &tm) == NULL || strftime(s, sizeof(s), "%Y%m%d", &tm) != 8)
		return CKR_GENERAL_ERROR;
	memcpy(d.year, s, 4);
	memcpy(d.month, s + 4, 2);
	memcpy(d.day, s + 6, 2);
	return p11_value_copy(v, &d, sizeof(d));
}

/* CKA_ID: SHA-1 of the subjectPublicKey BIT STRING, as store/keys/keys.h gives
 * the key objects in the HSM, so certificate and key pair up by CKA_ID. */
static CK_RV value_key_id(const cs_cert *c, p11_value *v)
{
	if (!cs_cert_key_id(c, v->buf))
		return CKR_GENERAL_ERROR;
	v->ptr = v->buf;
	v->len = 20;
	return CKR_OK;
}

static CK_RV value_check(const cs_cert *c, p11_value *v)
{
	unsigned char out[3];
	size_t i;

	for (i = 0; i < 3; i++) {
		unsigned int byte;

		if (sscanf(c->sha1 + 2 * i, "%2X", &byte) != 1)
			return CKR_GENERAL_ERROR;
		out[i] = (unsigned char)byte;
	}
	return p11_value_copy(v, out, sizeof(out));
}

static CK_ULONG category(const cs_cert *c)
{
	if (cs_cert_is_ca(c))
		return 2;					 /* authority */
	return c->store == CS_STORE_MY && c->key_uri != NULL ? 1 /* token user */
							     : 3 /* other entity */;
}

static CK_RV cert_value(const cs_cert *c, CK_ATTRIBUTE_TYPE type, p11_value *v)
{
	bool root = c->store == CS_STORE_ROOT;

	switch (type) {
	case CKA_CLASS:
		return p11_value_ulong(v, CKO_CERTIFICATE);
	case CKA_TOKEN:
		return p11_value_bool(v, true);
	case CKA_PRIVATE:
	case CKA_COPYABLE:
		return p11_value_bool(v, false);
	case CKA_MODIFIABLE:
	case CKA_DESTROYABLE:
		return p11_value_bool(v, root);
	case CKA_LABEL:
		return p11_value_label(c, v);
	case CKA_CERTIFICATE_TYPE:
		return p11_value_ulong(v, CKC_X_509);
	case CKA_TRUSTED:
		return p11_value_bool(v, root);
	case CKA_X_DISTRUSTED:
		return p11_value_bool(v, c->store == CS_STORE_DISALLOWED);
	case CKA_CERTIFICATE_CATEGORY:
		return p11_value_ulong(v, category(c));
	case CKA_CHECK_VALUE:
		return value_check(c, v);
	case CKA_START_DATE:
		return value_date(v, c->not_before);
	case CKA_END_DATE:
		return value_date(v, c->not_after);
	case CKA_SUBJECT:
		return p11_value_name(v, X509_get_subject_name(c->x509));
	case CKA_ISSUER:
		return p11_value_issuer(c, v);
	case CKA_SERIAL_NUMBER:
		return p11_value_serial(c, v);
	case CKA_VALUE:
		return p11_value_bytes(v, c->der.data, c->der.len);
	case CKA_ID:
		return value_key_id(c, v);
	case CKA_PUBLIC_KEY_INFO:
		return p11_value_spki(c, v);
	case CKA_URL:
	case CKA_HASH_OF_SUBJECT_PUBLIC_KEY:
	case CKA_HASH_OF_ISSUER_PUBLIC_KEY:
		return p11_value_bytes(v, "", 0);
	case CKA_JAVA_MIDP_SECURITY_DOMAIN:
		return p11_value_ulong(v, 0);
	default:
		return CKR_ATTRIBUTE_TYPE_INVALID;
	}
}

CK_RV p11_object_value(const p11_object *obj, CK_ATTRIBUTE_TYPE type, p11_value *v)
{
	memset(v, 0, sizeof(*v));
	if (obj->kind == P11_KIND_CERT)
		return cert_value(obj->cert, type, v);
	if (obj->kind == P11_KIND_NSS_TRUST)
		return p11_trust_value(obj, type, v);
	if (obj->kind >= P11_KIND_ASSERTION && obj->kind < P11_KIND_ASSERTION + P11_NPURPOSES)
		return p11_assertion_value(obj, type, v);
	if (obj->kind == P11_KIND_PUBLIC_KEY || obj->kind == P11_KIND_PRIVATE_KEY)
		return p11_key_value(obj, type, v);
	return CKR_ATTRIBUTE_TYPE_INVALID;
}

/* ---- C_GetAttributeValue and matching ----------------------------------- */

/*
 * Per attribute: unknown types, and the secret parts of a private key
 * (CKR_ATTRIBUTE_SENSITIVE), get CK_UNAVAILABLE_INFORMATION; a NULL
 * pValue asks for the length; a short buffer gets the length it needs (so a
 * caller can retry at once) and CKR_BUFFER_TOO_SMALL.  Every attribute is
 * processed even after one fails, as PKCS#11 asks.
 */
static CK_RV get_one(const p11_object *obj, CK_ATTRIBUTE_PTR a)
{
	p11_value v;
	CK_RV rv = p11_object_value(obj, a->type, &v);

	if (rv != CKR_OK) {
		a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
	} else if (a->pValue == NULL) {
		a->ulValueLen = v.len;
	} else if (a->ulValueLen < v.len) {
		a->ulValueLen = v.len;
		rv = CKR_BUFFER_TOO_SMALL;
	} else {
		memcpy(a->pValue, v.ptr, v.len);
		a->ulValueLen = v.len;
	}
	p11_value_clear(&v);
	return rv;
}

CK_RV p11_object_get(const p11_object *obj, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	CK_RV rv = CKR_OK, one;
	CK_ULONG i;

	for (i = 0; i < n; i++) {
		one = get_one(obj, &tmpl[i]);
		if (one == CKR_HOST_MEMORY || one == CKR_GENERAL_ERROR)
			return one;
		if (rv == CKR_OK)
			rv = one;
	}
	return rv;
}

bool p11_object_match(const p11_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	p11_value v;
	bool same;
	CK_ULONG i;

	for (i = 0; i < n; i++) {
		if (p11_object_value(obj, tmpl[i].type, &v) != CKR_OK) {
			p11_value_clear(&v);
			return false;
		}
		same = v.len == tmpl[i].ulValueLen &&
		       (v.len == 0 ||
			(tmpl[i].pValue != NULL && memcmp(v.ptr, tmpl[i].pValue, v.len) == 0));
		p11_value_clear(&v);
		if (!same)
			return false;
	}
	return true;
}
