/*
 * sign_decrypt.c - the key operation entry points of the Personal token:
 * C_SignInit .. C_SignFinal, C_DecryptInit .. C_DecryptFinal.  The work is
 * keyops.c's; here the session's operation is checked, and the signature or
 * decryption itself runs in the HSM with the module lock released
 * (p11_hsm_enter, module.c).
 */
#include "p11.h"

#include <string.h>

/* Runs BODY when the session's operation is of kind K; else
 * CKR_OPERATION_NOT_INITIALIZED. */
#define WITH_OP(h, K, BODY)                                                                        \
	WITH_SESSION(h, {                                                                          \
		if (s->op.kind != (K))                                                             \
			return p11_leave(CKR_OPERATION_NOT_INITIALIZED);                           \
		BODY;                                                                              \
	})

/* PKCS#11 3.0: Init with no mechanism cancels the operation. */
static CK_RV op_init(p11_session *s, p11_op_kind kind, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
	cs_store_id store = p11_slot_store(s->slot);

	if (mech == NULL && s->op.kind == kind) {
		p11_op_clear(&s->op);
		return CKR_OK;
	}
	/* the keys are private objects of Personal */
	if (store == CS_STORE_MY && s->op.kind == P11_OP_NONE && !p11_private_visible(store))
		return CKR_USER_NOT_LOGGED_IN;
	return p11_op_init(&s->op, kind, store, p11_private_visible(store), mech, key);
}

CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
	WITH_SESSION(h, { return p11_leave(op_init(s, P11_OP_SIGN, mech, key)); });
}

/* Ends the session's sign operation, in the HSM without the lock when this
 * call does sign (a length query or a short buffer keeps the operation). */
static CK_RV sign_final(p11_session *s, CK_BYTE_PTR in, CK_ULONG len, CK_BYTE_PTR out,
			CK_ULONG_PTR outlen)
{
	p11_op op;
	CK_RV rv;

	if (out == NULL || outlen == NULL || *outlen < s->op.size)
		return p11_sign_final(&s->op, in, len, out, outlen);
	p11_hsm_enter(s, &op);
	rv = p11_sign_final(&op, in, len, out, outlen);
	p11_hsm_leave();
	return rv;
}

CK_RV C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG len, CK_BYTE_PTR out,
	     CK_ULONG_PTR outlen)
{
	WITH_OP(h, P11_OP_SIGN, {
		if (in == NULL) {
			p11_op_clear(&s->op);
			return p11_leave(CKR_ARGUMENTS_BAD);
		}
		/* C_Sign cannot end a multi-part operation (5.12) */
		if (s->op.multipart) {
			p11_op_clear(&s->op);
			return p11_leave(CKR_OPERATION_ACTIVE);
		}
		return p11_leave(sign_final(s, in, len, out, outlen));
	});
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG len)
{
	WITH_OP(h, P11_OP_SIGN, {
		s->op.multipart = true;
		return p11_leave(p11_sign_update(&s->op, in, len));
	});
}

CK_RV C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	WITH_OP(h, P11_OP_SIGN, { return p11_leave(sign_final(s, NULL, 0, out, outlen)); });
}

CK_RV C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
	WITH_SESSION(h, { return p11_leave(op_init(s, P11_OP_DECRYPT, mech, key)); });
}

/*
 * Decrypts, in the HSM without the lock, as sign_final does.
 * A short buffer keeps the answer for the retry PKCS#11 allows: the
 * operation then goes back into its session, if that is still open and idle.
 */
static CK_RV decrypt(CK_SESSION_HANDLE h, p11_session *s, CK_BYTE_PTR in, CK_ULONG len,
		     CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	p11_op op;
	CK_RV rv;

	if (out == NULL || outlen == NULL || in == NULL || s->op.result != NULL)
		return p11_decrypt(&s->op, in, len, out, outlen);
	p11_hsm_enter(s, &op);
	rv = p11_decrypt(&op, in, len, out, outlen);
	p11_hsm_leave();
	s = rv == CKR_BUFFER_TOO_SMALL ? p11_session_get(h) : NULL;
	if (s != NULL && s->op.kind == P11_OP_NONE)
		s->op = op;
	else
		p11_op_clear(&op);
	return rv;
}

CK_RV C_Decrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG len, CK_BYTE_PTR out,
		CK_ULONG_PTR outlen)
{
	WITH_OP(h, P11_OP_DECRYPT, {
		if (s->op.multipart) {
			p11_op_clear(&s->op);
			return p11_leave(CKR_OPERATION_ACTIVE);
		}
		return p11_leave(decrypt(h, s, in, len, out, outlen));
	});
}

/* RSA decrypts one block: C_DecryptUpdate gathers it and gives no output,
 * C_DecryptFinal decrypts what was gathered (5.9 allows a part to give
 * nothing back). */
CK_RV C_DecryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG len, CK_BYTE_PTR out,
		      CK_ULONG_PTR outlen)
{
	WITH_OP(h, P11_OP_DECRYPT, {
		CK_RV rv;

		(void)out;
		if (outlen == NULL || (in == NULL && len > 0)) {
			p11_op_clear(&s->op);
			return p11_leave(CKR_ARGUMENTS_BAD);
		}
		s->op.multipart = true;
		rv = p11_decrypt_update(&s->op, in, len);
		if (rv == CKR_OK)
			*outlen = 0;
		return p11_leave(rv);
	});
}

CK_RV C_DecryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	WITH_OP(h, P11_OP_DECRYPT, {
		static const unsigned char none[1];
		const unsigned char *in = s->op.parts != NULL ? s->op.parts : none;

		return p11_leave(decrypt(h, s, (CK_BYTE_PTR)in, s->op.parts_len, out, outlen));
	});
}
