/*
 * cmd_ca_discover.c - `certstore ca discover`: the enterprise CAs Active
 * Directory lists, and a [ca.NAME] profile for one of them on request.
 * Nothing is trusted here: the CA certificate read from the directory is
 * kept for `certstore ca roots NAME --trust --expect-fingerprint`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "cli.h"
#include "ad_discover.h"
#include "enroll.h"

typedef struct discover_args {
	ad_query q;
	const char *add, *from, *template_name;
	bool json, help;
} discover_args;

enum {
	OPT_DOMAIN = 256,
	OPT_SERVER,
	OPT_USER,
	OPT_PWFILE,
	OPT_JSON,
	OPT_ADD,
	OPT_FROM,
	OPT_TEMPLATE,
	OPT_TLS_CA
};

static const struct option longopts[] = {
	{"domain", required_argument, NULL, OPT_DOMAIN},
	{"server", required_argument, NULL, OPT_SERVER},
	{"bind-user", required_argument, NULL, OPT_USER},
	{"password-file", required_argument, NULL, OPT_PWFILE},
	{"json", no_argument, NULL, OPT_JSON},
	{"add", required_argument, NULL, OPT_ADD},
	{"from", required_argument, NULL, OPT_FROM},
	{"template", required_argument, NULL, OPT_TEMPLATE},
	{"tls-ca", required_argument, NULL, OPT_TLS_CA},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const cli_command cmd_ca_discover;

static const cli_option discover_options[] = {
	{OPT_DOMAIN, CLI_VALUE, offsetof(discover_args, q.domain), NULL},
	{OPT_SERVER, CLI_VALUE, offsetof(discover_args, q.server), NULL},
	{OPT_USER, CLI_VALUE, offsetof(discover_args, q.bind_user), NULL},
	{OPT_PWFILE, CLI_VALUE, offsetof(discover_args, q.password_file), NULL},
	{OPT_JSON, CLI_FLAG, offsetof(discover_args, json), NULL},
	{OPT_ADD, CLI_VALUE, offsetof(discover_args, add), NULL},
	{OPT_FROM, CLI_VALUE, offsetof(discover_args, from), NULL},
	{OPT_TEMPLATE, CLI_VALUE, offsetof(discover_args, template_name), NULL},
	{OPT_TLS_CA, CLI_VALUE, offsetof(discover_args, q.tls_ca), NULL},
	{0},
};

static cs_rv parse_args(int argc, char **argv, discover_args *a, cs_err *err)
{
	cs_rv rv;

	cli_reset_options();
	rv = cli_parse_options(&cmd_ca_discover, argc, argv, discover_options, a, &a->help, err);
	if (rv != CS_OK || a->help)
		return rv;
	rv = cli_expect_operands(&cmd_ca_discover, argc, argv, 0, 0, err);
	if (rv == CS_OK && a->add == NULL && (a->from != NULL || a->template_name != NULL))
		rv = cli_usage_error(&cmd_ca_discover, err, "--from and --template go with --add");
	return rv;
}

static cs_cert *ca_cert(const ad_ca *ca)
{
	cs_cert *c = NULL;

	if (ca->cert.len > 0)
		(void)cs_cert_from_der(ca->cert.data, ca->cert.len, &c, NULL);
	return c;
}

static json_object *ca_json(const ad_directory *d, const ad_ca *ca)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	cs_cert *c = ca_cert(ca);
	char url[300];
	size_t i;

	snprintf(url, sizeof(url), "https://%s/certsrv", ca->host ? ca->host : "?");
	cli_json_add_string(o, "name", ca->name);
	cli_json_add_string(o, "host", ca->host);
	cli_json_add_string(o, "url", url);
	cli_json_add_string(o, "certificate_subject", c ? c->subject : NULL);
	cli_json_add_string(o, "certificate_sha256", c ? c->sha256 : NULL);
	for (i = 0; i < ca->n_templates; i++) {
		const ad_template *t = ad_directory_template(d, ca->templates[i]);
		json_object *to = json_object_new_object();

		cli_json_add_string(to, "name", ca->templates[i]);
		cli_json_add_string(to, "display_name", t ? t->display_name : NULL);
		cli_json_add_int(to, "min_key_size", t ? t->min_key_size : 0);
		cli_json_add_bool(to, "subject_in_request", t && t->subject_in_request);
		json_object_array_add(arr, to);
	}
	json_object_object_add(o, "templates", arr);
	cs_cert_free(c);
	return o;
}

static void ca_text(const ad_directory *d, const ad_ca *ca)
{
	cs_cert *c = ca_cert(ca);
	size_t i;

	printf("%s on %s (https://%s/certsrv)\n", ca->name, ca->host ? ca->host : "?",
	       ca->host ? ca->host : "?");
	if (c != NULL)
		printf("  CA certificate %s\n    SHA-256 %s\n", c->subject, c->sha256);
	for (i = 0; i < ca->n_templates; i++) {
		const ad_template *t = ad_directory_template(d, ca->templates[i]);

		printf("  template %-24s %s", ca->templates[i],
		       t && t->display_name ? t->display_name : "");
		if (t != NULL && t->min_key_size > 0)
			printf(", keys of %ld bits or more", t->min_key_size);
		printf("%s\n", t && t->subject_in_request ? ", subject from the request"
							  : ", subject from the directory");
	}
	cs_cert_free(c);
}

static cs_rv print_directory(const ad_directory *d, bool json, cs_err *err)
{
	json_object *o, *arr;
	size_t i;

	if (!json) {
		printf("domain %s, directory %s: %zu enterprise CA(s)\n", d->domain, d->server,
		       d->n_cas);
		for (i = 0; i < d->n_cas; i++)
			ca_text(d, &d->cas[i]);
		return CS_OK;
	}
	o = json_object_new_object();
	arr = json_object_new_array();
	cli_json_add_string(o, "domain", d->domain);
	cli_json_add_string(o, "server", d->server);
	for (i = 0; i < d->n_cas; i++)
		json_object_array_add(arr, ca_json(d, &d->cas[i]));
	json_object_object_add(o, "cas", arr);
	return cli_json_print(o, err);
}

/* The CA --add takes: --from, or the only one. */
static cs_rv pick_ca(const ad_directory *d, const char *from, const ad_ca **out, cs_err *err)
{
	size_t i;

	*out = NULL;
	for (i = 0; i < d->n_cas; i++)
		if (from == NULL ? d->n_cas == 1 : strcasecmp(d->cas[i].name, from) == 0)
			*out = &d->cas[i];
	if (*out == NULL && from != NULL)
		return cs_err_set(err, CS_ERR_NOT_FOUND, "the domain %s has no enterprise CA %s",
				  d->domain, from);
	if (*out == NULL)
		return cs_err_set(err, CS_ERR_USAGE,
				  "the domain %s has %zu enterprise CAs: say which with --from CA",
				  d->domain, d->n_cas);
	if ((*out)->host == NULL)
		return cs_err_set(err, CS_ERR_CA, "the CA %s has no dNSHostName in the directory",
				  (*out)->name);
	return CS_OK;
}

