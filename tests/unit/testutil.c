/*
 * testutil.c - see testutil.h.
 */
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

EVP_PKEY *tu_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_true(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
}

tu_cert tu_make(const char *cn, const tu_cert *issuer, int is_ca, long nb_days, long na_days)
{
	tu_cert c = {X509_new(), tu_key()};
	unsigned char serial[12];
	BIGNUM *bn;
	X509_NAME *name = X509_NAME_new();
	X509 *signer_cert;
	EVP_PKEY *signer_key;

	assert_true(RAND_bytes(serial, sizeof(serial)));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c.x509));
	BN_free(bn);
	X509_set_version(c.x509, 2);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(c.x509, name);
	X509_NAME_free(name);
	signer_cert = issuer ? issuer->x509 : c.x509;
	signer_key = issuer ? issuer->key : c.key;
	X509_set_issuer_name(c.x509, X509_get_subject_name(signer_cert));
	X509_gmtime_adj(X509_getm_notBefore(c.x509), nb_days * 86400L);
	X509_gmtime_adj(X509_getm_notAfter(c.x509), na_days * 86400L);
	X509_set_pubkey(c.x509, c.key);
	add_ext(c.x509, signer_cert, NID_basic_constraints,
		is_ca ? "critical,CA:TRUE" : "CA:FALSE");
	add_ext(c.x509, signer_cert, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		add_ext(c.x509, signer_cert, NID_authority_key_identifier, "keyid:always");
	if (is_ca)
		add_ext(c.x509, signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
	assert_true(X509_sign(c.x509, signer_key, EVP_sha256()) > 0);
	return c;
}

void tu_free(tu_cert *c)
{
	X509_free(c->x509);
	EVP_PKEY_free(c->key);
	c->x509 = NULL;
	c->key = NULL;
}

unsigned char *tu_der(X509 *x, size_t *len)
{
	unsigned char *der = NULL, *copy;
	int n = i2d_X509(x, &der);

	assert_true(n > 0);
	copy = malloc((size_t)n);
	memcpy(copy, der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	return copy;
}

char *tu_pem(X509 *const *certs, size_t n, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *copy;
	long blen;
	size_t i;

	for (i = 0; i < n; i++)
		assert_true(PEM_write_bio_X509(bio, certs[i]));
	blen = BIO_get_mem_data(bio, &data);
	copy = malloc((size_t)blen + 1);
	memcpy(copy, data, (size_t)blen);
	copy[blen] = '\0';
	*len = (size_t)blen;
	BIO_free(bio);
	return copy;
}

cs_cert *tu_cs_cert(X509 *x)
{
	cs_cert *c = NULL;
	cs_err err = {0};

	assert_int_equal(cs_cert_from_x509(x, &c, &err), CS_OK);
	return c;
}

char *tu_tempdir(void)
{
	char *dir = strdup("/tmp/certstore-unit-XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tu_rmdir(char *dir)
{
	if (dir == NULL)
		return;
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

cs_store *tu_store(char **dir_out)
{
	char *dir = tu_tempdir();
	char *sdir;
	cs_store *store = NULL;
	cs_err err = {0};

	assert_true(asprintf(&sdir, "%s/store", dir) > 0);
	if (cs_store_open(sdir, CS_OPEN_CREATE, &store, &err) != CS_OK)
		fail_msg("cs_store_open: %s", err.msg);
	free(sdir);
	*dir_out = dir;
	return store;
}
