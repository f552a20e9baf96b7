/*
 * test_status.c - the one function that names a certificate's status.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static tu_cert root, inter, leaf, expired, future;

static int setup(void **state)
{
	root = tu_make("Status Root", NULL, 1, -10, 3650);
	inter = tu_make("Status Intermediate", &root, 1, -10, 3000);
	leaf = tu_make("status.example", &inter, 0, -1, 30);
	expired = tu_make("expired.example", &inter, 0, -60, -30);
	future = tu_make("future.example", &inter, 0, 30, 60);
	return 0;
}

static int teardown(void **state)
{
	tu_free(&future);
	tu_free(&expired);
	tu_free(&leaf);
	tu_free(&inter);
	tu_free(&root);
	return 0;
}

static void put(cs_store *s, X509 *x, cs_store_id where)
{
	cs_cert_list l = {0};
	cs_import_opts o = {.store = where};
	cs_import_result res;
	cs_err err = {0};

	cs_cert_list_push(&l, tu_cs_cert(x), NULL);
	if (cs_import_certs(s, &l, &o, &res, &err) != CS_OK)
		fail_msg("import: %s", err.msg);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&l);
}

static cs_status status_of(cs_store *s, X509 *x, cs_status_report *r)
{
	cs_cert *probe = tu_cs_cert(x), *c = NULL;
	cs_err err = {0};

	assert_int_equal(cs_store_find_one(s, probe->sha1, NULL, &c, NULL, &err), CS_OK);
	cs_cert_free(probe);
	if (cs_status_compute(s, c, 0, r, &err) != CS_OK)
		fail_msg("status: %s", err.msg);
	cs_cert_free(c);
	return r->status;
}

/* Each test gets a store of its own, closed and removed after it. */
typedef struct store_fixture {
	cs_store *s;
	char *dir;
} store_fixture;

static cs_store *store_of(void **state)
{
	return ((store_fixture *)*state)->s;
}

static int empty_store(void **state)
{
	store_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->s = tu_store(&f->dir);
	*state = f;
	return 0;
}

/* A chain in CA/My whose root is in Root, and every key linked (as a URI). */
static int chain_store(void **state)
{
	empty_store(state);
	put(store_of(state), root.x509, CS_STORE_ROOT);
	put(store_of(state), inter.x509, CS_STORE_CA);
	return 0;
}

