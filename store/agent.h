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

/*
 * Serves store_dir's keys on socket_path until *stop becomes non-zero (a
 * signal handler sets it; accept() is interrupted by the signal).  The
 * socket is created mode 0666 (every request is authorised by the peer's
 * credentials, see above) after removing a stale one; its directory must
 * exist.  Each connection is served by a thread of its own; the token is
 * opened once, before the socket appears.
 */
cs_rv cs_agent_serve(const char *store_dir, const char *socket_path,
		     volatile sig_atomic_t *stop, cs_err *err);

/* As cs_agent_serve, on lfd, a socket already listening: systemd's socket
 * activation (certstore-agent.socket makes the socket and its mode).  lfd
 * is not closed and its path not removed. */
cs_rv cs_agent_serve_fd(const char *store_dir, int lfd, volatile sig_atomic_t *stop,
			cs_err *err);

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

/* As cs_key_sign / cs_key_decrypt, through the agent at socket_path, for the
 * key of certificate sha1 (upper-case hex) in store_dir.  The agent's
 * errors come back as they are (class and message). */
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
