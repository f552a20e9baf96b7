/*
 * cmd_init.c - `certstore init [--module M --token URI [--pin-file F]]`
 *
 * Creates the store and its key token: the embedded SoftHSM2 token without
 * options, else the [token] section for a vendor token that must already
 * open with the given PIN.  A store that already has a token is left alone.
 */
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli.h"
#include "keys.h"

typedef struct init_args {
	const char *module;
	const char *token;
	const char *pin_file;
	bool help;
} init_args;

static const struct option longopts[] = {
	{"module", required_argument, NULL, 'm'},
	{"token", required_argument, NULL, 't'},
	{"pin-file", required_argument, NULL, 'p'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const cli_option init_options[] = {
	{'m', CLI_VALUE, offsetof(init_args, module), NULL},
	{'t', CLI_VALUE, offsetof(init_args, token), NULL},
	{'p', CLI_VALUE, offsetof(init_args, pin_file), NULL},
	{0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, init_args *args, cs_err *err)
{
	cs_rv rv = cli_parse_options(cmd, argc, argv, init_options, args, &args->help, err);

	if (rv != CS_OK || args->help)
		return rv;
	rv = cli_expect_operands(cmd, argc, argv, 0, 0, err);
	if (rv == CS_OK && (args->module == NULL) != (args->token == NULL))
		rv = cli_usage_error(cmd, err, "--module and --token go together");
	if (rv == CS_OK && args->pin_file != NULL && args->module == NULL)
		rv = cli_usage_error(cmd, err, "--pin-file goes with --module and --token");
	return rv;
}

/* Idempotence: a store whose certstore.conf already names a token. */
static cs_rv check_no_token(const char *dir, cs_err *err)
{
	cs_token_config *cfg = NULL;
	cs_err ignored = {0};

	if (cs_token_config_load(dir, &cfg, &ignored) != CS_OK)
		return CS_OK;
	cs_token_config_free(cfg);
	return cs_err_set(err, CS_ERR_DUPLICATE,
			  "%s is already a store with a key token (see %s/certstore.conf); "
			  "nothing changed",
			  dir, dir);
}

static cs_rv init_vendor(const char *dir, const init_args *args, cs_err *err)
{
	char pin[PATH_MAX];
	cs_rv rv;

	/* The pin file as the admin named it, from here, not from the store dir. */
	if (args->pin_file != NULL && realpath(args->pin_file, pin) == NULL)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "pin file %s: no such file",
				  args->pin_file);
	rv = cs_token_init_module(dir, args->module, args->token, args->pin_file ? pin : NULL, err);
	if (rv == CS_OK)
		printf("key token: %s in module %s\n", args->token, args->module);
	return rv;
}

static cs_rv init_store(const char *dir, const init_args *args, cs_err *err)
{
	struct stat st;
	bool existed = stat(dir, &st) == 0;
	cs_store *store = NULL;
	cs_rv rv;

	rv = cs_store_open(dir, CS_OPEN_CREATE, &store, err);
	if (rv != CS_OK)
		return rv;
	printf("%s store %s\n", existed ? "using the existing" : "created", dir);
	if (args->module != NULL) {
		rv = init_vendor(dir, args, err);
	} else {
		rv = cs_token_init_softhsm(dir, err);
		if (rv == CS_OK)
			printf("key token: SoftHSM2 token 'certstore' in %s/token "
			       "(user PIN in %s/pin, mode 0600)\n",
			       dir, dir);
	}
	if (rv == CS_OK)
		rv = cs_audit_add(store, "init",
				  args->module ? args->module : "embedded SoftHSM2 token", err);
	cs_store_close(store);
	return rv;
}

static cs_rv run_init(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
		      cs_err *err)
{
	init_args args = {0};
	const char *dir = ctx->store_dir ? ctx->store_dir : cs_store_default_dir();
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &args, err);
	if (rv != CS_OK || args.help)
		return rv;
	rv = check_no_token(dir, err);
	if (rv == CS_OK)
		rv = init_store(dir, &args, err);
	return rv;
}

const cli_command cmd_init = {
	.name = "init",
	.summary = "create the store and its key token",
	.usage = "Usage: certstore init [--module MODULE --token URI [--pin-file FILE]]\n"
		 "\n"
		 "Creates the store directory and database, and its key token.\n"
		 "\n"
		 "Without options the key token is the embedded SoftHSM2 token: a new\n"
		 "token labelled 'certstore' kept under the store directory (token/), with\n"
		 "a random user PIN written to the store's 'pin' file (mode 0600).\n"
		 "\n"
		 "With --module and --token, an existing token of another PKCS#11 module\n"
		 "(an HSM) becomes the key token: the pin file must be a regular file of\n"
		 "mode 0600 or 0400 owned by the store's owner, and the token must open\n"
		 "and accept the PIN before certstore.conf is written.\n"
		 "\n"
		 "Options:\n"
		 "  -m, --module MODULE  PKCS#11 module: a path, or a p11-kit module name\n"
		 "  -t, --token URI      the token, as an RFC 7512 URI (pkcs11:token=...)\n"
		 "  -p, --pin-file FILE  the user PIN, one line (never on the command line)\n"
		 "  -h, --help           this help\n"
		 "\n"
		 "Exit status: 0 when created; 7 when the store already has a key token\n"
		 "(nothing is changed); 9 when the module or token cannot be used; 10 when\n"
		 "the PIN is wrong; 8 when the pin file or store directory is refused.\n",
	.shortopts = "m:t:p:h",
	.longopts = longopts,
	.run = run_init,
};
