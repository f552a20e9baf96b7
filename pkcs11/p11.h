/*
 * p11.h - what the files of certstore-pkcs11.so share.
 *
 * One slot and token per store.  Objects are not kept: a handle names a
 * database row and what the module derives from it (the certificate itself,
 * its NSS trust object, its trust assertions), and the row is read again,
 * through a small cache, when a handle is used.  Everything below runs with
 * the module lock held (module.c takes it in every entry point).
 */
#ifndef CS_P11_H
#define CS_P11_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/pkcs11x.h>

#include "certstore.h"
#include "keys.h"

/* p11-kit 0.24 moved the (retired) trust-assertion names out of its public
 * header; its trust module and tools still speak them. */
#ifndef CKO_X_TRUST_ASSERTION
#define CKO_X_TRUST_ASSERTION (CKO_X_VENDOR + 100)
#define CKA_X_ASSERTION_TYPE (CKA_X_VENDOR + 1)
#define CKA_X_CERTIFICATE_VALUE (CKA_X_VENDOR + 2)
#define CKA_X_PURPOSE (CKA_X_VENDOR + 3)
#define CKA_X_PEER (CKA_X_VENDOR + 4)
typedef CK_ULONG CK_X_ASSERTION_TYPE;
#define CKT_X_DISTRUSTED_CERTIFICATE 1UL
#define CKT_X_PINNED_CERTIFICATE 2UL
#define CKT_X_ANCHORED_CERTIFICATE 3UL
#endif

/* ---- slots (slots.c) ---------------------------------------------------- */

#define P11_SLOT_FIRST 1
#define P11_NSLOTS 4
/* The longest PIN the tokens take (the store's pin files hold at most 256). */
#define P11_MAX_PIN_LEN 256

/* The store behind a slot; CS_STORE_NONE for a slot ID that is not ours. */
cs_store_id p11_slot_store(CK_SLOT_ID slot);
CK_SLOT_ID p11_store_slot(cs_store_id store);
CK_RV p11_slot_list(CK_SLOT_ID_PTR list, CK_ULONG_PTR count);
CK_RV p11_slot_info(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info);
/* sessions and rw_sessions: the token's open sessions (sessions.c counts
 * them; the caller asks, so that slots.c needs nothing above it). */
CK_RV p11_token_info(CK_SLOT_ID slot, CK_ULONG sessions, CK_ULONG rw_sessions,
		     CK_TOKEN_INFO_PTR info);
/* True when the token shows CKF_WRITE_PROTECTED: no read-write sessions. */
bool p11_token_write_protected(CK_SLOT_ID slot);
/* True when the token has a user PIN (Personal with a key token configured):
 * its private keys are then private objects, seen and used after C_Login. */
bool p11_token_has_pin(CK_SLOT_ID slot);
/* Copies s into a blank-padded, unterminated PKCS#11 string field. */
void p11_pad(CK_UTF8CHAR *field, size_t size, const char *s);

/* ---- the store (objects.c) ---------------------------------------------- */

/* Remembers the directory; nothing is opened until first needed. */
CK_RV p11_store_init(const char *dir);
void p11_store_finalize(void);
/* After fork(): forget (without closing) what the parent opened. */
void p11_store_forget(void);
/* Opens the store read-only if needed and drops cached rows when another
 * connection committed since the last call.  A store that does not exist
 * (yet) is not an error: the tokens are empty.  *present says which. */
CK_RV p11_store_refresh(bool *present);
/* The read-only store, or NULL when there is none (yet). */
cs_store *p11_store_ro(void);
const char *p11_store_dirname(void);
/* True when this process may change the store (Trusted Root is writable). */
bool p11_store_writable(void);
/* True when the store's certstore.conf names a key token with a PIN file:
 * its PIN is then the Personal token's user PIN. */
bool p11_store_has_key_token(void);
/* A read-write connection for one change; close it with cs_store_close. */
CK_RV p11_store_open_rw(cs_store **out);
/* Turns a library error into the nearest CKR_ (and logs it when
 * CERTSTORE_PKCS11_DEBUG is set: PKCS#11 has no channel for the words). */
CK_RV p11_ckr(cs_rv rv, const cs_err *err);

/* ---- objects (objects.c, trust.c) --------------------------------------- */

/* What a handle holds besides the row: handle = row << 4 | kind. */
typedef enum {
	P11_KIND_CERT = 0,
	P11_KIND_NSS_TRUST = 1,
	P11_KIND_ASSERTION = 2, /* 2 .. 2 + P11_NPURPOSES - 1: one per purpose */
	P11_KIND_PUBLIC_KEY = 12,
	P11_KIND_PRIVATE_KEY = 13,
} p11_kind;

