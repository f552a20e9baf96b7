/*
 * renew.c - renewal: asking again for what a certificate has, and moving
 * its usages to the new one once issued.
 */
#include "request.h"
#include "usage.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

static cs_rv add_sans(const cs_cert *cert, cs_request_spec *spec, cs_err *err)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert->x509, NID_subject_alt_name, NULL, NULL);
	char buf[600], ip[64];
	cs_rv rv = CS_OK;
	int i;

	for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names) && rv == CS_OK; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		const ASN1_STRING *s = NULL;
		const char *kind = NULL;

		if (gn->type == GEN_DNS)
			kind = "dns", s = gn->d.dNSName;
		else if (gn->type == GEN_EMAIL)
			kind = "email", s = gn->d.rfc822Name;
		else if (gn->type == GEN_URI)
			kind = "uri", s = gn->d.uniformResourceIdentifier;
		if (s != NULL) {
			snprintf(buf, sizeof(buf), "%s:%.*s", kind, ASN1_STRING_length(s),
				 (const char *)ASN1_STRING_get0_data(s));
			rv = cs_request_spec_add_san(spec, buf, err);
		} else if (gn->type == GEN_IPADD && gn->d.iPAddress->length == 4) {
			const unsigned char *a = gn->d.iPAddress->data;

			snprintf(ip, sizeof(ip), "ip:%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
			rv = cs_request_spec_add_san(spec, ip, err);
		}
	}
	GENERAL_NAMES_free(names);
	return rv;
}

static const char *key_name(EVP_PKEY *pub)
{
	char group[64] = "";

	if (EVP_PKEY_is_a(pub, "RSA"))
		switch (EVP_PKEY_get_bits(pub)) {
		case 3072: return "rsa:3072";
		case 4096: return "rsa:4096";
		default: return "rsa:2048";
		}
	EVP_PKEY_get_utf8_string_param(pub, "group", group, sizeof(group), NULL);
	return strcmp(group, "secp384r1") == 0 ? "ec:p384" : "ec:p256";
}

cs_rv cs_request_spec_from_cert(const cs_cert *cert, cs_request_spec *spec, cs_err *err)
{
	char subject[1024];
	cs_rv rv;

	/* oneline keeps the certificate's order of RDNs: "/C=GB/O=X/CN=y" */
	X509_NAME_oneline(X509_get_subject_name(cert->x509), subject, sizeof(subject));
	rv = cs_request_spec_set(&spec->subject, subject, err);
	if (rv == CS_OK)
		rv = cs_request_spec_set(&spec->key, key_name(X509_get0_pubkey(cert->x509)), err);
	if (rv == CS_OK && cert->friendly_name != NULL)
		rv = cs_request_spec_set(&spec->friendly_name, cert->friendly_name, err);
	if (rv == CS_OK)
		rv = add_sans(cert, spec, err);
	spec->exportable = cert->exportable;
	return rv;
}

cs_rv cs_renewal_complete(cs_store *store, const char *old_sha1, const char *new_sha1,
			  cs_err *err)
{
	cs_cert *old_cert = NULL, *new_cert = NULL;
	char detail[160];
	cs_rv rv;

	rv = cs_store_find_by_thumbprint(store, CS_STORE_MY, old_sha1, &old_cert, err);
	if (rv == CS_OK)
		rv = cs_store_find_by_thumbprint(store, CS_STORE_MY, new_sha1, &new_cert, err);
	if (rv == CS_OK)
		rv = cs_usage_move_all(store, old_cert, new_cert, err);
	if (rv == CS_OK)
		rv = cs_store_set_archived(store, old_cert, true, err);
	snprintf(detail, sizeof(detail), "%s renewed by %s", old_sha1, new_sha1);
	if (rv == CS_OK)
		rv = cs_audit_add(store, "renew", detail, err);
	cs_cert_free(old_cert);
	cs_cert_free(new_cert);
	return rv;
}
