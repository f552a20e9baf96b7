/*
 * trust.c - the trust a store means, in the two forms consumers read:
 *
 *  - CKO_NSS_TRUST objects (NSS, and through it Firefox/Thunderbird):
 *    Trusted Root certificates are trusted delegators (client
 *    authentication aside, see below), Untrusted ones are not trusted for
 *    anything;
 *  - CKO_X_TRUST_ASSERTION objects as p11-kit's trust module makes them:
 *    one "anchored certificate" assertion per purpose for a root, one
 *    "distrusted certificate" assertion (by issuer and serial) per purpose
 *    for an untrusted certificate.
 *
 * Both are derived from the row; nothing of them is stored.
 */
#include "p11.h"

#include <string.h>

/* The purposes p11-kit's trust module writes assertions for, in order. */
static const char *const purposes[P11_NPURPOSES] = {
	"1.3.6.1.5.5.7.3.1", /* serverAuth */
	"1.3.6.1.5.5.7.3.2", /* clientAuth */
	"1.3.6.1.5.5.7.3.4", /* emailProtection */
	"1.3.6.1.5.5.7.3.3", /* codeSigning */
	"1.3.6.1.5.5.7.3.5", /* ipsecEndSystem */
	"1.3.6.1.5.5.7.3.6", /* ipsecTunnel */
	"1.3.6.1.5.5.7.3.7", /* ipsecUser */
	"1.3.6.1.5.5.7.3.8", /* timeStamping */
};

int p11_purpose_index(const void *oid, size_t len)
{
	int i;

	for (i = 0; i < P11_NPURPOSES; i++)
		if (strlen(purposes[i]) == len && memcmp(purposes[i], oid, len) == 0)
			return i;
	return -1;
}

/* Attributes every derived trust object has. */
static CK_RV common_value(const p11_object *obj, CK_OBJECT_CLASS klass, CK_ATTRIBUTE_TYPE type,
			  p11_value *v)
{
	switch (type) {
	case CKA_CLASS:
		return p11_value_ulong(v, klass);
	case CKA_TOKEN:
		return p11_value_bool(v, true);
	case CKA_PRIVATE:
	case CKA_MODIFIABLE:
	case CKA_COPYABLE:
	case CKA_DESTROYABLE:
		return p11_value_bool(v, false);
	case CKA_LABEL:
		return p11_value_label(obj->cert, v);
	default:
		return CKR_ATTRIBUTE_TYPE_INVALID;
	}
}

static bool is_trust_level(CK_ATTRIBUTE_TYPE type)
{
	switch (type) {
	case CKA_TRUST_SERVER_AUTH:
	case CKA_TRUST_CLIENT_AUTH:
	case CKA_TRUST_EMAIL_PROTECTION:
	case CKA_TRUST_CODE_SIGNING:
	case CKA_TRUST_IPSEC_END_SYSTEM:
	case CKA_TRUST_IPSEC_TUNNEL:
	case CKA_TRUST_IPSEC_USER:
	case CKA_TRUST_TIME_STAMPING:
	case CKA_TRUST_DIGITAL_SIGNATURE:
	case CKA_TRUST_NON_REPUDIATION:
	case CKA_TRUST_KEY_ENCIPHERMENT:
	case CKA_TRUST_DATA_ENCIPHERMENT:
	case CKA_TRUST_KEY_AGREEMENT:
	case CKA_TRUST_KEY_CERT_SIGN:
	case CKA_TRUST_CRL_SIGN:
		return true;
	default:
		return false;
	}
}

static CK_RV trust_other_value(const p11_object *obj, CK_ATTRIBUTE_TYPE type, p11_value *v);

CK_RV p11_trust_value(const p11_object *obj, CK_ATTRIBUTE_TYPE type, p11_value *v)
{
	const cs_cert *c = obj->cert;

	if (!is_trust_level(type))
		return trust_other_value(obj, type, v);
	if (c->store != CS_STORE_ROOT)
		return p11_value_ulong(v, CKT_NSS_NOT_TRUSTED);
	/* As Mozilla's own root store does: a root vouches for servers, mail and
	 * code ("C,C,C" in certutil), while trusting it to issue client
	 * certificates (NSS's "T") stays a per-application decision. */
	if (type == CKA_TRUST_CLIENT_AUTH)
		return p11_value_ulong(v, CKT_NSS_MUST_VERIFY_TRUST);
	return p11_value_ulong(v, CKT_NSS_TRUSTED_DELEGATOR);
}

static CK_RV trust_other_value(const p11_object *obj, CK_ATTRIBUTE_TYPE type, p11_value *v)
{
	const cs_cert *c = obj->cert;

	switch (type) {
	case CKA_CERT_SHA1_HASH:
		return p11_value_digest(c, "SHA1", v);
	case CKA_CERT_MD5_HASH:
		return p11_value_digest(c, "MD5", v);
	case CKA_ISSUER:
		return p11_value_issuer(c, v);
	case CKA_SERIAL_NUMBER:
		return p11_value_serial(c, v);
	case CKA_TRUST_STEP_UP_APPROVED:
		return p11_value_bool(v, false);
	default:
		return common_value(obj, CKO_NSS_TRUST, type, v);
	}
}

CK_RV p11_assertion_value(const p11_object *obj, CK_ATTRIBUTE_TYPE type, p11_value *v)
{
	const cs_cert *c = obj->cert;
	const char *purpose = purposes[obj->kind - P11_KIND_ASSERTION];
	bool anchor = c->store == CS_STORE_ROOT;

	switch (type) {
	case CKA_X_ASSERTION_TYPE:
		return p11_value_ulong(v, anchor ? CKT_X_ANCHORED_CERTIFICATE
						 : CKT_X_DISTRUSTED_CERTIFICATE);
	case CKA_X_PURPOSE:
		return p11_value_bytes(v, purpose, strlen(purpose));
	case CKA_X_CERTIFICATE_VALUE:
		if (!anchor)
			return CKR_ATTRIBUTE_TYPE_INVALID;
		return p11_value_bytes(v, c->der.data, c->der.len);
	case CKA_ISSUER:
		if (anchor)
			return CKR_ATTRIBUTE_TYPE_INVALID;
		return p11_value_issuer(c, v);
	case CKA_SERIAL_NUMBER:
		if (anchor)
			return CKR_ATTRIBUTE_TYPE_INVALID;
		return p11_value_serial(c, v);
	default:
		return common_value(obj, CKO_X_TRUST_ASSERTION, type, v);
	}
}
