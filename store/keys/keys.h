/*
 * keys.h - HSM key custody: the one place that talks PKCS#11 for keys.
 *
 * Private keys live in a PKCS#11 token (SoftHSM2 by default, any vendor
 * module through p11-kit) and are named by RFC 7512 `pkcs11:` URIs.  The
 * store, the OpenSSL provider and the PKCS#11 module all reach keys through
 * these functions, so every signature in the system takes the same path.
 *
 * Conventions are those of certstore.h: functions that can fail return a
 * cs_rv and take `cs_err *err` last; out-parameters belong to the caller on
 * CS_OK and are left empty (NULL) on failure.  Secrets (PINs, key bytes) are
 * wiped after use and never appear in an error message.
 *
 * Threads: a cs_token may be used from many threads at once; operations take
 * a session from a small per-token pool (up to CS_TOKEN_MAX_SESSIONS).
 *
 * fork(): a cs_token opened in a parent may be used in a child.  The first
 * operation in the child notices the new pid, re-initialises the module
 * through p11-kit, opens new sessions, logs in again (re-reading the pin
 * file) and finds objects again by CKA_ID: no session or object handle
 * crosses a fork, and the parent's sessions are never closed by the child
 * (on a network HSM that would close them for the parent too).
 *
 * Exit: cs_token_close() closes the sessions and finalises the module.  Do not
 * call it from an atexit handler (SoftHSM2 2.6.1 can crash when finalised
 * after OpenSSL's own exit-time cleanup); a process that exits with a token
 * still open is fine.
 */
#ifndef CERTSTORE_KEYS_H
#define CERTSTORE_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "certstore.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- token configuration ----------------------------------------------- */

/*
 * The [token] section of <store>/certstore.conf (OpenSSL NCONF syntax):
 *
 *   [token]
 *   module = /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so
 *   token = pkcs11:token=certstore
 *   pin-file = pin
 *   softhsm-conf = token/softhsm2.conf     # only for the embedded SoftHSM2
 *
 * module: a path (contains '/'), or the name of a module registered with
 *         p11-kit (e.g. "softhsm2"), or a file name in p11-kit's module dir.
 * token:  an RFC 7512 URI naming exactly one token (token=, serial=,
 *         manufacturer=, model=, slot-id=, library-description=, ...).
 * pin-file: the user PIN, one line.  Optional for tokens with a PIN pad
 *         (CKF_PROTECTED_AUTHENTICATION_PATH) or without login.
 * softhsm-conf: SoftHSM2 finds its token directory through the SOFTHSM2_CONF
 *         environment variable; when this key is present cs_token_open sets
 *         SOFTHSM2_CONF to it (process-wide, with setenv) before loading the
 *         module.  SoftHSM2 reads it once per initialisation, so one process
 *         can have tokens of only one softhsm-conf open at a time: opening a
 *         second one is CS_ERR_TOKEN.
 * agent:  the socket of a key agent (`certstore agent`) that owns the
 *         token: the provider then signs and decrypts for the store's
 *         certificates through it instead of opening the token in every
 *         process (SoftHSM2's file token is not safe across processes).
 * Relative paths are relative to the store directory.
 */
typedef struct cs_token_config {
	char *store_dir;    /* absolute or as given; owner of the pin file is checked against it */
	char *module;	    /* never NULL */
	char *token_uri;    /* never NULL */
	char *pin_file;	    /* resolved path, NULL when none */
	char *softhsm_conf; /* resolved path, NULL when none */
	char *agent;	    /* `agent =`: the key agent's socket, NULL when none */
} cs_token_config;

/*
 * Reads <store_dir>/certstore.conf.  A missing or unreadable file, a syntax
 * error (with its line) or a missing `module` / `token` key is CS_ERR_STORE.
 * The pin file is not read here (see cs_token_open).  Free with
 * cs_token_config_free.
 */
cs_rv cs_token_config_load(const char *store_dir, cs_token_config **out, cs_err *err);
/* NULL is fine. */
void cs_token_config_free(cs_token_config *cfg);

/*
 * Reads the PIN from cfg->pin_file into a fresh buffer (NUL-terminated, the
 * trailing newline removed) that the caller wipes and frees with
 * cs_pin_free.  The file must be a regular file (no symlink), with no
 * group/other permission bits (0600 or 0400) and owned by the owner of the
 * store directory; otherwise CS_ERR_STORE saying which rule it breaks.  An
 * empty file is CS_ERR_AUTH.  Exposed for the tool's `init`; cs_token_open
 * calls it itself.
 */
cs_rv cs_pin_read(const cs_token_config *cfg, char **pin_out, cs_err *err);
/* Wipes the PIN before freeing it; NULL is fine. */
void cs_pin_free(char *pin);

