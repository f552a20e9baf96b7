/*
 * create.c - the writable Trusted Root: C_CreateObject of a certificate adds
 * it to Root through libcertstore (one transaction, audit-logged),
 * C_DestroyObject removes it, C_SetAttributeValue renames it.  Trust objects
 * a writer sends along (p11-kit's trust assertions, NSS trust objects) are
 * accepted when they say what Root already means, and answered with the
 * object derived from the row; anything narrower or wider than "trusted for
 * everything" cannot be kept and is refused rather than widened.
 */
#include "p11.h"

#include <stdlib.h>
#include <string.h>

static const CK_ATTRIBUTE *attr_get(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_ATTRIBUTE_TYPE t)
{
	CK_ULONG i;

	for (i = 0; i < n; i++)
		if (tmpl[i].type == t)
			return &tmpl[i];
	return NULL;
}

static bool attr_ulong(const CK_ATTRIBUTE *a, CK_ULONG *out)
{
	if (a == NULL || a->pValue == NULL || a->ulValueLen != sizeof(CK_ULONG))
		return false;
	memcpy(out, a->pValue, sizeof(*out));
	return true;
}

/* A CK_BBOOL attribute, when present, must have this value. */
static bool bool_is(const CK_ATTRIBUTE *a, bool want)
{
	if (a == NULL)
		return true;
	if (a->pValue == NULL || a->ulValueLen != sizeof(CK_BBOOL))
		return false;
	return (*(const CK_BBOOL *)a->pValue != CK_FALSE) == want;
}

/* ---- certificates ------------------------------------------------------- */

/* Attributes a writer may send with a certificate: derived from the
 * certificate (checked where it matters), or the ones we keep. */
static CK_RV check_cert_template(const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_ULONG i, type;

	for (i = 0; i < n; i++) {
		switch (tmpl[i].type) {
		case CKA_CLASS:
		case CKA_VALUE:
		case CKA_LABEL:
		case CKA_SUBJECT:
		case CKA_ISSUER:
		case CKA_SERIAL_NUMBER:
		case CKA_ID:
		case CKA_CHECK_VALUE:
		case CKA_START_DATE:
		case CKA_END_DATE:
		case CKA_PUBLIC_KEY_INFO:
		case CKA_CERTIFICATE_CATEGORY:
		case CKA_MODIFIABLE:
		case CKA_COPYABLE:
		case CKA_DESTROYABLE:
		case CKA_URL:
		case CKA_HASH_OF_SUBJECT_PUBLIC_KEY:
		case CKA_HASH_OF_ISSUER_PUBLIC_KEY:
		case CKA_JAVA_MIDP_SECURITY_DOMAIN:
			break;
		case CKA_CERTIFICATE_TYPE:
			if (!attr_ulong(&tmpl[i], &type) || type != CKC_X_509)
				return CKR_ATTRIBUTE_VALUE_INVALID;
			break;
		case CKA_TOKEN:
		case CKA_TRUSTED:
			/* no session objects; everything in Root is trusted */
			if (!bool_is(&tmpl[i], true))
				return CKR_TEMPLATE_INCONSISTENT;
			break;
		case CKA_PRIVATE:
		case CKA_X_DISTRUSTED:
			if (!bool_is(&tmpl[i], false))
				return CKR_TEMPLATE_INCONSISTENT;
			break;
		default:
			return CKR_ATTRIBUTE_TYPE_INVALID;
		}
	}
	return CKR_OK;
}

/* What the writer says about subject, issuer and serial must be true. */
static CK_RV check_derived(const cs_cert *c, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	static const CK_ATTRIBUTE_TYPE checked[] = {CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER};
	p11_object obj = {.kind = P11_KIND_CERT, .cert = c};
	const CK_ATTRIBUTE *a;
	size_t i;

	for (i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
		a = attr_get(tmpl, n, checked[i]);
		if (a != NULL && !p11_object_match(&obj, a, 1))
			return CKR_TEMPLATE_INCONSISTENT;
	}
	return CKR_OK;
}

static char *label_of(const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	const CK_ATTRIBUTE *a = attr_get(tmpl, n, CKA_LABEL);

	if (a == NULL || a->pValue == NULL || a->ulValueLen == 0)
		return NULL;
	return strndup(a->pValue, a->ulValueLen);
}

