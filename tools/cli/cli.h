/*
 * cli.h - what the certstore subcommands share: option parsing, opening the
 * store, resolving an ID, formatting times and JSON.
 *
 * A subcommand parses its arguments, calls libcertstore and prints.  It
 * returns a cs_rv (the exit code); on failure err->msg holds the message that
 * main prints as "certstore: <message>" on stderr.
 */
#ifndef CERTSTORE_CLI_H
#define CERTSTORE_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "certstore.h"

/* Global settings, from the options before the subcommand. */
typedef struct cli_ctx {
	const char *store_dir; /* --store-dir / -d; NULL: $CERTSTORE_DIR or the default */
} cli_ctx;

typedef struct cli_command cli_command;

struct cli_command {
	const char *name;
	const char *summary; /* one line for `certstore --help` */
	const char *usage;   /* the full `certstore NAME --help` text */
	const char *shortopts;
	const struct option *longopts; /* must include {"help", no_argument, NULL, 'h'} */
	cs_rv (*run)(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
		     cs_err *err);
};

/* Returned by cli_next_option besides an option character. */
enum {
	CLI_OPT_END = -1,  /* no more options: operands start at optind */
	CLI_OPT_STOP = -2, /* return *rv now: --help was printed, or the option was bad */
};

/*
 * The next option of a subcommand (getopt_long over cmd->shortopts and
 * cmd->longopts, so options and operands may be mixed).  --help prints
 * cmd->usage and gives CLI_OPT_STOP with *rv = CS_OK; an unknown option or a
 * missing argument gives CLI_OPT_STOP with *rv = CS_ERR_USAGE and err set.
 * Call cli_reset_options() before the first call for a new argv.
 */
int cli_next_option(const cli_command *cmd, int argc, char **argv, cs_rv *rv, cs_err *err);
void cli_reset_options(void);

/*
 * The whole command line of a subcommand whose only option is --json and
 * that takes no operand (usages, served, check): *json says whether it was
 * given.  *stop is set when the caller must return the result now (--help
 * printed, or a usage error).
 */
cs_rv cli_parse_json_only(const cli_command *cmd, int argc, char **argv, bool *json, bool *stop,
			  cs_err *err);

/* CS_ERR_USAGE "NAME: <what>" plus a pointer to `certstore NAME --help`. */
cs_rv cli_usage_error(const cli_command *cmd, cs_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Checks the operand count (optind..argc-1) is within [min, max]; max < 0: no limit. */
cs_rv cli_expect_operands(const cli_command *cmd, int argc, char **argv, int min, int max,
			  cs_err *err);

/* Where an option of a command goes: its value (value != NULL) or "given"
 * (flag != NULL).  Lists end with {0}. */
typedef struct cli_opt_slot {
	int opt;
	const char **value;
	bool *flag;
} cli_opt_slot;

/*
 * The arguments of a command on one certificate, `NAME ID [options]`: each
 * option into its slot, the one operand into *id.  *help is set when --help
 * was printed (then CS_OK and nothing else is set).
 */
cs_rv cli_parse_id_args(const cli_command *cmd, int argc, char **argv, const cli_opt_slot *slots,
			const char **id, bool *help, cs_err *err);

/* Prints "certstore: <err->msg>" on stderr (nothing when the message is empty). */
void cli_print_error(const cs_err *err);

/* Opens the store named by ctx.  Writers pass CS_OPEN_CREATE, readers CS_OPEN_READONLY. */
cs_rv cli_open_store(const cli_ctx *ctx, int flags, cs_store **out, cs_err *err);

/*
 * The skeleton of a subcommand once its arguments are parsed: open the store
 * (open_flags: CS_OPEN_*), with key_status let statuses look at the token
 * ("Missing private key" by looking, cli_keys_attach_checker), run act, and
 * close both whatever happened.  act's cs_rv is the command's.
 */
typedef struct cli_store_job {
	int open_flags;
	bool key_status;
	cs_rv (*act)(cs_store *store, void *arg, cs_err *err);
	void *arg;
} cli_store_job;

cs_rv cli_run_with_store(const cli_ctx *ctx, const cli_store_job *job, cs_err *err);

/* Parses an optional store name (NULL leaves *out CS_STORE_NONE). */
cs_rv cli_parse_store_name(const char *name, cs_store_id *out, cs_err *err);

/*
 * Resolves ID (thumbprint, prefix or friendly name) in `sid` (CS_STORE_NONE:
 * every store).  When ID matches several certificates, lists them on stdout
 * (thumbprint, store, subject) and returns CS_ERR_AMBIGUOUS.
 */
cs_rv cli_find_cert(cs_store *store, const char *id, cs_store_id sid, cs_cert **out, cs_err *err);

/* Formats t (seconds since the epoch, UTC): "2024-05-01" or "2024-05-01T12:00:00Z". */
void cli_format_date(int64_t t, char buf[static 11]);
void cli_format_time(int64_t t, char buf[static 21]);

/*
 * Parses a moment given on the command line: ISO 8601 UTC
 * ("2026-11-22T10:00:00Z"), "@EPOCH" (seconds since the epoch) or
 * "+SECONDS" (from now, i.e. cs_now()).  Anything else is CS_ERR_USAGE.
 */
cs_rv cli_parse_time(const char *s, int64_t *out, cs_err *err);

/* Writes all of data to stdout; a write error is CS_ERR_INTERNAL. */
cs_rv cli_write_stdout(const void *data, size_t len, cs_err *err);

/* ---- JSON --------------------------------------------------------------- */

/* Adds key: string, or key: null when s is NULL. */
void cli_json_add_string(json_object *obj, const char *key, const char *s);
void cli_json_add_int(json_object *obj, const char *key, int64_t v);
void cli_json_add_bool(json_object *obj, const char *key, bool v);
/* Adds key: "2024-05-01T12:00:00Z". */
void cli_json_add_time(json_object *obj, const char *key, int64_t t);
/* The store fields of a certificate (thumbprints, names, validity, properties). */
json_object *cli_json_cert(const cs_cert *cert);
/* {status, detail, chain: [{subject, thumbprint, store}]}. */
json_object *cli_json_status(const cs_status_report *report);
/* Prints obj (pretty) and a newline on stdout and drops the reference. */
cs_rv cli_json_print(json_object *obj, cs_err *err);
/* The `import --json` object for res: counts and one item per certificate,
 * its "file" from file_of(item index, arg).  Print with cli_json_print. */
json_object *cli_import_result_json(const cs_import_result *res,
				    const char *(*file_of)(size_t i, const void *arg),
				    const void *arg);

#endif /* CERTSTORE_CLI_H */
