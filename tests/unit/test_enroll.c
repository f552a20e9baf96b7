/*
 * test_enroll.c - pending requests, the local CA, and certreq -accept on import.
 */
#include "testutil.h"
#include "localca.h"
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>
#include <sqlite3.h>

static X509_REQ *make_request(const char *cn, EVP_PKEY *key)
{
	cs_request_spec spec = {0};
	X509_REQ *req = NULL;
	char san[128];

	cs_request_spec_set(&spec.cn, cn, NULL);
	snprintf(san, sizeof(san), "dns:%s", cn);
	cs_request_spec_add_san(&spec, san, NULL);
	assert_int_equal(cs_request_build(&spec, key, &req, NULL), CS_OK);
	cs_request_spec_clear(&spec);
	return req;
}

static cs_local_ca *make_ca(cs_store *s, EVP_PKEY *key)
{
	cs_local_ca *ca = NULL;
	cs_err err = {0};

	if (cs_local_ca_create(s, "lab", NULL, key, "pkcs11:token=t;id=%CA", 30, &ca, &err) !=
	    CS_OK)
		fail_msg("create: %s", err.msg);
	return ca;
}

static cs_rv import_x509(cs_store *s, X509 *x, cs_import_result *res)
{
	cs_cert_list l = {0};
	cs_rv rv;

	cs_cert_list_push(&l, tu_cs_cert(x), NULL);
	rv = cs_import_certs(s, &l, NULL, res, NULL);
	cs_cert_list_clear(&l);
	return rv;
}

/* Rows of the issued-serials table for (ca, serial), read with SQLite itself
 * so that the check does not go through the code under test. */
