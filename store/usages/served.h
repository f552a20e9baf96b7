/*
 * served.h - which process loaded or used which store key: the records
 * behind `certstore served`, the "served by" of `certstore usages` and the
 * stale-server check of `certstore check`.
 *
 * A record is written once per process and certificate: by the provider when
 * it resolves a key reference or a certstore: URI in a process that may write
 * the store, and by the key agent for every peer it signs or decrypts for
 * (the peer's credentials come from SO_PEERCRED).  A process is named by its
 * pid and its start time (/proc/PID/stat field 22), so that a pid reused by
 * another program is never taken for the one that loaded the key.
 */
#ifndef CS_SERVED_H
#define CS_SERVED_H

#include "certstore.h"

#include <sys/types.h>

typedef struct cs_served {
	int64_t id; /* row order: a later load has a larger id */
	int64_t pid;
	int64_t start; /* clock ticks after boot, /proc/PID/stat field 22 */
	int64_t uid;
	char comm[17]; /* /proc/PID/comm */
	char *exe;     /* /proc/PID/exe, "" when unreadable */
	char sha1[41]; /* the certificate whose key was loaded or used */
	char *usage;   /* usages the certificate served then, comma-separated; "" none */
	char via[9];   /* "provider" or "agent" */
	int64_t time;
} cs_served;

typedef struct cs_served_list {
	cs_served *items;
	size_t n;
} cs_served_list;

void cs_served_clear(cs_served *s);
void cs_served_list_clear(cs_served_list *l);

/*
 * Fills pid, start, uid, comm and exe of a running process from /proc.
 * CS_ERR_NOT_FOUND when it is gone.  exe stays "" when /proc/PID/exe cannot
 * be read (another user's process, without CAP_SYS_PTRACE).
 */
cs_rv cs_served_identify(pid_t pid, cs_served *out, cs_err *err);

/* Whether the process pid started at `start` still runs (not a reused pid). */
bool cs_served_alive(int64_t pid, int64_t start);

/*
 * Records rec (pid, start, uid, comm, exe, sha1, via; usage may be NULL:
 * then it is the usages that the certificate serves now).  Written with a
 * short busy timeout and without waiting on a writer: a record lost to a
 * busy store is lost, a handshake is never held up.  *inserted says whether
 * the row is new (it is not when this process and certificate were recorded
 * before); only a new row is written to syslog and the audit log.
 */
cs_rv cs_served_record(cs_store *store, cs_served *rec, bool *inserted, cs_err *err);

/* Sends rec to the journal as structured fields (SYSLOG_IDENTIFIER=certstore,
 * CERTSTORE_EVENT=key-load, CERTSTORE_PID=, CERTSTORE_USAGE=, ...) when its
 * native socket exists, else to syslog (identifier "certstore", facility
 * daemon) as KEY=value text.  CERTSTORE_JOURNAL_SOCKET or
 * CERTSTORE_SYSLOG_SOCKET name another socket. */
void cs_served_syslog(const cs_served *rec);

/* Deletes the records of processes that have exited (`check` does it):
 * they would only be skipped by every listing. */
cs_rv cs_served_prune(cs_store *store, size_t *removed, cs_err *err);

/* Every record of a live process (pid and start time still match), oldest first. */
cs_rv cs_served_list_live(cs_store *store, cs_served_list *out, cs_err *err);

/* One process's view of a usage: the certificate it loaded last for it. */
typedef struct cs_served_by {
	const cs_served *rec; /* into the list given to cs_served_for_usage */
	bool stale;	      /* its last certificate for the usage is not the current one */
} cs_served_by;

typedef struct cs_served_by_list {
	cs_served_by *items;
	size_t n;
} cs_served_by_list;

/*
 * The live processes serving usage u, from live (cs_served_list_live): each
 * process that loaded u's current or previous certificate, or any
 * certificate while it served u, once, with the certificate it loaded last.
 */
#include "usage.h"
cs_rv cs_served_for_usage(const cs_served_list *live, const cs_usage *u, cs_served_by_list *out,
			  cs_err *err);
void cs_served_by_list_clear(cs_served_by_list *l);

/* The outcome of the last hook run for usage name, e.g. "exit 1"; "" when none ran. */
cs_rv cs_served_last_hook(cs_store *store, const char *name, char *out, size_t outsz, cs_err *err);

#endif
