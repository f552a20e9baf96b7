/*
 * cmd_ca.c - `certstore ca create-local | list | roots`: the CAs this store
 * knows, and installing their roots only when the admin says so.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "certs.h"
#include "cli.h"
#include "cli_keys.h"
#include "enroll.h"
#include "localca.h"

#include <openssl/err.h>
#include <openssl/pem.h>

typedef struct ca_args {
	const char *action, *name, *key, *cn, *expect, *request, *out;
	long days;
	bool trust, json, help;
} ca_args;

enum { OPT_KEY = 256, OPT_DAYS, OPT_CN, OPT_TRUST, OPT_EXPECT, OPT_JSON };

static const struct option longopts[] = {
	{"key", required_argument, NULL, OPT_KEY},
	{"days", required_argument, NULL, OPT_DAYS},
	{"cn", required_argument, NULL, OPT_CN},
	{"trust", no_argument, NULL, OPT_TRUST},
	{"expect-fingerprint", required_argument, NULL, OPT_EXPECT},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{"out", required_argument, NULL, 'o'},
	{NULL, 0, NULL, 0},
};

static cs_rv take_option(const cli_command *cmd, ca_args *a, int c, cs_err *err)
{
	char *end;

	switch (c) {
	case OPT_KEY:
		a->key = optarg;
		break;
	case OPT_CN:
		a->cn = optarg;
		break;
	case OPT_TRUST:
		a->trust = true;
		break;
	case OPT_EXPECT:
		a->expect = optarg;
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case 'o':
		a->out = optarg;
		break;
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
	rv = cli_expect_operands(cmd, argc, argv, 1, 3, err);
	if (rv != CS_OK)
		return rv;
	a->action = argv[optind];
	a->name = optind + 1 < argc ? argv[optind + 1] : NULL;
	a->request = optind + 2 < argc ? argv[optind + 2] : NULL;
	if (strcmp(a->action, "list") != 0 && a->name == NULL)
		return cli_usage_error(cmd, err, "%s needs a CA name", a->action);
	if (strcmp(a->action, "sign") == 0 && a->request == NULL)
		return cli_usage_error(cmd, err, "sign needs a CA name and a request file");
	if (strcmp(a->action, "sign") != 0 && a->request != NULL)
		return cli_usage_error(cmd, err, "unexpected operand '%s'", a->request);
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
		cs_key_rollback(keys.token, uri, err);
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
				printf("%-20s %-8s %s\n", p->name, p->protocol,
				       p->url ? p->url : "");
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

static bool in_root(cs_store *store, const cs_cert *c)
{
	cs_cert *found = NULL;
	bool there =
		cs_store_find_by_thumbprint(store, CS_STORE_ROOT, c->sha1, &found, NULL) == CS_OK;

	cs_cert_free(found);
	return there;
}

/* Each certificate with its fingerprint, and for a root whether Root has it. */
static void print_cert(cs_store *store, const cs_cert *c)
{
	printf("%-12s %s\n             SHA-256 %s%s\n", is_root(c) ? "root" : "intermediate",
	       c->subject, c->sha256, is_root(c) && in_root(store, c) ? " (trusted: in Root)" : "");
}

/*
 * Which roots --trust takes: all of them, or with --expect-fingerprint only
 * the one the admin vouched for.  A CA may send several roots (a new one
 * during its key rollover, a cross-signed one): any of them may be the
 * expected one, and the others are left untrusted.
 */
static cs_rv pick_roots(const ca_args *a, cs_cert_list *roots, cs_cert_list *picked, cs_err *err)
{
	size_t i;
	cs_rv rv = CS_OK;

	for (i = 0; i < roots->n && rv == CS_OK; i++) {
		if (a->expect != NULL && !cs_cert_matches_fingerprint(roots->items[i], a->expect))
			continue;
		rv = cs_cert_list_push(picked, roots->items[i], err);
		if (rv == CS_OK)
			roots->items[i] = NULL;
	}
	if (rv == CS_OK && picked->n == 0)
		rv = cs_err_set(err, CS_ERR_TRUST_REFUSED,
				"%s sent no root with the fingerprint %s (%zu root(s) sent, "
				"listed above): nothing trusted",
				a->name, a->expect, roots->n);
	return rv;
}

