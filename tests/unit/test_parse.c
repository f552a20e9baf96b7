/*
 * test_parse.c - format detection and parsing of outside input.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/pkcs7.h>

static tu_cert root, leaf;

static int setup(void **state)
{
	(void)state;
	root = tu_make("Parse Root", NULL, 1, -1, 365);
	leaf = tu_make("parse.example", &root, 0, -1, 30);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_free(&leaf);
	tu_free(&root);
	return 0;
}

static cs_rv parse(const void *data, size_t len, cs_format *fmt, cs_cert_list *out, cs_err *err)
{
	return cs_parse_certs(data, len, fmt, out, err);
}

static unsigned char *p7_der(X509 *const *certs, size_t n, size_t *len)
{
	PKCS7 *p7 = PKCS7_new();
	unsigned char *der = NULL, *copy;
	size_t i;
	int dl;

	PKCS7_set_type(p7, NID_pkcs7_signed);
	PKCS7_content_new(p7, NID_pkcs7_data);
	for (i = 0; i < n; i++)
		PKCS7_add_certificate(p7, certs[i]);
	dl = i2d_PKCS7(p7, &der);
	PKCS7_free(p7);
	copy = malloc((size_t)dl);
	memcpy(copy, der, (size_t)dl);
	OPENSSL_free(der);
	*len = (size_t)dl;
	return copy;
}

static void test_parse_der_gives_one_certificate(void **state)
{
	size_t len;
	unsigned char *der = tu_der(leaf.x509, &len);
	cs_cert_list l = {0};
	cs_format f;
	cs_err err = {0};

	(void)state;
	assert_int_equal(parse(der, len, &f, &l, &err), CS_OK);
	assert_int_equal(f, CS_FORMAT_DER);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0]->subject, "CN=parse.example");
	assert_int_equal(strlen(l.items[0]->sha1), 40);
	assert_int_equal(strlen(l.items[0]->sha256), 64);
	cs_cert_list_clear(&l);
	free(der);
}

static void test_parse_pem_bundle_keeps_order(void **state)
{
	X509 *both[2] = {leaf.x509, root.x509};
	size_t len;
	char *pem = tu_pem(both, 2, &len);
	cs_cert_list l = {0};
	cs_format f;
	cs_err err = {0};

	(void)state;
	assert_int_equal(parse(pem, len, &f, &l, &err), CS_OK);
	assert_int_equal(f, CS_FORMAT_PEM);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[1]->subject, "CN=Parse Root");
	cs_cert_list_clear(&l);
	free(pem);
}

static void test_parse_pkcs7_der_and_pem(void **state)
{
	X509 *both[2] = {leaf.x509, root.x509};
	size_t len;
	unsigned char *der = p7_der(both, 2, &len);
	cs_cert_list l = {0};
	cs_format f;
	cs_err err = {0};
	BIO *bio = BIO_new(BIO_s_mem());
	const unsigned char *p = der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	char *pem;
	long plen;

	(void)state;
	assert_int_equal(parse(der, len, &f, &l, &err), CS_OK);
	assert_int_equal(f, CS_FORMAT_PKCS7);
	assert_int_equal(l.n, 2);
	cs_cert_list_clear(&l);
	PEM_write_bio_PKCS7(bio, p7);
	plen = BIO_get_mem_data(bio, &pem);
	assert_int_equal(parse(pem, (size_t)plen, &f, &l, &err), CS_OK);
	assert_int_equal(l.n, 2);
	cs_cert_list_clear(&l);
	BIO_free(bio);
	PKCS7_free(p7);
	free(der);
}

static void test_parse_bare_base64_like_windows_cer(void **state)
{
	size_t len, i, o = 0;
	char *pem = tu_pem(&leaf.x509, 1, &len);
	char *b64 = malloc(len);
	cs_cert_list l = {0};
	cs_format f;
	cs_err err = {0};
	char *start = strchr(pem, '\n') + 1, *end = strstr(pem, "-----END");

	(void)state;
	for (i = 0; start + i < end; i++)
		b64[o++] = start[i];
	assert_int_equal(parse(b64, o, &f, &l, &err), CS_OK);
	assert_int_equal(f, CS_FORMAT_BASE64);
	assert_int_equal(l.n, 1);
	cs_cert_list_clear(&l);
	free(b64);
	free(pem);
}

static void expect_bad(const void *data, size_t len, const char *needle)
{
	cs_cert_list l = {0};
	cs_err err = {0};

	assert_int_equal(parse(data, len, NULL, &l, &err), CS_ERR_BAD_INPUT);
	assert_int_equal(err.rv, CS_ERR_BAD_INPUT);
	assert_int_equal(l.n, 0);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_parse_rejects_empty(void **state)
{
	(void)state;
	expect_bad("", 0, "no data");
}

static void test_parse_rejects_truncated_der(void **state)
{
	size_t len;
	unsigned char *der = tu_der(leaf.x509, &len);

	(void)state;
	expect_bad(der, len - 10, "truncated DER");
	free(der);
}

static void test_parse_rejects_corrupt_pem_body(void **state)
{
	size_t len;
	char *pem = tu_pem(&leaf.x509, 1, &len);

	(void)state;
	pem[40] = '!';
	pem[41] = '*';
	expect_bad(pem, len, "PEM block 1");
	free(pem);
}

static void test_parse_rejects_pkcs7_without_certificates(void **state)
{
	size_t len;
	unsigned char *der = p7_der(NULL, 0, &len);

	(void)state;
	expect_bad(der, len, "PKCS#7 holds no certificates");
	free(der);
}

static void test_parse_rejects_random_bytes(void **state)
{
	unsigned char junk[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 7 + 3);
	expect_bad(junk, sizeof(junk), "not a certificate");
}

static void test_parse_rejects_trailing_garbage_after_der(void **state)
{
	size_t len;
	unsigned char *der = tu_der(leaf.x509, &len);
	unsigned char *more = malloc(len + 4);

	(void)state;
	memcpy(more, der, len);
	memcpy(more + len, "junk", 4);
	expect_bad(more, len + 4, "trailing data");
	free(more);
	free(der);
}

static void test_parse_refuses_private_key_pem(void **state)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long len;

	(void)state;
	PEM_write_bio_PrivateKey(bio, leaf.key, NULL, NULL, 0, NULL, NULL);
	len = BIO_get_mem_data(bio, &pem);
	expect_bad(pem, (size_t)len, "PRIVATE KEY");
	BIO_free(bio);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_der_gives_one_certificate),
		cmocka_unit_test(test_parse_pem_bundle_keeps_order),
		cmocka_unit_test(test_parse_pkcs7_der_and_pem),
		cmocka_unit_test(test_parse_bare_base64_like_windows_cer),
		cmocka_unit_test(test_parse_rejects_empty),
		cmocka_unit_test(test_parse_rejects_truncated_der),
		cmocka_unit_test(test_parse_rejects_corrupt_pem_body),
		cmocka_unit_test(test_parse_rejects_pkcs7_without_certificates),
		cmocka_unit_test(test_parse_rejects_random_bytes),
		cmocka_unit_test(test_parse_rejects_trailing_garbage_after_der),
		cmocka_unit_test(test_parse_refuses_private_key_pem),
	};

	return cmocka_run_group_tests_name("parse", tests, setup, teardown);
}
