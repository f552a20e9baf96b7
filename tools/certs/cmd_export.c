/*
 * cmd_export.c - `certstore export ID [--store S] [--format pem|der|p7b|keyref] [--chain] [-o
 * FILE]`
 */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "cli_keys.h"
#include "cli_password.h"
#include "pkcs12.h"
#include "usage.h"

typedef struct export_args {
	const char *id;
	const char *store_name;
	const char *format_name;
	const char *output;
	cli_password_src password; /* pfx only */
	bool chain;
	bool legacy; /* pfx only */
	bool help;
} export_args;

static const struct option longopts[] = {
	{"store", required_argument, NULL, 's'},
	{"format", required_argument, NULL, 'f'},
	{"chain", no_argument, NULL, 'c'},
	{"output", required_argument, NULL, 'o'},
	{"password-file", required_argument, NULL, 'P'},
	{"password-env", required_argument, NULL, 'E'},
	{"legacy", no_argument, NULL, 'L'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, export_args *args,
			cs_err *err)
{
	cs_rv rv = CS_OK;
	int c;

	while ((c = cli_next_option(cmd, argc, argv, &rv, err)) >= 0) {
		if (c == 's')
			args->store_name = optarg;
		else if (c == 'f')
			args->format_name = optarg;
		else if (c == 'c')
			args->chain = true;
		else if (c == 'o')
			args->output = optarg;
		else if (c == 'P')
			args->password.file = optarg;
		else if (c == 'E')
			args->password.env = optarg;
		else if (c == 'L')
			args->legacy = true;
	}
	if (c == CLI_OPT_STOP) {
		args->help = rv == CS_OK;
		return rv;
	}
	rv = cli_expect_operands(cmd, argc, argv, 1, 1, err);
	if (rv == CS_OK)
		args->id = argv[optind];
	return rv;
}

/* True when data is not text a terminal can show (DER, or PKCS#7 in DER). */
static bool is_binary(const cs_bytes *data)
{
	for (size_t i = 0; i < data->len; i++) {
		unsigned char b = data->data[i];

		if (b >= 0x7f || (b < 0x20 && b != '\n' && b != '\r' && b != '\t'))
			return true;
	}
	return false;
}

static cs_rv write_output(const export_args *args, const cs_bytes *data, int mode, cs_err *err)
{
	if (args->output != NULL)
		return cs_write_file_atomic(args->output, data->data, data->len, mode, err);
	if (is_binary(data) && isatty(STDOUT_FILENO))
		return cs_err_set(err, CS_ERR_USAGE,
				  "export: refusing to write binary %s to a terminal; "
				  "use -o FILE or redirect standard output",
				  args->format_name ? args->format_name : "data");
	return cli_write_stdout(data->data, data->len, err);
}

/* --format keyref: a PEM key reference naming the certificate's HSM key,
 * the key file a TLS server is given (the certstore provider decodes it). */
static cs_rv export_keyref(cs_store *store, const cs_cert *cert, const export_args *args,
			   cs_err *err)
{
	char *pem = NULL;
	cs_rv rv;

	if (args->chain)
		return cs_err_set(err, CS_ERR_USAGE, "export: --chain does not apply to keyref");
	rv = cs_keyref_pem(cs_store_dir(store), cert, &pem, err);
	if (rv != CS_OK)
		return rv;
	if (args->output != NULL)
		rv = cs_write_file_atomic(args->output, (const unsigned char *)pem, strlen(pem),
					  0644, err);
	else
		rv = cli_write_stdout((const unsigned char *)pem, strlen(pem), err);
	free(pem);
	return rv;
}

static cs_rv export_cert(cs_store *store, const export_args *args, cs_store_id sid,
			 cs_export_format fmt, cs_err *err)
{
	cs_cert *cert = NULL;
	cs_bytes data = {0};
	cs_rv rv;

	rv = cli_find_cert(store, args->id, sid, &cert, err);
	if (rv != CS_OK)
		return rv;
	if (args->format_name != NULL && strcmp(args->format_name, "keyref") == 0)
		rv = export_keyref(store, cert, args, err);
	else
		rv = cs_export_cert(store, cert, fmt, args->chain, &data, err);
	if (rv == CS_OK && data.data != NULL)
		rv = write_output(args, &data, 0644, err);
	cs_bytes_clear(&data);
	cs_cert_free(cert);
	return rv;
}

static bool is_pfx_format(const char *name)
{
	return name != NULL && (strcasecmp(name, "pfx") == 0 || strcasecmp(name, "p12") == 0);
}

/* The key leaves the token only when it is exportable: the token decides. */
static cs_rv export_pfx_cert(cs_store *store, cs_token *tok, const export_args *args,
			     const cs_cert *cert, cs_err *err)
{
	cs_pfx_export_opts opts = {args->chain, args->legacy};
	cs_bytes data = {0};
	char *password = NULL, prompt[512];
	cs_rv rv;

	bool exportable = true;

	/* Do not ask for a password only to be refused (the token still decides). */
	if (args->password.file == NULL && args->password.env == NULL &&
	    cs_key_is_exportable(tok, cert->key_uri, &exportable, NULL) == CS_OK && !exportable)
		return cs_err_set(err, CS_ERR_REFUSED,
				  "the private key of %s (%s) is not exportable", cert->subject,
				  cert->sha1);
	snprintf(prompt, sizeof(prompt), "Password for the PFX of %s", cert->subject);
	rv = cli_password_get(&args->password, prompt, true, &password, err);
	if (rv == CS_OK)
		rv = cs_pfx_export(store, tok, cert, password, &opts, &data, err);
	cli_password_free(password);
	if (rv == CS_OK)
		rv = write_output(args, &data, 0600, err);
	if (rv == CS_OK)
		cs_audit_add(store, "export-key", cert->sha1, NULL);
	cs_bytes_clear(&data);
	return rv;
}

static cs_rv export_pfx(const cli_ctx *ctx, const export_args *args, cs_store_id sid, cs_err *err)
{
	cs_store *store = NULL;
	cs_token *tok = NULL;
	cs_cert *cert = NULL;
	cs_rv rv;

	rv = cli_open_store(ctx, 0, &store, err);
	if (rv == CS_OK)
		rv = cli_find_cert(store, args->id, sid, &cert, err);
	if (rv == CS_OK && cert->key_uri == NULL)
		rv = cs_err_set(err, CS_ERR_KEY, "%s (%s) has no private key to export",
				cert->subject, cert->sha1);
	if (rv == CS_OK)
		rv = cli_token_open(store, &tok, err);
	if (rv == CS_OK)
		rv = export_pfx_cert(store, tok, args, cert, err);
	cs_cert_free(cert);
	cs_token_close(tok);
	cs_store_close(store);
	return rv;
}

typedef struct export_job {
	const export_args *args;
	cs_store_id sid;
	cs_export_format fmt;
} export_job;

static cs_rv export_act(cs_store *store, void *arg, cs_err *err)
{
	const export_job *job = arg;

	return export_cert(store, job->args, job->sid, job->fmt, err);
}

static cs_rv run_export(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			cs_err *err)
{
	export_args args = {0};
	cs_export_format fmt = CS_EXPORT_PEM;
	cs_store_id sid;
	export_job job = {&args, CS_STORE_NONE, CS_EXPORT_PEM};
	cli_store_job run = {CS_OPEN_READONLY, false, export_act, &job};
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &args, err);
	if (rv != CS_OK || args.help)
		return rv;
	rv = cli_parse_store_name(args.store_name, &sid, err);
	if (rv == CS_OK && is_pfx_format(args.format_name))
		return export_pfx(ctx, &args, sid, err);
	if (rv == CS_OK && (args.legacy || args.password.file || args.password.env))
		return cli_usage_error(cmd, err,
				       "--legacy and --password-* apply to --format pfx only");
	if (rv == CS_OK && args.format_name != NULL && strcmp(args.format_name, "keyref") != 0)
		rv = cs_export_format_parse(args.format_name, &fmt, err);
	if (rv != CS_OK)
		return rv;
	job.sid = sid;
	job.fmt = fmt;
	return cli_run_with_store(ctx, &run, err);
}

