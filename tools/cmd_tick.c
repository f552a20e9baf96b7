/*
 * cmd_tick.c - `certstore tick`: the periodic job (certstore-tick.timer):
 * applies staged assignments whose time has come and runs their hooks.
 */
#include "cli.h"
#include "usage.h"

#include <string.h>

static const struct option longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The staged entries that became current between `before` and `after`. */
static void print_applied(const cs_usage_list *before, const cs_usage_list *after)
{
	for (size_t i = 0; i < before->n; i++) {
		const cs_usage *b = &before->items[i];

		if (b->staged_sha1[0] == '\0')
			continue;
		for (size_t j = 0; j < after->n; j++) {
			const cs_usage *a = &after->items[j];

			if (strcmp(a->name, b->name) == 0 && strcmp(a->sha1, b->staged_sha1) == 0 &&
			    a->staged_sha1[0] == '\0')
				printf("applied staged %s: %s\n", a->name, a->sha1);
		}
	}
}

static cs_rv apply_staged(cs_store *store, cs_err *err)
{
	cs_usage_list before = {0}, after = {0};
	size_t applied = 0;
	cs_rv rv;

	rv = cs_usage_list_get(store, &before, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_usage_apply_due(store, &applied, err);
	if (applied > 0 && cs_usage_list_get(store, &after, NULL) == CS_OK)
		print_applied(&before, &after);
	cs_usage_list_clear(&before);
	cs_usage_list_clear(&after);
	return rv;
}

static cs_rv run_tick(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
		      cs_err *err)
{
	cs_store *store = NULL;
	cs_rv rv = CS_OK;
	int c;

	while ((c = cli_next_option(cmd, argc, argv, &rv, err)) >= 0)
		;
	if (c == CLI_OPT_STOP)
		return rv;
	rv = cli_expect_operands(cmd, argc, argv, 0, 0, err);
	if (rv == CS_OK)
		rv = cli_open_store(ctx, 0, &store, err);
	if (rv == CS_OK)
		rv = apply_staged(store, err);
	/*
	 * Renewals go here (the renewal issue): certificates within
	 * `renew-before` days of expiry are renewed through their CA profile and
	 * cs_usage_move_all carries their usages over, running the same hooks.
	 * A staged-roll failure must not stop renewals, so keep the first error
	 * and run them regardless.
	 */
	cs_store_close(store);
	return rv;
}

const cli_command cmd_tick = {
    .name = "tick",
    .summary = "apply staged assignments whose time has come (run it from a timer)",
    .usage = "Usage: certstore tick\n"
	     "\n"
	     "Applies every staged assignment (assign --at) whose time has come:\n"
	     "publishes it and runs the usage's hooks, printing each one applied.\n"
	     "Prints nothing when nothing is due.  Meant for a systemd timer.\n"
	     "\n"
	     "Options:\n"
	     "  -h, --help  this help\n",
    .shortopts = "h",
    .longopts = longopts,
    .run = run_tick,
};
