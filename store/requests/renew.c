/*
 * renew.c - renewal: asking again for what a certificate has, and moving
 * its usages to the new one once issued.
 */
#include "db_certs.h"
#include "request.h"
#include "renewal.h"
#include "usage.h"
#include "internal.h"
#include "db_usages.h"
#include "usages.h"
#include "keys.h"

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

cs_rv cs_request_spec_from_cert(const cs_cert *cert, cs_request_spec *spec, cs_err *err)
{
	char subject[1024];
	cs_key_spec key;
	cs_rv rv;

	cs_key_spec_of_public(X509_get0_pubkey(cert->x509), &key);
	/* oneline keeps the certificate's order of RDNs: "/C=GB/O=X/CN=y" */
	X509_NAME_oneline(X509_get_subject_name(cert->x509), subject, sizeof(subject));
	rv = cs_request_spec_set(&spec->subject, subject, err);
	if (rv == CS_OK)
		rv = cs_request_spec_set(&spec->key, cs_key_spec_name(&key), err);
	if (rv == CS_OK && cert->friendly_name != NULL)
		rv = cs_request_spec_set(&spec->friendly_name, cert->friendly_name, err);
	if (rv == CS_OK)
		rv = add_sans(cert, spec, err);
	spec->exportable = cert->exportable;
	return rv;
}

cs_rv cs_renewal_complete(cs_store *store, const char *old_sha1, const char *new_sha1, cs_err *err)
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

/*
 * The database half of a renewal, inside the transaction that installs the
 * new certificate and removes its pending request: every usage of old_sha1
 * points at new_cert (the old one becomes their previous) and the old one
 * is archived.  So a crash leaves the renewal either not installed or
 * installed and moved, never installed beside a certificate still serving
 * and not archived; `certstore check` brings the published files up to it.
 * Nothing moves when the new certificate is not Valid (*moved = false):
 * cs_renewal_complete then refuses as assign would.
 */
cs_rv cs_renewal_record(cs_store *store, const cs_cert *new_cert, const char *old_sha1, bool *moved,
			cs_err *err)
{
	cs_status_report r = {0};
	cs_usage_list l = {0};
	cs_cert *old_cert = NULL;
	char detail[512];
	cs_rv rv;
	size_t i;

	*moved = false;
	rv = cs_status_compute(store, new_cert, 0, &r, err);
	if (rv != CS_OK || r.status != CS_STATUS_VALID) {
		cs_status_report_clear(&r);
		return rv;
	}
	cs_status_report_clear(&r);
	rv = cs_store_find_by_thumbprint(store, CS_STORE_MY, old_sha1, &old_cert, err);
	if (rv == CS_OK)
		rv = cs_db_usage_select(store, NULL, &l, err);
	for (i = 0; rv == CS_OK && i < l.n; i++) {
		cs_usage *u = &l.items[i];

		if (strcmp(u->sha1, old_sha1) != 0)
			continue;
		memcpy(u->previous_sha1, u->sha1, sizeof(u->sha1));
		memcpy(u->sha1, new_cert->sha1, sizeof(u->sha1));
		if (strcmp(u->staged_sha1, new_cert->sha1) == 0) {
			u->staged_sha1[0] = '\0';
			u->staged_at = 0;
		}
		u->assigned_at = (int64_t)cs_now();
		/* the "assign" row comes with the publish; "renew" below says it first */
		rv = cs_db_usage_upsert(store, u, err);
	}
	if (rv == CS_OK)
		rv = cs_db_cert_set_flag(store, old_cert->id, "archived", true, err);
	snprintf(detail, sizeof(detail), "My %s", old_sha1);
	if (rv == CS_OK)
		rv = cs_db_audit_insert(store, "archive", detail, err);
	snprintf(detail, sizeof(detail), "%s renewed by %s", old_sha1, new_cert->sha1);
	if (rv == CS_OK)
		rv = cs_db_audit_insert(store, "renew", detail, err);
	*moved = rv == CS_OK;
	cs_usage_list_clear(&l);
	cs_cert_free(old_cert);
	return rv;
}

/* After cs_renewal_record's transaction: publishes every usage new_sha1
 * serves and runs its hooks (as cs_usage_move_all does). */
cs_rv cs_renewal_publish(cs_store *store, const char *new_sha1, cs_err *err)
{
	cs_cert *new_cert = NULL;
	cs_rv rv;

	rv = cs_store_find_by_thumbprint(store, CS_STORE_MY, new_sha1, &new_cert, err);
	/* the usages already name new_sha1: this publishes and runs the hooks */
	if (rv == CS_OK)
		rv = cs_usage_reassign_serving(store, new_sha1, new_cert, true, err);
	cs_cert_free(new_cert);
	return rv;
}