static int issued_rows(const char *dir, const char *ca, const char *serial)
{
	char path[1024];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	snprintf(path, sizeof(path), "%s/store/store.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM issued WHERE ca = ? AND serial = ?", -1,
			       &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, ca, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_text(st, 2, serial, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void test_local_ca_issues_with_sans_eku_and_records_serial(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	EVP_PKEY *ca_key = tu_key(), *key = tu_key();
	cs_local_ca *ca = make_ca(s, ca_key), *again = NULL;
	X509_REQ *req = make_request("issued.example", key);
	cs_audit_list log = {0};
	cs_cert *issued = NULL;
	char want[256];
	X509 *x = NULL;

	(void)state;
	assert_string_equal(ca->cert->subject, "CN=certstore lab CA");
	assert_true(cs_cert_is_ca(ca->cert));
	assert_int_equal(cs_local_ca_issue(s, ca, ca_key, req, CS_ISSUE_SERVER, 10, &x, NULL),
			 CS_OK);
	assert_int_equal(X509_verify(x, ca_key), 1);
	assert_true(X509_check_host(x, "issued.example", 0, 0, NULL) == 1);
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	assert_false(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
	assert_int_equal(cs_local_ca_get(s, "lab", &again, NULL), CS_OK);
	assert_string_equal(again->key_uri, "pkcs11:token=t;id=%CA");
	assert_int_equal(cs_audit_list_get(s, "ca-", &log, NULL), CS_OK);
	assert_int_equal(log.n, 2);
	/* the serial recorded is the issued certificate's, with its thumbprint */
	assert_int_equal(cs_cert_from_x509(x, &issued, NULL), CS_OK);
	assert_string_equal(log.items[1].action, "ca-issue");
	snprintf(want, sizeof(want), "lab serial %s %s ", issued->serial, issued->sha1);
	assert_true(strncmp(log.items[1].detail, want, strlen(want)) == 0);
	assert_int_equal(issued_rows(dir, "lab", issued->serial), 1);
	cs_cert_free(issued);
	cs_audit_list_clear(&log);
	cs_local_ca_free(again);
	X509_free(x);
	X509_REQ_free(req);
	cs_local_ca_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_local_ca_refuses_duplicate_name_and_bad_request(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	EVP_PKEY *ca_key = tu_key(), *key = tu_key(), *other = tu_key();
	cs_local_ca *ca = make_ca(s, ca_key), *dup = NULL;
	X509_REQ *req = make_request("bad.example", key);
	X509 *x = NULL;
	cs_err err = {0};

	(void)state;
	assert_int_equal(cs_local_ca_create(s, "lab", NULL, ca_key, "u", 30, &dup, &err),
			 CS_ERR_DUPLICATE);
	assert_int_equal(cs_local_ca_create(s, "../evil", NULL, ca_key, "u", 30, &dup, &err),
			 CS_ERR_USAGE);
	/* swap the public key: the signature no longer verifies */
	X509_REQ_set_pubkey(req, other);
	assert_int_equal(cs_local_ca_issue(s, ca, ca_key, req, CS_ISSUE_SERVER, 10, &x, &err),
			 CS_ERR_BAD_INPUT);
	assert_null(x);
	X509_REQ_free(req);
	cs_local_ca_free(ca);
	EVP_PKEY_free(other);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_import_accepts_response_for_pending_request(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	EVP_PKEY *ca_key = tu_key(), *key = tu_key();
	cs_local_ca *ca = make_ca(s, ca_key);
	X509_REQ *req = make_request("accept.example", key);
	cs_pending p = {0}, *left = NULL;
	cs_pending_list pl = {0};
	cs_import_result res;
	cs_cert *c = NULL;
	X509 *x = NULL;

	(void)state;
	p.key_uri = strdup("pkcs11:token=t;id=%01");
	p.friendly_name = strdup("accept web");
	p.exportable = true;
	assert_int_equal(cs_pending_add(s, req, &p, NULL), CS_OK);
	assert_true(p.id > 0);
	assert_int_equal(cs_pending_list_get(s, &pl, NULL), CS_OK);
	assert_int_equal(pl.n, 1);
	assert_string_equal(pl.items[0]->subject, "/CN=accept.example");
	cs_pending_list_clear(&pl);
	assert_int_equal(cs_local_ca_issue(s, ca, ca_key, req, CS_ISSUE_SERVER, 10, &x, NULL),
			 CS_OK);
	assert_int_equal(import_x509(s, x, &res), CS_OK);
	assert_int_equal(res.accepted, 1);
	assert_int_equal(res.items[0].request_id, p.id);
	assert_int_equal(cs_store_find_one(s, res.items[0].sha1, NULL, &c, NULL, NULL), CS_OK);
	assert_string_equal(c->key_uri, "pkcs11:token=t;id=%01");
	assert_string_equal(c->friendly_name, "accept web");
	assert_true(c->exportable);
	assert_int_equal(cs_pending_get(s, p.id, &left, NULL), CS_ERR_NOT_FOUND);
	cs_import_result_clear(&res);
	cs_cert_free(c);
	X509_free(x);
	free(p.key_uri);
	free(p.friendly_name);
	free(p.subject);
	cs_bytes_clear(&p.csr_der);
	X509_REQ_free(req);
	cs_local_ca_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	cs_store_close(s);
	tu_rmdir(dir);
}

static void test_import_response_for_other_key_leaves_request_pending(void **state)
{
	char *dir;
	cs_store *s = tu_store(&dir);
	EVP_PKEY *ca_key = tu_key(), *key = tu_key(), *stranger = tu_key();
	cs_local_ca *ca = make_ca(s, ca_key);
	X509_REQ *req = make_request("pending.example", key);
	X509_REQ *other = make_request("stranger.example", stranger);
	cs_pending p = {0}, *still = NULL;
	cs_import_result res;
	X509 *x = NULL;

	(void)state;
	p.key_uri = strdup("pkcs11:token=t;id=%02");
	assert_int_equal(cs_pending_add(s, req, &p, NULL), CS_OK);
	assert_int_equal(cs_local_ca_issue(s, ca, ca_key, other, CS_ISSUE_CLIENT, 10, &x, NULL),
			 CS_OK);
	assert_int_equal(import_x509(s, x, &res), CS_OK);
	assert_int_equal(res.accepted, 0);
	assert_int_equal(cs_pending_get(s, p.id, &still, NULL), CS_OK);
	assert_int_equal(cs_pending_remove(s, p.id, "cancelled", NULL), CS_OK);
	assert_int_equal(cs_pending_remove(s, p.id, "cancelled", NULL), CS_ERR_NOT_FOUND);
	cs_pending_free(still);
	cs_import_result_clear(&res);
	X509_free(x);
	free(p.key_uri);
	free(p.subject);
	cs_bytes_clear(&p.csr_der);
	X509_REQ_free(other);
	X509_REQ_free(req);
	cs_local_ca_free(ca);
	EVP_PKEY_free(stranger);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	cs_store_close(s);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_ca_issues_with_sans_eku_and_records_serial),
		cmocka_unit_test(test_local_ca_refuses_duplicate_name_and_bad_request),
		cmocka_unit_test(test_import_accepts_response_for_pending_request),
		cmocka_unit_test(test_import_response_for_other_key_leaves_request_pending),
	};

	return cmocka_run_group_tests_name("enroll", tests, NULL, NULL);
}
