/*
 * p11-overlap-shim.c - a PKCS#11 module that forwards every call to the real
 * one named by $CS_SHIM_REAL (SoftHSM2 in the tests) and counts how many
 * C_Sign calls are inside the real module at once.
 *
 * Why: test_pkcs11_keys signs from 8 threads through certstore-pkcs11.so,
 * whose lock is released while the key token works.  Right results from 8
 * threads prove nothing about that: they are just as right when every call
 * is serialised.  Put between libcertstore and SoftHSM2 (the store's
 * [token] module), this shim sees whether two signatures are in the HSM at
 * the same moment.  While $CS_SHIM_WAIT is set, each of the first few
 * C_Sign calls waits (a bounded while) for a second one to arrive, so that
 * overlap that the module allows is seen whatever the machine's load; the
 * test asserts the count, never a time.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

#define WAITING_CALLS 5 /* calls that wait for a partner */
#define WAIT_SECONDS 10 /* at most, each */

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);
int cs_shim_max_in_flight(void);

static CK_FUNCTION_LIST shim;
static CK_FUNCTION_LIST_PTR real;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int in_flight, max_in_flight, waits;

/* The most C_Sign calls seen inside the real module at once. */
int cs_shim_max_in_flight(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = max_in_flight;
	pthread_mutex_unlock(&mu);
	return n;
}

static CK_RV shim_sign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
		       CK_ULONG_PTR siglen)
{
	struct timespec until;
	CK_RV rv;

	pthread_mutex_lock(&mu);
	if (++in_flight > max_in_flight)
		max_in_flight = in_flight;
	pthread_cond_broadcast(&cv);
	if (getenv("CS_SHIM_WAIT") != NULL && max_in_flight < 2 && waits < WAITING_CALLS) {
		waits++;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += WAIT_SECONDS;
		while (max_in_flight < 2 && pthread_cond_timedwait(&cv, &mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&mu);
	rv = real->C_Sign(s, data, len, sig, siglen);
	pthread_mutex_lock(&mu);
	in_flight--;
	pthread_mutex_unlock(&mu);
	return rv;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	const char *path = getenv("CS_SHIM_REAL");
	CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
	void *dl;

	if (real == NULL) {
		if (path == NULL || (dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL ||
		    (get = (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(dl, "C_GetFunctionList")) ==
			    NULL ||
		    get(&real) != CKR_OK)
			return CKR_GENERAL_ERROR;
		shim = *real;
		shim.C_GetFunctionList = C_GetFunctionList;
		shim.C_Sign = shim_sign;
	}
	*list = &shim;
	return CKR_OK;
}
