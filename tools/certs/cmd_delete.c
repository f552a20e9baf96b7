/*
 * cmd_delete.c - `certstore delete ID [--store S] [--keep-key]`
 *
 * The certificate's key goes with it, unless another certificate or a
 * pending request uses the same key or --keep-key says otherwise.  The token
 * is opened before the row goes, so a token that cannot be reached leaves
 * everything as it was.
 */
#include <string.h>

#include "cli.h"
#include "cli_keys.h"
#include "request.h"
#include "requests.h"

/* Besides the ID and --store, which cli_run_cert_command takes. */
typedef struct delete_args {
	bool keep_key;
} delete_args;

static const struct option longopts[] = {
	{"store", required_argument, NULL, 's'},
	{"keep-key", no_argument, NULL, 'k'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Another certificate (any store, archived too) or a pending request with
 * the same key_uri (cs_key_users). */
static cs_rv key_shared(cs_store *store, const cs_cert *cert, const char **user, cs_err *err)
{
	static char who[128];
	bool used = false;
	cs_rv rv = cs_key_users(store, cert->key_uri, cert->id, 0, &used, who, sizeof(who), err);

	*user = used ? who : NULL;
	return rv;
}

/* Decides whether the key goes too, and opens the token if so (before any change). */
static cs_rv prepare_key(cs_store *store, const delete_args *args, const cs_cert *cert,
			 cs_token **tok, cs_err *err)
{
	const char *user = NULL;
	cs_rv rv;

	*tok = NULL;
	if (cert->key_uri == NULL || args->keep_key)
		return CS_OK;
	rv = key_shared(store, cert, &user, err);
	if (rv == CS_OK && user != NULL) {
		printf("key kept: %s uses it too\n", user);
		return CS_OK;
	}
	if (rv == CS_OK)
		rv = cli_token_open(store, tok, err);
	if (rv != CS_OK)
		cs_err_prefix(err, "nothing deleted (use --keep-key to delete only the "
				   "certificate)");
	return rv;
}

static cs_rv delete_key(cs_token *tok, const cs_cert *cert, cs_err *err)
{
	cs_rv rv = cs_key_delete(tok, cert->key_uri, err);

	if (rv == CS_OK)
		printf("deleted the private key from the token: %s\n", cert->key_uri);
	else if (rv == CS_ERR_NOT_FOUND)
		printf("the private key was not in the token any more\n");
	else
		cs_err_prefix(err, "the certificate is deleted, but its private key is not");
	return rv == CS_ERR_NOT_FOUND ? CS_OK : rv;
}

static cs_rv delete_cert(cs_store *store, const cs_cert *cert, const void *args, cs_err *err)
{
	cs_token *tok = NULL;
	cs_rv rv;

	rv = prepare_key(store, args, cert, &tok, err);
	if (rv == CS_OK)
		rv = cs_store_delete(store, cert, err);
	if (rv == CS_OK)
		printf("deleted from %s: %s (%s)\n", cs_store_id_name(cert->store), cert->subject,
		       cert->sha1);
	if (rv == CS_OK && tok != NULL)
		rv = delete_key(tok, cert, err);
	cs_token_close(tok);
	return rv;
}

static const cli_option delete_options[] = {
	{'k', CLI_FLAG, offsetof(delete_args, keep_key), NULL},
	{0},
};

static const cli_cert_command delete = {
	.options = delete_options,
	.args_size = sizeof(delete_args),
	.act = delete_cert,
};

const cli_command cmd_delete = {
	.name = "delete",
	.summary = "remove a certificate (and its private key) from the store",
	.usage = "Usage: certstore delete ID [--store STORE] [--keep-key]\n"
		 "\n"
		 "Removes the certificate named by ID (as for 'show') from its store, and\n"
		 "its private key from the key token unless another certificate or a\n"
		 "pending request uses the same key, or --keep-key is given.\n"
		 "\n"
		 "Options:\n"
		 "  -s, --store STORE  look only in STORE\n"
		 "  -k, --keep-key     leave the private key in the token\n"
		 "  -h, --help         this help\n",
	.shortopts = "s:kh",
	.longopts = longopts,
	.run = cli_run_cert_command,
	.on_cert = &delete,
};
