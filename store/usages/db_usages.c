/*
 * db_usages.c - SQL for usages (db_usages.h).
 */
#include "db_usages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cs_usage_clear(cs_usage *u)
{
	if (u == NULL)
		return;
	free(u->name);
	memset(u, 0, sizeof(*u));
}

void cs_usage_list_clear(cs_usage_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		cs_usage_clear(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static void copy_hex(char dst[41], sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, 41, "%s", t ? (const char *)t : "");
}

cs_rv cs_db_usage_select(cs_store *store, const char *name, cs_usage_list *out, cs_err *err)
{
	static const char sql[] = "SELECT name, sha1, previous_sha1, staged_sha1, staged_at,"
				  " assigned_at FROM usages WHERE ?1 IS NULL OR name = ?1"
				  " ORDER BY name";
	sqlite3_stmt *st = NULL;
	cs_usage *grown, *u;
	cs_rv rv = CS_OK;
	int rc = SQLITE_DONE;

	out->items = NULL;
	out->n = 0;
	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while (rv == CS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		grown = realloc(out->items, (out->n + 1) * sizeof(*grown));
		if (grown == NULL) {
			rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
			break;
		}
		out->items = grown;
		u = &out->items[out->n++];
		memset(u, 0, sizeof(*u));
		u->name = strdup((const char *)sqlite3_column_text(st, 0));
		copy_hex(u->sha1, st, 1);
		copy_hex(u->previous_sha1, st, 2);
		copy_hex(u->staged_sha1, st, 3);
		u->staged_at = sqlite3_column_int64(st, 4);
		u->assigned_at = sqlite3_column_int64(st, 5);
	}
	if (rv == CS_OK && rc != SQLITE_DONE)
		rv = cs_db_stmt_fail(store, err);
	sqlite3_finalize(st);
	if (rv != CS_OK)
		cs_usage_list_clear(out);
	return rv;
}

cs_rv cs_db_usage_upsert(cs_store *store, const cs_usage *u, cs_err *err)
{
	static const char sql[] =
		"INSERT INTO usages (name, sha1, previous_sha1, staged_sha1, staged_at, "
		"assigned_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO UPDATE SET"
		" sha1 = ?2, previous_sha1 = ?3, staged_sha1 = ?4, staged_at = ?5, assigned_at = "
		"?6";
	sqlite3_stmt *st = NULL;
	cs_rv rv = CS_OK;
	int rc = SQLITE_OK;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	rc |= sqlite3_bind_text(st, 1, u->name, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 2, u->sha1, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 3, u->previous_sha1, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 4, u->staged_sha1, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 5, u->staged_at);
	rc |= sqlite3_bind_int64(st, 6, u->assigned_at);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rv = cs_db_stmt_fail(store, err);
	sqlite3_finalize(st);
	return rv;
}

cs_rv cs_db_usage_delete(cs_store *store, const char *name, cs_err *err)
{
	sqlite3_stmt *st = NULL;
	cs_rv rv = CS_OK;

	if (sqlite3_prepare_v2(store->db, "DELETE FROM usages WHERE name = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rv = cs_db_stmt_fail(store, err);
	else if (sqlite3_changes(store->db) == 0)
		rv = cs_err_set(err, CS_ERR_NOT_FOUND, "usage '%s' is not assigned", name);
	sqlite3_finalize(st);
	return rv;
}
