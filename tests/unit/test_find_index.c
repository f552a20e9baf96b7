/*
 * test_find_index.c - lookups by issuer+serial and by row, and the data
 * version that tells readers another connection changed the store.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

/* The schema version before the migration that added certs.key_id (the
 * index of that entry in store/db/db.c's migrations[]). */
#define SCHEMA_BEFORE_KEY_ID 4

static tu_cert root, leaf;

static int setup(void **state)
{
	(void)state;
	root = tu_make("Index Root", NULL, 1, -1, 365);
	leaf = tu_make("index.example", &root, 0, -1, 30);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_free(&leaf);
	tu_free(&root);
	return 0;
}

static void import_one(cs_store *s, X509 *x, cs_store_id where)
{
	cs_cert_list l = {0};
	cs_import_opts o = {.store = where};
	cs_import_result res;

	assert_int_equal(cs_cert_list_push(&l, tu_cs_cert(x), NULL), CS_OK);
	assert_int_equal(cs_import_certs(s, &l, &o, &res, NULL), CS_OK);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&l);
}

static void test_find_by_issuer_serial_finds_only_that_certificate(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_cert_list out = {0};
	cs_find_opts o = {.store = CS_STORE_MY};

	(void)state;
	import_one(s, root.x509, CS_STORE_ROOT);
	import_one(s, leaf.x509, CS_STORE_MY);
	assert_int_equal(cs_store_find_by_issuer_serial(s, X509_get_issuer_name(leaf.x509),
							X509_get0_serialNumber(leaf.x509), &o, &out,
							NULL),
			 CS_OK);
	assert_int_equal(out.n, 1);
	assert_int_equal(X509_cmp(out.items[0]->x509, leaf.x509), 0);
	cs_cert_list_clear(&out);
	o.store = CS_STORE_ROOT;
	assert_int_equal(cs_store_find_by_issuer_serial(s, X509_get_issuer_name(leaf.x509),
							X509_get0_serialNumber(leaf.x509), &o, &out,
							NULL),
			 CS_OK);
	assert_int_equal(out.n, 0);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_find_by_row_returns_the_row_and_not_found_when_gone(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_cert_list all = {0};
	cs_cert *c = NULL;
	int64_t id;

	(void)state;
	import_one(s, root.x509, CS_STORE_ROOT);
	assert_int_equal(cs_store_list(s, NULL, &all, NULL), CS_OK);
	assert_int_equal(all.n, 1);
	id = all.items[0]->id;
	assert_int_equal(cs_store_find_by_row(s, id, &c, NULL), CS_OK);
	assert_int_equal(c->id, id);
	assert_int_equal(cs_store_delete(s, c, NULL), CS_OK);
	cs_cert_free(c);
	assert_int_equal(cs_store_find_by_row(s, id, &c, NULL), CS_ERR_NOT_FOUND);
	assert_null(c);
	cs_cert_list_clear(&all);
	cs_store_close(s);
	tu_rmdir(dir);
}

/* A certificate may stand in several stores; asked for in any store, its
 * thumbprint gives one of them and nothing of the others stays behind
 * (valgrind and LeakSanitizer see a leak otherwise). */
static void test_find_by_thumbprint_in_any_store_gives_one_of_its_rows(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_cert *want = tu_cs_cert(leaf.x509), *c = NULL;

	(void)state;
	import_one(s, leaf.x509, CS_STORE_MY);
	import_one(s, leaf.x509, CS_STORE_DISALLOWED);
	assert_int_equal(cs_store_find_by_thumbprint(s, CS_STORE_NONE, want->sha1, &c, NULL),
			 CS_OK);
	assert_non_null(c);
	assert_string_equal(c->sha1, want->sha1);
	cs_cert_free(c);
	cs_cert_free(want);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_data_version_changes_only_after_another_connection_commits(void **state)
{
	char *dir, *sdir;
	cs_store *writer = tu_store(&dir), *reader = NULL;
	int64_t v1, v2, v3;

	(void)state;
	assert_true(asprintf(&sdir, "%s/store", dir) > 0);
	assert_int_equal(cs_store_open(sdir, CS_OPEN_READONLY, &reader, NULL), CS_OK);
	assert_int_equal(cs_store_data_version(reader, &v1, NULL), CS_OK);
	assert_int_equal(cs_store_data_version(reader, &v2, NULL), CS_OK);
	assert_true(v1 == v2);
	import_one(writer, root.x509, CS_STORE_ROOT);
	assert_int_equal(cs_store_data_version(reader, &v3, NULL), CS_OK);
	assert_true(v3 != v2);
	cs_store_close(reader);
	cs_store_close(writer);
	free(sdir);
	tu_rmdir(dir);
}

static void test_find_by_key_id_finds_the_certificate_of_that_key(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_cert_list out = {0};
	cs_find_opts o = {.store = CS_STORE_MY};
	unsigned char id[20];
	unsigned int len;

	(void)state;
	import_one(s, root.x509, CS_STORE_ROOT);
	import_one(s, leaf.x509, CS_STORE_MY);
	assert_true(X509_pubkey_digest(leaf.x509, EVP_sha1(), id, &len));
	assert_int_equal(cs_store_find_by_key_id(s, id, sizeof(id), &o, &out, NULL), CS_OK);
	assert_int_equal(out.n, 1);
	assert_int_equal(X509_cmp(out.items[0]->x509, leaf.x509), 0);
	cs_cert_list_clear(&out);
	o.store = CS_STORE_ROOT;
	assert_int_equal(cs_store_find_by_key_id(s, id, sizeof(id), &o, &out, NULL), CS_OK);
	assert_int_equal(out.n, 0);
	cs_store_close(s);
	tu_rmdir(dir);
}

/* A store made before key_id existed: the migration fills it for old rows. */
static void test_key_id_migration_fills_existing_rows(void **state)
{
	char *dir, *db;
	cs_store *s = tu_store(&dir);
	cs_cert_list out = {0};
	sqlite3 *raw = NULL;
	unsigned char id[20];
	unsigned int len;
	char sql[256];

	(void)state;
	import_one(s, leaf.x509, CS_STORE_MY);
	cs_store_close(s);
	assert_true(asprintf(&db, "%s/store/store.db", dir) > 0);
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	snprintf(sql, sizeof(sql),
		 "DROP INDEX certs_by_key_id; ALTER TABLE certs DROP COLUMN key_id;"
		 " PRAGMA user_version = %d;",
		 SCHEMA_BEFORE_KEY_ID);
	assert_int_equal(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	free(db);

	assert_true(asprintf(&db, "%s/store", dir) > 0);
	assert_int_equal(cs_store_open(db, 0, &s, NULL), CS_OK);
	assert_true(X509_pubkey_digest(leaf.x509, EVP_sha1(), id, &len));
	assert_int_equal(cs_store_find_by_key_id(s, id, sizeof(id), NULL, &out, NULL), CS_OK);
	assert_int_equal(out.n, 1);
	cs_cert_list_clear(&out);
	cs_store_close(s);
	free(db);
	tu_rmdir(dir);
}

static void test_find_der_by_subject_matches_find_by_subject(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_cert_list certs = {0};
	cs_der_list ders = {0};
	cs_find_opts root_only = {.store = CS_STORE_ROOT}, my_only = {.store = CS_STORE_MY};

	(void)state;
	import_one(s, root.x509, CS_STORE_ROOT);
	import_one(s, leaf.x509, CS_STORE_MY);
	assert_int_equal(cs_store_find_by_subject(s, X509_get_subject_name(root.x509), &root_only,
						  &certs, NULL),
			 CS_OK);
	assert_int_equal(cs_store_find_der_by_subject(s, X509_get_subject_name(root.x509),
						      &root_only, &ders, NULL),
			 CS_OK);
	assert_int_equal(ders.n, 1);
	assert_int_equal(certs.n, 1);
	assert_int_equal(ders.items[0].len, certs.items[0]->der.len);
	assert_memory_equal(ders.items[0].data, certs.items[0]->der.data, ders.items[0].len);
	cs_der_list_clear(&ders);
	/* the root's subject is not in My */
	assert_int_equal(cs_store_find_der_by_subject(s, X509_get_subject_name(root.x509), &my_only,
						      &ders, NULL),
			 CS_OK);
	assert_int_equal(ders.n, 0);
	cs_der_list_clear(&ders);
	cs_cert_list_clear(&certs);
	cs_store_close(s);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_by_issuer_serial_finds_only_that_certificate),
		cmocka_unit_test(test_find_der_by_subject_matches_find_by_subject),
		cmocka_unit_test(test_find_by_row_returns_the_row_and_not_found_when_gone),
		cmocka_unit_test(test_find_by_thumbprint_in_any_store_gives_one_of_its_rows),
		cmocka_unit_test(test_data_version_changes_only_after_another_connection_commits),
		cmocka_unit_test(test_find_by_key_id_finds_the_certificate_of_that_key),
		cmocka_unit_test(test_key_id_migration_fills_existing_rows),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