/* Without --trust: how to trust each root Root does not have yet. */
static void suggest_trust(cs_store *store, const ca_args *a, const cs_cert_list *roots)
{
	size_t i, shown = 0;

	for (i = 0; i < roots->n; i++) {
		if (in_root(store, roots->items[i]))
			continue;
		if (shown++ == 0)
			printf("not trusted yet: to trust a root, check its fingerprint, then "
			       "run\n");
		printf("  certstore ca roots %s --trust --expect-fingerprint %s\n", a->name,
		       roots->items[i]->sha256);
	}
	if (shown == 0)
		printf("every root %s sent is trusted already (in Root)\n", a->name);
}

/* Intermediates go to CA; roots only to Root, and only with --trust. */
static cs_rv install_roots(cs_store *store, const ca_args *a, cs_cert_list *certs, cs_err *err)
{
	cs_import_opts root_opts = {.store = CS_STORE_ROOT};
	cs_cert_list roots = {0}, others = {0}, picked = {0};
	cs_import_result res = {0};
	size_t i;
	cs_rv rv = CS_OK;

	for (i = 0; i < certs->n && rv == CS_OK; i++) {
		cs_cert *c = certs->items[i];

		print_cert(store, c);
		certs->items[i] = NULL;
		rv = cs_cert_list_push(is_root(c) ? &roots : &others, c, err);
		if (rv != CS_OK)
			cs_cert_free(c);
	}
	if (rv == CS_OK && a->trust && roots.n > 0)
		rv = pick_roots(a, &roots, &picked, err);
	if (rv == CS_OK && others.n > 0)
		rv = cs_import_certs(store, &others, NULL, &res, err);
	cs_import_result_clear(&res);
	if (rv == CS_OK && picked.n > 0) {
		rv = cs_import_certs(store, &picked, &root_opts, &res, err);
		if (rv == CS_OK)
			printf("trusted: %zu root(s) added to Root%s\n", res.added,
			       res.duplicates ? " (some were there already)" : "");
		if (rv == CS_OK && picked.n < roots.n)
			printf("not trusted: %zu other root(s), not of the expected fingerprint\n",
			       roots.n - picked.n);
	} else if (rv == CS_OK && roots.n > 0)
		suggest_trust(store, a, &roots);
	cs_import_result_clear(&res);
	cs_cert_list_clear(&picked);
	cs_cert_list_clear(&roots);
	cs_cert_list_clear(&others);
	return rv;
}

/* The certificates as PEM, one after the other, in path (0644: nothing secret). */
static cs_rv write_pem_certs(const char *path, const cs_cert_list *certs, cs_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	size_t i;
	cs_rv rv = CS_OK;

	for (i = 0; bio != NULL && i < certs->n; i++)
		if (!PEM_write_bio_X509(bio, certs->items[i]->x509))
			break;
	if (bio == NULL || i < certs->n) {
		BIO_free(bio);
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot encode the certificates");
	}
	len = BIO_get_mem_data(bio, &data);
	if (path != NULL)
		rv = cs_write_file_atomic(path, data, (size_t)len, 0644, err);
	else if (fwrite(data, 1, (size_t)len, stdout) != (size_t)len)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot write to standard output");
	BIO_free(bio);
	return rv;
}

/* `ca roots NAME -o FILE`: saved for inspection; the store is not changed. */
static cs_rv save_roots(const ca_args *a, const cs_cert_list *certs, cs_err *err)
{
	size_t i;
	cs_rv rv = write_pem_certs(a->out, certs, err);

	for (i = 0; rv == CS_OK && i < certs->n; i++)
		printf("%-12s %s\n             SHA-256 %s\n",
		       is_root(certs->items[i]) ? "root" : "intermediate", certs->items[i]->subject,
		       certs->items[i]->sha256);
	if (rv == CS_OK)
		printf("saved %zu certificate(s) of %s to %s; nothing was installed (trust the "
		       "root with `certstore ca roots %s --trust`)\n",
		       certs->n, a->name, a->out, a->name);
	return rv;
}

