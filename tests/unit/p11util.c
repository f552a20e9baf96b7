/*
 * p11util.c - the PKCS#11 module's unit tests' common setup (p11util.h).
 */
#include "testutil.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "p11util.h"

/* cmocka's setup functions take only a state; the tests keep theirs. */
static tu_p11 *current;

void tu_p11_open(tu_p11 *m)
{
	const char *path = getenv("CERTSTORE_PKCS11");
	CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);

	m->dl = dlopen(path ? path : ".libs/certstore-pkcs11.so", RTLD_NOW | RTLD_LOCAL);
	if (m->dl == NULL)
		fail_msg("dlopen: %s", dlerror());
	get = (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(m->dl, "C_GetFunctionList");
	assert_non_null(get);
	assert_int_equal(get(&m->f), CKR_OK);
	m->tmp = tu_tempdir();
	snprintf(m->store_dir, sizeof(m->store_dir), "%s/store", m->tmp);
	snprintf(m->reserved, sizeof(m->reserved), "store=%s", m->store_dir);
	current = m;
}

void tu_p11_close(tu_p11 *m)
{
	tu_rmdir(m->tmp);
	dlclose(m->dl);
	if (current == m)
		current = NULL;
}

int tu_p11_initialize(void **state)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK, .pReserved = current->reserved};

	(void)state;
	assert_int_equal(current->f->C_Initialize(&args), CKR_OK);
	return 0;
}

int tu_p11_finalize(void **state)
{
	(void)state;
	assert_int_equal(current->f->C_Finalize(NULL), CKR_OK);
	return 0;
}
