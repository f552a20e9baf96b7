/*
 * cmd_accept.c - `certstore accept RESPONSE...`: a CA's answer to a pending
 * request (Windows `certreq -accept`).  Unlike import, every end-entity
 * certificate must answer a pending request or a key in the token; one
 * that answers nothing installs nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_keys.h"
#include "request_flow.h"

typedef struct accept_args {
	char **files;
	int n_files;
	bool json, help;
} accept_args;

enum { OPT_JSON = 256 };

static const struct option longopts[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const cli_option accept_options[] = {
	{OPT_JSON, CLI_FLAG, offsetof(accept_args, json), NULL},
	{0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, accept_args *a, cs_err *err)
{
	cs_rv rv = cli_parse_options(cmd, argc, argv, accept_options, a, &a->help, err);

	if (rv != CS_OK || a->help)
		return rv;
	rv = cli_expect_operands(cmd, argc, argv, 1, -1, err);
	a->files = argv + optind;
	a->n_files = argc - optind;
	return rv;
}

static cs_rv read_all(const accept_args *a, cs_cert_list *certs, cs_err *err)
{
	cs_cert_list one = {0};
	cs_bytes data = {0};
	cs_rv rv = CS_OK;
	size_t j;
	int i;

	for (i = 0; i < a->n_files && rv == CS_OK; i++) {
		rv = cs_read_file(a->files[i], &data, err);
		if (rv == CS_OK)
			rv = cs_parse_certs(data.data, data.len, NULL, &one, err);
		if (rv != CS_OK)
			cs_err_prefix(err, "%s", a->files[i]);
		for (j = 0; rv == CS_OK && j < one.n; j++) {
			rv = cs_cert_list_push(certs, one.items[j], err);
			one.items[j] = NULL;
		}
		cs_cert_list_clear(&one);
		cs_bytes_clear(&data);
	}
	return rv;
}

/* The key this certificate answers: a pending request's (bound by import) or a token key. */
static cs_rv find_its_key(cs_store *store, cli_keys *keys, cs_cert *cert, cs_err *err)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert->x509);
	cs_pending *p = NULL;
	char key_id[41];
	cs_rv rv;

	rv = cs_pubkey_id_hex(pub, key_id, err);
	if (rv == CS_OK && cs_pending_find_by_key_id(store, key_id, &p, NULL) == CS_OK) {
		cs_pending_free(p);
		return CS_OK;
	}
	if (rv == CS_OK && cs_key_find_by_public(keys->token, pub, &cert->key_uri, NULL) == CS_OK)
		return cs_key_is_exportable(keys->token, cert->key_uri, &cert->exportable, err);
	return rv != CS_OK
		       ? rv
		       : cs_err_set(err, CS_ERR_KEY,
				    "%s (%s) answers no pending request and matches no key in "
				    "the token; nothing was installed (use `certstore import` to "
				    "add it without a key)",
				    cert->subject, cert->sha1);
}

static const char *file_of_item(size_t i, const void *arg)
{
	const accept_args *a = arg;

	(void)i;
	return a->n_files == 1 ? a->files[0] : "";
}

/* Every certificate of the response gets a line: nothing is dropped without a word. */
static cs_rv report_item(cs_store *store, const accept_args *a, const cs_import_item *it,
			 cs_err *err)
{
	const char *where = cs_store_id_name(it->store);

	if (it->outcome == CS_IMPORT_ADDED && it->store == CS_STORE_MY)
		return flow_report(store, it->sha1, NULL, false, err);
	if (it->outcome == CS_IMPORT_ADDED)
		printf("added to %s: %s (%s)\n", where, it->subject, it->sha1);
	else if (it->outcome == CS_IMPORT_DUPLICATE && it->store == CS_STORE_MY)
		printf("already installed in My: %s (%s)\n", it->subject, it->sha1);
	else if (it->outcome == CS_IMPORT_DUPLICATE && it->store == CS_STORE_ROOT)
		printf("already trusted (in Root): %s (%s)\n", it->subject, it->sha1);
	else if (it->outcome == CS_IMPORT_DUPLICATE)
		printf("already in %s: %s (%s)\n", where, it->subject, it->sha1);
	else
		printf("not trusted: self-signed root %s (%s) was not added; trusting it is your "
		       "decision: check its fingerprint, then run `certstore import %s --store "
		       "Root`\n",
		       it->subject, it->sha1, a->n_files == 1 ? a->files[0] : "FILE");
	return CS_OK;
}

