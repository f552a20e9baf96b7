/*
 * test_pkcs11_keys.c - the Personal token's keys through certstore-pkcs11.so:
 * key objects and their attributes, the secrets they refuse to show, and
 * every signing and decryption mechanism, each result checked in software
 * with the certificate's public key.  The keys live in the store's SoftHSM2
 * token, put there with store/keys/keys.h as `certstore import` would.
 */
#include "config.h" /* CS_SOFTHSM_MODULE */
#include "testutil.h"
#include "p11util.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <p11-kit/pkcs11.h>

#include "keys.h"

#define SLOT_MY 1
#define SLOT_ROOT 2

static CK_FUNCTION_LIST *f;
static tu_cert root, rsa_leaf, ec_leaf, keyless;
static tu_p11 p11;
static const unsigned char msg[] = "a message signed through certstore-pkcs11.so";

/* A leaf for key (the issuer's signature is all that matters here). */
static tu_cert leaf_with(const char *cn, EVP_PKEY *key)
{
	tu_cert c = tu_make(cn, &root, 0, -1, 30);

	if (key != NULL) {
		EVP_PKEY_free(c.key);
		c.key = key;
		assert_true(X509_set_pubkey(c.x509, key));
		assert_true(X509_sign(c.x509, root.key, EVP_sha256()) > 0);
	}
	return c;
}

/* Imports x into My and, with key, puts the key in the token bound to it. */
static void import_my(cs_store *s, cs_token *tok, const tu_cert *c, bool with_key)
{
	cs_cert_list l = {0};
	cs_import_opts o = {.store = CS_STORE_MY};
	cs_import_result res;
	cs_cert *row = NULL;
	cs_cert *mine = tu_cs_cert(c->x509);
	char *uri = NULL;
	cs_err err = {0};

	assert_int_equal(cs_cert_list_push(&l, tu_cs_cert(c->x509), NULL), CS_OK);
	assert_int_equal(cs_import_certs(s, &l, &o, &res, NULL), CS_OK);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&l);
	if (with_key) {
		assert_int_equal(cs_store_find_one(s, mine->sha1, NULL, &row, NULL, NULL), CS_OK);
		if (cs_key_import(tok, c->key, NULL, false, &uri, &err) != CS_OK)
			fail_msg("cs_key_import: %s", err.msg);
		assert_int_equal(cs_store_set_key(s, row, uri, false, NULL), CS_OK);
		free(uri);
		cs_cert_free(row);
	}
	cs_cert_free(mine);
}

/* The store's key token becomes tests/helpers/p11-overlap-shim in front of
 * SoftHSM2: the thread test asks it whether signatures overlapped in the
 * HSM.  Absolute path: the module of [token] is read relative to the store. */
static char shim_path[4096];

