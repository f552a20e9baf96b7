/*
 * p11-sign-loop - what a short-lived PKCS#11 signer (pkcs11-tool --sign)
 * does, N times in one process: C_Initialize, open a session on the token
 * labelled LABEL, C_Login, find its first private key, sign 32 bytes,
 * C_Finalize.  Several of these at once show whether a token survives
 * concurrent processes (tests/integration/pkcs11-concurrent-sign.sh,
 * bench/pkcs11-concurrent-sign).
 *
 *   p11-sign-loop MODULE LABEL PIN_FILE N [RESERVED]
 *
 * RESERVED is passed as C_Initialize's pReserved (certstore: "store=DIR").
 * The PIN is read from PIN_FILE, never from argv.  Prints
 * "ok K failed F" and, for the first failures, the call and its CKR_ code;
 * exits 0 when every signature was made.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST *f;
static char pin[300], label[33];

/* The slot whose token label is label; CKR_TOKEN_NOT_PRESENT if none. */
static CK_RV find_slot(CK_SLOT_ID *out)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO ti;
	CK_RV rv = f->C_GetSlotList(CK_TRUE, slots, &n);

	for (i = 0; rv == CKR_OK && i < n; i++) {
		if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (memcmp(ti.label, label, sizeof(ti.label)) == 0) {
			*out = slots[i];
			return CKR_OK;
		}
	}
	return rv != CKR_OK ? rv : CKR_TOKEN_NOT_PRESENT;
}

/* One signer's life; *what names the call that failed. */
static CK_RV sign_once(void *reserved, const char **what)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK, .pReserved = reserved};
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE kta = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_SLOT_ID slot = 0;
	CK_ULONG n = 0, siglen;
	unsigned char data[32] = "thirty-two bytes to be signed...", sig[1024];
	CK_RV rv;

#define STEP(name, call)                                                                           \
	do {                                                                                       \
		*what = name;                                                                      \
		if ((rv = (call)) != CKR_OK)                                                       \
			goto out;                                                                  \
	} while (0)
	STEP("C_Initialize", f->C_Initialize(&args));
	STEP("find the token", find_slot(&slot));
	STEP("C_OpenSession", f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s));
	STEP("C_Login", f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
	STEP("C_FindObjectsInit", f->C_FindObjectsInit(s, &t, 1));
	STEP("C_FindObjects", f->C_FindObjects(s, &key, 1, &n));
	STEP("C_FindObjectsFinal", f->C_FindObjectsFinal(s));
	STEP("find the key", n == 1 ? CKR_OK : CKR_KEY_HANDLE_INVALID);
	STEP("C_GetAttributeValue", f->C_GetAttributeValue(s, key, &kta, 1));
	if (kt == CKK_EC)
		m.mechanism = CKM_ECDSA; /* on the 32 bytes as a digest: SoftHSM2 2.6.1 has no
					    ECDSA_SHA256 */
	siglen = sizeof(sig);
	STEP("C_SignInit", f->C_SignInit(s, &m, key));
	STEP("C_Sign", f->C_Sign(s, data, sizeof(data), sig, &siglen));
#undef STEP
out:
	f->C_Finalize(NULL);
	return rv;
}

int main(int argc, char **argv)
{
	CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
	const char *what = "";
	FILE *pf;
	void *dl;
	long i, n, ok = 0, failed = 0;
	size_t len;
	CK_RV rv;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: p11-sign-loop MODULE LABEL PIN_FILE N [RESERVED]\n");
		return 2;
	}
	n = strtol(argv[4], NULL, 10);
	len = strlen(argv[2]);
	memset(label, ' ', 32);
	memcpy(label, argv[2], len < 32 ? len : 32);
	pf = fopen(argv[3], "r");
	if (pf == NULL || fgets(pin, sizeof(pin), pf) == NULL) {
		fprintf(stderr, "p11-sign-loop: cannot read the PIN file\n");
		return 2;
	}
	fclose(pf);
	pin[strcspn(pin, "\r\n")] = '\0';
	dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	get = dl != NULL ? (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(dl, "C_GetFunctionList")
			 : NULL;
	if (get == NULL || get(&f) != CKR_OK) {
		fprintf(stderr, "p11-sign-loop: cannot load %s\n", argv[1]);
		return 2;
	}
	for (i = 0; i < n; i++) {
		rv = sign_once(argc == 6 ? argv[5] : NULL, &what);
		if (rv == CKR_OK) {
			ok++;
			continue;
		}
		if (failed++ < 5)
			fprintf(stderr, "p11-sign-loop: signature %ld: %s: 0x%lx\n", i + 1, what,
				(unsigned long)rv);
	}
	memset(pin, 0, sizeof(pin));
	printf("ok %ld failed %ld\n", ok, failed);
	return failed == 0 ? 0 : 1;
}
