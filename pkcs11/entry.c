/*
 * entry.c - the function list, C_GetFunctionList (the one exported symbol),
 * and the functions these tokens do not offer.
 */
#include "p11.h"

/* Token administration and PINs: the stores are made and their PINs set
 * with `certstore init`, not through PKCS#11. */
static CK_RV x_InitToken(CK_SLOT_ID slot, CK_UTF8CHAR_PTR a, CK_ULONG b, CK_UTF8CHAR_PTR c)
{
	CK_RV rv = p11_enter();

	(void)a, (void)b, (void)c;
	if (rv != CKR_OK)
		return rv;
	if (p11_slot_store(slot) == CS_STORE_NONE)
		return p11_leave(CKR_SLOT_ID_INVALID);
	return p11_leave(CKR_FUNCTION_NOT_SUPPORTED);
}

static CK_RV x_InitPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR a, CK_ULONG b)
{
	(void)a, (void)b;
	WITH_SESSION(h, {
		(void)s;
		return p11_leave(CKR_FUNCTION_NOT_SUPPORTED);
	});
}

static CK_RV x_SetPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR a, CK_ULONG b, CK_UTF8CHAR_PTR c,
		      CK_ULONG d)
{
	(void)a, (void)b, (void)c, (void)d;
	WITH_SESSION(h, {
		(void)s;
		return p11_leave(CKR_FUNCTION_NOT_SUPPORTED);
	});
}

static CK_RV get_function_list(CK_FUNCTION_LIST_PTR_PTR list);

static CK_FUNCTION_LIST function_list = {
	.version = {CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR},
	.C_Initialize = C_Initialize,
	.C_Finalize = C_Finalize,
	.C_GetInfo = C_GetInfo,
	/* not C_GetFunctionList: libp11-kit (linked in through libcertstore)
	 * exports one too, and the reference would bind to the proxy's */
	.C_GetFunctionList = get_function_list,
	.C_GetSlotList = C_GetSlotList,
	.C_GetSlotInfo = C_GetSlotInfo,
	.C_GetTokenInfo = C_GetTokenInfo,
	.C_GetMechanismList = C_GetMechanismList,
	.C_GetMechanismInfo = C_GetMechanismInfo,
	.C_InitToken = x_InitToken,
	.C_InitPIN = x_InitPIN,
	.C_SetPIN = x_SetPIN,
	.C_OpenSession = C_OpenSession,
	.C_CloseSession = C_CloseSession,
	.C_CloseAllSessions = C_CloseAllSessions,
	.C_GetSessionInfo = C_GetSessionInfo,
	.C_GetOperationState = x_GetOperationState,
	.C_SetOperationState = x_SetOperationState,
	.C_Login = C_Login,
	.C_Logout = C_Logout,
	.C_CreateObject = C_CreateObject,
	.C_CopyObject = x_CopyObject,
	.C_DestroyObject = C_DestroyObject,
	.C_GetObjectSize = C_GetObjectSize,
	.C_GetAttributeValue = C_GetAttributeValue,
	.C_SetAttributeValue = C_SetAttributeValue,
	.C_FindObjectsInit = C_FindObjectsInit,
	.C_FindObjects = C_FindObjects,
	.C_FindObjectsFinal = C_FindObjectsFinal,
	.C_EncryptInit = x_EncryptInit,
	.C_Encrypt = x_Crypt,
	.C_EncryptUpdate = x_Crypt,
	.C_EncryptFinal = x_CryptFinal,
	.C_DecryptInit = C_DecryptInit,
	.C_Decrypt = C_Decrypt,
	.C_DecryptUpdate = C_DecryptUpdate,
	.C_DecryptFinal = C_DecryptFinal,
	.C_DigestInit = x_DigestInit,
	.C_Digest = x_Crypt,
	.C_DigestUpdate = x_Update,
	.C_DigestKey = x_DigestKey,
	.C_DigestFinal = x_CryptFinal,
	.C_SignInit = C_SignInit,
	.C_Sign = C_Sign,
	.C_SignUpdate = C_SignUpdate,
	.C_SignFinal = C_SignFinal,
	.C_SignRecoverInit = x_EncryptInit,
	.C_SignRecover = x_Crypt,
	.C_VerifyInit = x_EncryptInit,
	.C_Verify = x_Verify,
	.C_VerifyUpdate = x_Update,
	.C_VerifyFinal = x_VerifyFinal,
	.C_VerifyRecoverInit = x_EncryptInit,
	.C_VerifyRecover = x_Crypt,
	.C_DigestEncryptUpdate = x_Crypt,
	.C_DecryptDigestUpdate = x_Crypt,
	.C_SignEncryptUpdate = x_Crypt,
	.C_DecryptVerifyUpdate = x_Crypt,
	.C_GenerateKey = x_GenerateKey,
	.C_GenerateKeyPair = x_GenerateKeyPair,
	.C_WrapKey = x_WrapKey,
	.C_UnwrapKey = x_UnwrapKey,
	.C_DeriveKey = x_DeriveKey,
	.C_SeedRandom = x_SeedRandom,
	.C_GenerateRandom = x_GenerateRandom,
	.C_GetFunctionStatus = x_FunctionNotParallel,
	.C_CancelFunction = x_FunctionNotParallel,
	.C_WaitForSlotEvent = C_WaitForSlotEvent,
};

static CK_RV get_function_list(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	*list = &function_list;
	return CKR_OK;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	return get_function_list(list);
}
