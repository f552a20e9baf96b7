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
#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

#include "certstore.h"

/* Global settings, from the options before the subcommand. */
typedef struct cli_ctx {
	const char *store_dir; /* --store-dir / -d; NULL: $CERTSTORE_DIR or the default */
} cli_ctx;

typedef struct cli_command cli_command;
typedef struct cli_cert_command cli_cert_command;
typedef struct cli_store_job cli_store_job;

struct cli_command {
	const char *name;
	const char *summary; /* one line for `certstore --help` */
	const char *usage;   /* the full `certstore NAME --help` text */
	const char *shortopts;
	const struct option *longopts; /* must include {"help", no_argument, NULL, 'h'} */
	cs_rv (*run)(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
		     cs_err *err);
	/* With run = cli_run_cert_command: what the command does to its certificate. */
	const cli_cert_command *on_cert;
	/* With run = cli_run_json_only: what the command does with the store. */
	const cli_store_job *on_store;
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

/* CS_ERR_USAGE "NAME: <what>" plus a pointer to `certstore NAME --help`. */
cs_rv cli_usage_error(const cli_command *cmd, cs_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Checks the operand count (optind..argc-1) is within [min, max]; max < 0: no limit. */
cs_rv cli_expect_operands(const cli_command *cmd, int argc, char **argv, int min, int max,
			  cs_err *err);

/*
 * Where an option of a command goes in the command's arguments struct: a
 * CLI_VALUE option's optarg into the `const char *` field at offset, a
 * CLI_FLAG option's "given" into the `bool` field there.  A value option
 * whose `missing` is set is required: without it the command fails with
 * that usage error.  Lists end with {0}.
 */
typedef enum cli_option_kind { CLI_VALUE = 1, CLI_FLAG } cli_option_kind;

typedef struct cli_option {
	int opt;
	cli_option_kind kind;
	size_t offset; /* offsetof(the command's arguments struct, field) */
	const char *missing;
} cli_option;

/* Puts the option c (its optarg) into args as options says; false when options has no c. */
bool cli_option_store(const cli_option *options, void *args, int c);

/*
 * All the options of a command into args (cli_option_store); operands start
 * at optind on return.  *help is set when --help was printed (then CS_OK and
 * nothing else is to be done).
 */
cs_rv cli_parse_options(const cli_command *cmd, int argc, char **argv, const cli_option *options,
			void *args, bool *help, cs_err *err);

/* The usage error of the first required option (missing != NULL) not given. */
cs_rv cli_check_required(const cli_command *cmd, const cli_option *options, const void *args,
			 cs_err *err);

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
struct cli_store_job {
	int open_flags;
	bool key_status;
	cs_rv (*act)(cs_store *store, void *arg, cs_err *err);
	void *arg;
};

cs_rv cli_run_with_store(const cli_ctx *ctx, const cli_store_job *job, cs_err *err);

/*
 * The run of a subcommand whose only option is --json and that takes no
 * operand (usages, served, check): parses its command line, then runs
 * cmd->on_store (cli_run_with_store) with its arg pointing at a bool,
 * whether --json was given.
 */
cs_rv cli_run_json_only(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			cs_err *err);

/* Their long options: --json, --help (shortopts "jh"). */
extern const struct option cli_json_only_longopts[];

/* The end of their --help when the JSON is an array of objects. */
#define CLI_JSON_ARRAY_OPTIONS_HELP                                                                \
	"Options:\n"                                                                               \
	"  -j, --json  print a JSON array of objects\n"                                            \
	"  -h, --help  this help\n"

/*
 * A subcommand on one certificate, `NAME ID [--store STORE] [options]`
 * (show, verify, set, move, delete, export, repair).  Its cli_command has
 * run = cli_run_cert_command and on_cert pointing here; the command keeps
 * only what is its own: its options (in shortopts/longopts, -s/--store and
 * -h/--help among them, and here where they go) and what it does.
 */
struct cli_cert_command {
	const cli_option *options; /* besides --store; into an args_size struct */
	size_t args_size;
	int open_flags;	 /* CS_OPEN_* */
	bool key_status; /* as in cli_store_job */
	/* Optional: checks and converts the arguments once parsed, before the
	 * store is opened; may change *open_flags. */
	cs_rv (*prepare)(const cli_command *cmd, void *args, int *open_flags, cs_err *err);
	/* The command's work on the certificate ID named (cli_find_cert, in STORE). */
	cs_rv (*act)(cs_store *store, const cs_cert *cert, const void *args, cs_err *err);
};

/*
 * Parses ID, --store and cmd->on_cert's options (a usage error for an
 * unknown one, a missing operand or a missing required option), prepares,
 * opens the store, finds ID in it (cli_find_cert), acts, and closes.
 */
cs_rv cli_run_cert_command(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			   cs_err *err);

/* A command that shows one certificate (show, verify): `NAME ID [--store
 * STORE] [--json]`, its long options and where --json goes. */
typedef struct cli_cert_view_args {
	bool json;
} cli_cert_view_args;

extern const struct option cli_cert_view_longopts[];
extern const cli_option cli_cert_view_options[];

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