static void shim_install(void)
{
	char conf[1200], *text, *at, *line_end;
	FILE *fp;
	long n;

	if (realpath("tests/helpers/.libs/p11-overlap-shim.so", shim_path) == NULL)
		fail_msg("no tests/helpers/.libs/p11-overlap-shim.so (make check builds it)");
	assert_int_equal(setenv("CS_SHIM_REAL", CS_SOFTHSM_MODULE, 1), 0);
	snprintf(conf, sizeof(conf), "%s/certstore.conf", p11.store_dir);
	fp = fopen(conf, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	at = strstr(text, "module = ");
	assert_non_null(at);
	line_end = strchr(at, '\n');
	assert_non_null(line_end);
	fp = fopen(conf, "w");
	assert_non_null(fp);
	fprintf(fp, "%.*smodule = %s%s", (int)(at - text), text, shim_path, line_end);
	fclose(fp);
	free(text);
}

static int shim_max_in_flight(void)
{
	void *h = dlopen(shim_path, RTLD_NOW | RTLD_NOLOAD);
	int (*max)(void) = h ? (int (*)(void))dlsym(h, "cs_shim_max_in_flight") : NULL;
	int n;

	assert_non_null(max);
	n = max();
	dlclose(h);
	return n;
}

static int group_setup(void **state)
{
	cs_store *s = NULL;
	cs_token *tok = NULL;
	cs_err err = {0};

	(void)state;
	tu_p11_open(&p11);
	f = p11.f;
	root = tu_make("Keys Root", NULL, 1, -1, 365);
	rsa_leaf = leaf_with("rsa.example", EVP_RSA_gen(2048));
	ec_leaf = leaf_with("ec.example", NULL);
	keyless = leaf_with("keyless.example", NULL);
	assert_int_equal(cs_store_open(p11.store_dir, CS_OPEN_CREATE, &s, NULL), CS_OK);
	if (cs_token_init_softhsm(p11.store_dir, &err) != CS_OK ||
	    cs_token_open_store(p11.store_dir, &tok, &err) != CS_OK)
		fail_msg("token: %s", err.msg);
	import_my(s, tok, &rsa_leaf, true);
	import_my(s, tok, &ec_leaf, true);
	import_my(s, tok, &keyless, false);
	/* the module opens its own, as any consumer's process would */
	cs_token_close(tok);
	cs_store_close(s);
	shim_install();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tu_free(&keyless);
	tu_free(&ec_leaf);
	tu_free(&rsa_leaf);
	tu_free(&root);
	tu_p11_close(&p11);
	return 0;
}

/* The store's PIN (its pin file), which is the Personal token's user PIN. */
static void read_pin(char *pin, size_t size)
{
	char path[600];
	FILE *pf;

	snprintf(path, sizeof(path), "%s/pin", p11.store_dir);
	pf = fopen(path, "r");
	assert_non_null(pf);
	assert_non_null(fgets(pin, (int)size, pf));
	fclose(pf);
	pin[strcspn(pin, "\r\n")] = '\0';
}

/* A Personal session, logged in: the private keys are private objects. */
static CK_SESSION_HANDLE open_my(void)
{
	CK_SESSION_HANDLE h = 0;
	char pin[300];

	assert_int_equal(f->C_OpenSession(SLOT_MY, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_OK);
	read_pin(pin, sizeof(pin));
	assert_int_equal(f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)), CKR_OK);
	OPENSSL_cleanse(pin, sizeof(pin));
	return h;
}

/* The objects of class klass whose CKA_ID is the key ID of c's certificate. */
static CK_ULONG find_key(CK_SESSION_HANDLE s, const tu_cert *c, CK_OBJECT_CLASS klass,
			 CK_OBJECT_HANDLE *out)
{
	unsigned char id[20];
	unsigned int len;
	CK_ULONG got = 0;
	CK_ATTRIBUTE t[2] = {{CKA_CLASS, &klass, sizeof(klass)}, {CKA_ID, id, sizeof(id)}};

	assert_true(X509_pubkey_digest(c->x509, EVP_sha1(), id, &len));
	assert_int_equal(f->C_FindObjectsInit(s, t, 2), CKR_OK);
	assert_int_equal(f->C_FindObjects(s, out, 4, &got), CKR_OK);
	assert_int_equal(f->C_FindObjectsFinal(s), CKR_OK);
	return got;
}

static CK_OBJECT_HANDLE private_key(CK_SESSION_HANDLE s, const tu_cert *c)
{
	CK_OBJECT_HANDLE h[4];

	assert_int_equal(find_key(s, c, CKO_PRIVATE_KEY, h), 1);
	return h[0];
}

static unsigned char *sha256(const unsigned char *in, size_t len, unsigned char out[32])
{
	unsigned int n;

	assert_true(EVP_Digest(in, len, out, &n, EVP_sha256(), NULL));
	return out;
}

/* Verifies sig over msg (hashed with SHA-256) with c's public key. */
static void verify(const tu_cert *c, const unsigned char *sig, size_t siglen, int padding)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	assert_int_equal(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, c->key), 1);
	if (padding != 0) {
		assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, padding) > 0);
		if (padding == RSA_PKCS1_PSS_PADDING)
			assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) >
				    0);
	}
	assert_int_equal(EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(ctx);
}

