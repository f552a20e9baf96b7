/*
 * usage.h - usages: a name a service asks for ("Default",
 * "WebServicesInternal") pointing at one certificate, published as files a
 * TLS server reads, and PEM key references naming HSM keys.
 *
 * Conventions are those of certstore.h.
 */
#ifndef CERTSTORE_USAGE_H
#define CERTSTORE_USAGE_H

#include "certstore.h"
#include "renewal.h" /* cs_renewal_*, public here since they were first declared */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- PEM key references -------------------------------------------------- */

#define CS_KEYREF_PEM_NAME "CERTSTORE KEY REFERENCE"

/*
 * A PEM block naming a store key instead of holding it: programs that only
 * read key files get the HSM key through the certstore provider's decoder.
 * The body is Base64 of lines "version=1", "store=DIR", "thumbprint=SHA1"
 * (the certificate whose key is meant) and "uri=pkcs11:…" (the key as it
 * was when written; the store's binding wins when they differ).
 */
typedef struct cs_keyref {
	char *store_dir;
	char thumbprint[41];
	char *uri;
} cs_keyref;

/* The key reference PEM of cert's key (store_dir made absolute) as a
 * malloc()ed NUL-terminated string in *out; a certificate without a key
 * is CS_ERR_KEY. */
cs_rv cs_keyref_pem(const char *store_dir, const cs_cert *cert, char **out, cs_err *err);
/* Parses the first CERTSTORE KEY REFERENCE block in data, or a block's
 * decoded body alone (data starting "version=1\n"); anything else is
 * CS_ERR_BAD_INPUT. */
cs_rv cs_keyref_parse(const unsigned char *data, size_t len, cs_keyref *out, cs_err *err);
/* Frees what cs_keyref_parse put in ref; ref itself is the caller's. */
void cs_keyref_clear(cs_keyref *ref);

/* ---- usages ----------------------------------------------------------------- */

/* True for [A-Za-z0-9._-]+ of at most 64 characters, not "." or "..". */
bool cs_usage_name_valid(const char *name);

typedef struct cs_usage {
	char *name;
	char sha1[41];		/* current certificate, "" when unassigned */
	char previous_sha1[41]; /* what `assign --previous` restores, "" when none */
	char staged_sha1[41];	/* a staged roll, "" when none */
	int64_t staged_at;
	int64_t assigned_at;
} cs_usage;

typedef struct cs_usage_list {
	cs_usage *items;
	size_t n;
} cs_usage_list;

/* Every usage the store holds, by name (cs_usage says which fields are
 * set); free with cs_usage_list_clear. */
cs_rv cs_usage_list_get(cs_store *store, cs_usage_list *out, cs_err *err);
void cs_usage_list_clear(cs_usage_list *l);
/* CS_ERR_NOT_FOUND when the usage was never assigned. */
cs_rv cs_usage_get(cs_store *store, const char *name, cs_usage *out, cs_err *err);
/* Frees what cs_usage_get put in u; u itself is the caller's. */
void cs_usage_clear(cs_usage *u);

/*
 * Points usage NAME at cert (a certificate in My) and publishes
 * usages/NAME/{cert,chain,fullchain,key}.pem atomically: a new directory is
 * written and fsync'd, then a symlink swap makes it current, so a reader
 * sees all old or all new files.  The previous certificate is remembered.
 * With `group = G` in [usage.NAME] of certstore.conf, the directory and its
 * files belong to group G with modes 0750 and 0640 before they are swapped in.
 * A certificate that is not Valid is CS_ERR_NOT_VALID naming its status
 * unless force.  The database row and the published files agree on return;
 * after a crash, cs_usage_check repairs them.
 */
cs_rv cs_usage_assign(cs_store *store, const char *name, const cs_cert *cert, bool force,
		      cs_err *err);
/* Removes the assignment and its published directory (the certificate stays). */
cs_rv cs_usage_unassign(cs_store *store, const char *name, cs_err *err);
/* Stages cert for usage NAME at time `at`; cs_usage_apply_due makes it current. */
cs_rv cs_usage_stage(cs_store *store, const char *name, const cs_cert *cert, int64_t at,
		     cs_err *err);
/* Applies staged assignments whose time has come (cs_now()) and runs their
 * hooks; *applied counts them.  One failing entry does not hold up the
 * others; the first failure is returned (CS_ERR_HOOK when only hooks failed). */
cs_rv cs_usage_apply_due(cs_store *store, size_t *applied, cs_err *err);
/* Every usage of old_cert moves to new_cert (renewal), atomically per usage,
 * and the hooks of each run; a failing hook does not stop the move. */
cs_rv cs_usage_move_all(cs_store *store, const cs_cert *old_cert, const cs_cert *new_cert,
			cs_err *err);
/*
 * Makes the published directories agree with the database (after a crash):
 * rewrites any that are missing, stale or half-written, and runs the hooks
 * of each usage rewritten (its service still holds the old files); removes
 * leftovers.  *repaired counts the fixes.  A failing hook does not stop the
 * repairs: the first is returned as CS_ERR_HOOK once they are done.
 */
cs_rv cs_usage_check(cs_store *store, size_t *repaired, cs_err *err);

/* What a check repaired, one sentence each ("usage Default: republished …"). */
typedef struct cs_fix_list {
	char **items;
	size_t n;
} cs_fix_list;

/* Frees the sentences and empties l. */
void cs_fix_list_clear(cs_fix_list *l);

/* cs_usage_check, saying what it fixed: every fix is appended to *fixes. */
cs_rv cs_usage_check_fixes(cs_store *store, cs_fix_list *fixes, cs_err *err);

/*
 * Runs what [usage.NAME] of certstore.conf asks for once NAME serves cert
 * (the caller of cs_usage_assign calls it next; cs_usage_apply_due and
 * cs_usage_move_all call it themselves): the `on-assign` command, split into argv on whitespace
 * ("…" keeps spaces), run without a shell, with an environment of only
 * CERTSTORE_USAGE, CERTSTORE_THUMBPRINT, CERTSTORE_PUBLISH_DIR and PATH,
 * killed after `hook-timeout` seconds (default 60).  Its output (first
 * 4 KiB) and exit status go to the audit log, action "hook", detail
 * "NAME THUMBPRINT COMMAND: OUTCOME".  No hook configured is CS_OK.  A hook
 * that fails, cannot be run or does not exist is CS_ERR_HOOK; the
 * assignment stays as it is either way.
 */
cs_rv cs_usage_run_hooks(cs_store *store, const char *name, const cs_cert *cert, cs_err *err);

/* The directory published for NAME: "<store>/usages/NAME" (caller frees). */
char *cs_usage_dir(cs_store *store, const char *name);

/*
 * Writes published/roots.pem and the hashed directory published/roots/
 * (usable as -CApath) from the Root store, atomically.  Called after every
 * change to Root.
 */
cs_rv cs_publish_roots(cs_store *store, cs_err *err);

/*
 * Checks that published/roots.pem and published/roots/ hold exactly the
 * Root store, rewriting them when not (a crash, a hand edit), and removes
 * leftover generations.  Each fix is appended to *fixes.
 */
cs_rv cs_publish_roots_check(cs_store *store, cs_fix_list *fixes, cs_err *err);

#ifdef __cplusplus
}
#endif

#endif
