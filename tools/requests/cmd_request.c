/*
 * cmd_request.c - `certstore request`: a key in the token and a request for it,
 * kept pending (--out FILE) or sent at once to a CA (--ca PROFILE).
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "request_flow.h"
#include "usage.h"

typedef struct request_args {
	cs_request_spec spec;
	const char *inf, *out, *ca, *usages;
	long long retrieve;
	bool dry_run, json, help;
} request_args;

enum {
	OPT_ORG = 256,
	OPT_OU,
	OPT_COUNTRY,
	OPT_STATE,
	OPT_CITY,
	OPT_EMAIL,
	OPT_HASH,
	OPT_EXPORTABLE,
	OPT_TEMPLATE,
	OPT_TEMPLATE_OID,
	OPT_INF,
	OPT_DRY_RUN,
	OPT_USAGE,
	OPT_RETRIEVE,
	OPT_JSON,
	OPT_CA,
};

static const struct option longopts[] = {
	{"subject", required_argument, NULL, 's'},
	{"cn", required_argument, NULL, 'c'},
	{"org", required_argument, NULL, OPT_ORG},
	{"ou", required_argument, NULL, OPT_OU},
	{"country", required_argument, NULL, OPT_COUNTRY},
	{"state", required_argument, NULL, OPT_STATE},
	{"city", required_argument, NULL, OPT_CITY},
	{"email", required_argument, NULL, OPT_EMAIL},
	{"san", required_argument, NULL, 'a'},
	{"key", required_argument, NULL, 'k'},
	{"hash", required_argument, NULL, OPT_HASH},
	{"exportable", no_argument, NULL, OPT_EXPORTABLE},
	{"friendly-name", required_argument, NULL, 'n'},
	{"template", required_argument, NULL, OPT_TEMPLATE},
	{"template-oid", required_argument, NULL, OPT_TEMPLATE_OID},
	{"inf", required_argument, NULL, OPT_INF},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"out", required_argument, NULL, 'o'},
	{"ca", required_argument, NULL, OPT_CA},
	{"usage", required_argument, NULL, OPT_USAGE},
	{"retrieve", required_argument, NULL, OPT_RETRIEVE},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static cs_rv spec_option(request_args *a, int c, const char *v, cs_err *err)
{
	cs_request_spec *s = &a->spec;

	switch (c) {
	case 's':
		return cs_request_spec_set(&s->subject, v, err);
	case 'c':
		return cs_request_spec_set(&s->cn, v, err);
	case OPT_ORG:
		return cs_request_spec_set(&s->org, v, err);
	case OPT_OU:
		return cs_request_spec_set(&s->ou, v, err);
	case OPT_COUNTRY:
		return cs_request_spec_set(&s->country, v, err);
	case OPT_STATE:
		return cs_request_spec_set(&s->state, v, err);
	case OPT_CITY:
		return cs_request_spec_set(&s->city, v, err);
	case OPT_EMAIL:
		return cs_request_spec_set(&s->email, v, err);
	case 'a':
		return cs_request_spec_add_san(s, v, err);
	case 'k':
		return cs_request_spec_set(&s->key, v, err);
	case OPT_HASH:
		return cs_request_spec_set(&s->hash, v, err);
	case 'n':
		return cs_request_spec_set(&s->friendly_name, v, err);
	case OPT_TEMPLATE:
		return cs_request_spec_set(&s->template_name, v, err);
	case OPT_TEMPLATE_OID:
		return cs_request_spec_set(&s->template_oid, v, err);
	case OPT_EXPORTABLE:
		s->exportable = true;
		return CS_OK;
	}
	return CS_OK;
}

static cs_rv other_option(const cli_command *cmd, request_args *a, int c, const char *v,
			  cs_err *err)
{
	char *end;

	switch (c) {
	case OPT_INF:
		a->inf = v;
		break;
	case OPT_DRY_RUN:
		a->dry_run = true;
		break;
	case 'o':
		a->out = v;
		break;
	case OPT_CA:
		a->ca = v;
		break;
	case OPT_USAGE:
		a->usages = v;
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_RETRIEVE:
		a->retrieve = strtoll(v, &end, 10);
		if (*end != '\0' || a->retrieve <= 0)
			return cli_usage_error(cmd, err, "--retrieve takes a request ID");
		break;
	default:
		return spec_option(a, c, v, err);
	}
	return CS_OK;
}

static cs_rv check_combination(const cli_command *cmd, const request_args *a, cs_err *err)
{
	if (a->retrieve > 0)
		return CS_OK;
	if (!a->dry_run && a->out == NULL && a->ca == NULL)
		return cli_usage_error(cmd, err,
				       "say where the request goes: --out FILE (a CA "
				       "signs it later) or --ca PROFILE (now)");
	if (a->usages != NULL) {
		char *list = strdup(a->usages), *save = NULL, *u;
		cs_rv rv = CS_OK;

		for (u = strtok_r(list, ",", &save); u && rv == CS_OK;
		     u = strtok_r(NULL, ",", &save))
			if (!cs_usage_name_valid(u))
				rv = cli_usage_error(cmd, err, "bad usage name '%s'", u);
		free(list);
		return rv;
	}
	return CS_OK;
}

/* This machine's fully qualified name (the resolver's canonical name), else its host name. */
static char *machine_fqdn(void)
{
	struct addrinfo hints = {.ai_flags = AI_CANONNAME}, *res = NULL;
	char host[256] = "";
	char *out = NULL;

	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		return NULL;
	if (strchr(host, '.') == NULL && getaddrinfo(host, NULL, &hints, &res) == 0 &&
	    res != NULL && res->ai_canonname != NULL && strchr(res->ai_canonname, '.') != NULL)
		out = strdup(res->ai_canonname);
	if (res != NULL)
		freeaddrinfo(res);
	return out != NULL ? out : strdup(host);
}

