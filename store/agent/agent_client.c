/*
 * agent_client.c - asking the key agent (agent.h): cs_agent_sign and
 * cs_agent_decrypt.
 *
 * A TLS server signs on every handshake, so a process keeps its connections
 * to the agent and reuses them: one request at a time on each, as many
 * connections as threads asking at once (up to POOL_IDLE_MAX kept idle).
 * They are a per-process resource, kept here rather than by each caller:
 * after fork() the child must not share its parent's connections (their
 * answers would interleave), so the pool notices a new pid and starts
 * afresh.  Every connect, write and read has a deadline; an agent that
 * does not answer is an error on the caller's side, never a hang.
 */
#include "agent.h"
#include "agent_wire.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define POOL_IDLE_MAX 8
#define DEFAULT_TIMEOUT_SECONDS 10

typedef struct agent_pool {
	char *socket_path;
	pid_t pid;
	int idle[POOL_IDLE_MAX];
	size_t nidle;
	struct agent_pool *next;
} agent_pool;

static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
static agent_pool *pools;

static int timeout_seconds(void)
{
	const char *v = getenv("CERTSTORE_AGENT_TIMEOUT");
	long n = v != NULL ? strtol(v, NULL, 10) : 0;

	return n > 0 && n <= 3600 ? (int)n : DEFAULT_TIMEOUT_SECONDS;
}

/* An idle connection to socket_path, or -1 (lock held by the caller). */
static int pool_take(const char *socket_path)
{
	agent_pool *p;

	for (p = pools; p != NULL; p = p->next)
		if (strcmp(p->socket_path, socket_path) == 0)
			break;
	if (p == NULL)
		return -1;
	if (p->pid != getpid()) {
		/* A forked child: these are the parent's conversations. */
		for (size_t i = 0; i < p->nidle; i++)
			close(p->idle[i]);
		p->nidle = 0;
		p->pid = getpid();
		return -1;
	}
	return p->nidle > 0 ? p->idle[--p->nidle] : -1;
}

static void pool_give(const char *socket_path, int fd)
{
	agent_pool *p;

	pthread_mutex_lock(&pools_lock);
	for (p = pools; p != NULL; p = p->next)
		if (strcmp(p->socket_path, socket_path) == 0)
			break;
	if (p == NULL && (p = calloc(1, sizeof(*p))) != NULL) {
		if ((p->socket_path = strdup(socket_path)) == NULL) {
			free(p);
			p = NULL;
		} else {
			p->pid = getpid();
			p->next = pools;
			pools = p;
		}
	}
	if (p != NULL && p->pid == getpid() && p->nidle < POOL_IDLE_MAX) {
		p->idle[p->nidle++] = fd;
		fd = -1;
	}
	pthread_mutex_unlock(&pools_lock);
	if (fd >= 0)
		close(fd);
}

static cs_rv agent_connect(const char *socket_path, int *out, cs_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_seconds()};
	int fd;

	*out = -1;
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return cs_err_set(err, CS_ERR_USAGE, "%s: socket path too long", socket_path);
	strcpy(sa.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* SO_SNDTIMEO also bounds connect() on a Unix socket whose backlog is full. */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return cs_err_set(err, CS_ERR_TOKEN, "key agent %s: %s", socket_path,
				  e == EAGAIN || e == EINPROGRESS ? "busy: connection timed out"
								  : strerror(e));
	}
	*out = fd;
	return CS_OK;
}

