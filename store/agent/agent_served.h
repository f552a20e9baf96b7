/*
 * agent_served.h - the agent's records of which peer process used which
 * certificate's key (store/usages/served.h).  Internal to libcertstore.
 */
#ifndef CS_AGENT_SERVED_H
#define CS_AGENT_SERVED_H

#include "certstore.h"

#include <sys/types.h>

typedef struct cs_agent_served cs_agent_served;

/* Opens its own connection to the store in dir (the agent's grants keep theirs). */
cs_rv cs_agent_served_open(const char *dir, cs_agent_served **out, cs_err *err);

/*
 * Records, once per process (pid and start time) and certificate, that the
 * peer pid with uid (SO_PEERCRED) used the key of sha1: into the store and
 * to syslog.  Called after the answer is sent, so the peer never waits for
 * it; a store busy past a short timeout loses the record.  Thread-safe.
 */
void cs_agent_served_note(cs_agent_served *s, pid_t pid, uid_t uid, const char *sha1);

void cs_agent_served_close(cs_agent_served *s);

#endif
