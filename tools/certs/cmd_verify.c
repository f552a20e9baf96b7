/*
 * cmd_verify.c - `certstore verify ID [--store S] [--json]`
 *
 * Prints the chain the library built and its verdict; the decision itself is
 * cs_status_compute's.
 */
#include "cli.h"
#include "cli_keys.h"

typedef struct verify_args {
	const char *id;
	const char *store_name;
	bool json;
	bool help;
} verify_args;

static const struct option longopts[] = {
	{"store", required_argument, NULL, 's'},
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, verify_args *args,
			cs_err *err)
{
	const cli_opt_slot slots[] = {
		{'s', &args->store_name, NULL}, {'j', NULL, &args->json}, {0}};

	return cli_parse_id_args(cmd, argc, argv, slots, &args->id, &args->help, err);
}

static void print_chain(const cs_status_report *report)
{
	for (size_t i = 0; i < report->chain.n; i++) {
		const cs_cert *c = report->chain.items[i];

		printf("%*s%s\n", (int)(2 * i), "", c->subject);
		if (c->store == CS_STORE_NONE)
			printf("%*s  %s\n", (int)(2 * i), "", c->sha1);
		else
			printf("%*s  %s  in %s\n", (int)(2 * i), "", c->sha1,
			       cs_store_id_name(c->store));
	}
}

static cs_rv print_report(const cs_cert *cert, const cs_status_report *report, bool json,
			  cs_err *err)
{
	json_object *obj;

	if (!json) {
		print_chain(report);
		printf("%s\n", cs_status_name(report->status));
		if (report->detail[0])
			printf("  %s\n", report->detail);
		/* A chain problem outranks a key problem; still say both. */
		if (report->key_status != CS_STATUS_VALID && report->key_status != report->status)
			printf("also: %s\n", cs_status_name(report->key_status));
		return CS_OK;
	}
	obj = cli_json_status(report);
	cli_json_add_string(obj, "thumbprint", cert->sha1);
	cli_json_add_string(obj, "subject", cert->subject);
	return cli_json_print(obj, err);
}

static cs_rv verify_cert(cs_store *store, const verify_args *args, cs_store_id sid, cs_err *err)
{
	cs_cert *cert = NULL;
	cs_status_report report = {0};
	cs_rv rv;

	rv = cli_find_cert(store, args->id, sid, &cert, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_status_compute(store, cert, 0, &report, err);
	if (rv == CS_OK)
		rv = print_report(cert, &report, args->json, err);
	if (rv == CS_OK && report.status != CS_STATUS_VALID)
		rv = cs_err_set(err, CS_ERR_NOT_VALID, "%s (%s): %s", cert->subject, cert->sha1,
				cs_status_name(report.status));
	cs_status_report_clear(&report);
	cs_cert_free(cert);
	return rv;
}

typedef struct verify_job {
	const verify_args *args;
	cs_store_id sid;
} verify_job;

static cs_rv verify_act(cs_store *store, void *arg, cs_err *err)
{
	const verify_job *job = arg;

	return verify_cert(store, job->args, job->sid, err);
}

static cs_rv run_verify(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			cs_err *err)
{
	verify_args args = {0};
	verify_job job = {&args, CS_STORE_NONE};
	cli_store_job run = {CS_OPEN_READONLY, true, verify_act, &job};
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &args, err);
	if (rv != CS_OK || args.help)
		return rv;
	rv = cli_parse_store_name(args.store_name, &job.sid, err);
	if (rv == CS_OK)
		rv = cli_run_with_store(ctx, &run, err);
	return rv;
}

const cli_command cmd_verify = {
	.name = "verify",
	.summary = "build a certificate's chain from CA and Root and give the verdict",
	.usage = "Usage: certstore verify ID [--store STORE] [--json]\n"
		 "\n"
		 "Builds the chain of the certificate named by ID (as for 'show') from the\n"
		 "CA and Root stores, prints it leaf first, and prints the verdict: Valid,\n"
		 "Expired, Not yet valid, Untrusted root, Missing private key, Private key\n"
		 "mismatch, Disallowed, Invalid signature or Invalid chain.\n"
		 "\n"
		 "Options:\n"
		 "  -s, --store STORE  look only in STORE\n"
		 "  -j, --json         print a JSON object\n"
		 "  -h, --help         this help\n"
		 "\n"
		 "Exit status: 0 when Valid, 14 otherwise.\n",
	.shortopts = "s:jh",
	.longopts = longopts,
	.run = run_verify,
};
