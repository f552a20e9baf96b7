/*
 * accept.c - certreq -accept: an imported certificate that answers a pending
 * request takes over its key, and a renewal it completes moves the usages.
 * certs/import.c asks through the hooks cs_requests_attach installs
 * (cs_import_hooks, internal.h), so certificates know nothing of requests.
 */
#include "db_requests.h"
#include "request.h"
#include "requests.h"
#include "usage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* certreq -accept: the certificate takes over the pending request's key. */
static cs_rv accept_pending(cs_store *store, cs_cert *cert, const cs_import_opts *opts,
			    int64_t *request_id, char *renewed, cs_err *err)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert->x509);
	cs_pending *p = NULL;
	char key_id[41];
	cs_rv rv;

	*request_id = 0;
	if (pub == NULL || cs_pubkey_id_hex(pub, key_id, NULL) != CS_OK)
		return CS_OK;
	/* A same-key renewal shares its key with others left pending (a renew
	 * killed before the CA answered): the caller names the request it sent. */
	if (opts != NULL && opts->request_id != 0) {
		rv = cs_pending_get(store, opts->request_id, &p, err);
		if (rv == CS_OK && strcmp(p->key_id, key_id) != 0) {
			cs_pending_free(p);
			p = NULL;
			rv = CS_ERR_NOT_FOUND;
		}
	} else
		rv = cs_pending_find_by_key_id(store, key_id, &p, NULL);
	if (rv == CS_ERR_NOT_FOUND)
		return CS_OK;
	if (rv != CS_OK)
		return cs_pending_find_by_key_id(store, key_id, &p, err);
	free(cert->key_uri);
	cert->key_uri = cs_strdup_or_null(p->key_uri);
	cert->exportable = p->exportable;
	if ((opts == NULL || opts->friendly_name == NULL) && p->friendly_name != NULL) {
		free(cert->friendly_name);
		cert->friendly_name = strdup(p->friendly_name);
	}
	if (p->ca_profile != NULL && cert->ca_profile == NULL)
		cert->ca_profile = strdup(p->ca_profile);
	if (p->renews != NULL)
		snprintf(renewed, 41, "%s", p->renews);
	*request_id = p->id;
	cs_pending_free(p);
	return CS_OK;
}

static cs_rv finish_accept(cs_store *store, const cs_cert *cert, int64_t request_id, cs_err *err)
{
	char detail[768];
	cs_rv rv = cs_db_pending_delete(store, request_id, err);

	if (rv != CS_OK)
		return rv;
	snprintf(detail, sizeof(detail), "pending %lld answered by %s %s", (long long)request_id,
		 cert->sha1, cert->subject);
	return cs_db_audit_insert(store, "accept", detail, err);
}

/* Inside the import's transaction, after cert's row: the request is
 * answered, and the renewal it was (if any) recorded. */
static cs_rv answered(cs_store *store, const cs_cert *cert, int64_t request_id, const char *renewed,
		      bool *moved, cs_err *err)
{
	cs_rv rv = finish_accept(store, cert, request_id, err);

	if (rv == CS_OK && renewed[0] != '\0')
		rv = cs_renewal_record(store, cert, renewed, moved, err);
	return rv;
}

/* After the commit: the usages moved to the new certificate are published,
 * or the renewal completed. */
static cs_rv committed(cs_store *store, const char *sha1, const char *renewed, bool moved,
		       cs_err *err)
{
	if (moved)
		return cs_renewal_publish(store, sha1, err);
	if (renewed[0] != '\0')
		return cs_renewal_complete(store, renewed, sha1, err);
	return CS_OK;
}

static const cs_import_hooks request_hooks = {accept_pending, answered, committed};

void cs_requests_attach(cs_store *store)
{
	store->import_hooks = &request_hooks;
}
