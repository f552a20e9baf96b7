/*
 * db_localca.c - SQL for local CAs and the serials they issued.
 */
#include "db_localca.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void cs_local_ca_free(cs_local_ca *ca)
{
	if (ca == NULL)
		return;
	free(ca->name);
	cs_cert_free(ca->cert);
	free(ca->key_uri);
	free(ca);
}

static cs_rv insert_row(cs_store *store, const cs_local_ca *ca, cs_err *err)
{
	static const char sql[] =
		"INSERT INTO local_cas (name, der, sha1, key_uri, created) VALUES (?,?,?,?,?)";
	sqlite3_stmt *st = NULL;
	cs_rv rv = CS_OK;
	int rc = SQLITE_OK;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	rc |= sqlite3_bind_text(st, 1, ca->name, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_blob(st, 2, ca->cert->der.data, (int)ca->cert->der.len, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 3, ca->cert->sha1, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 4, ca->key_uri, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rv = cs_db_stmt_fail(store, err);
	sqlite3_finalize(st);
	return rv;
}

cs_rv cs_db_local_ca_insert(cs_store *store, const cs_local_ca *ca, cs_err *err)
{
	char detail[512];
	cs_rv rv = cs_db_begin(store, err);

	if (rv != CS_OK)
		return rv;
	rv = insert_row(store, ca, err);
	if (rv == CS_OK) {
		snprintf(detail, sizeof(detail), "%s %s %s", ca->name, ca->cert->sha1,
			 ca->cert->subject);
		rv = cs_db_audit_insert(store, "ca-create", detail, err);
	}
	if (rv == CS_OK)
		return cs_db_commit(store, err);
	cs_db_rollback(store);
	return rv;
}

static cs_rv ca_from_row(sqlite3_stmt *st, cs_local_ca **out, cs_err *err)
{
	cs_local_ca *ca = calloc(1, sizeof(*ca));
	cs_rv rv;

	if (ca == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	ca->name = strdup((const char *)sqlite3_column_text(st, 0));
	ca->key_uri = strdup((const char *)sqlite3_column_text(st, 2));
	ca->created = sqlite3_column_int64(st, 3);
	rv = cs_cert_from_der(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
			      &ca->cert, err);
	if (rv != CS_OK || ca->name == NULL || ca->key_uri == NULL) {
		cs_local_ca_free(ca);
		return rv != CS_OK ? rv : cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	*out = ca;
	return CS_OK;
}

cs_rv cs_db_local_ca_select(cs_store *store, const char *name, cs_local_ca **out, cs_err *err)
{
	static const char sql[] =
		"SELECT name, der, key_uri, created FROM local_cas WHERE name = ?";
	sqlite3_stmt *st = NULL;
	cs_rv rv;
	int rc;

	*out = NULL;
	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cs_db_stmt_fail(store, err);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rv = ca_from_row(st, out, err);
	else if (rc == SQLITE_DONE)
		rv = cs_err_set(
			err, CS_ERR_NOT_FOUND,
			"no local CA named '%s' (create one with `certstore ca create-local "
			"%s`)",
			name, name);
	else
		rv = cs_db_stmt_fail(store, err);
	sqlite3_finalize(st);
	return rv;
}

cs_rv cs_db_local_ca_names(cs_store *store, char ***out, cs_err *err)
{
	sqlite3_stmt *st = NULL;
	char **names = calloc(1, sizeof(*names)), **grown;
	size_t n = 0;
	cs_rv rv = CS_OK;

	*out = NULL;
	if (names == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (sqlite3_prepare_v2(store->db, "SELECT name FROM local_cas ORDER BY name", -1, &st,
			       NULL) != SQLITE_OK) {
		free(names);
		return cs_db_stmt_fail(store, err);
	}
	while (rv == CS_OK && sqlite3_step(st) == SQLITE_ROW) {
		grown = realloc(names, (n + 2) * sizeof(*names));
		if (grown == NULL) {
			rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
			break;
		}
		names = grown;
		names[n++] = strdup((const char *)sqlite3_column_text(st, 0));
		names[n] = NULL;
	}
	sqlite3_finalize(st);
	*out = names;
	return rv;
}

cs_rv cs_db_local_ca_record_issued(cs_store *store, const char *ca, const cs_cert *cert,
				   cs_err *err)
{
	static const char sql[] =
		"INSERT INTO issued (ca, serial, sha1, subject, time) VALUES (?,?,?,?,?)";
	char detail[768];
	sqlite3_stmt *st = NULL;
	cs_rv rv;
	int rc = SQLITE_OK;

	rv = cs_db_begin(store, err);
	if (rv != CS_OK)
		return rv;
	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rv = cs_db_stmt_fail(store, err);
		goto out;
	}
	rc |= sqlite3_bind_text(st, 1, ca, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 2, cert->serial, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 3, cert->sha1, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 4, cert->subject, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		rv = cs_db_stmt_fail(store, err);
		goto out;
	}
	snprintf(detail, sizeof(detail), "%s serial %s %s %s", ca, cert->serial, cert->sha1,
		 cert->subject);
	rv = cs_db_audit_insert(store, "ca-issue", detail, err);
out:
	sqlite3_finalize(st);
	if (rv == CS_OK)
		return cs_db_commit(store, err);
	cs_db_rollback(store);
	return rv;
}