/* A profile from `ca discover --add`: the CA certificate came from the
 * directory, over the Kerberos-bound LDAP connection, not over the CA's own
 * TLS that nothing verifies yet. */
static cs_rv read_ad_cert(const enroll_profile *p, cs_cert_list *certs, cs_err *err)
{
	char *path = enroll_profile_path(p, "ad-ca-certificate");
	cs_bytes data = {0};
	cs_rv rv = path ? cs_read_file(path, &data, err)
			: cs_err_set(err, CS_ERR_INTERNAL, "out of memory");

	if (rv == CS_OK)
		rv = cs_parse_certs(data.data, data.len, NULL, certs, err);
	if (rv != CS_OK)
		cs_err_prefix(err, "[ca.%s] ad-ca-certificate", p->name);
	cs_bytes_clear(&data);
	free(path);
	return rv;
}

static cs_rv fetch_roots(cs_store *store, const ca_args *a, cs_err *err)
{
	enroll_profile *profile = NULL;
	const enroll_protocol *proto = NULL;
	cs_cert_list certs = {0};
	cli_keys keys = {0};
	enroll_keys ek;
	enroll_ctx ctx = {store, &ek, NULL, a->expect};
	cs_rv rv;

	cli_enroll_keys(&keys, &ek); /* no token: /cacerts and friends need no key */
	rv = enroll_profile_load(store, a->name, &profile, err);
	if (rv == CS_OK)
		rv = enroll_protocol_find(profile->protocol, &proto, err);
	if (rv == CS_OK && enroll_profile_get(profile, "ad-ca-certificate") != NULL)
		rv = read_ad_cert(profile, &certs, err);
	else if (rv == CS_OK) {
		ctx.profile = profile;
		rv = proto->roots(&ctx, &certs, err);
	}
	if (rv == CS_OK && certs.n == 0)
		rv = cs_err_set(err, CS_ERR_CA, "%s sent no certificates", a->name);
	if (rv == CS_OK && a->out != NULL && !a->trust)
		rv = save_roots(a, &certs, err);
	else if (rv == CS_OK) {
		if (a->out != NULL)
			rv = write_pem_certs(a->out, &certs, err);
		if (rv == CS_OK)
			rv = install_roots(store, a, &certs, err);
	}
	cs_cert_list_clear(&certs);
	enroll_profile_free(profile);
	return rv;
}

static cs_rv read_request(const char *path, X509_REQ **out, cs_err *err)
{
	cs_bytes data = {0};
	const unsigned char *p;
	BIO *bio = NULL;
	cs_rv rv = cs_read_file(path, &data, err);

	*out = NULL;
	if (rv != CS_OK)
		return rv;
	/* PEM (also certreq's "NEW CERTIFICATE REQUEST"), else DER. */
	bio = BIO_new_mem_buf(data.data, (int)data.len);
	if (bio != NULL)
		*out = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	if (*out == NULL) {
		p = data.data;
		*out = d2i_X509_REQ(NULL, &p, (long)data.len);
	}
	ERR_clear_error();
	BIO_free(bio);
	cs_bytes_clear(&data);
	if (*out == NULL)
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "%s: not a PKCS#10 certificate request (PEM or DER)", path);
	return CS_OK;
}

/*
 * `ca sign NAME REQUEST`: the offline flow against the local CA, as
 * `certreq -submit` is against a CA: the request file in, the certificate
 * and the CA's certificate out (PEM, to -o FILE or standard output), ready
 * for `certstore accept` wherever the request was made.
 */
