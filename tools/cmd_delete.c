/*
 * cmd_delete.c - `certstore delete ID [--store S]`
 */
#include "cli.h"

typedef struct delete_args {
	const char *id;
	const char *store_name;
	bool help;
} delete_args;

static const struct option longopts[] = {
    {"store", required_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, delete_args *args,
			cs_err *err)
{
	cs_rv rv = CS_OK;
	int c;

	while ((c = cli_next_option(cmd, argc, argv, &rv, err)) >= 0)
		if (c == 's')
			args->store_name = optarg;
	if (c == CLI_OPT_STOP) {
		args->help = rv == CS_OK;
		return rv;
	}
	rv = cli_expect_operands(cmd, argc, argv, 1, 1, err);
	if (rv == CS_OK)
		args->id = argv[optind];
	return rv;
}

static cs_rv delete_cert(cs_store *store, const delete_args *args, cs_store_id sid, cs_err *err)
{
	cs_cert *cert = NULL;
	cs_rv rv;

	rv = cli_find_cert(store, args->id, sid, &cert, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_store_delete(store, cert, err);
	if (rv == CS_OK)
		printf("deleted from %s: %s (%s)\n", cs_store_id_name(cert->store), cert->subject,
		       cert->sha1);
	cs_cert_free(cert);
	return rv;
}

static cs_rv run_delete(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			cs_err *err)
{
	delete_args args = {0};
	cs_store_id sid;
	cs_store *store = NULL;
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &args, err);
	if (rv != CS_OK || args.help)
		return rv;
	rv = cli_parse_store_name(args.store_name, &sid, err);
	if (rv != CS_OK)
		return rv;
	rv = cli_open_store(ctx, 0, &store, err);
	if (rv == CS_OK)
		rv = delete_cert(store, &args, sid, err);
	cs_store_close(store);
	return rv;
}

const cli_command cmd_delete = {
    .name = "delete",
    .summary = "remove a certificate from its store",
    .usage = "Usage: certstore delete ID [--store STORE]\n"
	     "\n"
	     "Removes the certificate named by ID (as for 'show') from its store.\n"
	     "\n"
	     "Options:\n"
	     "  -s, --store STORE  look only in STORE\n"
	     "  -h, --help         this help\n",
    .shortopts = "s:h",
    .longopts = longopts,
    .run = run_delete,
};
