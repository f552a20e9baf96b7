/*
 * agent_grants.h - the agent's decisions, remembered (internal).
 *
 * Deciding whether a peer may use a key reads the certificate's rows, every
 * usage and certstore.conf (cs_agent_grant).  A TLS server asks for the same
 * certificate on every handshake, so the answer is kept per (certificate,
 * uid, gid) until the store changes (SQLite's data_version), certstore.conf
 * changes (its inode, size and times), or the grant runs out (the end of a
 * previous-grace).  Refusals are not kept.  Thread-safe.
 */
#ifndef CS_AGENT_GRANTS_H
#define CS_AGENT_GRANTS_H

#include <sys/types.h>

#include "certstore.h"

typedef struct cs_agent_grants cs_agent_grants;

/* Opens store_dir read-only for the agent's decisions. */
cs_rv cs_agent_grants_open(const char *store_dir, cs_agent_grants **out, cs_err *err);
void cs_agent_grants_close(cs_agent_grants *g);

/* The key URI of certificate sha1 if the peer may use it now (free it), else
 * the error of cs_agent_grant. */
cs_rv cs_agent_grants_key(cs_agent_grants *g, const char *sha1, uid_t uid, gid_t gid,
			  char **key_uri, cs_err *err);

#endif