/* Adds cert to Root (a duplicate is fine) and gives the handle of `kind`. */
static CK_RV add_to_root(cs_cert *cert, const char *label, unsigned kind, CK_OBJECT_HANDLE *out)
{
	cs_import_opts opts = {.store = CS_STORE_ROOT, .friendly_name = label};
	cs_import_result res = {0};
	cs_cert_list list = {0};
	cs_store *rw = NULL;
	cs_cert *stored = NULL;
	cs_err err = {0};
	char sha1[41];
	cs_rv crv;
	CK_RV rv;

	memcpy(sha1, cert->sha1, sizeof(sha1));
	crv = cs_cert_list_push(&list, cert, &err);
	if (crv != CS_OK)
		return p11_ckr(crv, &err);
	rv = p11_store_open_rw(&rw);
	if (rv != CKR_OK)
		goto out;
	crv = cs_import_certs(rw, &list, &opts, &res, &err);
	if (crv == CS_OK || crv == CS_ERR_DUPLICATE)
		crv = cs_store_find_by_thumbprint(rw, CS_STORE_ROOT, sha1, &stored, &err);
	rv = p11_ckr(crv, &err);
	if (rv == CKR_OK)
		*out = p11_handle(stored->id, kind);
out:
	cs_cert_free(stored);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&list);
	cs_store_close(rw);
	return rv;
}

static CK_RV parse_value(const CK_ATTRIBUTE *a, cs_cert **out)
{
	cs_err err = {0};
	cs_rv crv;

	if (a == NULL || a->pValue == NULL || a->ulValueLen == 0)
		return CKR_TEMPLATE_INCOMPLETE;
	crv = cs_cert_from_der(a->pValue, a->ulValueLen, out, &err);
	return crv == CS_OK ? CKR_OK : p11_ckr(CS_ERR_BAD_INPUT, &err);
}

static CK_RV create_cert(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	cs_cert *cert = NULL;
	char *label = NULL;
	CK_RV rv;

	rv = check_cert_template(tmpl, n);
	if (rv == CKR_OK)
		rv = parse_value(attr_get(tmpl, n, CKA_VALUE), &cert);
	if (rv == CKR_OK)
		rv = check_derived(cert, tmpl, n);
	if (rv != CKR_OK) {
		cs_cert_free(cert);
		return rv;
	}
	label = label_of(tmpl, n);
	rv = add_to_root(cert, label, P11_KIND_CERT, out);
	free(label);
	return rv;
}

/* ---- trust objects ------------------------------------------------------ */

static CK_RV create_assertion(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	const CK_ATTRIBUTE *purpose = attr_get(tmpl, n, CKA_X_PURPOSE);
	cs_cert *cert = NULL;
	CK_ULONG type;
	int index;
	CK_RV rv;

	if (!attr_ulong(attr_get(tmpl, n, CKA_X_ASSERTION_TYPE), &type) || purpose == NULL ||
	    purpose->pValue == NULL)
		return CKR_TEMPLATE_INCOMPLETE;
	if (type != CKT_X_ANCHORED_CERTIFICATE)
		return CKR_TEMPLATE_INCONSISTENT; /* Root holds anchors only */
	index = p11_purpose_index(purpose->pValue, purpose->ulValueLen);
	if (index < 0)
		return CKR_TEMPLATE_INCONSISTENT;
	rv = parse_value(attr_get(tmpl, n, CKA_X_CERTIFICATE_VALUE), &cert);
	if (rv != CKR_OK)
		return rv;
	return add_to_root(cert, NULL, P11_KIND_ASSERTION + (unsigned)index, out);
}

static const CK_ATTRIBUTE_TYPE purpose_levels[] = {
	CKA_TRUST_SERVER_AUTH,	CKA_TRUST_CLIENT_AUTH,	    CKA_TRUST_EMAIL_PROTECTION,
	CKA_TRUST_CODE_SIGNING, CKA_TRUST_IPSEC_END_SYSTEM, CKA_TRUST_IPSEC_TUNNEL,
	CKA_TRUST_IPSEC_USER,	CKA_TRUST_TIME_STAMPING,
};

/* NSS writes its trust object after the certificate: answer with ours when
 * it asks for what Root means (trusted delegator for each purpose it names;
 * for client authentication also "must verify", which is what Root gives). */