/* --template, which the CA must offer; else the first it offers whose subject
 * comes from the request (what a server certificate needs). */
static cs_rv pick_template(const ad_directory *d, const ad_ca *ca, const char *want,
			   const char **out, cs_err *err)
{
	size_t i;

	*out = NULL;
	for (i = 0; i < ca->n_templates && *out == NULL; i++) {
		const ad_template *t = ad_directory_template(d, ca->templates[i]);

		if (want != NULL ? strcasecmp(ca->templates[i], want) == 0
				 : t != NULL && t->subject_in_request)
			*out = ca->templates[i];
	}
	if (*out == NULL && want != NULL)
		return cs_err_set(err, CS_ERR_NOT_FOUND,
				  "the CA %s offers no template %s (see `certstore ca discover`)",
				  ca->name, want);
	if (*out == NULL)
		return cs_err_set(
			err, CS_ERR_USAGE,
			"the CA %s offers no template whose subject comes from the request: "
			"name one with --template",
			ca->name);
	return CS_OK;
}

/* The CA certificate from the directory, as PEM in the store directory, for
 * `ca roots NAME` to offer (0644: nothing secret). */
static cs_rv save_ca_cert(cs_store *store, const char *name, const ad_ca *ca, char **path,
			  cs_err *err)
{
	cs_cert *c = ca_cert(ca);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	cs_rv rv = CS_OK;

	*path = NULL;
	if (c == NULL || bio == NULL || !PEM_write_bio_X509(bio, c->x509))
		rv = cs_err_set(err, CS_ERR_BAD_INPUT,
				"the CA %s has no readable cACertificate in the directory",
				ca->name);
	else if (asprintf(path, "%s/ad-%s.crt", cs_store_dir(store), name) < 0)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (rv == CS_OK) {
		len = BIO_get_mem_data(bio, &data);
		rv = cs_write_file_atomic(*path, data, (size_t)len, 0644, err);
	}
	BIO_free(bio);
	cs_cert_free(c);
	return rv;
}

