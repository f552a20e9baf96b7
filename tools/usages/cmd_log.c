/*
 * cmd_log.c - `certstore log [--action P] [--usage NAME] [--json]`: the audit log, oldest first.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

typedef struct log_args {
	const char *action;
	const char *usage;
	bool json;
	bool help;
} log_args;

static const struct option longopts[] = {
	{"action", required_argument, NULL, 'a'},
	{"usage", required_argument, NULL, 'u'},
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const cli_option log_options[] = {
	{'a', CLI_VALUE, offsetof(log_args, action), NULL},
	{'u', CLI_VALUE, offsetof(log_args, usage), NULL},
	{'j', CLI_FLAG, offsetof(log_args, json), NULL},
	{0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, log_args *args, cs_err *err)
{
	cs_rv rv = cli_parse_options(cmd, argc, argv, log_options, args, &args->help, err);

	if (rv != CS_OK || args->help)
		return rv;
	return cli_expect_operands(cmd, argc, argv, 0, 0, err);
}

/* Is e about usage NAME: an assign, unassign, stage, hook or key load whose detail starts "NAME"?
 */
static bool about_usage(const cs_audit_entry *e, const char *name)
{
	static const char *const actions[] = {"assign", "unassign", "stage", "hook", "load"};
	size_t n = strlen(name);
	bool known = false;

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		known = known || strcmp(e->action, actions[i]) == 0;
	return known && e->detail != NULL && strncmp(e->detail, name, n) == 0 &&
	       (e->detail[n] == '\0' || e->detail[n] == ' ');
}

/* Keeps the entries about usage NAME, in order. */
static void filter_usage(cs_audit_list *log, const char *name)
{
	size_t kept = 0;

	for (size_t i = 0; i < log->n; i++) {
		if (about_usage(&log->items[i], name)) {
			log->items[kept++] = log->items[i];
			continue;
		}
		free(log->items[i].action);
		free(log->items[i].detail);
	}
	log->n = kept;
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

static cs_rv log_act(cs_store *store, void *arg, cs_err *err)
{
	const log_args *args = arg;
	cs_audit_list log = {0};
	cs_rv rv = cs_audit_list_get(store, args->action, &log, err);

	if (rv == CS_OK && args->usage != NULL)
		filter_usage(&log, args->usage);
	if (rv == CS_OK && args->json)
		rv = print_json(&log, err);
	else if (rv == CS_OK)
		print_text(&log);
	cs_audit_list_clear(&log);
	return rv;
}

static cs_rv run_log(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv, cs_err *err)
{
	log_args args = {0};
	cli_store_job run = {CS_OPEN_READONLY, false, log_act, &args};
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &args, err);
	if (rv != CS_OK || args.help)
		return rv;
	return cli_run_with_store(ctx, &run, err);
}

const cli_command cmd_log = {
	.name = "log",
	.summary = "show the audit log: who changed what, when",
	.usage = "Usage: certstore log [--action PREFIX] [--usage NAME] [--json]\n"
		 "\n"
		 "Prints every change made to the store, oldest first: time (UTC), the\n"
		 "uid that made it, the action and its detail.\n"
		 "\n"
		 "Options:\n"
		 "  -a, --action PREFIX  only actions starting with PREFIX (e.g. import)\n"
		 "  -u, --usage NAME     only what happened to usage NAME (assign, unassign,\n"
		 "                       stage, hook output, and the processes that loaded or\n"
		 "                       used its certificate's key: load)\n"
		 "  -j, --json           print a JSON array of objects\n"
		 "  -h, --help           this help\n",
	.shortopts = "a:u:jh",
	.longopts = longopts,
	.run = run_log,
};
