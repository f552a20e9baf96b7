/*
 * certstore.h - the public API of libcertstore.
 *
 * A machine certificate store in the Windows mould: named stores (My, Root,
 * CA, Disallowed, Request) in one SQLite database, certificate properties,
 * a computed status, and an audit log.
 *
 * Conventions (every function follows them):
 *  - A function that can fail returns a cs_rv and takes `cs_err *err` last.
 *    On failure err->msg says what happened in words a person can act on and
 *    err->rv holds the class, which the tool turns into its exit code.
 *    `err` may be NULL when the caller does not want the message.
 *  - Out-parameters are owned by the caller once the call returns CS_OK and
 *    are released with the matching *_free / *_clear function.  On failure
 *    they are left empty.
 *  - A change that touches more than one row is one transaction: it happens
 *    wholly or not at all.
 */
#ifndef CERTSTORE_H
#define CERTSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- results and errors ------------------------------------------------ */

/*
 * Result classes.  The numeric values are the `certstore` exit codes and are
 * documented in certstore(1); never renumber one.
 */
typedef enum {
	CS_OK = 0,
	CS_ERR_INTERNAL = 1,	  /* a bug or an out-of-memory condition */
	CS_ERR_USAGE = 2,	  /* bad command line or argument */
	CS_ERR_NOT_FOUND = 3,	  /* no certificate, store or object matches */
	CS_ERR_AMBIGUOUS = 4,	  /* an ID matches more than one certificate */
	CS_ERR_BAD_INPUT = 5,	  /* malformed DER/PEM/PKCS#7/PKCS#12, unreadable file */
	CS_ERR_TRUST_REFUSED = 6, /* would add trust without the admin's consent */
	CS_ERR_DUPLICATE = 7,	  /* already in that store */
	CS_ERR_STORE = 8,	  /* database or store directory problem */
	CS_ERR_TOKEN = 9,	  /* PKCS#11 module or token problem */
	CS_ERR_AUTH = 10,	  /* wrong PIN or password */
	CS_ERR_REFUSED = 11,	  /* policy forbids it (e.g. non-exportable key) */
	CS_ERR_CA = 12,		  /* the certification authority failed or refused */
	CS_ERR_HOOK = 13,	  /* a usage hook failed */
	CS_ERR_NOT_VALID = 14,	  /* the certificate's status is not Valid */
	CS_ERR_PENDING = 15,	  /* the CA has not answered yet */
	CS_ERR_KEY = 16,	  /* private key missing or does not match */
	CS_ERR_UNREACHABLE = 17,  /* the CA could not be reached (connect, DNS, timeout) */
	CS_ERR_TLS = 18,	  /* the CA's TLS certificate did not verify */
	CS_ERR_STALE = 19,	  /* a service still serves a usage's previous certificate */
} cs_rv;

#define CS_ERR_MSG_MAX 1024

typedef struct cs_err {
	cs_rv rv;
	char msg[CS_ERR_MSG_MAX];
} cs_err;

