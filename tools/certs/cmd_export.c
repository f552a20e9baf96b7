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

/* Besides the ID and --store, which cli_run_cert_command takes. */
typedef struct export_args {
	const char *format_name;
	const char *output;
	cli_password_src password; /* pfx only */
	bool chain;
	bool legacy;	      /* pfx only */
	bool pfx;	      /* format_name says pfx */
	cs_export_format fmt; /* format_name parsed, when not pfx or keyref */
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

static cs_rv export_cert(cs_store *store, const cs_cert *cert, const export_args *args, cs_err *err)
{
	cs_bytes data = {0};
	cs_rv rv;

	if (args->format_name != NULL && strcmp(args->format_name, "keyref") == 0)
		rv = export_keyref(store, cert, args, err);
	else
		rv = cs_export_cert(store, cert, args->fmt, args->chain, &data, err);
	if (rv == CS_OK && data.data != NULL)
		rv = write_output(args, &data, 0644, err);
	cs_bytes_clear(&data);
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

static cs_rv export_pfx(cs_store *store, const cs_cert *cert, const export_args *args, cs_err *err)
{
	cs_token *tok = NULL;
	cs_rv rv;

	if (cert->key_uri == NULL)
		return cs_err_set(err, CS_ERR_KEY, "%s (%s) has no private key to export",
				  cert->subject, cert->sha1);
	rv = cli_token_open(store, &tok, err);
	if (rv == CS_OK)
		rv = export_pfx_cert(store, tok, args, cert, err);
	cs_token_close(tok);
	return rv;
}

static cs_rv export_act(cs_store *store, const cs_cert *cert, const void *arg, cs_err *err)
{
	const export_args *args = arg;

	if (args->pfx)
		return export_pfx(store, cert, args, err);
	return export_cert(store, cert, args, err);
}

/* A PFX is written from a store opened for writing: the key's export is audited. */
static cs_rv check_format(const cli_command *cmd, void *arg, int *open_flags, cs_err *err)
{
	export_args *args = arg;

	args->pfx = is_pfx_format(args->format_name);
	if (args->pfx) {
		*open_flags = 0;
		return CS_OK;
	}
	if (args->legacy || args->password.file || args->password.env)
		return cli_usage_error(cmd, err,
				       "--legacy and --password-* apply to --format pfx only");
	args->fmt = CS_EXPORT_PEM;
	if (args->format_name != NULL && strcmp(args->format_name, "keyref") != 0)
		return cs_export_format_parse(args->format_name, &args->fmt, err);
	return CS_OK;
}

static const cli_option export_options[] = {
	{'f', CLI_VALUE, offsetof(export_args, format_name), NULL},
	{'c', CLI_FLAG, offsetof(export_args, chain), NULL},
	{'o', CLI_VALUE, offsetof(export_args, output), NULL},
	{'P', CLI_VALUE, offsetof(export_args, password.file), NULL},
	{'E', CLI_VALUE, offsetof(export_args, password.env), NULL},
	{'L', CLI_FLAG, offsetof(export_args, legacy), NULL},
	{0},
};

static const cli_cert_command export = {
	.options = export_options,
	.args_size = sizeof(export_args),
	.open_flags = CS_OPEN_READONLY,
	.prepare = check_format,
	.act = export_act,
};

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
	.run = cli_run_cert_command,
	.on_cert = &export,
};
