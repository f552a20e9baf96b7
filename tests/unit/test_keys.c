/*
 * test_keys.c - HSM key custody against a real SoftHSM2 token.
 *
 * Every test gets a fresh store directory with its own SoftHSM2 token made
 * by cs_token_init_softhsm, so the tests also prove the embedded default.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "config.h"
#include "keys_internal.h"

#define CS_TEST_SOFTHSM CS_SOFTHSM_MODULE

typedef struct {
	char dir[64];
	cs_token *tok;
} fixture;

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	cs_err err = {0};

	strcpy(f->dir, "/tmp/cs-test-keys-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if (cs_token_init_softhsm(f->dir, &err) != CS_OK ||
	    cs_token_open_store(f->dir, &f->tok, &err) != CS_OK) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	cs_token_close(f->tok);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static bool get_bool(cs_token *tok, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t)
{
	cs_session s = {0};
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE a = {t, &b, sizeof(b)};

	assert_int_equal(cs_session_get(tok, &s, NULL), CS_OK);
	assert_int_equal(tok->p11->C_GetAttributeValue(s.h, h, &a, 1), CKR_OK);
	cs_session_put(&s, false);
	return b == CK_TRUE;
}

static CK_OBJECT_HANDLE find_priv(cs_token *tok, const char *uri)
{
	cs_session s = {0};
	cs_key_ref ref;
	cs_key_info k;

	assert_int_equal(cs_key_ref_parse(tok, uri, &ref, NULL), CS_OK);
	assert_int_equal(cs_session_get(tok, &s, NULL), CS_OK);
	assert_int_equal(cs_find_private(&s, uri, &ref, true, &k, NULL), CS_OK);
	cs_session_put(&s, false);
	cs_key_ref_clear(&ref);
	return k.handle;
}

/* Objects in the token carrying this CKA_ID. */
static int count_by_id(cs_token *tok, const unsigned char *id, size_t len)
{
	cs_session s = {0};
	CK_ATTRIBUTE a = {CKA_ID, (void *)id, len};
	CK_OBJECT_HANDLE h[16];
	CK_ULONG n = 0;

	assert_int_equal(cs_session_get(tok, &s, NULL), CS_OK);
	assert_int_equal(tok->p11->C_FindObjectsInit(s.h, &a, 1), CKR_OK);
	assert_int_equal(tok->p11->C_FindObjects(s.h, h, 16, &n), CKR_OK);
	tok->p11->C_FindObjectsFinal(s.h);
	cs_session_put(&s, false);
	return (int)n;
}

static int count_all(cs_token *tok)
{
	cs_session s = {0};
	CK_OBJECT_HANDLE h[64];
	CK_ULONG n = 0;

	assert_int_equal(cs_session_get(tok, &s, NULL), CS_OK);
	assert_int_equal(tok->p11->C_FindObjectsInit(s.h, NULL, 0), CKR_OK);
	assert_int_equal(tok->p11->C_FindObjects(s.h, h, 64, &n), CKR_OK);
	tok->p11->C_FindObjectsFinal(s.h);
	cs_session_put(&s, false);
	return (int)n;
}

static EVP_PKEY *soft_key(const char *alg, const char *param)
{
	if (strcmp(alg, "RSA") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(param));
	if (strcmp(alg, "EC") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
	return EVP_PKEY_Q_keygen(NULL, NULL, alg);
}

/* Signs a SHA-256 digest with mech and verifies it in software with pub. */
static void sign_and_verify(cs_token *tok, const char *uri, EVP_PKEY *pub, const cs_sign_mech *mech)
{
	unsigned char dig[32], sig[1024];
	size_t siglen = 0;
	EVP_PKEY_CTX *ctx;
	cs_err err = {0};

	RAND_bytes(dig, sizeof(dig));
	assert_int_equal(cs_key_sign(tok, uri, mech, dig, sizeof(dig), NULL, &siglen, &err), CS_OK);
	assert_true(siglen > 0 && siglen <= sizeof(sig));
	if (cs_key_sign(tok, uri, mech, dig, sizeof(dig), sig, &siglen, &err) != CS_OK)
		fail_msg("sign: %s", err.msg);
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	if (mech->alg != CS_SIGN_ECDSA)
		assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 1);
	if (mech->alg == CS_SIGN_RSA_PSS) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, mech->salt_len), 1);
	}
	assert_int_equal(EVP_PKEY_verify(ctx, sig, siglen, dig, sizeof(dig)), 1);
	EVP_PKEY_CTX_free(ctx);
}

