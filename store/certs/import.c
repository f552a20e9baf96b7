/*
 * import.c - certificates in: where each one goes, and all of them or none.
 */
#include "db_certs.h"
#include "certs.h"
#include "usage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cs_import_result_clear(cs_import_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->n; i++)
		free(res->items[i].subject);
	free(res->items);
	memset(res, 0, sizeof(*res));
}

static bool is_root(const cs_cert *cert)
{
	return cs_cert_is_ca(cert) && cs_cert_is_self_signed(cert);
}

/*
 * Trust is only added when the admin names Root: a self-signed CA arriving in
 * a bundle is skipped, never silently trusted.  Naming Root trusts
 * self-signed certificates only (a v1 root has no CA flag, and a
 * self-signed server certificate may be pinned on purpose): a certificate
 * some CA issued, such as the server certificate or the intermediate of a
 * chain.p7b, goes where it belongs (*not_root tells the caller to say so),
 * since in Root it would be an anchor nobody decided on.
 */
static cs_import_outcome place(const cs_cert *cert, const cs_import_opts *opts, bool placed,
			       cs_store_id *where, bool *not_root)
{
	*not_root = false;
	if (placed && cert->store != CS_STORE_NONE) {
		*where = cert->store;
		return CS_IMPORT_ADDED;
	}
	if (opts != NULL && opts->store == CS_STORE_ROOT && !cs_cert_is_self_signed(cert)) {
		*not_root = true;
		*where = cs_cert_is_ca(cert) ? CS_STORE_CA : CS_STORE_MY;
		return CS_IMPORT_ADDED;
	}
	if (opts != NULL && opts->store != CS_STORE_NONE) {
		*where = opts->store;
		return CS_IMPORT_ADDED;
	}
	if (is_root(cert)) {
		*where = CS_STORE_ROOT;
		return CS_IMPORT_SKIPPED_ROOT;
	}
	*where = cs_cert_is_ca(cert) ? CS_STORE_CA : CS_STORE_MY;
	return CS_IMPORT_ADDED;
}

static bool friendly_name_applies(const cs_cert_list *certs, const cs_cert *cert)
{
	return certs->n == 1 || !cs_cert_is_ca(cert);
}

static cs_rv record(cs_import_result *res, cs_import_outcome outcome, cs_store_id where,
		    const cs_cert *cert, cs_err *err)
{
	cs_import_item *grown = realloc(res->items, (res->n + 1) * sizeof(*grown));
	cs_import_item *item;

	if (grown == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	res->items = grown;
	item = &res->items[res->n++];
	item->outcome = outcome;
	item->store = where;
	memcpy(item->sha1, cert->sha1, sizeof(item->sha1));
	item->subject = strdup(cert->subject);
	item->request_id = 0;
	item->renewed[0] = '\0';
	item->moved = false;
	item->not_root = false;
	item->key_attached = false;
	if (outcome == CS_IMPORT_ADDED)
		res->added++;
	else if (outcome == CS_IMPORT_DUPLICATE)
		res->duplicates++;
	else
		res->skipped_roots++;
	return CS_OK;
}

static cs_rv is_present(cs_store *store, cs_store_id where, const cs_cert *cert, bool *out,
			cs_err *err)
{
	cs_db_query q = {.store = where, .include_archived = true, .sha1 = cert->sha1};
	int64_t n = 0;
	cs_rv rv = cs_db_certs_count(store, &q, &n, err);

	*out = n > 0;
	return rv;
}

static cs_rv add_one(cs_store *store, const cs_cert_list *certs, cs_cert *cert,
		     const cs_import_opts *opts, bool placed, cs_import_result *res, cs_err *err)
{
	const cs_import_hooks *hooks = store->import_hooks;
	cs_import_outcome outcome;
	cs_store_id where;
	char detail[768];
	int64_t request_id = 0;
	char renewed[41] = "";
	bool present, moved = false, not_root;
	cs_rv rv;

	outcome = place(cert, opts, placed, &where, &not_root);
	/* A root met again (in a response, a PFX) is already trusted, not "skipped". */
	if (outcome == CS_IMPORT_ADDED || outcome == CS_IMPORT_SKIPPED_ROOT) {
		rv = is_present(store, where, cert, &present, err);
		if (rv != CS_OK)
			return rv;
		if (present)
			outcome = CS_IMPORT_DUPLICATE;
	}
	if (outcome == CS_IMPORT_ADDED) {
		cert->store = where;
		if (opts != NULL && opts->friendly_name != NULL &&
		    friendly_name_applies(certs, cert)) {
			free(cert->friendly_name);
			cert->friendly_name = strdup(opts->friendly_name);
		}
		if (where == CS_STORE_MY && !cs_cert_is_ca(cert) && hooks != NULL) {
			rv = hooks->accept(store, cert, opts, &request_id, renewed, err);
			if (rv != CS_OK)
				return rv;
		}
		rv = cs_db_cert_insert(store, cert, err);
		snprintf(detail, sizeof(detail), "%s %s %s", cs_store_id_name(where), cert->sha1,
			 cert->subject);
		if (rv == CS_OK)
			rv = cs_db_audit_insert(store, "import", detail, err);
		if (rv == CS_OK && request_id != 0)
			rv = hooks->answered(store, cert, request_id, renewed, &moved, err);
		if (rv != CS_OK)
			return rv;
	}
	rv = record(res, outcome, where, cert, err);
	if (rv == CS_OK)
		res->items[res->n - 1].not_root = not_root;
	if (rv == CS_OK && request_id != 0) {
		res->items[res->n - 1].request_id = request_id;
		memcpy(res->items[res->n - 1].renewed, renewed, sizeof(renewed));
		res->items[res->n - 1].moved = moved;
		res->accepted++;
	}
	return rv;
}

static bool added_to_root(const cs_import_result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++)
		if (res->items[i].outcome == CS_IMPORT_ADDED &&
		    res->items[i].store == CS_STORE_ROOT)
			return true;
	return false;
}