/* [ca.NAME] appended to certstore.conf, which keeps its mode. */
static cs_rv append_profile(cs_store *store, const char *name, const ad_ca *ca, const char *tmpl,
			    const char *cert_path, cs_err *err)
{
	char *path = NULL, *text = NULL;
	cs_bytes old = {0};
	struct stat st;
	cs_rv rv = CS_OK;

	if (asprintf(&path, "%s/certstore.conf", cs_store_dir(store)) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (stat(path, &st) == 0)
		rv = cs_read_file(path, &old, err);
	else
		st.st_mode = 0600;
	if (rv == CS_OK &&
	    asprintf(&text,
		     "%.*s\n# found in Active Directory by `certstore ca discover`\n[ca.%s]\n"
		     "protocol = certsrv\nurl = https://%s/certsrv\nauth = negotiate\n"
		     "template = %s\nad-ca-certificate = %s\n",
		     (int)old.len, old.data ? (const char *)old.data : "", name, ca->host, tmpl,
		     cert_path) < 0)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (rv == CS_OK)
		rv = cs_write_file_atomic(path, text, strlen(text), (int)(st.st_mode & 0777), err);
	cs_bytes_clear(&old);
	free(text);
	free(path);
	return rv;
}

static cs_rv add_profile(cs_store *store, const discover_args *a, const ad_directory *d,
			 cs_err *err)
{
	const ad_ca *ca = NULL;
	const char *tmpl = NULL;
	char *cert_path = NULL;
	cs_rv rv;

	rv = pick_ca(d, a->from, &ca, err);
	if (rv == CS_OK)
		rv = pick_template(d, ca, a->template_name, &tmpl, err);
	if (rv == CS_OK)
		rv = save_ca_cert(store, a->add, ca, &cert_path, err);
	/* Relative to the store directory, so that the store can move. */
	if (rv == CS_OK)
		rv = append_profile(store, a->add, ca, tmpl, strrchr(cert_path, '/') + 1, err);
	if (rv != CS_OK && cert_path != NULL)
		(void)unlink(cert_path);
	if (rv == CS_OK) {
		cs_cert *c = ca_cert(ca);

		printf("added [ca.%s]: certsrv at https://%s/certsrv, auth = negotiate, template "
		       "%s\nnot trusted yet: the CA certificate from the directory is %s\n"
		       "  SHA-256 %s\ncheck it, then run\n  certstore ca roots %s --trust "
		       "--expect-fingerprint %s\n",
		       a->add, ca->host, tmpl, c->subject, c->sha256, a->add, c->sha256);
		cs_cert_free(c);
	}
	free(cert_path);
	return rv;
}

static bool profile_exists(cs_store *store, const char *name)
{
	enroll_profile *p = NULL;
	bool there = enroll_profile_load(store, name, &p, NULL) == CS_OK;

	enroll_profile_free(p);
	return there;
}

cs_rv ca_discover_run(const cli_ctx *ctx, int argc, char **argv, cs_err *err);

cs_rv ca_discover_run(const cli_ctx *ctx, int argc, char **argv, cs_err *err)
{
	discover_args a = {0};
	ad_directory d = {0};
	cs_store *store = NULL;
	cs_rv rv;

	rv = parse_args(argc, argv, &a, err);
	if (rv != CS_OK || a.help)
		return rv;
	rv = cli_open_store(ctx, a.add ? 0 : CS_OPEN_READONLY, &store, err);
	/* Refused before the directory is asked: nothing it says would change that. */
	if (rv == CS_OK && a.add != NULL && profile_exists(store, a.add))
		rv = cs_err_set(err, CS_ERR_DUPLICATE,
				"a CA profile %s exists already: nothing changed", a.add);
	if (rv == CS_OK) {
		a.q.store_dir = cs_store_dir(store);
		rv = ad_discover(&a.q, &d, err);
	}
	if (rv == CS_OK && a.add == NULL)
		rv = print_directory(&d, a.json, err);
	else if (rv == CS_OK)
		rv = add_profile(store, &a, &d, err);
	ad_directory_clear(&d);
	cs_store_close(store);
	return rv;
}

static const cli_command cmd_ca_discover = {
	.name = "ca discover",
	.summary = "the enterprise CAs Active Directory lists",
	.usage = "Usage: certstore ca discover [--domain DOMAIN] [--server HOST[:PORT]]\n"
		 "                             [--bind-user USER --password-file FILE]\n"
		 "                             [--tls-ca FILE] [--json]\n"
		 "       certstore ca discover --add NAME [--from CA] [--template T] [...]\n"
		 "\n"
		 "Lists the enterprise CAs registered in Active Directory (pKIEnrollmentService\n"
		 "objects: host, CA certificate, templates offered) and the templates' minimal\n"
		 "key size and whether the subject comes from the request.  The domain is\n"
		 "--domain, else default_realm of /etc/krb5.conf, else the host's DNS domain;\n"
		 "the directory server is --server, else DNS SRV _ldap._tcp.DOMAIN.  The bind\n"
		 "is Kerberos (SASL GSSAPI: the user's ticket, or the machine's after\n"
		 "`kinit -k`), or a simple bind as USER with the password in FILE, always\n"
		 "over StartTLS.  --tls-ca FILE: the CA the DC's TLS certificate must chain\n"
		 "to (StartTLS for Kerberos too); else ldap.conf's TLS_CACERT.\n"
		 "--add NAME writes [ca.NAME] (certsrv on the CA's host, auth = negotiate,\n"
		 "the template) and keeps the CA certificate for `certstore ca roots NAME\n"
		 "--trust --expect-fingerprint SHA256`: nothing is trusted by discover.\n",
	.shortopts = "h",
	.longopts = longopts,
	.run = NULL, /* run by `ca` through ca_discover_run */
};
