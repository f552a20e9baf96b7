/*
 * trust_lookup - makes the roots for bench/trust-lookup, fast: one P-256 key
 * signs N self-signed roots that differ by subject, and a leaf issued by
 * root N/2.
 *
 *   trust_lookup DIR N
 *
 * Writes DIR/bundle.pem (every root, for -CAfile and the store import),
 * DIR/hashed/HHHHHHHH.D (one root per file, named by subject hash as
 * `openssl rehash` names them, for -CApath) and DIR/leaf.pem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
}

static X509 *make(EVP_PKEY *key, const char *cn, X509 *issuer, long serial, int ca)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
				   (const unsigned char *)"certstore bench", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_set_pubkey(x, key);
	add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
		ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (ca)
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	X509_sign(x, key, EVP_sha256());
	X509_NAME_free(name);
	return x;
}

int main(int argc, char **argv)
{
	char path[4096], cn[64];
	EVP_PKEY *key;
	X509 *target = NULL, *leaf;
	FILE *bundle, *f;
	int n, i, d;
	unsigned long h;

	if (argc != 3)
		return fprintf(stderr, "usage: trust_lookup DIR N\n"), 2;
	n = atoi(argv[2]);
	key = EVP_EC_gen("P-256");
	snprintf(path, sizeof(path), "%s/hashed", argv[1]);
	mkdir(argv[1], 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/bundle.pem", argv[1]);
	bundle = fopen(path, "w");
	if (key == NULL || bundle == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		X509 *x;

		snprintf(cn, sizeof(cn), "Bench Root %06d", i);
		x = make(key, cn, NULL, i + 1, 1);
		PEM_write_X509(bundle, x);
		h = X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, NULL);
		for (d = 0;; d++) {
			snprintf(path, sizeof(path), "%s/hashed/%08lx.%d", argv[1], h, d);
			if ((f = fopen(path, "wx")) != NULL)
				break;
		}
		PEM_write_X509(f, x);
		fclose(f);
		if (i == n / 2)
			target = x;
		else
			X509_free(x);
	}
	fclose(bundle);
	leaf = make(key, "leaf.bench", target, 424242, 0);
	snprintf(path, sizeof(path), "%s/leaf.pem", argv[1]);
	f = fopen(path, "w");
	PEM_write_X509(f, leaf);
	fclose(f);
	return 0;
}