static cs_rv sign_request(cs_store *store, const ca_args *a, cs_err *err)
{
	enroll_profile *profile = NULL;
	const enroll_protocol *proto = NULL;
	enroll_answer answer = {0};
	cli_keys keys = {0};
	enroll_keys ek = {0};
	enroll_ctx ectx = {store, &ek, NULL, NULL};
	X509_REQ *req = NULL;
	cs_rv rv;

	rv = read_request(a->request, &req, err);
	if (rv == CS_OK)
		rv = enroll_profile_load(store, a->name, &profile, err);
	if (rv == CS_OK && strcmp(profile->protocol, "local") != 0)
		rv = cs_err_set(err, CS_ERR_USAGE,
				"%s is a %s CA: `ca sign` signs with a local CA (`certstore ca "
				"create-local`); send requests to %s with `certstore request --ca`",
				a->name, profile->protocol, a->name);
	if (rv == CS_OK && a->days > 0)
		profile->days = a->days;
	if (rv == CS_OK)
		rv = enroll_protocol_find(profile->protocol, &proto, err);
	if (rv == CS_OK)
		rv = cli_keys_open(store, &keys, err);
	if (rv == CS_OK) {
		cli_enroll_keys(&keys, &ek);
		ectx.profile = profile;
		rv = proto->submit(&ectx, req, NULL, &answer, err);
	}
	if (rv != CS_OK)
		cs_err_prefix(err, "%s", a->request);
	if (rv == CS_OK)
		rv = write_pem_certs(a->out, &answer.certs, err);
	if (rv == CS_OK && a->out != NULL)
		printf("%s signed %s: %s (%s)\nwritten to %s with the CA's certificate: install "
		       "it with `certstore accept %s` where the request was made\n",
		       a->name, a->request, answer.certs.items[0]->subject,
		       answer.certs.items[0]->sha1, a->out, a->out);
	enroll_answer_clear(&answer);
	cli_keys_close(&keys);
	enroll_profile_free(profile);
	X509_REQ_free(req);
	return rv;
}

/* cmd_ca_discover.c: `ca discover` has options of its own. */
cs_rv ca_discover_run(const cli_ctx *ctx, int argc, char **argv, cs_err *err);

static cs_rv run_ca(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv, cs_err *err)
{
	ca_args a = {0};
	cs_store *store = NULL;
	cs_rv rv;

	if (argc >= 2 && strcmp(argv[1], "discover") == 0)
		return ca_discover_run(ctx, argc - 1, argv + 1, err);
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
	else if (strcmp(a.action, "sign") == 0)
		rv = sign_request(store, &a, err);
	else
		rv = cli_usage_error(cmd, err,
				     "unknown action '%s' (create-local, list, roots, sign)",
				     a.action);
	cs_store_close(store);
	return rv;
}

const cli_command cmd_ca = {
	.name = "ca",
	.summary = "certification authorities: create a local CA, list profiles, fetch roots",
	.usage =
		"Usage: certstore ca create-local NAME [--key ec:p256|rsa:2048|...] [--days N]\n"
		"                                       [--cn COMMON-NAME]\n"
		"       certstore ca list [--json]\n"
		"       certstore ca roots NAME [--trust [--expect-fingerprint SHA256]] [-o FILE]\n"
		"       certstore ca sign NAME REQUEST [-o FILE] [--days N]\n"
		"       certstore ca discover [--domain D] [--json] [--add NAME ...]  (see\n"
		"                             `certstore ca discover --help`)\n"
		"\n"
		"create-local  makes a CA whose key is in the store's token (not exportable) and\n"
		"              whose certificate and issued serials live in the store; requests\n"
		"              sent with `certstore request --ca NAME` are signed by it at once.\n"
		"list          the CA profiles: [ca.NAME] sections of certstore.conf and local "
		"CAs.\n"
		"roots         fetches the CA's certificates and prints each with its SHA-256\n"
		"              fingerprint; intermediates go to CA.  The root goes to Root only\n"
		"              with --trust (and, given --expect-fingerprint, only the root with\n"
		"              that fingerprint: exit 6 if none has it).  For an EST CA not "
		"trusted yet, the\n"
		"              fingerprint also vouches for the first TLS connection (RFC 7030\n"
		"              4.1.1): the server's TLS chain must verify under that certificate.\n"
		"              -o FILE saves the certificates (PEM) to inspect them first; "
		"without\n"
		"              --trust nothing is installed then.\n"
		"sign          the local CA NAME signs a request file (PEM or DER, e.g. from\n"
		"              `certstore request --out` or certreq -new) like `certreq -submit`:\n"
		"              the certificate and the CA's certificate go to FILE (PEM; standard\n"
		"              output without -o), for `certstore accept FILE`.\n",
	.shortopts = "ho:",
	.longopts = longopts,
	.run = run_ca,
};
