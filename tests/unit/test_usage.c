/*
 * test_usage.c - usages: assignment rules, atomic publication, rolls, repair,
 * the Root files, and PEM key references.
 */
#include "testutil.h"
#include "usage.h"
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static tu_cert root, leaf, leaf2, expired;

static int setup(void **state)
{
	(void)state;
	root = tu_make("Usage Root", NULL, 1, -10, 3650);
	leaf = tu_make("one.example", &root, 0, -1, 30);
	leaf2 = tu_make("two.example", &root, 0, -1, 60);
	expired = tu_make("old.example", &root, 0, -60, -1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_free(&expired);
	tu_free(&leaf2);
	tu_free(&leaf);
	tu_free(&root);
	return 0;
}

static cs_cert *put(cs_store *s, X509 *x, cs_store_id where, bool with_key)
{
	cs_cert_list l = {0};
	cs_import_opts o = {.store = where};
	cs_import_result res;
	cs_cert *c = NULL, *probe = tu_cs_cert(x);

	cs_cert_list_push(&l, tu_cs_cert(x), NULL);
	assert_int_equal(cs_import_certs(s, &l, &o, &res, NULL), CS_OK);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&l);
	assert_int_equal(cs_store_find_by_thumbprint(s, where, probe->sha1, &c, NULL), CS_OK);
	cs_cert_free(probe);
	if (with_key) {
		assert_int_equal(
			cs_store_set_key(s, c, "pkcs11:token=t;id=%01;type=private", false, NULL),
			CS_OK);
		free(c->key_uri);
		c->key_uri = strdup("pkcs11:token=t;id=%01;type=private");
	}
	return c;
}

static char *read_text(cs_store *s, const char *usage, const char *file)
{
	char *dir = cs_usage_dir(s, usage), path[1024];
	cs_bytes b = {0};
	char *text;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	free(dir);
	if (cs_read_file(path, &b, NULL) != CS_OK)
		return NULL;
	text = strndup((char *)b.data, b.len);
	cs_bytes_clear(&b);
	return text;
}

static cs_store *store_with_root(char **dir)
{
	cs_store *s = tu_store(dir);
	cs_cert *r = put(s, root.x509, CS_STORE_ROOT, false);

	cs_cert_free(r);
	return s;
}

static void test_usage_names_reject_traversal_and_oddities(void **state)
{
	(void)state;
	assert_true(cs_usage_name_valid("Default"));
	assert_true(cs_usage_name_valid("Web.Services-Internal_2"));
	assert_false(cs_usage_name_valid("../x"));
	assert_false(cs_usage_name_valid(""));
	assert_false(cs_usage_name_valid("a\nb"));
	assert_false(cs_usage_name_valid(".hidden"));
	assert_false(cs_usage_name_valid("a/b"));
}