#define P11_KIND_BITS 4
#define P11_NPURPOSES 8

typedef struct p11_object {
	CK_OBJECT_HANDLE handle;
	unsigned kind;
	const cs_cert *cert; /* owned by the cache */
} p11_object;

/* A value on its way out: points at data owned by the cert, at buf, or at
 * heap (freed by p11_value_clear). */
typedef struct p11_value {
	const void *ptr;
	size_t len;
	unsigned char buf[64];
	unsigned char *heap;
} p11_value;

void p11_value_clear(p11_value *v);
CK_OBJECT_HANDLE p11_handle(int64_t row, unsigned kind);
/* Finds the row a handle names (cache, else the database) and checks that it
 * belongs to store and that kind makes sense there: else
 * CKR_OBJECT_HANDLE_INVALID.  private_visible: store's user is logged in
 * (p11_private_visible), so its private keys are objects too. */
CK_RV p11_object_load(CK_OBJECT_HANDLE h, cs_store_id store, bool private_visible, p11_object *obj);
/* The kinds a certificate of this store shows as, in handle order; the
 * private key only when private_visible (the caller knows the login state,
 * objects.c does not ask the sessions). */
size_t p11_object_kinds(const cs_cert *cert, bool private_visible, unsigned *kinds, size_t max);
/* Gives the cert to the cache (which owns it from then on) and returns the
 * cached copy, which may be an older one of the same row. */
const cs_cert *p11_cache_put(cs_cert *cert);

/* Value of one attribute: CKR_OK, or CKR_ATTRIBUTE_TYPE_INVALID. */
CK_RV p11_object_value(const p11_object *obj, CK_ATTRIBUTE_TYPE type, p11_value *v);
/* C_GetAttributeValue over one object. */
CK_RV p11_object_get(const p11_object *obj, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n);
/* True when every attribute of tmpl has exactly this value on obj. */
bool p11_object_match(const p11_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG n);

/* keyobj.c: the key pair of a Personal certificate with a key. */
bool p11_cert_has_key(const cs_cert *c);
/* CKK_RSA, CKK_EC, or CK_UNAVAILABLE_INFORMATION for other keys. */
CK_KEY_TYPE p11_cert_key_type(const cs_cert *c);
/* RSA: modulus bytes; EC: group order bytes. */
size_t p11_cert_key_size(const cs_cert *c);
CK_RV p11_key_value(const p11_object *obj, CK_ATTRIBUTE_TYPE type, p11_value *v);

/* trust.c: NSS trust objects and p11-kit trust assertions. */
CK_RV p11_trust_value(const p11_object *obj, CK_ATTRIBUTE_TYPE type, p11_value *v);
CK_RV p11_assertion_value(const p11_object *obj, CK_ATTRIBUTE_TYPE type, p11_value *v);
/* Index of a purpose OID string (no NUL), or -1. */
int p11_purpose_index(const void *oid, size_t len);

/* Values (values.c), below objects.c, keyobj.c and trust.c. */
CK_RV p11_value_ulong(p11_value *v, CK_ULONG u);
CK_RV p11_value_bool(p11_value *v, bool b);
CK_RV p11_value_bytes(p11_value *v, const void *p, size_t len);
CK_RV p11_value_copy(p11_value *v, const void *p, size_t len);
/* DER of the issuer / serial number INTEGER / digest of the DER certificate. */
CK_RV p11_value_issuer(const cs_cert *c, p11_value *v);
CK_RV p11_value_serial(const cs_cert *c, p11_value *v);
/* The certificate's SubjectPublicKeyInfo as it is encoded: CKA_PUBLIC_KEY_INFO
 * of the certificate and of its key objects alike. */
CK_RV p11_value_spki(const cs_cert *c, p11_value *v);
CK_RV p11_value_digest(const cs_cert *c, const char *md, p11_value *v);
/* The label every object of a certificate carries. */
CK_RV p11_value_label(const cs_cert *c, p11_value *v);
/* DER of a name. */
CK_RV p11_value_name(p11_value *v, const X509_NAME *name);
/* An OpenSSL-allocated DER buffer of len bytes from an i2d_* (taken, freed
 * here); len 0 or less, the i2d's failure, is CKR_GENERAL_ERROR. */
CK_RV p11_value_openssl_der(p11_value *v, unsigned char *der, int len);

/* ---- finding (find.c) --------------------------------------------------- */

/* Every object of store matching tmpl, as a malloc()ed array of handles. */
CK_RV p11_find(cs_store_id store, const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE **out,
	       size_t *nout);

