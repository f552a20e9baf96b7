/*
 * cmd_served.c - `certstore served [--json]`: every live process that loaded
 * or used a store key, and which certificate's.
 */
#include "served_view.h"

#include <stdio.h>
#include <string.h>

static void print_text(const cs_served_list *live)
{
	if (live->n == 0) {
		printf("no live process has loaded or used a store key\n");
		return;
	}
	printf("%-8s  %-15s  %-6s  %-40s  %-8s  %-20s  %-12s  %s\n", "PID", "PROGRAM", "UID",
	       "THUMBPRINT", "VIA", "SINCE", "USAGE", "EXECUTABLE");
	for (size_t i = 0; i < live->n; i++) {
		const cs_served *s = &live->items[i];
		char since[21];

		cli_format_time(s->time, since);
		printf("%-8lld  %-15s  %-6lld  %-40s  %-8s  %-20s  %-12s  %s\n", (long long)s->pid,
		       s->comm, (long long)s->uid, s->sha1, s->via, since,
		       s->usage[0] ? s->usage : "-", s->exe[0] ? s->exe : "?");
	}
}

static cs_rv print_json(const cs_served_list *live, cs_err *err)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < live->n; i++)
		json_object_array_add(arr, served_json(&live->items[i]));
	return cli_json_print(arr, err);
}

static cs_rv list_served(cs_store *store, void *json, cs_err *err)
{
	cs_served_list live = {0};
	cs_rv rv = cs_served_list_live(store, &live, err);

	if (rv == CS_OK && *(const bool *)json)
		rv = print_json(&live, err);
	else if (rv == CS_OK)
		print_text(&live);
	cs_served_list_clear(&live);
	return rv;
}

static const cli_store_job served_job = {.open_flags = CS_OPEN_READONLY, .act = list_served};

const cli_command cmd_served = {
	.name = "served",
	.summary = "list the live processes using store keys, and whose",
	.usage = "Usage: certstore served [--json]\n"
		 "\n"
		 "Lists every running process that loaded a store key through the\n"
		 "provider (a key reference, a certstore: URI) or used one through the\n"
		 "key agent: pid, program, uid, the certificate's thumbprint, how\n"
		 "(provider or agent), since when, the usages that certificate served\n"
		 "then, and the executable.  One line per process and certificate.  A\n"
		 "process that has exited is not listed, nor one whose pid now belongs\n"
		 "to another process (the start time is compared).\n"
		 "\n" CLI_JSON_ARRAY_OPTIONS_HELP,
	.shortopts = "jh",
	.longopts = cli_json_only_longopts,
	.run = cli_run_json_only,
	.on_store = &served_job,
};
