/*
 * db_served.c - the served table (served.h): one row per process (pid and
 * start time) and certificate whose key it loaded or used.
 */
#include "served.h"
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A record must never hold a server up: a store busy longer than this loses it. */
#define SERVED_BUSY_MS 200
/* What every other connection waits (db.c), restored after a record. */
#define STORE_BUSY_MS 30000

static cs_rv stmt_fail(cs_store *store, cs_err *err)
{
	return cs_err_set(err, CS_ERR_STORE, "%s/store.db: %s", store->dir,
			  sqlite3_errmsg(store->db));
}

/* The usages that certificate sha1 serves now, comma-separated ("" for none). */
static cs_rv usages_of(cs_store *store, const char *sha1, char **out, cs_err *err)
{
	static const char sql[] = "SELECT coalesce(group_concat(name, ','), '') FROM"
				  " (SELECT name FROM usages WHERE sha1 = ? ORDER BY name)";
	sqlite3_stmt *st = NULL;
	cs_rv rv = CS_OK;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return stmt_fail(store, err);
	if (sqlite3_bind_text(st, 1, sha1, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		rv = stmt_fail(store, err);
	else if ((*out = strdup((const char *)sqlite3_column_text(st, 0))) == NULL)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	sqlite3_finalize(st);
	return rv;
}

static cs_rv insert_row(cs_store *store, const cs_served *rec, bool *inserted, cs_err *err)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO served (pid, start, uid, comm, exe, sha1, usage, via, time)"
		" VALUES (?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st = NULL;
	cs_rv rv = CS_OK;
	int rc = SQLITE_OK;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return stmt_fail(store, err);
	rc |= sqlite3_bind_int64(st, 1, rec->pid);
	rc |= sqlite3_bind_int64(st, 2, rec->start);
	rc |= sqlite3_bind_int64(st, 3, rec->uid);
	rc |= sqlite3_bind_text(st, 4, rec->comm, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 5, rec->exe ? rec->exe : "", -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 6, rec->sha1, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 7, rec->usage ? rec->usage : "", -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 8, rec->via, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 9, rec->time);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rv = stmt_fail(store, err);
	else
		*inserted = sqlite3_changes(store->db) > 0;
	sqlite3_finalize(st);
	return rv;
}

/* "Default nginx[1234] uid=33 loaded 9B13... via agent (/usr/sbin/nginx)", once
 * per usage, so that `certstore log --usage NAME` finds it beside the assignments. */
static cs_rv audit_loads(cs_store *store, const cs_served *rec, cs_err *err)
{
	char *list = strdup(rec->usage ? rec->usage : ""), *save = NULL, *name, detail[1024];
	cs_rv rv = CS_OK;

	if (list == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	name = strtok_r(list, ",", &save);
	do {
		snprintf(detail, sizeof(detail), "%s%s%s[%lld] uid=%lld loaded %s via %s (%s)",
			 name ? name : "", name ? " " : "", rec->comm, (long long)rec->pid,
			 (long long)rec->uid, rec->sha1, rec->via,
			 rec->exe && *rec->exe ? rec->exe : "executable not readable");
		rv = cs_db_audit_insert(store, "load", detail, err);
	} while (rv == CS_OK && name != NULL && (name = strtok_r(NULL, ",", &save)) != NULL);
	free(list);
	return rv;
}

cs_rv cs_served_record(cs_store *store, cs_served *rec, bool *inserted, cs_err *err)
{
	cs_rv rv;

	*inserted = false;
	rec->time = (int64_t)time(NULL);
	sqlite3_busy_timeout(store->db, SERVED_BUSY_MS);
	rv = cs_db_begin(store, err);
	if (rv != CS_OK)
		goto out;
	if (rec->usage == NULL)
		rv = usages_of(store, rec->sha1, &rec->usage, err);
	if (rv == CS_OK)
		rv = insert_row(store, rec, inserted, err);
	if (rv == CS_OK && *inserted)
		rv = audit_loads(store, rec, err);
	if (rv == CS_OK)
		rv = cs_db_commit(store, err);
	else
		cs_db_rollback(store);
out:
	sqlite3_busy_timeout(store->db, STORE_BUSY_MS);
	if (rv != CS_OK)
		*inserted = false;
	return rv;
}

static cs_rv push_row(cs_served_list *out, sqlite3_stmt *st, cs_err *err)
{
	cs_served *grown = realloc(out->items, (out->n + 1) * sizeof(*grown)), *s;

	if (grown == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	out->items = grown;
	s = &out->items[out->n];
	memset(s, 0, sizeof(*s));
	s->id = sqlite3_column_int64(st, 0);
	s->pid = sqlite3_column_int64(st, 1);
	s->start = sqlite3_column_int64(st, 2);
	s->uid = sqlite3_column_int64(st, 3);
	snprintf(s->comm, sizeof(s->comm), "%s", (const char *)sqlite3_column_text(st, 4));
	s->exe = strdup((const char *)sqlite3_column_text(st, 5));
	snprintf(s->sha1, sizeof(s->sha1), "%s", (const char *)sqlite3_column_text(st, 6));
	s->usage = strdup((const char *)sqlite3_column_text(st, 7));
	snprintf(s->via, sizeof(s->via), "%s", (const char *)sqlite3_column_text(st, 8));
	s->time = sqlite3_column_int64(st, 9);
	out->n++;
	if (s->exe == NULL || s->usage == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	return CS_OK;
}

cs_rv cs_served_list_live(cs_store *store, cs_served_list *out, cs_err *err)
{
	static const char sql[] = "SELECT id, pid, start, uid, comm, exe, sha1, usage, via, time"
				  " FROM served ORDER BY id";
	sqlite3_stmt *st = NULL;
	cs_rv rv = CS_OK;
	int rc;

	out->items = NULL;
	out->n = 0;
	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return stmt_fail(store, err);
	while (rv == CS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (cs_served_alive(sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2)))
			rv = push_row(out, st, err);
	if (rv == CS_OK && rc != SQLITE_DONE)
		rv = stmt_fail(store, err);
	sqlite3_finalize(st);
	if (rv != CS_OK)
		cs_served_list_clear(out);
	return rv;
}

/* name with LIKE's wildcards escaped ('_' is common in usage names) */
static void like_escape(const char *name, char *out, size_t size)
{
	size_t j = 0;

	for (size_t i = 0; name[i] != '\0' && j + 3 < size; i++) {
		if (name[i] == '_' || name[i] == '%' || name[i] == '\\')
			out[j++] = '\\';
		out[j++] = name[i];
	}
	out[j] = '\0';
}

/* The outcome in a hook's audit detail: "NAME THUMBPRINT COMMAND: exit N\noutput..." */
static void hook_outcome(const char *detail, char *out, size_t outsz)
{
	const char *p = detail + strcspn(detail, "\n");

	while (p > detail && p[-1] != ':')
		p--;
	if (*p == ' ')
		p++;
	snprintf(out, outsz, "%.*s", (int)strcspn(p, "\n"), p);
}

cs_rv cs_served_last_hook(cs_store *store, const char *name, char *out, size_t outsz, cs_err *err)
{
	static const char sql[] = "SELECT detail FROM audit WHERE action = 'hook'"
				  " AND detail LIKE ? || ' %' ESCAPE '\\' ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = NULL;
	char pattern[256];
	cs_rv rv = CS_OK;
	int rc;

	out[0] = '\0';
	like_escape(name, pattern, sizeof(pattern));
	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return stmt_fail(store, err);
	if (sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC) != SQLITE_OK)
		rv = stmt_fail(store, err);
	else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		hook_outcome((const char *)sqlite3_column_text(st, 0), out, outsz);
	else if (rc != SQLITE_DONE)
		rv = stmt_fail(store, err);
	sqlite3_finalize(st);
	return rv;
}

cs_rv cs_served_prune(cs_store *store, size_t *removed, cs_err *err)
{
	sqlite3_stmt *sel = NULL, *del = NULL;
	cs_rv rv;
	int rc;

	*removed = 0;
	rv = cs_db_begin(store, err);
	if (rv != CS_OK)
		return rv;
	if (sqlite3_prepare_v2(store->db, "SELECT id, pid, start FROM served", -1, &sel, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(store->db, "DELETE FROM served WHERE id = ?", -1, &del, NULL) !=
		    SQLITE_OK)
		rv = stmt_fail(store, err);
	while (rv == CS_OK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		if (cs_served_alive(sqlite3_column_int64(sel, 1), sqlite3_column_int64(sel, 2)))
			continue;
		sqlite3_reset(del);
		if (sqlite3_bind_int64(del, 1, sqlite3_column_int64(sel, 0)) != SQLITE_OK ||
		    sqlite3_step(del) != SQLITE_DONE)
			rv = stmt_fail(store, err);
		else
			(*removed)++;
	}
	if (rv == CS_OK && rc != SQLITE_DONE)
		rv = stmt_fail(store, err);
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	if (rv == CS_OK)
		return cs_db_commit(store, err);
	cs_db_rollback(store);
	return rv;
}
