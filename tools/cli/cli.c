/*
 * cli.c - helpers shared by the certstore subcommands.
 */
#include "cli.h"
#include "cli_keys.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- options ------------------------------------------------------------ */

void cli_reset_options(void)
{
	/* 0, not 1: glibc then also forgets the state of the previous argv. */
	optind = 0;
	opterr = 0;
}

__attribute__((format(printf, 3, 0))) static cs_rv vusage_error(const cli_command *cmd, cs_err *err,
								const char *fmt, va_list ap)
{
	char what[512];

	vsnprintf(what, sizeof(what), fmt, ap);
	return cs_err_set(err, CS_ERR_USAGE, "%s: %s (see 'certstore %s --help')", cmd->name, what,
			  cmd->name);
}

cs_rv cli_usage_error(const cli_command *cmd, cs_err *err, const char *fmt, ...)
{
	va_list ap;
	cs_rv rv;

	va_start(ap, fmt);
	rv = vusage_error(cmd, err, fmt, ap);
	va_end(ap);
	return rv;
}

/* The option getopt just refused, as the user typed it. */
static const char *refused_option(char **argv)
{
	static char shortopt[3];

	if (optopt == 0)
		return argv[optind - 1];
	shortopt[0] = '-';
	shortopt[1] = (char)optopt;
	shortopt[2] = '\0';
	return shortopt;
}

int cli_next_option(const cli_command *cmd, int argc, char **argv, cs_rv *rv, cs_err *err)
{
	char shortopts[64];
	int c;

	/* A leading ':' makes getopt tell a missing argument (':') from an unknown option. */
	snprintf(shortopts, sizeof(shortopts), ":%s", cmd->shortopts);
	c = getopt_long(argc, argv, shortopts, cmd->longopts, NULL);
	switch (c) {
	case -1:
		return CLI_OPT_END;
	case 'h':
		fputs(cmd->usage, stdout);
		*rv = CS_OK;
		return CLI_OPT_STOP;
	case ':':
		/* The option is the last argument, whether long or short. */
		*rv = cli_usage_error(cmd, err, "option '%s' needs an argument", argv[optind - 1]);
		return CLI_OPT_STOP;
	case '?':
		*rv = cli_usage_error(cmd, err, "unknown option '%s'", refused_option(argv));
		return CLI_OPT_STOP;
	default:
		return c;
	}
}

cs_rv cli_expect_operands(const cli_command *cmd, int argc, char **argv, int min, int max,
			  cs_err *err)
{
	int n = argc - optind;

	if (n < min)
		return cli_usage_error(cmd, err, "missing operand");
	if (max >= 0 && n > max)
		return cli_usage_error(cmd, err, "unexpected operand '%s'", argv[optind + max]);
	return CS_OK;
}

bool cli_option_store(const cli_option *options, void *args, int c)
{
	const cli_option *o;

	for (o = options; o->opt != 0 && o->opt != c; o++)
		;
	if (o->kind == CLI_VALUE)
		*(const char **)((char *)args + o->offset) = optarg;
	else if (o->kind == CLI_FLAG)
		*(bool *)((char *)args + o->offset) = true;
	return o->opt != 0;
}

cs_rv cli_parse_options(const cli_command *cmd, int argc, char **argv, const cli_option *options,
			void *args, bool *help, cs_err *err)
{
	cs_rv rv = CS_OK;
	int c;

	while ((c = cli_next_option(cmd, argc, argv, &rv, err)) >= 0)
		cli_option_store(options, args, c);
	*help = c == CLI_OPT_STOP && rv == CS_OK;
	return rv;
}

cs_rv cli_check_required(const cli_command *cmd, const cli_option *options, const void *args,
			 cs_err *err)
{
	for (const cli_option *o = options; o->opt != 0; o++)
		if (o->missing != NULL &&
		    *(const char *const *)((const char *)args + o->offset) == NULL)
			return cli_usage_error(cmd, err, "%s", o->missing);
	return CS_OK;
}

void cli_print_error(const cs_err *err)
{
	if (err->msg[0] != '\0')
		fprintf(stderr, "certstore: %s\n", err->msg);
}

/* ---- the store ---------------------------------------------------------- */

cs_rv cli_open_store(const cli_ctx *ctx, int flags, cs_store **out, cs_err *err)
{
	return cs_store_open(ctx->store_dir, flags, out, err);
}

cs_rv cli_run_with_store(const cli_ctx *ctx, const cli_store_job *job, cs_err *err)
{
	cli_keys keys = {0};
	cs_store *store = NULL;
	cs_rv rv = cli_open_store(ctx, job->open_flags, &store, err);

	if (rv == CS_OK && job->key_status)
		cli_keys_attach_checker(store, &keys);
	if (rv == CS_OK)
		rv = job->act(store, job->arg, err);
	/* The store first: its key checker holds the token keys owns. */
	cs_store_close(store);
	cli_keys_close(&keys);
	return rv;
}

