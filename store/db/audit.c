/*
 * audit.c - the "View Log" of the procedure: every change, who and when,
 * and the SQL of its table (the rows are made and freed here).
 */
#include "db.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

cs_rv cs_db_audit_insert(cs_store *store, const char *action, const char *detail, cs_err *err)
{
	static const char sql[] = "INSERT INTO audit (time, uid, action, detail) VALUES (?,?,?,?)";
	sqlite3_stmt *st = NULL;
	cs_rv rv = CS_OK;
	int rc = SQLITE_OK;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	rc |= sqlite3_bind_int64(st, 1, (int64_t)time(NULL));
	rc |= sqlite3_bind_int64(st, 2, (int64_t)getuid());
	rc |= sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 4, detail ? detail : "", -1, SQLITE_STATIC);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rv = cs_db_stmt_fail(store, err);
	sqlite3_finalize(st);
	return rv;
}

static cs_rv audit_push(cs_audit_list *out, sqlite3_stmt *st, cs_err *err)
{
	cs_audit_entry *grown = realloc(out->items, (out->n + 1) * sizeof(*grown));
	cs_audit_entry *e;

	if (grown == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	out->items = grown;
	e = &out->items[out->n++];
	e->id = sqlite3_column_int64(st, 0);
	e->time = sqlite3_column_int64(st, 1);
	e->uid = sqlite3_column_int64(st, 2);
	e->action = cs_db_column_text(st, 3);
	e->detail = cs_db_column_text(st, 4);
	return CS_OK;
}

cs_rv cs_db_audit_select(cs_store *store, const char *action_prefix, cs_audit_list *out,
			 cs_err *err)
{
	static const char sql[] = "SELECT id, time, uid, action, detail FROM audit"
				  " WHERE ?1 IS NULL OR substr(action, 1, length(?1)) = ?1"
				  " ORDER BY id";
	sqlite3_stmt *st = NULL;
	cs_rv rv = CS_OK;
	int rc;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	sqlite3_bind_text(st, 1, action_prefix, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rv = audit_push(out, st, err);
		if (rv != CS_OK)
			break;
	}
	if (rv == CS_OK && rc != SQLITE_DONE)
		rv = cs_db_stmt_fail(store, err);
	sqlite3_finalize(st);
	if (rv != CS_OK)
		cs_audit_list_clear(out);
	return rv;
}

cs_rv cs_audit_add(cs_store *store, const char *action, const char *detail, cs_err *err)
{
	return cs_db_audit_insert(store, action, detail, err);
}

cs_rv cs_audit_list_get(cs_store *store, const char *action_prefix, cs_audit_list *out, cs_err *err)
{
	out->items = NULL;
	out->n = 0;
	return cs_db_audit_select(store, action_prefix, out, err);
}

void cs_audit_list_clear(cs_audit_list *list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < list->n; i++) {
		free(list->items[i].action);
		free(list->items[i].detail);
	}
	free(list->items);
	list->items = NULL;
	list->n = 0;
}
