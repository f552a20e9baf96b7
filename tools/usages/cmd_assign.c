/*
 * cmd_assign.c - `certstore assign ID --usage A,B [--force] [--at TIME]`,
 * `certstore assign --previous --usage X` and `certstore unassign --usage X`.
 */
#include "cli.h"
#include "usage.h"

#include <stdlib.h>
#include <string.h>

#define MAX_USAGES 32

typedef struct usage_names {
	char *buf; /* the --usage values joined, split in place */
	const char *names[MAX_USAGES];
	size_t n;
} usage_names;

typedef struct assign_args {
	const char *id;
	usage_names usages;
	const char *at;
	bool force;
	bool previous;
	bool help;
} assign_args;

static const struct option assign_longopts[] = {
	{"usage", required_argument, NULL, 'u'}, {"force", no_argument, NULL, 'f'},
	{"at", required_argument, NULL, 'a'},	 {"previous", no_argument, NULL, 'p'},
	{"help", no_argument, NULL, 'h'},	 {NULL, 0, NULL, 0},
};

/* A name shown with its control characters visible ("a\nb"), for messages. */
static void visible(const char *s, char *out, size_t size)
{
	size_t o = 0;

	for (; *s && o + 5 < size; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			o += (size_t)snprintf(out + o, size - o, *s == '\n' ? "\\n" : "\\x%02x",
					      (unsigned char)*s);
		else
			out[o++] = *s;
	}
	out[o] = '\0';
}

/* Adds the comma-separated names of one --usage value; each must be a valid name. */
static cs_rv add_usages(const cli_command *cmd, usage_names *u, const char *value, cs_err *err)
{
	char *copy = strdup(value), *p, *comma, shown[160];

	if (copy == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	free(u->buf); /* only one --usage is kept: the names point into it */
	u->buf = copy;
	u->n = 0;
	for (p = copy;; p = comma + 1) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		if (!cs_usage_name_valid(p)) {
			visible(p, shown, sizeof(shown));
			return cli_usage_error(cmd, err,
					       "bad usage name \"%s\": use 1-64 of [A-Za-z0-9._-], "
					       "not starting with '.'",
					       shown);
		}
		if (u->n == MAX_USAGES)
			return cli_usage_error(cmd, err, "more than %d usages", MAX_USAGES);
		u->names[u->n++] = p;
		if (comma == NULL)
			return CS_OK;
	}
}

static cs_rv check_assign_args(const cli_command *cmd, int argc, char **argv, assign_args *args,
			       cs_err *err)
{
	if (args->usages.n == 0)
		return cli_usage_error(cmd, err, "--usage NAME[,NAME...] is required");
	if (args->previous) {
		if (args->at != NULL)
			return cli_usage_error(cmd, err, "--previous cannot be staged with --at");
		return cli_expect_operands(cmd, argc, argv, 0, 0, err);
	}
	if (cli_expect_operands(cmd, argc, argv, 1, 1, err) != CS_OK)
		return CS_ERR_USAGE;
	args->id = argv[optind];
	return CS_OK;
}

static cs_rv parse_assign(const cli_command *cmd, int argc, char **argv, assign_args *args,
			  cs_err *err)
{
	cs_rv rv = CS_OK;
	int c;

	while ((c = cli_next_option(cmd, argc, argv, &rv, err)) >= 0) {
		if (c == 'u' && (rv = add_usages(cmd, &args->usages, optarg, err)) != CS_OK)
			return rv;
		else if (c == 'f')
			args->force = true;
		else if (c == 'a')
			args->at = optarg;
		else if (c == 'p')
			args->previous = true;
	}
	if (c == CLI_OPT_STOP) {
		args->help = rv == CS_OK;
		return rv;
	}
	return check_assign_args(cmd, argc, argv, args, err);
}

/* Says on stderr that a forced certificate is not Valid, so nobody is surprised later. */
static void warn_if_invalid(cs_store *store, const cs_cert *cert, time_t when)
{
	cs_status_report r = {0};

	if (cs_status_compute(store, cert, when, &r, NULL) == CS_OK && r.status != CS_STATUS_VALID)
		fprintf(stderr, "certstore: warning: %s is not valid: %s (%s)\n", cert->sha1,
			cs_status_name(r.status), r.detail);
	cs_status_report_clear(&r);
}