static const cs_sign_mech pkcs1 = {CS_SIGN_RSA_PKCS1, NID_sha256, 0, 0};
static const cs_sign_mech pss = {CS_SIGN_RSA_PSS, NID_sha256, NID_undef, -1};
static const cs_sign_mech ecdsa = {CS_SIGN_ECDSA, NID_sha256, 0, 0};

/* ---- key specs ------------------------------------------------------------ */

static void test_key_spec_parses_the_documented_forms(void **state)
{
	cs_key_spec s;
	cs_err err = {0};

	(void)state;
	assert_int_equal(cs_key_spec_parse(NULL, &s, NULL), CS_OK);
	assert_true(s.type == CS_KEY_RSA && s.bits == 2048);
	assert_int_equal(cs_key_spec_parse("rsa", &s, NULL), CS_OK);
	assert_int_equal(s.bits, 2048);
	assert_int_equal(cs_key_spec_parse("RSA:4096", &s, NULL), CS_OK);
	assert_int_equal(s.bits, 4096);
	assert_int_equal(cs_key_spec_parse("ec:p384", &s, NULL), CS_OK);
	assert_true(s.type == CS_KEY_EC && s.curve_nid == NID_secp384r1);
	assert_string_equal(cs_key_spec_name(&s), "ec:p384");
	assert_int_equal(cs_key_spec_parse("rsa:1024", &s, &err), CS_ERR_USAGE);
	assert_non_null(strstr(err.msg, "rsa:1024"));
}

/* What `renew` asks for again: the spec of the key a certificate holds. */
static void test_key_spec_of_public_names_the_keys_spec(void **state)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	cs_key_spec s;

	(void)state;
	assert_non_null(rsa);
	assert_non_null(p384);
	assert_non_null(p256);
	cs_key_spec_of_public(rsa, &s);
	assert_true(s.type == CS_KEY_RSA && s.bits == 3072);
	assert_string_equal(cs_key_spec_name(&s), "rsa:3072");
	cs_key_spec_of_public(p384, &s);
	assert_true(s.type == CS_KEY_EC && s.curve_nid == NID_secp384r1);
	assert_string_equal(cs_key_spec_name(&s), "ec:p384");
	cs_key_spec_of_public(p256, &s);
	assert_true(s.type == CS_KEY_EC && s.curve_nid == NID_X9_62_prime256v1);
	assert_string_equal(cs_key_spec_name(&s), "ec:p256");
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(p256);
}

/* ---- generation ------------------------------------------------------------ */

static void test_generate_rsa_2048_is_sensitive_unextractable_with_spki_id(void **state)
{
	fixture *f = *state;
	cs_key_spec spec = {CS_KEY_RSA, 2048, 0};
	char *uri = NULL;
	EVP_PKEY *pub = NULL;
	cs_err err = {0};
	unsigned char id[20], *v = NULL;
	size_t vlen;
	CK_RV crv;
	CK_OBJECT_HANDLE h;
	cs_session s = {0};

	if (cs_key_generate(f->tok, &spec, "web key", false, &uri, &pub, &err) != CS_OK)
		fail_msg("%s", err.msg);
	assert_non_null(strstr(uri, "token=certstore"));
	assert_non_null(strstr(uri, "type=private"));
	assert_int_equal(EVP_PKEY_get_bits(pub), 2048);
	h = find_priv(f->tok, uri);
	assert_true(get_bool(f->tok, h, CKA_TOKEN));
	assert_true(get_bool(f->tok, h, CKA_PRIVATE));
	assert_true(get_bool(f->tok, h, CKA_SENSITIVE));
	assert_false(get_bool(f->tok, h, CKA_EXTRACTABLE));
	assert_true(get_bool(f->tok, h, CKA_SIGN));
	assert_true(get_bool(f->tok, h, CKA_DECRYPT));

	assert_int_equal(cs_session_get(f->tok, &s, NULL), CS_OK);
	assert_int_equal(cs_get_attr(&s, h, CKA_LABEL, &v, &vlen, NULL, NULL), CS_OK);
	assert_int_equal(vlen, 7);
	assert_memory_equal(v, "web key", 7);
	free(v);
	assert_int_equal(cs_get_attr(&s, h, CKA_ID, &v, &vlen, NULL, NULL), CS_OK);
	assert_int_equal(cs_key_id_from_public(pub, id, NULL), CS_OK);
	assert_int_equal(vlen, 20);
	assert_memory_equal(v, id, 20);
	free(v);
	/* The HSM itself refuses the secret: not our code's choice. */
	assert_int_equal(cs_get_attr(&s, h, CKA_PRIVATE_EXPONENT, &v, &vlen, &crv, NULL), CS_OK);
	assert_null(v);
	assert_int_equal(crv, CKR_ATTRIBUTE_SENSITIVE);
	cs_session_put(&s, false);
	/* Private and public objects share the id, nothing else does. */
	assert_int_equal(count_by_id(f->tok, id, 20), 2);
	free(uri);
	EVP_PKEY_free(pub);
}