static int close_store(void **state)
{
	store_fixture *f = *state;

	cs_store_close(f->s);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

static void link_key(cs_store *s, X509 *x)
{
	cs_cert *probe = tu_cs_cert(x), *c = NULL;

	assert_int_equal(cs_store_find_one(s, probe->sha1, NULL, &c, NULL, NULL), CS_OK);
	assert_int_equal(cs_store_set_key(s, c, "pkcs11:token=t;id=%01", false, NULL), CS_OK);
	cs_cert_free(c);
	cs_cert_free(probe);
}

static void test_status_valid_with_root_and_key(void **state)
{
	cs_store *s = store_of(state);
	cs_status_report r;

	put(s, leaf.x509, CS_STORE_MY);
	link_key(s, leaf.x509);
	assert_int_equal(status_of(s, leaf.x509, &r), CS_STATUS_VALID);
	assert_int_equal(r.chain.n, 3);
	assert_string_equal(r.chain.items[2]->subject, "CN=Status Root");
	cs_status_report_clear(&r);
}

static void test_status_untrusted_root_when_chain_stops_at_intermediate(void **state)
{
	cs_store *s = store_of(state);
	cs_status_report r;

	put(s, inter.x509, CS_STORE_CA);
	put(s, leaf.x509, CS_STORE_MY);
	link_key(s, leaf.x509);
	assert_int_equal(status_of(s, leaf.x509, &r), CS_STATUS_UNTRUSTED_ROOT);
	assert_non_null(strstr(r.detail, "Status Intermediate"));
	cs_status_report_clear(&r);
	put(s, root.x509, CS_STORE_ROOT);
	assert_int_equal(status_of(s, leaf.x509, &r), CS_STATUS_VALID);
	cs_status_report_clear(&r);
}

static void test_status_expired_and_not_yet_valid(void **state)
{
	cs_store *s = store_of(state);
	cs_status_report r;

	put(s, expired.x509, CS_STORE_MY);
	put(s, future.x509, CS_STORE_MY);
	assert_int_equal(status_of(s, expired.x509, &r), CS_STATUS_EXPIRED);
	assert_non_null(strstr(r.detail, "expired.example"));
	cs_status_report_clear(&r);
	assert_int_equal(status_of(s, future.x509, &r), CS_STATUS_NOT_YET_VALID);
	cs_status_report_clear(&r);
}

static void test_status_honours_clock_override(void **state)
{
	char when[32];
	cs_store *s = store_of(state);
	cs_status_report r;

	put(s, leaf.x509, CS_STORE_MY);
	link_key(s, leaf.x509);
	snprintf(when, sizeof(when), "%lld", (long long)time(NULL) + 90LL * 86400);
	setenv("CERTSTORE_NOW", when, 1);
	assert_int_equal(status_of(s, leaf.x509, &r), CS_STATUS_EXPIRED);
	unsetenv("CERTSTORE_NOW");
	cs_status_report_clear(&r);
}

static void test_status_disallowed_when_root_moved_to_disallowed(void **state)
{
	cs_store *s = store_of(state);
	cs_status_report r;

	put(s, root.x509, CS_STORE_DISALLOWED);
	put(s, inter.x509, CS_STORE_CA);
	put(s, leaf.x509, CS_STORE_MY);
	link_key(s, leaf.x509);
	assert_int_equal(status_of(s, leaf.x509, &r), CS_STATUS_DISALLOWED);
	cs_status_report_clear(&r);
}

static void test_status_disallowed_wins_over_root(void **state)
{
	cs_store *s = store_of(state);
	cs_status_report r;

	put(s, leaf.x509, CS_STORE_MY);
	link_key(s, leaf.x509);
	put(s, leaf.x509, CS_STORE_DISALLOWED);
	/* find_one would be ambiguous across stores; ask for My's copy */
	{
		cs_cert *probe = tu_cs_cert(leaf.x509), *c = NULL;

		assert_int_equal(cs_store_find_by_thumbprint(s, CS_STORE_MY, probe->sha1, &c, NULL),
				 CS_OK);
		assert_int_equal(cs_status_compute(s, c, 0, &r, NULL), CS_OK);
		assert_int_equal(r.status, CS_STATUS_DISALLOWED);
		cs_cert_free(c);
		cs_cert_free(probe);
	}
	cs_status_report_clear(&r);
}

static void test_status_missing_private_key_for_end_entity_in_my(void **state)
{
	cs_store *s = store_of(state);
	cs_status_report r;

	put(s, leaf.x509, CS_STORE_MY);
	assert_int_equal(status_of(s, leaf.x509, &r), CS_STATUS_MISSING_KEY);
	assert_int_equal(r.key_status, CS_STATUS_MISSING_KEY);
	cs_status_report_clear(&r);
	/* a CA certificate needs no key of ours */
	assert_int_equal(status_of(s, inter.x509, &r), CS_STATUS_VALID);
	cs_status_report_clear(&r);
}

static cs_status always_mismatch(void *ctx, const cs_cert *cert)
{
	(void)ctx;
	(void)cert;
	return CS_STATUS_KEY_MISMATCH;
}

static void test_status_asks_the_key_checker(void **state)
{
	cs_store *s = store_of(state);
	cs_status_report r;

	put(s, leaf.x509, CS_STORE_MY);
	cs_store_set_key_checker(s, always_mismatch, NULL);
	assert_int_equal(status_of(s, leaf.x509, &r), CS_STATUS_KEY_MISMATCH);
	assert_string_equal(cs_status_name(r.status), "Private key mismatch");
	cs_status_report_clear(&r);
}

static void test_status_root_in_root_is_valid(void **state)
{
	cs_store *s = store_of(state);
	cs_status_report r;

	assert_int_equal(status_of(s, root.x509, &r), CS_STATUS_VALID);
	assert_int_equal(r.chain.n, 1);
	cs_status_report_clear(&r);
}

static void test_status_bad_signature_named(void **state)
{
	cs_store *s = store_of(state);
	tu_cert genuine = tu_make("forged.example", &inter, 0, -1, 30);
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *forged;
	int len;
	cs_status_report r;

	/* The stored intermediate's name and key identifier, so that the chain
	 * is built through it, but a signature it never made: the last byte of
	 * the signature value flipped.  (A certificate signed by another key
	 * under the same name carries that key's identifier and simply finds
	 * no issuer: Untrusted root, not this.) */
	len = i2d_X509(genuine.x509, &der);
	assert_true(len > 0);
	der[len - 1] ^= 0x01;
	p = der;
	forged = d2i_X509(NULL, &p, len);
	assert_non_null(forged);
	put(s, forged, CS_STORE_MY);
	link_key(s, forged);
	/* named: the bad-signature status itself, not any "not Valid" */
	assert_int_equal(status_of(s, forged, &r), CS_STATUS_BAD_SIGNATURE);
	assert_string_equal(cs_status_name(r.status), "Invalid signature");
	assert_non_null(strstr(r.detail, "signature on CN=forged.example does not verify"));
	cs_status_report_clear(&r);
	X509_free(forged);
	OPENSSL_free(der);
	tu_free(&genuine);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_valid_with_root_and_key, chain_store,
						close_store),
		cmocka_unit_test_setup_teardown(
			test_status_untrusted_root_when_chain_stops_at_intermediate, empty_store,
			close_store),
		cmocka_unit_test_setup_teardown(test_status_expired_and_not_yet_valid, chain_store,
						close_store),
		cmocka_unit_test_setup_teardown(test_status_honours_clock_override, chain_store,
						close_store),
		cmocka_unit_test_setup_teardown(
			test_status_disallowed_when_root_moved_to_disallowed, empty_store,
			close_store),
		cmocka_unit_test_setup_teardown(test_status_disallowed_wins_over_root, chain_store,
						close_store),
		cmocka_unit_test_setup_teardown(
			test_status_missing_private_key_for_end_entity_in_my, chain_store,
			close_store),
		cmocka_unit_test_setup_teardown(test_status_asks_the_key_checker, chain_store,
						close_store),
		cmocka_unit_test_setup_teardown(test_status_root_in_root_is_valid, chain_store,
						close_store),
		cmocka_unit_test_setup_teardown(test_status_bad_signature_named, chain_store,
						close_store),
	};

	return cmocka_run_group_tests_name("status", tests, setup, teardown);
}
