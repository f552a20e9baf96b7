/*
 * test_request.c - request specs, certreq INF files and the PKCS#10 they make.
 */
#include "testutil.h"
#include "request.h"
#include "requests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

static X509_REQ *build(cs_request_spec *spec, EVP_PKEY *key)
{
	X509_REQ *req = NULL;
	cs_err err = {0};

	if (cs_request_build(spec, key, &req, &err) != CS_OK)
		fail_msg("build: %s", err.msg);
	return req;
}

static char *subject_of(X509_REQ *req)
{
	static char buf[512];

	X509_NAME_oneline(X509_REQ_get_subject_name(req), buf, sizeof(buf));
	return buf;
}

static X509_EXTENSION *find_ext(X509_REQ *req, const char *oid, STACK_OF(X509_EXTENSION) * *keep)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int i;

	*keep = X509_REQ_get_extensions(req);
	i = X509v3_get_ext_by_OBJ(*keep, obj, -1);
	ASN1_OBJECT_free(obj);
	return i >= 0 ? sk_X509_EXTENSION_value(*keep, i) : NULL;
}

static void test_request_from_fields_is_signed_and_carries_sans(void **state)
{
	cs_request_spec spec = {0};
	EVP_PKEY *key = tu_key();
	STACK_OF(X509_EXTENSION) * exts;
	X509_EXTENSION *san;
	X509_REQ *req;

	(void)state;
	cs_request_spec_set(&spec.cn, "web.example", NULL);
	cs_request_spec_set(&spec.org, "Example Ltd", NULL);
	cs_request_spec_set(&spec.country, "GB", NULL);
	assert_int_equal(cs_request_spec_add_san(&spec, "dns:web.example", NULL), CS_OK);
	assert_int_equal(cs_request_spec_add_san(&spec, "IP:127.0.0.1", NULL), CS_OK);
	req = build(&spec, key);
	assert_int_equal(X509_REQ_verify(req, key), 1);
	assert_string_equal(subject_of(req), "/C=GB/O=Example Ltd/CN=web.example");
	san = find_ext(req, "2.5.29.17", &exts);
	assert_non_null(san);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	cs_request_spec_clear(&spec);
}

static void test_request_carries_challenge_password_attribute(void **state)
{
	cs_request_spec spec = {0};
	EVP_PKEY *key = tu_key();
	X509_ATTRIBUTE *attr;
	ASN1_TYPE *value;
	X509_REQ *req;
	int i;

	(void)state;
	cs_request_spec_set(&spec.cn, "scep.example", NULL);
	cs_request_spec_set(&spec.challenge_password, "one-time secret", NULL);
	req = build(&spec, key);
	assert_int_equal(X509_REQ_verify(req, key), 1);
	i = X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword, -1);
	assert_true(i >= 0);
	attr = X509_REQ_get_attr(req, i);
	value = X509_ATTRIBUTE_get0_type(attr, 0);
	assert_non_null(value);
	assert_memory_equal(ASN1_STRING_get0_data(value->value.asn1_string), "one-time secret", 15);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	cs_request_spec_clear(&spec);
}

static void test_request_subject_in_windows_order_with_escapes(void **state)
{
	cs_request_spec spec = {0};
	EVP_PKEY *key = tu_key();
	X509_REQ *req;

	(void)state;
	cs_request_spec_set(&spec.subject, "CN=a.example, O=Example\\, Inc, S=WA, C=US", NULL);
	req = build(&spec, key);
	assert_string_equal(subject_of(req), "/CN=a.example/O=Example, Inc/ST=WA/C=US");
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	cs_request_spec_clear(&spec);
}

static void test_request_template_extensions(void **state)
{
	cs_request_spec spec = {0};
	EVP_PKEY *key = tu_key();
	STACK_OF(X509_EXTENSION) * exts;
	X509_EXTENSION *ext;
	X509_REQ *req;
	const ASN1_OCTET_STRING *v;

	(void)state;
	cs_request_spec_set(&spec.cn, "t.example", NULL);
	cs_request_spec_set(&spec.template_name, "WebServer", NULL);
	cs_request_spec_set(&spec.template_oid, "1.3.6.1.4.1.311.21.8.1.2:100:3", NULL);
	req = build(&spec, key);
	ext = find_ext(req, "1.3.6.1.4.1.311.20.2", &exts);
	assert_non_null(ext);
	v = X509_EXTENSION_get_data(ext);
	assert_int_equal(v->data[0], V_ASN1_BMPSTRING);
	assert_int_equal(v->data[1], 18); /* "WebServer" in UTF-16 */
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ext = find_ext(req, "1.3.6.1.4.1.311.21.7", &exts);
	assert_non_null(ext);
	v = X509_EXTENSION_get_data(ext);
	assert_int_equal(v->data[0], 0x30);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	cs_request_spec_clear(&spec);
}