static void gen_ec(fixture *f, int nid, unsigned bits)
{
	cs_key_spec spec = {CS_KEY_EC, bits, nid};
	char *uri = NULL;
	EVP_PKEY *pub = NULL;
	cs_err err = {0};
	CK_OBJECT_HANDLE h;

	if (cs_key_generate(f->tok, &spec, "ec", false, &uri, &pub, &err) != CS_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(EVP_PKEY_get_bits(pub), (int)bits);
	h = find_priv(f->tok, uri);
	assert_true(get_bool(f->tok, h, CKA_SENSITIVE));
	assert_false(get_bool(f->tok, h, CKA_EXTRACTABLE));
	assert_true(get_bool(f->tok, h, CKA_SIGN));
	assert_false(get_bool(f->tok, h, CKA_DECRYPT));
	sign_and_verify(f->tok, uri, pub, &ecdsa);
	free(uri);
	EVP_PKEY_free(pub);
}

static void test_generate_ec_p256_signs_ecdsa(void **state)
{
	gen_ec(*state, NID_X9_62_prime256v1, 256);
}

static void test_generate_ec_p384_signs_ecdsa(void **state)
{
	gen_ec(*state, NID_secp384r1, 384);
}

static void test_ecdsa_raw_is_r_and_s_of_order_size(void **state)
{
	fixture *f = *state;
	cs_key_spec spec = {CS_KEY_EC, 384, NID_secp384r1};
	cs_sign_mech raw = {CS_SIGN_ECDSA_RAW, NID_sha256, 0, 0};
	unsigned char dig[32] = {1}, sig[200];
	size_t len = sizeof(sig);
	char *uri = NULL;

	assert_int_equal(cs_key_generate(f->tok, &spec, NULL, false, &uri, NULL, NULL), CS_OK);
	assert_int_equal(cs_key_sign(f->tok, uri, &raw, dig, 32, sig, &len, NULL), CS_OK);
	assert_int_equal(len, 96);
	free(uri);
}

/* ---- signing and decryption ---------------------------------------------- */

static void test_rsa_signs_pkcs1_digestinfo_raw_and_pss(void **state)
{
	fixture *f = *state;
	cs_key_spec spec = {CS_KEY_RSA, 2048, 0};
	char *uri = NULL;
	EVP_PKEY *pub = NULL;
	cs_sign_mech pss_max = {CS_SIGN_RSA_PSS, NID_sha256, NID_sha256, -2};
	cs_sign_mech raw = {CS_SIGN_RSA_PKCS1, NID_undef, 0, 0};
	unsigned char di[51] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
				0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
	unsigned char sig[256], sig2[256];
	size_t l1 = sizeof(sig), l2 = sizeof(sig2);

	assert_int_equal(cs_key_generate(f->tok, &spec, NULL, false, &uri, &pub, NULL), CS_OK);
	sign_and_verify(f->tok, uri, pub, &pkcs1);
	sign_and_verify(f->tok, uri, pub, &pss);
	sign_and_verify(f->tok, uri, pub, &pss_max);
	/* A ready DigestInfo signed raw gives the same (deterministic) signature. */
	assert_int_equal(cs_key_sign(f->tok, uri, &raw, di, sizeof(di), sig, &l1, NULL), CS_OK);
	assert_int_equal(cs_key_sign(f->tok, uri, &pkcs1, di + 19, 32, sig2, &l2, NULL), CS_OK);
	assert_int_equal(l1, l2);
	assert_memory_equal(sig, sig2, l1);
	free(uri);
	EVP_PKEY_free(pub);
}

/* Returns false, with the token's reason checked, when the token cannot do
 * this padding: the caller decides whether that is a skip or a failure. */
static bool encrypt_decrypt(fixture *f, const char *uri, EVP_PKEY *pub, int pad, int md)
{
	unsigned char msg[32], ct[512], pt[512];
	size_t ctlen = sizeof(ct), ptlen = sizeof(pt);
	cs_decrypt_mech m = {pad == RSA_PKCS1_OAEP_PADDING ? CS_DECRYPT_RSA_OAEP
							   : CS_DECRYPT_RSA_PKCS1,
			     md, NID_undef, NULL, 0};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	cs_err err = {0};
	cs_rv rv;

	RAND_bytes(msg, sizeof(msg));
	assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, pad), 1);
	if (pad == RSA_PKCS1_OAEP_PADDING && md != NID_undef)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_get_digestbynid(md)), 1);
	assert_int_equal(EVP_PKEY_encrypt(ctx, ct, &ctlen, msg, sizeof(msg)), 1);
	EVP_PKEY_CTX_free(ctx);
	rv = cs_key_decrypt(f->tok, uri, &m, ct, ctlen, pt, &ptlen, &err);
	if (md == NID_sha256 && rv == CS_ERR_TOKEN) {
		/* SoftHSM2 2.6.1 does OAEP with SHA-1 only; the message says so. */
		assert_non_null(strstr(err.msg, "RSA-OAEP"));
		return false;
	}
	if (rv != CS_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(ptlen, sizeof(msg));
	assert_memory_equal(pt, msg, sizeof(msg));
	/* A corrupted ciphertext is "decryption failed", nothing more. */
	ct[ctlen / 2] ^= 1;
	ptlen = sizeof(pt);
	assert_int_equal(cs_key_decrypt(f->tok, uri, &m, ct, ctlen, pt, &ptlen, &err),
			 CS_ERR_BAD_INPUT);
	assert_string_equal(err.msg, "decryption failed");
	return true;
}

