/*
 * cmd_log.c - `certstore log [--json]`: the audit log, oldest first.
 */
#include "cli.h"

typedef struct log_args {
	const char *action;
	bool json;
	bool help;
} log_args;

static const struct option longopts[] = {
    {"action", required_argument, NULL, 'a'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, log_args *args, cs_err *err)
{
	cs_rv rv = CS_OK;
	int c;

	while ((c = cli_next_option(cmd, argc, argv, &rv, err)) >= 0) {
		if (c == 'a')
			args->action = optarg;
		else if (c == 'j')
			args->json = true;
	}
	if (c == CLI_OPT_STOP) {
		args->help = rv == CS_OK;
		return rv;
	}
	return cli_expect_operands(cmd, argc, argv, 0, 0, err);
}

static void print_text(const cs_audit_list *log)
{
	for (size_t i = 0; i < log->n; i++) {
		const cs_audit_entry *e = &log->items[i];
		char when[21];

		cli_format_time(e->time, when);
		printf("%s  uid=%-5lld  %-17s  %s\n", when, (long long)e->uid, e->action,
		       e->detail ? e->detail : "");
	}
}

static cs_rv print_json(const cs_audit_list *log, cs_err *err)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < log->n; i++) {
		const cs_audit_entry *e = &log->items[i];
		json_object *obj = json_object_new_object();

		cli_json_add_int(obj, "id", e->id);
		cli_json_add_time(obj, "time", e->time);
		cli_json_add_int(obj, "uid", e->uid);
		cli_json_add_string(obj, "action", e->action);
		cli_json_add_string(obj, "detail", e->detail);
		json_object_array_add(arr, obj);
	}
	return cli_json_print(arr, err);
}

static cs_rv run_log(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv, cs_err *err)
{
	log_args args = {0};
	cs_audit_list log = {0};
	cs_store *store = NULL;
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &args, err);
	if (rv != CS_OK || args.help)
		return rv;
	rv = cli_open_store(ctx, CS_OPEN_READONLY, &store, err);
	if (rv == CS_OK)
		rv = cs_audit_list_get(store, args.action, &log, err);
	if (rv == CS_OK && args.json)
		rv = print_json(&log, err);
	else if (rv == CS_OK)
		print_text(&log);
	cs_audit_list_clear(&log);
	cs_store_close(store);
	return rv;
}

const cli_command cmd_log = {
    .name = "log",
    .summary = "show the audit log: who changed what, when",
    .usage = "Usage: certstore log [--action PREFIX] [--json]\n"
	     "\n"
	     "Prints every change made to the store, oldest first: time (UTC), the\n"
	     "uid that made it, the action and its detail.\n"
	     "\n"
	     "Options:\n"
	     "  -a, --action PREFIX  only actions starting with PREFIX (e.g. import)\n"
	     "  -j, --json           print a JSON array of objects\n"
	     "  -h, --help           this help\n",
    .shortopts = "a:jh",
    .longopts = longopts,
    .run = run_log,
};
