/*
 * agent_srv.h - what the agent's event loop (agent.c) and its workers
 * (agent_worker.c) share: a connection, the server with its work queue and
 * the list of connections handed back.  Private to store/agent/.
 *
 * A connection belongs to the event loop until it is queued (CONN_BUSY);
 * then to the one worker that took it, until that worker hands it back on
 * the done list and wakes the loop through donefd.
 */
#ifndef CS_AGENT_SRV_H
#define CS_AGENT_SRV_H

#include "agent.h"
#include "agent_wire.h"
#include "agent_grants.h"
#include "agent_served.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

typedef enum { CONN_IDLE, CONN_READING, CONN_BUSY } conn_state;

typedef struct agent_conn {
	int fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	conn_state state;
	int64_t deadline_ms; /* CONN_READING: the whole request by then */
	size_t have, need;   /* bytes in buf, bytes the current message needs */
	size_t payload_len;
	bool dir_checked; /* the store directory was resolved once for this peer */
	bool close_after; /* the worker saw an error that ends the connection */
	char noted[41];	  /* the certificate last recorded for this peer (agent_served.h) */
	cs_agent_request req;
	struct agent_conn *prev, *next; /* every connection (event loop only) */
	struct agent_conn *next_done;	/* handed back by a worker */
	unsigned char buf[CS_AGENT_REQ_HDR + CS_AGENT_MAX_PAYLOAD];
} agent_conn;

typedef struct uid_count {
	uid_t uid;
	unsigned n;
} uid_count;

typedef struct agent_srv {
	char dir[PATH_MAX];
	cs_agent_limits lim;
	cs_agent_grants *grants; /* the store connection and the decisions cached */
	cs_agent_served *served; /* who used which key; NULL when it cannot be recorded */
	cs_token *tok;
	int lfd, epfd, donefd;
	agent_conn *conns;
	unsigned nconns;
	uid_count *uids;
	size_t nuids;
	/* the work queue: complete requests for the workers */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	agent_conn **queue;
	size_t qhead, qlen, qcap;
	bool quit;
	/* connections the workers are done with, for the event loop */
	pthread_mutex_t dlock;
	agent_conn *done;
	bool trace;
} agent_srv;

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A worker thread (agent_worker.c): takes complete requests off srv's
 * queue, does the key operation, writes the answer and hands the
 * connection back to the event loop, until srv->quit. */
void *cs_agent_worker(void *arg);

#endif
