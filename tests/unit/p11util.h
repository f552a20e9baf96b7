/*
 * p11util.h - what the unit tests of certstore-pkcs11.so share: the module
 * loaded as any PKCS#11 consumer loads it (dlopen, C_GetFunctionList), a
 * temp dir for its store, and C_Initialize/C_Finalize around each test.
 * $CERTSTORE_PKCS11 names the module (make check sets it).
 */
#ifndef CS_P11UTIL_H
#define CS_P11UTIL_H

#include <p11-kit/pkcs11.h>

typedef struct tu_p11 {
	void *dl;
	CK_FUNCTION_LIST *f;
	char *tmp;	     /* the temp dir, removed by tu_p11_close */
	char store_dir[512]; /* tmp/store, not created: the test makes its store */
	char reserved[600];  /* C_Initialize's pReserved: "store=STORE_DIR" */
} tu_p11;

/* Loads the module and names the store dir (fails the test on error). */
void tu_p11_open(tu_p11 *m);
void tu_p11_close(tu_p11 *m);

/* Per-test setup and teardown for cmocka: C_Initialize (OS locking, the
 * store in pReserved) and C_Finalize of the module tu_p11_open loaded last. */
int tu_p11_initialize(void **state);
int tu_p11_finalize(void **state);

#endif
