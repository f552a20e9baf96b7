/*
 * cmd_move.c - `certstore move ID --to STORE [--store S]`
 */
#include "cli.h"
#include "usage.h"

#include <string.h>

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

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, move_args *args, cs_err *err)
{
	const cli_opt_slot slots[] = {
		{'s', &args->store_name, NULL}, {'t', &args->to_name, NULL}, {0}};
	cs_rv rv = cli_parse_id_args(cmd, argc, argv, slots, &args->id, &args->help, err);

	if (rv == CS_OK && !args->help && args->to_name == NULL)
		return cli_usage_error(cmd, err, "--to STORE is required");
	return rv;
}

/*
 * Distrusting a certificate breaks the usages it serves: a usage served by
 * the certificate itself is unassigned (its published files removed, so no
 * server is offered it again), and a usage whose certificate chains to it
 * is named with its new status.  Said on stderr, as warnings.
 */
static cs_rv release_usages(cs_store *store, const cs_cert *moved, cs_err *err)
{
	cs_usage_list l = {0};
	size_t i;
	cs_rv rv = cs_usage_list_get(store, &l, err);

	for (i = 0; rv == CS_OK && i < l.n; i++) {
		const cs_usage *u = &l.items[i];
		cs_status_report r = {0};
		cs_cert *served = NULL;

		if (strcmp(u->sha1, moved->sha1) == 0) {
			rv = cs_usage_unassign(store, u->name, err);
			if (rv == CS_OK)
				fprintf(stderr,
					"certstore: warning: usage %s was served by it: "
					"unassigned, "
					"usages/%s/ removed; assign another certificate with "
					"`certstore assign ID --usage %s`\n",
					u->name, u->name, u->name);
			continue;
		}
		if (u->sha1[0] == '\0' || cs_store_find_by_thumbprint(store, CS_STORE_MY, u->sha1,
								      &served, NULL) != CS_OK)
			continue;
		if (cs_status_compute(store, served, 0, &r, NULL) == CS_OK &&
		    r.status != CS_STATUS_VALID)
			fprintf(stderr, "certstore: warning: usage %s serves %s, now %s: %s\n",
				u->name, u->sha1, cs_status_name(r.status), r.detail);
		cs_status_report_clear(&r);
		cs_cert_free(served);
	}
	cs_usage_list_clear(&l);
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
	if (rv == CS_OK && to == CS_STORE_DISALLOWED)
		rv = release_usages(store, cert, err);
	cs_cert_free(cert);
	return rv;
}

typedef struct move_job {
	const move_args *args;
	cs_store_id sid, to;
} move_job;

static cs_rv move_act(cs_store *store, void *arg, cs_err *err)
{
	const move_job *job = arg;

	return move_cert(store, job->args, job->sid, job->to, err);
}

static cs_rv run_move(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
		      cs_err *err)
{
	move_args args = {0};
	move_job job = {&args, CS_STORE_NONE, CS_STORE_NONE};
	cli_store_job run = {.act = move_act, .arg = &job};
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &args, err);
	if (rv != CS_OK || args.help)
		return rv;
	rv = cli_parse_store_name(args.store_name, &job.sid, err);
	if (rv == CS_OK)
		rv = cli_parse_store_name(args.to_name, &job.to, err);
	if (rv == CS_OK)
		rv = cli_run_with_store(ctx, &run, err);
	return rv;
}

const cli_command cmd_move = {
	.name = "move",
	.summary = "move a certificate to another store (e.g. a root to Disallowed)",
	.usage = "Usage: certstore move ID --to STORE [--store STORE]\n"
		 "\n"
		 "Moves the certificate named by ID (as for 'show') to another store, for\n"
		 "example a root that must no longer be trusted to Disallowed.  A certificate\n"
		 "moved to Disallowed stops serving its usages (each is unassigned and its\n"
		 "published files removed, with a warning); usages whose certificates chain\n"
		 "to it are named with their new status.\n"
		 "\n"
		 "Options:\n"
		 "  -t, --to STORE     the destination store\n"
		 "  -s, --store STORE  look for ID only in STORE\n"
		 "  -h, --help         this help\n",
	.shortopts = "s:t:h",
	.longopts = longopts,
	.run = run_move,
};
