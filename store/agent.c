/*
 * agent.c - the key agent (agent.h): a Unix socket in front of the token.
 *
 * One request per connection, fixed header plus payload, native byte order
 * (both ends are on this machine).  The store connection is not thread-safe
 * and is guarded by a mutex; the token is (keys.h), so signatures from
 * several workers run in parallel up to the token's session pool.
 */
/* struct ucred needs _GNU_SOURCE, which config.h (via the build flags) sets. */
#include "agent.h"
#include "usage.h"
#include "usage_conf.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define AGENT_MAGIC 0x31415343u /* "CSA1" */
#define AGENT_MAX_IN 4096
#define AGENT_MAX_OUT 1024

enum { OP_SIGN = 1, OP_DECRYPT = 2 };

typedef struct agent_req {
	uint32_t magic;
	uint32_t op;
	char store_dir[PATH_MAX];
	char sha1[41];
	int32_t alg, md, mgf1_md, salt_len;
	uint32_t inlen, label_len, outlen; /* outlen: 0 asks for the size only */
} agent_req;

typedef struct agent_resp {
	uint32_t magic;
	int32_t rv;
	uint32_t outlen;
	char msg[CS_ERR_MSG_MAX];
} agent_resp;

/* ---- I/O ---------------------------------------------------------------- */

