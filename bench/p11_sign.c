/*
 * p11_sign - the token's raw signing cost: C_SignInit + C_Sign in a loop on
 * one key, straight through the module (no p11-kit, no certstore).
 *
 *   p11_sign MODULE TOKEN_LABEL PIN_FILE KEY_ID_HEX rsa-pss|ecdsa N
 *
 * Prints "N seconds_cpu seconds_wall": process CPU and wall time of the
 * N signatures of a SHA-256-sized input (RSA-PSS: SHA-256, MGF1-SHA-256,
 * salt 32, what TLS 1.3 uses; ECDSA: CKM_ECDSA on the digest).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

static double now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, CK_RV rv)
{
	fprintf(stderr, "p11_sign: %s: 0x%lx\n", what, (unsigned long)rv);
	exit(1);
}

int main(int argc, char **argv)
{
	CK_FUNCTION_LIST_PTR f;
	CK_C_GetFunctionList gfl;
	CK_SLOT_ID slots[64];
	CK_ULONG nslots = 64, n, count;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	unsigned char id[64], hash[32], sig[512];
	char pin[256], label[33];
	CK_ULONG idlen = 0, siglen;
	CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	CK_MECHANISM mech;
	CK_RV rv;
	FILE *pf;
	void *h;
	int total;
	double c0, w0;

	if (argc != 7)
		return fprintf(stderr,
			       "usage: p11_sign MODULE LABEL PIN_FILE ID_HEX rsa-pss|ecdsa N\n"),
		       2;
	total = atoi(argv[6]);
	for (const char *p = argv[4]; p[0] && p[1] && idlen < sizeof(id); p += 2)
		sscanf(p, "%2hhx", &id[idlen++]);
	pf = fopen(argv[3], "r");
	if (pf == NULL || fgets(pin, sizeof(pin), pf) == NULL)
		return fprintf(stderr, "p11_sign: cannot read %s\n", argv[3]), 1;
	fclose(pf);
	pin[strcspn(pin, "\r\n")] = '\0';
	h = dlopen(argv[1], RTLD_NOW);
	if (h == NULL || (gfl = (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList")) == NULL)
		return fprintf(stderr, "p11_sign: %s\n", dlerror()), 1;
	gfl(&f);
	if ((rv = f->C_Initialize(NULL)) != CKR_OK)
		die("C_Initialize", rv);
	if ((rv = f->C_GetSlotList(CK_TRUE, slots, &nslots)) != CKR_OK)
		die("C_GetSlotList", rv);
	for (n = 0; n < nslots; n++) {
		CK_TOKEN_INFO ti;

		if (f->C_GetTokenInfo(slots[n], &ti) != CKR_OK)
			continue;
		memcpy(label, ti.label, 32);
		label[32] = '\0';
		for (int i = 31; i >= 0 && label[i] == ' '; i--)
			label[i] = '\0';
		if (strcmp(label, argv[2]) == 0)
			break;
	}
	if (n == nslots)
		return fprintf(stderr, "p11_sign: no token %s\n", argv[2]), 1;
	if ((rv = f->C_OpenSession(slots[n], CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK)
		die("C_OpenSession", rv);
	if ((rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin))) != CKR_OK)
		die("C_Login", rv);
	{
		CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_ID, id, idlen}};

		if (f->C_FindObjectsInit(s, t, 2) != CKR_OK ||
		    f->C_FindObjects(s, &key, 1, &count) != CKR_OK || count != 1)
			return fprintf(stderr, "p11_sign: key not found\n"), 1;
		f->C_FindObjectsFinal(s);
	}
	if (strcmp(argv[5], "rsa-pss") == 0)
		mech = (CK_MECHANISM){CKM_RSA_PKCS_PSS, &pss, sizeof(pss)};
	else
		mech = (CK_MECHANISM){CKM_ECDSA, NULL, 0};
	memset(hash, 0x5a, sizeof(hash));
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	w0 = now(CLOCK_MONOTONIC);
	for (int i = 0; i < total; i++) {
		siglen = sizeof(sig);
		hash[0] = (unsigned char)i;
		if ((rv = f->C_SignInit(s, &mech, key)) != CKR_OK)
			die("C_SignInit", rv);
		if ((rv = f->C_Sign(s, hash, sizeof(hash), sig, &siglen)) != CKR_OK)
			die("C_Sign", rv);
	}
	printf("%d %.6f %.6f\n", total, now(CLOCK_PROCESS_CPUTIME_ID) - c0,
	       now(CLOCK_MONOTONIC) - w0);
	/* No C_Finalize: SoftHSM2 2.6.1 can crash in it at exit (DESIGN.md). */
	return 0;
}
