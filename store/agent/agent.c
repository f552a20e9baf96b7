/*
 * agent.c - the key agent's server (agent.h): one event-loop thread owns
 * every connection and reads requests without blocking; a fixed pool of
 * worker threads does the key operations and writes the answers.
 *
 * Nothing a peer sends can hold a resource for long: a request must arrive
 * whole within CS_AGENT_REQUEST_SECONDS of its first byte, connections are
 * capped per uid and overall, an answer that cannot be written within the
 * same deadline closes the connection, and accept() failing for lack of
 * descriptors pauses accepting instead of spinning.  Idle connections cost
 * a descriptor and a small buffer, no thread.
 */
#include "agent.h"
#include "agent_wire.h"
#include "agent_grants.h"
#include "agent_served.h"
#include "agent_srv.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

/* ---- per-uid accounting -------------------------------------------------- */

static uid_count *uid_slot(agent_srv *srv, uid_t uid)
{
	uid_count *grown;

	for (size_t i = 0; i < srv->nuids; i++)
		if (srv->uids[i].uid == uid)
			return &srv->uids[i];
	grown = realloc(srv->uids, (srv->nuids + 1) * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	srv->uids = grown;
	srv->uids[srv->nuids] = (uid_count){.uid = uid};
	return &srv->uids[srv->nuids++];
}

/* ---- connections (event loop thread only) --------------------------------- */

static void conn_close(agent_srv *srv, agent_conn *c)
{
	uid_count *u = uid_slot(srv, c->uid);

	if (u != NULL && u->n > 0)
		u->n--;
	(void)epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	OPENSSL_cleanse(c->buf, sizeof(c->buf)); /* ciphertexts, digests */
	free(c);
}

static int conn_arm(agent_srv *srv, agent_conn *c)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.ptr = c};

	return epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_reset(agent_conn *c)
{
	c->state = CONN_IDLE;
	c->have = 0;
	c->need = CS_AGENT_REQ_HDR;
	c->payload_len = 0;
}

/* Accepts what is waiting; false when accepting must pause (no descriptors). */
static bool accept_pending(agent_srv *srv)
{
	for (;;) {
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT};
		agent_conn *c;
		uid_count *u;
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return !(errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
				 errno == ENOMEM);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
			close(fd);
			continue;
		}
		u = uid_slot(srv, cred.uid);
		/* Over a cap the connection is closed at once: the peer sees EOF
		 * and its error, and nothing of ours stays held. */
		if (u == NULL || srv->nconns >= srv->lim.max_connections ||
		    u->n >= srv->lim.max_per_uid || (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->pid = cred.pid;
		conn_reset(c);
		ev.data.ptr = c;
		if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			free(c);
			continue;
		}
		u->n++;
		c->next = srv->conns;
		if (srv->conns != NULL)
			srv->conns->prev = c;
		srv->conns = c;
		srv->nconns++;
	}
}

