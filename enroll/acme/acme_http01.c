/*
 * acme_http01.c - the http-01 responder (RFC 8555 8.3): a small HTTP/1.1
 * server on the profile's listen address that answers
 * GET /.well-known/acme-challenge/TOKEN with the key authorization, in a
 * thread of its own for as long as one enrollment runs.  Anything else is 404.
 */
#include "acme.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PREFIX "GET /.well-known/acme-challenge/"
#define MAX_TOKENS 32

struct acme_responder {
	int fd;
	int stop[2];
	pthread_t thread;
	pthread_mutex_t lock;
	char *token[MAX_TOKENS], *keyauth[MAX_TOKENS];
	size_t n;
};

/* The key authorization for the request line in req, or NULL (caller frees). */
static char *lookup(acme_responder *r, const char *req)
{
	size_t len, i;
	char *found = NULL;

	if (strncmp(req, PREFIX, strlen(PREFIX)) != 0)
		return NULL;
	req += strlen(PREFIX);
	len = strcspn(req, " \r\n?");
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->n && found == NULL; i++)
		if (strlen(r->token[i]) == len && strncmp(r->token[i], req, len) == 0)
			found = strdup(r->keyauth[i]);
	pthread_mutex_unlock(&r->lock);
	return found;
}

static void write_all(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0 && (w = write(fd, s, n)) > 0) {
		s += w;
		n -= (size_t)w;
	}
}

static void serve(acme_responder *r, int fd)
{
	struct timeval tv = {5, 0};
	char req[4096], head[256], *body;
	size_t got = 0;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got + 1 < sizeof(req) && (n = read(fd, req + got, sizeof(req) - 1 - got)) > 0) {
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[got] = '\0';
	body = lookup(r, req);
	snprintf(head, sizeof(head),
		 "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n",
		 body ? "200 OK" : "404 Not Found", body ? strlen(body) : 0);
	write_all(fd, head, strlen(head));
	if (body != NULL)
		write_all(fd, body, strlen(body));
	free(body);
	close(fd);
}

static void *run(void *arg)
{
	acme_responder *r = arg;
	struct pollfd p[2] = {{r->fd, POLLIN, 0}, {r->stop[0], POLLIN, 0}};
	int fd;

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents != 0)
			break;
		if ((p[0].revents & POLLIN) && (fd = accept(r->fd, NULL, NULL)) >= 0)
			serve(r, fd);
	}
	return NULL;
}

/* "HOST:PORT", "[V6]:PORT" or "PORT" into host (NULL: every address) and port. */
static int split_addr(const char *addr, char *host, size_t hostlen, const char **port)
{
	const char *colon = strrchr(addr, ':');

	if (colon == NULL) {
		*port = addr;
		return 0;
	}
	if (addr[0] == '[' && colon > addr && colon[-1] == ']')
		snprintf(host, hostlen, "%.*s", (int)(colon - addr - 2), addr + 1);
	else
		snprintf(host, hostlen, "%.*s", (int)(colon - addr), addr);
	*port = colon + 1;
	return 1;
}

static int listen_on(const char *addr)
{
	struct addrinfo hints = {0}, *ai = NULL, *a;
	char host[256] = "";
	const char *port;
	int fd = -1, one = 1, has_host = split_addr(addr, host, sizeof(host), &port);

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(has_host && *host ? host : NULL, port, &hints, &ai) != 0)
		return -1;
	for (a = ai; a != NULL && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 16) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd;
}

cs_rv acme_responder_start(const char *addr, acme_responder **out, cs_err *err)
{
	acme_responder *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	r->fd = listen_on(addr);
	if (r->fd < 0) {
		int e = errno;

		free(r);
		return cs_err_set(err, CS_ERR_USAGE,
				  "cannot listen on %s for the ACME http-01 challenge: %s (set "
				  "listen = ADDRESS:PORT in the profile)",
				  addr, strerror(e));
	}
	pthread_mutex_init(&r->lock, NULL);
	if (pipe(r->stop) != 0 || pthread_create(&r->thread, NULL, run, r) != 0) {
		close(r->fd);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot start the http-01 responder");
	}
	*out = r;
	return CS_OK;
}

cs_rv acme_responder_add(acme_responder *r, const char *token, const char *keyauth, cs_err *err)
{
	cs_rv rv = CS_OK;

	pthread_mutex_lock(&r->lock);
	if (r->n == MAX_TOKENS)
		rv = cs_err_set(err, CS_ERR_CA, "the ACME order has more than %d challenges",
				MAX_TOKENS);
	else if ((r->token[r->n] = strdup(token)) == NULL ||
		 (r->keyauth[r->n] = strdup(keyauth)) == NULL) {
		free(r->token[r->n]);
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	} else
		r->n++;
	pthread_mutex_unlock(&r->lock);
	return rv;
}

void acme_responder_stop(acme_responder *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (write(r->stop[1], "x", 1) == 1)
		pthread_join(r->thread, NULL);
	close(r->stop[0]);
	close(r->stop[1]);
	close(r->fd);
	for (i = 0; i < r->n; i++) {
		free(r->token[i]);
		free(r->keyauth[i]);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}