/*
 * A server request with no subject is for this machine, as the Exchange
 * procedure expects: CN and a DNS SAN of its FQDN, said on stderr.  The
 * spec's other fields (O, C, ...) stay.
 */
static cs_rv default_subject(request_args *a, cs_err *err)
{
	cs_request_spec *s = &a->spec;
	char *fqdn, san[300];
	bool add_san;
	cs_rv rv;

	if (a->retrieve > 0 || (s->subject != NULL && *s->subject != '\0') ||
	    (s->cn != NULL && *s->cn != '\0'))
		return CS_OK;
	fqdn = machine_fqdn();
	if (fqdn == NULL)
		return cs_err_set(err, CS_ERR_USAGE,
				  "the request needs a subject (--subject or --cn), and this "
				  "machine's name is unknown");
	rv = cs_request_spec_set(&s->cn, fqdn, err);
	snprintf(san, sizeof(san), "dns:%s", fqdn);
	add_san = s->n_sans == 0;
	if (rv == CS_OK && add_san)
		rv = cs_request_spec_add_san(s, san, err);
	if (rv == CS_OK && !a->json)
		fprintf(stderr,
			"certstore: no subject given: requesting for this machine, CN=%s%s%s\n",
			fqdn, add_san ? ", " : "", add_san ? san : "");
	free(fqdn);
	return rv;
}

/* Browsers match the host name against the SANs only: a request without one
 * gives a certificate they refuse, so the admin hears it before the CA signs. */
static void warn_without_san(const request_args *a)
{
	if (a->retrieve == 0 && a->spec.n_sans == 0)
		fprintf(stderr, "certstore: warning: the request has no subject alternative name; "
				"browsers ignore the CN: add --san dns:NAME\n");
}

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, request_args *a, cs_err *err)
{
	cs_rv rv = CS_OK;
	int c = 0;

	while (rv == CS_OK && (c = cli_next_option(cmd, argc, argv, &rv, err)) >= 0)
		rv = other_option(cmd, a, c, optarg, err);
	if (rv != CS_OK)
		return rv;
	if (c == CLI_OPT_STOP) {
		a->help = true;
		return CS_OK;
	}
	rv = cli_expect_operands(cmd, argc, argv, 0, 0, err);
	if (rv == CS_OK && a->inf != NULL)
		rv = cs_request_spec_read_inf(a->inf, &a->spec, err);
	if (rv == CS_OK)
		rv = check_combination(cmd, a, err);
	if (rv == CS_OK)
		rv = default_subject(a, err);
	if (rv == CS_OK)
		warn_without_san(a);
	return rv;
}