/* Answers a request we could not frame, then the connection ends. */
static void refuse_framing(agent_conn *c, const cs_err *err)
{
	unsigned char hdr[CS_AGENT_RESP_HDR];
	cs_agent_answer ans = {.rv = err->rv ? err->rv : CS_ERR_BAD_INPUT};
	size_t mlen = strlen(err->msg);

	ans.msg_len = (uint32_t)(mlen > 0 ? mlen : 1);
	cs_agent_wire_put_answer_header(&ans, hdr);
	(void)send(c->fd, hdr, sizeof(hdr), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)send(c->fd, mlen > 0 ? err->msg : "?", ans.msg_len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void enqueue(agent_srv *srv, agent_conn *c)
{
	pthread_mutex_lock(&srv->qlock);
	srv->queue[(srv->qhead + srv->qlen) % srv->qcap] = c;
	srv->qlen++;
	pthread_cond_signal(&srv->qcond);
	pthread_mutex_unlock(&srv->qlock);
}

/* Reads what the peer sent; a complete request goes to the workers. */
static void conn_readable(agent_srv *srv, agent_conn *c)
{
	cs_err err = {0};

	for (;;) {
		ssize_t n = recv(c->fd, c->buf + c->have, c->need - c->have, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(srv, c);
			return;
		}
		if (c->state == CONN_IDLE) {
			c->state = CONN_READING;
			c->deadline_ms = now_ms() + 1000LL * srv->lim.request_seconds;
		}
		c->have += (size_t)n;
		if (c->have < c->need)
			continue;
		if (c->need == CS_AGENT_REQ_HDR &&
		    cs_agent_wire_parse_request_header(c->buf, &c->req, &c->payload_len, &err) !=
			    CS_OK) {
			refuse_framing(c, &err);
			conn_close(srv, c);
			return;
		}
		c->need = CS_AGENT_REQ_HDR + c->payload_len;
		if (c->have == c->need) {
			c->state = CONN_BUSY;
			enqueue(srv, c);
			return;
		}
	}
	if (conn_arm(srv, c) != 0)
		conn_close(srv, c);
}

/* Closes connections whose request is overdue; the next deadline, in ms. */
static int expire_overdue(agent_srv *srv)
{
	int64_t now = now_ms(), next = now + 1000;
	agent_conn *c = srv->conns, *nx;

	for (; c != NULL; c = nx) {
		nx = c->next;
		if (c->state != CONN_READING)
			continue;
		if (c->deadline_ms <= now)
			conn_close(srv, c);
		else if (c->deadline_ms < next)
			next = c->deadline_ms;
	}
	return (int)(next - now);
}

static void take_done(agent_srv *srv)
{
	uint64_t n;
	agent_conn *c, *nx;

	/* EAGAIN: another wakeup already drained the counter; the list decides */
	if (read(srv->donefd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		fprintf(stderr, "certstore-agent: eventfd: %s\n", strerror(errno));
	pthread_mutex_lock(&srv->dlock);
	c = srv->done;
	srv->done = NULL;
	pthread_mutex_unlock(&srv->dlock);
	for (; c != NULL; c = nx) {
		nx = c->next_done;
		c->next_done = NULL;
		if (c->close_after) {
			conn_close(srv, c);
			continue;
		}
		conn_reset(c);
		if (conn_arm(srv, c) != 0)
			conn_close(srv, c);
	}
}

/* ---- the listening socket ------------------------------------------------------ */

/* systemd's socket activation (sd_listen_fds(3)): the first passed
 * descriptor, when the variables are meant for this process and it is a
 * listening stream socket. */
static int activated_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int listening = 0, type = 0;
	socklen_t len = sizeof(listening), tlen = sizeof(type);

	if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != (long)getpid() ||
	    strtol(fds, NULL, 10) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening ||
	    getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM)
		return -1;
	return 3;
}

static cs_rv open_listener(agent_srv *srv, const char *socket_path, bool *bound, cs_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = activated_socket();

	*bound = false;
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
			return cs_err_set(err, CS_ERR_STORE, "the socket systemd passed: %s",
					  strerror(errno));
		srv->lfd = fd;
		return CS_OK;
	}
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return cs_err_set(err, CS_ERR_USAGE, "%s: socket path too long", socket_path);
	strcpy(sa.sun_path, socket_path);
	unlink(socket_path);
	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->lfd < 0 || bind(srv->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(socket_path, 0666) != 0 || listen(srv->lfd, 512) != 0)
		return cs_err_set(err, CS_ERR_STORE, "%s: cannot listen: %s", socket_path,
				  strerror(errno));
	*bound = true;
	return CS_OK;
}

/*
 * Once the token and the socket are open, the agent needs no capability:
 * it reads files its own uid owns.  Dropping them all means a bug in the
 * agent cannot override file permissions, change owners or load modules.
 * Only when the store is ours: reading another user's store as root needs
 * CAP_DAC_OVERRIDE at every SQLite or SoftHSM2 file open.
 */
static void drop_capabilities(const char *dir)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	struct stat st;

	if (stat(dir, &st) != 0 || st.st_uid != geteuid())
		return;
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL)
			break;
	memset(d, 0, sizeof(d));
	(void)syscall(SYS_capset, &h, d);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* ---- the loop ---------------------------------------------------------------------- */

/* epoll data for the two descriptors that are not connections */
static char listener_tag, done_tag;

void cs_agent_limits_default(cs_agent_limits *lim)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	lim->workers = cpus < 1 ? 2 : cpus > 8 ? 16 : (unsigned)(2 * cpus);
	lim->max_connections = 4096;
	lim->max_per_uid = 256;
	lim->request_seconds = 5;
}

static int listen_on(agent_srv *srv)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listener_tag};

	return epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->lfd, &ev);
}

