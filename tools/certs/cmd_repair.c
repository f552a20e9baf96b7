/*
 * cmd_repair.c - `certstore repair ID [--store S]` (certutil -repairstore):
 * finds the token key whose public key is the certificate's and binds it.
 */
#include <stdlib.h>

#include "cli.h"
#include "cli_keys.h"

static const struct option longopts[] = {
	{"store", required_argument, NULL, 's'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

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

static cs_rv repair_cert(cs_store *store, const cs_cert *cert, const void *args, cs_err *err)
{
	cs_token *tok = NULL;
	cs_rv rv;

	(void)args;
	rv = cli_token_open(store, &tok, err);
	if (rv == CS_OK)
		rv = relink(store, tok, cert, err);
	cs_token_close(tok);
	return rv;
}

/* No options of its own: --store only. */
static const cli_option repair_options[] = {{0}};

static const cli_cert_command repair = {
	.options = repair_options,
	.act = repair_cert,
};

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
	.run = cli_run_cert_command,
	.on_cert = &repair,
};
