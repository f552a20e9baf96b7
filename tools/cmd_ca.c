/*
 * cmd_ca.c - `certstore ca create-local | list | roots`: the CAs this store
 * knows, and installing their roots only when the admin says so.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_keys.h"
#include "enroll/enroll.h"
#include "localca.h"

typedef struct ca_args {
	const char *action, *name, *key, *cn, *expect;
	long days;
	bool trust, json, help;
} ca_args;

enum { OPT_KEY = 256, OPT_DAYS, OPT_CN, OPT_TRUST, OPT_EXPECT, OPT_JSON };

static const struct option longopts[] = {
    {"key", required_argument, NULL, OPT_KEY},      {"days", required_argument, NULL, OPT_DAYS},
    {"cn", required_argument, NULL, OPT_CN},        {"trust", no_argument, NULL, OPT_TRUST},
    {"expect-fingerprint", required_argument, NULL, OPT_EXPECT},
    {"json", no_argument, NULL, OPT_JSON},          {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static cs_rv take_option(const cli_command *cmd, ca_args *a, int c, cs_err *err)
{
	char *end;

	switch (c) {
	case OPT_KEY: a->key = optarg; break;
	case OPT_CN: a->cn = optarg; break;
	case OPT_TRUST: a->trust = true; break;
	case OPT_EXPECT: a->expect = optarg; break;
	case OPT_JSON: a->json = true; break;
	case OPT_DAYS:
		a->days = strtol(optarg, &end, 10);
		if (*end != '\0' || a->days <= 0 || a->days > 36500)
			return cli_usage_error(cmd, err, "--days takes 1 to 36500");
		break;
	}
	return CS_OK;
}

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, ca_args *a, cs_err *err)
{
	cs_rv rv = CS_OK;
	int c = 0;

	while (rv == CS_OK && (c = cli_next_option(cmd, argc, argv, &rv, err)) >= 0)
		rv = take_option(cmd, a, c, err);
	if (rv != CS_OK || c == CLI_OPT_STOP) {
		a->help = rv == CS_OK;
		return rv;
	}
	rv = cli_expect_operands(cmd, argc, argv, 1, 2, err);
	if (rv != CS_OK)
		return rv;
	a->action = argv[optind];
	a->name = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (strcmp(a->action, "list") != 0 && a->name == NULL)
		return cli_usage_error(cmd, err, "%s needs a CA name", a->action);
	return CS_OK;
}

static cs_rv create_local(cs_store *store, const ca_args *a, cs_err *err)
{
	cli_keys keys = {0};
	cs_key_spec ks;
	char *uri = NULL, label[96];
	EVP_PKEY *key = NULL;
	cs_local_ca *ca = NULL;
	cs_rv rv;

	rv = cs_key_spec_parse(a->key ? a->key : "ec:p256", &ks, err);
	if (rv == CS_OK)
		rv = cli_keys_open(store, &keys, err);
	snprintf(label, sizeof(label), "certstore CA %s", a->name);
	if (rv == CS_OK)
		rv = cs_key_generate(keys.token, &ks, label, false, &uri, NULL, err);
	if (rv == CS_OK)
		rv = cli_keys_load(&keys, uri, &key, err);
	if (rv == CS_OK)
		rv = cs_local_ca_create(store, a->name, a->cn, key, uri, (int)a->days, &ca, err);
	if (rv != CS_OK && uri != NULL) /* no orphan key */
		(void)cs_key_delete(keys.token, uri, NULL);
	if (rv == CS_OK)
		printf("local CA %s created: %s\n  SHA-256 %s\n  its key is in the token; trust "
		       "its root with `certstore ca roots %s --trust`\n",
		       a->name, ca->cert->subject, ca->cert->sha256, a->name);
	cs_local_ca_free(ca);
	EVP_PKEY_free(key);
	free(uri);
	cli_keys_close(&keys);
	return rv;
}

static cs_rv list_cas(cs_store *store, bool json, cs_err *err)
{
	char **names = enroll_profile_names(store, err);
	json_object *arr = json ? json_object_new_array() : NULL;
	enroll_profile *p = NULL;
	size_t i;

	for (i = 0; names != NULL && names[i] != NULL; i++) {
		if (enroll_profile_load(store, names[i], &p, NULL) == CS_OK) {
			if (json) {
				json_object *o = json_object_new_object();

				cli_json_add_string(o, "name", p->name);
				cli_json_add_string(o, "protocol", p->protocol);
				cli_json_add_string(o, "url", p->url);
				json_object_array_add(arr, o);
			} else
				printf("%-20s %-8s %s\n", p->name, p->protocol, p->url ? p->url : "");
			enroll_profile_free(p);
		}
		free(names[i]);
	}
	free(names);
	return json ? cli_json_print(arr, err) : CS_OK;
}

static bool is_root(const cs_cert *c)
{
	return cs_cert_is_ca(c) && cs_cert_is_self_signed(c);
}