static void event_loop(agent_srv *srv, volatile sig_atomic_t *stop)
{
	struct epoll_event evs[64];
	int64_t paused_until = 0;

	while (!*stop) {
		int timeout = expire_overdue(srv), n;

		if (paused_until != 0) {
			int64_t left = paused_until - now_ms();

			if (left <= 0) {
				(void)listen_on(srv);
				paused_until = 0;
			} else if (left < timeout) {
				timeout = (int)left;
			}
		}
		n = epoll_wait(srv->epfd, evs, 64, timeout);
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &done_tag) {
				take_done(srv);
			} else if (p != &listener_tag) {
				conn_readable(srv, p);
			} else if (!accept_pending(srv)) {
				/* Out of descriptors: stop accepting for a moment
				 * instead of spinning on a listener that stays ready. */
				(void)epoll_ctl(srv->epfd, EPOLL_CTL_DEL, srv->lfd, NULL);
				paused_until = now_ms() + 200;
				fprintf(stderr,
					"certstore-agent: out of file descriptors with %u "
					"connections; accepting again in 200 ms\n",
					srv->nconns);
			}
		}
	}
}

static cs_rv setup_loop(agent_srv *srv, cs_err *err)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &done_tag};

	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->donefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	srv->qcap = srv->lim.max_connections + 1;
	srv->queue = calloc(srv->qcap, sizeof(*srv->queue));
	if (srv->epfd < 0 || srv->donefd < 0 || srv->queue == NULL ||
	    epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->donefd, &ev) != 0 || listen_on(srv) != 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot set up the event loop: %s",
				  strerror(errno));
	return CS_OK;
}

static cs_rv start_workers(agent_srv *srv, pthread_t *th, unsigned *started, cs_err *err)
{
	for (*started = 0; *started < srv->lim.workers; (*started)++)
		if (pthread_create(&th[*started], NULL, cs_agent_worker, srv) != 0)
			return cs_err_set(err, CS_ERR_INTERNAL, "cannot start worker threads");
	return CS_OK;
}

static void stop_workers(agent_srv *srv, pthread_t *th, unsigned started)
{
	pthread_mutex_lock(&srv->qlock);
	srv->quit = true;
	pthread_cond_broadcast(&srv->qcond);
	pthread_mutex_unlock(&srv->qlock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

cs_rv cs_agent_serve(const char *store_dir, const char *socket_path, const cs_agent_limits *lim,
		     volatile sig_atomic_t *stop, cs_err *err)
{
	agent_srv srv = {.lfd = -1, .epfd = -1, .donefd = -1};
	pthread_t *th = NULL;
	unsigned started = 0;
	bool bound = false;
	cs_err served_err = {0};
	cs_rv rv;

	if (lim != NULL)
		srv.lim = *lim;
	else
		cs_agent_limits_default(&srv.lim);
	if (srv.lim.workers == 0 || srv.lim.max_connections == 0 || srv.lim.max_per_uid == 0 ||
	    srv.lim.request_seconds <= 0)
		return cs_err_set(err, CS_ERR_USAGE, "agent limits must be positive");
	if (realpath(store_dir, srv.dir) == NULL)
		return cs_err_set(err, CS_ERR_STORE, "%s: %s", store_dir, strerror(errno));
	srv.trace = getenv("CERTSTORE_AGENT_TRACE") != NULL;
	pthread_mutex_init(&srv.qlock, NULL);
	pthread_cond_init(&srv.qcond, NULL);
	pthread_mutex_init(&srv.dlock, NULL);
	rv = cs_agent_grants_open(srv.dir, &srv.grants, err);
	if (rv == CS_OK && cs_agent_served_open(srv.dir, &srv.served, &served_err) != CS_OK)
		fprintf(stderr, "certstore-agent: not recording which process uses which key: %s\n",
			served_err.msg);
	if (rv == CS_OK)
		rv = cs_token_open_store(srv.dir, &srv.tok, err);
	if (rv == CS_OK)
		rv = open_listener(&srv, socket_path, &bound, err);
	if (rv == CS_OK)
		rv = setup_loop(&srv, err);
	if (rv == CS_OK && (th = calloc(srv.lim.workers, sizeof(*th))) == NULL)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (rv == CS_OK)
		rv = start_workers(&srv, th, &started, err);
	if (rv == CS_OK) {
		drop_capabilities(srv.dir);
		event_loop(&srv, stop);
	}
	stop_workers(&srv, th, started);
	while (srv.conns != NULL)
		conn_close(&srv, srv.conns);
	if (bound)
		unlink(socket_path);
	if (srv.lfd >= 0)
		close(srv.lfd);
	if (srv.epfd >= 0)
		close(srv.epfd);
	if (srv.donefd >= 0)
		close(srv.donefd);
	free(th);
	free(srv.queue);
	free(srv.uids);
	/* The token stays open: the process is about to exit, and SoftHSM2
	 * crashes in some finalisation orders (keys.h). */
	cs_agent_grants_close(srv.grants);
	cs_agent_served_close(srv.served);
	return rv;
}