const cli_command cmd_export = {
	.name = "export",
	.summary = "write a certificate (and its chain) as PEM, DER, PKCS#7 or PFX, or a key "
		   "reference",
	.usage = "Usage: certstore export ID [--store STORE] [--format pem|der|p7b|keyref] "
		 "[--chain]\n"
		 "                        [-o FILE]\n"
		 "       certstore export ID --format pfx -o FILE [--password-file FILE |\n"
		 "                        --password-env VAR] [--chain] [--legacy]\n"
		 "\n"
		 "Writes the certificate named by ID to FILE, or to standard output\n"
		 "(binary formats are not written to a terminal).  ID is as for 'show'.\n"
		 "\n"
		 "--format pfx writes the certificate with its private key (PKCS#12, mode\n"
		 "0600), only when the key is exportable: the key token refuses otherwise\n"
		 "(exit 11).  Encryption is AES-256-CBC with PBKDF2 and a SHA-256 MAC;\n"
		 "--legacy writes 3DES/RC2-40 with a SHA-1 MAC for old consumers.  The\n"
		 "password comes from --password-file, --password-env or the terminal.\n"
		 "\n"
		 "Options:\n"
		 "  -s, --store STORE    look only in STORE\n"
		 "  -f, --format FORMAT  pem (default), der (also: cer), p7b (also: p7c),\n"
		 "                       pfx (also: p12), keyref (a PEM key reference to\n"
		 "                       the certificate's HSM key, for key files read\n"
		 "                       through the certstore provider)\n"
		 "  -c, --chain          add the chain as far as the store can build it\n"
		 "                       (leaf first; pem and p7b only)\n"
		 "  -o, --output FILE    write FILE (mode 0644, pfx 0600; replaced atomically)\n"
		 "  -P, --password-file FILE  pfx: the password is the first line of FILE\n"
		 "  -E, --password-env VAR    pfx: the password is in variable VAR\n"
		 "  -L, --legacy         pfx: PBE-SHA1-3DES / RC2-40 and a SHA-1 MAC\n"
		 "  -h, --help           this help\n",
	.shortopts = "s:f:co:P:E:Lh",
	.longopts = longopts,
	.run = run_export,
};
