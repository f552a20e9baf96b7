/*
 * cmd_set.c - `certstore set ID --friendly-name NAME [--store S]`
 */
#include "cli.h"

typedef struct set_args {
	const char *id;
	const char *store_name;
	const char *friendly_name;
	bool help;
} set_args;

static const struct option longopts[] = {
	{"store", required_argument, NULL, 's'},
	{"friendly-name", required_argument, NULL, 'n'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, set_args *args, cs_err *err)
{
	const cli_opt_slot slots[] = {
		{'s', &args->store_name, NULL}, {'n', &args->friendly_name, NULL}, {0}};
	cs_rv rv = cli_parse_id_args(cmd, argc, argv, slots, &args->id, &args->help, err);

	if (rv == CS_OK && !args->help && args->friendly_name == NULL)
		return cli_usage_error(cmd, err, "nothing to set: give --friendly-name NAME");
	return rv;
}

static cs_rv set_properties(cs_store *store, const set_args *args, cs_store_id sid, cs_err *err)
{
	cs_cert *cert = NULL;
	cs_rv rv;

	rv = cli_find_cert(store, args->id, sid, &cert, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_store_set_friendly_name(store, cert, args->friendly_name, err);
	if (rv == CS_OK)
		printf("friendly name of %s (%s) set to \"%s\"\n", cert->subject, cert->sha1,
		       args->friendly_name);
	cs_cert_free(cert);
	return rv;
}

typedef struct set_job {
	const set_args *args;
	cs_store_id sid;
} set_job;

static cs_rv set_act(cs_store *store, void *arg, cs_err *err)
{
	const set_job *job = arg;

	return set_properties(store, job->args, job->sid, err);
}

static cs_rv run_set(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv, cs_err *err)
{
	set_args args = {0};
	set_job job = {&args, CS_STORE_NONE};
	cli_store_job run = {.act = set_act, .arg = &job};
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &args, err);
	if (rv != CS_OK || args.help)
		return rv;
	rv = cli_parse_store_name(args.store_name, &job.sid, err);
	if (rv == CS_OK)
		rv = cli_run_with_store(ctx, &run, err);
	return rv;
}

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
	.run = run_set,
};
