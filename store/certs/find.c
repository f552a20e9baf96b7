/*
 * find.c - turning what an admin types (thumbprint, prefix, friendly name)
 * into certificates.
 */
#include "db_certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cs_rv cs_store_list(cs_store *store, const cs_find_opts *opts, cs_cert_list *out, cs_err *err)
{
	cs_db_query q = {0};

	cs_db_query_scope(&q, opts);
	return cs_db_certs_select(store, &q, out, err);
}

cs_rv cs_store_count(cs_store *store, const cs_find_opts *opts, int64_t *out, cs_err *err)
{
	cs_db_query q = {0};

	cs_db_query_scope(&q, opts);
	return cs_db_certs_count(store, &q, out, err);
}

cs_rv cs_store_find_by_thumbprint(cs_store *store, cs_store_id sid, const char *sha1, cs_cert **out,
				  cs_err *err)
{
	cs_db_query q = {.store = sid, .include_archived = true, .sha1 = sha1};
	cs_rv rv = cs_db_certs_select_first(store, &q, out, err);

	if (rv == CS_OK && *out == NULL)
		rv = cs_err_set(err, CS_ERR_NOT_FOUND, "no certificate with thumbprint %s in %s",
				sha1, cs_store_id_name(sid));
	return rv;
}

/* The query for certificates whose subject is name; free q->subject_der
 * with OPENSSL_free. */
static cs_rv subject_query(const X509_NAME *name, const cs_find_opts *opts, cs_db_query *q,
			   cs_err *err)
{
	unsigned char *der = NULL;
	int len = i2d_X509_NAME(name, &der);

	if (len <= 0)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "subject name cannot be encoded");
	cs_db_query_scope(q, opts);
	q->subject_der = der;
	q->subject_der_len = (size_t)len;
	return CS_OK;
}

cs_rv cs_store_find_by_subject(cs_store *store, const X509_NAME *name, const cs_find_opts *opts,
			       cs_cert_list *out, cs_err *err)
{
	cs_db_query q = {0};
	cs_rv rv = subject_query(name, opts, &q, err);

	if (rv == CS_OK)
		rv = cs_db_certs_select(store, &q, out, err);
	OPENSSL_free((void *)q.subject_der);
	return rv;
}

cs_rv cs_store_find_der_by_subject(cs_store *store, const X509_NAME *name, const cs_find_opts *opts,
				   cs_der_list *out, cs_err *err)
{
	cs_db_query q = {0};
	cs_rv rv = subject_query(name, opts, &q, err);

	if (rv == CS_OK)
		rv = cs_db_certs_select_der(store, &q, out, err);
	OPENSSL_free((void *)q.subject_der);
	return rv;
}

cs_rv cs_store_find_by_friendly_name(cs_store *store, const char *name, const cs_find_opts *opts,
				     cs_cert_list *out, cs_err *err)
{
	cs_db_query q = {.friendly_name = name};

	cs_db_query_scope(&q, opts);
	return cs_db_certs_select(store, &q, out, err);
}

/* Keeps the certificates whose subject CN is exactly cn (the text search only prefilters). */
static void keep_cn(cs_cert_list *l, const char *cn)
{
	size_t i, kept = 0;
	char buf[256];

	for (i = 0; i < l->n; i++) {
		X509_NAME *name = X509_get_subject_name(l->items[i]->x509);

		if (X509_NAME_get_text_by_NID(name, NID_commonName, buf, sizeof(buf)) > 0 &&
		    strcmp(buf, cn) == 0)
			l->items[kept++] = l->items[i];
		else
			cs_cert_free(l->items[i]);
	}
	l->n = kept;
}

/* A renewal keeps the friendly name on the certificate it archives: the name
 * means the live one then, and only an archived-only name finds archived ones. */
static void drop_archived_if_live(cs_cert_list *l)
{
	size_t i, kept = 0, live = 0;

	for (i = 0; i < l->n; i++)
		live += !l->items[i]->archived;
	if (live == 0)
		return;
	for (i = 0; i < l->n; i++) {
		if (l->items[i]->archived)
			cs_cert_free(l->items[i]);
		else
			l->items[kept++] = l->items[i];
	}
	l->n = kept;
}

/* Every certificate an ID could mean: by thumbprint first, else by friendly
 * name, else by subject CN (what the Windows admin knows the certificate by). */
static cs_rv find_all_matches(cs_store *store, const char *id, const cs_find_opts *opts,
			      cs_cert_list *out, cs_err *err)
{
	cs_db_query q = {0};
	char hex[80], *cn = NULL;
	size_t n;
	cs_rv rv;

	cs_db_query_scope(&q, opts);
	if (cs_thumbprint_normalise(id, hex, sizeof(hex))) {
		n = strlen(hex);
		if (n == 40)
			q.sha1 = hex;
		else if (n == 64)
			q.sha256 = hex;
		else if (n >= 8 && n < 64)
			q.hex_prefix = hex;
		if (q.sha1 || q.sha256 || q.hex_prefix) {
			rv = cs_db_certs_select(store, &q, out, err);
			if (rv != CS_OK || out->n > 0)
				return rv;
		}
		q.sha1 = q.sha256 = q.hex_prefix = NULL;
	}
	q.friendly_name = id;
	rv = cs_db_certs_select(store, &q, out, err);
	if (rv == CS_OK && out->n > 1)
		drop_archived_if_live(out);
	if (rv != CS_OK || out->n > 0 || opts == NULL || !opts->by_cn)
		return rv;
	/* A renewed certificate's predecessor keeps the CN: only live ones count. */
	q.include_archived = false;
	q.friendly_name = NULL;
	if (asprintf(&cn, "CN=%s", id) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	q.subject_contains = cn;
	rv = cs_db_certs_select(store, &q, out, err);
	free(cn);
	if (rv == CS_OK)
		keep_cn(out, id);
	return rv;
}

cs_rv cs_store_find_one(cs_store *store, const char *id, const cs_find_opts *opts, cs_cert **out,
			cs_cert_list *out_all, cs_err *err)
{
	cs_cert_list all = {0};
	const char *where;
	cs_rv rv;

	*out = NULL;
	if (id == NULL || *id == '\0')
		return cs_err_set(err, CS_ERR_USAGE, "an empty certificate ID matches nothing");
	rv = find_all_matches(store, id, opts, &all, err);
	if (rv != CS_OK)
		return rv;
	where = opts != NULL && opts->store != CS_STORE_NONE ? cs_store_id_name(opts->store)
							     : "any store";
	if (all.n == 0) {
		rv = cs_err_set(err, CS_ERR_NOT_FOUND,
				"no certificate matches '%s' in %s (give a SHA-1 or SHA-256 "
				"thumbprint, 8+ hex digits of one, a friendly name or a subject "
				"CN)",
				id, where);
	} else if (all.n > 1) {
		rv = cs_err_set(err, CS_ERR_AMBIGUOUS,
				"'%s' matches %zu certificates in %s; give more of the thumbprint "
				"or --store",
				id, all.n, where);
		if (out_all != NULL) {
			*out_all = all;
			return rv;
		}
	} else {
		*out = all.items[0];
		all.items[0] = NULL;
	}
	cs_cert_list_clear(&all);
	return rv;
}
