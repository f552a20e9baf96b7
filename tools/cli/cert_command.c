/*
 * cert_command.c - the one run of every `NAME ID [--store STORE] [options]`
 * subcommand: parse, open the store, find ID, act, close.  Each command
 * file keeps only its options and its act (struct cli_cert_command).
 */
#include <stdlib.h>

#include "cli.h"

const struct option cli_cert_view_longopts[] = {
	{"store", required_argument, NULL, 's'},
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

const cli_option cli_cert_view_options[] = {
	{'j', CLI_FLAG, offsetof(cli_cert_view_args, json), NULL},
	{0},
};

/* One run of a certificate command: its operand, where to look, its arguments. */
typedef struct cert_run {
	const cli_cert_command *spec;
	const char *id;
	const char *store_name;
	cs_store_id sid;
	void *args; /* spec->args_size bytes, filled by the options */
} cert_run;

/* Options and operand in the order the commands always checked them: an
 * unknown option, then the operand count, then a required option. */
static cs_rv parse_cert_args(const cli_command *cmd, int argc, char **argv, cert_run *run,
			     bool *help, cs_err *err)
{
	const cli_option *options = run->spec->options;
	cs_rv rv = CS_OK;
	int c;

	while ((c = cli_next_option(cmd, argc, argv, &rv, err)) >= 0) {
		if (c == 's')
			run->store_name = optarg;
		else
			cli_option_store(options, run->args, c);
	}
	*help = c == CLI_OPT_STOP && rv == CS_OK;
	if (c == CLI_OPT_STOP)
		return rv;
	rv = cli_expect_operands(cmd, argc, argv, 1, 1, err);
	if (rv != CS_OK)
		return rv;
	run->id = argv[optind];
	return cli_check_required(cmd, options, run->args, err);
}

static cs_rv act_on_cert(cs_store *store, void *arg, cs_err *err)
{
	const cert_run *run = arg;
	cs_cert *cert = NULL;
	cs_rv rv = cli_find_cert(store, run->id, run->sid, &cert, err);

	if (rv == CS_OK)
		rv = run->spec->act(store, cert, run->args, err);
	cs_cert_free(cert);
	return rv;
}

cs_rv cli_run_cert_command(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			   cs_err *err)
{
	const cli_cert_command *spec = cmd->on_cert;
	cert_run run = {.spec = spec, .sid = CS_STORE_NONE};
	cli_store_job job = {spec->open_flags, spec->key_status, act_on_cert, &run};
	bool help = false;
	cs_rv rv;

	/* +1: a command without options of its own still gets a pointer. */
	run.args = calloc(1, spec->args_size + 1);
	if (run.args == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	rv = parse_cert_args(cmd, argc, argv, &run, &help, err);
	if (rv == CS_OK && !help)
		rv = cli_parse_store_name(run.store_name, &run.sid, err);
	if (rv == CS_OK && !help && spec->prepare != NULL)
		rv = spec->prepare(cmd, run.args, &job.open_flags, err);
	if (rv == CS_OK && !help)
		rv = cli_run_with_store(ctx, &job, err);
	free(run.args);
	return rv;
}
