/*
 * ad_discover.c - see ad_discover.h.
 */
#include "ad_discover.h"
#include "ad_tls.h"
#include "http.h"

#include <arpa/nameser.h>
#include <ctype.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ldap.h>
#include <sasl/sasl.h>

#define AD_PKS "CN=Public Key Services,CN=Services,"
#define CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT 0x1L

/* The domain: as given, else krb5.conf's default realm, else the host's own. */
static cs_rv find_domain(const ad_query *q, char **out, cs_err *err)
{
	const char *conf = q->krb5_conf ? q->krb5_conf : getenv("KRB5_CONFIG");
	char host[256], *dot;

	if (q->domain != NULL)
		return (*out = strdup(q->domain))
			       ? CS_OK
			       : cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (ad_krb5_default_realm(conf ? conf : "/etc/krb5.conf", out, NULL) == CS_OK)
		return CS_OK;
	if (gethostname(host, sizeof(host)) == 0 && (dot = strchr(host, '.')) != NULL &&
	    dot[1] != '\0')
		return (*out = strdup(dot + 1)) ? CS_OK
						: cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	return cs_err_set(err, CS_ERR_USAGE,
			  "no domain known: give --domain, or set default_realm in /etc/krb5.conf");
}

/* The first SRV target of _ldap._tcp.DOMAIN, as host:port; NULL when none. */
static char *srv_lookup(const char *domain)
{
	unsigned char ans[4096];
	char name[300], target[NS_MAXDNAME], *out = NULL;
	ns_msg msg;
	ns_rr rr;
	int len, i;

	snprintf(name, sizeof(name), "_ldap._tcp.%s", domain);
	len = res_query(name, ns_c_in, ns_t_srv, ans, sizeof(ans));
	if (len <= 0 || ns_initparse(ans, len, &msg) < 0)
		return NULL;
	for (i = 0; out == NULL && i < ns_msg_count(msg, ns_s_an); i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_srv ||
		    ns_rr_rdlen(rr) < 7)
			continue;
		/* priority, weight, port (16 bits each), then the target name */
		if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 6, target,
			      sizeof(target)) < 0)
			continue;
		if (asprintf(&out, "%s:%u", target, ns_get16(ns_rr_rdata(rr) + 4)) < 0)
			out = NULL;
	}
	return out;
}

static int sasl_defaults(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	sasl_interact_t *it = in;

	(void)ld;
	(void)flags;
	(void)defaults;
	/* GSSAPI asks for nothing but perhaps an authorization ID: none. */
	for (; it->id != SASL_CB_LIST_END; it++) {
		it->result = "";
		it->len = 0;
	}
	return LDAP_SUCCESS;
}

static cs_rv bind_error(const ad_query *q, const char *server, int rc, cs_err *err)
{
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT)
		return cs_err_set(err, CS_ERR_UNREACHABLE,
				  "cannot reach the domain controller %s: %s", server,
				  ldap_err2string(rc));
	if (q->bind_user != NULL)
		return cs_err_set(err, CS_ERR_AUTH,
				  "the domain controller %s refused the bind as %s: %s (check the "
				  "password in %s)",
				  server, q->bind_user, ldap_err2string(rc), q->password_file);
	return cs_err_set(err, CS_ERR_AUTH,
			  "the domain controller %s refused the Kerberos (GSSAPI) bind: %s; get a "
			  "ticket first (`kinit USER`, or the machine's with `kinit -k`), or bind "
			  "with --bind-user and --password-file",
			  server, ldap_err2string(rc));
}