/* Sets err to (rv, formatted message) and returns rv. err may be NULL. */
cs_rv cs_err_set(cs_err *err, cs_rv rv, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Puts "PREFIX: " in front of the message already in err. */
void cs_err_prefix(cs_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends OpenSSL's newest queued error (if any) to the message and clears the queue. */
void cs_err_add_openssl(cs_err *err);
/* A short name for a result class: "not found", "bad input", ... */
const char *cs_rv_name(cs_rv rv);

/* ---- byte buffers ------------------------------------------------------ */

typedef struct cs_bytes {
	unsigned char *data;
	size_t len;
} cs_bytes;

/* Reads a whole regular file (at most 64 MiB).  A directory, a missing path
 * or an empty file is CS_ERR_BAD_INPUT with the path in the message. */
cs_rv cs_read_file(const char *path, cs_bytes *out, cs_err *err);
/* Writes data to path atomically (temp file, fsync, rename) with mode. */
cs_rv cs_write_file_atomic(const char *path, const void *data, size_t len, int mode, cs_err *err);
/* Frees the buffer, wiping it first (it may have held a secret). */
void cs_bytes_clear(cs_bytes *b);

/* ---- store names ------------------------------------------------------- */

typedef enum {
	CS_STORE_NONE = 0,
	CS_STORE_MY,	     /* alias Personal */
	CS_STORE_ROOT,	     /* alias "Trusted Root" */
	CS_STORE_CA,	     /* alias Intermediate */
	CS_STORE_DISALLOWED, /* alias Untrusted */
	CS_STORE_REQUEST,
} cs_store_id;

/* Parses a store name or alias, case-insensitively ("my", "Trusted Root",
 * "intermediate", ...).  Unknown names are CS_ERR_NOT_FOUND with the list of
 * valid names in the message. */
cs_rv cs_store_id_parse(const char *name, cs_store_id *out, cs_err *err);
/* The canonical name: "My", "Root", "CA", "Disallowed", "Request". */
const char *cs_store_id_name(cs_store_id id);
/* The Windows display name: "Personal", "Trusted Root Certification Authorities", ... */
const char *cs_store_id_display(cs_store_id id);

/* ---- one certificate --------------------------------------------------- */

typedef struct cs_cert {
	int64_t id; /* database row, 0 when not stored */
	cs_store_id store;
	X509 *x509;
	cs_bytes der;
	char sha1[41];	 /* upper-case hex, the Windows thumbprint */
	char sha256[65]; /* upper-case hex */
	char *subject;	 /* one line, RFC 2253 */
	char *issuer;
	char *serial;		       /* upper-case hex */
	int64_t not_before, not_after; /* seconds since the epoch */
	char *friendly_name;	       /* NULL when none */
	char *key_uri;		       /* RFC 7512 pkcs11: URI, NULL when none */
	bool exportable;
	bool archived;
	int64_t added;
	char *ca_profile; /* the CA profile that issued it through certstore, or NULL */
} cs_cert;

typedef struct cs_cert_list {
	cs_cert **items;
	size_t n;
} cs_cert_list;

/* Parses one DER certificate and fills every derived field. */
cs_rv cs_cert_from_der(const unsigned char *der, size_t len, cs_cert **out, cs_err *err);
/* Takes a reference on x509 (the caller keeps its own). */
cs_rv cs_cert_from_x509(X509 *x509, cs_cert **out, cs_err *err);
void cs_cert_free(cs_cert *cert);
/* True when the certificate is self-issued and its signature verifies with its own key. */
bool cs_cert_is_self_signed(const cs_cert *cert);
/* True when basicConstraints says cA=TRUE. */
bool cs_cert_is_ca(const cs_cert *cert);
/*
 * The key ID: SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280
 * 4.2.1.2 method 1), the CKA_ID store/keys/keys.h gives the key objects in the
 * HSM, so certificate and key pair up by it.  False only when the
 * certificate's public key cannot be read.
 */
bool cs_cert_key_id(const cs_cert *cert, unsigned char id[20]);

/* Appends cert to list; the list owns it afterwards (freed even on failure). */
cs_rv cs_cert_list_push(cs_cert_list *list, cs_cert *cert, cs_err *err);
void cs_cert_list_clear(cs_cert_list *list);

/* ---- parsing outside input --------------------------------------------- */

typedef enum {
	CS_FORMAT_UNKNOWN = 0,
	CS_FORMAT_DER,	  /* one X.509 certificate */
	CS_FORMAT_PEM,	  /* one or more CERTIFICATE blocks */
	CS_FORMAT_PKCS7,  /* certs-only SignedData, DER or PEM/Base64 */
	CS_FORMAT_PKCS12, /* PFX: needs a password, see the key issue */
	CS_FORMAT_BASE64, /* bare Base64 of DER (Windows "Base-64 encoded X.509") */
} cs_format;

const char *cs_format_name(cs_format f);

/*
 * Detects the format of data and parses every certificate in it into certs
 * (in file order).  Input holding no certificate at all, or anything
 * malformed, is CS_ERR_BAD_INPUT with a message saying what is wrong
 * ("PKCS#7 holds no certificates", "PEM block 2 is not valid Base64", ...).
 * A PKCS#12 file is reported as CS_FORMAT_PKCS12 with CS_ERR_BAD_INPUT
 * unless the caller handles it.  `format` may be NULL.
 */
cs_rv cs_parse_certs(const unsigned char *data, size_t len, cs_format *format, cs_cert_list *certs,
		     cs_err *err);

/* ---- the store --------------------------------------------------------- */

typedef struct cs_store cs_store;

enum {
	CS_OPEN_CREATE = 1 << 0,   /* create the directory and database if absent */
	CS_OPEN_READONLY = 1 << 1, /* never write (readers: provider, module) */
};

/*
 * Opens the store in dir (NULL: $CERTSTORE_DIR, else /var/lib/certstore).
 * A missing store is CS_ERR_NOT_FOUND unless CS_OPEN_CREATE is given, which
 * makes the directory 0700 and the database 0600.  A directory writable by
 * group or others is refused (CS_ERR_STORE).  Runs schema migrations.
 */
cs_rv cs_store_open(const char *dir, int flags, cs_store **out, cs_err *err);
void cs_store_close(cs_store *store);
const char *cs_store_dir(const cs_store *store);
/* The default directory as cs_store_open would pick it (never NULL). */
const char *cs_store_default_dir(void);

/* Selection for listing and lookups. */
typedef struct cs_find_opts {
	cs_store_id store;     /* CS_STORE_NONE: every store */
	bool include_archived; /* archived certificates are hidden otherwise */
	bool by_cn;	       /* cs_store_find_one: a subject CN too (never archived ones) */
} cs_find_opts;

/* Every certificate matching opts, ordered by store then subject. */
cs_rv cs_store_list(cs_store *store, const cs_find_opts *opts, cs_cert_list *out, cs_err *err);

/*
 * Resolves an ID the way the tool accepts it: a SHA-1 or SHA-256 thumbprint
 * (spaces and colons ignored, any case), a unique prefix of at least 8 hex
 * digits, a friendly name (the live certificates of that name when there
 * are any: a renewal leaves the name on the one it archived), or, with
 * opts->by_cn and when nothing else matches, the subject CN of a certificate
 * not archived.  Exactly one match
 * is CS_OK; none is
 * CS_ERR_NOT_FOUND; several is CS_ERR_AMBIGUOUS and `out_all` (if not NULL)
 * receives every match so the caller can list them.
 */
cs_rv cs_store_find_one(cs_store *store, const char *id, const cs_find_opts *opts, cs_cert **out,
			cs_cert_list *out_all, cs_err *err);

/* Exact lookup by SHA-1 thumbprint (upper-case hex) in one store. */
cs_rv cs_store_find_by_thumbprint(cs_store *store, cs_store_id sid, const char *sha1, cs_cert **out,
				  cs_err *err);

/* Certificates whose subject equals name (by the indexed DER encoding),
 * restricted to opts->store when set.  Zero matches is CS_OK with an empty list. */
cs_rv cs_store_find_by_subject(cs_store *store, const X509_NAME *name, const cs_find_opts *opts,
			       cs_cert_list *out, cs_err *err);

/* The DER of certificates, without anything parsed from it. */
typedef struct cs_der_list {
	cs_bytes *items;
	size_t n;
} cs_der_list;

void cs_der_list_clear(cs_der_list *list);

/* As cs_store_find_by_subject, but only each certificate's DER, in the same
 * order and without parsing it: for issuer lookups that hand the DER on to
 * OpenSSL, which parses it anyway (a certificate parse is most of a lookup's
 * cost under OpenSSL 3.0). */
cs_rv cs_store_find_der_by_subject(cs_store *store, const X509_NAME *name, const cs_find_opts *opts,
				   cs_der_list *out, cs_err *err);

/* Certificates with this issuer and serial number (the (issuer, serial)
 * index), restricted to opts->store when set.  Zero matches is CS_OK with an
 * empty list. */
cs_rv cs_store_find_by_issuer_serial(cs_store *store, const X509_NAME *issuer,
				     const ASN1_INTEGER *serial, const cs_find_opts *opts,
				     cs_cert_list *out, cs_err *err);

/* The certificate in database row id (cs_cert.id), archived or not; a row that
 * is gone is CS_ERR_NOT_FOUND. */
cs_rv cs_store_find_by_row(cs_store *store, int64_t id, cs_cert **out, cs_err *err);

/*
 * A number that changes whenever another connection (another process, or
 * another cs_store of this one) commits a change to the database, and stays
 * the same otherwise: a cheap way for long-running readers to notice that
 * what they cached is stale.  Only equality between two readings on the same
 * cs_store means anything.
 */
cs_rv cs_store_data_version(cs_store *store, int64_t *out, cs_err *err);

/* Certificates whose friendly name equals name exactly (no thumbprint
 * guessing, unlike cs_store_find_one), restricted to opts->store when set.
 * Zero matches is CS_OK with an empty list. */
cs_rv cs_store_find_by_friendly_name(cs_store *store, const char *name, const cs_find_opts *opts,
				     cs_cert_list *out, cs_err *err);

/* Certificates whose key ID (cs_cert_key_id) is id, by the key_id index,
 * restricted to opts->store when set.  Zero matches is CS_OK, empty list. */
cs_rv cs_store_find_by_key_id(cs_store *store, const unsigned char *id, size_t len,
			      const cs_find_opts *opts, cs_cert_list *out, cs_err *err);

/* Number of (non-archived unless opts says) certificates in a store. */
cs_rv cs_store_count(cs_store *store, const cs_find_opts *opts, int64_t *out, cs_err *err);

/* ---- import ------------------------------------------------------------ */

typedef struct cs_import_opts {
	cs_store_id store;	   /* CS_STORE_NONE: place each by its kind */
	const char *friendly_name; /* applied to end-entity certs (or all if one) */
	int64_t request_id;	   /* the pending request the answer is for; 0: the
				      newest one for the certificate's key */
} cs_import_opts;

typedef enum {
	CS_IMPORT_ADDED = 1,
	CS_IMPORT_DUPLICATE,	/* already in that store: not added again */
	CS_IMPORT_SKIPPED_ROOT, /* self-signed root without --store Root */
} cs_import_outcome;

typedef struct cs_import_item {
	cs_import_outcome outcome;
	cs_store_id store; /* where it went / would have gone */
	char sha1[41];
	char *subject;
	int64_t request_id; /* the pending request this certificate answered, or 0 */
	char renewed[41];   /* the certificate that request renewed, "" when none */
	bool moved;	    /* its usages moved and it was archived in the import's transaction */
	bool not_root;	    /* Root was asked for, but it is not self-signed: placed by kind */
	bool key_attached;  /* PFX: the certificate was in My without a key; the key is bound now */
} cs_import_item;

typedef struct cs_import_result {
	cs_import_item *items;
	size_t n;
	size_t added, duplicates, skipped_roots;
	size_t accepted; /* certificates bound to the key of a pending request */
} cs_import_result;

void cs_import_result_clear(cs_import_result *res);

/*
 * Decides where each certificate goes and adds the ones not already there,
 * in one transaction.  Without opts->store: end-entity → My, CA → CA,
 * self-signed root → skipped (trust is only added when the admin names Root),
 * or a duplicate when it is in Root already.  opts->store Root takes only
 * self-signed certificates: the others go to My or CA (item.not_root).
 * Duplicates are reported, not added.  Every added certificate is audit-logged.
 * A certificate for My whose public key is that of a pending request is the
 * CA's answer (certreq -accept): it takes the request's key reference,
 * exportable flag and friendly name, and the pending request is removed, in
 * the same transaction.
 */
cs_rv cs_import_certs(cs_store *store, const cs_cert_list *certs, const cs_import_opts *opts,
		      cs_import_result *res, cs_err *err);

/* Reads path, parses it (cs_parse_certs) and imports it.  Errors name the file. */
cs_rv cs_import_file(cs_store *store, const char *path, const cs_import_opts *opts,
		     cs_import_result *res, cs_err *err);

/* ---- changing certificates --------------------------------------------- */

/* Removes the certificate row (the key is the key module's business). */
cs_rv cs_store_delete(cs_store *store, const cs_cert *cert, cs_err *err);
/* Moves a certificate to another store (e.g. Root → Disallowed). */
cs_rv cs_store_move(cs_store *store, const cs_cert *cert, cs_store_id to, cs_err *err);
cs_rv cs_store_set_friendly_name(cs_store *store, const cs_cert *cert, const char *name,
				 cs_err *err);
cs_rv cs_store_set_archived(cs_store *store, const cs_cert *cert, bool archived, cs_err *err);
/* Records the CA profile that issued cert (what `renew` goes back to). */
cs_rv cs_store_set_ca_profile(cs_store *store, const cs_cert *cert, const char *profile,
			      cs_err *err);
/* Sets (or with uri NULL clears) the key reference and exportable flag. */
cs_rv cs_store_set_key(cs_store *store, const cs_cert *cert, const char *uri, bool exportable,
		       cs_err *err);

/* ---- status ------------------------------------------------------------ */

typedef enum {
	CS_STATUS_VALID = 0,
	CS_STATUS_EXPIRED,
	CS_STATUS_NOT_YET_VALID,
	CS_STATUS_UNTRUSTED_ROOT,
	CS_STATUS_MISSING_KEY,
	CS_STATUS_KEY_MISMATCH,
	CS_STATUS_DISALLOWED,
	CS_STATUS_BAD_SIGNATURE,
	CS_STATUS_INVALID_CHAIN, /* any other chain failure; detail says which */
	/* the key token could not be asked (PIN file unreadable, module
	 * missing, token absent): whether the key is there is not known;
	 * detail says why.  Never the answer of a cs_key_checker. */
	CS_STATUS_KEY_TOKEN_UNAVAILABLE,
} cs_status;

/* "Valid", "Expired", "Not yet valid", "Untrusted root", "Missing private key",
 * "Private key mismatch", "Disallowed", "Invalid signature", "Invalid chain",
 * "Key token unavailable". */
const char *cs_status_name(cs_status s);

/*
 * Answers "does this certificate have its private key, and does the key
 * match?"  The store has no notion of tokens; the key module installs one
 * (cs_store_set_key_checker) and status asks it.  Returns CS_STATUS_VALID,
 * CS_STATUS_MISSING_KEY or CS_STATUS_KEY_MISMATCH.
 */
typedef cs_status (*cs_key_checker)(void *ctx, const cs_cert *cert);
void cs_store_set_key_checker(cs_store *store, cs_key_checker fn, void *ctx);

typedef struct cs_status_report {
	cs_status status;
	char detail[512]; /* e.g. "chain ends at CN=Test Root, which is not in Root" */
	/* The key half on its own (Valid / Missing private key / Private key
	 * mismatch), so a chain problem does not hide a key problem.  Valid for
	 * certificates that need no key (CAs, roots, anything outside My). */
	cs_status key_status;
	cs_cert_list chain; /* leaf first, as far as it could be built */
} cs_status_report;

void cs_status_report_clear(cs_status_report *r);

/*
 * Computes the status of cert at time `now` (0: the current time, or
 * $CERTSTORE_NOW as seconds since the epoch when set, for tests): the one
 * place that decides.  Precedence: Disallowed, Expired / Not yet valid,
 * Untrusted root / Invalid signature / Invalid chain, then for end-entity
 * certificates in My, Missing private key / Private key mismatch.
 * A failure to compute (database error) is an error; a bad status is CS_OK
 * with the status in the report.
 */
cs_rv cs_status_compute(cs_store *store, const cs_cert *cert, time_t now, cs_status_report *out,
			cs_err *err);

/* The moment the status is computed for: $CERTSTORE_NOW if set, else time(NULL). */
time_t cs_now(void);

/* ---- export ------------------------------------------------------------ */

typedef enum {
	CS_EXPORT_PEM = 1,
	CS_EXPORT_DER,
	CS_EXPORT_P7B,
} cs_export_format;

/* Parses "pem", "der", "p7b" (also "cer" = der, "p7c" = p7b). */
cs_rv cs_export_format_parse(const char *s, cs_export_format *out, cs_err *err);

/*
 * Serialises cert, and with with_chain its chain as far as the store can
 * build it (leaf first, root last; DER cannot hold a chain: CS_ERR_USAGE).
 */
cs_rv cs_export_cert(cs_store *store, const cs_cert *cert, cs_export_format fmt, bool with_chain,
		     cs_bytes *out, cs_err *err);

/* ---- audit log --------------------------------------------------------- */

typedef struct cs_audit_entry {
	int64_t id;
	int64_t time;
	int64_t uid;
	char *action;
	char *detail;
} cs_audit_entry;

typedef struct cs_audit_list {
	cs_audit_entry *items;
	size_t n;
} cs_audit_list;

/* Records one entry (time and uid are taken here). */
cs_rv cs_audit_add(cs_store *store, const char *action, const char *detail, cs_err *err);
/* Every entry, oldest first; action_prefix NULL for all. */
cs_rv cs_audit_list_get(cs_store *store, const char *action_prefix, cs_audit_list *out,
			cs_err *err);
void cs_audit_list_clear(cs_audit_list *list);

#ifdef __cplusplus
}
#endif

#endif /* CERTSTORE_H */
