/*
 * cmd_verify.c - `certstore verify ID [--store S] [--json]`
 *
 * Prints the chain the library built and its verdict; the decision itself is
 * cs_status_compute's.
 */
#include "cli.h"
#include "cli_keys.h"

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

static cs_rv verify_cert(cs_store *store, const cs_cert *cert, const void *arg, cs_err *err)
{
	const cli_cert_view_args *args = arg;
	cs_status_report report = {0};
	cs_rv rv;

	rv = cs_status_compute(store, cert, 0, &report, err);
	if (rv == CS_OK)
		rv = print_report(cert, &report, args->json, err);
	if (rv == CS_OK && report.status != CS_STATUS_VALID)
		rv = cs_err_set(err, CS_ERR_NOT_VALID, "%s (%s): %s", cert->subject, cert->sha1,
				cs_status_name(report.status));
	cs_status_report_clear(&report);
	return rv;
}

static const cli_cert_command verify = {
	.options = cli_cert_view_options,
	.args_size = sizeof(cli_cert_view_args),
	.open_flags = CS_OPEN_READONLY,
	.key_status = true,
	.act = verify_cert,
};

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
	.longopts = cli_cert_view_longopts,
	.run = cli_run_cert_command,
	.on_cert = &verify,
};
