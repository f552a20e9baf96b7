/*
 * module.c - the PKCS#11 entry points of certstore-pkcs11.so: argument and
 * state checks, the module lock, fork detection and the module's own OpenSSL
 * library context; the work is done in the other files of pkcs11/.
 *
 * Threads: one mutex around every call (CKF_OS_LOCKING_OK; application
 * supplied mutex functions without that flag are refused with CKR_CANT_LOCK),
 * except while the HSM signs or decrypts: the operation is taken out of its
 * session and the mutex released, so threads sign at once (a TLS server's
 * handshakes) and other calls go on meanwhile; C_Finalize waits for those
 * operations to end.
 * fork(): a child keeps its sessions and handles (they name rows, not HSM
 * state) but never touches the parent's SQLite connection; it opens its own.
 * A child may also call C_Initialize again, as PKCS#11 says it should.
 * OpenSSL: inside every call the thread's default library context is the
 * module's own, holding only the default provider, so nothing the module or
 * libcertstore fetches can reach a provider loaded from openssl.cnf (such as
 * certstore's own, which would call back into PKCS#11).
 */
#include "p11.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hsm_idle = PTHREAD_COND_INITIALIZER;
static unsigned in_hsm; /* HSM operations running with the lock released */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static bool initialized;
static pid_t init_pid;
static OSSL_LIB_CTX *libctx;
static OSSL_PROVIDER *default_provider;
/* the calling thread's default library context, restored on return (the
 * default is per thread, and threads are inside at once while in the HSM) */
static __thread OSSL_LIB_CTX *caller_ctx;

/* Nobody holds the lock across fork(), so the child's copy is usable. */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

/* The threads that were in the HSM do not exist in the child. */
static void atfork_child(void)
{
	in_hsm = 0;
	pthread_mutex_unlock(&lock);
}

static void register_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void after_fork(void)
{
	p11_store_forget();
	init_pid = getpid();
}

/* Takes the lock of an initialised module (in a child after fork, after
 * forgetting the parent's store); not initialised: no lock is held. */
static CK_RV lock_initialized(void)
{
	pthread_mutex_lock(&lock);
	if (!initialized) {
		pthread_mutex_unlock(&lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	if (getpid() != init_pid)
		after_fork();
	return CKR_OK;
}

CK_RV p11_enter(void)
{
	CK_RV rv = lock_initialized();

	if (rv == CKR_OK)
		caller_ctx = OSSL_LIB_CTX_set0_default(libctx);
	return rv;
}

CK_RV p11_leave(CK_RV rv)
{
	OSSL_LIB_CTX_set0_default(caller_ctx);
	pthread_mutex_unlock(&lock);
	return rv;
}

/* ---- initialisation ----------------------------------------------------- */

static void teardown(void)
{
	p11_session_close_everything();
	/* before the library context goes: SoftHSM2 uses OpenSSL in here */
	p11_keys_finalize();
	p11_store_finalize();
	OSSL_PROVIDER_unload(default_provider);
	default_provider = NULL;
	OSSL_LIB_CTX_free(libctx);
	libctx = NULL;
	initialized = false;
}

static CK_RV initialize(const char *reserved_dir)
{
	const char *env = getenv("CERTSTORE_DIR");
	CK_RV rv;

	libctx = OSSL_LIB_CTX_new();
	if (libctx != NULL)
		default_provider = OSSL_PROVIDER_load(libctx, "default");
	if (default_provider == NULL) {
		OSSL_LIB_CTX_free(libctx);
		libctx = NULL;
		return CKR_GENERAL_ERROR;
	}
	rv = p11_store_init(reserved_dir != NULL ? reserved_dir : env);
	if (rv != CKR_OK) {
		teardown();
		return rv;
	}
	initialized = true;
	init_pid = getpid();
	return CKR_OK;
}

CK_RV C_Initialize(CK_VOID_PTR args)
{
	char *dir = NULL;
	CK_RV rv;

	pthread_once(&atfork_once, register_atfork);
	rv = p11_init_args(args, &dir);
	if (rv != CKR_OK)
		return rv;
	pthread_mutex_lock(&lock);
	if (initialized && getpid() == init_pid) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
	} else {
		if (initialized) {
			/* a child starting over: drop what the parent had */
			p11_store_forget();
			teardown();
		}
		rv = initialize(dir);
	}
	pthread_mutex_unlock(&lock);
	free(dir);
	return rv;
}

CK_RV C_Finalize(CK_VOID_PTR reserved)
{
	CK_RV rv;

	if (reserved != NULL)
		return CKR_ARGUMENTS_BAD;
	rv = lock_initialized();
	if (rv != CKR_OK)
		return rv;
	while (in_hsm > 0)
		pthread_cond_wait(&hsm_idle, &lock);
	teardown();
	pthread_mutex_unlock(&lock);
	return CKR_OK;
}

CK_RV C_GetInfo(CK_INFO_PTR info)
{
	CK_RV rv = p11_enter();

	if (rv != CKR_OK)
		return rv;
	if (info == NULL)
		return p11_leave(CKR_ARGUMENTS_BAD);
	memset(info, 0, sizeof(*info));
	info->cryptokiVersion.major = 2;
	info->cryptokiVersion.minor = 40;
	p11_pad(info->manufacturerID, sizeof(info->manufacturerID), "certstore");
	p11_pad(info->libraryDescription, sizeof(info->libraryDescription),
		"certstore machine store");
	info->libraryVersion.major = 0;
	info->libraryVersion.minor = 1;
	return p11_leave(CKR_OK);
}

/* ---- slots and tokens --------------------------------------------------- */

CK_RV C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	CK_RV rv = p11_enter();

	return rv != CKR_OK ? rv : p11_leave(p11_slot_list(list, count));
}