static int full_read(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int full_write(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- authorisation -------------------------------------------------------- */

static bool in_group(uid_t uid, gid_t gid, const char *group)
{
	struct group *gr = getgrnam(group);
	struct passwd *pw;
	gid_t groups[256];
	int n = 256;

	if (gr == NULL)
		return false;
	if (gr->gr_gid == gid)
		return true;
	pw = getpwuid(uid);
	if (pw == NULL || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == gr->gr_gid)
			return true;
	return false;
}

cs_rv cs_agent_authorize(cs_store *store, const char *sha1, uid_t uid, gid_t gid, cs_err *err)
{
	cs_usage_list usages = {0};
	cs_usage_conf uc = {0};
	struct stat st;
	cs_rv rv;
	bool ok = false;

	if (uid == 0 || (stat(cs_store_dir(store), &st) == 0 && st.st_uid == uid))
		return CS_OK;
	rv = cs_usage_list_get(store, &usages, err);
	for (size_t i = 0; rv == CS_OK && !ok && i < usages.n; i++) {
		const cs_usage *u = &usages.items[i];
		bool current = strcmp(u->sha1, sha1) == 0;

		if (!current && strcmp(u->previous_sha1, sha1) != 0)
			continue;
		rv = cs_usage_conf_load(store, u->name, &uc, err);
		/* The certificate a usage had until a moment ago is still what the
		 * server's workers sign with until its hook has reloaded it. */
		ok = rv == CS_OK && uc.group != NULL && in_group(uid, gid, uc.group) &&
		     (current || (int64_t)cs_now() - u->assigned_at <= uc.previous_grace);
		cs_usage_conf_clear(&uc);
	}
	cs_usage_list_clear(&usages);
	if (rv == CS_OK && !ok)
		rv = cs_err_set(err, CS_ERR_REFUSED,
				"uid %u may not use the key of %s: no usage it serves grants one of "
				"that user's groups (certstore.conf [usage.NAME] group =)",
				(unsigned)uid, sha1);
	return rv;
}

/* ---- the server ------------------------------------------------------------- */

typedef struct agent_srv {
	cs_store *store;
	pthread_mutex_t lock; /* the store connection */
	cs_token *tok;
	char dir[PATH_MAX];
} agent_srv;

typedef struct agent_conn {
	agent_srv *srv;
	int fd;
} agent_conn;

/* The key URI the store binds to sha1 now, if the peer may use it. */
static cs_rv key_for(agent_srv *srv, const agent_req *req, uid_t uid, gid_t gid, char **uri,
		     cs_err *err)
{
	char dir[PATH_MAX];
	cs_find_opts opts = {.store = CS_STORE_NONE};
	cs_cert_list all = {0};
	cs_cert *cert = NULL;
	cs_rv rv;

	*uri = NULL;
	if (realpath(req->store_dir, dir) == NULL || strcmp(dir, srv->dir) != 0)
		return cs_err_set(err, CS_ERR_NOT_FOUND, "the agent serves store %s, not %s",
				  srv->dir, req->store_dir);
	pthread_mutex_lock(&srv->lock);
	rv = cs_store_find_one(srv->store, req->sha1, &opts, &cert, &all, err);
	if (rv == CS_ERR_AMBIGUOUS && all.n > 0) {
		cert = all.items[0];
		all.items[0] = NULL;
		rv = CS_OK;
	}
	if (rv == CS_OK)
		rv = cs_agent_authorize(srv->store, req->sha1, uid, gid, err);
	pthread_mutex_unlock(&srv->lock);
	if (rv == CS_ERR_NOT_FOUND)
		rv = cs_err_set(err, rv, "no certificate with thumbprint %s in %s", req->sha1, srv->dir);
	if (rv == CS_OK && cert->key_uri == NULL)
		rv = cs_err_set(err, CS_ERR_KEY, "%s has no private key in the store", req->sha1);
	if (rv == CS_OK && (*uri = strdup(cert->key_uri)) == NULL)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	cs_cert_free(cert);
	cs_cert_list_clear(&all);
	return rv;
}

static void serve_one(agent_srv *srv, int fd)
{
	agent_req req;
	agent_resp resp = {.magic = AGENT_MAGIC};
	unsigned char in[AGENT_MAX_IN], out[AGENT_MAX_OUT];
	size_t outlen = sizeof(out);
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	char *uri = NULL;
	cs_err err = {0};
	cs_rv rv;

	if (full_read(fd, &req, sizeof(req)) != 0 || req.magic != AGENT_MAGIC ||
	    req.inlen + req.label_len > sizeof(in) || req.outlen > sizeof(out) ||
	    full_read(fd, in, req.inlen + req.label_len) != 0)
		return;
	req.store_dir[sizeof(req.store_dir) - 1] = '\0';
	req.sha1[sizeof(req.sha1) - 1] = '\0';
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0)
		return;
	rv = key_for(srv, &req, cred.uid, cred.gid, &uri, &err);
	if (rv == CS_OK && req.outlen != 0)
		outlen = req.outlen;
	if (rv == CS_OK && req.op == OP_SIGN) {
		cs_sign_mech m = {.alg = req.alg, .md = req.md, .mgf1_md = req.mgf1_md,
				  .salt_len = req.salt_len};
		rv = cs_key_sign(srv->tok, uri, &m, in, req.inlen, req.outlen ? out : NULL, &outlen,
				 &err);
	} else if (rv == CS_OK && req.op == OP_DECRYPT) {
		cs_decrypt_mech m = {.alg = req.alg, .md = req.md, .mgf1_md = req.mgf1_md,
				     .label = req.label_len ? in + req.inlen : NULL,
				     .label_len = req.label_len};
		rv = cs_key_decrypt(srv->tok, uri, &m, in, req.inlen, req.outlen ? out : NULL,
				    &outlen, &err);
	} else if (rv == CS_OK) {
		rv = cs_err_set(&err, CS_ERR_BAD_INPUT, "unknown agent request %u", req.op);
	}
	free(uri);
	/* With CERTSTORE_AGENT_TRACE set, one line per request: tests check who asked. */
	if (getenv("CERTSTORE_AGENT_TRACE") != NULL)
		fprintf(stderr, "certstore-agent: uid %u gid %u %s %s: %s\n", (unsigned)cred.uid,
			(unsigned)cred.gid, req.op == OP_SIGN ? "sign" : "decrypt", req.sha1,
			rv == CS_OK ? "ok" : err.msg);
	resp.rv = rv;
	resp.outlen = rv == CS_OK ? (uint32_t)outlen : 0;
	if (rv != CS_OK)
		snprintf(resp.msg, sizeof(resp.msg), "%s", err.msg);
	if (full_write(fd, &resp, sizeof(resp)) == 0 && rv == CS_OK && req.outlen != 0)
		(void)full_write(fd, out, outlen);
	OPENSSL_cleanse(out, sizeof(out)); /* a decrypted premaster secret */
}

static void *conn_thread(void *arg)
{
	agent_conn *c = arg;

	serve_one(c->srv, c->fd);
	close(c->fd);
	free(c);
	return NULL;
}

/* Accepts connections on lfd until *stop, each served by a thread of its own. */
static void accept_loop(agent_srv *srv, int lfd, volatile sig_atomic_t *stop)
{
	pthread_attr_t attr;
	int fd;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	while (!*stop) {
		agent_conn *c;
		pthread_t th;

		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue; /* EINTR from the stop signal, or a transient failure */
		c = malloc(sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->srv = srv;
		c->fd = fd;
		if (pthread_create(&th, &attr, conn_thread, c) != 0) {
			close(fd);
			free(c);
		}
	}
	pthread_attr_destroy(&attr);
}

/* The store and its token, opened once before any connection is served. */
static cs_rv srv_open(agent_srv *srv, const char *store_dir, cs_err *err)
{
	cs_rv rv;

	if (realpath(store_dir, srv->dir) == NULL)
		return cs_err_set(err, CS_ERR_STORE, "%s: %s", store_dir, strerror(errno));
	rv = cs_store_open(srv->dir, CS_OPEN_READONLY, &srv->store, err);
	if (rv == CS_OK)
		rv = cs_token_open_store(srv->dir, &srv->tok, err);
	if (rv != CS_OK) {
		cs_store_close(srv->store);
		srv->store = NULL;
		return rv;
	}
	pthread_mutex_init(&srv->lock, NULL);
	return CS_OK;
}

cs_rv cs_agent_serve(const char *store_dir, const char *socket_path,
		     volatile sig_atomic_t *stop, cs_err *err)
{
	agent_srv srv = {0};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lfd = -1;
	cs_rv rv;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return cs_err_set(err, CS_ERR_USAGE, "%s: socket path too long", socket_path);
	rv = srv_open(&srv, store_dir, err);
	if (rv != CS_OK)
		return rv;
	strcpy(sa.sun_path, socket_path);
	unlink(socket_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(socket_path, 0666) != 0 || listen(lfd, 128) != 0) {
		rv = cs_err_set(err, CS_ERR_STORE, "%s: cannot listen: %s", socket_path,
				strerror(errno));
		goto out;
	}
	accept_loop(&srv, lfd, stop);
	unlink(socket_path);
out:
	/* Threads still running hold srv: the process is about to exit, leave
	 * the store and token to it (see keys.h on finalising at exit). */
	if (lfd >= 0)
		close(lfd);
	return rv;
}

cs_rv cs_agent_serve_fd(const char *store_dir, int lfd, volatile sig_atomic_t *stop,
			cs_err *err)
{
	agent_srv srv = {0};
	cs_rv rv;

	rv = srv_open(&srv, store_dir, err);
	if (rv != CS_OK)
		return rv;
	/* The socket and its path belong to whoever passed it (systemd): both
	 * stay, so the next connection starts the agent again. */
	accept_loop(&srv, lfd, stop);
	return CS_OK;
}

/* ---- the client ------------------------------------------------------------- */

static cs_rv call(const char *socket_path, agent_req *req, const unsigned char *in,
		  const unsigned char *label, unsigned char *out, size_t *outlen, cs_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	agent_resp resp;
	int fd;
	cs_rv rv;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return cs_err_set(err, CS_ERR_USAGE, "%s: socket path too long", socket_path);
	if (req->inlen + req->label_len > AGENT_MAX_IN)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "input too long for the key agent");
	strcpy(sa.sun_path, socket_path);
	req->magic = AGENT_MAGIC;
	req->outlen = out != NULL ? (uint32_t)(*outlen < AGENT_MAX_OUT ? *outlen : AGENT_MAX_OUT) : 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rv = cs_err_set(err, CS_ERR_TOKEN, "key agent %s: %s", socket_path, strerror(errno));
		goto out;
	}
	if (full_write(fd, req, sizeof(*req)) != 0 || full_write(fd, in, req->inlen) != 0 ||
	    (req->label_len && full_write(fd, label, req->label_len) != 0) ||
	    full_read(fd, &resp, sizeof(resp)) != 0 || resp.magic != AGENT_MAGIC) {
		rv = cs_err_set(err, CS_ERR_TOKEN, "key agent %s: the request failed", socket_path);
		goto out;
	}
	rv = resp.rv;
	if (rv != CS_OK) {
		resp.msg[sizeof(resp.msg) - 1] = '\0';
		cs_err_set(err, rv, "%s", resp.msg);
		goto out;
	}
	if (out != NULL && (resp.outlen > *outlen || full_read(fd, out, resp.outlen) != 0)) {
		rv = cs_err_set(err, CS_ERR_TOKEN, "key agent %s: short answer", socket_path);
		goto out;
	}
	*outlen = resp.outlen;
out:
	if (fd >= 0)
		close(fd);
	return rv;
}