static cs_rv ldap_bind_as(LDAP *ld, const ad_query *q, const char *server, cs_err *err)
{
	struct berval cred = {0};
	char *password = NULL;
	int rc;
	cs_rv rv = CS_OK;

	/* The password file's own faults first: they are not the DC's. */
	if (q->bind_user != NULL && q->password_file == NULL)
		return cs_err_set(err, CS_ERR_USAGE,
				  "--bind-user needs --password-file (never a password on the "
				  "command line)");
	if (q->bind_user != NULL)
		rv = http_read_secret_file(q->store_dir, q->password_file, "password-file",
					   &password, err);
	if (rv == CS_OK && (q->tls_ca != NULL || q->bind_user != NULL))
		rv = ad_start_tls(ld, q, server, err);
	if (rv != CS_OK) {
		http_secret_free(password);
		return rv;
	}
	if (q->bind_user == NULL) {
		rc = ldap_sasl_interactive_bind_s(ld, NULL, "GSSAPI", NULL, NULL, LDAP_SASL_QUIET,
						  sasl_defaults, NULL);
		return rc == LDAP_SUCCESS ? CS_OK : bind_error(q, server, rc, err);
	}
	cred.bv_val = password;
	cred.bv_len = strlen(password);
	rc = ldap_sasl_bind_s(ld, q->bind_user, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	http_secret_free(password);
	return rc == LDAP_SUCCESS ? CS_OK : bind_error(q, server, rc, err);
}

static cs_rv ldap_open(const ad_query *q, const char *server, LDAP **out, cs_err *err)
{
	/* A DC answers slowly while it starts or under load: seen timing out at
	 * 10 s on a loaded machine (tests/heavy/ad-domain.sh). */
	struct timeval tv = {30, 0};
	int v3 = LDAP_VERSION3, rc;
	char *uri = NULL;

	*out = NULL;
	if (asprintf(&uri, "ldap://%s", server) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	rc = ldap_initialize(out, uri);
	free(uri);
	if (rc != LDAP_SUCCESS)
		return cs_err_set(err, CS_ERR_USAGE, "ldap://%s: %s", server, ldap_err2string(rc));
	ldap_set_option(*out, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(*out, LDAP_OPT_REFERRALS, LDAP_OPT_OFF); /* AD's are other partitions */
	ldap_set_option(*out, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(*out, LDAP_OPT_TIMEOUT, &tv);
	return ldap_bind_as(*out, q, server, err);
}

static char *first_value(LDAP *ld, LDAPMessage *e, const char *attr)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	char *s = v && v[0] ? strndup(v[0]->bv_val, v[0]->bv_len) : NULL;

	ldap_value_free_len(v);
	return s;
}

static long long_value(LDAP *ld, LDAPMessage *e, const char *attr)
{
	char *s = first_value(ld, e, attr);
	long v = s ? strtol(s, NULL, 10) : 0;

	free(s);
	return v;
}

static cs_rv search(LDAP *ld, const char *base, int scope, const char *filter, const char **attrs,
		    LDAPMessage **res, cs_err *err)
{
	struct timeval tv = {30, 0};
	int rc = ldap_search_ext_s(ld, base, scope, filter, (char **)attrs, 0, NULL, NULL, &tv, 0,
				   res);

	if (rc == LDAP_SUCCESS)
		return CS_OK;
	ldap_msgfree(*res);
	*res = NULL;
	if (rc == LDAP_NO_SUCH_OBJECT)
		return cs_err_set(err, CS_ERR_NOT_FOUND, "the directory has no %s", base);
	return cs_err_set(err, CS_ERR_CA, "LDAP search under %s failed: %s", base,
			  ldap_err2string(rc));
}

/* The forest's configuration partition, from the root DSE. */
static cs_rv config_nc(LDAP *ld, char **out, cs_err *err)
{
	const char *attrs[] = {"configurationNamingContext", NULL};
	LDAPMessage *res = NULL, *e;
	cs_rv rv = search(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, &res, err);

	*out = NULL;
	e = rv == CS_OK ? ldap_first_entry(ld, res) : NULL;
	if (e != NULL)
		*out = first_value(ld, e, "configurationNamingContext");
	ldap_msgfree(res);
	if (rv == CS_OK && *out == NULL)
		rv = cs_err_set(err, CS_ERR_NOT_FOUND,
				"the LDAP server names no configurationNamingContext: not an "
				"Active Directory domain controller");
	return rv;
}

static cs_rv read_ca(LDAP *ld, LDAPMessage *e, ad_ca *ca, cs_err *err)
{
	struct berval **certs = ldap_get_values_len(ld, e, "cACertificate");
	struct berval **tmpl = ldap_get_values_len(ld, e, "certificateTemplates");
	int i, n = ldap_count_values_len(tmpl);

	ca->name = first_value(ld, e, "cn");
	ca->host = first_value(ld, e, "dNSHostName");
	if (certs != NULL && certs[0] != NULL && (ca->cert.data = malloc(certs[0]->bv_len))) {
		memcpy(ca->cert.data, certs[0]->bv_val, certs[0]->bv_len);
		ca->cert.len = certs[0]->bv_len;
	}
	ca->templates = calloc((size_t)n + 1, sizeof(char *));
	for (i = 0; ca->templates != NULL && i < n; i++)
		ca->templates[ca->n_templates++] = strndup(tmpl[i]->bv_val, tmpl[i]->bv_len);
	ldap_value_free_len(certs);
	ldap_value_free_len(tmpl);
	if (ca->name == NULL || ca->templates == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	return CS_OK;
}

/* The objects of one class in a container of the forest's Public Key
 * Services; *base (freed by the caller) names where, for messages. */
static cs_rv search_pks(LDAP *ld, const char *config, const char *container, const char *class,
			const char **attrs, char **base, LDAPMessage **res, cs_err *err)
{
	char filter[64];

	if (asprintf(base, "CN=%s," AD_PKS "%s", container, config) < 0) {
		*base = NULL;
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	snprintf(filter, sizeof(filter), "(objectClass=%s)", class);
	return search(ld, *base, LDAP_SCOPE_ONELEVEL, filter, attrs, res, err);
}

static cs_rv read_cas(LDAP *ld, const char *config, ad_directory *d, cs_err *err)
{
	const char *attrs[] = {"cn", "dNSHostName", "cACertificate", "certificateTemplates", NULL};
	LDAPMessage *res = NULL, *e;
	char *base = NULL;
	cs_rv rv;

	rv = search_pks(ld, config, "Enrollment Services", "pKIEnrollmentService", attrs, &base,
			&res, err);
	d->cas =
		rv == CS_OK ? calloc((size_t)ldap_count_entries(ld, res) + 1, sizeof(ad_ca)) : NULL;
	if (rv == CS_OK && d->cas == NULL)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	for (e = rv == CS_OK ? ldap_first_entry(ld, res) : NULL; e != NULL && rv == CS_OK;
	     e = ldap_next_entry(ld, e))
		rv = read_ca(ld, e, &d->cas[d->n_cas++], err);
	if (rv == CS_OK && d->n_cas == 0)
		rv = cs_err_set(err, CS_ERR_NOT_FOUND,
				"the domain %s registers no enterprise CA (no pKIEnrollmentService "
				"under %s)",
				d->domain, base);
	ldap_msgfree(res);
	free(base);
	return rv;
}

static cs_rv read_templates(LDAP *ld, const char *config, ad_directory *d, cs_err *err)
{
	const char *attrs[] = {"cn", "displayName", "msPKI-Minimal-Key-Size",
			       "msPKI-Certificate-Name-Flag", NULL};
	LDAPMessage *res = NULL, *e;
	char *base = NULL;
	cs_rv rv;

	rv = search_pks(ld, config, "Certificate Templates", "pKICertificateTemplate", attrs, &base,
			&res, err);
	if (rv == CS_ERR_NOT_FOUND) /* templates are optional to what a CA lists */
		rv = CS_OK;
	d->templates =
		calloc((size_t)(res ? ldap_count_entries(ld, res) : 0) + 1, sizeof(ad_template));
	if (rv == CS_OK && d->templates == NULL)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	for (e = rv == CS_OK && res ? ldap_first_entry(ld, res) : NULL; e != NULL;
	     e = ldap_next_entry(ld, e)) {
		ad_template *t = &d->templates[d->n_templates++];

		t->name = first_value(ld, e, "cn");
		t->display_name = first_value(ld, e, "displayName");
		t->min_key_size = long_value(ld, e, "msPKI-Minimal-Key-Size");
		t->subject_in_request = (long_value(ld, e, "msPKI-Certificate-Name-Flag") &
					 CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT) != 0;
	}
	ldap_msgfree(res);
	free(base);
	return rv;
}

cs_rv ad_discover(const ad_query *q, ad_directory *out, cs_err *err)
{
	LDAP *ld = NULL;
	char *config = NULL;
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	rv = find_domain(q, &out->domain, err);
	if (rv == CS_OK) {
		out->server = q->server ? strdup(q->server) : srv_lookup(out->domain);
		if (out->server == NULL)
			out->server = strdup(out->domain);
		if (out->server == NULL)
			rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	if (rv == CS_OK)
		rv = ldap_open(q, out->server, &ld, err);
	if (rv == CS_OK)
		rv = config_nc(ld, &config, err);
	if (rv == CS_OK)
		rv = read_cas(ld, config, out, err);
	if (rv == CS_OK)
		rv = read_templates(ld, config, out, err);
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	free(config);
	if (rv != CS_OK)
		ad_directory_clear(out);
	return rv;
}

void ad_directory_clear(ad_directory *d)
{
	size_t i, j;

	for (i = 0; i < d->n_cas; i++) {
		free(d->cas[i].name);
		free(d->cas[i].host);
		cs_bytes_clear(&d->cas[i].cert);
		for (j = 0; j < d->cas[i].n_templates; j++)
			free(d->cas[i].templates[j]);
		free(d->cas[i].templates);
	}
	for (i = 0; i < d->n_templates; i++) {
		free(d->templates[i].name);
		free(d->templates[i].display_name);
	}
	free(d->cas);
	free(d->templates);
	free(d->domain);
	free(d->server);
	memset(d, 0, sizeof(*d));
}

const ad_template *ad_directory_template(const ad_directory *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_templates; i++)
		if (d->templates[i].name != NULL && strcasecmp(d->templates[i].name, name) == 0)
			return &d->templates[i];
	return NULL;
}