/* ---- the token --------------------------------------------------------- */

typedef struct cs_token cs_token;

#define CS_TOKEN_MAX_SESSIONS 8

/*
 * Loads the module (p11-kit, managed), finds the one token matching
 * cfg->token_uri, opens a session and logs in as the user.
 *
 *  - module cannot be loaded:        CS_ERR_TOKEN naming the module
 *  - no token matches the URI:       CS_ERR_TOKEN naming the URI
 *  - several tokens match:           CS_ERR_TOKEN listing their labels
 *  - PIN locked, or on its final try: CS_ERR_AUTH, and C_Login is not tried
 *  - wrong PIN:                      CS_ERR_AUTH ("wrong PIN for token X")
 *  - pin file refused:               as cs_pin_read
 * A failed login is never retried.  cfg is copied; free *out with
 * cs_token_close.
 */
cs_rv cs_token_open(const cs_token_config *cfg, cs_token **out, cs_err *err);

/* Loads <store_dir>/certstore.conf and opens its token. */
cs_rv cs_token_open_store(const char *store_dir, cs_token **out, cs_err *err);

/* Closes every session, finalises the module (see the note on exit above)
 * and frees the token.  NULL is ignored. */
void cs_token_close(cs_token *tok);

/* The token's label as the token reports it (blank padding removed). */
const char *cs_token_label(const cs_token *tok);

/*
 * Makes the embedded default key token of a new store:
 *   <store_dir>/token/               0700
 *   <store_dir>/token/softhsm2.conf  tokendir = <store_dir>/token/tokens, file backend
 *   <store_dir>/token/tokens/        0700, holding one token labelled "certstore"
 *   <store_dir>/pin                  0600, the random user PIN (created with O_EXCL)
 *   <store_dir>/certstore.conf       [token] module = CS_SOFTHSM_MODULE,
 *                                    token = pkcs11:token=certstore, pin-file = pin,
 *                                    softhsm-conf = token/softhsm2.conf
 * The token is initialised through PKCS#11 (C_InitToken on SoftHSM2's free
 * slot, then C_InitPIN) with a random SO PIN that is not kept and a random
 * user PIN.  store_dir must exist.  An existing token/ directory, pin file or
 * certstore.conf is CS_ERR_DUPLICATE (nothing is overwritten).  On failure
 * whatever this call created is removed.
 */
cs_rv cs_token_init_softhsm(const char *store_dir, cs_err *err);

/*
 * Names an existing token of another module as the store's key token:
 * checks the pin file (cs_pin_read's rules; relative paths are relative to
 * store_dir) and that the token opens and accepts the PIN (cs_token_open's
 * errors), then writes the [token] section of <store_dir>/certstore.conf
 * (module, token, pin-file; appended when the file exists without one).
 * pin_file may be NULL (PIN pad or no login).  A certstore.conf that already
 * names a token is CS_ERR_DUPLICATE.  On failure nothing is written.
 */
cs_rv cs_token_init_module(const char *store_dir, const char *module, const char *token_uri,
			   const char *pin_file, cs_err *err);

/* ---- key specifications ------------------------------------------------ */

typedef enum {
	CS_KEY_RSA = 1,
	CS_KEY_EC,
} cs_key_type;

typedef struct cs_key_spec {
	cs_key_type type;
	unsigned bits; /* RSA: modulus bits; EC: field bits (256, 384) */
	int curve_nid; /* EC only: NID_X9_62_prime256v1, NID_secp384r1 */
} cs_key_spec;

/*
 * Parses "rsa:2048" (the default: NULL, "" and "rsa" mean it), "rsa:3072",
 * "rsa:4096", "ec:p256", "ec:p384" (case-insensitive; "ec" alone is P-256,
 * "ec:prime256v1"/"ec:secp384r1" are accepted).  Anything else is
 * CS_ERR_USAGE listing the accepted forms.
 */
cs_rv cs_key_spec_parse(const char *s, cs_key_spec *out, cs_err *err);
/* "rsa:2048", "ec:p256", ... (a static string). */
const char *cs_key_spec_name(const cs_key_spec *spec);
/*
 * The spec of the key pub is the public half of, in the terms of
 * cs_key_spec_parse: an RSA key keeps its modulus bits; an EC key on
 * secp384r1 is P-384 and any other is P-256, the curves a store key can
 * have.  What `renew` asks for again.
 */
void cs_key_spec_of_public(const EVP_PKEY *pub, cs_key_spec *out);

/* ---- keys -------------------------------------------------------------- */