static void test_rsa_decrypts_pkcs1_and_oaep(void **state)
{
	fixture *f = *state;
	cs_key_spec spec = {CS_KEY_RSA, 2048, 0};
	char *uri = NULL;
	EVP_PKEY *pub = NULL;

	assert_int_equal(cs_key_generate(f->tok, &spec, NULL, false, &uri, &pub, NULL), CS_OK);
	assert_true(encrypt_decrypt(f, uri, pub, RSA_PKCS1_PADDING, NID_undef));
	assert_true(encrypt_decrypt(f, uri, pub, RSA_PKCS1_OAEP_PADDING, NID_sha1));
	free(uri);
	EVP_PKEY_free(pub);
}

/* A point of its own, so that a token without OAEP-SHA256 is a visible skip
 * and not a pass: SoftHSM2 2.6.1 is such a token. */
static void test_rsa_decrypts_oaep_sha256(void **state)
{
	fixture *f = *state;
	cs_key_spec spec = {CS_KEY_RSA, 2048, 0};
	char *uri = NULL;
	EVP_PKEY *pub = NULL;
	bool done;

	assert_int_equal(cs_key_generate(f->tok, &spec, NULL, false, &uri, &pub, NULL), CS_OK);
	done = encrypt_decrypt(f, uri, pub, RSA_PKCS1_OAEP_PADDING, NID_sha256);
	free(uri);
	EVP_PKEY_free(pub);
	if (!done) {
		print_message("# SKIP the token cannot decrypt RSA-OAEP with SHA-256 "
			      "(SoftHSM2 2.6.1 does OAEP with SHA-1 only)\n");
		skip();
	}
}

/* ---- import and export ------------------------------------------------------ */

