/*
 * cmd_move.c - `certstore move ID --to STORE [--store S]`
 */
#include "cli.h"
#include "usage.h"

#include <string.h>

/* Besides the ID and --store, which cli_run_cert_command takes. */
typedef struct move_args {
	const char *to_name;
	cs_store_id to; /* to_name parsed */
} move_args;

static const struct option longopts[] = {
	{"store", required_argument, NULL, 's'},
	{"to", required_argument, NULL, 't'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

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

static cs_rv move_cert(cs_store *store, const cs_cert *cert, const void *arg, cs_err *err)
{
	const move_args *args = arg;
	cs_rv rv;

	rv = cs_store_move(store, cert, args->to, err);
	if (rv == CS_OK)
		printf("moved from %s to %s: %s (%s)\n", cs_store_id_name(cert->store),
		       cs_store_id_name(args->to), cert->subject, cert->sha1);
	if (rv == CS_OK && args->to == CS_STORE_DISALLOWED)
		rv = release_usages(store, cert, err);
	return rv;
}

static cs_rv parse_destination(const cli_command *cmd, void *arg, int *open_flags, cs_err *err)
{
	move_args *args = arg;

	(void)cmd;
	(void)open_flags;
	return cli_parse_store_name(args->to_name, &args->to, err);
}

static const cli_option move_options[] = {
	{'t', CLI_VALUE, offsetof(move_args, to_name), "--to STORE is required"},
	{0},
};

static const cli_cert_command move = {
	.options = move_options,
	.args_size = sizeof(move_args),
	.prepare = parse_destination,
	.act = move_cert,
};

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
	.run = cli_run_cert_command,
	.on_cert = &move,
};
