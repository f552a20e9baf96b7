/*
 * internal.h - what the files of libcertstore share and nobody else sees.
 */
#ifndef CS_INTERNAL_H
#define CS_INTERNAL_H

#include "certstore.h"

#include <sqlite3.h>

struct cs_store {
	char *dir;
	sqlite3 *db;
	int flags;
	cs_key_checker key_checker;
	void *key_checker_ctx;
	/* status's question to key custody with the token's failures kept as
	 * errors (cs_store_attach_token, key_status.c); preferred over
	 * key_checker, which can only answer with a status */
	cs_rv (*key_check)(void *ctx, const cs_cert *cert, cs_status *out, cs_err *err);
	void *key_check_ctx;
	char key_token_error[CS_ERR_MSG_MAX]; /* why the token could not be opened, or "" */
};

/* Upper-case hex of len bytes into out (2*len+1 bytes). */
void cs_hex_upper(const unsigned char *in, size_t len, char *out);
/* Normalises a user-typed thumbprint: drops spaces and colons, upper-cases.
 * Returns false when anything but hex digits remains. out holds 65+1 bytes. */
bool cs_thumbprint_normalise(const char *in, char *out, size_t outsz);

char *cs_strdup_or_null(const char *s);

/* cs_cert_key_id for a bare X509 (the database's key_id column). */
bool cs_x509_key_id(const X509 *x, unsigned char id[20]);

/* Republishes what is derived from Root (published/roots*) after a change to it. */
cs_rv cs_after_root_change(cs_store *store, cs_err *err);

/*
 * Assigns cert to every usage that now serves the certificate `serving`
 * (force: even when cert is not Valid) and runs each one's hooks.  A failing
 * hook does not leave the other usages behind: the first hook failure is
 * returned once all are moved (usage_roll.c).
 */
cs_rv cs_usage_reassign_serving(cs_store *store, const char *serving, const cs_cert *cert,
				bool force, cs_err *err);

/*
 * cs_import_certs, except that a certificate whose store field is already
 * set goes to that store instead of being placed by its kind (a PFX's leaf
 * goes to My with its key, its root to Root when the admin said so).  Its
 * key_uri and exportable fields are stored as they are.
 */
cs_rv cs_import_certs_placed(cs_store *store, const cs_cert_list *certs, const cs_import_opts *opts,
			     cs_import_result *res, cs_err *err);

#endif