static void import_export(fixture *f, const char *alg, const char *param)
{
	EVP_PKEY *priv = soft_key(alg, param), *back = NULL;
	char *uri = NULL, *found = NULL;
	cs_err err = {0};
	BIGNUM *a = NULL, *b = NULL;
	const char *secret =
		strcmp(alg, "RSA") == 0 ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY;

	assert_non_null(priv);
	if (cs_key_import(f->tok, priv, "imported", true, &uri, &err) != CS_OK)
		fail_msg("import: %s", err.msg);
	assert_true(get_bool(f->tok, find_priv(f->tok, uri), CKA_SENSITIVE));
	assert_true(get_bool(f->tok, find_priv(f->tok, uri), CKA_EXTRACTABLE));
	sign_and_verify(f->tok, uri, priv, strcmp(alg, "RSA") == 0 ? &pss : &ecdsa);
	assert_int_equal(cs_key_find_by_public(f->tok, priv, &found, NULL), CS_OK);
	assert_string_equal(found, uri);
	/* Importing it again: duplicate, pointing at the key already there. */
	free(found);
	assert_int_equal(cs_key_import(f->tok, priv, "again", true, &found, &err),
			 CS_ERR_DUPLICATE);
	assert_string_equal(found, uri);
	free(found);
	if (cs_key_export(f->tok, uri, &back, &err) != CS_OK)
		fail_msg("export: %s", err.msg);
	assert_int_equal(EVP_PKEY_eq(priv, back), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(priv, secret, &a), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(back, secret, &b), 1);
	assert_int_equal(BN_cmp(a, b), 0);
	BN_clear_free(a);
	BN_clear_free(b);
	EVP_PKEY_free(back);
	EVP_PKEY_free(priv);
	free(uri);
}

static void test_import_and_export_rsa(void **state)
{
	import_export(*state, "RSA", "2048");
}

static void test_import_and_export_ec(void **state)
{
	import_export(*state, "EC", "P-256");
}

static void test_export_of_non_exportable_key_is_refused_by_the_token(void **state)
{
	fixture *f = *state;
	cs_key_spec spec = {CS_KEY_EC, 256, NID_X9_62_prime256v1};
	char *uri = NULL;
	EVP_PKEY *out = NULL;
	cs_err err = {0};
	int before;

	assert_int_equal(cs_key_generate(f->tok, &spec, NULL, false, &uri, NULL, NULL), CS_OK);
	before = count_all(f->tok);
	assert_int_equal(cs_key_export(f->tok, uri, &out, &err), CS_ERR_REFUSED);
	assert_null(out);
	assert_non_null(strstr(err.msg, "not exportable"));
	assert_int_equal(count_all(f->tok), before); /* the wrapping key is gone */
	free(uri);
}

static void test_import_of_ed25519_is_refused_and_leaves_nothing(void **state)
{
	fixture *f = *state;
	EVP_PKEY *k = soft_key("ED25519", NULL);
	char *uri = NULL;
	cs_err err = {0};
	int before = count_all(f->tok);

	assert_int_equal(cs_key_import(f->tok, k, NULL, false, &uri, &err), CS_ERR_TOKEN);
	assert_null(uri);
	assert_non_null(strstr(err.msg, "ED25519"));
	assert_int_equal(count_all(f->tok), before);
	EVP_PKEY_free(k);
}

/* ---- lookup, check, delete -------------------------------------------------- */

static void test_find_by_public_and_check_mismatch(void **state)
{
	fixture *f = *state;
	cs_key_spec spec = {CS_KEY_RSA, 2048, 0};
	char *u1 = NULL, *u2 = NULL, *found = NULL;
	EVP_PKEY *p1 = NULL, *p2 = NULL, *other = soft_key("EC", "P-256"), *got = NULL;
	cs_status st;
	cs_err err = {0};

	assert_int_equal(cs_key_generate(f->tok, &spec, "one", false, &u1, &p1, NULL), CS_OK);
	assert_int_equal(cs_key_generate(f->tok, &spec, "two", false, &u2, &p2, NULL), CS_OK);
	assert_int_equal(cs_key_find_by_public(f->tok, p2, &found, NULL), CS_OK);
	assert_string_equal(found, u2);
	free(found);
	assert_int_equal(cs_key_find_by_public(f->tok, other, &found, &err), CS_ERR_NOT_FOUND);
	assert_int_equal(cs_key_public(f->tok, u1, &got, NULL), CS_OK);
	assert_int_equal(EVP_PKEY_eq(got, p1), 1);
	assert_int_equal(cs_key_check(f->tok, u1, p1, &st, NULL), CS_OK);
	assert_int_equal(st, CS_STATUS_VALID);
	assert_int_equal(cs_key_check(f->tok, u1, p2, &st, NULL), CS_OK);
	assert_int_equal(st, CS_STATUS_KEY_MISMATCH);
	assert_int_equal(cs_key_check(f->tok, NULL, p2, &st, NULL), CS_OK);
	assert_int_equal(st, CS_STATUS_MISSING_KEY);
	{
		/* the same answers through the hook status uses */
		X509 *x = X509_new();
		cs_cert c = {.x509 = x, .key_uri = u1};

		X509_set_pubkey(x, p1);
		assert_int_equal(cs_token_key_checker(f->tok, &c), CS_STATUS_VALID);
		X509_set_pubkey(x, p2);
		assert_int_equal(cs_token_key_checker(f->tok, &c), CS_STATUS_KEY_MISMATCH);
		c.key_uri = NULL;
		assert_int_equal(cs_token_key_checker(f->tok, &c), CS_STATUS_MISSING_KEY);
		X509_free(x);
	}
	free(u1);
	free(u2);
	EVP_PKEY_free(p1);
	EVP_PKEY_free(p2);
	EVP_PKEY_free(other);
	EVP_PKEY_free(got);
}