const struct option cli_json_only_longopts[] = {
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

cs_rv cli_run_json_only(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			cs_err *err)
{
	const cli_option options[] = {{'j', CLI_FLAG, 0, NULL}, {0}};
	cli_store_job job = *cmd->on_store;
	bool json = false, help = false;
	cs_rv rv = cli_parse_options(cmd, argc, argv, options, &json, &help, err);

	if (rv != CS_OK || help)
		return rv;
	rv = cli_expect_operands(cmd, argc, argv, 0, 0, err);
	if (rv != CS_OK)
		return rv;
	job.arg = &json;
	return cli_run_with_store(ctx, &job, err);
}

cs_rv cli_parse_store_name(const char *name, cs_store_id *out, cs_err *err)
{
	*out = CS_STORE_NONE;
	if (name == NULL)
		return CS_OK;
	return cs_store_id_parse(name, out, err);
}

static void print_matches(const cs_cert_list *matches)
{
	for (size_t i = 0; i < matches->n; i++) {
		const cs_cert *c = matches->items[i];

		printf("%s  %-10s  %s\n", c->sha1, cs_store_id_name(c->store), c->subject);
	}
}

cs_rv cli_find_cert(cs_store *store, const char *id, cs_store_id sid, cs_cert **out, cs_err *err)
{
	cs_find_opts opts = {.store = sid, .include_archived = true, .by_cn = true};
	cs_cert_list matches = {0};
	cs_rv rv;

	rv = cs_store_find_one(store, id, &opts, out, &matches, err);
	if (rv == CS_ERR_AMBIGUOUS)
		print_matches(&matches);
	cs_cert_list_clear(&matches);
	return rv;
}

/* ---- formatting --------------------------------------------------------- */

void cli_format_date(int64_t t, char buf[static 11])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, 11, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, 11, "?");
}

void cli_format_time(int64_t t, char buf[static 21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 21, "?");
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

cs_rv cli_parse_time(const char *s, int64_t *out, cs_err *err)
{
	struct tm tm = {0};
	const char *end;

	if ((s[0] == '@' || s[0] == '+') && all_digits(s + 1) && strlen(s + 1) <= 12) {
		*out = strtoll(s + 1, NULL, 10) + (s[0] == '+' ? (int64_t)cs_now() : 0);
		return CS_OK;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end != NULL && *end == '\0') {
		*out = (int64_t)timegm(&tm);
		return CS_OK;
	}
	return cs_err_set(err, CS_ERR_USAGE,
			  "bad time '%s': use ISO 8601 UTC (2026-11-22T10:00:00Z), @EPOCH or "
			  "+SECONDS",
			  s);
}

cs_rv cli_write_stdout(const void *data, size_t len, cs_err *err)
{
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "writing to standard output: %s",
				  strerror(errno));
	return CS_OK;
}

/* ---- JSON --------------------------------------------------------------- */

void cli_json_add_string(json_object *obj, const char *key, const char *s)
{
	json_object_object_add(obj, key, s ? json_object_new_string(s) : NULL);
}

void cli_json_add_int(json_object *obj, const char *key, int64_t v)
{
	json_object_object_add(obj, key, json_object_new_int64(v));
}

void cli_json_add_bool(json_object *obj, const char *key, bool v)
{
	json_object_object_add(obj, key, json_object_new_boolean(v));
}

void cli_json_add_time(json_object *obj, const char *key, int64_t t)
{
	char buf[21];

	cli_format_time(t, buf);
	cli_json_add_string(obj, key, buf);
}

json_object *cli_json_cert(const cs_cert *cert)
{
	json_object *obj = json_object_new_object();

	cli_json_add_string(obj, "store", cs_store_id_name(cert->store));
	cli_json_add_string(obj, "thumbprint", cert->sha1);
	cli_json_add_string(obj, "sha256", cert->sha256);
	cli_json_add_string(obj, "friendly_name", cert->friendly_name);
	cli_json_add_string(obj, "subject", cert->subject);
	cli_json_add_string(obj, "issuer", cert->issuer);
	cli_json_add_string(obj, "serial", cert->serial);
	cli_json_add_time(obj, "not_before", cert->not_before);
	cli_json_add_time(obj, "not_after", cert->not_after);
	cli_json_add_bool(obj, "key", cert->key_uri != NULL);
	cli_json_add_string(obj, "key_uri", cert->key_uri);
	cli_json_add_bool(obj, "exportable", cert->exportable);
	cli_json_add_bool(obj, "archived", cert->archived);
	cli_json_add_time(obj, "added", cert->added);
	return obj;
}

json_object *cli_json_status(const cs_status_report *report)
{
	json_object *obj = json_object_new_object();
	json_object *chain = json_object_new_array();

	cli_json_add_string(obj, "status", cs_status_name(report->status));
	cli_json_add_string(obj, "detail", report->detail);
	cli_json_add_string(obj, "key_status", cs_status_name(report->key_status));
	for (size_t i = 0; i < report->chain.n; i++) {
		const cs_cert *c = report->chain.items[i];
		json_object *elem = json_object_new_object();

		cli_json_add_string(elem, "subject", c->subject);
		cli_json_add_string(elem, "thumbprint", c->sha1);
		cli_json_add_string(elem, "store",
				    c->store == CS_STORE_NONE ? NULL : cs_store_id_name(c->store));
		json_object_array_add(chain, elem);
	}
	json_object_object_add(obj, "chain", chain);
	return obj;
}

cs_rv cli_json_print(json_object *obj, cs_err *err)
{
	const char *text;
	cs_rv rv;

	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_SPACED |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	rv = cli_write_stdout(text, strlen(text), err);
	if (rv == CS_OK)
		rv = cli_write_stdout("\n", 1, err);
	json_object_put(obj);
	return rv;
}