static cs_rv import_all(cs_store *store, const cs_cert_list *certs, const cs_import_opts *opts,
			bool placed, cs_import_result *res, cs_err *err)
{
	size_t i;
	cs_rv rv;

	memset(res, 0, sizeof(*res));
	if (certs->n == 0)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "nothing to import");
	rv = cs_db_begin(store, err);
	if (rv != CS_OK)
		return rv;
	for (i = 0; i < certs->n && rv == CS_OK; i++)
		rv = add_one(store, certs, certs->items[i], opts, placed, res, err);
	if (rv == CS_OK)
		rv = cs_db_commit(store, err);
	else
		cs_db_rollback(store);
	if (rv != CS_OK) {
		cs_import_result_clear(res);
		return rv;
	}
	rv = added_to_root(res) ? cs_after_root_change(store, err) : CS_OK;
	for (i = 0; rv == CS_OK && i < res->n; i++)
		if (res->items[i].request_id != 0)
			rv = store->import_hooks->committed(store, res->items[i].sha1,
							    res->items[i].renewed,
							    res->items[i].moved, err);
	return rv;
}

cs_rv cs_import_certs(cs_store *store, const cs_cert_list *certs, const cs_import_opts *opts,
		      cs_import_result *res, cs_err *err)
{
	return import_all(store, certs, opts, false, res, err);
}

cs_rv cs_import_certs_placed(cs_store *store, const cs_cert_list *certs, const cs_import_opts *opts,
			     cs_import_result *res, cs_err *err)
{
	return import_all(store, certs, opts, true, res, err);
}

cs_rv cs_import_file(cs_store *store, const char *path, const cs_import_opts *opts,
		     cs_import_result *res, cs_err *err)
{
	cs_bytes data = {0};
	cs_cert_list certs = {0};
	cs_rv rv;

	memset(res, 0, sizeof(*res));
	rv = cs_read_file(path, &data, err);
	if (rv != CS_OK)
		goto out;
	rv = cs_parse_certs(data.data, data.len, NULL, &certs, err);
	if (rv != CS_OK) {
		cs_err_prefix(err, "%s", path);
		goto out;
	}
	rv = cs_import_certs(store, &certs, opts, res, err);
out:
	cs_cert_list_clear(&certs);
	cs_bytes_clear(&data);
	return rv;
}
