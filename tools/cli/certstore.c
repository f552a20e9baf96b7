/*
 * certstore.c - the `certstore` command: global options and dispatch.
 */
#include "config.h"

#include <string.h>

#include "cli.h"

extern const cli_command cmd_init, cmd_import, cmd_list, cmd_show, cmd_export, cmd_delete,
	cmd_verify, cmd_log, cmd_move, cmd_set, cmd_repair, cmd_request, cmd_requests, cmd_ca,
	cmd_accept, cmd_assign, cmd_unassign, cmd_usages, cmd_check, cmd_tick, cmd_renew, cmd_agent,
	cmd_served;

static const cli_command *const commands[] = {
	&cmd_init,   &cmd_import, &cmd_list,   &cmd_show,     &cmd_export,  &cmd_delete,
	&cmd_verify, &cmd_repair, &cmd_move,   &cmd_set,      &cmd_request, &cmd_requests,
	&cmd_accept, &cmd_ca,	  &cmd_assign, &cmd_unassign, &cmd_usages,  &cmd_check,
	&cmd_renew,  &cmd_tick,	  &cmd_log,    &cmd_agent,    &cmd_served,
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_help(void)
{
	fputs("Usage: certstore [--store-dir DIR] SUBCOMMAND [ARGS...]\n"
	      "\n"
	      "A machine certificate store: stores My, Root, CA, Disallowed, Request.\n"
	      "\n"
	      "Global options:\n"
	      "  -d, --store-dir DIR  the store directory (default: $CERTSTORE_DIR, else\n"
	      "                       /var/lib/certstore)\n"
	      "  -h, --help           this help\n"
	      "  -V, --version        print the version\n"
	      "\n"
	      "Subcommands:\n",
	      stdout);
	for (size_t i = 0; i < N_COMMANDS; i++)
		printf("  %-9s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\n'certstore SUBCOMMAND --help' describes each one; see also certstore(1).\n",
	      stdout);
}

static const cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

/* Parses the options before the subcommand; CLI_OPT_STOP means exit with *rv. */
static int parse_global_options(int argc, char **argv, cli_ctx *ctx, cs_rv *rv, cs_err *err)
{
	static const struct option longopts[] = {
		{"store-dir", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	cli_reset_options();
	/* '+': stop at the subcommand, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+:d:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			ctx->store_dir = optarg;
			break;
		case 'h':
			print_help();
			*rv = CS_OK;
			return CLI_OPT_STOP;
		case 'V':
			printf("certstore %s\n", PACKAGE_VERSION);
			*rv = CS_OK;
			return CLI_OPT_STOP;
		case ':':
			*rv = cs_err_set(err, CS_ERR_USAGE, "option '%s' needs an argument",
					 argv[optind - 1]);
			return CLI_OPT_STOP;
		default:
			*rv = cs_err_set(err, CS_ERR_USAGE,
					 "unknown option '%s' (see 'certstore --help')",
					 argv[optind - 1]);
			return CLI_OPT_STOP;
		}
	}
	return CLI_OPT_END;
}

static cs_rv run(int argc, char **argv, cs_err *err)
{
	cli_ctx ctx = {0};
	const cli_command *cmd;
	cs_rv rv = CS_OK;

	if (parse_global_options(argc, argv, &ctx, &rv, err) == CLI_OPT_STOP)
		return rv;
	if (optind >= argc)
		return cs_err_set(err, CS_ERR_USAGE, "missing subcommand (see 'certstore --help')");
	cmd = find_command(argv[optind]);
	if (cmd == NULL)
		return cs_err_set(err, CS_ERR_USAGE,
				  "unknown subcommand '%s' (see 'certstore --help')", argv[optind]);

	/* The subcommand sees its own name as argv[0]. */
	argc -= optind;
	argv += optind;
	cli_reset_options();
	return cmd->run(&ctx, cmd, argc, argv, err);
}

int main(int argc, char **argv)
{
	cs_err err = {0};
	cs_rv rv;

	rv = run(argc, argv, &err);
	if (rv != CS_OK)
		cli_print_error(&err);
	return (int)rv;
}