static void test_delete_removes_private_and_public_objects(void **state)
{
	fixture *f = *state;
	cs_key_spec spec = {CS_KEY_EC, 256, NID_X9_62_prime256v1};
	char *uri = NULL;
	EVP_PKEY *pub = NULL;
	unsigned char id[20];
	cs_status st;
	cs_err err = {0};
	unsigned char dig[32] = {0}, sig[80];
	size_t len = sizeof(sig);

	assert_int_equal(cs_key_generate(f->tok, &spec, NULL, false, &uri, &pub, NULL), CS_OK);
	/* sign first, so a handle is cached and must not outlive the key */
	assert_int_equal(cs_key_sign(f->tok, uri, &ecdsa, dig, 32, sig, &len, NULL), CS_OK);
	assert_int_equal(cs_key_id_from_public(pub, id, NULL), CS_OK);
	assert_int_equal(count_by_id(f->tok, id, 20), 2);
	if (cs_key_delete(f->tok, uri, &err) != CS_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(count_by_id(f->tok, id, 20), 0);
	assert_int_equal(cs_key_check(f->tok, uri, pub, &st, NULL), CS_OK);
	assert_int_equal(st, CS_STATUS_MISSING_KEY);
	len = sizeof(sig);
	assert_int_equal(cs_key_sign(f->tok, uri, &ecdsa, dig, 32, sig, &len, &err),
			 CS_ERR_NOT_FOUND);
	assert_int_equal(cs_key_delete(f->tok, uri, &err), CS_ERR_NOT_FOUND);
	free(uri);
	EVP_PKEY_free(pub);
}

/* ---- opening the token: what is refused ----------------------------------- */

static cs_rv reopen(fixture *f, cs_err *err)
{
	cs_token_close(f->tok);
	f->tok = NULL;
	return cs_token_open_store(f->dir, &f->tok, err);
}

static void write_pin(fixture *f, const char *pin, int mode)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/pin", f->dir);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, pin, strlen(pin)), (ssize_t)strlen(pin));
	close(fd);
	chmod(path, (mode_t)mode);
}

static void test_wrong_pin_is_auth_error_without_the_pin(void **state)
{
	fixture *f = *state;
	cs_err err = {0};

	cs_token_close(f->tok);
	f->tok = NULL;
	write_pin(f, "not-the-pin-4711\n", 0600);
	assert_int_equal(cs_token_open_store(f->dir, &f->tok, &err), CS_ERR_AUTH);
	assert_null(f->tok);
	assert_non_null(strstr(err.msg, "wrong PIN for token 'certstore'"));
	assert_null(strstr(err.msg, "4711"));
}

static void test_pin_file_readable_by_group_is_refused(void **state)
{
	fixture *f = *state;
	cs_err err = {0};
	char path[128];

	snprintf(path, sizeof(path), "%s/pin", f->dir);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(reopen(f, &err), CS_ERR_STORE);
	assert_non_null(strstr(err.msg, "0640"));
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(reopen(f, &err), CS_OK);
}

static void write_conf(fixture *f, const char *module, const char *token)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/certstore.conf", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp,
		"[token]\nmodule = %s\ntoken = %s\npin-file = pin\n"
		"softhsm-conf = token/softhsm2.conf\n",
		module, token);
	fclose(fp);
}

static void test_missing_module_names_the_module(void **state)
{
	fixture *f = *state;
	cs_err err = {0};

	write_conf(f, "/nonexistent/libnothing.so", "pkcs11:token=certstore");
	assert_int_equal(reopen(f, &err), CS_ERR_TOKEN);
	assert_non_null(strstr(err.msg, "/nonexistent/libnothing.so"));
}

