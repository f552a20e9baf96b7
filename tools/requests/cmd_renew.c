/*
 * cmd_renew.c - `certstore renew ID [--new-key] [--ca PROFILE | --out FILE]`
 */
#include <stdlib.h>

#include "cli.h"
#include "request_flow.h"

typedef struct renew_args {
	const char *id, *ca, *out;
	bool new_key, json, help;
} renew_args;

enum { OPT_NEW_KEY = 256, OPT_CA, OPT_JSON };

static const struct option longopts[] = {
	{"new-key", no_argument, NULL, OPT_NEW_KEY},
	{"ca", required_argument, NULL, OPT_CA},
	{"out", required_argument, NULL, 'o'},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const cli_option renew_options[] = {
	{OPT_NEW_KEY, CLI_FLAG, offsetof(renew_args, new_key), NULL},
	{OPT_CA, CLI_VALUE, offsetof(renew_args, ca), NULL},
	{'o', CLI_VALUE, offsetof(renew_args, out), NULL},
	{OPT_JSON, CLI_FLAG, offsetof(renew_args, json), NULL},
	{0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, renew_args *a, cs_err *err)
{
	cs_rv rv = cli_parse_options(cmd, argc, argv, renew_options, a, &a->help, err);

	if (rv != CS_OK || a->help)
		return rv;
	rv = cli_expect_operands(cmd, argc, argv, 1, 1, err);
	if (rv == CS_OK)
		a->id = argv[optind];
	if (rv == CS_OK && a->ca != NULL && a->out != NULL)
		rv = cli_usage_error(cmd, err, "--ca and --out exclude each other");
	return rv;
}

static cs_rv renew(cs_store *store, void *arg, cs_err *err)
{
	const renew_args *a = arg;
	cs_cert *cert = NULL;
	cli_keys keys = {0};
	cs_rv rv = cli_find_cert(store, a->id, CS_STORE_MY, &cert, err);

	if (rv == CS_OK)
		rv = cli_keys_open(store, &keys, err);
	if (rv == CS_OK)
		rv = flow_renew(store, &keys, cert, a->ca, a->new_key, a->out, a->json, err);
	cli_keys_close(&keys);
	cs_cert_free(cert);
	return rv;
}

static cs_rv run_renew(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
		       cs_err *err)
{
	renew_args a = {0};
	cli_store_job job = {.act = renew, .arg = &a};
	cs_rv rv = parse_args(cmd, argc, argv, &a, err);

	if (rv != CS_OK || a.help)
		return rv;
	return cli_run_with_store(ctx, &job, err);
}

const cli_command cmd_renew = {
	.name = "renew",
	.summary = "renew a certificate through its CA; its usages follow",
	.usage = "Usage: certstore renew ID [--new-key] [--ca PROFILE | --out FILE] [--json]\n"
		 "\n"
		 "Requests the certificate ID (in My) again: the same subject, alternative names\n"
		 "and key type, with the same key (default) or a new one made in the token\n"
		 "(--new-key).  It goes to the CA profile that issued it (or --ca PROFILE), or to\n"
		 "FILE for an offline CA (import the response later).  Once the new certificate\n"
		 "is installed, every usage of the old one moves to it at once (hooks run) and\n"
		 "the old one is archived (`list --all` shows it).\n",
	.shortopts = "o:h",
	.longopts = longopts,
	.run = run_renew,
};
