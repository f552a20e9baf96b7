/*
 * test_db_migrations.c - migrations that change what an existing store
 * promises: a request ID, once used, is never given to another request.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

/* The schema version before requests got AUTOINCREMENT (the index of that
 * entry in store/db/db.c's migrations[]). */
#define SCHEMA_BEFORE_UNIQUE_REQUEST_IDS 5

static sqlite3 *open_raw(const char *dir)
{
	char *db = NULL;
	sqlite3 *raw = NULL;

	assert_true(asprintf(&db, "%s/store/store.db", dir) > 0);
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	free(db);
	return raw;
}

static int64_t insert_request(sqlite3 *raw)
{
	assert_int_equal(sqlite3_exec(raw,
				      "INSERT INTO requests (created, subject, csr_der, key_id,"
				      " key_spec) VALUES (1, '/CN=x', x'00', 'AB', 'rsa:2048')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	return sqlite3_last_insert_rowid(raw);
}

/* A version-5 store whose requests 1..7 were all answered or cancelled:
 * only the audit log still names them.  The next request must be 8, not 1. */
static void test_request_ids_continue_past_every_id_the_log_names(void **state)
{
	char *dir, *path;
	cs_store *s = tu_store(&dir);
	sqlite3 *raw;
	char sql[1024];

	(void)state;
	cs_store_close(s);
	raw = open_raw(dir);
	/* (sqlite_sequence exists only once a table had AUTOINCREMENT) */
	(void)sqlite3_exec(raw, "DELETE FROM sqlite_sequence WHERE name = 'requests'", NULL, NULL,
			   NULL);
	snprintf(sql, sizeof(sql),
		 "DROP TABLE served;" /* (a version-5 store has none yet) */
		 "DROP TABLE requests;"
		 "CREATE TABLE requests (id INTEGER PRIMARY KEY, created INTEGER NOT NULL,"
		 " subject TEXT NOT NULL, csr_der BLOB NOT NULL, key_uri TEXT,"
		 " key_id TEXT NOT NULL, key_spec TEXT NOT NULL, friendly_name TEXT,"
		 " exportable INTEGER NOT NULL DEFAULT 0, ca_profile TEXT, ca_request_id TEXT,"
		 " usages TEXT, renews TEXT);"
		 "CREATE INDEX requests_by_key_id ON requests (key_id);"
		 "INSERT INTO audit (time, uid, action, detail) VALUES"
		 " (1, 0, 'request', 'pending 7 /CN=gone key AB'),"
		 " (2, 0, 'request-remove', 'pending 7 cancelled');"
		 "PRAGMA user_version = %d;",
		 SCHEMA_BEFORE_UNIQUE_REQUEST_IDS);
	assert_int_equal(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
	/* Before the migration the old table hands out 1 again. */
	assert_int_equal(insert_request(raw), 1);
	sqlite3_close(raw);

	assert_true(asprintf(&path, "%s/store", dir) > 0);
	assert_int_equal(cs_store_open(path, 0, &s, NULL), CS_OK);
	cs_store_close(s);
	raw = open_raw(dir);
	assert_int_equal(insert_request(raw), 8);
	assert_int_equal(sqlite3_exec(raw, "DELETE FROM requests", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(insert_request(raw), 9);
	sqlite3_close(raw);
	free(path);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_ids_continue_past_every_id_the_log_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
