/*
 * cmd_move.c - `certstore move ID --to STORE [--store S]`
 */
#include "cli.h"

typedef struct move_args {
	const char *id;
	const char *store_name;
	const char *to_name;
	bool help;
} move_args;

static const struct option longopts[] = {
    {"store", required_argument, NULL, 's'},
    {"to", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, move_args *args,
			cs_err *err)
{
	const cli_opt_slot slots[] = {{'s', &args->store_name, NULL}, {'t', &args->to_name, NULL}, {0}};
	cs_rv rv = cli_parse_id_args(cmd, argc, argv, slots, &args->id, &args->help, err);

	if (rv == CS_OK && !args->help && args->to_name == NULL)
		return cli_usage_error(cmd, err, "--to STORE is required");
	return rv;
}

static cs_rv move_cert(cs_store *store, const move_args *args, cs_store_id sid, cs_store_id to,
		       cs_err *err)
{
	cs_cert *cert = NULL;
	cs_rv rv;

	rv = cli_find_cert(store, args->id, sid, &cert, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_store_move(store, cert, to, err);
	if (rv == CS_OK)
		printf("moved from %s to %s: %s (%s)\n", cs_store_id_name(cert->store),
		       cs_store_id_name(to), cert->subject, cert->sha1);
	cs_cert_free(cert);
	return rv;
}

static cs_rv run_move(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
		      cs_err *err)
{
	move_args args = {0};
	cs_store_id sid, to;
	cs_store *store = NULL;
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &args, err);
	if (rv != CS_OK || args.help)
		return rv;
	rv = cli_parse_store_name(args.store_name, &sid, err);
	if (rv == CS_OK)
		rv = cli_parse_store_name(args.to_name, &to, err);
	if (rv != CS_OK)
		return rv;
	rv = cli_open_store(ctx, 0, &store, err);
	if (rv == CS_OK)
		rv = move_cert(store, &args, sid, to, err);
	cs_store_close(store);
	return rv;
}

const cli_command cmd_move = {
    .name = "move",
    .summary = "move a certificate to another store (e.g. a root to Disallowed)",
    .usage = "Usage: certstore move ID --to STORE [--store STORE]\n"
	     "\n"
	     "Moves the certificate named by ID (as for 'show') to another store, for\n"
	     "example a root that must no longer be trusted to Disallowed.\n"
	     "\n"
	     "Options:\n"
	     "  -t, --to STORE     the destination store\n"
	     "  -s, --store STORE  look for ID only in STORE\n"
	     "  -h, --help         this help\n",
    .shortopts = "s:t:h",
    .longopts = longopts,
    .run = run_move,
};