CK_RV C_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	CK_RV rv = p11_enter();

	return rv != CKR_OK ? rv : p11_leave(p11_slot_info(slot, info));
}

CK_RV C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	CK_RV rv = p11_enter();

	return rv != CKR_OK ? rv
			    : p11_leave(p11_token_info(slot, p11_session_count(slot, false),
						       p11_session_count(slot, true), info));
}

CK_RV C_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
	CK_RV rv = p11_enter();

	return rv != CKR_OK ? rv : p11_leave(p11_mechanism_list(slot, list, count));
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
	CK_RV rv = p11_enter();

	return rv != CKR_OK ? rv : p11_leave(p11_mechanism_info(slot, type, info));
}

CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved)
{
	CK_RV rv = p11_enter();

	return rv != CKR_OK ? rv : p11_leave(CKR_FUNCTION_NOT_SUPPORTED);
}

/* ---- sessions ----------------------------------------------------------- */

CK_RV C_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
		    CK_SESSION_HANDLE_PTR out)
{
	CK_RV rv = p11_enter();

	return rv != CKR_OK ? rv : p11_leave(p11_session_open(slot, flags, out));
}

CK_RV C_CloseSession(CK_SESSION_HANDLE h)
{
	CK_RV rv = p11_enter();

	return rv != CKR_OK ? rv : p11_leave(p11_session_close(h));
}

CK_RV C_CloseAllSessions(CK_SLOT_ID slot)
{
	CK_RV rv = p11_enter();

	return rv != CKR_OK ? rv : p11_leave(p11_session_close_slot(slot));
}

static CK_STATE session_state(const p11_session *s)
{
	p11_login who = p11_slot_login(s->slot);

	if (!(s->flags & CKF_RW_SESSION))
		return who == P11_LOGIN_USER ? CKS_RO_USER_FUNCTIONS : CKS_RO_PUBLIC_SESSION;
	if (who == P11_LOGIN_SO)
		return CKS_RW_SO_FUNCTIONS;
	return who == P11_LOGIN_USER ? CKS_RW_USER_FUNCTIONS : CKS_RW_PUBLIC_SESSION;
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info)
{
	WITH_SESSION(h, {
		if (info == NULL)
			return p11_leave(CKR_ARGUMENTS_BAD);
		memset(info, 0, sizeof(*info));
		info->slotID = s->slot;
		info->flags = s->flags;
		info->state = session_state(s);
		return p11_leave(CKR_OK);
	});
}

/*
 * Login (PKCS#11 2.40 5.6 and C_Login in 5.6).  Personal: the user PIN is
 * the store's key token's PIN (its pin file); after C_Login the private
 * keys are there to find and to use, before it they are not.  The
 * certificate-only tokens need no login and have no user PIN
 * (CKR_USER_PIN_NOT_INITIALIZED).  No token has an SO PIN that could match,
 * so an SO login that gets as far as the PIN is CKR_PIN_INCORRECT.
 */
static CK_RV login(p11_session *s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	p11_login who = p11_slot_login(s->slot);
	CK_RV rv;

	if (user != CKU_SO && user != CKU_USER && user != CKU_CONTEXT_SPECIFIC)
		return CKR_USER_TYPE_INVALID;
	if (user == CKU_CONTEXT_SPECIFIC) {
		/* only for an operation whose key says CKA_ALWAYS_AUTHENTICATE;
		 * ours say false, but the PIN is checked all the same */
		if (s->op.kind == P11_OP_NONE)
			return CKR_OPERATION_NOT_INITIALIZED;
		if (who != P11_LOGIN_USER)
			return CKR_USER_NOT_LOGGED_IN;
	} else if (who != P11_LOGIN_NONE) {
		return who == (user == CKU_SO ? P11_LOGIN_SO : P11_LOGIN_USER)
			       ? CKR_USER_ALREADY_LOGGED_IN
			       : CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
	}
	if (user == CKU_SO && p11_session_count(s->slot, false) > p11_session_count(s->slot, true))
		return CKR_SESSION_READ_ONLY_EXISTS;
	if (pin == NULL) /* no protected authentication path */
		return CKR_ARGUMENTS_BAD;
	if (user == CKU_SO)
		return CKR_PIN_INCORRECT;
	if (!p11_token_has_pin(s->slot))
		return CKR_USER_PIN_NOT_INITIALIZED;
	if (len > P11_MAX_PIN_LEN)
		return CKR_PIN_INCORRECT;
	rv = p11_keys_check_pin(pin, len);
	if (rv == CKR_OK && user == CKU_USER)
		p11_slot_set_login(s->slot, P11_LOGIN_USER);
	return rv;
}