/* ---- writes to Trusted Root (create.c) ---------------------------------- */

CK_RV p11_create(cs_store_id store, const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out);
CK_RV p11_destroy(cs_store_id store, CK_OBJECT_HANDLE h);
CK_RV p11_set_attributes(cs_store_id store, CK_OBJECT_HANDLE h, const CK_ATTRIBUTE *tmpl,
			 CK_ULONG n);

/* ---- key operations (keyops.c, mechanisms.c) ---------------------------- */

typedef enum { P11_OP_NONE = 0, P11_OP_SIGN, P11_OP_DECRYPT } p11_op_kind;

/* A signature or decryption between its Init and its last call. */
typedef struct p11_op {
	p11_op_kind kind;
	CK_MECHANISM_TYPE mechanism;
	char *key_uri;	 /* the HSM key (copied: the cache may drop the row) */
	size_t size;	 /* signature size, or the largest plaintext */
	size_t key_size; /* modulus / order bytes */
	cs_sign_mech sign;
	cs_decrypt_mech decrypt; /* .label points at label below */
	unsigned char *label;
	void *md_ctx;	     /* EVP_MD_CTX for hash-and-sign mechanisms */
	unsigned char *data; /* raw mechanisms: input gathered by C_SignUpdate */
	size_t data_len;
	unsigned char *result; /* a decryption kept for a retry after a short */
	size_t result_len;     /* buffer; data holds the input it belongs to */
	bool multipart;	       /* an Update was called: only Final may end it */
	unsigned char *parts;  /* ciphertext gathered by C_DecryptUpdate */
	size_t parts_len;
} p11_op;

/* mechanisms.c: what the Personal token offers. */
CK_RV p11_mechanism_list(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count);
CK_RV p11_mechanism_info(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info);
/* Checks mech against the key and fills op (kind set by the caller). */
CK_RV p11_mechanism_parse(const CK_MECHANISM *mech, CK_KEY_TYPE kt, p11_op *op);
/* The hash a hash-and-sign mechanism computes in the module, or NID_undef. */
int p11_mechanism_hash(CK_MECHANISM_TYPE type);

/* keyops.c */
/* private_visible: store's user is logged in (the session's caller knows;
 * keyops.c asks the sessions nothing, they end its operations). */
