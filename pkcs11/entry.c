/*
 * entry.c - the function list, C_GetFunctionList (the one exported symbol),
 * and the functions these tokens do not offer.
 */
#include "p11.h"

/* Token administration, PINs, and key operations other than signing and
 * decrypting with the Personal keys (keyops.c) have no meaning for a store
 * of certificates: verifying and encrypting need no secret, and consumers do
 * them in software with the public key. */
#define UNSUPPORTED(name, params)                                                          \
	static CK_RV name params                                                           \
	{                                                                                  \
		return p11_unsupported();                                                  \
	}

UNSUPPORTED(x_InitToken, (CK_SLOT_ID a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d))
UNSUPPORTED(x_InitPIN, (CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c))
UNSUPPORTED(x_SetPIN, (CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d,
		       CK_ULONG e))
UNSUPPORTED(x_GetOperationState, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c))
UNSUPPORTED(x_SetOperationState, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c,
				  CK_OBJECT_HANDLE d, CK_OBJECT_HANDLE e))
UNSUPPORTED(x_CopyObject, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c,
			   CK_ULONG d, CK_OBJECT_HANDLE_PTR e))
UNSUPPORTED(x_GetObjectSize, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ULONG_PTR c))
UNSUPPORTED(x_CryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c))
UNSUPPORTED(x_Crypt, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d,
		      CK_ULONG_PTR e))
UNSUPPORTED(x_CryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c))
UNSUPPORTED(x_DigestInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b))
UNSUPPORTED(x_Update, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c))
UNSUPPORTED(x_DigestKey, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b))
UNSUPPORTED(x_Verify, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d,
		       CK_ULONG e))
UNSUPPORTED(x_VerifyFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c))
UNSUPPORTED(x_GenerateKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c,
			    CK_ULONG d, CK_OBJECT_HANDLE_PTR e))
UNSUPPORTED(x_GenerateKeyPair, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c,
				CK_ULONG d, CK_ATTRIBUTE_PTR e, CK_ULONG f,
				CK_OBJECT_HANDLE_PTR g, CK_OBJECT_HANDLE_PTR h))
UNSUPPORTED(x_WrapKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c,
			CK_OBJECT_HANDLE d, CK_BYTE_PTR e, CK_ULONG_PTR f))
UNSUPPORTED(x_UnwrapKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c,
			  CK_BYTE_PTR d, CK_ULONG e, CK_ATTRIBUTE_PTR f, CK_ULONG g,
			  CK_OBJECT_HANDLE_PTR h))
UNSUPPORTED(x_DeriveKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c,
			  CK_ATTRIBUTE_PTR d, CK_ULONG e, CK_OBJECT_HANDLE_PTR f))
UNSUPPORTED(x_SeedRandom, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c))

static CK_RV x_FunctionNotParallel(CK_SESSION_HANDLE a)
{
	return CKR_FUNCTION_NOT_PARALLEL;
}

static CK_FUNCTION_LIST function_list = {
	.version = {CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR},
	.C_Initialize = C_Initialize,
	.C_Finalize = C_Finalize,
	.C_GetInfo = C_GetInfo,
	.C_GetFunctionList = C_GetFunctionList,
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
	.C_GetObjectSize = x_GetObjectSize,
	.C_GetAttributeValue = C_GetAttributeValue,
	.C_SetAttributeValue = C_SetAttributeValue,
	.C_FindObjectsInit = C_FindObjectsInit,
	.C_FindObjects = C_FindObjects,
	.C_FindObjectsFinal = C_FindObjectsFinal,
	.C_EncryptInit = x_CryptInit,
	.C_Encrypt = x_Crypt,
	.C_EncryptUpdate = x_Crypt,
	.C_EncryptFinal = x_CryptFinal,
	.C_DecryptInit = C_DecryptInit,
	.C_Decrypt = C_Decrypt,
	.C_DecryptUpdate = x_Crypt,
	.C_DecryptFinal = x_CryptFinal,
	.C_DigestInit = x_DigestInit,
	.C_Digest = x_Crypt,
	.C_DigestUpdate = x_Update,
	.C_DigestKey = x_DigestKey,
	.C_DigestFinal = x_CryptFinal,
	.C_SignInit = C_SignInit,
	.C_Sign = C_Sign,
	.C_SignUpdate = C_SignUpdate,
	.C_SignFinal = C_SignFinal,
	.C_SignRecoverInit = x_CryptInit,
	.C_SignRecover = x_Crypt,
	.C_VerifyInit = x_CryptInit,
	.C_Verify = x_Verify,
	.C_VerifyUpdate = x_Update,
	.C_VerifyFinal = x_VerifyFinal,
	.C_VerifyRecoverInit = x_CryptInit,
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
	.C_GenerateRandom = x_SeedRandom,
	.C_GetFunctionStatus = x_FunctionNotParallel,
	.C_CancelFunction = x_FunctionNotParallel,
	.C_WaitForSlotEvent = C_WaitForSlotEvent,
};

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	*list = &function_list;
	return CKR_OK;
}
