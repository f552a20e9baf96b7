/*
 * pkcs11_lookup.c - the measuring half of bench/pkcs11-lookup.
 *
 *   pkcs11_lookup gen DIR N          N self-signed roots: DIR/roots/NNNNN.pem
 *                                    and DIR/bundle.pem (same certificates)
 *   pkcs11_lookup find MODULE RESERVED CERT.pem ROUNDS
 *       loads MODULE, C_Initialize with pReserved=RESERVED, then finds the
 *       certificate by CKA_SUBJECT in every slot; prints
 *       "cold_ms warm_us found" where cold is load+initialize+first find
 *       and warm is the mean of ROUNDS further finds.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <p11-kit/pkcs11.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static X509 *make_root(EVP_PKEY *key, int i)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509_EXTENSION *bc =
		X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
	char cn[64];

	snprintf(cn, sizeof(cn), "Bench Root %05d", i);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (unsigned char *)"certstore bench", -1,
				   -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (unsigned char *)cn, -1, -1, 0);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1000 + i);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400);
	X509_set_pubkey(x, key);
	X509_add_ext(x, bc, -1);
	X509_sign(x, key, EVP_sha256());
	X509_EXTENSION_free(bc);
	X509_NAME_free(name);
	return x;
}

static int gen(const char *dir, int n)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char path[4096];
	FILE *bundle, *one;
	X509 *x;
	int i;

	snprintf(path, sizeof(path), "%s/roots", dir);
	mkdir(dir, 0700);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/bundle.pem", dir);
	bundle = fopen(path, "w");
	if (key == NULL || bundle == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		x = make_root(key, i);
		snprintf(path, sizeof(path), "%s/roots/%05d.pem", dir, i);
		one = fopen(path, "w");
		if (one == NULL)
			return 1;
		PEM_write_X509(one, x);
		PEM_write_X509(bundle, x);
		fclose(one);
		X509_free(x);
	}
	fclose(bundle);
	EVP_PKEY_free(key);
	return 0;
}

/* Number of certificates with this subject over every slot. */
static CK_ULONG find_everywhere(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE *s, CK_ULONG ns,
				CK_ATTRIBUTE *tmpl)
{
	CK_OBJECT_HANDLE h[8];
	CK_ULONG i, got, total = 0;

	for (i = 0; i < ns; i++) {
		if (f->C_FindObjectsInit(s[i], tmpl, 2) != CKR_OK)
			continue;
		if (f->C_FindObjects(s[i], h, 8, &got) == CKR_OK)
			total += got;
		f->C_FindObjectsFinal(s[i]);
	}
	return total;
}

static int find(const char *module, char *reserved, const char *certfile, int rounds)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK, .pReserved = reserved};
	CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
	CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
	CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &klass, sizeof(klass)}, {CKA_SUBJECT, NULL, 0}};
	CK_SESSION_HANDLE sessions[16];
	CK_SLOT_ID slots[16];
	CK_ULONG ns = 16, i, found;
	CK_FUNCTION_LIST *f;
	const unsigned char *der;
	size_t len;
	double t0, cold, warm;
	FILE *fp = fopen(certfile, "r");
	X509 *x = fp ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;
	void *dl;
	int r;

	if (x == NULL || !X509_NAME_get0_der(X509_get_subject_name(x), &der, &len))
		return 1;
	tmpl[1].pValue = (void *)der;
	tmpl[1].ulValueLen = len;
	t0 = now();
	dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	get = dl ? (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(dl, "C_GetFunctionList") : NULL;
	if (get == NULL || get(&f) != CKR_OK || f->C_Initialize(&args) != CKR_OK ||
	    f->C_GetSlotList(CK_TRUE, slots, &ns) != CKR_OK)
		return 1;
	for (i = 0; i < ns; i++)
		f->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &sessions[i]);
	found = find_everywhere(f, sessions, ns, tmpl);
	cold = now() - t0;
	t0 = now();
	for (r = 0; r < rounds; r++)
		find_everywhere(f, sessions, ns, tmpl);
	warm = (now() - t0) / rounds;
	printf("%.3f %.3f %lu\n", cold * 1e3, warm * 1e6, found);
	f->C_Finalize(NULL);
	X509_free(x);
	fclose(fp);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], atoi(argv[3]));
	if (argc == 6 && strcmp(argv[1], "find") == 0)
		return find(argv[2], argv[3], argv[4], atoi(argv[5]));
	fprintf(stderr, "usage: %s gen DIR N | find MODULE RESERVED CERT.pem ROUNDS\n", argv[0]);
	return 2;
}
