/*
 * declined.c - the calls these tokens decline, declined the way PKCS#11
 * 2.40 says: the session and the arguments are checked first, then an
 * operation no mechanism offers is CKR_MECHANISM_INVALID at its Init and
 * CKR_OPERATION_NOT_INITIALIZED after (there never is one to continue),
 * rather than CKR_FUNCTION_NOT_SUPPORTED, which consumers and conformance
 * suites read as "this module is broken".  Random numbers are served from
 * the system's generator (OpenSSL's, in the module's library context).
 *
 * Verifying and encrypting are declined because consumers do them in
 * software with the public key (CKA_VALUE, CKA_PUBLIC_KEY_INFO), the
 * mechanism list offers neither, and a second implementation of the
 * checks OpenSSL already does would only be a second place to get wrong.
 */
#include "p11.h"

#include <openssl/rand.h>

/* Init of an operation no mechanism of any token offers. */
static CK_RV init_declined(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech)
{
	WITH_SESSION(h, {
		(void)s;
		if (mech == NULL)
			return p11_leave(CKR_ARGUMENTS_BAD);
		return p11_leave(CKR_MECHANISM_INVALID);
	});
}

/* A later call of such an operation: there is none in the session. */
static CK_RV not_initialized(CK_SESSION_HANDLE h)
{
	WITH_SESSION(h, {
		(void)s;
		return p11_leave(CKR_OPERATION_NOT_INITIALIZED);
	});
}

/* ---- encrypt, digest, verify, recover: no mechanism ---------------------- */

CK_RV x_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	(void)k;
	return init_declined(h, m);
}

CK_RV x_DigestInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m)
{
	return init_declined(h, m);
}

CK_RV x_Crypt(CK_SESSION_HANDLE h, CK_BYTE_PTR a, CK_ULONG b, CK_BYTE_PTR c, CK_ULONG_PTR d)
{
	(void)a, (void)b, (void)c, (void)d;
	return not_initialized(h);
}

CK_RV x_CryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR a, CK_ULONG_PTR b)
{
	(void)a, (void)b;
	return not_initialized(h);
}

CK_RV x_Update(CK_SESSION_HANDLE h, CK_BYTE_PTR a, CK_ULONG b)
{
	(void)a, (void)b;
	return not_initialized(h);
}

CK_RV x_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k)
{
	(void)k;
	return not_initialized(h);
}

CK_RV x_Verify(CK_SESSION_HANDLE h, CK_BYTE_PTR a, CK_ULONG b, CK_BYTE_PTR c, CK_ULONG d)
{
	(void)a, (void)b, (void)c, (void)d;
	return not_initialized(h);
}

CK_RV x_VerifyFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR a, CK_ULONG b)
{
	(void)a, (void)b;
	return not_initialized(h);
}

/* ---- key management: no mechanism ---------------------------------------- */

CK_RV x_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t, CK_ULONG n,
		    CK_OBJECT_HANDLE_PTR out)
{
	(void)t, (void)n, (void)out;
	return init_declined(h, m);
}

CK_RV x_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR a, CK_ULONG b,
			CK_ATTRIBUTE_PTR c, CK_ULONG d, CK_OBJECT_HANDLE_PTR e,
			CK_OBJECT_HANDLE_PTR f)
{
	(void)a, (void)b, (void)c, (void)d, (void)e, (void)f;
	return init_declined(h, m);
}

CK_RV x_WrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE a, CK_OBJECT_HANDLE b,
		CK_BYTE_PTR c, CK_ULONG_PTR d)
{
	(void)a, (void)b, (void)c, (void)d;
	return init_declined(h, m);
}

CK_RV x_UnwrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE a, CK_BYTE_PTR b,
		  CK_ULONG c, CK_ATTRIBUTE_PTR d, CK_ULONG e, CK_OBJECT_HANDLE_PTR f)
{
	(void)a, (void)b, (void)c, (void)d, (void)e, (void)f;
	return init_declined(h, m);
}

CK_RV x_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE a, CK_ATTRIBUTE_PTR b,
		  CK_ULONG c, CK_OBJECT_HANDLE_PTR d)
{
	(void)a, (void)b, (void)c, (void)d;
	return init_declined(h, m);
}

/* ---- objects --------------------------------------------------------------- */

/* Every object says CKA_COPYABLE false. */
CK_RV x_CopyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR t, CK_ULONG n,
		   CK_OBJECT_HANDLE_PTR out)
{
	WITH_SESSION(h, {
		p11_object o;
		CK_RV rv;

		if ((t == NULL && n > 0) || out == NULL)
			return p11_leave(CKR_ARGUMENTS_BAD);
		rv = p11_object_load_visible(obj, p11_slot_store(s->slot), &o);
		return p11_leave(rv == CKR_OK ? CKR_ACTION_PROHIBITED : rv);
	});
}

/* ---- operation state: nothing here can be saved ------------------------------ */

CK_RV x_GetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR state, CK_ULONG_PTR len)
{
	WITH_SESSION(h, {
		(void)state;
		if (len == NULL)
			return p11_leave(CKR_ARGUMENTS_BAD);
		if (s->op.kind == P11_OP_NONE && !s->finding)
			return p11_leave(CKR_OPERATION_NOT_INITIALIZED);
		/* a key operation holds an HSM key reference and input */
		return p11_leave(CKR_STATE_UNSAVEABLE);
	});
}

CK_RV x_SetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR state, CK_ULONG len,
			  CK_OBJECT_HANDLE enc, CK_OBJECT_HANDLE auth)
{
	WITH_SESSION(h, {
		(void)s;
		(void)enc;
		(void)auth;
		if (state == NULL && len > 0)
			return p11_leave(CKR_ARGUMENTS_BAD);
		/* GetOperationState never hands one out */
		return p11_leave(CKR_SAVED_STATE_INVALID);
	});
}

/* ---- random numbers ---------------------------------------------------------- */

CK_RV x_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG len)
{
	WITH_SESSION(h, {
		CK_ULONG done = 0;
		CK_ULONG n;

		(void)s;
		if (out == NULL && len > 0)
			return p11_leave(CKR_ARGUMENTS_BAD);
		while (done < len) {
			n = len - done < (1ul << 20) ? len - done : (1ul << 20);
			if (RAND_bytes(out + done, (int)n) != 1)
				return p11_leave(CKR_DEVICE_ERROR);
			done += n;
		}
		return p11_leave(CKR_OK);
	});
}

/* The system generator seeds itself and takes no seed from a caller. */
CK_RV x_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR seed, CK_ULONG len)
{
	WITH_SESSION(h, {
		(void)s;
		if (seed == NULL && len > 0)
			return p11_leave(CKR_ARGUMENTS_BAD);
		return p11_leave(CKR_RANDOM_SEED_NOT_SUPPORTED);
	});
}

/* ---- legacy parallel functions ----------------------------------------------- */

CK_RV x_FunctionNotParallel(CK_SESSION_HANDLE h)
{
	WITH_SESSION(h, {
		(void)s;
		return p11_leave(CKR_FUNCTION_NOT_PARALLEL);
	});
}
