/*
 * cmd_repair.c - `certstore repair ID [--store S]` (certutil -repairstore):
 * finds the token key whose public key is the certificate's and binds it.
 */
#include <stdlib.h>

#include "cli.h"
#include "cli_keys.h"

typedef struct repair_args {
	const char *id;
	const char *store_name;
	bool help;
} repair_args;

static const struct option longopts[] = {
	{"store", required_argument, NULL, 's'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, repair_args *args,
			cs_err *err)
{
	const cli_opt_slot slots[] = {{'s', &args->store_name, NULL}, {0}};

	return cli_parse_id_args(cmd, argc, argv, slots, &args->id, &args->help, err);
}

static cs_rv relink(cs_store *store, cs_token *tok, const cs_cert *cert, cs_err *err)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert->x509);
	char *uri = NULL;
	bool exportable = false;
	cs_rv rv;

	if (pub == NULL)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "%s: cannot read its public key",
				  cert->sha1);
	rv = cs_key_find_by_public(tok, pub, &uri, err);
	if (rv == CS_ERR_NOT_FOUND)
		return cs_err_set(err, rv, "no key in the token matches %s (%s)", cert->subject,
				  cert->sha1);
	if (rv == CS_OK)
		rv = cs_key_is_exportable(tok, uri, &exportable, err);
	if (rv == CS_OK)
		rv = cs_store_set_key(store, cert, uri, exportable, err);
	if (rv == CS_OK)
		printf("repaired %s (%s): bound to %s (%s)\n", cert->subject, cert->sha1, uri,
		       exportable ? "exportable" : "not exportable");
	free(uri);
	return rv;
}

static cs_rv repair_cert(cs_store *store, const repair_args *args, cs_store_id sid, cs_err *err)
{
	cs_cert *cert = NULL;
	cs_token *tok = NULL;
	cs_rv rv;

	rv = cli_find_cert(store, args->id, sid, &cert, err);
	if (rv == CS_OK)
		rv = cli_token_open(store, &tok, err);
	if (rv == CS_OK)
		rv = relink(store, tok, cert, err);
	cs_token_close(tok);
	cs_cert_free(cert);
	return rv;
}

static cs_rv run_repair(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			cs_err *err)
{
	repair_args args = {0};
	cs_store_id sid;
	cs_store *store = NULL;
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &args, err);
	if (rv != CS_OK || args.help)
		return rv;
	rv = cli_parse_store_name(args.store_name, &sid, err);
	if (rv == CS_OK)
		rv = cli_open_store(ctx, 0, &store, err);
	if (rv == CS_OK)
		rv = repair_cert(store, &args, sid, err);
	cs_store_close(store);
	return rv;
}

const cli_command cmd_repair = {
	.name = "repair",
	.summary = "re-link a certificate to its private key in the token",
	.usage = "Usage: certstore repair ID [--store STORE]\n"
		 "\n"
		 "Finds the private key in the store's key token whose public key is that\n"
		 "of the certificate named by ID (as for 'show') and binds the certificate\n"
		 "to it, as Windows 'certutil -repairstore' does: for a certificate that\n"
		 "says 'Missing private key' or 'Private key mismatch' while its key is\n"
		 "in the token.\n"
		 "\n"
		 "Options:\n"
		 "  -s, --store STORE  look only in STORE\n"
		 "  -h, --help         this help\n"
		 "\n"
		 "Exit status: 0 when bound; 3 when no key in the token matches.\n",
	.shortopts = "s:h",
	.longopts = longopts,
	.run = run_repair,
};
