/*
 * db_certs.c - SQL for the certs table.
 */
#include "db_certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CERT_COLUMNS                                                                               \
	"id, store, der, friendly_name, key_uri, exportable, archived, added, ca_profile"

/* Builds "WHERE …" for q into sql; binds come from bind_query in the same order. */
static void where_clause(const cs_db_query *q, char *sql, size_t size)
{
	size_t used = strlen(sql);

	snprintf(sql + used, size - used, " WHERE 1");
	used = strlen(sql);
#define ADD(cond)                                                                                  \
	do {                                                                                       \
		snprintf(sql + used, size - used, " AND %s", cond);                                \
		used = strlen(sql);                                                                \
	} while (0)
	if (q->store != CS_STORE_NONE)
		ADD("store = ?");
	if (!q->include_archived)
		ADD("archived = 0");
	if (q->id != 0)
		ADD("id = ?");
	if (q->sha1 != NULL)
		ADD("sha1 = ?");
	if (q->sha256 != NULL)
		ADD("sha256 = ?");
	if (q->hex_prefix != NULL)
		ADD("((sha1 >= ? AND sha1 < ?) OR (sha256 >= ? AND sha256 < ?))");
	if (q->friendly_name != NULL)
		ADD("friendly_name = ?");
	if (q->subject_contains != NULL)
		ADD("instr(subject, ?) > 0");
	if (q->subject_der != NULL)
		ADD("subject_der = ?");
	if (q->issuer_der != NULL)
		ADD("issuer_der = ?");
	if (q->serial != NULL)
		ADD("serial = ?");
	if (q->key_id != NULL)
		ADD("key_id = ?");
#undef ADD
}

static int bind_query(sqlite3_stmt *st, const cs_db_query *q)
{
	int i = 1, rc = SQLITE_OK;

	if (q->store != CS_STORE_NONE)
		rc |= sqlite3_bind_text(st, i++, cs_store_id_name(q->store), -1, SQLITE_STATIC);
	if (q->id != 0)
		rc |= sqlite3_bind_int64(st, i++, q->id);
	if (q->sha1 != NULL)
		rc |= sqlite3_bind_text(st, i++, q->sha1, -1, SQLITE_STATIC);
	if (q->sha256 != NULL)
		rc |= sqlite3_bind_text(st, i++, q->sha256, -1, SQLITE_STATIC);
	if (q->hex_prefix != NULL) {
		/* 'G' sorts after every upper-case hex digit: [prefix, prefix+"G") */
		char upper[80];

		snprintf(upper, sizeof(upper), "%sG", q->hex_prefix);
		rc |= sqlite3_bind_text(st, i++, q->hex_prefix, -1, SQLITE_STATIC);
		rc |= sqlite3_bind_text(st, i++, upper, -1, SQLITE_TRANSIENT);
		rc |= sqlite3_bind_text(st, i++, q->hex_prefix, -1, SQLITE_STATIC);
		rc |= sqlite3_bind_text(st, i++, upper, -1, SQLITE_TRANSIENT);
	}
	if (q->friendly_name != NULL)
		rc |= sqlite3_bind_text(st, i++, q->friendly_name, -1, SQLITE_STATIC);
	if (q->subject_contains != NULL)
		rc |= sqlite3_bind_text(st, i++, q->subject_contains, -1, SQLITE_STATIC);
	if (q->subject_der != NULL)
		rc |= sqlite3_bind_blob(st, i++, q->subject_der, (int)q->subject_der_len,
					SQLITE_STATIC);
	if (q->issuer_der != NULL)
		rc |= sqlite3_bind_blob(st, i++, q->issuer_der, (int)q->issuer_der_len,
					SQLITE_STATIC);
	if (q->serial != NULL)
		rc |= sqlite3_bind_text(st, i++, q->serial, -1, SQLITE_STATIC);
	if (q->key_id != NULL)
		rc |= sqlite3_bind_blob(st, i++, q->key_id, (int)q->key_id_len, SQLITE_STATIC);
	return rc;
}