static json_object *dry_run_json(const request_args *a)
{
	const cs_request_spec *sp = &a->spec;
	json_object *o = json_object_new_object(), *sans = json_object_new_array();
	char subject[512] = "", *friendly = cs_request_friendly_name(sp, cs_now());
	X509_NAME *name = NULL;
	size_t i;

	if (cs_request_subject(sp, &name, NULL) == CS_OK)
		X509_NAME_oneline(name, subject, sizeof(subject));
	X509_NAME_free(name);
	cli_json_add_bool(o, "dry_run", true);
	cli_json_add_string(o, "subject", subject);
	for (i = 0; i < sp->n_sans; i++)
		json_object_array_add(sans, json_object_new_string(sp->sans[i]));
	json_object_object_add(o, "sans", sans);
	cli_json_add_string(o, "key", sp->key ? sp->key : "rsa:2048");
	cli_json_add_string(o, "hash", sp->hash ? sp->hash : "sha256");
	cli_json_add_bool(o, "exportable", sp->exportable);
	cli_json_add_string(o, "friendly_name", friendly);
	cli_json_add_string(o, "template", sp->template_name);
	cli_json_add_string(o, "template_oid", sp->template_oid);
	cli_json_add_string(o, "ca", a->ca);
	cli_json_add_string(o, "out", a->out);
	free(friendly);
	return o;
}

/* A dry run refuses what the real run would refuse, with the same message and
 * exit status (the spec, an unknown CA profile); it only makes no key. */
static cs_rv dry_run(const cli_ctx *ctx, const request_args *a, cs_err *err)
{
	enroll_profile *profile = NULL;
	cs_store *store = NULL;
	char *text = NULL;
	cs_rv rv = cs_request_summary(&a->spec, &text, err);

	if (rv == CS_OK && a->ca != NULL) {
		rv = cli_open_store(ctx, CS_OPEN_READONLY, &store, err);
		if (rv == CS_OK)
			rv = enroll_profile_load(store, a->ca, &profile, err);
		/* The local CA's say about the request needs no network: ask it too. */
		if (rv == CS_OK && strcmp(profile->protocol, "local") == 0) {
			enroll_ctx ectx = {store, NULL, profile, NULL};

			rv = enroll_local.prepare(&ectx, (cs_request_spec *)&a->spec, err);
		}
		enroll_profile_free(profile);
		cs_store_close(store);
	}
	if (rv == CS_OK && a->json)
		rv = cli_json_print(dry_run_json(a), err);
	else if (rv == CS_OK) {
		printf("%s", text);
		printf("Destination:       %s\n", a->ca ? a->ca : a->out ? a->out : "(none)");
		printf("(dry run: no key was made and nothing was sent)\n");
	}
	free(text);
	return rv;
}

static cs_rv new_request(cs_store *store, cli_keys *keys, request_args *a, cs_err *err)
{
	cs_pending *p = NULL;
	X509_REQ *req = NULL;
	cs_rv rv = CS_OK;

	/* An unknown profile fails before any key is made; so does the CA's say
	 * about the request (SCEP's challenge, EST's /csrattrs). */
	if (a->ca != NULL)
		rv = flow_prepare(store, keys, a->ca, &a->spec, err);
	if (rv == CS_OK)
		rv = flow_make_pending(store, keys, &a->spec,
				       &(flow_target){.ca_profile = a->ca, .usages = a->usages}, &p,
				       &req, err);
	if (rv == CS_OK && a->out != NULL) {
		rv = flow_write_request(a->out, req, err);
		if (rv == CS_OK && !a->json)
			printf("request %lld pending for %s, key %s in the token\n"
			       "written to %s: have a CA sign it, then run `certstore accept "
			       "RESPONSE`\n",
			       (long long)p->id, p->subject, p->key_spec, a->out);
	}
	if (rv == CS_OK && a->ca != NULL)
		rv = flow_submit(store, keys, a->ca, p, req, a->json, err);
	X509_REQ_free(req);
	cs_pending_free(p);
	return rv;
}

/* The certificate a pending renewal renews, while it is still in My and live;
 * NULL when the request renews nothing or its certificate is gone. */
static cs_rv renewed_cert(cs_store *store, const cs_pending *p, cs_cert **out, cs_err *err)
{
	cs_err mine = {0};
	cs_rv rv;

	*out = NULL;
	if (p->renews == NULL || *p->renews == '\0')
		return CS_OK;
	rv = cs_store_find_by_thumbprint(store, CS_STORE_MY, p->renews, out, &mine);
	if (rv == CS_OK && ((*out)->archived || (*out)->key_uri == NULL)) {
		cs_cert_free(*out);
		*out = NULL;
	}
	if (rv == CS_ERR_NOT_FOUND)
		return CS_OK;
	if (rv != CS_OK && err != NULL)
		*err = mine;
	return rv;
}