/* What went wrong with hooks, for the final message. */
typedef struct hook_failures {
	size_t n;
	char names[256];
} hook_failures;

/* Assigns cert to one usage and runs its hooks; a hook failure is said at once and counted. */
static cs_rv assign_one(cs_store *store, const char *name, const cs_cert *cert, bool force,
			hook_failures *failed, cs_err *err)
{
	cs_err hook_err = {0};
	size_t len;
	cs_rv rv;

	rv = cs_usage_assign(store, name, cert, force, err);
	if (rv != CS_OK)
		return rv;
	printf("assigned %s: %s (%s)\n", name, cert->sha1, cert->subject);
	fflush(stdout);
	if (cs_usage_run_hooks(store, name, cert, &hook_err) != CS_OK) {
		fprintf(stderr, "certstore: %s\n", hook_err.msg);
		len = strlen(failed->names);
		snprintf(failed->names + len, sizeof(failed->names) - len, "%s%s",
			 failed->n > 0 ? ", " : "", name);
		failed->n++;
	}
	return CS_OK;
}

/* The certificate usage NAME had before its current one. */
static cs_rv find_previous(cs_store *store, const char *name, cs_cert **out, cs_err *err)
{
	cs_usage u = {0};
	cs_rv rv;

	rv = cs_usage_get(store, name, &u, err);
	if (rv == CS_OK && u.previous_sha1[0] == '\0')
		rv = cs_err_set(err, CS_ERR_NOT_FOUND, "usage %s has no previous certificate",
				name);
	if (rv == CS_OK) {
		rv = cs_store_find_by_thumbprint(store, CS_STORE_MY, u.previous_sha1, out, err);
		if (rv == CS_ERR_NOT_FOUND)
			cs_err_prefix(err, "usage %s: its previous certificate %s is gone from My",
				      name, u.previous_sha1);
	}
	cs_usage_clear(&u);
	return rv;
}

static cs_rv assign_all(cs_store *store, const assign_args *args, const cs_cert *cert, cs_err *err)
{
	hook_failures failed = {0};
	cs_cert *prev = NULL;
	cs_rv rv = CS_OK;

	if (args->force && cert != NULL)
		warn_if_invalid(store, cert, 0);
	for (size_t i = 0; rv == CS_OK && i < args->usages.n; i++) {
		const char *name = args->usages.names[i];

		if (args->previous) {
			rv = find_previous(store, name, &prev, err);
			if (rv == CS_OK && args->force)
				warn_if_invalid(store, prev, 0);
		}
		if (rv == CS_OK)
			rv = assign_one(store, name, prev ? prev : cert, args->force, &failed, err);
		cs_cert_free(prev);
		prev = NULL;
	}
	if (rv == CS_OK && failed.n > 0)
		rv = cs_err_set(err, CS_ERR_HOOK,
				"the on-assign hook of %s failed; the assignment%s stay%s in place",
				failed.names, failed.n > 1 ? "s" : "", failed.n > 1 ? "" : "s");
	return rv;
}

/* --at: the certificate must be Valid at that moment (not now: a roll stages a future one). */
static cs_rv stage_all(cs_store *store, const assign_args *args, const cs_cert *cert, cs_err *err)
{
	cs_status_report r = {0};
	char when[21];
	int64_t at = 0;
	cs_rv rv;

	rv = cli_parse_time(args->at, &at, err);
	if (rv == CS_OK)
		rv = cs_status_compute(store, cert, (time_t)at, &r, err);
	if (rv == CS_OK && r.status != CS_STATUS_VALID && !args->force)
		rv = cs_err_set(
			err, CS_ERR_NOT_VALID,
			"%s will not be valid at %s: %s (%s); use --force to stage it anyway",
			cert->sha1, args->at, cs_status_name(r.status), r.detail);
	cs_status_report_clear(&r);
	cli_format_time(at, when);
	for (size_t i = 0; rv == CS_OK && i < args->usages.n; i++) {
		rv = cs_usage_stage(store, args->usages.names[i], cert, at, err);
		if (rv == CS_OK)
			printf("staged %s: %s (%s) at %s\n", args->usages.names[i], cert->sha1,
			       cert->subject, when);
	}
	return rv;
}

