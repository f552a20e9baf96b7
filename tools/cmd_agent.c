/*
 * cmd_agent.c - `certstore agent [--socket PATH]`: the key agent (agent.h)
 * in the foreground until SIGTERM or SIGINT.
 */
#include "cli.h"
#include "agent.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct agent_args {
	const char *socket;
	bool help;
} agent_args;

static const struct option longopts[] = {
    {"socket", required_argument, NULL, 'S'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static volatile sig_atomic_t stop_flag;

/* systemd's socket activation (sd_listen_fds(3), without libsystemd): one
 * listening Unix socket as fd 3 when LISTEN_PID is this process; else -1. */
#define SD_LISTEN_FDS_START 3
static int activated_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	struct stat st;
	int listening = 0;
	socklen_t len = sizeof(listening);

	if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != (long)getpid() ||
	    strcmp(fds, "1") != 0)
		return -1;
	if (fstat(SD_LISTEN_FDS_START, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    getsockopt(SD_LISTEN_FDS_START, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
	    !listening)
		return -1;
	return SD_LISTEN_FDS_START;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static cs_rv run_agent(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
		       cs_err *err)
{
	agent_args args = {.socket = CS_AGENT_DEFAULT_SOCKET};
	const char *store_dir;
	struct sigaction sa;
	int lfd;
	cs_rv rv = CS_OK;
	int c;

	while ((c = cli_next_option(cmd, argc, argv, &rv, err)) >= 0)
		if (c == 'S')
			args.socket = optarg;
	if (c == CLI_OPT_STOP)
		return rv;
	rv = cli_expect_operands(cmd, argc, argv, 0, 0, err);
	if (rv != CS_OK)
		return rv;
	/* No SA_RESTART: the signal must interrupt accept(). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	store_dir = ctx->store_dir != NULL ? ctx->store_dir : cs_store_default_dir();
	lfd = activated_socket();
	/* The variables are for this process only, not for hooks it might run. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (lfd >= 0)
		return cs_agent_serve_fd(store_dir, lfd, &stop_flag, err);
	return cs_agent_serve(store_dir, args.socket, &stop_flag, err);
}

const cli_command cmd_agent = {
    .name = "agent",
    .summary = "sign and decrypt for TLS server workers that may not open the key token",
    .usage = "Usage: certstore agent [--socket PATH]\n"
	     "\n"
	     "Holds the store's key token open and performs private-key operations\n"
	     "for processes on a Unix socket (default " CS_AGENT_DEFAULT_SOCKET "), so\n"
	     "that TLS server workers running as an unprivileged user can use a key\n"
	     "without access to the token or its PIN.  A peer may use the key of a\n"
	     "certificate when it runs as root or as the store's owner, or when the\n"
	     "certificate serves a usage whose [usage.NAME] section in certstore.conf\n"
	     "says 'group = G' and the peer is in group G.  Point the certstore\n"
	     "provider at the socket with 'agent = PATH' in its openssl.cnf section.\n"
	     "Runs in the foreground until SIGTERM or SIGINT.  Started by systemd's\n"
	     "socket activation (certstore-agent.socket), it serves the socket it is\n"
	     "given and --socket is ignored.\n"
	     "\n"
	     "Options:\n"
	     "  -S, --socket PATH    the socket to listen on (its directory must exist)\n"
	     "  -h, --help           this help\n",
    .shortopts = "S:h",
    .longopts = longopts,
    .run = run_agent,
};