static cs_rv retrieve(cs_store *store, cli_keys *keys, const request_args *a, cs_err *err)
{
	cs_cert *current = NULL;
	cs_pending *p = NULL;
	cs_rv rv = cs_pending_get(store, (int64_t)a->retrieve, &p, err);

	if (rv == CS_OK && p->ca_profile == NULL)
		rv = cs_err_set(err, CS_ERR_USAGE,
				"request %lld was written to a file for an offline CA; import "
				"the CA's response with `certstore accept RESPONSE`",
				a->retrieve);
	if (rv == CS_OK)
		rv = renewed_cert(store, p, &current, err);
	/* A renewal asked again is still a renewal (EST: /simplereenroll with
	 * the current certificate as TLS client identity), not a new enrollment. */
	if (rv == CS_OK && current != NULL)
		rv = flow_submit_renewal(store, keys, p->ca_profile, p, NULL, current, a->json,
					 err);
	else if (rv == CS_OK)
		rv = flow_submit(store, keys, p->ca_profile, p, NULL, a->json, err);
	cs_cert_free(current);
	cs_pending_free(p);
	return rv;
}

static cs_rv run_request(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			 cs_err *err)
{
	request_args a = {0};
	cs_store *store = NULL;
	cli_keys keys = {0};
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &a, err);
	if (rv == CS_OK && !a.help && a.dry_run)
		rv = dry_run(ctx, &a, err);
	else if (rv == CS_OK && !a.help) {
		rv = cli_open_store(ctx, 0, &store, err);
		if (rv == CS_OK)
			rv = cli_keys_open(store, &keys, err);
		if (rv == CS_OK)
			rv = a.retrieve > 0 ? retrieve(store, &keys, &a, err)
					    : new_request(store, &keys, &a, err);
		cli_keys_close(&keys);
		cs_store_close(store);
	}
	cs_request_spec_clear(&a.spec);
	return rv;
}

const cli_command cmd_request = {
	.name = "request",
	.summary = "make a key in the token and request a certificate for it",
	.usage =
		"Usage: certstore request (--subject DN | --cn NAME [--org O] [--ou OU] [--country "
		"C]\n"
		"                          [--state S] [--city L] [--email E])\n"
		"                         [--san dns:NAME|ip:ADDR|email:ADDR|uri:URI]...\n"
		"                         [--key rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384]\n"
		"                         [--hash sha256|sha224|sha384|sha512] [--exportable]\n"
		"                         [--friendly-name NAME] [--template NAME]\n"
		"                         [--template-oid OID:MAJOR[:MINOR]] [--inf FILE]\n"
		"                         (--out FILE | --ca PROFILE) [--usage U1,U2] [--dry-run] "
		"[--json]\n"
		"       certstore request --retrieve ID [--json]\n"
		"\n"
		"Makes a key in the store's token (never exportable unless --exportable), builds "
		"a\n"
		"PKCS#10 request signed with it, and keeps it pending in the Request store.\n"
		"\n"
		"  --out FILE      write the request (PEM) for an offline CA; import the CA's\n"
		"                  response later with `certstore accept RESPONSE`\n"
		"  --ca PROFILE    send it now to a CA profile ([ca.NAME] in certstore.conf, or a\n"
		"                  local CA from `certstore ca create-local`) and install the "
		"result\n"
		"  --inf FILE      read a Windows certreq INF file ([NewRequest] Subject, "
		"KeyLength,\n"
		"                  KeyAlgorithm, Exportable, FriendlyName, HashAlgorithm; SANs "
		"from\n"
		"                  [Extensions] 2.5.29.17; [RequestAttributes] "
		"CertificateTemplate)\n"
		"  --subject DN    \"CN=www.example.com, O=Example, C=GB\" or \"/CN=.../O=...\"\n"
		"  --template N    Microsoft certificate template name extension\n"
		"  --template-oid  Microsoft v2 certificate template extension\n"
		"  --usage LIST    assign the certificate to these usages once it is Valid\n"
		"  --dry-run       print what would be requested; make no key\n"
		"  --retrieve ID   ask the CA again for pending request ID (see `certstore "
		"requests`)\n"
		"\n"
		"Exit status: 0 issued (or written), 12 the CA refused or failed, 15 the CA has "
		"not\n"
		"issued yet, 16 the CA's certificate is for another key; see certstore(1).\n",
	.shortopts = "s:c:a:k:n:o:h",
	.longopts = longopts,
	.run = run_request,
};
