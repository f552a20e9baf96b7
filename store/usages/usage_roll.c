/*
 * usage_roll.c - usages over time: staged rolls, renewal moving usages, and
 * making published files agree with the database after a crash.
 */
#include "usage.h"
#include "db_usages.h"
#include "usages.h"
#include "publish.h"

#include <dirent.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cs_rv find_my(cs_store *store, const char *sha1, cs_cert **out, cs_err *err)
{
	return cs_store_find_by_thumbprint(store, CS_STORE_MY, sha1, out, err);
}

cs_rv cs_usage_stage(cs_store *store, const char *name, const cs_cert *cert, int64_t at,
		     cs_err *err)
{
	cs_usage_list l = {0};
	cs_usage u = {0};
	char detail[256], when[32] = "?";
	time_t at_t = (time_t)at;
	struct tm tm;
	cs_rv rv;

	if (!cs_usage_name_valid(name))
		return cs_err_set(err, CS_ERR_USAGE, "bad usage name '%s'", name);
	/* as cs_usage_assign says: staging a certificate apply_due cannot find helps nobody */
	if (cert->store != CS_STORE_MY)
		return cs_err_set(err, CS_ERR_USAGE,
				  "%s is in %s; only certificates in My serve usages", cert->sha1,
				  cs_store_id_name(cert->store));
	rv = cs_db_begin(store, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_db_usage_select(store, name, &l, err);
	if (rv == CS_OK) {
		if (l.n > 0)
			u = l.items[0];
		u.name = (char *)name;
		memcpy(u.staged_sha1, cert->sha1, sizeof(u.staged_sha1));
		u.staged_at = at;
		rv = cs_db_usage_upsert(store, &u, err);
		if (l.n == 0)
			u.name = NULL;
	}
	/* ISO 8601, as the admin typed it and `usages` shows it, not epoch seconds. */
	if (gmtime_r(&at_t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(detail, sizeof(detail), "%s %s at %s", name, cert->sha1, when);
	if (rv == CS_OK)
		rv = cs_db_audit_insert(store, "stage", detail, err);
	cs_usage_list_clear(&l);
	if (rv == CS_OK)
		return cs_db_commit(store, err);
	cs_db_rollback(store);
	return rv;
}

cs_rv cs_usage_apply_due(cs_store *store, size_t *applied, cs_err *err)
{
	cs_usage_list l = {0};
	int64_t now = (int64_t)cs_now();
	cs_rv rv, first = CS_OK;
	cs_cert *cert;
	size_t i;

	*applied = 0;
	rv = cs_usage_list_get(store, &l, err);
	for (i = 0; rv == CS_OK && i < l.n; i++) {
		cs_usage *u = &l.items[i];
		cs_err one = {0};

		if (u->staged_sha1[0] == '\0' || u->staged_at > now)
			continue;
		cert = NULL;
		rv = find_my(store, u->staged_sha1, &cert, &one);
		if (rv == CS_OK)
			rv = cs_usage_assign(store, u->name, cert, false, &one);
		if (rv == CS_OK) {
			(*applied)++;
			rv = cs_usage_run_hooks(store, u->name, cert, &one);
		}
		cs_cert_free(cert);
		if (rv != CS_OK && first == CS_OK) {
			first = rv;
			if (err != NULL)
				*err = one;
			cs_err_prefix(err, "staged %s for usage %s", u->staged_sha1, u->name);
		}
		rv = CS_OK; /* one bad staged entry must not hold up the others */
	}
	cs_usage_list_clear(&l);
	return rv != CS_OK ? rv : first;
}

cs_rv cs_usage_reassign_serving(cs_store *store, const char *serving, const cs_cert *cert,
				bool force, cs_err *err)
{
	cs_usage_list l = {0};
	cs_rv rv, hooks = CS_OK;
	cs_err hook_err = {0};
	size_t i;

	rv = cs_usage_list_get(store, &l, err);
	for (i = 0; rv == CS_OK && i < l.n; i++) {
		if (strcmp(l.items[i].sha1, serving) != 0)
			continue;
		rv = cs_usage_assign(store, l.items[i].name, cert, force, err);
		/* a failing hook must not leave the other usages on the old certificate */
		if (rv == CS_OK && hooks == CS_OK)
			hooks = cs_usage_run_hooks(store, l.items[i].name, cert, &hook_err);
		else if (rv == CS_OK)
			(void)cs_usage_run_hooks(store, l.items[i].name, cert, NULL);
	}
	cs_usage_list_clear(&l);
	if (rv == CS_OK && hooks != CS_OK && err != NULL)
		*err = hook_err;
	return rv != CS_OK ? rv : hooks;
}

cs_rv cs_usage_move_all(cs_store *store, const cs_cert *old_cert, const cs_cert *new_cert,
			cs_err *err)
{
	return cs_usage_reassign_serving(store, old_cert->sha1, new_cert, false, err);
}

void cs_fix_list_clear(cs_fix_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static void add_fix(cs_fix_list *fixes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_fix(cs_fix_list *fixes, const char *fmt, ...)
{
	char **grown = realloc(fixes->items, (fixes->n + 1) * sizeof(*grown));
	va_list ap;

	if (grown == NULL)
		return;
	fixes->items = grown;
	va_start(ap, fmt);
	if (vasprintf(&fixes->items[fixes->n], fmt, ap) >= 0)
		fixes->n++;
	va_end(ap);
}

/*
 * Does usages/NAME hold, whole, the certificate the database names?  When
 * not, says why in `why`.  A generation is written whole before it is
 * linked, so cert.pem and fullchain.pem (written after it) tell.
 */
static bool published_matches(cs_store *store, const cs_usage *u, char *why, size_t size)
{
	char *dir = cs_usage_dir(store, u->name), *path = NULL;
	cs_bytes data = {0};
	cs_cert_list certs = {0};
	bool ok = false;

	snprintf(why, size, "cert.pem is missing or unreadable");
	if (dir != NULL && asprintf(&path, "%s/cert.pem", dir) > 0 &&
	    cs_read_file(path, &data, NULL) == CS_OK) {
		snprintf(why, size, "cert.pem holds no single certificate");
		if (cs_parse_certs(data.data, data.len, NULL, &certs, NULL) == CS_OK &&
		    certs.n == 1) {
			ok = strcmp(certs.items[0]->sha1, u->sha1) == 0;
			snprintf(why, size, "cert.pem held %s", certs.items[0]->sha1);
		}
	}
	if (ok) {
		free(path);
		path = NULL;
		ok = asprintf(&path, "%s/fullchain.pem", dir) > 0 && access(path, R_OK) == 0;
		snprintf(why, size, "fullchain.pem was missing");
	}
	cs_cert_list_clear(&certs);
	cs_bytes_clear(&data);
	free(path);
	free(dir);
	return ok;
}

/*
 * Publishes again what the database says the usage serves, then runs its
 * hooks: the service may still hold the files of before the crash, and only
 * its hook makes it load the repaired ones.  A hook that fails is reported
 * in *hook_rv / *hook_err; the republication stands.
 */
static cs_rv republish(cs_store *store, const cs_usage *u, const char *why, cs_fix_list *fixes,
		       cs_rv *hook_rv, cs_err *hook_err, cs_err *err)
{
	cs_cert *cert = NULL;
	cs_err one = {0};
	cs_rv rv = find_my(store, u->sha1, &cert, err), hrv;

	if (rv == CS_OK)
		rv = cs_usage_assign(store, u->name, cert, true, err);
	if (rv != CS_OK) {
		cs_err_prefix(err, "usage %s: cannot republish %s", u->name, u->sha1);
		goto out;
	}
	add_fix(fixes, "usage %s: republished %s (%s)", u->name, u->sha1, why);
	hrv = cs_usage_run_hooks(store, u->name, cert, &one);
	if (hrv != CS_OK && *hook_rv == CS_OK) {
		*hook_rv = hrv;
		*hook_err = one;
		cs_err_prefix(hook_err, "usage %s", u->name);
	}
	if (hrv != CS_OK)
		add_fix(fixes, "usage %s: its on-assign hook failed after the republication",
			u->name);
out:
	cs_cert_free(cert);
	return rv;
}

/* Names published under usages/ that the database no longer has. */
static void remove_orphans(const cs_usage_list *l, const char *parent, cs_fix_list *fixes)
{
	DIR *d = opendir(parent);
	struct dirent *e;
	bool known;
	size_t i;

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		for (known = false, i = 0; i < l->n && !known; i++)
			known = strcmp(l->items[i].name, e->d_name) == 0;
		if (!known && cs_pubdir_remove(parent, e->d_name, NULL) == CS_OK)
			add_fix(fixes, "usage %s: removed its published files (it is not assigned)",
				e->d_name);
	}
	if (d != NULL)
		closedir(d);
}

cs_rv cs_usage_check_fixes(cs_store *store, cs_fix_list *fixes, cs_err *err)
{
	cs_usage_list l = {0};
	char *parent = NULL, why[128];
	size_t i, swept;
	cs_err hook_err = {0};
	cs_rv rv, hook_rv = CS_OK;

	rv = cs_usage_list_get(store, &l, err);
	for (i = 0; rv == CS_OK && i < l.n; i++) {
		if (l.items[i].sha1[0] == '\0' ||
		    published_matches(store, &l.items[i], why, sizeof(why)))
			continue;
		rv = republish(store, &l.items[i], why, fixes, &hook_rv, &hook_err, err);
	}
	if (rv == CS_OK && asprintf(&parent, "%s/usages", store->dir) > 0) {
		swept = cs_pubdir_sweep(parent);
		if (swept > 0)
			add_fix(fixes, "usages: removed %zu unfinished or superseded generation%s",
				swept, swept == 1 ? "" : "s");
		remove_orphans(&l, parent, fixes);
	}
	free(parent);
	cs_usage_list_clear(&l);
	if (rv == CS_OK && hook_rv != CS_OK) {
		if (err != NULL)
			*err = hook_err;
		rv = hook_rv;
	}
	return rv;
}

cs_rv cs_usage_check(cs_store *store, size_t *repaired, cs_err *err)
{
	cs_fix_list fixes = {0};
	cs_rv rv = cs_usage_check_fixes(store, &fixes, err);

	*repaired = fixes.n;
	cs_fix_list_clear(&fixes);
	return rv;
}
