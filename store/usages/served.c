/*
 * served.c - which process serves which certificate: identifying processes
 * from /proc, telling a live process from a reused pid, the syslog record,
 * and which processes serve a usage (the SQL is in db_served.c).
 */
#include "served.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

void cs_served_clear(cs_served *s)
{
	if (s == NULL)
		return;
	free(s->exe);
	free(s->usage);
	memset(s, 0, sizeof(*s));
}

void cs_served_list_clear(cs_served_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		cs_served_clear(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* comm, parent (field 4) and start time (field 22) from /proc/PID/stat;
 * false when the process is gone. */
static bool read_stat(int64_t pid, char *comm, size_t commsz, int64_t *ppid, int64_t *start)
{
	char path[64], buf[1024], *open_paren, *close_paren, *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* The name may hold spaces and parentheses: it ends at the last ')'. */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (open_paren == NULL || close_paren == NULL || close_paren < open_paren)
		return false;
	if (comm != NULL)
		snprintf(comm, commsz, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
	p = close_paren + 1;
	if (ppid != NULL)
		*ppid = strtoll(p + 3, NULL, 10); /* after " S " */
	for (field = 3; field <= 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return false;
	/* p is the space before field 23: step back to the start of field 22 */
	while (p > close_paren && p[-1] != ' ')
		p--;
	*start = strtoll(p, NULL, 10);
	return true;
}

static void read_exe(int64_t pid, char *exe, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%lld/exe", (long long)pid);
	n = readlink(path, exe, size - 1);
	exe[n > 0 ? n : 0] = '\0';
}

cs_rv cs_served_identify(pid_t pid, cs_served *out, cs_err *err)
{
	char path[64], exe[4096], parent_comm[17];
	int64_t ppid = 0, parent_start;
	struct stat st;

	out->pid = pid;
	if (!read_stat(pid, out->comm, sizeof(out->comm), &ppid, &out->start))
		return cs_err_set(err, CS_ERR_NOT_FOUND, "process %ld is gone", (long)pid);
	snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	out->uid = stat(path, &st) == 0 ? (int64_t)st.st_uid : -1;
	read_exe(pid, exe, sizeof(exe));
	/* Another user's exe link needs CAP_SYS_PTRACE, which the agent has
	 * dropped.  A worker forked by its master (nginx, apache) runs the
	 * master's executable: same name, and the master is usually root's. */
	if (exe[0] == '\0' && ppid > 1 &&
	    read_stat(ppid, parent_comm, sizeof(parent_comm), NULL, &parent_start) &&
	    strcmp(parent_comm, out->comm) == 0)
		read_exe(ppid, exe, sizeof(exe));
	free(out->exe);
	out->exe = strdup(exe);
	if (out->exe == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	return CS_OK;
}

bool cs_served_alive(int64_t pid, int64_t start)
{
	int64_t now_start;

	return pid > 0 && read_stat(pid, NULL, 0, NULL, &now_start) && now_start == start;
}

/* One datagram to a local socket, never waited for: with no reader or a
 * full socket the record is dropped. */
static void send_datagram(const char *path, const char *msg, size_t len)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	(void)sendto(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&addr,
		     sizeof(addr));
	close(fd);
}

/* A field value on one line: the journal's text form ends a value at '\n'. */
static void one_line(char *out, size_t size, const char *in)
{
	snprintf(out, size, "%s", in != NULL ? in : "");
	for (char *p = out; *p != '\0'; p++)
		if (*p == '\n')
			*p = '?';
}

/* The syslog(3) datagram: rsyslog files it under the tag certstore. */
static void send_syslog(const char *path, const cs_served *rec, const char *comm, const char *exe,
			const char *usage)
{
	char msg[1024], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int len;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	/* <30> = daemon.info */
	len = snprintf(msg, sizeof(msg),
		       "<30>%s certstore[%ld]: CERTSTORE_EVENT=key-load COMM=%s PID=%lld "
		       "START=%lld UID=%lld EXE=%s THUMBPRINT=%s USAGE=%s VIA=%s",
		       stamp, (long)getpid(), comm, (long long)rec->pid, (long long)rec->start,
		       (long long)rec->uid, exe, rec->sha1, usage, rec->via);
	if (len > 0)
		send_datagram(path, msg, (size_t)len < sizeof(msg) ? (size_t)len : sizeof(msg) - 1);
}

/* journald's native protocol (one FIELD=value per line): every field is one a
 * journal query can filter on, e.g. journalctl CERTSTORE_USAGE=Default. */
static void send_journal(const char *path, const cs_served *rec, const char *comm, const char *exe,
			 const char *usage)
{
	char msg[2048];
	int len;

	len = snprintf(msg, sizeof(msg),
		       "MESSAGE=%s[%lld] uses the key of %s (usage %s) through the %s\n"
		       "PRIORITY=6\nSYSLOG_FACILITY=3\nSYSLOG_IDENTIFIER=certstore\n"
		       "CERTSTORE_EVENT=key-load\nCERTSTORE_COMM=%s\nCERTSTORE_PID=%lld\n"
		       "CERTSTORE_START=%lld\nCERTSTORE_UID=%lld\nCERTSTORE_EXE=%s\n"
		       "CERTSTORE_THUMBPRINT=%s\nCERTSTORE_USAGE=%s\nCERTSTORE_VIA=%s\n",
		       comm, (long long)rec->pid, rec->sha1, usage, rec->via, comm,
		       (long long)rec->pid, (long long)rec->start, (long long)rec->uid, exe,
		       rec->sha1, usage, rec->via);
	if (len > 0 && (size_t)len < sizeof(msg))
		send_datagram(path, msg, (size_t)len);
}

/*
 * Sent to the journal or syslog ourselves rather than with syslog(3) or
 * libsystemd: the provider runs inside nginx or haproxy, openlog() would
 * change the identifier of the host's own messages, and libsystemd would be
 * one more library in every server.  The journal's native socket when it
 * exists (structured fields), else the syslog socket.  The environment
 * names other sockets (tests).
 */
void cs_served_syslog(const cs_served *rec)
{
	const char *journal = getenv("CERTSTORE_JOURNAL_SOCKET");
	const char *syslog_path = getenv("CERTSTORE_SYSLOG_SOCKET");
	char comm[sizeof(rec->comm)], exe[512], usage[256];

	one_line(comm, sizeof(comm), rec->comm);
	one_line(exe, sizeof(exe), rec->exe);
	one_line(usage, sizeof(usage), rec->usage && *rec->usage ? rec->usage : "-");
	if (journal != NULL && *journal != '\0')
		send_journal(journal, rec, comm, exe, usage);
	else if (syslog_path != NULL && *syslog_path != '\0')
		send_syslog(syslog_path, rec, comm, exe, usage);
	else if (access("/run/systemd/journal/socket", W_OK) == 0)
		send_journal("/run/systemd/journal/socket", rec, comm, exe, usage);
	else
		send_syslog("/dev/log", rec, comm, exe, usage);
}

/* Whether the comma-separated list names name. */
static bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p != NULL && *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

static bool about_usage(const cs_served *s, const cs_usage *u)
{
	return (u->sha1[0] && strcmp(s->sha1, u->sha1) == 0) ||
	       (u->previous_sha1[0] && strcmp(s->sha1, u->previous_sha1) == 0) ||
	       list_has(s->usage, u->name);
}

cs_rv cs_served_for_usage(const cs_served_list *live, const cs_usage *u, cs_served_by_list *out,
			  cs_err *err)
{
	out->items = NULL;
	out->n = 0;
	for (size_t i = 0; i < live->n; i++) {
		const cs_served *s = &live->items[i];
		size_t j;

		if (!about_usage(s, u))
			continue;
		for (j = 0; j < out->n; j++)
			if (out->items[j].rec->pid == s->pid &&
			    out->items[j].rec->start == s->start)
				break;
		if (j == out->n) {
			cs_served_by *grown = realloc(out->items, (out->n + 1) * sizeof(*grown));

			if (grown == NULL) {
				cs_served_by_list_clear(out);
				return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
			}
			out->items = grown;
			out->n++;
		}
		/* live is oldest first: the last record of a process wins */
		out->items[j].rec = s;
		out->items[j].stale = strcmp(s->sha1, u->sha1) != 0;
	}
	return CS_OK;
}

void cs_served_by_list_clear(cs_served_by_list *l)
{
	if (l == NULL)
		return;
	free(l->items);
	l->items = NULL;
	l->n = 0;
}