/*
 * Key URIs.  Every key made or imported here gets CKA_ID = SHA-1 of the
 * public key, computed as RFC 5280 4.2.1.2 method (1): the hash of the
 * subjectPublicKey BIT STRING contents of the SubjectPublicKeyInfo (for RSA
 * the DER RSAPublicKey, for EC the uncompressed point).  It is what OpenSSL
 * writes as subjectKeyIdentifier = hash, so a certificate's SKI usually
 * equals its key's CKA_ID.  The same CKA_ID is set on the private and the
 * public key object.  URIs handed out look like
 *   pkcs11:model=...;manufacturer=...;serial=...;token=certstore;id=%AB...;type=private
 * Functions taking a URI accept any RFC 7512 URI with an id= and/or object=
 * (label); its token attributes, when present, must match this token
 * (otherwise CS_ERR_NOT_FOUND naming the URI).  A URI that matches no
 * private key is CS_ERR_NOT_FOUND; one matching several is CS_ERR_AMBIGUOUS.
 */

/* SHA-1 of the public key as above (20 bytes into id). */
cs_rv cs_key_id_from_public(EVP_PKEY *pub, unsigned char id[20], cs_err *err);

/*
 * Generates a key pair in the token: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE,
 * CKA_EXTRACTABLE = exportable, CKA_SIGN, CKA_DECRYPT (RSA only),
 * CKA_LABEL = label (may be NULL), CKA_ID as above on both objects.
 * uri_out (free with free()) and pub_out (EVP_PKEY_free) may each be NULL.
 * On failure nothing is left in the token.
 */
cs_rv cs_key_generate(cs_token *tok, const cs_key_spec *spec, const char *label, bool exportable,
		      char **uri_out, EVP_PKEY **pub_out, cs_err *err);

/*
 * Puts an RSA or EC private key into the token (C_CreateObject, sensitive,
 * extractable = exportable) together with its public key object.  Other key
 * types (Ed25519, DSA, ...), an EC curve the token refuses, or a token
 * without the needed mechanism are CS_ERR_TOKEN with a message saying so.
 * On failure nothing is left in the token.  A key already in the token
 * (same CKA_ID) is CS_ERR_DUPLICATE, with its URI in *uri_out so the caller
 * can bind to it.  The caller keeps priv.
 */
cs_rv cs_key_import(cs_token *tok, EVP_PKEY *priv, const char *label, bool exportable,
		    char **uri_out, cs_err *err);

/* The public key of the key at uri: from its public key object, else from
 * the private key object's public attributes (RSA). */
cs_rv cs_key_public(cs_token *tok, const char *uri, EVP_PKEY **out, cs_err *err);

/*
 * The private key whose public key equals pub: first by CKA_ID, then by
 * comparing every private key's public key (keys made by other tools).
 * None is CS_ERR_NOT_FOUND.  *uri_out is freed with free().
 */
cs_rv cs_key_find_by_public(cs_token *tok, EVP_PKEY *pub, char **uri_out, cs_err *err);

/*
 * Is the key at uri present and does its public key equal cert_pub?
 * *status_out is CS_STATUS_VALID, CS_STATUS_MISSING_KEY (uri NULL, or no
 * such object) or CS_STATUS_KEY_MISMATCH.  Token failures (not the answer
 * "missing") are errors.
 */
cs_rv cs_key_check(cs_token *tok, const char *uri, EVP_PKEY *cert_pub, cs_status *status_out,
		   cs_err *err);

/*
 * Status's question for one certificate (key_status.c): *out is
 * CS_STATUS_VALID, CS_STATUS_MISSING_KEY (no key_uri, or no such key in
 * tok) or CS_STATUS_KEY_MISMATCH.  A token that cannot be asked (login
 * fails, PIN file unreadable, token gone) is an error, not an answer.
 */
cs_rv cs_token_check_key(cs_token *tok, const cs_cert *cert, cs_status *out, cs_err *err);

/*
 * Makes status ask tok about keys (cs_token_check_key), keeping the token's
 * failures: a certificate whose key cannot be asked about gets
 * CS_STATUS_KEY_TOKEN_UNAVAILABLE with the reason as its detail.  tok NULL:
 * the token could not be opened, open_error says why, and every
 * certificate with a key reference gets that status.  tok must outlive its
 * use by store; cs_store_set_key_checker replaces it.
 */
void cs_store_attach_token(cs_store *store, cs_token *tok, const cs_err *open_error);

/*
 * The same question as a cs_key_checker (certstore.h), for callers of
 * cs_store_set_key_checker: token errors are CS_STATUS_MISSING_KEY there,
 * since a cs_key_checker can only answer with a status.
 */
cs_status cs_token_key_checker(void *tok, const cs_cert *cert);