static void test_absent_token_names_the_uri(void **state)
{
	fixture *f = *state;
	cs_err err = {0};

	write_conf(f, CS_TEST_SOFTHSM, "pkcs11:token=elsewhere");
	assert_int_equal(reopen(f, &err), CS_ERR_TOKEN);
	assert_non_null(strstr(err.msg, "pkcs11:token=elsewhere"));
	assert_non_null(strstr(err.msg, "'certstore'")); /* and says what is there */
}

/* ---- fork and threads --------------------------------------------------- */

static void test_fork_child_signs_with_a_key_loaded_by_the_parent(void **state)
{
	fixture *f = *state;
	cs_key_spec spec = {CS_KEY_RSA, 2048, 0};
	char *uri = NULL;
	EVP_PKEY *pub = NULL;
	pid_t pid;
	int st;

	assert_int_equal(cs_key_generate(f->tok, &spec, NULL, false, &uri, &pub, NULL), CS_OK);
	sign_and_verify(f->tok, uri, pub, &pkcs1); /* handle cached in the parent */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned char dig[32] = {7}, sig[256];
		size_t len = sizeof(sig);
		cs_err err = {0};
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);

		if (cs_key_sign(f->tok, uri, &pkcs1, dig, 32, sig, &len, &err) != CS_OK) {
			fprintf(stderr, "child: %s\n", err.msg);
			_exit(2);
		}
		EVP_PKEY_verify_init(ctx);
		EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256());
		if (EVP_PKEY_verify(ctx, sig, len, dig, 32) != 1)
			_exit(3);
		/* a fresh session in the child, not the parent's */
		if (f->tok->pid != getpid())
			_exit(4);
		/* tidy, so valgrind can watch the child too */
		EVP_PKEY_CTX_free(ctx);
		EVP_PKEY_free(pub);
		free(uri);
		cs_token_close(f->tok);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	sign_and_verify(f->tok, uri, pub, &pkcs1); /* the parent is unharmed */
	free(uri);
	EVP_PKEY_free(pub);
}

typedef struct {
	fixture *f;
	const char *uri;
	EVP_PKEY *pub;
	int ok;
} thread_arg;

static void *sign_many(void *p)
{
	thread_arg *a = p;

	for (int i = 0; i < 25; i++) {
		unsigned char dig[32], sig[256];
		size_t len = sizeof(sig);
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, a->pub, NULL);

		RAND_bytes(dig, sizeof(dig));
		if (cs_key_sign(a->f->tok, a->uri, &pss, dig, 32, sig, &len, NULL) == CS_OK &&
		    EVP_PKEY_verify_init(ctx) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_verify(ctx, sig, len, dig, 32) == 1)
			a->ok++;
		EVP_PKEY_CTX_free(ctx);
	}
	return NULL;
}

