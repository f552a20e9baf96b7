/*
 * hooks.c - running a usage's on-assign hook: its command line split into
 * argv (no shell), a clean environment, output and exit status to the audit
 * log.
 */
#include "usage.h"
#include "db.h"
#include "usage_conf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOOK_OUTPUT_MAX 4096
#define HOOK_ARGS_MAX 64
#define HOOK_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct hook_argv {
	char *buf; /* the words, NUL-separated */
	char *argv[HOOK_ARGS_MAX + 1];
	int argc;
} hook_argv;

typedef struct hook_result {
	char output[HOOK_OUTPUT_MAX + 1];
	size_t len;
	bool truncated;
	bool timed_out;
	int status; /* as from waitpid */
} hook_result;

/* Whitespace separates words; "…" keeps spaces in one, with \" and \\ inside. */
static cs_rv hook_split(const char *line, hook_argv *out, cs_err *err)
{
	const char *p = line;
	char *w;

	memset(out, 0, sizeof(*out));
	out->buf = malloc(strlen(line) * 2 + 2);
	if (out->buf == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	w = out->buf;
	for (;;) {
		bool quoted = false;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (out->argc == HOOK_ARGS_MAX)
			return cs_err_set(err, CS_ERR_HOOK, "more than %d words", HOOK_ARGS_MAX);
		out->argv[out->argc++] = w;
		for (; *p != '\0' && (quoted || (*p != ' ' && *p != '\t')); p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (quoted && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
				*w++ = *++p;
			else
				*w++ = *p;
		}
		*w++ = '\0';
		if (quoted)
			return cs_err_set(err, CS_ERR_HOOK, "unbalanced double quote");
	}
	if (out->argc == 0)
		return cs_err_set(err, CS_ERR_HOOK, "empty command");
	return CS_OK;
}

static void hook_argv_clear(hook_argv *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

/* In the child: never returns. */
static void exec_child(char *const argv[], char *const envp[], int out_fd)
{
	int null_fd = open("/dev/null", O_RDONLY);

	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(126);
	/* The store's database and anything else open stays with us. */
	close_range(3, ~0U, 0);
	if (chdir("/") != 0)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	execve(argv[0], argv, envp);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the hook's output until EOF or the deadline; keeps the first 4 KiB. */
static void collect_output(int fd, int timeout_s, hook_result *res)
{
	int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char buf[4096];
	ssize_t n;

	for (;;) {
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			res->timed_out = true;
			return;
		}
		if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
			return;
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return;
		if (n < 0)
			continue;
		if (res->len + (size_t)n > HOOK_OUTPUT_MAX) {
			res->truncated = true;
			n = (ssize_t)(HOOK_OUTPUT_MAX - res->len);
		}
		memcpy(res->output + res->len, buf, (size_t)n);
		res->len += (size_t)n;
	}
}

static cs_rv spawn(char *const argv[], char *const envp[], int timeout_s, hook_result *res,
		   cs_err *err)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return cs_err_set(err, CS_ERR_HOOK, "cannot make a pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return cs_err_set(err, CS_ERR_HOOK, "cannot fork: %s", strerror(errno));
	}
	if (pid == 0)
		exec_child(argv, envp, fds[1]);
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	collect_output(fds[0], timeout_s, res);
	close(fds[0]);
	if (res->timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &res->status, 0) < 0 && errno == EINTR)
		;
	res->output[res->len] = '\0';
	return CS_OK;
}

static void describe_status(const hook_result *res, char *buf, size_t size)
{
	if (res->timed_out)
		snprintf(buf, size, "killed after its timeout");
	else if (WIFEXITED(res->status))
		snprintf(buf, size, "exit %d", WEXITSTATUS(res->status));
	else if (WIFSIGNALED(res->status))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(res->status));
	else
		snprintf(buf, size, "status %d", res->status);
}

static bool hook_succeeded(const hook_result *res)
{
	return !res->timed_out && WIFEXITED(res->status) && WEXITSTATUS(res->status) == 0;
}

/* "NAME THUMBPRINT COMMAND: exit N" and the output on the following lines. */
static void audit_hook(cs_store *store, const char *name, const cs_cert *cert, const char *cmd,
		       const char *outcome, const hook_result *res)
{
	char *detail = NULL;

	if (asprintf(&detail, "%s %s %s: %s%s%s%s", name, cert->sha1, cmd, outcome,
		     res->len > 0 ? "\n" : "", res->output,
		     res->truncated ? "\n[output truncated at 4 KiB]" : "") < 0)
		return;
	/* The assignment is done; a failure to log must not undo it or hide the hook's own outcome.
	 */
	(void)cs_db_audit_insert(store, "hook", detail, NULL);
	free(detail);
}

static cs_rv run_hook(cs_store *store, const char *name, const cs_cert *cert,
		      const cs_usage_conf *uc, cs_err *err)
{
	char env_usage[128], env_thumb[64], *env_dir = NULL, outcome[64];
	char *envp[5] = {0};
	hook_result *res = calloc(1, sizeof(*res));
	char *dir = cs_usage_dir(store, name);
	hook_argv a = {0};
	cs_rv rv;

	if (res == NULL || dir == NULL || asprintf(&env_dir, "CERTSTORE_PUBLISH_DIR=%s", dir) < 0) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		env_dir = NULL;
		goto out;
	}
	snprintf(env_usage, sizeof(env_usage), "CERTSTORE_USAGE=%s", name);
	snprintf(env_thumb, sizeof(env_thumb), "CERTSTORE_THUMBPRINT=%s", cert->sha1);
	envp[0] = env_usage, envp[1] = env_thumb, envp[2] = env_dir, envp[3] = (char *)HOOK_PATH;
	rv = hook_split(uc->on_assign, &a, err);
	if (rv == CS_OK && a.argv[0][0] != '/')
		rv = cs_err_set(err, CS_ERR_HOOK, "%s is not an absolute path", a.argv[0]);
	if (rv == CS_OK && access(a.argv[0], X_OK) != 0)
		rv = cs_err_set(err, CS_ERR_HOOK, "%s: %s", a.argv[0], strerror(errno));
	if (rv == CS_OK)
		rv = spawn(a.argv, envp, uc->hook_timeout, res, err);
	if (rv != CS_OK) {
		snprintf(res->output, sizeof(res->output), "not run: %s", err->msg);
		res->len = strlen(res->output);
		audit_hook(store, name, cert, uc->on_assign, "failed", res);
		goto out;
	}
	describe_status(res, outcome, sizeof(outcome));
	audit_hook(store, name, cert, uc->on_assign, outcome, res);
	if (!hook_succeeded(res))
		rv = cs_err_set(err, CS_ERR_HOOK, "%s: %s%s%.*s", uc->on_assign, outcome,
				res->len > 0 ? ": " : "", (int)strcspn(res->output, "\n"),
				res->output);
out:
	hook_argv_clear(&a);
	free(env_dir);
	free(dir);
	free(res);
	return rv;
}

cs_rv cs_usage_run_hooks(cs_store *store, const char *name, const cs_cert *cert, cs_err *err)
{
	cs_usage_conf uc = {0};
	cs_err why = {0};
	cs_rv rv;

	rv = cs_usage_conf_load(store, name, &uc, err);
	if (rv == CS_OK && uc.on_assign != NULL && run_hook(store, name, cert, &uc, &why) != CS_OK)
		rv = cs_err_set(err, CS_ERR_HOOK,
				"usage %s: on-assign hook failed: %s; the assignment stays (see "
				"`certstore log --usage %s`)",
				name, why.msg, name);
	cs_usage_conf_clear(&uc);
	return rv;
}
