/*
 * test_store.c - opening stores, placement on import, lookups, changes, audit.
 */
#include "testutil.h"
#include "certs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static tu_cert root, inter, leaf;

static int setup(void **state)
{
	(void)state;
	root = tu_make("Store Root", NULL, 1, -1, 365);
	inter = tu_make("Store Intermediate", &root, 1, -1, 300);
	leaf = tu_make("store.example", &inter, 0, -1, 30);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_free(&leaf);
	tu_free(&inter);
	tu_free(&root);
	return 0;
}

static cs_cert_list chain_list(void)
{
	cs_cert_list l = {0};

	assert_int_equal(cs_cert_list_push(&l, tu_cs_cert(leaf.x509), NULL), CS_OK);
	assert_int_equal(cs_cert_list_push(&l, tu_cs_cert(inter.x509), NULL), CS_OK);
	assert_int_equal(cs_cert_list_push(&l, tu_cs_cert(root.x509), NULL), CS_OK);
	return l;
}

static int64_t count(cs_store *s, cs_store_id id)
{
	cs_find_opts o = {.store = id};
	int64_t n = -1;

	assert_int_equal(cs_store_count(s, &o, &n, NULL), CS_OK);
	return n;
}

static void test_open_creates_private_dir_and_db(void **state)
{
	char *dir, path[512];
	cs_store *s = tu_store(&dir);
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/store", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/store/store.db", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_open_refuses_group_writable_dir(void **state)
{
	char *dir, path[512];
	cs_store *s = tu_store(&dir);
	cs_err err = {0};

	(void)state;
	cs_store_close(s);
	snprintf(path, sizeof(path), "%s/store", dir);
	chmod(path, 0770);
	assert_int_equal(cs_store_open(path, 0, &s, &err), CS_ERR_STORE);
	assert_non_null(strstr(err.msg, "writable by group or others"));
	tu_rmdir(dir);
}

static void test_open_missing_store_is_not_found(void **state)
{
	cs_store *s = NULL;
	cs_err err = {0};

	(void)state;
	assert_int_equal(cs_store_open("/nonexistent/certstore", 0, &s, &err), CS_ERR_NOT_FOUND);
	assert_null(s);
}

static void test_store_names_and_aliases_are_case_insensitive(void **state)
{
	cs_store_id id;
	cs_err err = {0};

	(void)state;
	assert_int_equal(cs_store_id_parse("personal", &id, NULL), CS_OK);
	assert_int_equal(id, CS_STORE_MY);
	assert_int_equal(cs_store_id_parse("TRUSTED ROOT", &id, NULL), CS_OK);
	assert_int_equal(id, CS_STORE_ROOT);
	assert_int_equal(cs_store_id_parse("Intermediate", &id, NULL), CS_OK);
	assert_int_equal(id, CS_STORE_CA);
	assert_int_equal(cs_store_id_parse("untrusted", &id, NULL), CS_OK);
	assert_int_equal(id, CS_STORE_DISALLOWED);
	assert_int_equal(cs_store_id_parse("request", &id, NULL), CS_OK);
	assert_int_equal(id, CS_STORE_REQUEST);
	assert_int_equal(cs_store_id_parse("Bogus", &id, &err), CS_ERR_NOT_FOUND);
	assert_non_null(strstr(err.msg, "unknown store 'Bogus'"));
}

static void test_import_places_leaf_in_my_intermediate_in_ca_and_skips_root(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_cert_list l = chain_list();
	cs_import_result res;

	(void)state;
	assert_int_equal(cs_import_certs(s, &l, NULL, &res, NULL), CS_OK);
	assert_int_equal(res.added, 2);
	assert_int_equal(res.skipped_roots, 1);
	assert_int_equal(res.items[2].outcome, CS_IMPORT_SKIPPED_ROOT);
	assert_int_equal(count(s, CS_STORE_MY), 1);
	assert_int_equal(count(s, CS_STORE_CA), 1);
	assert_int_equal(count(s, CS_STORE_ROOT), 0);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&l);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_import_root_store_takes_only_self_signed_the_rest_by_kind(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_cert_list l = chain_list();
	cs_import_opts o = {.store = CS_STORE_ROOT};
	cs_import_result res;

	(void)state;
	assert_int_equal(cs_import_certs(s, &l, &o, &res, NULL), CS_OK);
	assert_int_equal(res.added, 3);
	assert_int_equal(res.items[0].store, CS_STORE_MY);
	assert_true(res.items[0].not_root);
	assert_int_equal(res.items[1].store, CS_STORE_CA);
	assert_true(res.items[1].not_root);
	assert_int_equal(res.items[2].store, CS_STORE_ROOT);
	assert_false(res.items[2].not_root);
	assert_int_equal(count(s, CS_STORE_ROOT), 1);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&l);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_import_root_already_in_root_is_a_duplicate_not_skipped(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_cert_list l = chain_list();
	cs_import_opts o = {.store = CS_STORE_ROOT};
	cs_import_result res;

	(void)state;
	assert_int_equal(cs_import_certs(s, &l, &o, &res, NULL), CS_OK);
	cs_import_result_clear(&res);
	assert_int_equal(cs_import_certs(s, &l, NULL, &res, NULL), CS_OK);
	assert_int_equal(res.items[2].outcome, CS_IMPORT_DUPLICATE);
	assert_int_equal(res.items[2].store, CS_STORE_ROOT);
	assert_int_equal(res.skipped_roots, 0);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&l);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_import_into_root_only_when_named(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_cert_list l = {0};
	cs_import_opts o = {.store = CS_STORE_ROOT};
	cs_import_result res;

	(void)state;
	cs_cert_list_push(&l, tu_cs_cert(root.x509), NULL);
	assert_int_equal(cs_import_certs(s, &l, &o, &res, NULL), CS_OK);
	assert_int_equal(res.added, 1);
	assert_int_equal(count(s, CS_STORE_ROOT), 1);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&l);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_import_twice_reports_duplicates_and_adds_nothing(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_cert_list l = chain_list();
	cs_import_result res;

	(void)state;
	assert_int_equal(cs_import_certs(s, &l, NULL, &res, NULL), CS_OK);
	cs_import_result_clear(&res);
	assert_int_equal(cs_import_certs(s, &l, NULL, &res, NULL), CS_OK);
	assert_int_equal(res.added, 0);
	assert_int_equal(res.duplicates, 2);
	assert_int_equal(count(s, CS_STORE_MY), 1);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&l);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_find_one_by_thumbprints_prefix_and_friendly_name(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_cert_list l = chain_list();
	cs_import_opts o = {.friendly_name = "web"};
	cs_import_result res;
	cs_cert *c = NULL, *want = l.items[0];
	char prefix[9], lower[41];
	size_t i;

	(void)state;
	assert_int_equal(cs_import_certs(s, &l, &o, &res, NULL), CS_OK);
	assert_int_equal(cs_store_find_one(s, want->sha1, NULL, &c, NULL, NULL), CS_OK);
	assert_string_equal(c->sha256, want->sha256);
	assert_string_equal(c->friendly_name, "web");
	cs_cert_free(c);
	assert_int_equal(cs_store_find_one(s, want->sha256, NULL, &c, NULL, NULL), CS_OK);
	cs_cert_free(c);
	memcpy(prefix, want->sha1, 8);
	prefix[8] = '\0';
	assert_int_equal(cs_store_find_one(s, prefix, NULL, &c, NULL, NULL), CS_OK);
	cs_cert_free(c);
	for (i = 0; i < 41; i++)
		lower[i] = (char)(want->sha1[i] >= 'A' ? want->sha1[i] + 32 : want->sha1[i]);
	assert_int_equal(cs_store_find_one(s, lower, NULL, &c, NULL, NULL), CS_OK);
	cs_cert_free(c);
	assert_int_equal(cs_store_find_one(s, "web", NULL, &c, NULL, NULL), CS_OK);
	assert_string_equal(c->sha1, want->sha1);
	cs_cert_free(c);
	assert_int_equal(cs_store_find_one(s, "nothing-like-it", NULL, &c, NULL, NULL),
			 CS_ERR_NOT_FOUND);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&l);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_find_one_ambiguous_lists_every_match(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	tu_cert other = tu_make("other.example", &inter, 0, -1, 30);
	cs_cert_list l = {0}, all = {0};
	cs_import_opts o = {.friendly_name = "same"};
	cs_import_result res;
	cs_cert *c = NULL;
	cs_err err = {0};

	(void)state;
	cs_cert_list_push(&l, tu_cs_cert(leaf.x509), NULL);
	cs_cert_list_push(&l, tu_cs_cert(other.x509), NULL);
	assert_int_equal(cs_import_certs(s, &l, &o, &res, NULL), CS_OK);
	cs_import_result_clear(&res);
	assert_int_equal(cs_store_find_one(s, "same", NULL, &c, &all, &err), CS_ERR_AMBIGUOUS);
	assert_null(c);
	assert_int_equal(all.n, 2);
	assert_non_null(strstr(err.msg, "matches 2 certificates"));
	cs_cert_list_clear(&all);
	cs_cert_list_clear(&l);
	tu_free(&other);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_delete_and_move_are_audited(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_cert_list l = chain_list();
	cs_import_opts o = {.store = CS_STORE_ROOT};
	cs_import_result res;
	cs_audit_list log = {0};
	cs_cert *c = NULL;

	(void)state;
	assert_int_equal(cs_import_certs(s, &l, &o, &res, NULL), CS_OK);
	cs_import_result_clear(&res);
	assert_int_equal(cs_store_find_one(s, l.items[2]->sha1, NULL, &c, NULL, NULL), CS_OK);
	assert_int_equal(cs_store_move(s, c, CS_STORE_DISALLOWED, NULL), CS_OK);
	assert_int_equal(count(s, CS_STORE_DISALLOWED), 1);
	cs_cert_free(c);
	assert_int_equal(cs_store_find_one(s, l.items[0]->sha1, NULL, &c, NULL, NULL), CS_OK);
	assert_int_equal(cs_store_delete(s, c, NULL), CS_OK);
	assert_int_equal(cs_store_delete(s, c, NULL), CS_ERR_NOT_FOUND);
	cs_cert_free(c);
	/* Root took only the root (moved on to Disallowed); the intermediate went to CA. */
	assert_int_equal(count(s, CS_STORE_ROOT), 0);
	assert_int_equal(count(s, CS_STORE_CA), 1);
	assert_int_equal(cs_audit_list_get(s, NULL, &log, NULL), CS_OK);
	assert_int_equal(log.n, 5); /* 3 imports, move, delete */
	assert_string_equal(log.items[3].action, "move");
	assert_string_equal(log.items[4].action, "delete");
	assert_int_equal(log.items[4].uid, (int64_t)getuid());
	cs_audit_list_clear(&log);
	cs_cert_list_clear(&l);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_archived_hidden_unless_asked(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	cs_cert_list l = chain_list(), out = {0};
	cs_find_opts all = {.include_archived = true};
	cs_import_result res;

	(void)state;
	assert_int_equal(cs_import_certs(s, &l, NULL, &res, NULL), CS_OK);
	cs_import_result_clear(&res);
	assert_int_equal(cs_store_set_archived(s, l.items[0], true, NULL), CS_OK);
	assert_int_equal(cs_store_list(s, NULL, &out, NULL), CS_OK);
	assert_int_equal(out.n, 1);
	cs_cert_list_clear(&out);
	assert_int_equal(cs_store_list(s, &all, &out, NULL), CS_OK);
	assert_int_equal(out.n, 2);
	cs_cert_list_clear(&out);
	cs_cert_list_clear(&l);
	cs_store_close(s);
	tu_rmdir(dir);
}

/* Two processes importing at once both succeed: writers queue, none fails. */
static void test_concurrent_imports_both_succeed(void **state)
{
	char *dir, sdir[512];
	cs_store *s = tu_store(&dir);
	pid_t pids[2];
	int i, status;

	(void)state;
	snprintf(sdir, sizeof(sdir), "%s", cs_store_dir(s));
	cs_store_close(s); /* children must not inherit an open database */
	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			cs_store *mine = NULL;
			cs_cert_list l = {0};
			cs_import_result res;
			int k, ok = 1;

			if (cs_store_open(sdir, 0, &mine, NULL) != CS_OK)
				_exit(2);
			for (k = 0; k < 20 && ok; k++) {
				tu_cert c = tu_make(i ? "writer-b" : "writer-a", NULL, 0, -1, 10);

				cs_cert_list_push(&l, tu_cs_cert(c.x509), NULL);
				ok = cs_import_certs(mine, &l, NULL, &res, NULL) == CS_OK;
				cs_import_result_clear(&res);
				cs_cert_list_clear(&l);
				tu_free(&c);
			}
			cs_store_close(mine);
			_exit(ok ? 0 : 1);
		}
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(cs_store_open(sdir, 0, &s, NULL), CS_OK);
	assert_int_equal(count(s, CS_STORE_MY), 40);
	cs_store_close(s);
	tu_rmdir(dir);
}

/* The fingerprint the admin vouches for: SHA-256 or SHA-1, any case, colons
 * or spaces between bytes; anything else never matches. */
static void test_cert_matches_fingerprint_only_hex_sha256_or_sha1(void **state)
{
	cs_cert *c = tu_cs_cert(leaf.x509);
	char s[200], colons[200];
	size_t i, o = 0;

	(void)state;
	assert_true(cs_cert_matches_fingerprint(c, c->sha256));
	assert_true(cs_cert_matches_fingerprint(c, c->sha1));
	for (i = 0; c->sha256[i] != '\0'; i++) {
		colons[o++] = (char)tolower((unsigned char)c->sha256[i]);
		if (i % 2 == 1 && c->sha256[i + 1] != '\0')
			colons[o++] = ':';
	}
	colons[o] = '\0';
	assert_true(cs_cert_matches_fingerprint(c, colons));
	/* a prefix, a digit more, a non-hex character in place of one */
	snprintf(s, sizeof(s), "%.40s", c->sha256);
	assert_false(cs_cert_matches_fingerprint(c, s));
	snprintf(s, sizeof(s), "%s0", c->sha1);
	assert_false(cs_cert_matches_fingerprint(c, s));
	snprintf(s, sizeof(s), "%s", c->sha1);
	s[10] = 'G';
	assert_false(cs_cert_matches_fingerprint(c, s));
	snprintf(s, sizeof(s), "%s", c->sha256);
	s[20] = '-';
	assert_false(cs_cert_matches_fingerprint(c, s));
	/* the old copies skipped ':' and ' ' but kept anything else, and
	 * compared at most 79 characters */
	snprintf(s, sizeof(s), "%s\x7f", c->sha1);
	assert_false(cs_cert_matches_fingerprint(c, s));
	assert_false(cs_cert_matches_fingerprint(c, ""));
	assert_false(cs_cert_matches_fingerprint(c, NULL));
	cs_cert_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_creates_private_dir_and_db),
		cmocka_unit_test(test_open_refuses_group_writable_dir),
		cmocka_unit_test(test_open_missing_store_is_not_found),
		cmocka_unit_test(test_store_names_and_aliases_are_case_insensitive),
		cmocka_unit_test(test_import_places_leaf_in_my_intermediate_in_ca_and_skips_root),
		cmocka_unit_test(test_import_root_store_takes_only_self_signed_the_rest_by_kind),
		cmocka_unit_test(test_import_root_already_in_root_is_a_duplicate_not_skipped),
		cmocka_unit_test(test_import_into_root_only_when_named),
		cmocka_unit_test(test_import_twice_reports_duplicates_and_adds_nothing),
		cmocka_unit_test(test_find_one_by_thumbprints_prefix_and_friendly_name),
		cmocka_unit_test(test_find_one_ambiguous_lists_every_match),
		cmocka_unit_test(test_delete_and_move_are_audited),
		cmocka_unit_test(test_archived_hidden_unless_asked),
		cmocka_unit_test(test_concurrent_imports_both_succeed),
		cmocka_unit_test(test_cert_matches_fingerprint_only_hex_sha256_or_sha1),
	};

	return cmocka_run_group_tests_name("store", tests, setup, teardown);
}