CK_RV p11_op_init(p11_op *op, p11_op_kind kind, cs_store_id store, bool private_visible,
		  const CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV p11_sign_update(p11_op *op, const unsigned char *in, size_t len);
/* C_Sign / C_SignFinal (in NULL): ends op unless only the size was asked. */
CK_RV p11_sign_final(p11_op *op, const unsigned char *in, size_t len, unsigned char *out,
		     CK_ULONG_PTR outlen);
/* C_DecryptUpdate: gathers the ciphertext (RSA is one block), no output. */
CK_RV p11_decrypt_update(p11_op *op, const unsigned char *in, size_t len);
CK_RV p11_decrypt(p11_op *op, const unsigned char *in, size_t len, unsigned char *out,
		  CK_ULONG_PTR outlen);
void p11_op_clear(p11_op *op);
/* C_Login's check of the Personal user PIN against the key token's PIN
 * (its pin file): CKR_OK, CKR_PIN_INCORRECT, CKR_USER_PIN_NOT_INITIALIZED
 * (no key token with a PIN), or CKR_DEVICE_ERROR (the PIN file cannot be
 * read by this process, which then could not use the keys either). */
CK_RV p11_keys_check_pin(const unsigned char *pin, size_t len);
/* The store's key token, closed by C_Finalize. */
void p11_keys_finalize(void);

/* ---- sessions (sessions.c) ---------------------------------------------- */

typedef struct p11_session {
	CK_SESSION_HANDLE handle;
	CK_SLOT_ID slot;
	CK_FLAGS flags;
	bool finding;
	CK_OBJECT_HANDLE *found;
	size_t nfound, pos;
	p11_op op;
} p11_session;

/* Who is logged in to a token (shared by all of the token's sessions). */
typedef enum { P11_LOGIN_NONE = 0, P11_LOGIN_USER, P11_LOGIN_SO } p11_login;

p11_login p11_slot_login(CK_SLOT_ID slot);
/* Logging out (P11_LOGIN_NONE) also ends the token's sessions' key
 * operations and searches. */
void p11_slot_set_login(CK_SLOT_ID slot, p11_login who);
/* True when the private objects of store's token (the Personal private
 * keys) are visible: its user is logged in. */
bool p11_private_visible(cs_store_id store);
/* The object behind h as store's user sees it now: p11_object_load after
 * catching up with the database (p11_store_refresh), private keys included
 * when p11_private_visible(store). */
CK_RV p11_object_load_visible(CK_OBJECT_HANDLE h, cs_store_id store, p11_object *obj);

CK_RV p11_session_open(CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE *out);
CK_RV p11_session_close(CK_SESSION_HANDLE h);
CK_RV p11_session_close_slot(CK_SLOT_ID slot);
void p11_session_close_everything(void);
/* The session, or NULL (CKR_SESSION_HANDLE_INVALID). */
p11_session *p11_session_get(CK_SESSION_HANDLE h);
void p11_session_end_find(p11_session *s);
CK_ULONG p11_session_count(CK_SLOT_ID slot, bool rw_only);

/* ---- entry points (module.c, entry.c, declined.c) ---------------------- */

/* Takes the module lock (CKR_OK) or says why not; every entry point starts
 * with it and ends with p11_leave, which returns rv. */
CK_RV p11_enter(void);
CK_RV p11_leave(CK_RV rv);

/* Enters, finds the session, runs BODY with `s` set, leaves. */
#define WITH_SESSION(h, BODY)                                                                      \
	do {                                                                                       \
		p11_session *s;                                                                    \
		CK_RV rv_ = p11_enter();                                                           \
		if (rv_ != CKR_OK)                                                                 \
			return rv_;                                                                \
		s = p11_session_get(h);                                                            \
		if (s == NULL)                                                                     \
			return p11_leave(CKR_SESSION_HANDLE_INVALID);                              \
		BODY;                                                                              \
	} while (0)

/* CKR_CRYPTOKI_NOT_INITIALIZED or CKR_FUNCTION_NOT_SUPPORTED. */
CK_RV p11_unsupported(void);

/* declined.c: the entries of the function list for what no token offers
 * (x_EncryptInit serves every Init with a key: encrypt, verify, recover). */
CK_RV x_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k);
CK_RV x_DigestInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m);
CK_RV x_Crypt(CK_SESSION_HANDLE h, CK_BYTE_PTR a, CK_ULONG b, CK_BYTE_PTR c, CK_ULONG_PTR d);
CK_RV x_CryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR a, CK_ULONG_PTR b);
CK_RV x_Update(CK_SESSION_HANDLE h, CK_BYTE_PTR a, CK_ULONG b);
CK_RV x_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k);
CK_RV x_Verify(CK_SESSION_HANDLE h, CK_BYTE_PTR a, CK_ULONG b, CK_BYTE_PTR c, CK_ULONG d);
CK_RV x_VerifyFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR a, CK_ULONG b);
CK_RV x_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t, CK_ULONG n,
		    CK_OBJECT_HANDLE_PTR out);
CK_RV x_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR a, CK_ULONG b,
			CK_ATTRIBUTE_PTR c, CK_ULONG d, CK_OBJECT_HANDLE_PTR e,
			CK_OBJECT_HANDLE_PTR f);
CK_RV x_WrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE a, CK_OBJECT_HANDLE b,
		CK_BYTE_PTR c, CK_ULONG_PTR d);
CK_RV x_UnwrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE a, CK_BYTE_PTR b,
		  CK_ULONG c, CK_ATTRIBUTE_PTR d, CK_ULONG e, CK_OBJECT_HANDLE_PTR f);
CK_RV x_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE a, CK_ATTRIBUTE_PTR b,
		  CK_ULONG c, CK_OBJECT_HANDLE_PTR d);
CK_RV x_CopyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR t, CK_ULONG n,
		   CK_OBJECT_HANDLE_PTR out);
CK_RV x_GetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR state, CK_ULONG_PTR len);
CK_RV x_SetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR state, CK_ULONG len,
			  CK_OBJECT_HANDLE enc, CK_OBJECT_HANDLE auth);
CK_RV x_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG len);
CK_RV x_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR seed, CK_ULONG len);
CK_RV x_FunctionNotParallel(CK_SESSION_HANDLE h);

/* ---- entry points (module.c, init_args.c) -------------------------------- */

/* init_args.c: C_Initialize's arguments; *dir: the store= directory p11-kit
 * passed in pReserved (malloc()ed), or NULL. */
CK_RV p11_init_args(const CK_C_INITIALIZE_ARGS *a, char **dir);

/* module.c: an HSM operation runs with the module lock released.  Called
 * with the lock held: the session's operation moves to *op (the session has
 * none meanwhile) and the lock is released; p11_hsm_leave takes it again. */
void p11_hsm_enter(p11_session *s, p11_op *op);
void p11_hsm_leave(void);

#endif