static void test_personal_certificate_with_a_key_has_a_key_pair(void **state)
{
	CK_SESSION_HANDLE s = open_my();
	CK_OBJECT_HANDLE h[4];

	(void)state;
	assert_int_equal(find_key(s, &rsa_leaf, CKO_PRIVATE_KEY, h), 1);
	assert_int_equal(find_key(s, &rsa_leaf, CKO_PUBLIC_KEY, h), 1);
	assert_int_equal(find_key(s, &rsa_leaf, CKO_CERTIFICATE, h), 1);
	assert_int_equal(find_key(s, &ec_leaf, CKO_PRIVATE_KEY, h), 1);
	assert_int_equal(find_key(s, &keyless, CKO_CERTIFICATE, h), 1);
	assert_int_equal(find_key(s, &keyless, CKO_PRIVATE_KEY, h), 0);
	assert_int_equal(find_key(s, &keyless, CKO_PUBLIC_KEY, h), 0);
	f->C_CloseSession(s);
}

static void test_rsa_private_key_attributes_and_sensitive_refusals(void **state)
{
	CK_SESSION_HANDLE s = open_my();
	CK_OBJECT_HANDLE h = private_key(s, &rsa_leaf);
	CK_KEY_TYPE kt = 0;
	CK_BBOOL sens = CK_FALSE, extr = CK_TRUE, sign = CK_FALSE, decrypt = CK_FALSE;
	unsigned char mod[512], secret[512], label[64];
	CK_ATTRIBUTE a[6] = {
		{CKA_KEY_TYPE, &kt, sizeof(kt)},	  {CKA_SENSITIVE, &sens, sizeof(sens)},
		{CKA_EXTRACTABLE, &extr, sizeof(extr)},	  {CKA_SIGN, &sign, sizeof(sign)},
		{CKA_DECRYPT, &decrypt, sizeof(decrypt)}, {CKA_MODULUS, mod, sizeof(mod)},
	};
	CK_ATTRIBUTE b[2] = {{CKA_PRIVATE_EXPONENT, secret, sizeof(secret)},
			     {CKA_LABEL, label, sizeof(label)}};
	BIGNUM *n = NULL;
	unsigned char want[512];

	(void)state;
	assert_int_equal(f->C_GetAttributeValue(s, h, a, 6), CKR_OK);
	assert_int_equal(kt, CKK_RSA);
	assert_true(sens && !extr && sign && decrypt);
	assert_true(EVP_PKEY_get_bn_param(rsa_leaf.key, OSSL_PKEY_PARAM_RSA_N, &n));
	assert_int_equal(a[5].ulValueLen, BN_num_bytes(n));
	BN_bn2bin(n, want);
	assert_memory_equal(mod, want, a[5].ulValueLen);
	BN_free(n);
	assert_int_equal(f->C_GetAttributeValue(s, h, b, 2), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(b[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(b[1].ulValueLen, strlen("rsa.example"));
	b[0].type = CKA_PRIME_1;
	assert_int_equal(f->C_GetAttributeValue(s, h, b, 1), CKR_ATTRIBUTE_SENSITIVE);
	f->C_CloseSession(s);
}

static void test_ec_key_objects_give_the_point_and_hide_the_value(void **state)
{
	CK_SESSION_HANDLE s = open_my();
	CK_OBJECT_HANDLE pub[4], priv = private_key(s, &ec_leaf);
	unsigned char point[128], params[32], value[64];
	CK_ATTRIBUTE a[2] = {{CKA_EC_POINT, point, sizeof(point)},
			     {CKA_EC_PARAMS, params, sizeof(params)}};
	CK_ATTRIBUTE v = {CKA_VALUE, value, sizeof(value)};
	unsigned char want[128];
	size_t wlen = 0;
	/* prime256v1 */
	static const unsigned char p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
					     0xce, 0x3d, 0x03, 0x01, 0x07};

	(void)state;
	assert_int_equal(find_key(s, &ec_leaf, CKO_PUBLIC_KEY, pub), 1);
	assert_int_equal(f->C_GetAttributeValue(s, pub[0], a, 2), CKR_OK);
	assert_true(EVP_PKEY_get_octet_string_param(ec_leaf.key, OSSL_PKEY_PARAM_PUB_KEY, want,
						    sizeof(want), &wlen));
	/* DER OCTET STRING around the uncompressed point */
	assert_int_equal(a[0].ulValueLen, wlen + 2);
	assert_int_equal(point[0], 0x04);
	assert_int_equal(point[1], wlen);
	assert_memory_equal(point + 2, want, wlen);
	assert_int_equal(a[1].ulValueLen, sizeof(p256));
	assert_memory_equal(params, p256, sizeof(p256));
	assert_int_equal(f->C_GetAttributeValue(s, priv, &v, 1), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(v.ulValueLen, CK_UNAVAILABLE_INFORMATION);
	f->C_CloseSession(s);
}

static void test_mechanisms_only_on_personal(void **state)
{
	CK_MECHANISM_TYPE list[64];
	CK_ULONG n = 0, i;
	CK_MECHANISM_INFO info;
	bool pss = false;

	(void)state;
	assert_int_equal(f->C_GetMechanismList(SLOT_MY, NULL, &n), CKR_OK);
	assert_true(n > 4 && n <= 64);
	assert_int_equal(f->C_GetMechanismList(SLOT_MY, list, &n), CKR_OK);
	for (i = 0; i < n; i++)
		pss |= list[i] == CKM_RSA_PKCS_PSS;
	assert_true(pss);
	assert_int_equal(f->C_GetMechanismInfo(SLOT_MY, CKM_RSA_PKCS, &info), CKR_OK);
	assert_true((info.flags & CKF_SIGN) && (info.flags & CKF_DECRYPT));
	assert_int_equal(f->C_GetMechanismInfo(SLOT_MY, CKM_ECDSA, &info), CKR_OK);
	assert_true((info.flags & CKF_SIGN) && !(info.flags & CKF_DECRYPT));
	assert_int_equal(f->C_GetMechanismInfo(SLOT_MY, CKM_AES_CBC, &info), CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_GetMechanismList(SLOT_ROOT, NULL, &n), CKR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(f->C_GetMechanismInfo(SLOT_ROOT, CKM_RSA_PKCS, &info),
			 CKR_MECHANISM_INVALID);
}

static void test_sha256_rsa_pkcs_in_parts_verifies(void **state)
{
	CK_SESSION_HANDLE s = open_my();
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	unsigned char sig[512];
	CK_ULONG len = 0;

	(void)state;
	assert_int_equal(f->C_SignInit(s, &m, private_key(s, &rsa_leaf)), CKR_OK);
	assert_int_equal(f->C_SignUpdate(s, (CK_BYTE_PTR)msg, 10), CKR_OK);
	assert_int_equal(f->C_SignUpdate(s, (CK_BYTE_PTR)msg + 10, sizeof(msg) - 10), CKR_OK);
	assert_int_equal(f->C_SignFinal(s, NULL, &len), CKR_OK);
	assert_int_equal(len, 256);
	len = 16;
	assert_int_equal(f->C_SignFinal(s, sig, &len), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, 256);
	/* neither question ended the operation */
	assert_int_equal(f->C_SignFinal(s, sig, &len), CKR_OK);
	verify(&rsa_leaf, sig, len, RSA_PKCS1_PADDING);
	assert_int_equal(f->C_SignFinal(s, sig, &len), CKR_OPERATION_NOT_INITIALIZED);
	f->C_CloseSession(s);
}

static void test_raw_rsa_pkcs_signs_a_digest_info(void **state)
{
	/* DigestInfo prefix for SHA-256 (RFC 8017 9.2 note 1) */
	static const unsigned char prefix[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
					       0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					       0x01, 0x05, 0x00, 0x04, 0x20};
	CK_SESSION_HANDLE s = open_my();
	CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
	unsigned char di[sizeof(prefix) + 32], sig[512];
	CK_ULONG len = sizeof(sig);

	(void)state;
	memcpy(di, prefix, sizeof(prefix));
	sha256(msg, sizeof(msg), di + sizeof(prefix));
	assert_int_equal(f->C_SignInit(s, &m, private_key(s, &rsa_leaf)), CKR_OK);
	assert_int_equal(f->C_Sign(s, di, sizeof(di), sig, &len), CKR_OK);
	verify(&rsa_leaf, sig, len, RSA_PKCS1_PADDING);
	f->C_CloseSession(s);
}

static void test_rsa_pss_with_parameters_verifies(void **state)
{
	CK_SESSION_HANDLE s = open_my();
	CK_RSA_PKCS_PSS_PARAMS p = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	CK_MECHANISM m = {CKM_RSA_PKCS_PSS, &p, sizeof(p)};
	unsigned char dig[32], sig[512];
	CK_ULONG len = sizeof(sig);

	(void)state;
	assert_int_equal(f->C_SignInit(s, &m, private_key(s, &rsa_leaf)), CKR_OK);
	assert_int_equal(f->C_Sign(s, sha256(msg, sizeof(msg), dig), 32, sig, &len), CKR_OK);
	verify(&rsa_leaf, sig, len, RSA_PKCS1_PSS_PADDING);
	/* a digest of the wrong size, and parameters without any */
	assert_int_equal(f->C_SignInit(s, &m, private_key(s, &rsa_leaf)), CKR_OK);
	len = sizeof(sig);
	assert_int_equal(f->C_Sign(s, dig, 20, sig, &len), CKR_DATA_LEN_RANGE);
	m.pParameter = NULL;
	assert_int_equal(f->C_SignInit(s, &m, private_key(s, &rsa_leaf)),
			 CKR_MECHANISM_PARAM_INVALID);
	f->C_CloseSession(s);
}

/* r||s as PKCS#11 gives it, checked as the DER form X.509 uses. */
static void verify_ecdsa_raw(const unsigned char *rs, size_t len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL;
	int n;

	assert_int_equal(len, 64);
	assert_true(ECDSA_SIG_set0(es, BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL)));
	n = i2d_ECDSA_SIG(es, &der);
	assert_true(n > 0);
	verify(&ec_leaf, der, (size_t)n, 0);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
}

static void test_ecdsa_raw_and_hashed_verify(void **state)
{
	CK_SESSION_HANDLE s = open_my();
	CK_MECHANISM raw = {CKM_ECDSA, NULL, 0}, hashed = {CKM_ECDSA_SHA256, NULL, 0};
	unsigned char dig[32], sig[128];
	CK_ULONG len = 0;

	(void)state;
	assert_int_equal(f->C_SignInit(s, &raw, private_key(s, &ec_leaf)), CKR_OK);
	assert_int_equal(f->C_Sign(s, sha256(msg, sizeof(msg), dig), 32, NULL, &len), CKR_OK);
	assert_int_equal(len, 64);
	assert_int_equal(f->C_Sign(s, dig, 32, sig, &len), CKR_OK);
	verify_ecdsa_raw(sig, len);
	assert_int_equal(f->C_SignInit(s, &hashed, private_key(s, &ec_leaf)), CKR_OK);
	len = sizeof(sig);
	assert_int_equal(f->C_Sign(s, (CK_BYTE_PTR)msg, sizeof(msg), sig, &len), CKR_OK);
	verify_ecdsa_raw(sig, len);
	f->C_CloseSession(s);
}

static void encrypt_to(const tu_cert *c, int padding, const unsigned char *in, size_t inlen,
		       unsigned char *out, size_t *outlen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(c->key, NULL);

	assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, padding) > 0);
	assert_int_equal(EVP_PKEY_encrypt(ctx, out, outlen, in, inlen), 1);
	EVP_PKEY_CTX_free(ctx);
}

static void test_decrypt_pkcs1_with_a_short_buffer_then_the_right_one(void **state)
{
	CK_SESSION_HANDLE s = open_my();
	CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
	unsigned char secret[32], enc[256], out[256];
	size_t enclen = sizeof(enc);
	CK_ULONG len = 0;

	(void)state;
	memset(secret, 0x5a, sizeof(secret));
	encrypt_to(&rsa_leaf, RSA_PKCS1_PADDING, secret, sizeof(secret), enc, &enclen);
	assert_int_equal(f->C_DecryptInit(s, &m, private_key(s, &rsa_leaf)), CKR_OK);
	assert_int_equal(f->C_Decrypt(s, enc, enclen, NULL, &len), CKR_OK);
	assert_true(len >= sizeof(secret));
	len = 4;
	assert_int_equal(f->C_Decrypt(s, enc, enclen, out, &len), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, sizeof(secret));
	assert_int_equal(f->C_Decrypt(s, enc, enclen, out, &len), CKR_OK);
	assert_int_equal(len, sizeof(secret));
	assert_memory_equal(out, secret, sizeof(secret));
	/* a tampered block fails without saying why */
	enc[enclen - 1] ^= 1;
	assert_int_equal(f->C_DecryptInit(s, &m, private_key(s, &rsa_leaf)), CKR_OK);
	len = sizeof(out);
	assert_int_equal(f->C_Decrypt(s, enc, enclen, out, &len), CKR_ENCRYPTED_DATA_INVALID);
	f->C_CloseSession(s);
}

static void test_decrypt_oaep(void **state)
{
	CK_SESSION_HANDLE s = open_my();
	/* SHA-1: what SoftHSM2 2.6.1 does */
	CK_RSA_PKCS_OAEP_PARAMS p = {CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0};
	CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &p, sizeof(p)};
	unsigned char secret[48], enc[256], out[256];
	size_t enclen = sizeof(enc);
	CK_ULONG len = sizeof(out);

	(void)state;
	memset(secret, 0xa5, sizeof(secret));
	encrypt_to(&rsa_leaf, RSA_PKCS1_OAEP_PADDING, secret, sizeof(secret), enc, &enclen);
	assert_int_equal(f->C_DecryptInit(s, &m, private_key(s, &rsa_leaf)), CKR_OK);
	assert_int_equal(f->C_Decrypt(s, enc, enclen, out, &len), CKR_OK);
	assert_int_equal(len, sizeof(secret));
	assert_memory_equal(out, secret, sizeof(secret));
	f->C_CloseSession(s);
}

