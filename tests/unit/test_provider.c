/*
 * test_provider.c - the certstore OpenSSL provider through OpenSSL's public
 * API only: the built module loaded with OSSL_PROVIDER_load into a library
 * context of the test's own, certstore: URIs opened with OSSL_STORE, and a
 * store key signing with EVP while the default provider verifies.  A temp
 * store with its own SoftHSM2 token holds one EC certificate with its key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/x509.h>

#include "testutil.h"

#include "certstore.h"
#include "keys.h"

static tu_cert root, leaf;
static char *tmp, store_dir[600], thumb[41];
static OSSL_LIB_CTX *libctx;
static OSSL_PROVIDER *deflt, *certstore;

static void import_with_key(cs_store *s, cs_token *tok, const tu_cert *c)
{
	cs_cert_list l = {0};
	cs_import_opts o = {.store = CS_STORE_MY};
	cs_import_result res;
	cs_cert *row = NULL, *mine = tu_cs_cert(c->x509);
	char *uri = NULL;
	cs_err err = {0};

	assert_int_equal(cs_cert_list_push(&l, tu_cs_cert(c->x509), NULL), CS_OK);
	assert_int_equal(cs_import_certs(s, &l, &o, &res, NULL), CS_OK);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&l);
	assert_int_equal(cs_store_find_one(s, mine->sha1, NULL, &row, NULL, NULL), CS_OK);
	if (cs_key_import(tok, c->key, NULL, false, &uri, &err) != CS_OK)
		fail_msg("cs_key_import: %s", err.msg);
	assert_int_equal(cs_store_set_key(s, row, uri, false, NULL), CS_OK);
	snprintf(thumb, sizeof(thumb), "%s", mine->sha1);
	free(uri);
	cs_cert_free(row);
	cs_cert_free(mine);
}

static int group_setup(void **state)
{
	const char *builddir = getenv("top_builddir");
	char modules[600];
	cs_store *s = NULL;
	cs_token *tok = NULL;
	cs_err err = {0};

	(void)state;
	root = tu_make("Provider Test Root", NULL, 1, -1, 365);
	leaf = tu_make("provider.example", &root, 0, -1, 30);
	tmp = tu_tempdir();
	snprintf(store_dir, sizeof(store_dir), "%s/store", tmp);
	assert_int_equal(cs_store_open(store_dir, CS_OPEN_CREATE, &s, NULL), CS_OK);
	if (cs_token_init_softhsm(store_dir, &err) != CS_OK ||
	    cs_token_open_store(store_dir, &tok, &err) != CS_OK)
		fail_msg("token: %s", err.msg);
	import_with_key(s, tok, &leaf);
	/* the provider opens its own, as any OpenSSL program's would */
	cs_token_close(tok);
	cs_store_close(s);

	assert_int_equal(setenv("CERTSTORE_DIR", store_dir, 1), 0);
	snprintf(modules, sizeof(modules), "%s/.libs", builddir ? builddir : ".");
	libctx = OSSL_LIB_CTX_new();
	assert_non_null(libctx);
	assert_int_equal(OSSL_PROVIDER_set_default_search_path(libctx, modules), 1);
	/* default first: OpenSSL 3.0 hands a fetch both match to the first listed */
	deflt = OSSL_PROVIDER_load(libctx, "default");
	certstore = OSSL_PROVIDER_load(libctx, "certstore");
	if (deflt == NULL || certstore == NULL)
		fail_msg("cannot load the certstore provider from %s", modules);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	OSSL_PROVIDER_unload(certstore);
	OSSL_PROVIDER_unload(deflt);
	OSSL_LIB_CTX_free(libctx);
	tu_free(&leaf);
	tu_free(&root);
	tu_rmdir(tmp);
	return 0;
}

/* Every object of type at uri, in order (the first returned, count in *n). */
static OSSL_STORE_INFO *load_first(const char *uri, int type, int *n)
{
	OSSL_STORE_CTX *ctx = OSSL_STORE_open_ex(uri, libctx, NULL, NULL, NULL, NULL, NULL, NULL);
	OSSL_STORE_INFO *first = NULL, *info;

	*n = 0;
	if (ctx == NULL)
		return NULL;
	while (!OSSL_STORE_eof(ctx)) {
		info = OSSL_STORE_load(ctx);
		if (info == NULL)
			continue;
		if (OSSL_STORE_INFO_get_type(info) == type && (*n)++ == 0) {
			first = info;
			continue;
		}
		OSSL_STORE_INFO_free(info);
	}
	OSSL_STORE_close(ctx);
	return first;
}

static void test_provider_store_lists_the_certificate_in_my(void **state)
{
	int n;
	OSSL_STORE_INFO *info = load_first("certstore:My", OSSL_STORE_INFO_CERT, &n);
	char name[256];

	(void)state;
	assert_non_null(info);
	assert_int_equal(n, 1);
	X509_NAME_oneline(X509_get_subject_name(OSSL_STORE_INFO_get0_CERT(info)), name,
			  sizeof(name));
	assert_non_null(strstr(name, "provider.example"));
	assert_int_equal(X509_cmp(OSSL_STORE_INFO_get0_CERT(info), leaf.x509), 0);
	OSSL_STORE_INFO_free(info);
}

static void test_provider_store_root_is_empty_when_nothing_is_trusted(void **state)
{
	int n;
	OSSL_STORE_INFO *info = load_first("certstore:Root", OSSL_STORE_INFO_CERT, &n);

	(void)state;
	assert_null(info);
	assert_int_equal(n, 0);
}

static void test_provider_store_key_signs_and_default_provider_verifies(void **state)
{
	static const unsigned char msg[] = "signed by a key that stays in the token";
	char uri[700];
	unsigned char sig[256];
	size_t siglen = sizeof(sig);
	int n;
	OSSL_STORE_INFO *info;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY *key;

	(void)state;
	snprintf(uri, sizeof(uri), "certstore:My?thumbprint=%s", thumb);
	info = load_first(uri, OSSL_STORE_INFO_PKEY, &n);
	assert_non_null(info);
	key = OSSL_STORE_INFO_get0_PKEY(info);
	assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
	assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA256", libctx, NULL, key, NULL), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(md);
	/* The certificate's public key, in the default context: no certstore code. */
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL,
						 X509_get0_pubkey(leaf.x509), NULL),
			 1);
	assert_int_equal(EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(md);
	OSSL_STORE_INFO_free(info);
}

static void test_provider_store_unknown_thumbprint_gives_no_key(void **state)
{
	int n;
	OSSL_STORE_INFO *info =
		load_first("certstore:My?thumbprint=0000000000000000000000000000000000000000",
			   OSSL_STORE_INFO_PKEY, &n);

	(void)state;
	assert_null(info);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_provider_store_lists_the_certificate_in_my),
		cmocka_unit_test(test_provider_store_root_is_empty_when_nothing_is_trusted),
		cmocka_unit_test(test_provider_store_key_signs_and_default_provider_verifies),
		cmocka_unit_test(test_provider_store_unknown_thumbprint_gives_no_key),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
