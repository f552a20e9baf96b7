/*
 * agent.h - the key agent: private-key operations for processes that may
 * not open the key token themselves.
 *
 * TLS servers load their keys as root and sign in workers running as
 * www-data or nobody.  A worker cannot open a root-only (0700) token or read
 * its PIN, and must not be able to.  The agent runs as the store's owner,
 * holds the token open, and signs or decrypts on behalf of a peer on a Unix
 * socket when the peer may use that certificate's key:
 *
 *  - the peer's uid is 0 or the store directory's owner; or
 *  - the certificate currently serves a usage whose [usage.NAME] section in
 *    certstore.conf says `group = G`, and the peer (SO_PEERCRED: its
 *    primary gid, or a supplementary group of its uid) is in G.
 *
 * The peer names a certificate (store directory + SHA-1 thumbprint), never
 * a token object: the agent signs with the key the store binds to that
 * certificate now.  A refusal is CS_ERR_REFUSED naming the certificate and
 * the peer's uid; nothing about the token or PIN reaches the peer.
 *
 * Conventions are those of certstore.h and keys.h.
 */
#ifndef CERTSTORE_AGENT_H
#define CERTSTORE_AGENT_H

#include <signal.h>
#include <sys/types.h>

#include "certstore.h"
#include "keys.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CS_AGENT_DEFAULT_SOCKET "/run/certstore/agent.sock"

/* What the agent lets peers hold (cs_agent_limits_default gives the defaults). */
typedef struct cs_agent_limits {
	unsigned workers;	  /* threads doing key operations: 2 per CPU, 2 to 16 */
	unsigned max_connections; /* open connections overall: 4096 */
	unsigned max_per_uid;	  /* open connections of one uid: 256 */
	int request_seconds;	  /* a request must arrive whole, and its answer be
				   * taken, within this many seconds: 5 */
} cs_agent_limits;

/* Fills lim with the defaults above (workers from the CPUs online). */
void cs_agent_limits_default(cs_agent_limits *lim);

/*
 * Serves store_dir's keys until *stop becomes non-zero (a signal handler
 * sets it; the event loop wakes on the signal).  The socket is the one
 * systemd passes (socket activation: LISTEN_PID/LISTEN_FDS), else
 * socket_path, created mode 0666 (every request is authorised by the peer's
 * credentials, see above) after removing a stale one; its directory must
 * exist.  The token is opened once, before the socket is listened on.
 * A connection carries any number of requests (agent_wire.h), one at a
 * time; key operations run on a fixed pool of lim->workers threads (lim
 * NULL: the defaults).  A connection over a cap is closed at once; one
 * whose request does not arrive whole in time is closed.  With the store
 * owned by the agent's uid, every capability is dropped once listening.
 */
cs_rv cs_agent_serve(const char *store_dir, const char *socket_path, const cs_agent_limits *lim,
		     volatile sig_atomic_t *stop, cs_err *err);

/* Seconds after a usage moves to another certificate during which the one
 * it had (its previous) stays usable by the usage's group: the server's
 * workers sign with it until the on-assign hook has reloaded them.  The
 * default of [usage.NAME] previous-grace = SECONDS (0: not at all). */
#define CS_AGENT_PREVIOUS_GRACE 300

/* May a process with this uid/gid use the key of certificate sha1?  Yes when
 * sha1 serves a usage whose [usage.NAME] group = holds the process (or was
 * that usage's certificate up to its previous-grace seconds ago).
 * CS_OK, or CS_ERR_REFUSED saying why not (CS_ERR_NOT_FOUND: no such
 * certificate). */
cs_rv cs_agent_authorize(cs_store *store, const char *sha1, uid_t uid, gid_t gid, cs_err *err);

/*
 * The decision itself: as cs_agent_authorize, and with it the certificate's
 * key URI (key_uri may be NULL; else free it) and until when the grant holds
 * (epoch seconds; INT64_MAX: as long as the store and certstore.conf stay
 * as they are).  A certificate in Disallowed is CS_ERR_REFUSED whoever
 * asks; one without a key is CS_ERR_KEY.  Archived certificates count: a
 * renewal archives the certificate its usages' previous-grace still covers.
 * A previous-grace of 0 grants nothing, and a clock set back before the
 * change grants nothing either.
 */
cs_rv cs_agent_grant(cs_store *store, const char *sha1, uid_t uid, gid_t gid, char **key_uri,
		     int64_t *until, cs_err *err);

/*
 * As cs_key_sign / cs_key_decrypt, through the agent at socket_path, for the
 * key of certificate sha1 (upper-case hex) in store_dir (absolute).  The
 * agent's errors come back with their class and message.  Connections are
 * kept for the next request (per process; a forked child opens its own);
 * an agent that does not answer within CERTSTORE_AGENT_TIMEOUT seconds
 * (default 10) is CS_ERR_TOKEN saying so.  Thread-safe.
 */
cs_rv cs_agent_sign(const char *socket_path, const char *store_dir, const char *sha1,
		    const cs_sign_mech *mech, const unsigned char *in, size_t inlen,
		    unsigned char *out, size_t *outlen, cs_err *err);
cs_rv cs_agent_decrypt(const char *socket_path, const char *store_dir, const char *sha1,
		       const cs_decrypt_mech *mech, const unsigned char *in, size_t inlen,
		       unsigned char *out, size_t *outlen, cs_err *err);

#ifdef __cplusplus
}
#endif

#endif
