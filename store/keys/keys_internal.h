/*
 * keys_internal.h - what token.c, keys.c, keyops.c and softhsm.c share.
 * Not installed; nothing outside store/ includes it.
 */
#ifndef CERTSTORE_KEYS_INTERNAL_H
#define CERTSTORE_KEYS_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "keys.h"

#define CS_KEY_ID_MAX 64

/* A private key found in the token. */
typedef struct cs_key_info {
	CK_OBJECT_HANDLE handle;
	CK_KEY_TYPE type; /* CKK_RSA or CKK_EC */
	size_t size;	  /* RSA: modulus bytes; EC: group order bytes */
} cs_key_info;

/* One cached private key, by CKA_ID. */
typedef struct cs_handle_cache {
	unsigned char id[CS_KEY_ID_MAX];
	size_t id_len;
	cs_key_info key;
} cs_handle_cache;

#define CS_HANDLE_CACHE_MAX 64

struct cs_token {
	cs_token_config *cfg;
	CK_FUNCTION_LIST *p11;
	CK_SLOT_ID slot;
	CK_TOKEN_INFO info;
	char label[33];

	/* Everything below is guarded by lock. */
	pthread_mutex_t lock;
	pthread_cond_t freed;
	pid_t pid; /* process that opened the sessions below */
	CK_SESSION_HANDLE sessions[CS_TOKEN_MAX_SESSIONS];
	bool busy[CS_TOKEN_MAX_SESSIONS];
	int n_sessions;
	cs_handle_cache cache[CS_HANDLE_CACHE_MAX];
	int n_cache;
	/* Cross-process access lock (token.c): its path, NULL when the token
	 * is not an embedded SoftHSM2 one, and the flock descriptor each
	 * borrowed session holds (-1: none), set and closed by its borrower. */
	char *access_lock;
	int lock_fd[CS_TOKEN_MAX_SESSIONS];

	struct cs_token *next; /* registry of open tokens, for fork */
};

/* A session borrowed from the pool. */
typedef struct cs_session {
	cs_token *tok;
	int slot_index;
	CK_SESSION_HANDLE h;
	bool write; /* set by the caller before cs_session_get: it changes token objects */
} cs_session;

/*
 * Borrows a logged-in session, waiting while all are busy.  In a forked
 * child this first re-initialises the module and logs in again.  Until
 * cs_session_put the session holds the token's cross-process access lock:
 * shared, or exclusive when s->write is set (see token.c).
 */
cs_rv cs_session_get(cs_token *tok, cs_session *s, cs_err *err);
/* Returns it.  With broken = true (the session died) it is closed instead. */
void cs_session_put(cs_session *s, bool broken);

