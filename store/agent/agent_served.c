/*
 * agent_served.c - the agent's records of which peer used which key: the
 * one place that sees unprivileged workers (www-data), which cannot write
 * the store themselves.
 */
#include "agent_served.h"
#include "served.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Processes recorded already, so that a busy server costs one /proc read
 * per new connection, not a database write; forgotten wholesale when full
 * (the store's UNIQUE row keeps the record once even then). */
#define SEEN_MAX 1024

typedef struct seen_entry {
	int64_t pid, start;
	char sha1[41];
} seen_entry;

struct cs_agent_served {
	pthread_mutex_t lock;
	cs_store *store;
	seen_entry seen[SEEN_MAX];
	size_t nseen;
};

cs_rv cs_agent_served_open(const char *dir, cs_agent_served **out, cs_err *err)
{
	cs_agent_served *s = calloc(1, sizeof(*s));
	cs_rv rv;

	*out = NULL;
	if (s == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	rv = cs_store_open(dir, 0, &s->store, err);
	if (rv != CS_OK) {
		free(s);
		return rv;
	}
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return CS_OK;
}

/* true when (pid, start, sha1) is new, and remembers it; lock held */
static bool first_time(cs_agent_served *s, int64_t pid, int64_t start, const char *sha1)
{
	for (size_t i = 0; i < s->nseen; i++)
		if (s->seen[i].pid == pid && s->seen[i].start == start &&
		    strcmp(s->seen[i].sha1, sha1) == 0)
			return false;
	if (s->nseen == SEEN_MAX)
		s->nseen = 0;
	s->seen[s->nseen].pid = pid;
	s->seen[s->nseen].start = start;
	snprintf(s->seen[s->nseen].sha1, sizeof(s->seen[0].sha1), "%s", sha1);
	s->nseen++;
	return true;
}

void cs_agent_served_note(cs_agent_served *s, pid_t pid, uid_t uid, const char *sha1)
{
	cs_served rec = {0};
	bool inserted = false;
	cs_err err = {0};

	if (s == NULL || pid <= 0)
		return;
	/* The peer may have exited since its request: then there is nothing to name. */
	if (cs_served_identify(pid, &rec, NULL) != CS_OK)
		goto out;
	rec.uid = uid; /* the credentials it connected with, not /proc's owner */
	snprintf(rec.sha1, sizeof(rec.sha1), "%s", sha1);
	snprintf(rec.via, sizeof(rec.via), "agent");
	pthread_mutex_lock(&s->lock);
	if (first_time(s, rec.pid, rec.start, sha1) &&
	    cs_served_record(s->store, &rec, &inserted, &err) != CS_OK)
		fprintf(stderr, "certstore-agent: cannot record that %s[%ld] used %s: %s\n",
			rec.comm, (long)pid, sha1, err.msg);
	pthread_mutex_unlock(&s->lock);
	if (inserted)
		cs_served_syslog(&rec);
out:
	cs_served_clear(&rec);
}

void cs_agent_served_close(cs_agent_served *s)
{
	if (s == NULL)
		return;
	cs_store_close(s->store);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
