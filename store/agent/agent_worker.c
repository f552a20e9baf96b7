/*
 * agent_worker.c - the agent's worker threads: a complete request off the
 * queue, the grant for the peer, the key operation in the token, and the
 * answer written within the deadline; then the connection goes back to
 * the event loop (agent.c).  A refusal tells the peer the certificate and
 * the reason, never a token object.
 */
#include "agent_srv.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_all(int fd, const unsigned char *p, size_t len, int64_t deadline_ms)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			int64_t left = deadline_ms - now_ms();

			/* A peer that does not read its answer loses its connection. */
			if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * What a peer is told: the error's class and a message that names the
 * certificate, never the token: a PKCS#11 URI carries the token's serial
 * number and the key's CKA_ID.  The agent's own log keeps the whole message.
 */
static void peer_message(const cs_agent_request *req, const cs_err *err, char *out, size_t n)
{
	if (err->rv == CS_ERR_TOKEN || err->rv == CS_ERR_AUTH || err->rv == CS_ERR_INTERNAL ||
	    strstr(err->msg, "pkcs11:") != NULL)
		snprintf(out, n,
			 "the key agent could not %s with the key of %s (%s; the agent's "
			 "log says more)",
			 req->op == CS_AGENT_OP_SIGN ? "sign" : "decrypt", req->sha1,
			 err->rv == CS_ERR_AUTH ? "the token refused its PIN"
						: "the key token failed");
	else
		snprintf(out, n, "%s", err->msg);
}

static cs_rv do_operation(agent_srv *srv, agent_conn *c, unsigned char *out, size_t *outlen,
			  cs_err *err)
{
	cs_agent_request *req = &c->req;
	char *uri = NULL;
	cs_rv rv;

	rv = cs_agent_wire_parse_request_payload(req, c->buf + CS_AGENT_REQ_HDR, c->payload_len,
						 err);
	if (rv == CS_OK && !c->dir_checked) {
		char real[PATH_MAX];

		if (realpath(req->dir, real) == NULL || strcmp(real, srv->dir) != 0)
			rv = cs_err_set(err, CS_ERR_NOT_FOUND, "the agent serves store %s, not %s",
					srv->dir, req->dir);
		c->dir_checked = rv == CS_OK;
	}
	if (rv == CS_OK)
		rv = cs_agent_grants_key(srv->grants, req->sha1, c->uid, c->gid, &uri, err);
	if (rv == CS_OK && req->out_len == 0)
		*outlen = CS_AGENT_MAX_OUT;
	else if (rv == CS_OK)
		*outlen = req->out_len;
	if (rv == CS_OK && req->op == CS_AGENT_OP_SIGN) {
		cs_sign_mech m = {.alg = (cs_sign_alg)req->alg,
				  .md = req->md,
				  .mgf1_md = req->mgf1_md,
				  .salt_len = req->salt_len};

		rv = cs_key_sign(srv->tok, uri, &m, req->in, req->in_len, req->out_len ? out : NULL,
				 outlen, err);
	} else if (rv == CS_OK) {
		cs_decrypt_mech m = {.alg = (cs_decrypt_alg)req->alg,
				     .md = req->md,
				     .mgf1_md = req->mgf1_md,
				     .label = req->label,
				     .label_len = req->label_len};

		rv = cs_key_decrypt(srv->tok, uri, &m, req->in, req->in_len,
				    req->out_len ? out : NULL, outlen, err);
	}
	free(uri);
	return rv;
}

static void serve_request(agent_srv *srv, agent_conn *c)
{
	unsigned char hdr[CS_AGENT_RESP_HDR], out[CS_AGENT_MAX_OUT];
	char msg[CS_ERR_MSG_MAX];
	size_t outlen = 0;
	cs_agent_answer ans = {0};
	cs_err err = {0};
	int64_t deadline = now_ms() + 1000LL * srv->lim.request_seconds;
	int bad;

	ans.rv = do_operation(srv, c, out, &outlen, &err);
	if (srv->trace)
		fprintf(stderr, "certstore-agent: pid %ld uid %u gid %u %s %s: %s\n", (long)c->pid,
			(unsigned)c->uid, (unsigned)c->gid,
			c->req.op == CS_AGENT_OP_SIGN ? "sign" : "decrypt", c->req.sha1,
			ans.rv == CS_OK ? "ok" : err.msg);
	else if (ans.rv != CS_OK && ans.rv != CS_ERR_REFUSED)
		fprintf(stderr, "certstore-agent: uid %u pid %ld %s: %s\n", (unsigned)c->uid,
			(long)c->pid, c->req.sha1, err.msg);
	if (ans.rv == CS_OK) {
		ans.size = (uint32_t)outlen;
		ans.data_len = c->req.out_len != 0 ? (uint32_t)outlen : 0;
	} else {
		peer_message(&c->req, &err, msg, sizeof(msg));
		ans.msg_len = (uint32_t)strlen(msg);
	}
	cs_agent_wire_put_answer_header(&ans, hdr);
	bad = write_all(c->fd, hdr, sizeof(hdr), deadline) != 0 ||
	      (ans.msg_len && write_all(c->fd, (unsigned char *)msg, ans.msg_len, deadline) != 0) ||
	      (ans.data_len && write_all(c->fd, out, ans.data_len, deadline) != 0);
	OPENSSL_cleanse(out, sizeof(out)); /* a decrypted premaster secret */
	c->close_after = bad;
	/* after the answer: the peer's handshake does not wait for the record */
	if (ans.rv == CS_OK && strcmp(c->noted, c->req.sha1) != 0) {
		cs_agent_served_note(srv->served, c->pid, c->uid, c->req.sha1);
		snprintf(c->noted, sizeof(c->noted), "%s", c->req.sha1);
	}
}

void *cs_agent_worker(void *arg)
{
	agent_srv *srv = arg;
	uint64_t one = 1;

	for (;;) {
		agent_conn *c;

		pthread_mutex_lock(&srv->qlock);
		while (srv->qlen == 0 && !srv->quit)
			pthread_cond_wait(&srv->qcond, &srv->qlock);
		if (srv->qlen == 0) {
			pthread_mutex_unlock(&srv->qlock);
			return NULL;
		}
		c = srv->queue[srv->qhead];
		srv->qhead = (srv->qhead + 1) % srv->qcap;
		srv->qlen--;
		pthread_mutex_unlock(&srv->qlock);

		serve_request(srv, c);
		pthread_mutex_lock(&srv->dlock);
		c->next_done = srv->done;
		srv->done = c;
		pthread_mutex_unlock(&srv->dlock);
		/* Fails only when the counter is full: the loop is awake then anyway. */
		if (write(srv->donefd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			continue;
	}
}