static cs_rv fill(agent_req *req, uint32_t op, const char *store_dir, const char *sha1,
		  cs_err *err)
{
	memset(req, 0, sizeof(*req));
	req->op = op;
	if (store_dir == NULL || sha1 == NULL || strlen(sha1) != 40 ||
	    strlen(store_dir) >= sizeof(req->store_dir))
		return cs_err_set(err, CS_ERR_KEY, "the key agent serves store certificates' keys only");
	strcpy(req->store_dir, store_dir);
	strcpy(req->sha1, sha1);
	return CS_OK;
}

cs_rv cs_agent_sign(const char *socket_path, const char *store_dir, const char *sha1,
		    const cs_sign_mech *mech, const unsigned char *in, size_t inlen,
		    unsigned char *out, size_t *outlen, cs_err *err)
{
	agent_req req;
	cs_rv rv = fill(&req, OP_SIGN, store_dir, sha1, err);

	if (rv != CS_OK)
		return rv;
	req.alg = mech->alg;
	req.md = mech->md;
	req.mgf1_md = mech->mgf1_md;
	req.salt_len = mech->salt_len;
	req.inlen = (uint32_t)inlen;
	return call(socket_path, &req, in, NULL, out, outlen, err);
}

cs_rv cs_agent_decrypt(const char *socket_path, const char *store_dir, const char *sha1,
		       const cs_decrypt_mech *mech, const unsigned char *in, size_t inlen,
		       unsigned char *out, size_t *outlen, cs_err *err)
{
	agent_req req;
	cs_rv rv = fill(&req, OP_DECRYPT, store_dir, sha1, err);

	if (rv != CS_OK)
		return rv;
	req.alg = mech->alg;
	req.md = mech->md;
	req.mgf1_md = mech->mgf1_md;
	req.inlen = (uint32_t)inlen;
	req.label_len = (uint32_t)mech->label_len;
	return call(socket_path, &req, in, mech->label, out, outlen, err);
}