static void test_request_refuses_bad_input(void **state)
{
	cs_request_spec spec = {0};
	EVP_PKEY *key = tu_key();
	X509_REQ *req = NULL;
	cs_err err = {0};

	(void)state;
	assert_int_equal(cs_request_build(&spec, key, &req, &err), CS_ERR_USAGE);
	assert_non_null(strstr(err.msg, "needs a subject"));
	assert_int_equal(cs_request_spec_add_san(&spec, "ftp:x", &err), CS_ERR_USAGE);
	cs_request_spec_set(&spec.cn, "x", NULL);
	cs_request_spec_set(&spec.hash, "md5", NULL);
	assert_int_equal(cs_request_build(&spec, key, &req, &err), CS_ERR_USAGE);
	assert_non_null(strstr(err.msg, "unknown hash"));
	cs_request_spec_set(&spec.hash, NULL, NULL);
	cs_request_spec_set(&spec.subject, "CN=x, BOGUS=y", NULL);
	assert_int_equal(cs_request_build(&spec, key, &req, &err), CS_ERR_USAGE);
	assert_null(req);
	EVP_PKEY_free(key);
	cs_request_spec_clear(&spec);
}

static void test_request_reads_certreq_inf_with_crlf(void **state)
{
	static const char inf[] =
		"[Version]\r\nSignature=\"$Windows NT$\"\r\n\r\n"
		"[NewRequest]\r\n"
		"Subject = \"CN=inf.example, O=Contoso, L=Redmond, S=WA, C=US\"\r\n"
		"KeyLength = 384\r\nKeyAlgorithm = ECDSA_P384\r\nExportable = TRUE\r\n"
		"MachineKeySet = True\r\nFriendlyName = \"Inf web\"\r\nHashAlgorithm = sha384\r\n"
		"[Extensions]\r\n2.5.29.17 = \"{text}\"\r\n"
		"_continue_ = \"dns=inf.example&\"\r\n_continue_ = \"ipaddress=10.1.2.3&\"\r\n"
		"[RequestAttributes]\r\nCertificateTemplate = WebServer\r\n";
	char *dir = tu_tempdir(), path[512];
	cs_request_spec spec = {0};
	cs_err err = {0};
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/req.inf", dir);
	f = fopen(path, "w");
	fputs(inf, f);
	fclose(f);
	if (cs_request_spec_read_inf(path, &spec, &err) != CS_OK)
		fail_msg("inf: %s", err.msg);
	assert_string_equal(spec.subject, "CN=inf.example, O=Contoso, L=Redmond, S=WA, C=US");
	assert_string_equal(spec.key, "ec:p384");
	assert_string_equal(spec.hash, "sha384");
	assert_string_equal(spec.friendly_name, "Inf web");
	assert_string_equal(spec.template_name, "WebServer");
	assert_true(spec.exportable);
	assert_int_equal(spec.n_sans, 2);
	assert_string_equal(spec.sans[0], "dns:inf.example");
	assert_string_equal(spec.sans[1], "ip:10.1.2.3");
	cs_request_spec_clear(&spec);
	tu_rmdir(dir);
}

static void test_request_inf_errors_name_file_and_line(void **state)
{
	char *dir = tu_tempdir(), path[512];
	cs_request_spec spec = {0};
	cs_err err = {0};
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.inf", dir);
	f = fopen(path, "w");
	fputs("[NewRequest]\nSubject = \"CN=x\"\n[Extensions]\n_continue_ = \"dns=x&\"\n", f);
	fclose(f);
	assert_int_equal(cs_request_spec_read_inf(path, &spec, &err), CS_ERR_BAD_INPUT);
	assert_non_null(strstr(err.msg, "bad.inf:4"));
	cs_request_spec_clear(&spec);
	tu_rmdir(dir);
}

static void test_request_friendly_name_generated_from_cn_and_date(void **state)
{
	cs_request_spec spec = {0};
	char *name;

	(void)state;
	cs_request_spec_set(&spec.subject, "CN=gen.example, O=X", NULL);
	name = cs_request_friendly_name(&spec, 1700000000);
	assert_string_equal(name, "gen.example 2023-11-14");
	free(name);
	cs_request_spec_clear(&spec);
}

