/*
 * db_requests.c - SQL for pending requests.
 */
#include "db_requests.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void cs_pending_free(cs_pending *p)
{
	if (p == NULL)
		return;
	free(p->subject);
	cs_bytes_clear(&p->csr_der);
	free(p->key_uri);
	free(p->key_spec);
	free(p->friendly_name);
	free(p->ca_profile);
	free(p->ca_request_id);
	free(p->hash);
	free(p->usages);
	free(p->renews);
	free(p);
}

void cs_pending_list_clear(cs_pending_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		cs_pending_free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

cs_rv cs_db_pending_insert(cs_store *store, cs_pending *p, cs_err *err)
{
	static const char sql[] =
		"INSERT INTO requests (created, subject, csr_der, key_uri, key_id, key_spec,"
		" friendly_name, exportable, ca_profile, ca_request_id, usages, renews)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_OK;
	cs_rv rv = CS_OK;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	p->created = (int64_t)time(NULL);
	rc |= sqlite3_bind_int64(st, 1, p->created);
	rc |= sqlite3_bind_text(st, 2, p->subject, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_blob(st, 3, p->csr_der.data, (int)p->csr_der.len, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 4, p->key_uri, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 5, p->key_id, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 6, p->key_spec ? p->key_spec : "rsa:2048", -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 7, p->friendly_name, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int(st, 8, p->exportable);
	rc |= sqlite3_bind_text(st, 9, p->ca_profile, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 10, p->ca_request_id, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 11, p->usages, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 12, p->renews, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rv = cs_db_stmt_fail(store, err);
	else
		p->id = sqlite3_last_insert_rowid(store->db);
	sqlite3_finalize(st);
	return rv;
}

static char *text_at(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? strdup((const char *)t) : NULL;
}

static cs_rv pending_from_row(sqlite3_stmt *st, cs_pending **out, cs_err *err)
{
	cs_pending *p = calloc(1, sizeof(*p));
	const void *blob = sqlite3_column_blob(st, 3);
	int len = sqlite3_column_bytes(st, 3);

	if (p == NULL || (p->csr_der.data = malloc(len > 0 ? (size_t)len : 1)) == NULL) {
		free(p);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	p->id = sqlite3_column_int64(st, 0);
	p->created = sqlite3_column_int64(st, 1);
	p->subject = text_at(st, 2);
	memcpy(p->csr_der.data, blob, (size_t)len);
	p->csr_der.len = (size_t)len;
	p->key_uri = text_at(st, 4);
	snprintf(p->key_id, sizeof(p->key_id), "%s", (const char *)sqlite3_column_text(st, 5));
	p->key_spec = text_at(st, 6);
	p->friendly_name = text_at(st, 7);
	p->exportable = sqlite3_column_int(st, 8) != 0;
	p->ca_profile = text_at(st, 9);
	p->ca_request_id = text_at(st, 10);
	p->usages = text_at(st, 11);
	p->renews = text_at(st, 12);
	*out = p;
	return CS_OK;
}

static cs_rv pending_push(cs_pending_list *out, cs_pending *p, cs_err *err)
{
	cs_pending **grown = realloc(out->items, (out->n + 1) * sizeof(*grown));

	if (grown == NULL) {
		cs_pending_free(p);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	out->items = grown;
	out->items[out->n++] = p;
	return CS_OK;
}

cs_rv cs_db_pending_select(cs_store *store, int64_t id, const char *key_id, cs_pending_list *out,
			   cs_err *err)
{
	static const char sql[] =
		"SELECT id, created, subject, csr_der, key_uri, key_id, key_spec, friendly_name,"
		" exportable, ca_profile, ca_request_id, usages, renews FROM requests"
		" WHERE (?1 = 0 OR id = ?1) AND (?2 IS NULL OR key_id = ?2) ORDER BY id";
	sqlite3_stmt *st = NULL;
	cs_pending *p = NULL;
	cs_rv rv = CS_OK;
	int rc = SQLITE_DONE;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, key_id, -1, SQLITE_STATIC);
	while (rv == CS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rv = pending_from_row(st, &p, err);
		if (rv == CS_OK)
			rv = pending_push(out, p, err);
	}
	if (rv == CS_OK && rc != SQLITE_DONE)
		rv = cs_db_stmt_fail(store, err);
	sqlite3_finalize(st);
	if (rv != CS_OK)
		cs_pending_list_clear(out);
	return rv;
}

static cs_rv exec_id(cs_store *store, const char *sql, int64_t id, const char *text, cs_err *err)
{
	sqlite3_stmt *st = NULL;
	cs_rv rv = CS_OK;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rv = cs_db_stmt_fail(store, err);
	else if (sqlite3_changes(store->db) == 0)
		rv = cs_err_set(err, CS_ERR_NOT_FOUND, "no pending request with ID %lld",
				(long long)id);
	sqlite3_finalize(st);
	return rv;
}

cs_rv cs_db_pending_delete(cs_store *store, int64_t id, cs_err *err)
{
	return exec_id(store, "DELETE FROM requests WHERE id = ?1 AND (?2 IS NULL OR 1)", id, NULL,
		       err);
}

cs_rv cs_db_pending_set_ca_request_id(cs_store *store, int64_t id, const char *ca_request_id,
				      cs_err *err)
{
	return exec_id(store, "UPDATE requests SET ca_request_id = ?2 WHERE id = ?1", id,
		       ca_request_id, err);
}

cs_rv cs_db_friendly_name_taken(cs_store *store, const char *name, bool *taken, cs_err *err)
{
	static const char sql[] = "SELECT EXISTS (SELECT 1 FROM certs WHERE friendly_name = ?1)"
				  " OR EXISTS (SELECT 1 FROM requests WHERE friendly_name = ?1)";
	sqlite3_stmt *st = NULL;
	cs_rv rv = CS_OK;

	*taken = false;
	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		rv = cs_db_stmt_fail(store, err);
	else
		*taken = sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	return rv;
}
