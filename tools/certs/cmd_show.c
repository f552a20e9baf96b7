/*
 * cmd_show.c - `certstore show ID [--store S] [--json]`
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/x509v3.h>

#include "cli.h"
#include "usage.h"
#include "cli_keys.h"

/* The X.509 extensions worth showing, with their JSON keys. */
static const struct {
	int nid;
	const char *label;
	const char *json_key;
} shown_extensions[] = {
	{NID_subject_alt_name, "Subject alt names", "subject_alt_names"},
	{NID_key_usage, "Key usage", "key_usage"},
	{NID_ext_key_usage, "Extended key usage", "extended_key_usage"},
	{NID_basic_constraints, "Basic constraints", "basic_constraints"},
};

#define N_SHOWN_EXTENSIONS (sizeof(shown_extensions) / sizeof(shown_extensions[0]))

/*
 * The extension as OpenSSL prints it on one line ("DNS:a.example, IP
 * Address:127.0.0.1"); NULL when absent.  The caller frees it.
 */
static char *extension_text(X509 *x509, int nid)
{
	int pos = X509_get_ext_by_NID(x509, nid, -1);
	BIO *bio = NULL;
	char *text = NULL;
	char *mem;
	long len;

	if (pos < 0)
		return NULL;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || X509V3_EXT_print(bio, X509_get_ext(x509, pos), 0, 0) != 1)
		goto out;
	len = BIO_get_mem_data(bio, &mem);
	text = strndup(mem, (size_t)len);
	/* Multi-valued extensions may span lines; one line reads better. */
	for (char *p = text; p && *p; p++)
		if (*p == '\n')
			*p = ' ';
out:
	BIO_free(bio);
	return text;
}

/* "a, b, c" as a JSON array of strings. */
static json_object *split_list(const char *text)
{
	json_object *arr = json_object_new_array();
	char *copy = strdup(text);
	char *save = NULL;

	if (copy == NULL)
		return arr;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (*tok)
			json_object_array_add(arr, json_object_new_string(tok));
	}
	free(copy);
	return arr;
}

static void print_field(const char *label, const char *value)
{
	printf("%-20s %s\n", label, value && *value ? value : "(none)");
}

static void print_time_field(const char *label, int64_t t)
{
	char buf[21];

	cli_format_time(t, buf);
	print_field(label, buf);
}

static void print_extensions(const cs_cert *cert)
{
	for (size_t i = 0; i < N_SHOWN_EXTENSIONS; i++) {
		char *text = extension_text(cert->x509, shown_extensions[i].nid);

		print_field(shown_extensions[i].label, text);
		free(text);
	}
}

static void print_status(const cs_status_report *report)
{
	print_field("Status", cs_status_name(report->status));
	if (report->detail[0])
		print_field("Status detail", report->detail);
	/* A chain problem outranks a key problem; still say both. */
	if (report->key_status != CS_STATUS_VALID && report->key_status != report->status)
		print_field("Also", cs_status_name(report->key_status));
	printf("Chain:\n");
	for (size_t i = 0; i < report->chain.n; i++) {
		const cs_cert *c = report->chain.items[i];

		printf("  %zu  %s  %s\n", i, c->sha1, c->subject);
	}
}

/* The usages this certificate serves (and those it is staged for), comma-separated; caller frees.
 */
static char *usages_served(cs_store *store, const cs_cert *cert, bool staged)
{
	cs_usage_list l = {0};
	char *out = NULL, *next;
	size_t i;

	if (cs_usage_list_get(store, &l, NULL) != CS_OK)
		return NULL;
	for (i = 0; i < l.n; i++) {
		const char *sha1 = staged ? l.items[i].staged_sha1 : l.items[i].sha1;

		if (strcmp(sha1, cert->sha1) != 0)
			continue;
		if (asprintf(&next, "%s%s%s", out ? out : "", out ? ", " : "", l.items[i].name) < 0)
			break;
		free(out);
		out = next;
	}
	cs_usage_list_clear(&l);
	return out;
}