static cs_rv prepare_query(cs_store *store, const char *select, const cs_db_query *q,
			   const char *tail, sqlite3_stmt **st, cs_err *err)
{
	char sql[1024];

	snprintf(sql, sizeof(sql), "%s", select);
	where_clause(q, sql, sizeof(sql));
	if (tail != NULL)
		strncat(sql, tail, sizeof(sql) - strlen(sql) - 1);
	if (sqlite3_prepare_v2(store->db, sql, -1, st, NULL) != SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	if (bind_query(*st, q) != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return cs_db_stmt_fail(store, err);
	}
	return CS_OK;
}

static cs_rv cert_from_row(cs_store *store, sqlite3_stmt *st, cs_cert **out, cs_err *err)
{
	const unsigned char *der = sqlite3_column_blob(st, 2);
	int len = sqlite3_column_bytes(st, 2);
	cs_cert *cert;
	cs_rv rv;

	rv = cs_cert_from_der(der, (size_t)len, &cert, err);
	if (rv != CS_OK) {
		cs_err_prefix(err, "%s/store.db: row %lld", store->dir,
			      (long long)sqlite3_column_int64(st, 0));
		return CS_ERR_STORE;
	}
	cert->id = sqlite3_column_int64(st, 0);
	(void)cs_store_id_parse((const char *)sqlite3_column_text(st, 1), &cert->store, NULL);
	cert->friendly_name = cs_db_column_text(st, 3);
	cert->key_uri = cs_db_column_text(st, 4);
	cert->exportable = sqlite3_column_int(st, 5) != 0;
	cert->archived = sqlite3_column_int(st, 6) != 0;
	cert->added = sqlite3_column_int64(st, 7);
	cert->ca_profile = cs_db_column_text(st, 8);
	*out = cert;
	return CS_OK;
}

#define CERT_ORDER                                                                                 \
	" ORDER BY CASE store WHEN 'My' THEN 1 WHEN 'CA' THEN 2 WHEN 'Root' "                      \
	"THEN 3 WHEN 'Disallowed' THEN 4 ELSE 5 END, subject, id"

static cs_rv der_list_push(cs_der_list *out, const void *der, int len, cs_err *err)
{
	cs_bytes *items = realloc(out->items, (out->n + 1) * sizeof(*items));
	unsigned char *copy = len > 0 ? malloc((size_t)len) : NULL;

	if (items != NULL)
		out->items = items;
	if (items == NULL || copy == NULL) {
		free(copy);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	memcpy(copy, der, (size_t)len);
	out->items[out->n].data = copy;
	out->items[out->n++].len = (size_t)len;
	return CS_OK;
}

cs_rv cs_db_certs_select_der(cs_store *store, const cs_db_query *q, cs_der_list *out, cs_err *err)
{
	sqlite3_stmt *st = NULL;
	cs_rv rv;
	int rc;

	rv = prepare_query(store, "SELECT der FROM certs", q, CERT_ORDER, &st, err);
	if (rv != CS_OK)
		return rv;
	while (rv == CS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		rv = der_list_push(out, sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0),
				   err);
	if (rv == CS_OK && rc != SQLITE_DONE)
		rv = cs_db_stmt_fail(store, err);
	sqlite3_finalize(st);
	if (rv != CS_OK)
		cs_der_list_clear(out);
	return rv;
}

cs_rv cs_db_certs_select(cs_store *store, const cs_db_query *q, cs_cert_list *out, cs_err *err)
{
	sqlite3_stmt *st = NULL;
	cs_cert *cert;
	cs_rv rv;
	int rc;

	rv = prepare_query(store, "SELECT " CERT_COLUMNS " FROM certs", q, CERT_ORDER, &st, err);
	if (rv != CS_OK)
		return rv;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rv = cert_from_row(store, st, &cert, err);
		if (rv == CS_OK)
			rv = cs_cert_list_push(out, cert, err);
		if (rv != CS_OK)
			goto out;
	}
	if (rc != SQLITE_DONE)
		rv = cs_db_stmt_fail(store, err);
out:
	sqlite3_finalize(st);
	if (rv != CS_OK)
		cs_cert_list_clear(out);
	return rv;
}

cs_rv cs_db_certs_select_first(cs_store *store, const cs_db_query *q, cs_cert **out, cs_err *err)
{
	cs_cert_list list = {0};
	cs_rv rv;

	*out = NULL;
	rv = cs_db_certs_select(store, q, &list, err);
	if (rv == CS_OK && list.n > 0) {
		*out = list.items[0];
		list.items[0] = NULL;
	}
	cs_cert_list_clear(&list);
	return rv;
}

void cs_db_query_scope(cs_db_query *q, const cs_find_opts *opts)
{
	if (opts != NULL) {
		q->store = opts->store;
		q->include_archived = opts->include_archived;
	}
}

cs_rv cs_db_certs_count(cs_store *store, const cs_db_query *q, int64_t *out, cs_err *err)
{
	sqlite3_stmt *st = NULL;
	cs_rv rv;

	rv = prepare_query(store, "SELECT count(*) FROM certs", q, NULL, &st, err);
	if (rv != CS_OK)
		return rv;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		rv = cs_db_stmt_fail(store, err);
	sqlite3_finalize(st);
	return rv;
}

static int bind_name_der(sqlite3_stmt *st, int col, const X509_NAME *name)
{
	unsigned char *der = NULL;
	int len = i2d_X509_NAME(name, &der);
	int rc;

	if (len <= 0)
		return SQLITE_ERROR;
	rc = sqlite3_bind_blob(st, col, der, len, SQLITE_TRANSIENT);
	OPENSSL_free(der);
	return rc;
}

cs_rv cs_db_cert_insert(cs_store *store, cs_cert *cert, cs_err *err)
{
	static const char sql[] =
		"INSERT INTO certs (store, der, sha1, sha256, subject, subject_der, issuer,"
		" issuer_der, serial, not_before, not_after, friendly_name, key_uri, exportable,"
		" archived, added, ca_profile, key_id)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	unsigned char key_id[20];
	sqlite3_stmt *st = NULL;
	int64_t now = (int64_t)time(NULL);
	int rc = SQLITE_OK;
	cs_rv rv = CS_OK;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	rc |= sqlite3_bind_text(st, 1, cs_store_id_name(cert->store), -1, SQLITE_STATIC);
	rc |= sqlite3_bind_blob(st, 2, cert->der.data, (int)cert->der.len, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 3, cert->sha1, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 4, cert->sha256, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 5, cert->subject, -1, SQLITE_STATIC);
	rc |= bind_name_der(st, 6, X509_get_subject_name(cert->x509));
	rc |= sqlite3_bind_text(st, 7, cert->issuer, -1, SQLITE_STATIC);
	rc |= bind_name_der(st, 8, X509_get_issuer_name(cert->x509));
	rc |= sqlite3_bind_text(st, 9, cert->serial, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 10, cert->not_before);
	rc |= sqlite3_bind_int64(st, 11, cert->not_after);
	rc |= sqlite3_bind_text(st, 12, cert->friendly_name, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 13, cert->key_uri, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int(st, 14, cert->exportable);
	rc |= sqlite3_bind_int(st, 15, cert->archived);
	rc |= sqlite3_bind_int64(st, 16, now);
	rc |= sqlite3_bind_text(st, 17, cert->ca_profile, -1, SQLITE_STATIC);
	if (cs_cert_key_id(cert, key_id))
		rc |= sqlite3_bind_blob(st, 18, key_id, sizeof(key_id), SQLITE_TRANSIENT);
	else
		rc |= sqlite3_bind_null(st, 18);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rv = cs_db_stmt_fail(store, err);
	else {
		cert->id = sqlite3_last_insert_rowid(store->db);
		cert->added = now;
	}
	sqlite3_finalize(st);
	return rv;
}

/* Runs one UPDATE/DELETE on a row id; a missing row is CS_ERR_NOT_FOUND. */
static cs_rv exec_on_row(cs_store *store, const char *sql, int64_t id, const char *text, int flag,
			 int what, cs_err *err)
{
	sqlite3_stmt *st = NULL;
	cs_rv rv = CS_OK;
	int rc;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	if (what == 1)
		rc = sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	else if (what == 2)
		rc = sqlite3_bind_int(st, 1, flag);
	else
		rc = SQLITE_OK;
	rc |= sqlite3_bind_int64(st, what == 0 ? 1 : 2, id);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rv = cs_db_stmt_fail(store, err);
	else if (sqlite3_changes(store->db) == 0)
		rv = cs_err_set(err, CS_ERR_NOT_FOUND, "certificate row %lld is gone",
				(long long)id);
	sqlite3_finalize(st);
	return rv;
}

cs_rv cs_db_cert_delete(cs_store *store, int64_t id, cs_err *err)
{
	return exec_on_row(store, "DELETE FROM certs WHERE id = ?1", id, NULL, 0, 0, err);
}

cs_rv cs_db_cert_set_store(cs_store *store, int64_t id, cs_store_id to, cs_err *err)
{
	return exec_on_row(store, "UPDATE certs SET store = ?1 WHERE id = ?2", id,
			   cs_store_id_name(to), 0, 1, err);
}

cs_rv cs_db_cert_set_text(cs_store *store, int64_t id, const char *column, const char *value,
			  cs_err *err)
{
	char sql[128];

	/* column comes from our own code, never from input */
	snprintf(sql, sizeof(sql), "UPDATE certs SET %s = ?1 WHERE id = ?2", column);
	return exec_on_row(store, sql, id, value, 0, 1, err);
}

cs_rv cs_db_cert_set_flag(cs_store *store, int64_t id, const char *column, bool value, cs_err *err)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "UPDATE certs SET %s = ?1 WHERE id = ?2", column);
	return exec_on_row(store, sql, id, NULL, value ? 1 : 0, 2, err);
}