static cs_rv run_assign(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			cs_err *err)
{
	assign_args args = {0};
	cs_store *store = NULL;
	cs_cert *cert = NULL;
	cs_rv rv;

	rv = parse_assign(cmd, argc, argv, &args, err);
	if (rv == CS_OK && !args.help)
		rv = cli_open_store(ctx, 0, &store, err);
	if (rv == CS_OK && !args.help && args.id != NULL)
		rv = cli_find_cert(store, args.id, CS_STORE_NONE, &cert, err);
	if (rv == CS_OK && !args.help && args.at != NULL)
		rv = stage_all(store, &args, cert, err);
	else if (rv == CS_OK && !args.help)
		rv = assign_all(store, &args, cert, err);
	cs_cert_free(cert);
	cs_store_close(store);
	free(args.usages.buf);
	return rv;
}

const cli_command cmd_assign = {
	.name = "assign",
	.summary = "assign a certificate to usages (publishes usages/NAME/, runs hooks)",
	.usage = "Usage: certstore assign ID --usage NAME[,NAME...] [--force] [--at TIME]\n"
		 "       certstore assign --previous --usage NAME[,NAME...] [--force]\n"
		 "\n"
		 "Points each usage at the certificate ID (in My), publishes\n"
		 "usages/NAME/{cert,chain,fullchain,key}.pem in the store directory\n"
		 "atomically and runs the usage's on-assign hook from certstore.conf.\n"
		 "A certificate that is not Valid is refused with its status (exit 14).\n"
		 "A hook that fails leaves the assignment in place and exits 13.\n"
		 "\n"
		 "Options:\n"
		 "  -u, --usage NAMES  usage names, comma-separated ([A-Za-z0-9._-]+)\n"
		 "  -f, --force        assign even when the certificate is not Valid\n"
		 "  -a, --at TIME      stage the assignment for TIME instead ('certstore tick'\n"
		 "                     applies it): 2026-11-22T10:00:00Z, @EPOCH or +SECONDS;\n"
		 "                     the certificate must be Valid at TIME\n"
		 "  -p, --previous     give each usage back its previous certificate\n"
		 "  -h, --help         this help\n",
	.shortopts = "u:fa:ph",
	.longopts = assign_longopts,
	.run = run_assign,
};

/* ---- unassign --------------------------------------------------------------- */

static const struct option unassign_longopts[] = {
	{"usage", required_argument, NULL, 'u'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static cs_rv parse_unassign(const cli_command *cmd, int argc, char **argv, usage_names *u,
			    bool *help, cs_err *err)
{
	cs_rv rv = CS_OK;
	int c;

	while ((c = cli_next_option(cmd, argc, argv, &rv, err)) >= 0)
		if (c == 'u' && (rv = add_usages(cmd, u, optarg, err)) != CS_OK)
			return rv;
	if (c == CLI_OPT_STOP) {
		*help = rv == CS_OK;
		return rv;
	}
	if (u->n == 0)
		return cli_usage_error(cmd, err, "--usage NAME[,NAME...] is required");
	return cli_expect_operands(cmd, argc, argv, 0, 0, err);
}

static cs_rv run_unassign(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			  cs_err *err)
{
	usage_names u = {0};
	cs_store *store = NULL;
	bool help = false;
	cs_rv rv;

	rv = parse_unassign(cmd, argc, argv, &u, &help, err);
	if (rv == CS_OK && !help)
		rv = cli_open_store(ctx, 0, &store, err);
	for (size_t i = 0; rv == CS_OK && !help && i < u.n; i++) {
		rv = cs_usage_unassign(store, u.names[i], err);
		if (rv == CS_OK)
			printf("unassigned %s (its certificate stays in My)\n", u.names[i]);
	}
	cs_store_close(store);
	free(u.buf);
	return rv;
}

const cli_command cmd_unassign = {
	.name = "unassign",
	.summary = "remove usages (their published files go; the certificate stays)",
	.usage = "Usage: certstore unassign --usage NAME[,NAME...]\n"
		 "\n"
		 "Removes each usage and its published directory usages/NAME/.  The\n"
		 "certificate stays in My.\n"
		 "\n"
		 "Options:\n"
		 "  -u, --usage NAMES  usage names, comma-separated\n"
		 "  -h, --help         this help\n",
	.shortopts = "u:h",
	.longopts = unassign_longopts,
	.run = run_unassign,
};
