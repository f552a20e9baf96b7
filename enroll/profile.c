/*
 * profile.c - CA profiles: [ca.NAME] sections of certstore.conf, and the
 * local CAs kept in the store, which need no section.
 */
#include "enroll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_file.h"
#include "localca.h"

void enroll_profile_free(enroll_profile *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->protocol);
	free(p->url);
	free(p->auth);
	free(p->user);
	free(p->password_file);
	free(p->template_name);
	free(p->ca_file);
	free(p->store_dir);
	free(p->issue_profile);
	NCONF_free(p->conf);
	free(p);
}

const char *enroll_profile_get(const enroll_profile *p, const char *key)
{
	char section[160];

	if (p->conf == NULL)
		return NULL;
	snprintf(section, sizeof(section), "ca.%s", p->name);
	return cs_config_get(p->conf, section, key);
}

static char *dup_opt(const enroll_profile *p, const char *key)
{
	const char *v = enroll_profile_get(p, key);

	return v != NULL ? strdup(v) : NULL;
}

/* certstore.conf(5): relative paths are relative to the store directory,
 * not to wherever certstore happens to be run from (a timer's cwd is /). */
char *enroll_profile_path(const enroll_profile *p, const char *key)
{
	const char *v = enroll_profile_get(p, key);
	char *path;

	if (v == NULL || v[0] == '/' || p->store_dir == NULL)
		return v != NULL ? strdup(v) : NULL;
	if (asprintf(&path, "%s/%s", p->store_dir, v) < 0)
		return NULL;
	return path;
}

static long long_opt(const enroll_profile *p, const char *key, long dflt)
{
	const char *v = enroll_profile_get(p, key);
	char *end;
	long n;

	if (v == NULL)
		return dflt;
	n = strtol(v, &end, 10);
	return *end == '\0' && n > 0 ? n : dflt;
}

static void fill_from_section(enroll_profile *p)
{
	p->protocol = dup_opt(p, "protocol");
	p->url = dup_opt(p, "url");
	p->auth = dup_opt(p, "auth");
	p->user = dup_opt(p, "user");
	p->password_file = enroll_profile_path(p, "password-file");
	p->template_name = dup_opt(p, "template");
	p->ca_file = enroll_profile_path(p, "ca-file");
	p->issue_profile = dup_opt(p, "profile");
	p->days = long_opt(p, "days", 0);
	p->connect_timeout = long_opt(p, "connect-timeout", 10);
	p->timeout = long_opt(p, "timeout", 60);
}

cs_rv enroll_profile_load(cs_store *store, const char *name, enroll_profile **out, cs_err *err)
{
	enroll_profile *p = calloc(1, sizeof(*p));
	cs_local_ca *ca = NULL;
	cs_rv rv;

	*out = NULL;
	if (p == NULL || (p->name = strdup(name)) == NULL ||
	    (p->store_dir = strdup(cs_store_dir(store))) == NULL) {
		if (p != NULL)
			free(p->name);
		free(p);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	rv = cs_config_open(cs_store_dir(store), true, &p->conf, err);
	if (rv == CS_OK)
		fill_from_section(p);
	if (rv == CS_OK && p->protocol == NULL) {
		rv = cs_local_ca_get(store, name, &ca, NULL);
		if (rv == CS_OK)
			p->protocol = strdup("local");
		else
			rv = cs_err_set(
				err, CS_ERR_NOT_FOUND,
				"no CA profile '%s': add a [ca.%s] section to certstore.conf "
				"or create a local CA with `certstore ca create-local %s`",
				name, name, name);
		cs_local_ca_free(ca);
	}
	if (rv != CS_OK) {
		enroll_profile_free(p);
		return rv;
	}
	*out = p;
	return CS_OK;
}

static void push_name(char ***names, size_t *n, const char *name)
{
	char **grown = realloc(*names, (*n + 2) * sizeof(*grown));

	if (grown == NULL)
		return;
	*names = grown;
	(*names)[(*n)++] = strdup(name);
	(*names)[*n] = NULL;
}

char **enroll_profile_names(cs_store *store, cs_err *err)
{
	CONF *conf = NULL;
	char **names = calloc(1, sizeof(*names)), **sections = NULL, **local = NULL;
	size_t n = 0, i;

	if (cs_config_open(cs_store_dir(store), true, &conf, err) == CS_OK)
		sections = cs_config_sections(conf, "ca.");
	for (i = 0; sections != NULL && sections[i] != NULL; i++) {
		push_name(&names, &n, sections[i] + 3);
		free(sections[i]);
	}
	if (cs_local_ca_names(store, &local, err) == CS_OK)
		for (i = 0; local[i] != NULL; i++) {
			push_name(&names, &n, local[i]);
			free(local[i]);
		}
	free(local);
	free(sections);
	NCONF_free(conf);
	return names;
}

void enroll_answer_clear(enroll_answer *a)
{
	if (a == NULL)
		return;
	cs_cert_list_clear(&a->certs);
	free(a->ca_request_id);
	free(a->detail);
	memset(a, 0, sizeof(*a));
}

void enroll_answer_clear_failed(enroll_answer *a)
{
	bool denied = a != NULL && a->state == ENROLL_DENIED;

	enroll_answer_clear(a);
	if (denied)
		a->state = ENROLL_DENIED;
}

static const enroll_protocol *const protocols[] = {
	&enroll_local, &enroll_est, &enroll_scep, &enroll_certsrv, &enroll_acme,
};

static const char *known_names(void)
{
	static char names[160];
	size_t i, n = 0;

	for (i = 0; i < sizeof(protocols) / sizeof(protocols[0]) && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, " %s", protocols[i]->name);
	return names;
}

cs_rv enroll_protocol_find(const char *name, const enroll_protocol **out, cs_err *err)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof(protocols) / sizeof(protocols[0]); i++) {
		if (strcasecmp(protocols[i]->name, name) == 0) {
			*out = protocols[i];
			return CS_OK;
		}
	}
	return cs_err_set(err, CS_ERR_USAGE, "unknown CA protocol '%s' (this build knows:%s)",
			  name ? name : "", known_names());
}

cs_rv enroll_pending_csr(const cs_pending *pending, X509_REQ **out, cs_err *err)
{
	const unsigned char *der = pending->csr_der.data;

	*out = d2i_X509_REQ(NULL, &der, (long)pending->csr_der.len);
	if (*out == NULL)
		return cs_err_set(err, CS_ERR_STORE, "pending request %lld is unreadable",
				  (long long)pending->id);
	return CS_OK;
}

cs_rv enroll_resubmit(enroll_ctx *ctx, const cs_pending *pending, enroll_answer *out, cs_err *err)
{
	X509_REQ *req = NULL;
	const enroll_protocol *proto = NULL;
	cs_rv rv = enroll_pending_csr(pending, &req, err);

	if (rv != CS_OK)
		return rv;
	rv = enroll_protocol_find(ctx->profile->protocol, &proto, err);
	if (rv == CS_OK)
		rv = proto->submit(ctx, req, pending, out, err);
	X509_REQ_free(req);
	return rv;
}

cs_rv enroll_load_key(const enroll_ctx *ctx, const char *uri, EVP_PKEY **out, cs_err *err)
{
	*out = NULL;
	if (ctx->keys == NULL || ctx->keys->load_key == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "no key token was opened for this CA");
	return ctx->keys->load_key(ctx->keys->arg, uri, out, err);
}
