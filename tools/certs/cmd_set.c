/*
 * cmd_set.c - `certstore set ID --friendly-name NAME [--store S]`
 */
#include "cli.h"

/* Besides the ID and --store, which cli_run_cert_command takes. */
typedef struct set_args {
	const char *friendly_name;
} set_args;

static const struct option longopts[] = {
	{"store", required_argument, NULL, 's'},
	{"friendly-name", required_argument, NULL, 'n'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static cs_rv set_properties(cs_store *store, const cs_cert *cert, const void *arg, cs_err *err)
{
	const set_args *args = arg;
	cs_rv rv;

	rv = cs_store_set_friendly_name(store, cert, args->friendly_name, err);
	if (rv == CS_OK)
		printf("friendly name of %s (%s) set to \"%s\"\n", cert->subject, cert->sha1,
		       args->friendly_name);
	return rv;
}

static const cli_option set_options[] = {
	{'n', CLI_VALUE, offsetof(set_args, friendly_name),
	 "nothing to set: give --friendly-name NAME"},
	{0},
};

static const cli_cert_command set = {
	.options = set_options,
	.args_size = sizeof(set_args),
	.act = set_properties,
};

const cli_command cmd_set = {
	.name = "set",
	.summary = "change a certificate's properties (friendly name)",
	.usage = "Usage: certstore set ID --friendly-name NAME [--store STORE]\n"
		 "\n"
		 "Changes a property of the certificate named by ID (as for 'show').\n"
		 "\n"
		 "Options:\n"
		 "  -n, --friendly-name NAME  the new friendly name\n"
		 "  -s, --store STORE         look for ID only in STORE\n"
		 "  -h, --help                this help\n",
	.shortopts = "s:n:h",
	.longopts = longopts,
	.run = cli_run_cert_command,
	.on_cert = &set,
};