static void print_usages(cs_store *store, const cs_cert *cert)
{
	char *served = usages_served(store, cert, false),
	     *staged = usages_served(store, cert, true);

	print_field("Usages", served ? served : "none");
	if (staged != NULL)
		print_field("Staged for", staged);
	free(served);
	free(staged);
}

static void print_text(cs_store *store, const cs_cert *cert, const cs_status_report *report)
{
	print_field("Subject", cert->subject);
	print_field("Issuer", cert->issuer);
	print_field("Serial", cert->serial);
	print_time_field("Not before", cert->not_before);
	print_time_field("Not after", cert->not_after);
	print_extensions(cert);
	print_field("SHA-1 thumbprint", cert->sha1);
	print_field("SHA-256 thumbprint", cert->sha256);
	print_field("Store", cs_store_id_name(cert->store));
	print_field("Friendly name", cert->friendly_name);
	print_field("Key reference", cert->key_uri);
	print_field("Exportable", cert->exportable ? "yes" : "no");
	print_field("Archived", cert->archived ? "yes" : "no");
	print_time_field("Added", cert->added);
	print_usages(store, cert);
	print_status(report);
}

static json_object *usages_json(cs_store *store, const cs_cert *cert)
{
	json_object *arr = json_object_new_array();
	cs_usage_list l = {0};
	size_t i;

	if (cs_usage_list_get(store, &l, NULL) == CS_OK)
		for (i = 0; i < l.n; i++)
			if (strcmp(l.items[i].sha1, cert->sha1) == 0)
				json_object_array_add(arr, json_object_new_string(l.items[i].name));
	cs_usage_list_clear(&l);
	return arr;
}

static cs_rv print_json(cs_store *store, const cs_cert *cert, const cs_status_report *report,
			cs_err *err)
{
	json_object *obj = cli_json_cert(cert);

	for (size_t i = 0; i < N_SHOWN_EXTENSIONS; i++) {
		char *text = extension_text(cert->x509, shown_extensions[i].nid);

		json_object_object_add(obj, shown_extensions[i].json_key,
				       text ? split_list(text) : NULL);
		free(text);
	}
	json_object_object_add(obj, "status", cli_json_status(report));
	json_object_object_add(obj, "usages", usages_json(store, cert));
	return cli_json_print(obj, err);
}

static cs_rv show_cert(cs_store *store, const cs_cert *cert, const void *arg, cs_err *err)
{
	const cli_cert_view_args *args = arg;
	cs_status_report report = {0};
	cs_rv rv;

	rv = cs_status_compute(store, cert, 0, &report, err);
	if (rv == CS_OK && args->json)
		rv = print_json(store, cert, &report, err);
	else if (rv == CS_OK)
		print_text(store, cert, &report);
	cs_status_report_clear(&report);
	return rv;
}

static const cli_cert_command show = {
	.options = cli_cert_view_options,
	.args_size = sizeof(cli_cert_view_args),
	.open_flags = CS_OPEN_READONLY,
	.key_status = true,
	.act = show_cert,
};

const cli_command cmd_show = {
	.name = "show",
	.summary = "show one certificate, its properties and its status",
	.usage = "Usage: certstore show ID [--store STORE] [--json]\n"
		 "\n"
		 "Shows the certificate named by ID: subject, issuer, serial, validity,\n"
		 "subject alternative names, key usage, extended key usage, basic\n"
		 "constraints, SHA-1 and SHA-256 thumbprints, its store properties, and\n"
		 "its status with the chain that decided it.\n"
		 "\n"
		 "ID is a SHA-1 or SHA-256 thumbprint (spaces and colons ignored), a unique\n"
		 "prefix of at least 8 hex digits, or a friendly name.  When ID matches\n"
		 "several certificates they are listed and the command fails (exit 4).\n"
		 "\n"
		 "Options:\n"
		 "  -s, --store STORE  look only in STORE\n"
		 "  -j, --json         print a JSON object\n"
		 "  -h, --help         this help\n",
	.shortopts = "s:jh",
	.longopts = cli_cert_view_longopts,
	.run = cli_run_cert_command,
	.on_cert = &show,
};
