/*
 * usage_roll.c - usages over time: staged rolls, renewal moving usages, and
 * making published files agree with the database after a crash.
 */
#include "usage.h"
#include "db.h"
#include "publish.h"

#include <dirent.h>
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
	char detail[256];
	cs_rv rv;

	if (!cs_usage_name_valid(name))
		return cs_err_set(err, CS_ERR_USAGE, "bad usage name '%s'", name);
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
	snprintf(detail, sizeof(detail), "%s %s at %lld", name, cert->sha1, (long long)at);
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
		cs_cert_free(cert);
		if (rv == CS_OK)
			(*applied)++;
		else if (first == CS_OK) {
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

cs_rv cs_usage_move_all(cs_store *store, const cs_cert *old_cert, const cs_cert *new_cert,
			cs_err *err)
{
	cs_usage_list l = {0};
	cs_rv rv;
	size_t i;

	rv = cs_usage_list_get(store, &l, err);
	for (i = 0; rv == CS_OK && i < l.n; i++)
		if (strcmp(l.items[i].sha1, old_cert->sha1) == 0)
			rv = cs_usage_assign(store, l.items[i].name, new_cert, false, err);
	cs_usage_list_clear(&l);
	return rv;
}

/* Does usages/NAME/cert.pem hold the certificate the database names? */
static bool published_matches(cs_store *store, const cs_usage *u)
{
	char *dir = cs_usage_dir(store, u->name), *path = NULL;
	cs_bytes data = {0};
	cs_cert_list certs = {0};
	bool ok = false;

	if (dir != NULL && asprintf(&path, "%s/cert.pem", dir) > 0 &&
	    cs_read_file(path, &data, NULL) == CS_OK &&
	    cs_parse_certs(data.data, data.len, NULL, &certs, NULL) == CS_OK && certs.n == 1)
		ok = strcmp(certs.items[0]->sha1, u->sha1) == 0;
	if (ok) {
		free(path);
		path = NULL;
		/* a generation is written whole before it is linked: fullchain last-but-one */
		ok = asprintf(&path, "%s/fullchain.pem", dir) > 0 && access(path, R_OK) == 0;
	}
	cs_cert_list_clear(&certs);
	cs_bytes_clear(&data);
	free(path);
	free(dir);
	return ok;
}

static cs_rv republish(cs_store *store, const cs_usage *u, cs_err *err)
{
	cs_cert *cert = NULL;
	cs_rv rv = find_my(store, u->sha1, &cert, err);

	if (rv == CS_OK)
		rv = cs_usage_assign(store, u->name, cert, true, err);
	cs_cert_free(cert);
	return rv;
}

/* Names published under usages/ that the database no longer has. */
static size_t remove_orphans(cs_store *store, const cs_usage_list *l, const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *e;
	size_t removed = 0, i;
	bool known;

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		for (known = false, i = 0; i < l->n && !known; i++)
			known = strcmp(l->items[i].name, e->d_name) == 0;
		if (!known && cs_pubdir_remove(parent, e->d_name, NULL) == CS_OK)
			removed++;
	}
	if (d != NULL)
		closedir(d);
	return removed;
}

cs_rv cs_usage_check(cs_store *store, size_t *repaired, cs_err *err)
{
	cs_usage_list l = {0};
	char *parent = NULL;
	cs_rv rv;
	size_t i;

	*repaired = 0;
	rv = cs_usage_list_get(store, &l, err);
	for (i = 0; rv == CS_OK && i < l.n; i++) {
		if (l.items[i].sha1[0] == '\0' || published_matches(store, &l.items[i]))
			continue;
		rv = republish(store, &l.items[i], err);
		if (rv == CS_OK)
			(*repaired)++;
	}
	if (rv == CS_OK && asprintf(&parent, "%s/usages", store->dir) > 0) {
		*repaired += cs_pubdir_sweep(parent);
		*repaired += remove_orphans(store, &l, parent);
	}
	free(parent);
	cs_usage_list_clear(&l);
	return rv;
}
