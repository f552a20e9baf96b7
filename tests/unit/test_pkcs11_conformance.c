/*
 * test_pkcs11_conformance.c - certstore-pkcs11.so against the text of
 * PKCS#11 2.40 (base specification, section 5): every function of the
 * function list with bad arguments, bad handles, the wrong session state,
 * short buffers and size queries, each return code checked against what
 * the standard says.  Each test is named after the clause it checks.
 *
 * The store holds one Personal certificate whose RSA key is in the store's
 * SoftHSM2 token, so that login, private objects and key operations are
 * the real ones.
 */
#include "testutil.h"
#include "p11util.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rsa.h>

#include <p11-kit/pkcs11.h>

#include "keys.h"

#define SLOT_MY 1
#define SLOT_ROOT 2
#define SLOT_BAD 99
#define BAD_SESSION ((CK_SESSION_HANDLE)0x7777)

static CK_FUNCTION_LIST *f;
static tu_cert root, leaf;
static tu_p11 p11;
static char pin[300];

static int group_setup(void **state)
{
	cs_cert_list l = {0};
	cs_import_opts o = {.store = CS_STORE_MY};
	cs_import_result res;
	cs_cert *row = NULL, *mine;
	cs_store *s = NULL;
	cs_token *tok = NULL;
	char *uri = NULL, pinpath[600];
	cs_err err = {0};
	FILE *pf;

	(void)state;
	tu_p11_open(&p11);
	f = p11.f;
	root = tu_make("Conformance Root", NULL, 1, -1, 365);
	leaf = tu_make("conformance.example", &root, 0, -1, 30);
	EVP_PKEY_free(leaf.key);
	leaf.key = EVP_RSA_gen(2048);
	assert_true(X509_set_pubkey(leaf.x509, leaf.key));
	assert_true(X509_sign(leaf.x509, root.key, EVP_sha256()) > 0);
	assert_int_equal(cs_store_open(p11.store_dir, CS_OPEN_CREATE, &s, NULL), CS_OK);
	if (cs_token_init_softhsm(p11.store_dir, &err) != CS_OK ||
	    cs_token_open_store(p11.store_dir, &tok, &err) != CS_OK)
		fail_msg("token: %s", err.msg);
	mine = tu_cs_cert(leaf.x509);
	assert_int_equal(cs_cert_list_push(&l, tu_cs_cert(leaf.x509), NULL), CS_OK);
	assert_int_equal(cs_import_certs(s, &l, &o, &res, NULL), CS_OK);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&l);
	assert_int_equal(cs_store_find_one(s, mine->sha1, NULL, &row, NULL, NULL), CS_OK);
	if (cs_key_import(tok, leaf.key, NULL, false, &uri, &err) != CS_OK)
		fail_msg("cs_key_import: %s", err.msg);
	assert_int_equal(cs_store_set_key(s, row, uri, false, NULL), CS_OK);
	free(uri);
	cs_cert_free(row);
	cs_cert_free(mine);
	cs_token_close(tok);
	cs_store_close(s);
	snprintf(pinpath, sizeof(pinpath), "%s/pin", p11.store_dir);
	pf = fopen(pinpath, "r");
	assert_non_null(pf);
	assert_non_null(fgets(pin, sizeof(pin), pf));
	fclose(pf);
	pin[strcspn(pin, "\r\n")] = '\0';
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	OPENSSL_cleanse(pin, sizeof(pin));
	tu_free(&leaf);
	tu_free(&root);
	tu_p11_close(&p11);
	return 0;
}

static CK_SESSION_HANDLE open_ro(CK_SLOT_ID slot)
{
	CK_SESSION_HANDLE h = 0;

	assert_int_equal(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_OK);
	return h;
}

static CK_RV login(CK_SESSION_HANDLE h)
{
	return f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
}

static CK_ULONG find_class(CK_SESSION_HANDLE h, CK_OBJECT_CLASS klass, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t = {CKA_CLASS, &klass, sizeof(klass)};
	CK_ULONG n = 0;

	assert_int_equal(f->C_FindObjectsInit(h, &t, 1), CKR_OK);
	assert_int_equal(f->C_FindObjects(h, out, 8, &n), CKR_OK);
	assert_int_equal(f->C_FindObjectsFinal(h), CKR_OK);
	return n;
}

static CK_OBJECT_HANDLE private_key(CK_SESSION_HANDLE h)
{
	CK_OBJECT_HANDLE k[8];

	assert_int_equal(find_class(h, CKO_PRIVATE_KEY, k), 1);
	return k[0];
}

/* ---- 5.4 general-purpose functions ----------------------------------------- */

/* "pReserved: reserved for future use; must be NULL_PTR" - whatever it
 * points at, and it may point nowhere. */