static void test_operations_refuse_what_does_not_fit(void **state)
{
	CK_SESSION_HANDLE s = open_my();
	CK_MECHANISM rsa = {CKM_RSA_PKCS, NULL, 0}, ecdsa = {CKM_ECDSA, NULL, 0};
	CK_MECHANISM oaep_no_params = {CKM_RSA_PKCS_OAEP, NULL, 0};
	CK_OBJECT_HANDLE pub[4], cert[4];
	unsigned char buf[256];
	CK_ULONG len = sizeof(buf);

	(void)state;
	assert_int_equal(f->C_Sign(s, buf, 32, buf, &len), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_SignUpdate(s, buf, 32), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_Decrypt(s, buf, 256, buf, &len), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(find_key(s, &rsa_leaf, CKO_PUBLIC_KEY, pub), 1);
	assert_int_equal(find_key(s, &rsa_leaf, CKO_CERTIFICATE, cert), 1);
	assert_int_equal(f->C_SignInit(s, &rsa, pub[0]), CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(f->C_SignInit(s, &rsa, cert[0]), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(f->C_SignInit(s, &rsa, 0xdead0), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(f->C_SignInit(s, &ecdsa, private_key(s, &rsa_leaf)),
			 CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(f->C_DecryptInit(s, &rsa, private_key(s, &ec_leaf)),
			 CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(f->C_DecryptInit(s, &ecdsa, private_key(s, &ec_leaf)),
			 CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_DecryptInit(s, &oaep_no_params, private_key(s, &rsa_leaf)),
			 CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(f->C_SignInit(s, &rsa, private_key(s, &rsa_leaf)), CKR_OK);
	assert_int_equal(f->C_SignInit(s, &rsa, private_key(s, &rsa_leaf)), CKR_OPERATION_ACTIVE);
	/* too long for one PKCS#1 block */
	assert_int_equal(f->C_Sign(s, buf, 250, buf, &len), CKR_DATA_LEN_RANGE);
	assert_int_equal(f->C_Sign(s, buf, 32, buf, &len), CKR_OPERATION_NOT_INITIALIZED);
	/* PKCS#11 3.0: Init without a mechanism cancels */
	assert_int_equal(f->C_SignInit(s, &rsa, private_key(s, &rsa_leaf)), CKR_OK);
	assert_int_equal(f->C_SignInit(s, NULL, 0), CKR_OK);
	assert_int_equal(f->C_SignUpdate(s, buf, 32), CKR_OPERATION_NOT_INITIALIZED);
	/* a session closed in the middle frees what the operation held */
	assert_int_equal(f->C_SignInit(s, &rsa, private_key(s, &rsa_leaf)), CKR_OK);
	f->C_CloseSession(s);
}

/* Using a key takes the PIN and a process that may open the key token
 * (read the store's PIN file): without the file the keys cannot be used,
 * and a failure leaves nothing behind. */
static void test_without_the_pin_file_keys_show_but_do_not_sign(void **state)
{
	CK_SESSION_HANDLE s = open_my();
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_OBJECT_HANDLE key = private_key(s, &rsa_leaf);
	char pin[600], away[610], secret[300];

	(void)state;
	snprintf(pin, sizeof(pin), "%s/pin", p11.store_dir);
	snprintf(away, sizeof(away), "%s.away", pin);
	read_pin(secret, sizeof(secret));
	assert_int_equal(rename(pin, away), 0);
	assert_int_equal(f->C_SignInit(s, &m, key), CKR_DEVICE_ERROR);
	assert_int_equal(f->C_Logout(s), CKR_OK);
	assert_int_equal(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)secret, strlen(secret)),
			 CKR_DEVICE_ERROR);
	assert_int_equal(rename(away, pin), 0);
	/* nothing was kept of the failure; a wrong PIN is refused */
	assert_int_equal(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "any", 3), CKR_PIN_INCORRECT);
	assert_int_equal(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)secret, strlen(secret)), CKR_OK);
	OPENSSL_cleanse(secret, sizeof(secret));
	assert_int_equal(f->C_SignInit(s, &m, private_key(s, &rsa_leaf)), CKR_OK);
	f->C_CloseSession(s);
}

/* Servers load keys in a parent and sign in forked workers: the child signs
 * with the token the parent opened (store/keys/keys.h logs in again there). */
static void test_forked_child_signs_with_the_parents_session(void **state)
{
	CK_SESSION_HANDLE s = open_my();
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	unsigned char sig[512];
	CK_ULONG len = sizeof(sig);
	int status = -1;
	pid_t pid;

	(void)state;
	assert_int_equal(f->C_SignInit(s, &m, private_key(s, &rsa_leaf)), CKR_OK);
	assert_int_equal(f->C_Sign(s, (CK_BYTE_PTR)msg, sizeof(msg), sig, &len), CKR_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		CK_OBJECT_HANDLE h[4];
		CK_OBJECT_CLASS k = CKO_PRIVATE_KEY;
		CK_ATTRIBUTE t = {CKA_CLASS, &k, sizeof(k)};
		CK_ULONG n = 0;
		int ok = 0;

		len = sizeof(sig);
		if (f->C_FindObjectsInit(s, &t, 1) == CKR_OK &&
		    f->C_FindObjects(s, h, 4, &n) == CKR_OK && f->C_FindObjectsFinal(s) == CKR_OK &&
		    n == 2 && f->C_SignInit(s, &m, private_key(s, &rsa_leaf)) == CKR_OK &&
		    f->C_Sign(s, (CK_BYTE_PTR)msg, sizeof(msg), sig, &len) == CKR_OK)
			ok = 1;
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	verify(&rsa_leaf, sig, len, RSA_PKCS1_PADDING);
	f->C_CloseSession(s);
}

/* ---- threads: signatures and decryptions at once (the module lock is
 * released while the HSM works) */

#define SIGN_THREADS 8
#define SIGNS_PER_THREAD 25

typedef struct signer {
	CK_OBJECT_HANDLE key;
	const unsigned char *secret; /* what ciphertext decrypts to */
	const unsigned char *ciphertext;
	size_t ctlen;
	int ok, failed;
	CK_RV last;
} signer;

/* One PKCS#1 decryption of me->ciphertext: 1 when it gives me->secret. */
static int decrypt_once(signer *me, CK_SESSION_HANDLE s)
{
	CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
	unsigned char plain[512];
	CK_ULONG len = sizeof(plain);

	me->last = f->C_DecryptInit(s, &m, me->key);
	if (me->last == CKR_OK)
		me->last = f->C_Decrypt(s, (CK_BYTE_PTR)me->ciphertext, me->ctlen, plain, &len);
	return me->last == CKR_OK && len == 48 && memcmp(plain, me->secret, 48) == 0;
}

/* In a thread: no cmocka asserts, only counts (they longjmp). */
static void *sign_many(void *arg)
{
	signer *me = arg;
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_SESSION_HANDLE s = 0;
	unsigned char sig[512];
	CK_ULONG len;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	CK_RV rv;

	me->last = f->C_OpenSession(SLOT_MY, CKF_SERIAL_SESSION, NULL, NULL, &s);
	for (int i = 0; me->last == CKR_OK && i < SIGNS_PER_THREAD; i++) {
		len = sizeof(sig);
		rv = f->C_SignInit(s, &m, me->key);
		if (rv == CKR_OK)
			rv = f->C_Sign(s, (CK_BYTE_PTR)msg, sizeof(msg), sig, &len);
		if (rv == CKR_OK &&
		    EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, rsa_leaf.key) == 1 &&
		    EVP_DigestVerify(ctx, sig, len, msg, sizeof(msg)) == 1 && decrypt_once(me, s))
			me->ok++;
		else
			me->failed++, me->last = rv != CKR_OK ? rv : me->last;
	}
	f->C_CloseSession(s);
	EVP_MD_CTX_free(ctx);
	return NULL;
}

static void test_threads_sign_and_decrypt_at_once(void **state)
{
	CK_SESSION_HANDLE s = open_my();
	signer who[SIGN_THREADS] = {{0}};
	pthread_t t[SIGN_THREADS];
	unsigned char secret[48], ct[512];
	size_t ctlen = sizeof(ct);
	int ok = 0;

	(void)state;
	assert_int_equal(RAND_bytes(secret, sizeof(secret)), 1);
	encrypt_to(&rsa_leaf, RSA_PKCS1_PADDING, secret, sizeof(secret), ct, &ctlen);
	/* the shim's first few signatures wait for a second one to arrive */
	assert_int_equal(setenv("CS_SHIM_WAIT", "1", 1), 0);
	for (int i = 0; i < SIGN_THREADS; i++) {
		who[i].secret = secret;
		who[i].ciphertext = ct;
		who[i].ctlen = ctlen;
		who[i].key = private_key(s, &rsa_leaf);
		assert_int_equal(pthread_create(&t[i], NULL, sign_many, &who[i]), 0);
	}
	for (int i = 0; i < SIGN_THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(who[i].last, CKR_OK);
		assert_int_equal(who[i].failed, 0);
		ok += who[i].ok;
	}
	assert_int_equal(ok, SIGN_THREADS * SIGNS_PER_THREAD);
	unsetenv("CS_SHIM_WAIT");
	/* Right results alone would pass with every call serialised: two
	 * signatures were inside the HSM at the same moment. */
	assert_true(shim_max_in_flight() >= 2);
	f->C_CloseSession(s);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, tu_p11_initialize, tu_p11_finalize)
	const struct CMUnitTest tests[] = {
		T(test_personal_certificate_with_a_key_has_a_key_pair),
		T(test_rsa_private_key_attributes_and_sensitive_refusals),
		T(test_ec_key_objects_give_the_point_and_hide_the_value),
		T(test_mechanisms_only_on_personal),
		T(test_sha256_rsa_pkcs_in_parts_verifies),
		T(test_raw_rsa_pkcs_signs_a_digest_info),
		T(test_rsa_pss_with_parameters_verifies),
		T(test_ecdsa_raw_and_hashed_verify),
		T(test_decrypt_pkcs1_with_a_short_buffer_then_the_right_one),
		T(test_decrypt_oaep),
		T(test_operations_refuse_what_does_not_fit),
		T(test_without_the_pin_file_keys_show_but_do_not_sign),
		T(test_forked_child_signs_with_the_parents_session),
		T(test_threads_sign_and_decrypt_at_once),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