static void test_request_summary_lists_what_will_be_asked(void **state)
{
	cs_request_spec spec = {0};
	char *text = NULL;

	(void)state;
	cs_request_spec_set(&spec.cn, "sum.example", NULL);
	cs_request_spec_add_san(&spec, "dns:sum.example", NULL);
	assert_int_equal(cs_request_summary(&spec, &text, NULL), CS_OK);
	assert_non_null(strstr(text, "CN=sum.example"));
	assert_non_null(strstr(text, "rsa:2048"));
	assert_non_null(strstr(text, "dns:sum.example"));
	free(text);
	cs_request_spec_clear(&spec);
}

/* A key is still used while a certificate (archived too) or a pending
 * request other than the one asked about holds its URI. */
static void test_key_users_counts_certificates_and_pending_requests(void **state)
{
	char *dir = NULL, who[128] = "";
	cs_store *store = tu_store(&dir);
	cs_request_spec spec = {0};
	EVP_PKEY *key = tu_key();
	X509_REQ *req;
	cs_pending a = {0}, b = {0};
	tu_cert root = tu_make("Users Root", NULL, 1, -1, 30);
	tu_cert leaf = tu_make("users.example", &root, 0, -1, 30);
	cs_cert *c = tu_cs_cert(leaf.x509), *mine = NULL;
	cs_cert_list certs = {0};
	cs_import_opts opts = {.store = CS_STORE_MY};
	cs_import_result res = {0};
	const char *k1 = "pkcs11:token=t;id=%01;type=private";
	const char *k2 = "pkcs11:token=t;id=%02;type=private";
	cs_err err = {0};
	bool used = true;

	(void)state;
	cs_request_spec_set(&spec.cn, "users.example", NULL);
	req = build(&spec, key);
	a.key_uri = strdup(k1);
	b.key_uri = strdup(k1);
	assert_int_equal(cs_pending_add(store, req, &a, &err), CS_OK);
	assert_int_equal(cs_pending_add(store, req, &b, &err), CS_OK);
	/* a request's key used by another request (requests --cancel) */
	assert_int_equal(cs_key_users(store, k1, 0, a.id, &used, who, sizeof(who), &err), CS_OK);
	assert_true(used);
	assert_string_equal(who, "a pending request");
	assert_int_equal(cs_key_users(store, k2, 0, 0, &used, who, sizeof(who), &err), CS_OK);
	assert_false(used);
	/* a certificate's key, archived or not, but not the one asked about */
	assert_int_equal(cs_cert_list_push(&certs, c, &err), CS_OK);
	assert_int_equal(cs_import_certs(store, &certs, &opts, &res, &err), CS_OK);
	assert_int_equal(cs_store_find_by_thumbprint(store, CS_STORE_MY, c->sha1, &mine, &err),
			 CS_OK);
	assert_int_equal(cs_store_set_key(store, mine, k2, false, &err), CS_OK);
	assert_int_equal(cs_store_set_archived(store, mine, true, &err), CS_OK);
	assert_int_equal(cs_key_users(store, k2, 0, 0, &used, who, sizeof(who), &err), CS_OK);
	assert_true(used);
	assert_string_equal(who, c->sha1);
	assert_int_equal(cs_key_users(store, k2, mine->id, 0, &used, who, sizeof(who), &err),
			 CS_OK);
	assert_false(used);

	cs_cert_free(mine);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&certs);
	free(a.key_uri);
	free(b.key_uri);
	free(a.subject);
	free(b.subject);
	cs_bytes_clear(&a.csr_der);
	cs_bytes_clear(&b.csr_der);
	free(a.friendly_name);
	free(b.friendly_name);
	free(a.hash);
	free(b.hash);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	cs_request_spec_clear(&spec);
	tu_free(&leaf);
	tu_free(&root);
	cs_store_close(store);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_from_fields_is_signed_and_carries_sans),
		cmocka_unit_test(test_request_carries_challenge_password_attribute),
		cmocka_unit_test(test_request_subject_in_windows_order_with_escapes),
		cmocka_unit_test(test_request_template_extensions),
		cmocka_unit_test(test_request_refuses_bad_input),
		cmocka_unit_test(test_request_reads_certreq_inf_with_crlf),
		cmocka_unit_test(test_request_inf_errors_name_file_and_line),
		cmocka_unit_test(test_request_friendly_name_generated_from_cn_and_date),
		cmocka_unit_test(test_request_summary_lists_what_will_be_asked),
		cmocka_unit_test(test_key_users_counts_certificates_and_pending_requests),
	};

	return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}