/* Sets err to CS_ERR_TOKEN "<what>: <p11-kit's text> (CKR_... 0x..)". */
cs_rv cs_p11_err(cs_err *err, CK_RV rv, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* True for return values that mean "this session/handle no longer works". */
bool cs_p11_session_dead(CK_RV rv);

/* Handle cache (lock taken inside). */
bool cs_cache_get(cs_token *tok, const unsigned char *id, size_t id_len, cs_key_info *key);
void cs_cache_put(cs_token *tok, const unsigned char *id, size_t id_len, const cs_key_info *key);
void cs_cache_clear(cs_token *tok);

/* A parsed key URI. */
typedef struct cs_key_ref {
	unsigned char id[CS_KEY_ID_MAX];
	size_t id_len; /* 0: none given */
	char *label;   /* NULL: none given */
} cs_key_ref;

cs_rv cs_key_ref_parse(cs_token *tok, const char *uri, cs_key_ref *ref, cs_err *err);
void cs_key_ref_clear(cs_key_ref *ref);

/*
 * Finds the one object of class cls matching ref in session s.  None:
 * CS_ERR_NOT_FOUND naming uri; several: CS_ERR_AMBIGUOUS.
 */
cs_rv cs_find_object(cs_session *s, CK_OBJECT_CLASS cls, const cs_key_ref *ref, const char *uri,
		     CK_OBJECT_HANDLE *out, cs_err *err);

/* Finds the private key for uri (handle, type, size), using the handle
 * cache unless fresh is set. */
cs_rv cs_find_private(cs_session *s, const char *uri, const cs_key_ref *ref, bool fresh,
		      cs_key_info *out, cs_err *err);

/*
 * The one way to open a private key (key_open.c): parses uri, borrows a
 * session from tok (s->write as the caller set it) and finds the key,
 * through the handle cache unless fresh is set.  Signing and decrypting
 * use the cache (they run per TLS handshake); checks, export and delete
 * look afresh (they must see the token as it is now).  Whatever it returns,
 * the caller ends with cs_key_close(s, ref), safe on zero-initialised ones.
 * CS_ERR_NOT_FOUND: the URI names another token, or no such key.
 */
cs_rv cs_key_open(cs_token *tok, const char *uri, bool fresh, cs_session *s, cs_key_ref *ref,
		  cs_key_info *key, cs_err *err);
void cs_key_close(cs_session *s, cs_key_ref *ref);

/*
 * Runs op on the open key and, when the key's handle went stale (the object
 * was re-created, or the cache outlived it), finds the key afresh and runs
 * op once more: the one stale-handle retry.  *crv is op's answer; a failed
 * second lookup is that lookup's error.
 */
typedef CK_RV (*cs_key_op)(cs_session *s, const cs_key_info *key, void *ctx);
cs_rv cs_key_run(cs_session *s, const char *uri, const cs_key_ref *ref, cs_key_info *key,
		 cs_key_op op, void *ctx, CK_RV *crv, cs_err *err);

/* Reads one attribute into a malloc'd buffer (*len bytes).  Unavailable:
 * *val = NULL and CS_OK with *rv_out set (may be NULL). */
cs_rv cs_get_attr(cs_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, unsigned char **val,
		  size_t *len, CK_RV *rv_out, cs_err *err);

/* Builds "pkcs11:<token fields>;id=...;type=private" for this token. */
cs_rv cs_key_uri_make(cs_token *tok, const unsigned char *id, size_t id_len, char **out,
		      cs_err *err);

/* The public key of the private key priv: from the public key object with
 * the same CKA_ID, else from priv's own attributes.  None: CS_ERR_NOT_FOUND. */
cs_rv cs_public_from_objects(cs_session *s, CK_OBJECT_HANDLE priv, EVP_PKEY **out, cs_err *err);

/* PKCS#11 hash / MGF constants for an OpenSSL digest NID; false if none. */
bool cs_p11_hash(int nid, CK_MECHANISM_TYPE *hash, CK_RSA_PKCS_MGF_TYPE *mgf);

/* DER of the OID of an EC curve, as CKA_EC_PARAMS wants it (malloc'd). */
cs_rv cs_ec_params_der(int curve_nid, unsigned char **der, size_t *len, cs_err *err);

/* The public key in the attributes of one object of type kt (a public key
 * object, or an RSA private key).  Attributes missing: *out NULL, CS_OK. */
cs_rv cs_public_of_object(cs_session *s, CK_OBJECT_HANDLE h, CK_KEY_TYPE kt, EVP_PKEY **out,
			  cs_err *err);

/* Loads (and initialises) a module by path or p11-kit name. */
cs_rv cs_module_load(const char *module, CK_FUNCTION_LIST **out, cs_err *err);
void cs_module_unload(CK_FUNCTION_LIST *p11);

/*
 * SoftHSM2 finds its configuration through $SOFTHSM2_CONF, read at each
 * module initialisation.  acquire sets it (if not already that path) and
 * counts a user; a different path while users remain is CS_ERR_TOKEN.
 * path NULL is a no-op for both.
 */
cs_rv cs_softhsm_conf_acquire(const char *path, cs_err *err);
void cs_softhsm_conf_release(const char *path);

/*
 * certstore's own lock around an embedded SoftHSM2 token, across processes
 * (softhsm.c says why): <dir of softhsm_conf>/access.lock, malloc()ed, or
 * NULL for a token that is not an embedded SoftHSM2 one (no lock then).
 * cs_softhsm_access_lock takes it (LOCK_SH or LOCK_EX) on a descriptor of
 * its own, so threads of one process hold it independently, and returns
 * the descriptor; -1 when there is no lock to take or its file cannot be
 * opened (a process that cannot open it cannot open the token directory
 * either).  cs_softhsm_access_unlock(-1) does nothing.
 */
char *cs_softhsm_access_lock_path(const char *softhsm_conf);
int cs_softhsm_access_lock(const char *lock_path, int how);
void cs_softhsm_access_unlock(int fd);

/* Copies a blank-padded PKCS#11 label into a NUL-terminated string. */
void cs_p11_label(char *dst, const CK_UTF8CHAR *src, size_t n);

/* Creates path exclusively with mode (set before anything is written), or
 * with append adds data to the end of an existing file. */
cs_rv cs_file_write_new(const char *path, const char *data, int mode, bool append, cs_err *err);

/* Does the certstore.conf at path already have a [token] section? */
bool cs_conf_has_token(const char *path);

/* Before SoftHSM2 opens its tokens: a token.object a killed process left
 * empty is restored from certstore's copy of it, and the copy is kept up to
 * date while the file is whole (see softhsm.c). */
void cs_softhsm_guard(const char *softhsm_conf);

#endif /* CERTSTORE_KEYS_INTERNAL_H */
