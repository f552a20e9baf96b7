/*
 * cmd_list.c - `certstore list [STORE] [--all] [--json]`
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_keys.h"
#include "requests_view.h"

typedef struct list_args {
	const char *store_name;
	bool all;
	bool json;
	bool help;
} list_args;

/* One row of the listing: the certificate and its computed status. */
typedef struct list_row {
	const cs_cert *cert;
	cs_status status;
	char detail[512];
} list_row;

static const struct option longopts[] = {
	{"store", required_argument, NULL, 's'},
	{"all", no_argument, NULL, 'a'},
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const cli_option list_options[] = {
	{'s', CLI_VALUE, offsetof(list_args, store_name), NULL},
	{'a', CLI_FLAG, offsetof(list_args, all), NULL},
	{'j', CLI_FLAG, offsetof(list_args, json), NULL},
	{0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, list_args *args, cs_err *err)
{
	cs_rv rv = cli_parse_options(cmd, argc, argv, list_options, args, &args->help, err);

	if (rv != CS_OK || args->help)
		return rv;
	rv = cli_expect_operands(cmd, argc, argv, 0, 1, err);
	if (rv == CS_OK && optind < argc) {
		if (args->store_name != NULL)
			return cli_usage_error(cmd, err, "name the store once");
		args->store_name = argv[optind];
	}
	return rv;
}

static cs_rv compute_rows(cs_store *store, const cs_cert_list *certs, list_row *rows, cs_err *err)
{
	for (size_t i = 0; i < certs->n; i++) {
		cs_status_report report = {0};
		cs_rv rv = cs_status_compute(store, certs->items[i], 0, &report, err);

		if (rv != CS_OK)
			return rv;
		rows[i].cert = certs->items[i];
		rows[i].status = report.status;
		snprintf(rows[i].detail, sizeof(rows[i].detail), "%s", report.detail);
		cs_status_report_clear(&report);
	}
	return CS_OK;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static int max_width(const list_row *rows, size_t n, int min, bool friendly)
{
	int w = min;

	for (size_t i = 0; i < n; i++) {
		const char *s = friendly ? or_dash(rows[i].cert->friendly_name)
					 : cs_status_name(rows[i].status);
		int len = (int)strlen(s);

		if (len > w)
			w = len;
	}
	return w;
}

static void print_table(const list_row *rows, size_t n)
{
	int name_w = max_width(rows, n, (int)strlen("FRIENDLY NAME"), true);
	int status_w = max_width(rows, n, (int)strlen("STATUS"), false);

	printf("%-10s  %-40s  %-*s  %-10s  %-3s  %-*s  %s\n", "STORE", "THUMBPRINT", name_w,
	       "FRIENDLY NAME", "NOT AFTER", "KEY", status_w, "STATUS", "SUBJECT");
	for (size_t i = 0; i < n; i++) {
		const cs_cert *c = rows[i].cert;
		char date[11];

		cli_format_date(c->not_after, date);
		printf("%-10s  %-40s  %-*s  %-10s  %-3s  %-*s  %s\n", cs_store_id_name(c->store),
		       c->sha1, name_w, or_dash(c->friendly_name), date, c->key_uri ? "yes" : "no",
		       status_w, cs_status_name(rows[i].status), c->subject);
	}
}

static cs_rv print_json(const list_row *rows, size_t n, cs_err *err)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *obj = cli_json_cert(rows[i].cert);

		cli_json_add_string(obj, "status", cs_status_name(rows[i].status));
		cli_json_add_string(obj, "status_detail", rows[i].detail);
		json_object_array_add(arr, obj);
	}
	return cli_json_print(arr, err);
}

/* Pending requests are the Request store too, though they hold no certificate yet. */
static cs_rv mention_requests(cs_store *store, cs_err *err)
{
	size_t n = 0;
	cs_rv rv = requests_view_count(store, &n, err);

	if (rv == CS_OK && n > 0)
		printf("Request: %zu pending request%s (`certstore list Request` shows them)\n", n,
		       n == 1 ? "" : "s");
	return rv;
}

static cs_rv list_and_print(cs_store *store, const list_args *args, const cs_find_opts *opts,
			    cs_err *err)
{
	cs_cert_list certs = {0};
	list_row *rows = NULL;
	cs_rv rv;

	rv = cs_store_list(store, opts, &certs, err);
	if (rv != CS_OK)
		goto out;
	rows = calloc(certs.n ? certs.n : 1, sizeof(*rows));
	if (rows == NULL) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	rv = compute_rows(store, &certs, rows, err);
	if (rv != CS_OK)
		goto out;
	if (args->json)
		rv = print_json(rows, certs.n, err);
	else if (certs.n == 0)
		printf("no certificates\n");
	else
		print_table(rows, certs.n);
	if (rv == CS_OK && !args->json && opts->store == CS_STORE_NONE)
		rv = mention_requests(store, err);
out:
	free(rows);
	cs_cert_list_clear(&certs);
	return rv;
}

typedef struct list_job {
	const list_args *args;
	cs_find_opts opts;
} list_job;

static cs_rv list_act(cs_store *store, void *arg, cs_err *err)
{
	list_job *job = arg;

	return job->opts.store == CS_STORE_REQUEST
		       ? requests_view_print(store, job->args->json, err)
		       : list_and_print(store, job->args, &job->opts, err);
}

static cs_rv run_list(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
		      cs_err *err)
{
	list_args args = {0};
	list_job job = {&args, {0}};
	cli_store_job run = {CS_OPEN_READONLY, true, list_act, &job};
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &args, err);
	if (rv != CS_OK || args.help)
		return rv;
	rv = cli_parse_store_name(args.store_name, &job.opts.store, err);
	if (rv != CS_OK)
		return rv;
	job.opts.include_archived = args.all;
	return cli_run_with_store(ctx, &run, err);
}

const cli_command cmd_list = {
	.name = "list",
	.summary = "list certificates with their status",
	.usage = "Usage: certstore list [STORE] [--all] [--json]\n"
		 "\n"
		 "Lists the certificates in STORE (every store when omitted): store,\n"
		 "thumbprint (SHA-1), friendly name, expiry date, whether a private key is\n"
		 "attached, status (Valid, Expired, Untrusted root, Missing private key,\n"
		 "...) and subject.  The Request store lists the pending requests, as\n"
		 "`certstore requests` does.\n"
		 "\n"
		 "Options:\n"
		 "  -s, --store STORE  same as the STORE operand\n"
		 "  -a, --all          include archived certificates\n"
		 "  -j, --json         print a JSON array of objects\n"
		 "  -h, --help         this help\n",
	.shortopts = "s:ajh",
	.longopts = longopts,
	.run = run_list,
};