static void test_eight_threads_sign_at_once(void **state)
{
	fixture *f = *state;
	cs_key_spec spec = {CS_KEY_RSA, 2048, 0};
	char *uri = NULL;
	EVP_PKEY *pub = NULL;
	pthread_t th[8];
	thread_arg args[8];

	assert_int_equal(cs_key_generate(f->tok, &spec, NULL, false, &uri, &pub, NULL), CS_OK);
	for (int i = 0; i < 8; i++) {
		args[i] = (thread_arg){f, uri, pub, 0};
		assert_int_equal(pthread_create(&th[i], NULL, sign_many, &args[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].ok, 25);
	}
	free(uri);
	EVP_PKEY_free(pub);
}

/* ---- seen from outside: pkcs11-tool ---------------------------------------- */

static void test_pkcs11_tool_sees_sensitive_never_extractable_sign_decrypt(void **state)
{
	fixture *f = *state;
	cs_key_spec spec = {CS_KEY_RSA, 2048, 0};
	char *uri = NULL, *pin = NULL, cmd[512], out[8192] = "";
	EVP_PKEY *pub = NULL;
	unsigned char id[20];
	char hex[41];
	cs_token_config *cfg = NULL;
	FILE *p;
	size_t n;

	if (access("/usr/bin/pkcs11-tool", X_OK) != 0)
		skip();
	assert_int_equal(cs_key_generate(f->tok, &spec, "outside", false, &uri, &pub, NULL), CS_OK);
	assert_int_equal(cs_key_id_from_public(pub, id, NULL), CS_OK);
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	assert_int_equal(cs_token_config_load(f->dir, &cfg, NULL), CS_OK);
	assert_int_equal(cs_pin_read(cfg, &pin, NULL), CS_OK);
	setenv("CS_TEST_PIN", pin, 1);
	cs_pin_free(pin);
	/* SOFTHSM2_CONF is already this store's: cs_token_open set it.  (Only
	 * the listing: pkcs11-tool 0.23 cannot read private keys at all, so its
	 * --read-object proves nothing; the refusal is tested through PKCS#11.) */
	snprintf(cmd, sizeof(cmd),
		 "pkcs11-tool --module %s --token-label certstore --login --pin env:CS_TEST_PIN "
		 "--list-objects --type privkey 2>&1",
		 CS_TEST_SOFTHSM);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	if (strstr(out, "label:      outside") == NULL || strstr(out, hex) == NULL ||
	    strstr(out, "sensitive") == NULL || strstr(out, "never extractable") == NULL ||
	    strstr(out, "Usage:      decrypt, sign\n") == NULL)
		fail_msg("pkcs11-tool output:\n%s", out);
	unsetenv("CS_TEST_PIN");
	cs_token_config_free(cfg);
	free(uri);
	EVP_PKEY_free(pub);
}

/* A rollback removes the key it made, and says so when it cannot: the
 * first failure's message and class stay, the orphan key's URI is added. */
static void test_rollback_deletes_the_key_or_reports_what_it_could_not_undo(void **state)
{
	fixture *f = *state;
	cs_key_spec spec = {CS_KEY_EC, 256, NID_X9_62_prime256v1};
	char *uri = NULL;
	cs_status st;
	EVP_PKEY *pub = NULL;
	cs_err err = {0};

	if (cs_key_generate(f->tok, &spec, "rolled back", false, &uri, &pub, &err) != CS_OK)
		fail_msg("%s", err.msg);
	cs_err_set(&err, CS_ERR_STORE, "the change failed");
	cs_key_rollback(f->tok, uri, &err);
	assert_int_equal(err.rv, CS_ERR_STORE);
	assert_string_equal(err.msg, "the change failed");
	assert_int_equal(cs_key_check(f->tok, uri, pub, &st, &err), CS_OK);
	assert_int_equal(st, CS_STATUS_MISSING_KEY);
	/* a key already gone is nothing to report */
	cs_err_set(&err, CS_ERR_STORE, "the change failed");
	cs_key_rollback(f->tok, uri, &err);
	assert_string_equal(err.msg, "the change failed");
	/* a key that cannot be deleted is named */
	cs_key_rollback(f->tok, "pkcs11:id=%zz;type=private", &err);
	assert_int_equal(err.rv, CS_ERR_STORE);
	assert_non_null(strstr(err.msg, "the change failed; the key made for it could not be "
					"removed from the token (pkcs11:id=%zz;type=private): "));
	EVP_PKEY_free(pub);
	free(uri);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_spec_parses_the_documented_forms),
		cmocka_unit_test(test_key_spec_of_public_names_the_keys_spec),
		T(test_generate_rsa_2048_is_sensitive_unextractable_with_spki_id),
		T(test_generate_ec_p256_signs_ecdsa),
		T(test_generate_ec_p384_signs_ecdsa),
		T(test_ecdsa_raw_is_r_and_s_of_order_size),
		T(test_rsa_signs_pkcs1_digestinfo_raw_and_pss),
		T(test_rsa_decrypts_pkcs1_and_oaep),
		T(test_rsa_decrypts_oaep_sha256),
		T(test_import_and_export_rsa),
		T(test_import_and_export_ec),
		T(test_export_of_non_exportable_key_is_refused_by_the_token),
		T(test_import_of_ed25519_is_refused_and_leaves_nothing),
		T(test_find_by_public_and_check_mismatch),
		T(test_delete_removes_private_and_public_objects),
		T(test_rollback_deletes_the_key_or_reports_what_it_could_not_undo),
		T(test_wrong_pin_is_auth_error_without_the_pin),
		T(test_pin_file_readable_by_group_is_refused),
		T(test_missing_module_names_the_module),
		T(test_absent_token_names_the_uri),
		T(test_fork_child_signs_with_a_key_loaded_by_the_parent),
		T(test_eight_threads_sign_at_once),
		T(test_pkcs11_tool_sees_sensitive_never_extractable_sign_decrypt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