/*
 * Rolls back a key made for a change that failed (key_rollback.c): deletes
 * it, and when that fails too, appends to err (which holds the first
 * failure, and keeps its class) "the key made for it could not be removed
 * from the token (<uri>): <why>".  A key already gone is no failure.
 * tok or uri NULL: nothing to undo.
 */
void cs_key_rollback(cs_token *tok, const char *uri, cs_err *err);

/* Destroys the private key at uri and every object sharing its CKA_ID
 * (public key, certificates other tools put there).  Missing: CS_ERR_NOT_FOUND. */
cs_rv cs_key_delete(cs_token *tok, const char *uri, cs_err *err);

/*
 * Reads out an exportable key.  Keys are always CKA_SENSITIVE, so the value
 * is wrapped in the token (CKM_AES_KEY_WRAP_PAD, RFC 5649) under a
 * session-only AES-256 key made from fresh random bytes, unwrapped here and
 * decoded from PKCS#8.  The token decides: a non-exportable key is
 * CS_ERR_REFUSED ("the private key ... is not exportable") because C_WrapKey
 * answers CKR_KEY_UNEXTRACTABLE.  Free *priv_out with EVP_PKEY_free.
 */
cs_rv cs_key_export(cs_token *tok, const char *uri, EVP_PKEY **priv_out, cs_err *err);

/* True when the key at uri has CKA_EXTRACTABLE=TRUE (for display; export
 * itself relies on the token, not on this). */
cs_rv cs_key_is_exportable(cs_token *tok, const char *uri, bool *out, cs_err *err);

/* ---- private-key operations -------------------------------------------- */

typedef enum {
	/* RSASSA-PKCS1-v1_5 (CKM_RSA_PKCS).  With md set, in is the digest and
	 * the DigestInfo is built here; with md = NID_undef in is signed as
	 * given (a ready DigestInfo, or TLS 1.0's MD5+SHA-1). */
	CS_SIGN_RSA_PKCS1 = 1,
	/* RSASSA-PSS (CKM_RSA_PKCS_PSS): in is the digest of md; mgf1_md
	 * NID_undef means md; salt_len in bytes, or -1 = digest length,
	 * -2 = the maximum for the key. */
	CS_SIGN_RSA_PSS,
	/* ECDSA (CKM_ECDSA) over in, a digest: out is a DER Ecdsa-Sig-Value,
	 * what X.509 and OpenSSL use. */
	CS_SIGN_ECDSA,
	/* Same, out is r||s, each as long as the group order (PKCS#11's form). */
	CS_SIGN_ECDSA_RAW,
} cs_sign_alg;

typedef struct cs_sign_mech {
	cs_sign_alg alg;
	int md;	      /* NID of the digest in `in` (NID_sha256, ...) */
	int mgf1_md;  /* PSS only */
	int salt_len; /* PSS only */
} cs_sign_mech;

/*
 * Signs in with the key at uri.  Output follows PKCS#11: with out NULL,
 * *outlen receives the largest possible size and CS_OK; otherwise *outlen
 * holds the size of out and receives the length written (too small:
 * CS_ERR_INTERNAL).  A mechanism the key or token cannot do is CS_ERR_TOKEN.
 */
cs_rv cs_key_sign(cs_token *tok, const char *uri, const cs_sign_mech *mech, const unsigned char *in,
		  size_t inlen, unsigned char *out, size_t *outlen, cs_err *err);

typedef enum {
	CS_DECRYPT_RSA_PKCS1 = 1, /* RSAES-PKCS1-v1_5 (CKM_RSA_PKCS) */
	CS_DECRYPT_RSA_OAEP,	  /* RSAES-OAEP (CKM_RSA_PKCS_OAEP) */
} cs_decrypt_alg;

typedef struct cs_decrypt_mech {
	cs_decrypt_alg alg;
	int md;			    /* OAEP hash; NID_undef = SHA-1 */
	int mgf1_md;		    /* NID_undef = md */
	const unsigned char *label; /* OAEP label, may be NULL */
	size_t label_len;
} cs_decrypt_mech;

/*
 * Decrypts in with the RSA key at uri; output sizes as cs_key_sign.  Bad
 * padding is CS_ERR_BAD_INPUT ("decryption failed"), with no detail that
 * could serve as a padding oracle.  SoftHSM2 2.6.1 does OAEP with SHA-1 only;
 * other hashes are CS_ERR_TOKEN there.
 */
cs_rv cs_key_decrypt(cs_token *tok, const char *uri, const cs_decrypt_mech *mech,
		     const unsigned char *in, size_t inlen, unsigned char *out, size_t *outlen,
		     cs_err *err);

#ifdef __cplusplus
}
#endif

#endif /* CERTSTORE_KEYS_H */
