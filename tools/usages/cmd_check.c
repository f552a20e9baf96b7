/*
 * cmd_check.c - `certstore check [--json]`: makes the published files agree
 * with the database (after a crash, a hand edit) and says what it fixed.
 */
#include "cli.h"
#include "served_view.h"
#include "usage.h"

static cs_rv print_fixes(const cs_fix_list *fixes, bool json, cs_err *err)
{
	json_object *obj, *arr;

	if (!json) {
		for (size_t i = 0; i < fixes->n; i++)
			printf("fixed: %s\n", fixes->items[i]);
		if (fixes->n == 0)
			printf("ok: the published files agree with the store\n");
		return CS_OK;
	}
	obj = json_object_new_object();
	arr = json_object_new_array();
	for (size_t i = 0; i < fixes->n; i++)
		json_object_array_add(arr, json_object_new_string(fixes->items[i]));
	json_object_object_add(obj, "fixed", arr);
	return cli_json_print(obj, err);
}

static cs_rv check(cs_store *store, void *arg, cs_err *err)
{
	bool json = *(bool *)arg;
	cs_fix_list fixes = {0};
	cs_rv rv = cs_usage_check_fixes(store, &fixes, err);

	/* a failed hook after a republication does not excuse the Root view */
	if (rv == CS_OK || rv == CS_ERR_HOOK) {
		cs_err roots_err = {0};
		cs_rv roots_rv = cs_publish_roots_check(store, &fixes, &roots_err);

		if (roots_rv != CS_OK && rv == CS_OK) {
			rv = roots_rv;
			*err = roots_err;
		}
	}
	/* what was fixed before a failure is still worth saying */
	if (rv == CS_OK || fixes.n > 0)
		print_fixes(&fixes, json && rv == CS_OK, NULL);
	/* after the repairs: a stale server is the admin's to reload, not ours */
	if (rv == CS_OK)
		rv = served_check(store, !json, err);
	cs_fix_list_clear(&fixes);
	return rv;
}

static const cli_store_job check_job = {.act = check};

const cli_command cmd_check = {
	.name = "check",
	.summary = "make published usages and roots agree with the store; say what was fixed",
	.usage = "Usage: certstore check [--json]\n"
		 "\n"
		 "Verifies that every usages/NAME/ holds, whole, the certificate the\n"
		 "database assigns to NAME, and that published/roots.pem and\n"
		 "published/roots/ hold exactly the Root store.  Anything missing, stale\n"
		 "or half-written (after a crash) is rewritten, leftovers are removed,\n"
		 "and each fix is printed.  A usage rewritten gets its on-assign hook\n"
		 "run; a failing hook makes the exit status 13 (the repairs stand).\n"
		 "Then, when a live process still serves a usage's previous certificate\n"
		 "longer than the usage's previous-grace after the assignment, it prints\n"
		 "\"stale: NAME: ...\" and the exit status is 19 (see `certstore usages`).\n"
		 "\n"
		 "Options:\n"
		 "  -j, --json  print {\"fixed\": [...]}\n"
		 "  -h, --help  this help\n",
	.shortopts = "jh",
	.longopts = cli_json_only_longopts,
	.run = cli_run_json_only,
	.on_store = &check_job,
};
