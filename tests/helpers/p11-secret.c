/*
 * p11-secret MODULE PINFILE LABEL - asks a PKCS#11 token for the private key
 * labelled LABEL twice: its secret value in the clear (CKA_VALUE for EC,
 * CKA_PRIVATE_EXPONENT for RSA), then wrapped under a session AES key
 * (CKM_AES_KEY_WRAP_PAD, as certstore's export does), and prints what the
 * token answered to each: "value: CKR_... wrap: CKR_..." (with the length
 * when it gave something).  Exit 0 when the token answered at all.
 *
 * Why a helper: opensc 0.23's pkcs11-tool reads no private key value at all,
 * for exportable keys neither, so "pkcs11-tool got nothing" proves nothing.
 * Every certstore key is CKA_SENSITIVE (no value in the clear); what tells a
 * non-exportable key is that the token refuses to wrap it
 * (CKR_KEY_UNEXTRACTABLE) while it wraps an exportable one.  The PIN is read
 * from a file, never from argv.  No key material is printed.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

static const char *rv_name(CK_RV rv)
{
	switch (rv) {
	case CKR_OK:
		return "CKR_OK";
	case CKR_ATTRIBUTE_SENSITIVE:
		return "CKR_ATTRIBUTE_SENSITIVE";
	case CKR_ATTRIBUTE_TYPE_INVALID:
		return "CKR_ATTRIBUTE_TYPE_INVALID";
	case CKR_PIN_INCORRECT:
		return "CKR_PIN_INCORRECT";
	case CKR_KEY_UNEXTRACTABLE:
		return "CKR_KEY_UNEXTRACTABLE";
	case CKR_KEY_NOT_WRAPPABLE:
		return "CKR_KEY_NOT_WRAPPABLE";
	case CKR_MECHANISM_INVALID:
		return "CKR_MECHANISM_INVALID";
	default:
		return "CKR_other";
	}
}

int main(int argc, char **argv)
{
	CK_C_GetFunctionList get_list;
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slots[16];
	CK_ULONG nslots = 16, found = 0, len;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE type = 0;
	CK_ATTRIBUTE tmpl[2], attr;
	char pin[256] = "";
	unsigned char value[4096];
	FILE *pf;
	void *lib;
	CK_RV rv;
	CK_OBJECT_CLASS secret_cls = CKO_SECRET_KEY;
	CK_KEY_TYPE aes = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	unsigned char kek[32];
	CK_ATTRIBUTE wrap_tmpl[] = {
		{CKA_CLASS, &secret_cls, sizeof(secret_cls)},
		{CKA_KEY_TYPE, &aes, sizeof(aes)},
		{CKA_TOKEN, &no, sizeof(no)},
		{CKA_WRAP, &yes, sizeof(yes)},
		{CKA_VALUE, kek, sizeof(kek)},
	};
	CK_MECHANISM wrap_mech = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
	CK_OBJECT_HANDLE wk;
	CK_ULONG wlen = sizeof(value);

	if (argc != 4) {
		fprintf(stderr, "usage: p11-secret MODULE PINFILE LABEL\n");
		return 2;
	}
	lib = dlopen(argv[1], RTLD_NOW);
	if (lib == NULL ||
	    (get_list = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList")) == NULL ||
	    get_list(&f) != CKR_OK) {
		fprintf(stderr, "p11-secret: cannot load %s\n", argv[1]);
		return 1;
	}
	if ((pf = fopen(argv[2], "r")) == NULL || fgets(pin, sizeof(pin), pf) == NULL) {
		fprintf(stderr, "p11-secret: cannot read the PIN file\n");
		return 1;
	}
	fclose(pf);
	pin[strcspn(pin, "\r\n")] = '\0';
	if (f->C_Initialize(NULL) != CKR_OK ||
	    f->C_GetSlotList(CK_TRUE, slots, &nslots) != CKR_OK || nslots == 0 ||
	    f->C_OpenSession(slots[0], CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK ||
	    f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)) != CKR_OK) {
		fprintf(stderr, "p11-secret: cannot open and log in to the token\n");
		return 1;
	}
	tmpl[0] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
	tmpl[1] = (CK_ATTRIBUTE){CKA_LABEL, argv[3], strlen(argv[3])};
	if (f->C_FindObjectsInit(s, tmpl, 2) != CKR_OK ||
	    f->C_FindObjects(s, &key, 1, &found) != CKR_OK || f->C_FindObjectsFinal(s) != CKR_OK ||
	    found != 1) {
		fprintf(stderr, "p11-secret: no private key labelled %s\n", argv[3]);
		return 1;
	}
	attr = (CK_ATTRIBUTE){CKA_KEY_TYPE, &type, sizeof(type)};
	if (f->C_GetAttributeValue(s, key, &attr, 1) != CKR_OK)
		return 1;
	attr = (CK_ATTRIBUTE){type == CKK_RSA ? CKA_PRIVATE_EXPONENT : CKA_VALUE, value,
			      sizeof(value)};
	rv = f->C_GetAttributeValue(s, key, &attr, 1);
	len = attr.ulValueLen;
	memset(value, 0, sizeof(value));
	if (rv == CKR_OK)
		printf("value: CKR_OK %lu bytes", (unsigned long)len);
	else
		printf("value: %s", rv_name(rv));
	/* the wrapping key's value only has to be unknown to others, not random */
	memset(kek, 0x5a, sizeof(kek));
	rv = f->C_CreateObject(s, wrap_tmpl, sizeof(wrap_tmpl) / sizeof(wrap_tmpl[0]), &wk);
	if (rv == CKR_OK)
		rv = f->C_WrapKey(s, &wrap_mech, wk, key, value, &wlen);
	memset(value, 0, sizeof(value));
	if (rv == CKR_OK)
		printf(" wrap: CKR_OK %lu bytes\n", (unsigned long)wlen);
	else
		printf(" wrap: %s\n", rv_name(rv));
	f->C_Logout(s);
	f->C_CloseSession(s);
	f->C_Finalize(NULL);
	return 0;
}