static void test_5_4_C_Initialize_pReserved_that_is_no_string_is_ARGUMENTS_BAD(void **state)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	CK_ULONG not_a_string[4] = {1, 2, 3, 4};
	char *page;
	long psz = sysconf(_SC_PAGESIZE);

	(void)state;
	args.pReserved = (void *)1;
	assert_int_equal(f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	args.pReserved = (void *)(uintptr_t)-4096;
	assert_int_equal(f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	args.pReserved = not_a_string;
	assert_int_equal(f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	args.pReserved = "verbose=yes";
	assert_int_equal(f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	/* a string that runs into an unmapped page without its NUL */
	page = mmap(NULL, (size_t)psz * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		    0);
	assert_true(page != MAP_FAILED);
	assert_int_equal(munmap(page + psz, (size_t)psz), 0);
	memset(page, 'x', (size_t)psz);
	memcpy(page, "store=", 6);
	args.pReserved = page;
	assert_int_equal(f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	munmap(page, (size_t)psz);
	/* nothing of the refusals stayed: a plain initialisation works */
	assert_int_equal(f->C_Initialize(NULL), CKR_OK);
	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
}

/* What some container seccomp profiles do: process_vm_readv is EPERM. */
static int deny_process_vm_readv(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_readv, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(filter) / sizeof(filter[0]), filter};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* The same answers where the module cannot use process_vm_readv to check
 * the pointer (in a child, which keeps the filter to itself). */
static void test_5_4_C_Initialize_pReserved_checked_without_process_vm_readv(void **state)
{
	int status = -1;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
		char c;
		struct iovec l = {&c, 1}, r = {p11.reserved, 1};

		if (deny_process_vm_readv() != 0)
			_exit(10);
		if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) != -1 || errno != EPERM)
			_exit(11); /* the filter did not take */
		args.pReserved = (void *)1;
		if (f->C_Initialize(&args) != CKR_ARGUMENTS_BAD)
			_exit(12);
		args.pReserved = p11.reserved;
		if (f->C_Initialize(&args) != CKR_OK)
			_exit(13);
		_exit(f->C_Finalize(NULL) == CKR_OK ? 0 : 14);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* p11-kit's x-init-reserved convention keeps working. */
static void test_5_4_C_Initialize_p11kit_store_option_is_accepted(void **state)
{
	char opts[700];
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK, .pReserved = opts};
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE o[8];

	(void)state;
	snprintf(opts, sizeof(opts), "%s verbose=yes", p11.reserved);
	assert_int_equal(f->C_Initialize(&args), CKR_OK);
	h = open_ro(SLOT_MY);
	assert_int_equal(find_class(h, CKO_CERTIFICATE, o), 1);
	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
}

static void test_5_4_C_Initialize_some_mutex_functions_is_ARGUMENTS_BAD(void **state)
{
	CK_C_INITIALIZE_ARGS args = {.CreateMutex = (CK_CREATEMUTEX)1};

	(void)state;
	assert_int_equal(f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
}

static void test_5_4_C_Initialize_twice_is_ALREADY_INITIALIZED(void **state)
{
	(void)state;
	assert_int_equal(f->C_Initialize(NULL), CKR_OK);
	assert_int_equal(f->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
}

static void test_5_4_C_Finalize_pReserved_not_NULL_is_ARGUMENTS_BAD(void **state)
{
	(void)state;
	assert_int_equal(f->C_Initialize(NULL), CKR_OK);
	assert_int_equal(f->C_Finalize((void *)1), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
	assert_int_equal(f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static void test_5_4_C_GetInfo_and_C_GetFunctionList_NULL_is_ARGUMENTS_BAD(void **state)
{
	CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR) = f->C_GetFunctionList;

	(void)state;
	assert_int_equal(get(NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_GetInfo(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(f->C_Initialize(NULL), CKR_OK);
	assert_int_equal(f->C_GetInfo(NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_Finalize(NULL), CKR_OK);
}

/* 5.1/5.4: before C_Initialize every function but C_Initialize and
 * C_GetFunctionList answers CKR_CRYPTOKI_NOT_INITIALIZED; with a session
 * handle that names none, every session function answers
 * CKR_SESSION_HANDLE_INVALID (none may crash on the NULLs passed along). */
static CK_RV call_each(int i, CK_SESSION_HANDLE h)
{
	CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
	CK_ULONG n = 0;

	switch (i) {
	case 0:
		return f->C_GetSessionInfo(h, NULL);
	case 1:
		return f->C_GetOperationState(h, NULL, &n);
	case 2:
		return f->C_SetOperationState(h, NULL, 0, 0, 0);
	case 3:
		return f->C_Login(h, CKU_USER, NULL, 0);
	case 4:
		return f->C_Logout(h);
	case 5:
		return f->C_CreateObject(h, NULL, 0, NULL);
	case 6:
		return f->C_CopyObject(h, 1, NULL, 0, NULL);
	case 7:
		return f->C_DestroyObject(h, 1);
	case 8:
		return f->C_GetObjectSize(h, 1, NULL);
	case 9:
		return f->C_GetAttributeValue(h, 1, NULL, 0);
	case 10:
		return f->C_SetAttributeValue(h, 1, NULL, 0);
	case 11:
		return f->C_FindObjectsInit(h, NULL, 0);
	case 12:
		return f->C_FindObjects(h, NULL, 0, NULL);
	case 13:
		return f->C_FindObjectsFinal(h);
	case 14:
		return f->C_EncryptInit(h, &m, 1);
	case 15:
		return f->C_Encrypt(h, NULL, 0, NULL, NULL);
	case 16:
		return f->C_EncryptUpdate(h, NULL, 0, NULL, NULL);
	case 17:
		return f->C_EncryptFinal(h, NULL, NULL);
	case 18:
		return f->C_DecryptInit(h, &m, 1);
	case 19:
		return f->C_Decrypt(h, NULL, 0, NULL, NULL);
	case 20:
		return f->C_DecryptUpdate(h, NULL, 0, NULL, NULL);
	case 21:
		return f->C_DecryptFinal(h, NULL, NULL);
	case 22:
		return f->C_DigestInit(h, &m);
	case 23:
		return f->C_Digest(h, NULL, 0, NULL, NULL);
	case 24:
		return f->C_DigestUpdate(h, NULL, 0);
	case 25:
		return f->C_DigestKey(h, 1);
	case 26:
		return f->C_DigestFinal(h, NULL, NULL);
	case 27:
		return f->C_SignInit(h, &m, 1);
	case 28:
		return f->C_Sign(h, NULL, 0, NULL, NULL);
	case 29:
		return f->C_SignUpdate(h, NULL, 0);
	case 30:
		return f->C_SignFinal(h, NULL, NULL);
	case 31:
		return f->C_SignRecoverInit(h, &m, 1);
	case 32:
		return f->C_SignRecover(h, NULL, 0, NULL, NULL);
	case 33:
		return f->C_VerifyInit(h, &m, 1);
	case 34:
		return f->C_Verify(h, NULL, 0, NULL, 0);
	case 35:
		return f->C_VerifyUpdate(h, NULL, 0);
	case 36:
		return f->C_VerifyFinal(h, NULL, 0);
	case 37:
		return f->C_VerifyRecoverInit(h, &m, 1);
	case 38:
		return f->C_VerifyRecover(h, NULL, 0, NULL, NULL);
	case 39:
		return f->C_DigestEncryptUpdate(h, NULL, 0, NULL, NULL);
	case 40:
		return f->C_DecryptDigestUpdate(h, NULL, 0, NULL, NULL);
	case 41:
		return f->C_SignEncryptUpdate(h, NULL, 0, NULL, NULL);
	case 42:
		return f->C_DecryptVerifyUpdate(h, NULL, 0, NULL, NULL);
	case 43:
		return f->C_GenerateKey(h, &m, NULL, 0, NULL);
	case 44:
		return f->C_GenerateKeyPair(h, &m, NULL, 0, NULL, 0, NULL, NULL);
	case 45:
		return f->C_WrapKey(h, &m, 1, 1, NULL, NULL);
	case 46:
		return f->C_UnwrapKey(h, &m, 1, NULL, 0, NULL, 0, NULL);
	case 47:
		return f->C_DeriveKey(h, &m, 1, NULL, 0, NULL);
	case 48:
		return f->C_SeedRandom(h, NULL, 0);
	case 49:
		return f->C_GenerateRandom(h, NULL, 0);
	case 50:
		return f->C_GetFunctionStatus(h);
	case 51:
		return f->C_CancelFunction(h);
	case 52:
		return f->C_InitPIN(h, NULL, 0);
	case 53:
		return f->C_SetPIN(h, NULL, 0, NULL, 0);
	case 54:
		return f->C_CloseSession(h);
	default:
		return (CK_RV)-1;
	}
}

#define N_SESSION_FUNCTIONS 55

static void test_5_4_every_function_before_C_Initialize_is_NOT_INITIALIZED(void **state)
{
	CK_ULONG n = 0;
	CK_SESSION_HANDLE h = 0;

	(void)state;
	for (int i = 0; i < N_SESSION_FUNCTIONS; i++)
		if (call_each(i, 1) != CKR_CRYPTOKI_NOT_INITIALIZED)
			fail_msg("session function %d: 0x%lx", i, (unsigned long)call_each(i, 1));
	assert_int_equal(f->C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(f->C_OpenSession(SLOT_MY, CKF_SERIAL_SESSION, NULL, NULL, &h),
			 CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(f->C_InitToken(SLOT_MY, NULL, 0, NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static void
test_5_1_every_session_function_with_a_bad_handle_is_SESSION_HANDLE_INVALID(void **state)
{
	CK_RV rv;

	(void)state;
	for (int i = 0; i < N_SESSION_FUNCTIONS; i++) {
		rv = call_each(i, BAD_SESSION);
		if (rv != CKR_SESSION_HANDLE_INVALID)
			fail_msg("session function %d: 0x%lx", i, (unsigned long)rv);
	}
}

/* ---- 5.5 slot and token management ----------------------------------------- */

/* 5.2: a NULL buffer asks for the size; a short one is BUFFER_TOO_SMALL
 * with the size. */
static void test_5_5_C_GetSlotList_size_query_and_BUFFER_TOO_SMALL(void **state)
{
	CK_SLOT_ID list[8];
	CK_ULONG n = 0;

	(void)state;
	assert_int_equal(f->C_GetSlotList(CK_FALSE, NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	assert_int_equal(n, 4);
	n = 1;
	assert_int_equal(f->C_GetSlotList(CK_TRUE, list, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 4);
	assert_int_equal(f->C_GetSlotList(CK_TRUE, list, &n), CKR_OK);
}

static void test_5_5_bad_slot_is_SLOT_ID_INVALID(void **state)
{
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_MECHANISM_INFO mi;
	CK_ULONG n = 0;
	CK_SESSION_HANDLE h;

	(void)state;
	assert_int_equal(f->C_GetSlotInfo(SLOT_BAD, &si), CKR_SLOT_ID_INVALID);
	assert_int_equal(f->C_GetTokenInfo(SLOT_BAD, &ti), CKR_SLOT_ID_INVALID);
	assert_int_equal(f->C_GetMechanismList(SLOT_BAD, NULL, &n), CKR_SLOT_ID_INVALID);
	assert_int_equal(f->C_GetMechanismInfo(SLOT_BAD, CKM_RSA_PKCS, &mi), CKR_SLOT_ID_INVALID);
	assert_int_equal(f->C_OpenSession(SLOT_BAD, CKF_SERIAL_SESSION, NULL, NULL, &h),
			 CKR_SLOT_ID_INVALID);
	assert_int_equal(f->C_CloseAllSessions(SLOT_BAD), CKR_SLOT_ID_INVALID);
	assert_int_equal(f->C_InitToken(SLOT_BAD, NULL, 0, NULL), CKR_SLOT_ID_INVALID);
	assert_int_equal(f->C_GetSlotInfo(SLOT_MY, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_GetTokenInfo(SLOT_MY, NULL), CKR_ARGUMENTS_BAD);
}

/* The flags say what the token does: an RNG, login for Personal's keys,
 * write protection where no read-write session opens. */
static void test_5_5_C_GetTokenInfo_flags_match_behaviour(void **state)
{
	CK_TOKEN_INFO ti;
	CK_SESSION_HANDLE h;

	(void)state;
	assert_int_equal(f->C_GetTokenInfo(SLOT_MY, &ti), CKR_OK);
	assert_true(ti.flags & CKF_RNG);
	assert_true(ti.flags & CKF_LOGIN_REQUIRED);
	assert_true(ti.flags & CKF_USER_PIN_INITIALIZED);
	assert_true(ti.flags & CKF_WRITE_PROTECTED);
	assert_int_equal(
		f->C_OpenSession(SLOT_MY, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h),
		CKR_TOKEN_WRITE_PROTECTED);
	assert_int_equal(f->C_GetTokenInfo(SLOT_ROOT, &ti), CKR_OK);
	assert_false(ti.flags & CKF_LOGIN_REQUIRED);
	assert_int_equal(
		f->C_OpenSession(SLOT_ROOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h),
		(ti.flags & CKF_WRITE_PROTECTED) ? CKR_TOKEN_WRITE_PROTECTED : CKR_OK);
}

static void test_5_5_C_GetMechanismList_size_query_and_BUFFER_TOO_SMALL(void **state)
{
	CK_MECHANISM_TYPE list[64];
	CK_MECHANISM_INFO mi;
	CK_ULONG n = 0, want;

	(void)state;
	assert_int_equal(f->C_GetMechanismList(SLOT_MY, NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_GetMechanismList(SLOT_MY, NULL, &n), CKR_OK);
	assert_true(n > 1 && n <= 64);
	want = n;
	n = 1;
	assert_int_equal(f->C_GetMechanismList(SLOT_MY, list, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, want);
	assert_int_equal(f->C_GetMechanismInfo(SLOT_MY, CKM_SHA256, &mi), CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_GetMechanismInfo(SLOT_ROOT, CKM_RSA_PKCS, &mi),
			 CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_GetMechanismInfo(SLOT_MY, CKM_RSA_PKCS, NULL), CKR_ARGUMENTS_BAD);
}

/* ---- 5.6 session management ------------------------------------------------ */

static void test_5_6_C_OpenSession_without_SERIAL_is_PARALLEL_NOT_SUPPORTED(void **state)
{
	CK_SESSION_HANDLE h;

	(void)state;
	assert_int_equal(f->C_OpenSession(SLOT_MY, 0, NULL, NULL, &h),
			 CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	assert_int_equal(f->C_OpenSession(SLOT_MY, CKF_SERIAL_SESSION, NULL, NULL, NULL),
			 CKR_ARGUMENTS_BAD);
}

static void test_5_6_C_Login_bad_user_type_is_USER_TYPE_INVALID(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);

	(void)state;
	assert_int_equal(f->C_Login(h, 99, (CK_UTF8CHAR_PTR)pin, strlen(pin)),
			 CKR_USER_TYPE_INVALID);
}

static void test_5_6_C_Login_wrong_PIN_is_PIN_INCORRECT(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);
	CK_SESSION_INFO si;

	(void)state;
	assert_int_equal(f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR) "0000", 4), CKR_PIN_INCORRECT);
	assert_int_equal(f->C_Login(h, CKU_USER, NULL, 4), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_GetSessionInfo(h, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RO_PUBLIC_SESSION);
}

static void test_5_6_C_Login_SO_with_a_read_only_session_is_SESSION_READ_ONLY_EXISTS(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);

	(void)state;
	assert_int_equal(f->C_Login(h, CKU_SO, (CK_UTF8CHAR_PTR)pin, strlen(pin)),
			 CKR_SESSION_READ_ONLY_EXISTS);
}

/* Session states (5.6, table of states) follow the login of the token,
 * for every session of it. */
static void test_5_6_C_Login_and_C_Logout_change_every_sessions_state(void **state)
{
	CK_SESSION_HANDLE a = open_ro(SLOT_MY), b = open_ro(SLOT_MY);
	CK_SESSION_INFO si;

	(void)state;
	assert_int_equal(f->C_GetSessionInfo(b, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RO_PUBLIC_SESSION);
	assert_int_equal(login(a), CKR_OK);
	assert_int_equal(f->C_GetSessionInfo(b, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RO_USER_FUNCTIONS);
	assert_int_equal(login(b), CKR_USER_ALREADY_LOGGED_IN);
	assert_int_equal(f->C_Login(b, CKU_SO, (CK_UTF8CHAR_PTR)pin, strlen(pin)),
			 CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
	assert_int_equal(f->C_Logout(b), CKR_OK);
	assert_int_equal(f->C_GetSessionInfo(a, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RO_PUBLIC_SESSION);
	assert_int_equal(f->C_Logout(a), CKR_USER_NOT_LOGGED_IN);
}

static void test_5_6_closing_the_last_session_logs_out(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);
	CK_SESSION_INFO si;

	(void)state;
	assert_int_equal(login(h), CKR_OK);
	assert_int_equal(f->C_CloseSession(h), CKR_OK);
	assert_int_equal(f->C_CloseSession(h), CKR_SESSION_HANDLE_INVALID);
	h = open_ro(SLOT_MY);
	assert_int_equal(f->C_GetSessionInfo(h, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RO_PUBLIC_SESSION);
	assert_int_equal(login(h), CKR_OK);
	assert_int_equal(f->C_CloseAllSessions(SLOT_MY), CKR_OK);
	h = open_ro(SLOT_MY);
	assert_int_equal(f->C_Logout(h), CKR_USER_NOT_LOGGED_IN);
}

static void test_5_6_C_Login_on_a_token_without_PIN_is_USER_PIN_NOT_INITIALIZED(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_ROOT);

	(void)state;
	assert_int_equal(login(h), CKR_USER_PIN_NOT_INITIALIZED);
	assert_int_equal(f->C_Logout(h), CKR_USER_NOT_LOGGED_IN);
}

static void
test_5_6_C_Login_CONTEXT_SPECIFIC_without_operation_is_OPERATION_NOT_INITIALIZED(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);

	(void)state;
	assert_int_equal(f->C_Login(h, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)pin, strlen(pin)),
			 CKR_OPERATION_NOT_INITIALIZED);
}

static void
test_5_6_C_GetOperationState_without_operation_is_OPERATION_NOT_INITIALIZED(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);
	CK_ULONG n = 0;

	(void)state;
	assert_int_equal(f->C_GetOperationState(h, NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_GetOperationState(h, NULL, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_GetSessionInfo(h, NULL), CKR_ARGUMENTS_BAD);
}

/* ---- 5.7 object management ------------------------------------------------- */

static void test_5_7_private_objects_only_for_the_logged_in_user(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);
	CK_OBJECT_HANDLE o[8], key;
	CK_BBOOL priv = CK_FALSE;
	CK_ATTRIBUTE t = {CKA_PRIVATE, &priv, sizeof(priv)};

	(void)state;
	assert_int_equal(find_class(h, CKO_PRIVATE_KEY, o), 0);
	assert_int_equal(find_class(h, CKO_PUBLIC_KEY, o), 1);
	assert_int_equal(login(h), CKR_OK);
	key = private_key(h);
	assert_int_equal(f->C_GetAttributeValue(h, key, &t, 1), CKR_OK);
	assert_true(priv);
	assert_int_equal(f->C_Logout(h), CKR_OK);
	/* a handle kept from before is no way around it */
	assert_int_equal(f->C_GetAttributeValue(h, key, &t, 1), CKR_OBJECT_HANDLE_INVALID);
}

static void test_5_7_C_GetAttributeValue_size_query_and_BUFFER_TOO_SMALL(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);
	CK_OBJECT_HANDLE o[8];
	unsigned char small[4];
	CK_ATTRIBUTE t = {CKA_VALUE, NULL, 0};

	(void)state;
	assert_int_equal(find_class(h, CKO_CERTIFICATE, o), 1);
	assert_int_equal(f->C_GetAttributeValue(h, o[0], NULL, 1), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_GetAttributeValue(h, o[0], &t, 1), CKR_OK);
	assert_true(t.ulValueLen > sizeof(small));
	t.pValue = small;
	t.ulValueLen = sizeof(small);
	assert_int_equal(f->C_GetAttributeValue(h, o[0], &t, 1), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(f->C_GetAttributeValue(h, 0x12345, &t, 1), CKR_OBJECT_HANDLE_INVALID);
}

static void test_5_7_C_GetObjectSize_answers_for_objects_and_refuses_bad_handles(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);
	CK_OBJECT_HANDLE o[8];
	CK_ULONG size = 0;

	(void)state;
	assert_int_equal(find_class(h, CKO_CERTIFICATE, o), 1);
	assert_int_equal(f->C_GetObjectSize(h, o[0], NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_GetObjectSize(h, 0x12345, &size), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(f->C_GetObjectSize(h, o[0], &size), CKR_OK);
	assert_true(size > 0 && size != CK_UNAVAILABLE_INFORMATION);
}

static void test_5_7_find_needs_its_Init_once(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);
	CK_OBJECT_HANDLE o[8];
	CK_ULONG n;

	(void)state;
	assert_int_equal(f->C_FindObjects(h, o, 8, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_FindObjectsFinal(h), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_FindObjectsInit(h, NULL, 1), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_FindObjectsInit(h, NULL, 0), CKR_OK);
	assert_int_equal(f->C_FindObjectsInit(h, NULL, 0), CKR_OPERATION_ACTIVE);
	assert_int_equal(f->C_FindObjects(h, NULL, 8, &n), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_FindObjectsFinal(h), CKR_OK);
}

static void test_5_7_writes_in_a_read_only_session_are_SESSION_READ_ONLY(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_ROOT);
	CK_OBJECT_CLASS c = CKO_CERTIFICATE;
	CK_ATTRIBUTE t = {CKA_CLASS, &c, sizeof(c)};
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_int_equal(f->C_CreateObject(h, &t, 1, &o), CKR_SESSION_READ_ONLY);
	assert_int_equal(f->C_DestroyObject(h, 0x12345), CKR_SESSION_READ_ONLY);
	assert_int_equal(f->C_SetAttributeValue(h, 0x12345, &t, 1), CKR_SESSION_READ_ONLY);
}

static void test_5_7_C_CopyObject_of_an_uncopyable_object_is_ACTION_PROHIBITED(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);
	CK_OBJECT_HANDLE o[8], copy;

	(void)state;
	assert_int_equal(find_class(h, CKO_CERTIFICATE, o), 1);
	assert_int_equal(f->C_CopyObject(h, o[0], NULL, 0, &copy), CKR_ACTION_PROHIBITED);
	assert_int_equal(f->C_CopyObject(h, 0x12345, NULL, 0, &copy), CKR_OBJECT_HANDLE_INVALID);
}

/* ---- 5.8 - 5.14: operations ------------------------------------------------- */

/* No mechanism offers encrypting, digesting, verifying, recovering or key
 * management: CKR_MECHANISM_INVALID at Init, and nothing to continue. */
static void test_5_8_to_5_14_operations_no_mechanism_offers_are_MECHANISM_INVALID(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);
	CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
	CK_OBJECT_HANDLE pub[8], k;
	unsigned char buf[512];
	CK_ULONG n = sizeof(buf);

	(void)state;
	assert_int_equal(login(h), CKR_OK);
	assert_int_equal(find_class(h, CKO_PUBLIC_KEY, pub), 1);
	assert_int_equal(f->C_EncryptInit(h, &m, pub[0]), CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_EncryptInit(h, NULL, pub[0]), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_Encrypt(h, buf, 1, buf, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_EncryptUpdate(h, buf, 1, buf, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_EncryptFinal(h, buf, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_VerifyInit(h, &m, pub[0]), CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_Verify(h, buf, 1, buf, 1), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_VerifyUpdate(h, buf, 1), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_VerifyFinal(h, buf, 1), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_VerifyRecoverInit(h, &m, pub[0]), CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_VerifyRecover(h, buf, 1, buf, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_SignRecoverInit(h, &m, private_key(h)), CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_SignRecover(h, buf, 1, buf, &n), CKR_OPERATION_NOT_INITIALIZED);
	m.mechanism = CKM_SHA256;
	assert_int_equal(f->C_DigestInit(h, &m), CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_Digest(h, buf, 1, buf, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_DigestKey(h, pub[0]), CKR_OPERATION_NOT_INITIALIZED);
	m.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
	assert_int_equal(f->C_GenerateKey(h, &m, NULL, 0, &k), CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_GenerateKeyPair(h, &m, NULL, 0, NULL, 0, &k, &k),
			 CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_WrapKey(h, &m, pub[0], pub[0], buf, &n), CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_UnwrapKey(h, &m, pub[0], buf, 1, NULL, 0, &k), CKR_MECHANISM_INVALID);
	assert_int_equal(f->C_DeriveKey(h, &m, pub[0], NULL, 0, &k), CKR_MECHANISM_INVALID);
}

static void test_5_9_C_DecryptUpdate_and_C_DecryptFinal_decrypt_one_block(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);
	CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
	unsigned char secret[32] = "a secret of thirty-two bytes....", ct[512], out[512];
	size_t ctlen = sizeof(ct);
	CK_ULONG n;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(leaf.key, NULL);

	(void)state;
	assert_int_equal(EVP_PKEY_encrypt_init(c), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0);
	assert_int_equal(EVP_PKEY_encrypt(c, ct, &ctlen, secret, sizeof(secret)), 1);
	EVP_PKEY_CTX_free(c);
	assert_int_equal(login(h), CKR_OK);
	assert_int_equal(f->C_DecryptInit(h, &m, private_key(h)), CKR_OK);
	n = sizeof(out);
	assert_int_equal(f->C_DecryptUpdate(h, ct, 100, out, &n), CKR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(f->C_DecryptUpdate(h, ct + 100, ctlen - 100, out, &n), CKR_OK);
	/* size query, short buffer, then the answer */
	assert_int_equal(f->C_DecryptFinal(h, NULL, &n), CKR_OK);
	assert_true(n >= sizeof(secret));
	n = 4;
	assert_int_equal(f->C_DecryptFinal(h, out, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, sizeof(secret));
	assert_int_equal(f->C_DecryptFinal(h, out, &n), CKR_OK);
	assert_memory_equal(out, secret, sizeof(secret));
	assert_int_equal(f->C_DecryptFinal(h, out, &n), CKR_OPERATION_NOT_INITIALIZED);
}

static void test_5_11_C_SignInit_before_login_is_USER_NOT_LOGGED_IN(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_OBJECT_HANDLE key;

	(void)state;
	assert_int_equal(login(h), CKR_OK);
	key = private_key(h);
	assert_int_equal(f->C_Logout(h), CKR_OK);
	assert_int_equal(f->C_SignInit(h, &m, key), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(f->C_DecryptInit(h, &m, key), CKR_USER_NOT_LOGGED_IN);
}

static void test_5_11_C_Sign_size_query_BUFFER_TOO_SMALL_then_signature(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	unsigned char msg[] = "conformance", sig[512];
	CK_ULONG n = 0;

	(void)state;
	assert_int_equal(login(h), CKR_OK);
	assert_int_equal(f->C_Sign(h, msg, sizeof(msg), sig, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_SignInit(h, &m, private_key(h)), CKR_OK);
	assert_int_equal(f->C_SignInit(h, &m, private_key(h)), CKR_OPERATION_ACTIVE);
	assert_int_equal(f->C_Sign(h, msg, sizeof(msg), NULL, &n), CKR_OK);
	assert_int_equal(n, 256);
	n = 8;
	assert_int_equal(f->C_Sign(h, msg, sizeof(msg), sig, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 256);
	assert_int_equal(f->C_Sign(h, msg, sizeof(msg), sig, &n), CKR_OK);
	assert_int_equal(f->C_Sign(h, msg, sizeof(msg), sig, &n), CKR_OPERATION_NOT_INITIALIZED);
}

/* "C_Sign cannot be used to terminate a multi-part operation" */
static void test_5_11_C_Sign_after_C_SignUpdate_is_refused_and_ends_it(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_MY);
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	unsigned char msg[] = "conformance", sig[512];
	CK_ULONG n = sizeof(sig);

	(void)state;
	assert_int_equal(login(h), CKR_OK);
	assert_int_equal(f->C_SignInit(h, &m, private_key(h)), CKR_OK);
	assert_int_equal(f->C_SignUpdate(h, msg, 4), CKR_OK);
	assert_int_equal(f->C_Sign(h, msg, sizeof(msg), sig, &n), CKR_OPERATION_ACTIVE);
	assert_int_equal(f->C_SignFinal(h, sig, &n), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(f->C_SignInit(h, &m, private_key(h)), CKR_OK);
	assert_int_equal(f->C_SignUpdate(h, msg, 4), CKR_OK);
	assert_int_equal(f->C_SignUpdate(h, msg + 4, sizeof(msg) - 4), CKR_OK);
	assert_int_equal(f->C_SignFinal(h, sig, &n), CKR_OK);
	assert_int_equal(n, 256);
}

/* ---- 5.15 random numbers, 5.16 parallel functions ---------------------------- */

static void
test_5_15_C_GenerateRandom_fills_and_C_SeedRandom_is_RANDOM_SEED_NOT_SUPPORTED(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_ROOT);
	unsigned char a[32] = {0}, b[32] = {0}, zero[32] = {0};

	(void)state;
	assert_int_equal(f->C_GenerateRandom(h, NULL, 32), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_GenerateRandom(h, a, sizeof(a)), CKR_OK);
	assert_int_equal(f->C_GenerateRandom(h, b, sizeof(b)), CKR_OK);
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(f->C_SeedRandom(h, NULL, 4), CKR_ARGUMENTS_BAD);
	assert_int_equal(f->C_SeedRandom(h, a, sizeof(a)), CKR_RANDOM_SEED_NOT_SUPPORTED);
}

static void test_5_16_C_GetFunctionStatus_is_FUNCTION_NOT_PARALLEL(void **state)
{
	CK_SESSION_HANDLE h = open_ro(SLOT_ROOT);

	(void)state;
	assert_int_equal(f->C_GetFunctionStatus(h), CKR_FUNCTION_NOT_PARALLEL);
	assert_int_equal(f->C_CancelFunction(h), CKR_FUNCTION_NOT_PARALLEL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, tu_p11_initialize, tu_p11_finalize)
#define BARE(name) cmocka_unit_test(name)
	const struct CMUnitTest tests[] = {
		BARE(test_5_4_C_Initialize_pReserved_that_is_no_string_is_ARGUMENTS_BAD),
		BARE(test_5_4_C_Initialize_pReserved_checked_without_process_vm_readv),
		BARE(test_5_4_C_Initialize_p11kit_store_option_is_accepted),
		BARE(test_5_4_C_Initialize_some_mutex_functions_is_ARGUMENTS_BAD),
		BARE(test_5_4_C_Initialize_twice_is_ALREADY_INITIALIZED),
		BARE(test_5_4_C_Finalize_pReserved_not_NULL_is_ARGUMENTS_BAD),
		BARE(test_5_4_C_GetInfo_and_C_GetFunctionList_NULL_is_ARGUMENTS_BAD),
		BARE(test_5_4_every_function_before_C_Initialize_is_NOT_INITIALIZED),
		T(test_5_1_every_session_function_with_a_bad_handle_is_SESSION_HANDLE_INVALID),
		T(test_5_5_C_GetSlotList_size_query_and_BUFFER_TOO_SMALL),
		T(test_5_5_bad_slot_is_SLOT_ID_INVALID),
		T(test_5_5_C_GetTokenInfo_flags_match_behaviour),
		T(test_5_5_C_GetMechanismList_size_query_and_BUFFER_TOO_SMALL),
		T(test_5_6_C_OpenSession_without_SERIAL_is_PARALLEL_NOT_SUPPORTED),
		T(test_5_6_C_Login_bad_user_type_is_USER_TYPE_INVALID),
		T(test_5_6_C_Login_wrong_PIN_is_PIN_INCORRECT),
		T(test_5_6_C_Login_SO_with_a_read_only_session_is_SESSION_READ_ONLY_EXISTS),
		T(test_5_6_C_Login_and_C_Logout_change_every_sessions_state),
		T(test_5_6_closing_the_last_session_logs_out),
		T(test_5_6_C_Login_on_a_token_without_PIN_is_USER_PIN_NOT_INITIALIZED),
		T(test_5_6_C_Login_CONTEXT_SPECIFIC_without_operation_is_OPERATION_NOT_INITIALIZED),
		T(test_5_6_C_GetOperationState_without_operation_is_OPERATION_NOT_INITIALIZED),
		T(test_5_7_private_objects_only_for_the_logged_in_user),
		T(test_5_7_C_GetAttributeValue_size_query_and_BUFFER_TOO_SMALL),
		T(test_5_7_C_GetObjectSize_answers_for_objects_and_refuses_bad_handles),
		T(test_5_7_find_needs_its_Init_once),
		T(test_5_7_writes_in_a_read_only_session_are_SESSION_READ_ONLY),
		T(test_5_7_C_CopyObject_of_an_uncopyable_object_is_ACTION_PROHIBITED),
		T(test_5_8_to_5_14_operations_no_mechanism_offers_are_MECHANISM_INVALID),
		T(test_5_9_C_DecryptUpdate_and_C_DecryptFinal_decrypt_one_block),
		T(test_5_11_C_SignInit_before_login_is_USER_NOT_LOGGED_IN),
		T(test_5_11_C_Sign_size_query_BUFFER_TOO_SMALL_then_signature),
		T(test_5_11_C_Sign_after_C_SignUpdate_is_refused_and_ends_it),
		T(test_5_15_C_GenerateRandom_fills_and_C_SeedRandom_is_RANDOM_SEED_NOT_SUPPORTED),
		T(test_5_16_C_GetFunctionStatus_is_FUNCTION_NOT_PARALLEL),
	};
#undef T
#undef BARE

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
