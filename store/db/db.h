/*
 * db.h - the SQL layer of the store: open, schema, migrations, transactions,
 * the certs and audit tables.  It knows certificates and audit rows and no
 * subsystem's types: each subsystem keeps the SQL of its own tables beside
 * it (requests/db_requests.h, requests/db_localca.h, usages/db_usages.h),
 * using the connection and transactions from here.  Callers: libcertstore
 * only.
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

/* What to select; unset fields (NULL / CS_STORE_NONE / 0) do not restrict. */
typedef struct cs_db_query {
	cs_store_id store;
	bool include_archived;
	int64_t id;
	const char *sha1;	/* exact */
	const char *sha256;	/* exact */
	const char *hex_prefix; /* prefix of sha1 or sha256 */
	const char *friendly_name;
	const char *subject_contains; /* substring of the subject text (a prefilter) */
	const unsigned char *subject_der;
	size_t subject_der_len;
	const unsigned char *issuer_der; /* with serial: the (issuer_der, serial) index */
	size_t issuer_der_len;
	const char *serial;	     /* upper-case hex as cs_cert.serial */
	const unsigned char *key_id; /* the key_id index (cs_cert_key_id) */
	size_t key_id_len;
} cs_db_query;

cs_rv cs_db_certs_select(cs_store *store, const cs_db_query *q, cs_cert_list *out, cs_err *err);
/* The same rows as cs_db_certs_select, only their DER. */
cs_rv cs_db_certs_select_der(cs_store *store, const cs_db_query *q, cs_der_list *out, cs_err *err);
cs_rv cs_db_certs_count(cs_store *store, const cs_db_query *q, int64_t *out, cs_err *err);
/* Inserts cert (its store field says where) and sets cert->id and cert->added. */
cs_rv cs_db_cert_insert(cs_store *store, cs_cert *cert, cs_err *err);
cs_rv cs_db_cert_delete(cs_store *store, int64_t id, cs_err *err);
cs_rv cs_db_cert_set_store(cs_store *store, int64_t id, cs_store_id to, cs_err *err);
cs_rv cs_db_cert_set_text(cs_store *store, int64_t id, const char *column, const char *value,
			  cs_err *err);
cs_rv cs_db_cert_set_flag(cs_store *store, int64_t id, const char *column, bool value, cs_err *err);

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
