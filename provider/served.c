/*
 * served.c - the provider's record of which process loaded which store key
 * (store/usages/served.h): once per process and certificate, at load time.
 *
 * Loads happen when a server reads its configuration, not per handshake,
 * and even then the record never waits: a process that cannot write the
 * store (an unprivileged worker, another user) records nothing here, and the
 * key agent records it when it signs for it; a busy store loses the record
 * after a short timeout (db_served.c).
 */
#include "provider.h"
#include "served.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEEN_MAX 64

/* What this process recorded already; a forked child starts afresh. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t seen_pid;
static char seen[SEEN_MAX][41];
static size_t nseen;
static bool disabled;

void csp_served_disable(void)
{
	disabled = true;
}

/* true when sha1 is new for this process (and is now remembered) */
static bool first_time(const char *sha1)
{
	bool fresh = true;

	pthread_mutex_lock(&seen_lock);
	if (seen_pid != getpid()) {
		seen_pid = getpid();
		nseen = 0;
	}
	for (size_t i = 0; i < nseen && fresh; i++)
		fresh = strcmp(seen[i], sha1) != 0;
	if (fresh && nseen < SEEN_MAX)
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", sha1);
	pthread_mutex_unlock(&seen_lock);
	return fresh;
}

/* Whether this process may write the store: else opening it writable would only fail. */
static bool store_writable(const char *dir)
{
	char db[PATH_MAX];

	if (snprintf(db, sizeof(db), "%s/store.db", dir) >= (int)sizeof(db))
		return false;
	return access(dir, W_OK) == 0 && access(db, W_OK) == 0;
}

void csp_served_note(csp_ctx *ctx, const char *sha1)
{
	const char *dir = csp_store_dir(ctx);
	cs_served rec = {0};
	cs_store *st = NULL;
	bool inserted = false;

	if (disabled || !first_time(sha1) || cs_served_identify(getpid(), &rec, NULL) != CS_OK)
		goto out;
	snprintf(rec.sha1, sizeof(rec.sha1), "%s", sha1);
	snprintf(rec.via, sizeof(rec.via), "provider");
	if (store_writable(dir) && cs_store_open(dir, 0, &st, NULL) == CS_OK &&
	    cs_served_record(st, &rec, &inserted, NULL) == CS_OK && !inserted)
		goto out; /* recorded by an earlier load in this process (haproxy decodes twice) */
	csp_trace("served: %s[%ld] loaded %s%s", rec.comm, (long)rec.pid, sha1,
		  inserted ? "" : " (not in the store: not writable here)");
	cs_served_syslog(&rec);
out:
	cs_store_close(st);
	cs_served_clear(&rec);
}