/* The import result, each certificate of My with its status, as one JSON object. */
static cs_rv report_json(cs_store *store, const accept_args *a, const cs_import_result *res,
			 cs_err *err)
{
	json_object *obj = cli_import_result_json(res, file_of_item, a);
	json_object *items = json_object_object_get(obj, "items");
	cs_rv rv = CS_OK;
	size_t i;

	for (i = 0; i < res->n && rv == CS_OK; i++) {
		cs_status_report r = {0};
		cs_cert *cert = NULL;

		if (res->items[i].store != CS_STORE_MY)
			continue;
		rv = cs_store_find_by_thumbprint(store, CS_STORE_MY, res->items[i].sha1, &cert,
						 err);
		if (rv == CS_OK)
			rv = cs_status_compute(store, cert, 0, &r, err);
		if (rv == CS_OK)
			json_object_object_add(json_object_array_get_idx(items, i), "status",
					       cli_json_status(&r));
		cs_status_report_clear(&r);
		cs_cert_free(cert);
	}
	if (rv == CS_OK)
		return cli_json_print(obj, err);
	json_object_put(obj);
	return rv;
}

static cs_rv accept_certs(cs_store *store, cli_keys *keys, const accept_args *a,
			  cs_cert_list *certs, cs_err *err)
{
	cs_import_result res = {0};
	size_t i, leaves = 0;
	cs_rv rv = CS_OK;

	for (i = 0; i < certs->n && rv == CS_OK; i++)
		if (!cs_cert_is_ca(certs->items[i])) {
			leaves++;
			rv = find_its_key(store, keys, certs->items[i], err);
		}
	if (rv == CS_OK && leaves == 0)
		rv = cs_err_set(
			err, CS_ERR_BAD_INPUT,
			"the response holds only CA certificates, no certificate to accept");
	if (rv == CS_OK)
		rv = cs_import_certs(store, certs, NULL, &res, err);
	if (rv == CS_OK && a->json)
		rv = report_json(store, a, &res, err);
	for (i = 0; rv == CS_OK && !a->json && i < res.n; i++)
		rv = report_item(store, a, &res.items[i], err);
	cs_import_result_clear(&res);
	return rv;
}

static cs_rv run_accept(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			cs_err *err)
{
	accept_args a = {0};
	cs_cert_list certs = {0};
	cs_store *store = NULL;
	cli_keys keys = {0};
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &a, err);
	if (rv != CS_OK || a.help)
		return rv;
	rv = read_all(&a, &certs, err);
	if (rv == CS_OK)
		rv = cli_open_store(ctx, 0, &store, err);
	if (rv == CS_OK)
		rv = cli_keys_open(store, &keys, err);
	if (rv == CS_OK)
		rv = accept_certs(store, &keys, &a, &certs, err);
	cli_keys_close(&keys);
	cs_store_close(store);
	cs_cert_list_clear(&certs);
	return rv;
}

const cli_command cmd_accept = {
	.name = "accept",
	.summary = "install a CA's response to a pending request (certreq -accept)",
	.usage = "Usage: certstore accept RESPONSE... [--json]\n"
		 "\n"
		 "Installs the certificate a CA issued for a pending request (.cer, .crt, .p7b\n"
		 "in DER or Base64, PEM chain): it is bound to the request's key in My, its\n"
		 "intermediates go to CA, and the pending request is removed.  A certificate\n"
		 "that answers no pending request and matches no key in the token installs\n"
		 "nothing (exit 16).  The CA's root is never trusted by this: see `certstore ca\n"
		 "roots` or `certstore import ROOT --store Root`.  Every certificate of the\n"
		 "response is reported: installed (with its status), added to CA, already\n"
		 "installed, already trusted, or a root not trusted and how to trust it.\n",
	.shortopts = "h",
	.longopts = longopts,
	.run = run_accept,
};
