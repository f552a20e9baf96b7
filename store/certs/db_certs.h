/*
 * db_certs.h - the SQL of the certs table (db_certs.c), on the connection
 * and transactions of db.h.  It speaks cs_cert, so it lives with the
 * certificates, not in db/.  Callers: certs/, and the subsystems above it
 * that select certificate rows by their columns (requests/renew.c,
 * agent/agent_auth.c).
 */
#ifndef CS_DB_CERTS_H
#define CS_DB_CERTS_H

#include "db.h"

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

/* Restricts q to the store and archived choice of opts (NULL: no restriction). */
void cs_db_query_scope(cs_db_query *q, const cs_find_opts *opts);

cs_rv cs_db_certs_select(cs_store *store, const cs_db_query *q, cs_cert_list *out, cs_err *err);
/* The first row cs_db_certs_select would give in *out (the caller frees
 * it), or NULL when q selects none: the caller says what was not found. */
cs_rv cs_db_certs_select_first(cs_store *store, const cs_db_query *q, cs_cert **out, cs_err *err);
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

#endif