static void test_assign_publishes_cert_chain_and_key_reference(void **state)
{
	char *dir, *text;
	cs_store *s = store_with_root(&dir);
	cs_cert *c = put(s, leaf.x509, CS_STORE_MY, true);
	cs_keyref ref;
	cs_usage u;
	cs_err err = {0};

	(void)state;
	if (cs_usage_assign(s, "Default", c, false, &err) != CS_OK)
		fail_msg("assign: %s", err.msg);
	text = read_text(s, "Default", "cert.pem");
	assert_non_null(strstr(text, "BEGIN CERTIFICATE"));
	free(text);
	text = read_text(s, "Default", "key.pem");
	assert_non_null(strstr(text, "BEGIN " CS_KEYREF_PEM_NAME));
	assert_null(strstr(text, "PRIVATE KEY"));
	assert_int_equal(cs_keyref_parse((unsigned char *)text, strlen(text), &ref, NULL), CS_OK);
	assert_string_equal(ref.thumbprint, c->sha1);
	assert_string_equal(ref.store_dir, cs_store_dir(s));
	cs_keyref_clear(&ref);
	free(text);
	text = read_text(s, "Default", "fullchain.pem");
	assert_non_null(text);
	free(text);
	assert_int_equal(cs_usage_get(s, "Default", &u, NULL), CS_OK);
	assert_string_equal(u.sha1, c->sha1);
	cs_usage_clear(&u);
	cs_cert_free(c);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_assign_refuses_invalid_unless_forced(void **state)
{
	char *dir;
	cs_store *s = store_with_root(&dir);
	cs_cert *old = put(s, expired.x509, CS_STORE_MY, true);
	cs_cert *nokey = put(s, leaf.x509, CS_STORE_MY, false);
	cs_usage u;
	cs_err err = {0};

	(void)state;
	assert_int_equal(cs_usage_assign(s, "Default", old, false, &err), CS_ERR_NOT_VALID);
	assert_non_null(strstr(err.msg, "Expired"));
	assert_int_equal(cs_usage_assign(s, "Default", nokey, false, &err), CS_ERR_NOT_VALID);
	assert_non_null(strstr(err.msg, "Missing private key"));
	assert_int_equal(cs_usage_get(s, "Default", &u, NULL), CS_ERR_NOT_FOUND);
	assert_int_equal(cs_usage_assign(s, "Default", old, true, &err), CS_OK);
	assert_int_equal(cs_usage_assign(s, "../etc", old, true, &err), CS_ERR_USAGE);
	cs_cert_free(nokey);
	cs_cert_free(old);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_reassign_remembers_previous_and_swaps_whole_directory(void **state)
{
	char *dir, *first_target, link1[512], link2[512], *udir;
	cs_store *s = store_with_root(&dir);
	cs_cert *a = put(s, leaf.x509, CS_STORE_MY, true);
	cs_cert *b = put(s, leaf2.x509, CS_STORE_MY, true);
	cs_usage u;
	ssize_t n;

	(void)state;
	assert_int_equal(cs_usage_assign(s, "Default", a, false, NULL), CS_OK);
	udir = cs_usage_dir(s, "Default");
	n = readlink(udir, link1, sizeof(link1) - 1);
	assert_true(n > 0);
	link1[n] = '\0';
	assert_int_equal(asprintf(&first_target, "%s/usages/%s", cs_store_dir(s), link1) > 0, 1);
	assert_int_equal(cs_usage_assign(s, "Default", b, false, NULL), CS_OK);
	n = readlink(udir, link2, sizeof(link2) - 1);
	link2[n] = '\0';
	assert_string_not_equal(link1, link2);
	assert_int_not_equal(access(first_target, F_OK), 0); /* old generation removed */
	assert_int_equal(cs_usage_get(s, "Default", &u, NULL), CS_OK);
	assert_string_equal(u.sha1, b->sha1);
	assert_string_equal(u.previous_sha1, a->sha1);
	cs_usage_clear(&u);
	free(first_target);
	free(udir);
	cs_cert_free(b);
	cs_cert_free(a);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_unassign_removes_directory_keeps_certificate(void **state)
{
	char *dir, *udir;
	cs_store *s = store_with_root(&dir);
	cs_cert *a = put(s, leaf.x509, CS_STORE_MY, true), *again = NULL;

	(void)state;
	assert_int_equal(cs_usage_assign(s, "Default", a, false, NULL), CS_OK);
	assert_int_equal(cs_usage_unassign(s, "Default", NULL), CS_OK);
	udir = cs_usage_dir(s, "Default");
	assert_int_not_equal(access(udir, F_OK), 0);
	assert_int_equal(cs_usage_unassign(s, "Default", NULL), CS_ERR_NOT_FOUND);
	assert_int_equal(cs_store_find_one(s, a->sha1, NULL, &again, NULL, NULL), CS_OK);
	cs_cert_free(again);
	free(udir);
	cs_cert_free(a);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_staged_roll_applies_when_due(void **state)
{
	char *dir, when[32];
	cs_store *s = store_with_root(&dir);
	cs_cert *a = put(s, leaf.x509, CS_STORE_MY, true);
	cs_cert *b = put(s, leaf2.x509, CS_STORE_MY, true);
	size_t applied = 9;
	cs_usage u;

	(void)state;
	assert_int_equal(cs_usage_assign(s, "OAuthTokenIssuer", a, false, NULL), CS_OK);
	assert_int_equal(cs_usage_stage(s, "OAuthTokenIssuer", b, (int64_t)time(NULL) + 3600, NULL),
			 CS_OK);
	assert_int_equal(cs_usage_apply_due(s, &applied, NULL), CS_OK);
	assert_int_equal(applied, 0);
	snprintf(when, sizeof(when), "%lld", (long long)time(NULL) + 7200);
	setenv("CERTSTORE_NOW", when, 1);
	assert_int_equal(cs_usage_apply_due(s, &applied, NULL), CS_OK);
	unsetenv("CERTSTORE_NOW");
	assert_int_equal(applied, 1);
	assert_int_equal(cs_usage_get(s, "OAuthTokenIssuer", &u, NULL), CS_OK);
	assert_string_equal(u.sha1, b->sha1);
	assert_string_equal(u.staged_sha1, "");
	cs_usage_clear(&u);
	cs_cert_free(b);
	cs_cert_free(a);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_move_all_carries_every_usage_to_the_renewal(void **state)
{
	char *dir;
	cs_store *s = store_with_root(&dir);
	cs_cert *a = put(s, leaf.x509, CS_STORE_MY, true);
	cs_cert *b = put(s, leaf2.x509, CS_STORE_MY, true);
	cs_usage u;

	(void)state;
	assert_int_equal(cs_usage_assign(s, "Default", a, false, NULL), CS_OK);
	assert_int_equal(cs_usage_assign(s, "WebServicesInternal", a, false, NULL), CS_OK);
	assert_int_equal(cs_usage_move_all(s, a, b, NULL), CS_OK);
	assert_int_equal(cs_usage_get(s, "Default", &u, NULL), CS_OK);
	assert_string_equal(u.sha1, b->sha1);
	cs_usage_clear(&u);
	assert_int_equal(cs_usage_get(s, "WebServicesInternal", &u, NULL), CS_OK);
	assert_string_equal(u.sha1, b->sha1);
	cs_usage_clear(&u);
	cs_cert_free(b);
	cs_cert_free(a);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_check_repairs_missing_and_stale_publications(void **state)
{
	char *dir, *udir, path[1024], *text;
	cs_store *s = store_with_root(&dir);
	cs_cert *a = put(s, leaf.x509, CS_STORE_MY, true);
	size_t repaired = 0;
	FILE *f;

	(void)state;
	assert_int_equal(cs_usage_assign(s, "Default", a, false, NULL), CS_OK);
	udir = cs_usage_dir(s, "Default");
	snprintf(path, sizeof(path), "%s/cert.pem", udir);
	f = fopen(path, "w");
	fputs("garbage\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/usages/.Default.gen-123-1", cs_store_dir(s));
	mkdir(path, 0755); /* a half-written generation left by a crash */
	assert_int_equal(cs_usage_check(s, &repaired, NULL), CS_OK);
	assert_true(repaired >= 2);
	text = read_text(s, "Default", "cert.pem");
	assert_non_null(strstr(text, "BEGIN CERTIFICATE"));
	free(text);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(cs_usage_check(s, &repaired, NULL), CS_OK);
	assert_int_equal(repaired, 0);
	free(udir);
	cs_cert_free(a);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_roots_published_as_bundle_and_hashed_dir(void **state)
{
	char *dir, path[1024];
	cs_store *s = store_with_root(&dir);
	cs_cert *r = NULL, *probe = tu_cs_cert(root.x509);
	unsigned long h = X509_NAME_hash_ex(X509_get_subject_name(root.x509), NULL, NULL, NULL);

	(void)state;
	snprintf(path, sizeof(path), "%s/published/roots/%08lx.0", cs_store_dir(s), h);
	assert_int_equal(access(path, R_OK), 0);
	snprintf(path, sizeof(path), "%s/published/roots.pem", cs_store_dir(s));
	assert_int_equal(access(path, R_OK), 0);
	assert_int_equal(cs_store_find_by_thumbprint(s, CS_STORE_ROOT, probe->sha1, &r, NULL),
			 CS_OK);
	assert_int_equal(cs_store_move(s, r, CS_STORE_DISALLOWED, NULL), CS_OK);
	snprintf(path, sizeof(path), "%s/published/roots/%08lx.0", cs_store_dir(s), h);
	assert_int_not_equal(access(path, R_OK), 0);
	cs_cert_free(r);
	cs_cert_free(probe);
	cs_store_close(s);
	tu_rmdir(dir);
}

/* [usage.NAME] previous-grace: how long the usage's group may still use the
 * certificate it had, while its workers are being reloaded. */
static void write_conf(cs_store *s, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/certstore.conf", cs_store_dir(s));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
}

static cs_rv authorize_at(cs_store *s, const char *sha1, int64_t when)
{
	char now[32];
	cs_rv rv;

	snprintf(now, sizeof(now), "%lld", (long long)when);
	setenv("CERTSTORE_NOW", now, 1);
	rv = cs_agent_authorize(s, sha1, 33, 33, NULL); /* www-data */
	unsetenv("CERTSTORE_NOW");
	return rv;
}

static void test_agent_previous_certificate_grace(void **state)
{
	char *dir;
	cs_store *s = store_with_root(&dir);
	cs_cert *a = put(s, leaf.x509, CS_STORE_MY, true);
	cs_cert *b = put(s, leaf2.x509, CS_STORE_MY, true);
	int64_t t = (int64_t)time(NULL);

	(void)state;
	write_conf(s, "[usage.Web]\ngroup = www-data\n");
	assert_int_equal(cs_usage_assign(s, "Web", a, false, NULL), CS_OK);
	assert_int_equal(cs_usage_assign(s, "Web", b, false, NULL), CS_OK);
	assert_int_equal(authorize_at(s, b->sha1, t), CS_OK);
	assert_int_equal(authorize_at(s, a->sha1, t + 10), CS_OK); /* default: 300 s */
	assert_int_equal(authorize_at(s, a->sha1, t + 400), CS_ERR_REFUSED);
	assert_int_equal(authorize_at(s, b->sha1, t + 400), CS_OK); /* the current one */
	write_conf(s, "[usage.Web]\ngroup = www-data\nprevious-grace = 3600\n");
	assert_int_equal(authorize_at(s, a->sha1, t + 400), CS_OK);
	write_conf(s, "[usage.Web]\ngroup = www-data\nprevious-grace = 0\n");
	assert_int_equal(authorize_at(s, a->sha1, t + 5), CS_ERR_REFUSED);
	write_conf(s, "[usage.Web]\ngroup = www-data\nprevious-grace = soon\n");
	assert_int_equal(authorize_at(s, a->sha1, t), CS_ERR_STORE);
	cs_cert_free(b);
	cs_cert_free(a);
	cs_store_close(s);
	tu_rmdir(dir);
}

/* authorize_msg: as authorize_at, keeping the message. */
static cs_rv authorize_msg(cs_store *s, const char *sha1, int64_t when, cs_err *err)
{
	char now[32];
	cs_rv rv;

	snprintf(now, sizeof(now), "%lld", (long long)when);
	setenv("CERTSTORE_NOW", now, 1);
	rv = cs_agent_authorize(s, sha1, 33, 33, err);
	unsetenv("CERTSTORE_NOW");
	return rv;
}

static void test_agent_grace_covers_a_renewal_that_archived_the_certificate(void **state)
{
	char *dir;
	cs_store *s = store_with_root(&dir);
	cs_cert *a = put(s, leaf.x509, CS_STORE_MY, true);
	cs_cert *b = put(s, leaf2.x509, CS_STORE_MY, true);
	int64_t t = (int64_t)time(NULL);
	bool moved = false;
	cs_err err = {0};

	(void)state;
	write_conf(s, "[usage.Web]\ngroup = www-data\nprevious-grace = 60\n");
	assert_int_equal(cs_usage_assign(s, "Web", a, false, NULL), CS_OK);
	assert_int_equal(cs_renewal_record(s, b, a->sha1, &moved, NULL), CS_OK);
	assert_true(moved);
	/* the renewal archived a: the grace must still find it */
	assert_int_equal(authorize_msg(s, a->sha1, t + 5, &err), CS_OK);
	assert_int_equal(authorize_msg(s, a->sha1, t + 120, &err), CS_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "usage Web's previous certificate"));
	assert_non_null(strstr(err.msg, "previous-grace ended at"));
	cs_cert_free(b);
	cs_cert_free(a);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_agent_grace_zero_grants_nothing_even_in_the_same_second(void **state)
{
	char *dir;
	cs_store *s = store_with_root(&dir);
	cs_cert *a = put(s, leaf.x509, CS_STORE_MY, true);
	cs_cert *b = put(s, leaf2.x509, CS_STORE_MY, true);
	cs_usage u = {0};

	(void)state;
	write_conf(s, "[usage.Web]\ngroup = www-data\nprevious-grace = 0\n");
	assert_int_equal(cs_usage_assign(s, "Web", a, false, NULL), CS_OK);
	assert_int_equal(cs_usage_assign(s, "Web", b, false, NULL), CS_OK);
	assert_int_equal(cs_usage_get(s, "Web", &u, NULL), CS_OK);
	assert_int_equal(authorize_at(s, a->sha1, u.assigned_at), CS_ERR_REFUSED);
	assert_int_equal(authorize_at(s, b->sha1, u.assigned_at), CS_OK);
	cs_usage_clear(&u);
	cs_cert_free(b);
	cs_cert_free(a);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_agent_grace_not_extended_by_a_clock_set_back(void **state)
{
	char *dir;
	cs_store *s = store_with_root(&dir);
	cs_cert *a = put(s, leaf.x509, CS_STORE_MY, true);
	cs_cert *b = put(s, leaf2.x509, CS_STORE_MY, true);
	cs_usage u = {0};

	(void)state;
	write_conf(s, "[usage.Web]\ngroup = www-data\nprevious-grace = 300\n");
	assert_int_equal(cs_usage_assign(s, "Web", a, false, NULL), CS_OK);
	assert_int_equal(cs_usage_assign(s, "Web", b, false, NULL), CS_OK);
	assert_int_equal(cs_usage_get(s, "Web", &u, NULL), CS_OK);
	assert_int_equal(authorize_at(s, a->sha1, u.assigned_at + 299), CS_OK);
	assert_int_equal(authorize_at(s, a->sha1, u.assigned_at + 300), CS_ERR_REFUSED);
	assert_int_equal(authorize_at(s, a->sha1, u.assigned_at - 100), CS_ERR_REFUSED);
	cs_usage_clear(&u);
	cs_cert_free(b);
	cs_cert_free(a);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_agent_refuses_a_certificate_in_disallowed(void **state)
{
	char *dir;
	cs_store *s = store_with_root(&dir);
	cs_cert *a = put(s, leaf.x509, CS_STORE_MY, true);
	cs_cert *d;
	cs_err err = {0};

	(void)state;
	write_conf(s, "[usage.Web]\ngroup = www-data\n");
	assert_int_equal(cs_usage_assign(s, "Web", a, false, NULL), CS_OK);
	assert_int_equal(authorize_at(s, a->sha1, time(NULL)), CS_OK);
	d = put(s, leaf.x509, CS_STORE_DISALLOWED, false);
	assert_int_equal(authorize_msg(s, a->sha1, time(NULL), &err), CS_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "Disallowed"));
	/* root too: distrust is not a permission */
	assert_int_equal(cs_agent_authorize(s, a->sha1, 0, 0, NULL), CS_ERR_REFUSED);
	cs_cert_free(d);
	cs_cert_free(a);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_agent_resolves_a_numeric_group_as_the_publisher_does(void **state)
{
	char *dir;
	cs_store *s = store_with_root(&dir);
	cs_cert *a = put(s, leaf.x509, CS_STORE_MY, true);

	(void)state;
	write_conf(s, "[usage.Web]\ngroup = 33\n");
	assert_int_equal(cs_usage_assign(s, "Web", a, false, NULL), CS_OK);
	assert_int_equal(authorize_at(s, a->sha1, time(NULL)), CS_OK);
	assert_int_equal(cs_agent_authorize(s, a->sha1, 65534, 65534, NULL), CS_ERR_REFUSED);
	cs_cert_free(a);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_assign_refuses_a_group_writable_usages_dir(void **state)
{
	char *dir, path[1024];
	cs_store *s = store_with_root(&dir);
	cs_cert *a = put(s, leaf.x509, CS_STORE_MY, true);
	cs_err err = {0};

	(void)state;
	assert_int_equal(cs_usage_assign(s, "Default", a, false, NULL), CS_OK);
	snprintf(path, sizeof(path), "%s/usages", cs_store_dir(s));
	assert_int_equal(chmod(path, 0775), 0);
	assert_int_equal(cs_usage_assign(s, "Default", a, false, &err), CS_ERR_STORE);
	assert_non_null(strstr(err.msg, "writable by group or others"));
	assert_int_equal(chmod(path, 0711), 0);
	assert_int_equal(cs_usage_assign(s, "Default", a, false, NULL), CS_OK);
	cs_cert_free(a);
	cs_store_close(s);
	tu_rmdir(dir);
}

/* A usage swapped for a link to a tree elsewhere: the next assign replaces
 * the link and leaves that tree alone. */
static void test_assign_never_removes_what_a_swapped_link_points_at(void **state)
{
	char *dir, victim[1024], file[1100], link[1024];
	cs_store *s = store_with_root(&dir);
	cs_cert *a = put(s, leaf.x509, CS_STORE_MY, true);
	FILE *f;

	(void)state;
	assert_int_equal(cs_usage_assign(s, "Default", a, false, NULL), CS_OK);
	/* beside usages/, where a relative "../victim" from a usage leads */
	snprintf(victim, sizeof(victim), "%s/victim", cs_store_dir(s));
	assert_int_equal(mkdir(victim, 0700), 0);
	snprintf(file, sizeof(file), "%s/precious", victim);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(link, sizeof(link), "%s/usages/Default", cs_store_dir(s));
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink(victim, link), 0);
	assert_int_equal(cs_usage_assign(s, "Default", a, false, NULL), CS_OK);
	assert_int_equal(access(file, F_OK), 0);
	/* and one pointing at a relative sibling that is not a generation */
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("../victim", link), 0);
	assert_int_equal(cs_usage_unassign(s, "Default", NULL), CS_OK);
	assert_int_equal(access(file, F_OK), 0);
	cs_cert_free(a);
	cs_store_close(s);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage_names_reject_traversal_and_oddities),
		cmocka_unit_test(test_assign_publishes_cert_chain_and_key_reference),
		cmocka_unit_test(test_assign_refuses_invalid_unless_forced),
		cmocka_unit_test(test_reassign_remembers_previous_and_swaps_whole_directory),
		cmocka_unit_test(test_unassign_removes_directory_keeps_certificate),
		cmocka_unit_test(test_staged_roll_applies_when_due),
		cmocka_unit_test(test_move_all_carries_every_usage_to_the_renewal),
		cmocka_unit_test(test_check_repairs_missing_and_stale_publications),
		cmocka_unit_test(test_roots_published_as_bundle_and_hashed_dir),
		cmocka_unit_test(test_agent_previous_certificate_grace),
		cmocka_unit_test(test_assign_refuses_a_group_writable_usages_dir),
		cmocka_unit_test(test_assign_never_removes_what_a_swapped_link_points_at),
		cmocka_unit_test(test_agent_grace_covers_a_renewal_that_archived_the_certificate),
		cmocka_unit_test(test_agent_grace_zero_grants_nothing_even_in_the_same_second),
		cmocka_unit_test(test_agent_grace_not_extended_by_a_clock_set_back),
		cmocka_unit_test(test_agent_refuses_a_certificate_in_disallowed),
		cmocka_unit_test(test_agent_resolves_a_numeric_group_as_the_publisher_does),
	};

	return cmocka_run_group_tests_name("usage", tests, setup, teardown);
}
