/*
 * db.h - the SQL layer of the store: open, schema, migrations, transactions,
 * the audit table.  It knows plain rows and no subsystem's types: each
 * subsystem keeps the SQL of its own tables beside it (certs/db_certs.h,
 * requests/db_requests.h, requests/db_localca.h, usages/db_usages.h), using
 * the connection and transactions from here.  Callers: libcertstore only.
 */
#ifndef CS_DB_H
#define CS_DB_H

#include "internal.h"

/* Opens (creating when asked) <dir>/store.db and brings the schema up to date. */
cs_rv cs_db_open(cs_store *store, bool create, bool readonly, cs_err *err);
void cs_db_close(cs_store *store);

/* A write transaction: BEGIN IMMEDIATE, so writers queue on the busy timeout
 * instead of failing half-way. */
cs_rv cs_db_begin(cs_store *store, cs_err *err);
cs_rv cs_db_commit(cs_store *store, cs_err *err);
void cs_db_rollback(cs_store *store);

/* Sets err to CS_ERR_STORE "<dir>/store.db: <SQLite's message>" for the
 * statement that just failed on store's connection. */
cs_rv cs_db_stmt_fail(cs_store *store, cs_err *err);
/* A text column as a malloc'd string; NULL for SQL NULL (or no memory). */
char *cs_db_column_text(sqlite3_stmt *st, int col);

/* SQLite's PRAGMA data_version: changes whenever another connection commits. */
cs_rv cs_db_data_version(cs_store *store, int64_t *out, cs_err *err);

/* The audit table (audit.c): a row per change, and the rows whose action
 * starts with action_prefix (NULL: all), oldest first. */
cs_rv cs_db_audit_insert(cs_store *store, const char *action, const char *detail, cs_err *err);
cs_rv cs_db_audit_select(cs_store *store, const char *action_prefix, cs_audit_list *out,
			 cs_err *err);

#endif