static bool fingerprint_matches(const cs_cert *c, const char *expect)
{
	char want[80];
	size_t i, o = 0;

	for (i = 0; expect[i] != '\0' && o + 1 < sizeof(want); i++)
		if (expect[i] != ':' && expect[i] != ' ')
			want[o++] = expect[i];
	want[o] = '\0';
	return strcasecmp(want, c->sha256) == 0 || strcasecmp(want, c->sha1) == 0;
}

/* Intermediates go to CA; the root only to Root, and only with --trust. */
static cs_rv install_roots(cs_store *store, const ca_args *a, cs_cert_list *certs, cs_err *err)
{
	cs_import_opts root_opts = {.store = CS_STORE_ROOT};
	cs_cert_list roots = {0}, others = {0};
	cs_import_result res = {0};
	size_t i;
	cs_rv rv = CS_OK;

	for (i = 0; i < certs->n && rv == CS_OK; i++) {
		cs_cert *c = certs->items[i];

		printf("%-12s %s\n             SHA-256 %s\n", is_root(c) ? "root" : "intermediate",
		       c->subject, c->sha256);
		if (is_root(c) && a->trust && a->expect != NULL && !fingerprint_matches(c, a->expect))
			rv = cs_err_set(err, CS_ERR_TRUST_REFUSED,
					"the root %s has SHA-256 %s, not the expected %s: not "
					"trusted",
					c->subject, c->sha256, a->expect);
		certs->items[i] = NULL;
		if (rv == CS_OK)
			rv = cs_cert_list_push(is_root(c) ? &roots : &others, c, err);
		else
			cs_cert_free(c);
	}
	if (rv == CS_OK && others.n > 0)
		rv = cs_import_certs(store, &others, NULL, &res, err);
	cs_import_result_clear(&res);
	if (rv == CS_OK && roots.n > 0 && a->trust) {
		rv = cs_import_certs(store, &roots, &root_opts, &res, err);
		if (rv == CS_OK)
			printf("trusted: %zu root(s) added to Root%s\n", res.added,
			       res.duplicates ? " (some were there already)" : "");
	} else if (rv == CS_OK && roots.n > 0)
		printf("not trusted yet: to trust it, check the fingerprint, then run\n"
		       "  certstore ca roots %s --trust --expect-fingerprint %s\n",
		       a->name, roots.items[0]->sha256);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&roots);
	cs_cert_list_clear(&others);
	return rv;
}

static cs_rv fetch_roots(cs_store *store, const ca_args *a, cs_err *err)
{
	enroll_profile *profile = NULL;
	const enroll_protocol *proto = NULL;
	cs_cert_list certs = {0};
	cli_keys keys = {0};
	enroll_ctx ctx = {store, &keys, NULL};
	cs_rv rv;

	rv = enroll_profile_load(store, a->name, &profile, err);
	if (rv == CS_OK)
		rv = enroll_protocol_find(profile->protocol, &proto, err);
	if (rv == CS_OK) {
		ctx.profile = profile;
		rv = proto->roots(&ctx, &certs, err);
	}
	if (rv == CS_OK && certs.n == 0)
		rv = cs_err_set(err, CS_ERR_CA, "%s sent no certificates", a->name);
	if (rv == CS_OK)
		rv = install_roots(store, a, &certs, err);
	cs_cert_list_clear(&certs);
	enroll_profile_free(profile);
	return rv;
}

static cs_rv run_ca(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
		    cs_err *err)
{
	ca_args a = {0};
	cs_store *store = NULL;
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &a, err);
	if (rv != CS_OK || a.help)
		return rv;
	rv = cli_open_store(ctx, 0, &store, err);
	if (rv != CS_OK)
		return rv;
	if (strcmp(a.action, "create-local") == 0)
		rv = create_local(store, &a, err);
	else if (strcmp(a.action, "list") == 0)
		rv = list_cas(store, a.json, err);
	else if (strcmp(a.action, "roots") == 0)
		rv = fetch_roots(store, &a, err);
	else
		rv = cli_usage_error(cmd, err, "unknown action '%s' (create-local, list, roots)",
				     a.action);
	cs_store_close(store);
	return rv;
}

const cli_command cmd_ca = {
    .name = "ca",
    .summary = "certification authorities: create a local CA, list profiles, fetch roots",
    .usage = "Usage: certstore ca create-local NAME [--key ec:p256|rsa:2048|...] [--days N]\n"
	     "                                       [--cn COMMON-NAME]\n"
	     "       certstore ca list [--json]\n"
	     "       certstore ca roots NAME [--trust [--expect-fingerprint SHA256]]\n"
	     "\n"
	     "create-local  makes a CA whose key is in the store's token (not exportable) and\n"
	     "              whose certificate and issued serials live in the store; requests\n"
	     "              sent with `certstore request --ca NAME` are signed by it at once.\n"
	     "list          the CA profiles: [ca.NAME] sections of certstore.conf and local CAs.\n"
	     "roots         fetches the CA's certificates and prints each with its SHA-256\n"
	     "              fingerprint; intermediates go to CA.  The root goes to Root only\n"
	     "              with --trust (and, given --expect-fingerprint, only if it matches:\n"
	     "              exit 6 otherwise).\n",
    .shortopts = "h",
    .longopts = longopts,
    .run = run_ca,
};
