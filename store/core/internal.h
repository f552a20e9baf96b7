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
	char key_token_error[CS_ERR_MSG_MAX];	    /* why the token could not be opened, or "" */
	const struct cs_import_hooks *import_hooks; /* NULL: imports complete no request */
};

/*
 * What an import asks the Request store, so that certs/ needs no requests/
 * code (requests/accept.c installs them; cs_store_open through
 * cs_requests_attach).  renewed holds 41 bytes: the SHA-1 thumbprint of the
 * certificate a request renews, or "".
 */
typedef struct cs_import_hooks {
	/* Before cert's row is written: when a pending request holds cert's
	 * key (opts->request_id, when set, names it), cert takes over its key
	 * URI, exportable flag, friendly name (unless opts names one) and CA
	 * profile; *request_id is set to the request's id, 0 when none. */
	cs_rv (*accept)(cs_store *store, cs_cert *cert, const cs_import_opts *opts,
			int64_t *request_id, char *renewed, cs_err *err);
	/* In the import's transaction, after cert's row: request_id is
	 * answered; *moved says whether the renewal moved usages to cert. */
	cs_rv (*answered)(cs_store *store, const cs_cert *cert, int64_t request_id,
			  const char *renewed, bool *moved, cs_err *err);
	/* After the commit, for each certificate that answered a request. */
	cs_rv (*committed)(cs_store *store, const char *sha1, const char *renewed, bool moved,
			   cs_err *err);
} cs_import_hooks;

/* Upper-case hex of len bytes into out (2*len+1 bytes). */
void cs_hex_upper(const unsigned char *in, size_t len, char *out);
/* Normalises a user-typed thumbprint: drops spaces and colons, upper-cases.
 * Returns false when anything but hex digits remains. out holds 65+1 bytes. */
bool cs_thumbprint_normalise(const char *in, char *out, size_t outsz);

char *cs_strdup_or_null(const char *s);
/* s without its leading white space, its trailing white space cut off in
 * place (isspace). */
char *cs_str_trim(char *s);

/* cs_cert_key_id for a bare X509 (the database's key_id column). */
bool cs_x509_key_id(const X509 *x, unsigned char id[20]);

#endif
