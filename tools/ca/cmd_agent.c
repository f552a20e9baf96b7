/*
 * cmd_agent.c - `certstore agent [--socket PATH]`: the key agent (agent.h)
 * in the foreground until SIGTERM or SIGINT.
 */
#include "cli.h"
#include "agent.h"

#include <signal.h>
#include <string.h>

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

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static cs_rv run_agent(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
		       cs_err *err)
{
	agent_args args = {.socket = CS_AGENT_DEFAULT_SOCKET};
	struct sigaction sa;
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
	return cs_agent_serve(ctx->store_dir != NULL ? ctx->store_dir : cs_store_default_dir(),
			      args.socket, NULL, &stop_flag, err);
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
		 "Runs in the foreground until SIGTERM or SIGINT.\n"
		 "\n"
		 "Options:\n"
		 "  -S, --socket PATH    the socket to listen on (its directory must exist)\n"
		 "  -h, --help           this help\n",
	.shortopts = "S:h",
	.longopts = longopts,
	.run = run_agent,
};