/* 0, or -1 with errno (EAGAIN: the deadline passed; 0: the agent hung up). */
static int io_all(int fd, unsigned char *p, size_t len, bool writing)
{
	while (len > 0) {
		ssize_t n = writing ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

typedef struct exchange {
	const cs_agent_request *req;
	const unsigned char *in, *label;
	unsigned char *out;
	size_t *outlen;
	bool answered; /* some of the answer arrived: not to be retried */
} exchange;

static cs_rv io_failure(const char *socket_path, cs_err *err)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return cs_err_set(err, CS_ERR_TOKEN, "key agent %s did not answer within %d s",
				  socket_path, timeout_seconds());
	return cs_err_set(err, CS_ERR_TOKEN, "key agent %s: %s", socket_path,
			  errno == 0 ? "the agent closed the connection" : strerror(errno));
}

static cs_rv exchange_on(int fd, const char *socket_path, exchange *x, cs_err *err)
{
	unsigned char
		hdr[CS_AGENT_REQ_HDR > CS_AGENT_RESP_HDR ? CS_AGENT_REQ_HDR : CS_AGENT_RESP_HDR];
	char msg[CS_ERR_MSG_MAX];
	cs_agent_answer ans;
	cs_rv rv;

	cs_agent_wire_put_request_header(x->req, hdr);
	if (io_all(fd, hdr, CS_AGENT_REQ_HDR, true) != 0 ||
	    io_all(fd, (unsigned char *)x->req->dir, x->req->dir_len, true) != 0 ||
	    io_all(fd, (unsigned char *)x->in, x->req->in_len, true) != 0 ||
	    (x->req->label_len && io_all(fd, (unsigned char *)x->label, x->req->label_len, true)) ||
	    io_all(fd, hdr, CS_AGENT_RESP_HDR, false) != 0)
		return io_failure(socket_path, err);
	x->answered = true;
	rv = cs_agent_wire_parse_answer_header(hdr, x->req->out_len, &ans, err);
	if (rv != CS_OK)
		return cs_err_set(err, CS_ERR_TOKEN, "key agent %s: %s", socket_path, err->msg);
	if (ans.rv != CS_OK) {
		if (io_all(fd, (unsigned char *)msg, ans.msg_len, false) != 0)
			return io_failure(socket_path, err);
		msg[ans.msg_len] = '\0';
		return cs_err_set(err, ans.rv, "%s", msg);
	}
	if (ans.data_len && io_all(fd, x->out, ans.data_len, false) != 0)
		return io_failure(socket_path, err);
	*x->outlen = ans.size;
	return CS_OK;
}

static cs_rv call(const char *socket_path, exchange *x, cs_err *err)
{
	cs_rv rv;
	int fd;

	for (int attempt = 0;; attempt++) {
		pthread_mutex_lock(&pools_lock);
		fd = attempt == 0 ? pool_take(socket_path) : -1;
		pthread_mutex_unlock(&pools_lock);
		bool reused = fd >= 0;

		if (fd < 0) {
			rv = agent_connect(socket_path, &fd, err);
			if (rv != CS_OK)
				return rv;
		}
		x->answered = false;
		rv = exchange_on(fd, socket_path, x, err);
		/* A refusal or a result leaves the conversation in step; an I/O
		 * failure does not, and the connection goes. */
		if (rv == CS_OK || x->answered) {
			if (rv == CS_OK || rv != CS_ERR_TOKEN)
				pool_give(socket_path, fd);
			else
				close(fd);
			return rv;
		}
		close(fd);
		/* A kept connection may have outlived the agent (a restart):
		 * one more try on a new one. */
		if (!reused)
			return rv;
	}
}

static cs_rv fill(cs_agent_request *req, uint16_t op, const char *store_dir, const char *sha1,
		  size_t inlen, cs_err *err)
{
	memset(req, 0, sizeof(*req));
	req->op = op;
	if (store_dir == NULL || sha1 == NULL || strlen(sha1) != 40 || store_dir[0] != '/' ||
	    strlen(store_dir) > CS_AGENT_MAX_DIR)
		return cs_err_set(err, CS_ERR_KEY,
				  "the key agent serves store certificates' keys only");
	if (inlen == 0 || inlen > CS_AGENT_MAX_IN)
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "input of %zu bytes: the key agent takes "
				  "1 to %u",
				  inlen, (unsigned)CS_AGENT_MAX_IN);
	memcpy(req->sha1, sha1, 40);
	req->dir_len = (uint32_t)strlen(store_dir);
	memcpy(req->dir, store_dir, req->dir_len);
	req->in_len = (uint32_t)inlen;
	return CS_OK;
}

cs_rv cs_agent_sign(const char *socket_path, const char *store_dir, const char *sha1,
		    const cs_sign_mech *mech, const unsigned char *in, size_t inlen,
		    unsigned char *out, size_t *outlen, cs_err *err)
{
	cs_agent_request req;
	exchange x = {.req = &req, .in = in, .out = out, .outlen = outlen};
	cs_rv rv = fill(&req, CS_AGENT_OP_SIGN, store_dir, sha1, inlen, err);

	if (rv != CS_OK)
		return rv;
	req.alg = mech->alg;
	req.md = mech->md;
	req.mgf1_md = mech->mgf1_md;
	req.salt_len = mech->salt_len;
	req.out_len = out != NULL
			      ? (uint32_t)(*outlen < CS_AGENT_MAX_OUT ? *outlen : CS_AGENT_MAX_OUT)
			      : 0;
	return call(socket_path, &x, err);
}

cs_rv cs_agent_decrypt(const char *socket_path, const char *store_dir, const char *sha1,
		       const cs_decrypt_mech *mech, const unsigned char *in, size_t inlen,
		       unsigned char *out, size_t *outlen, cs_err *err)
{
	cs_agent_request req;
	exchange x = {.req = &req, .in = in, .label = mech->label, .out = out, .outlen = outlen};
	cs_rv rv = fill(&req, CS_AGENT_OP_DECRYPT, store_dir, sha1, inlen, err);

	if (rv != CS_OK)
		return rv;
	if (mech->label_len > CS_AGENT_MAX_LABEL)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "OAEP label too long for the key agent");
	req.alg = mech->alg;
	req.md = mech->md;
	req.mgf1_md = mech->mgf1_md;
	req.label_len = (uint32_t)mech->label_len;
	req.out_len = out != NULL
			      ? (uint32_t)(*outlen < CS_AGENT_MAX_OUT ? *outlen : CS_AGENT_MAX_OUT)
			      : 0;
	return call(socket_path, &x, err);
}