static CK_RV create_nss_trust(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_HANDLE *found = NULL;
	CK_ULONG level;
	size_t i, nfound = 0;
	const CK_ATTRIBUTE *a;
	CK_ATTRIBUTE keys[3];
	CK_ULONG nkeys = 0;
	CK_RV rv;

	for (i = 0; i < sizeof(purpose_levels) / sizeof(purpose_levels[0]); i++) {
		a = attr_get(tmpl, n, purpose_levels[i]);
		if (a == NULL)
			continue;
		if (!attr_ulong(a, &level))
			return CKR_ATTRIBUTE_VALUE_INVALID;
		if (level != CKT_NSS_TRUSTED_DELEGATOR &&
		    !(purpose_levels[i] == CKA_TRUST_CLIENT_AUTH &&
		      level == CKT_NSS_MUST_VERIFY_TRUST))
			return CKR_TEMPLATE_INCONSISTENT;
	}
	if ((a = attr_get(tmpl, n, CKA_CERT_SHA1_HASH)) != NULL)
		keys[nkeys++] = *a;
	if ((a = attr_get(tmpl, n, CKA_ISSUER)) != NULL)
		keys[nkeys++] = *a;
	if ((a = attr_get(tmpl, n, CKA_SERIAL_NUMBER)) != NULL)
		keys[nkeys++] = *a;
	if (nkeys == 0)
		return CKR_TEMPLATE_INCOMPLETE;
	{
		CK_OBJECT_CLASS klass = CKO_NSS_TRUST;
		CK_ATTRIBUTE want[4] = {{CKA_CLASS, &klass, sizeof(klass)}};

		memcpy(want + 1, keys, nkeys * sizeof(keys[0]));
		rv = p11_find(CS_STORE_ROOT, want, nkeys + 1, &found, &nfound);
	}
	if (rv == CKR_OK && nfound == 0)
		rv = CKR_TEMPLATE_INCONSISTENT; /* no such certificate in Root */
	if (rv == CKR_OK)
		*out = found[0];
	free(found);
	return rv;
}

CK_RV p11_create(cs_store_id store, const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS klass;

	if ((tmpl == NULL && n > 0) || out == NULL)
		return CKR_ARGUMENTS_BAD;
	if (store != CS_STORE_ROOT)
		return CKR_TOKEN_WRITE_PROTECTED;
	if (!attr_ulong(attr_get(tmpl, n, CKA_CLASS), &klass))
		return CKR_TEMPLATE_INCOMPLETE;
	switch (klass) {
	case CKO_CERTIFICATE:
		return create_cert(tmpl, n, out);
	case CKO_X_TRUST_ASSERTION:
		return create_assertion(tmpl, n, out);
	case CKO_NSS_TRUST:
		return create_nss_trust(tmpl, n, out);
	default:
		/* e.g. p11-kit's attached extensions (CKO_X_CERTIFICATE_EXTENSION):
		 * Root cannot keep a restriction, and dropping it would widen trust */
		return CKR_TEMPLATE_INCONSISTENT;
	}
}

/* ---- destroy and rename ------------------------------------------------- */

CK_RV p11_destroy(cs_store_id store, CK_OBJECT_HANDLE h)
{
	p11_object obj;
	cs_store *rw = NULL;
	cs_err err = {0};
	CK_RV rv;

	rv = p11_object_load_visible(h, store, &obj);
	if (rv != CKR_OK)
		return rv;
	if (store != CS_STORE_ROOT)
		return CKR_TOKEN_WRITE_PROTECTED;
	if (obj.kind != P11_KIND_CERT)
		return CKR_ACTION_PROHIBITED; /* derived: remove the certificate instead */
	rv = p11_store_open_rw(&rw);
	if (rv == CKR_OK)
		rv = p11_ckr(cs_store_delete(rw, obj.cert, &err), &err);
	cs_store_close(rw);
	return rv;
}

static CK_RV check_settable(const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_ULONG i;

	for (i = 0; i < n; i++) {
		if (tmpl[i].type == CKA_LABEL)
			continue;
		if (tmpl[i].type == CKA_TRUSTED && bool_is(&tmpl[i], true))
			continue; /* `trust anchor --store` of an anchor we have */
		return CKR_ATTRIBUTE_READ_ONLY;
	}
	return CKR_OK;
}

CK_RV p11_set_attributes(cs_store_id store, CK_OBJECT_HANDLE h, const CK_ATTRIBUTE *tmpl,
			 CK_ULONG n)
{
	p11_object obj;
	cs_store *rw = NULL;
	cs_err err = {0};
	char *label;
	CK_RV rv;

	if (tmpl == NULL && n > 0)
		return CKR_ARGUMENTS_BAD;
	rv = p11_object_load_visible(h, store, &obj);
	if (rv != CKR_OK)
		return rv;
	if (store != CS_STORE_ROOT || obj.kind != P11_KIND_CERT)
		return CKR_ATTRIBUTE_READ_ONLY;
	rv = check_settable(tmpl, n);
	if (rv != CKR_OK || attr_get(tmpl, n, CKA_LABEL) == NULL)
		return rv;
	label = label_of(tmpl, n);
	rv = p11_store_open_rw(&rw);
	if (rv == CKR_OK)
		rv = p11_ckr(cs_store_set_friendly_name(rw, obj.cert, label, &err), &err);
	cs_store_close(rw);
	free(label);
	return rv;
}