CK_RV C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	WITH_SESSION(h, { return p11_leave(login(s, user, pin, len)); });
}

CK_RV C_Logout(CK_SESSION_HANDLE h)
{
	WITH_SESSION(h, {
		if (p11_slot_login(s->slot) == P11_LOGIN_NONE)
			return p11_leave(CKR_USER_NOT_LOGGED_IN);
		p11_slot_set_login(s->slot, P11_LOGIN_NONE);
		return p11_leave(CKR_OK);
	});
}

/* ---- objects ------------------------------------------------------------ */

/* CALL, in session h's store (s->slot), when h is a read/write session:
 * objects change only through one (PKCS#11 2.40, 5.7). */
#define WITH_RW_SESSION(h, CALL)                                                                   \
	WITH_SESSION(h, {                                                                          \
		if (!(s->flags & CKF_RW_SESSION))                                                  \
			return p11_leave(CKR_SESSION_READ_ONLY);                                   \
		return p11_leave(CALL);                                                            \
	})

CK_RV C_CreateObject(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
		     CK_OBJECT_HANDLE_PTR out)
{
	WITH_RW_SESSION(h, p11_create(p11_slot_store(s->slot), tmpl, n, out));
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj)
{
	WITH_RW_SESSION(h, p11_destroy(p11_slot_store(s->slot), obj));
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl,
			  CK_ULONG n)
{
	WITH_RW_SESSION(h, p11_set_attributes(p11_slot_store(s->slot), obj, tmpl, n));
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE handle, CK_ATTRIBUTE_PTR tmpl,
			  CK_ULONG n)
{
	WITH_SESSION(h, {
		p11_object obj;
		CK_RV rv;

		if (tmpl == NULL && n > 0)
			return p11_leave(CKR_ARGUMENTS_BAD);
		rv = p11_object_load_visible(handle, p11_slot_store(s->slot), &obj);
		if (rv == CKR_OK)
			rv = p11_object_get(&obj, tmpl, n);
		return p11_leave(rv);
	});
}

/* The size of the certificate's DER, which every object of a row is made
 * from; PKCS#11 leaves the measure to the token. */
CK_RV C_GetObjectSize(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE handle, CK_ULONG_PTR size)
{
	WITH_SESSION(h, {
		p11_object obj;
		CK_RV rv;

		if (size == NULL)
			return p11_leave(CKR_ARGUMENTS_BAD);
		rv = p11_object_load_visible(handle, p11_slot_store(s->slot), &obj);
		if (rv == CKR_OK)
			*size = (CK_ULONG)obj.cert->der.len;
		return p11_leave(rv);
	});
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	WITH_SESSION(h, {
		CK_RV rv;

		if (tmpl == NULL && n > 0)
			return p11_leave(CKR_ARGUMENTS_BAD);
		if (s->finding)
			return p11_leave(CKR_OPERATION_ACTIVE);
		rv = p11_find(p11_slot_store(s->slot), tmpl, n, &s->found, &s->nfound);
		s->pos = 0;
		s->finding = rv == CKR_OK;
		return p11_leave(rv);
	});
}

CK_RV C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR out, CK_ULONG max, CK_ULONG_PTR count)
{
	WITH_SESSION(h, {
		CK_ULONG i = 0;

		if (out == NULL || count == NULL)
			return p11_leave(CKR_ARGUMENTS_BAD);
		if (!s->finding)
			return p11_leave(CKR_OPERATION_NOT_INITIALIZED);
		while (i < max && s->pos < s->nfound)
			out[i++] = s->found[s->pos++];
		*count = i;
		return p11_leave(CKR_OK);
	});
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE h)
{
	WITH_SESSION(h, {
		if (!s->finding)
			return p11_leave(CKR_OPERATION_NOT_INITIALIZED);
		p11_session_end_find(s);
		return p11_leave(CKR_OK);
	});
}

/* ---- HSM operations without the lock (sign_decrypt.c) ------------------ */

/*
 * An HSM operation runs with the lock released.  It leaves its session
 * first (*op takes it over, the session has none): nothing another thread
 * does to the session can touch it meanwhile.  p11_hsm_leave takes the lock
 * again; C_Finalize waits until no operation is out.
 */
void p11_hsm_enter(p11_session *s, p11_op *op)
{
	*op = s->op;
	memset(&s->op, 0, sizeof(s->op));
	in_hsm++;
	pthread_mutex_unlock(&lock);
}

void p11_hsm_leave(void)
{
	pthread_mutex_lock(&lock);
	if (--in_hsm == 0)
		pthread_cond_broadcast(&hsm_idle);
}

CK_RV p11_unsupported(void)
{
	CK_RV rv = p11_enter();

	return rv != CKR_OK ? rv : p11_leave(CKR_FUNCTION_NOT_SUPPORTED);
}
