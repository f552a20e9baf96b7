/*
 * agent_grants.c - the agent's decisions, remembered (agent_grants.h).
 */
#include "agent_grants.h"
#include "agent.h"
#include "internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define GRANTS_MAX 256 /* (certificate, uid, gid) triples remembered at once */

typedef struct grant {
	char sha1[41];
	uid_t uid;
	gid_t gid;
	int64_t until;
	char *key_uri;
} grant;

/* What the decisions were made from. */
typedef struct grants_basis {
	int64_t data_version;
	struct stat conf;
	bool conf_exists;
} grants_basis;

struct cs_agent_grants {
	pthread_mutex_t lock;
	cs_store *store;
	sqlite3_stmt *data_version;
	char *conf_path;
	grants_basis basis;
	grant items[GRANTS_MAX];
	size_t n, next_evict;
};

static void forget_all(cs_agent_grants *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->items[i].key_uri);
	g->n = 0;
	g->next_evict = 0;
}

static cs_rv read_basis(cs_agent_grants *g, grants_basis *b, cs_err *err)
{
	memset(b, 0, sizeof(*b));
	if (sqlite3_step(g->data_version) != SQLITE_ROW) {
		sqlite3_reset(g->data_version);
		return cs_err_set(err, CS_ERR_STORE, "%s: cannot read the store's data version",
				  cs_store_dir(g->store));
	}
	b->data_version = sqlite3_column_int64(g->data_version, 0);
	sqlite3_reset(g->data_version);
	b->conf_exists = stat(g->conf_path, &b->conf) == 0;
	return CS_OK;
}

static bool same_basis(const grants_basis *a, const grants_basis *b)
{
	return a->data_version == b->data_version && a->conf_exists == b->conf_exists &&
	       (!a->conf_exists ||
		(a->conf.st_ino == b->conf.st_ino && a->conf.st_dev == b->conf.st_dev &&
		 a->conf.st_size == b->conf.st_size &&
		 a->conf.st_mtim.tv_sec == b->conf.st_mtim.tv_sec &&
		 a->conf.st_mtim.tv_nsec == b->conf.st_mtim.tv_nsec &&
		 a->conf.st_ctim.tv_sec == b->conf.st_ctim.tv_sec &&
		 a->conf.st_ctim.tv_nsec == b->conf.st_ctim.tv_nsec));
}

cs_rv cs_agent_grants_open(const char *store_dir, cs_agent_grants **out, cs_err *err)
{
	cs_agent_grants *g = calloc(1, sizeof(*g));
	cs_rv rv;

	*out = NULL;
	if (g == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	pthread_mutex_init(&g->lock, NULL);
	rv = cs_store_open(store_dir, CS_OPEN_READONLY, &g->store, err);
	if (rv == CS_OK &&
	    asprintf(&g->conf_path, "%s/certstore.conf", cs_store_dir(g->store)) < 0) {
		g->conf_path = NULL;
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	if (rv == CS_OK && sqlite3_prepare_v2(g->store->db, "PRAGMA data_version", -1,
					      &g->data_version, NULL) != SQLITE_OK)
		rv = cs_err_set(err, CS_ERR_STORE, "%s: %s", store_dir,
				sqlite3_errmsg(g->store->db));
	if (rv == CS_OK)
		rv = read_basis(g, &g->basis, err);
	if (rv != CS_OK) {
		cs_agent_grants_close(g);
		return rv;
	}
	*out = g;
	return CS_OK;
}

void cs_agent_grants_close(cs_agent_grants *g)
{
	if (g == NULL)
		return;
	forget_all(g);
	sqlite3_finalize(g->data_version);
	cs_store_close(g->store);
	free(g->conf_path);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static grant *find(cs_agent_grants *g, const char *sha1, uid_t uid, gid_t gid)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->items[i].uid == uid && g->items[i].gid == gid &&
		    memcmp(g->items[i].sha1, sha1, 40) == 0)
			return &g->items[i];
	return NULL;
}

static void remember(cs_agent_grants *g, const char *sha1, uid_t uid, gid_t gid, int64_t until,
		     const char *key_uri)
{
	char *copy = strdup(key_uri);
	grant *slot;

	if (copy == NULL)
		return;
	if (g->n < GRANTS_MAX) {
		slot = &g->items[g->n++];
	} else {
		/* full: replace in turn, the oldest decision first */
		slot = &g->items[g->next_evict];
		g->next_evict = (g->next_evict + 1) % GRANTS_MAX;
		free(slot->key_uri);
	}
	memcpy(slot->sha1, sha1, 41);
	slot->uid = uid;
	slot->gid = gid;
	slot->until = until;
	slot->key_uri = copy;
}

cs_rv cs_agent_grants_key(cs_agent_grants *g, const char *sha1, uid_t uid, gid_t gid,
			  char **key_uri, cs_err *err)
{
	grants_basis now_basis;
	int64_t until = 0;
	grant *hit;
	cs_rv rv;

	*key_uri = NULL;
	pthread_mutex_lock(&g->lock);
	rv = read_basis(g, &now_basis, err);
	if (rv != CS_OK)
		goto out;
	if (!same_basis(&g->basis, &now_basis)) {
		forget_all(g);
		g->basis = now_basis;
	}
	hit = find(g, sha1, uid, gid);
	if (hit != NULL && hit->until > (int64_t)cs_now()) {
		if ((*key_uri = strdup(hit->key_uri)) == NULL)
			rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	rv = cs_agent_grant(g->store, sha1, uid, gid, key_uri, &until, err);
	if (rv == CS_OK && hit == NULL)
		remember(g, sha1, uid, gid, until, *key_uri);
	else if (rv == CS_OK) {
		free(hit->key_uri);
		hit->key_uri = strdup(*key_uri);
		hit->until = hit->key_uri != NULL ? until : 0;
	}
out:
	pthread_mutex_unlock(&g->lock);
	return rv;
}
