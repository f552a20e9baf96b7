/*
 * agent_auth.c - who may use which key through the agent (agent.h): the one
 * place that decides it, for the agent's requests and its tests.
 */
#include "agent.h"
#include "db_certs.h"
#include "usage.h"
#include "usage_conf.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

/* Is the process (uid, primary gid) a member of group gid?  Supplementary
 * groups come from the group database for uid's user name, as the kernel
 * would give them at login. */
static bool process_in_group(uid_t uid, gid_t pgid, gid_t gid)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	gid_t groups[256];
	int n = 256;

	if (pgid == gid)
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) != 0 || found == NULL ||
	    getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* The rows for sha1 in every store, archived ones included: a renewal
 * archives the certificate its usages' previous-grace still covers. */
static cs_rv rows_for(cs_store *store, const char *sha1, cs_cert_list *rows, cs_err *err)
{
	cs_db_query q = {.store = CS_STORE_NONE, .include_archived = true, .sha1 = sha1};
	cs_rv rv = cs_db_certs_select(store, &q, rows, err);

	if (rv == CS_OK && rows->n == 0)
		rv = cs_err_set(err, CS_ERR_NOT_FOUND, "no certificate with thumbprint %s", sha1);
	return rv;
}

/* The row that holds the key, refusing a certificate the admin distrusts. */
static cs_rv keyed_row(const cs_cert_list *rows, const char *sha1, const cs_cert **out, cs_err *err)
{
	*out = NULL;
	for (size_t i = 0; i < rows->n; i++)
		if (rows->items[i]->store == CS_STORE_DISALLOWED)
			return cs_err_set(err, CS_ERR_REFUSED,
					  "certificate %s is in Disallowed: its key is not used",
					  sha1);
	for (size_t i = 0; i < rows->n && *out == NULL; i++)
		if (rows->items[i]->key_uri != NULL)
			*out = rows->items[i];
	if (*out == NULL)
		return cs_err_set(err, CS_ERR_KEY, "certificate %s has no private key in the store",
				  sha1);
	return CS_OK;
}

/* A usage whose previous-grace has ended for sha1, to name in a refusal. */
typedef struct ended_grace {
	char usage[128];
	int64_t at;
} ended_grace;

/*
 * Until when (epoch seconds, INT64_MAX: while the store stays as it is)
 * usage u grants sha1 to the process, or 0 when it does not.  The previous
 * certificate is granted for previous-grace seconds after the change and
 * not at all with a grace of 0; a clock that went back before the change
 * grants nothing rather than extending the grace.
 */
static int64_t usage_grant(cs_store *store, const cs_usage *u, const char *sha1, uid_t uid,
			   gid_t gid, int64_t now, ended_grace *ended, cs_err *err, cs_rv *rv)
{
	bool current = strcmp(u->sha1, sha1) == 0;
	cs_usage_conf uc = {0};
	int64_t until = 0;
	gid_t ggid;

	if (!current && strcmp(u->previous_sha1, sha1) != 0)
		return 0;
	*rv = cs_usage_conf_load(store, u->name, &uc, err);
	if (*rv != CS_OK || uc.group == NULL || cs_group_resolve(uc.group, &ggid, NULL) != CS_OK ||
	    !process_in_group(uid, gid, ggid))
		goto out;
	if (current) {
		until = INT64_MAX;
	} else if (uc.previous_grace > 0 && now >= u->assigned_at &&
		   now - u->assigned_at < uc.previous_grace) {
		until = u->assigned_at + uc.previous_grace;
	} else {
		snprintf(ended->usage, sizeof(ended->usage), "%s", u->name);
		ended->at = u->assigned_at + (uc.previous_grace > 0 ? uc.previous_grace : 0);
	}
out:
	cs_usage_conf_clear(&uc);
	return until;
}

static cs_rv refuse(const char *sha1, uid_t uid, const ended_grace *ended, cs_err *err)
{
	char when[32];
	struct tm tm;
	time_t t = (time_t)ended->at;

	if (ended->usage[0] == '\0')
		return cs_err_set(err, CS_ERR_REFUSED,
				  "uid %u may not use the key of %s: no usage it serves grants one "
				  "of that user's groups (certstore.conf [usage.NAME] group =)",
				  (unsigned)uid, sha1);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return cs_err_set(err, CS_ERR_REFUSED,
			  "uid %u may not use the key of %s any more: it is usage %s's previous "
			  "certificate, and the usage's previous-grace ended at %s; reload the "
			  "server so that it loads the usage's current certificate",
			  (unsigned)uid, sha1, ended->usage, when);
}

cs_rv cs_agent_grant(cs_store *store, const char *sha1, uid_t uid, gid_t gid, char **key_uri,
		     int64_t *until, cs_err *err)
{
	cs_cert_list rows = {0};
	cs_usage_list usages = {0};
	ended_grace ended = {{0}, 0};
	const cs_cert *keyed = NULL;
	int64_t now = (int64_t)cs_now();
	struct stat st;
	cs_rv rv;

	*until = 0;
	if (key_uri != NULL)
		*key_uri = NULL;
	rv = rows_for(store, sha1, &rows, err);
	if (rv == CS_OK)
		rv = keyed_row(&rows, sha1, &keyed, err);
	if (rv != CS_OK)
		goto out;
	if (uid == 0 || (stat(cs_store_dir(store), &st) == 0 && st.st_uid == uid)) {
		*until = INT64_MAX;
	} else {
		rv = cs_usage_list_get(store, &usages, err);
		for (size_t i = 0; rv == CS_OK && i < usages.n; i++) {
			int64_t u = usage_grant(store, &usages.items[i], sha1, uid, gid, now,
						&ended, err, &rv);

			if (u > *until)
				*until = u;
		}
	}
	if (rv == CS_OK && *until == 0)
		rv = refuse(sha1, uid, &ended, err);
	if (rv == CS_OK && key_uri != NULL && (*key_uri = strdup(keyed->key_uri)) == NULL)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
out:
	cs_usage_list_clear(&usages);
	cs_cert_list_clear(&rows);
	return rv;
}

cs_rv cs_agent_authorize(cs_store *store, const char *sha1, uid_t uid, gid_t gid, cs_err *err)
{
	int64_t until;

	return cs_agent_grant(store, sha1, uid, gid, NULL, &until, err);
}
