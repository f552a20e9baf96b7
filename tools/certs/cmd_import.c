/*
 * cmd_import.c - `certstore import FILE... [--store S] [--friendly-name N] [--json]`
 *
 * Every file is read and parsed before the store is touched, so a bad file
 * fails the whole command with nothing changed; the certificates of all the
 * files then go to the store in one cs_import_certs call (one transaction).
 */
#include <stdlib.h>

#include "cli.h"
#include "cli_keys.h"

typedef struct import_args {
	const char *store_name;
	const char *friendly_name;
	cli_pfx_import pfx; /* --exportable, --password-file, --password-env */
	bool pfx_options;
	bool json;
	bool help; /* --help was printed: nothing else to do */
	char **files;
	int n_files;
} import_args;

/* The parsed certificates of every file, and which file each came from. */
typedef struct parsed_input {
	cs_cert_list certs;
	int *file_of; /* file_of[i]: index into args->files of certs.items[i] */
} parsed_input;

static const struct option longopts[] = {
	{"store", required_argument, NULL, 's'},
	{"friendly-name", required_argument, NULL, 'n'},
	{"json", no_argument, NULL, 'j'},
	{"exportable", no_argument, NULL, 'x'},
	{"password-file", required_argument, NULL, 'P'},
	{"password-env", required_argument, NULL, 'E'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const cli_option import_options[] = {
	{'s', CLI_VALUE, offsetof(import_args, store_name), NULL},
	{'n', CLI_VALUE, offsetof(import_args, friendly_name), NULL},
	{'j', CLI_FLAG, offsetof(import_args, json), NULL},
	{'x', CLI_FLAG, offsetof(import_args, pfx.exportable), NULL},
	{'P', CLI_VALUE, offsetof(import_args, pfx.password_file), NULL},
	{'E', CLI_VALUE, offsetof(import_args, pfx.password_env), NULL},
	{0},
};

static cs_rv parse_args(const cli_command *cmd, int argc, char **argv, import_args *args,
			cs_err *err)
{
	cs_rv rv = cli_parse_options(cmd, argc, argv, import_options, args, &args->help, err);

	if (rv != CS_OK || args->help)
		return rv;
	args->pfx_options = args->pfx.exportable || args->pfx.password_file != NULL ||
			    args->pfx.password_env != NULL;
	rv = cli_expect_operands(cmd, argc, argv, 1, -1, err);
	args->files = argv + optind;
	args->n_files = argc - optind;
	return rv;
}

/* Moves a copy of every certificate in file_certs into in (sharing the X509). */
static cs_rv append_certs(parsed_input *in, const cs_cert_list *file_certs, int file, cs_err *err)
{
	int *file_of;
	cs_rv rv;

	file_of = realloc(in->file_of, (in->certs.n + file_certs->n) * sizeof(*file_of));
	if (file_of == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	in->file_of = file_of;
	for (size_t i = 0; i < file_certs->n; i++) {
		cs_cert *copy = NULL;

		rv = cs_cert_from_x509(file_certs->items[i]->x509, &copy, err);
		if (rv == CS_OK)
			rv = cs_cert_list_push(&in->certs, copy, err);
		if (rv != CS_OK)
			return rv;
		in->file_of[in->certs.n - 1] = file;
	}
	return CS_OK;
}

static cs_rv parse_one_file(parsed_input *in, const char *path, int file, cs_err *err)
{
	cs_bytes data = {0};
	cs_cert_list certs = {0};
	cs_rv rv;

	rv = cs_read_file(path, &data, err);
	if (rv != CS_OK)
		goto out;
	rv = cs_parse_certs(data.data, data.len, NULL, &certs, err);
	if (rv != CS_OK) {
		cs_err_prefix(err, "%s", path);
		goto out;
	}
	rv = append_certs(in, &certs, file, err);
out:
	cs_cert_list_clear(&certs);
	cs_bytes_clear(&data);
	return rv;
}

static cs_rv parse_all_files(const import_args *args, parsed_input *in, cs_err *err)
{
	for (int i = 0; i < args->n_files; i++) {
		cs_rv rv = parse_one_file(in, args->files[i], i, err);

		if (rv != CS_OK)
			return rv;
	}
	return CS_OK;
}

/* The file an import item came from: items follow the order of the certificates. */
static const char *item_file(const import_args *args, const parsed_input *in,
			     const cs_import_result *res, size_t i)
{
	if (res->n != in->certs.n)
		return args->n_files == 1 ? args->files[0] : "FILE";
	return args->files[in->file_of[i]];
}

static void print_item(const cs_import_item *item, const char *file, bool root_named)
{
	const char *store = cs_store_id_name(item->store);

	switch (item->outcome) {
	case CS_IMPORT_ADDED:
		if (item->not_root)
			printf("added to %s, not to Root (Root takes only self-signed roots; a "
			       "CA issued this one): %s (%s)\n",
			       store, item->subject, item->sha1);
		else
			printf("added to %s: %s (%s)\n", store, item->subject, item->sha1);
		break;
	case CS_IMPORT_DUPLICATE:
		if (item->store == CS_STORE_ROOT && !root_named)
			printf("already trusted (in Root): %s (%s)\n", item->subject, item->sha1);
		else
			printf("duplicate, already in %s: %s (%s)\n", store, item->subject,
			       item->sha1);
		break;
	case CS_IMPORT_SKIPPED_ROOT:
		printf("skipped self-signed root %s (%s): to trust it, run "
		       "`certstore import %s --store Root`\n",
		       item->subject, item->sha1, file);
		break;
	}
}

typedef struct item_files {
	const import_args *args;
	const parsed_input *in;
	const cs_import_result *res;
} item_files;

static const char *file_of_item(size_t i, const void *arg)
{
	const item_files *f = arg;

	return item_file(f->args, f->in, f->res, i);
}

static cs_rv print_result_json(const import_args *args, const parsed_input *in,
			       const cs_import_result *res, cs_err *err)
{
	item_files files = {args, in, res};

	return cli_json_print(cli_import_result_json(res, file_of_item, &files), err);
}

/* Nothing added is a failure: only duplicates (7), or roots refused (6). */
static cs_rv import_verdict(const cs_import_result *res, cs_err *err)
{
	if (res->added > 0)
		return CS_OK;
	if (res->skipped_roots > 0)
		return cs_err_set(err, CS_ERR_TRUST_REFUSED,
				  "nothing imported: %zu self-signed root(s) skipped; "
				  "trust is only added with --store Root",
				  res->skipped_roots);
	return cs_err_set(err, CS_ERR_DUPLICATE,
			  "nothing imported: all %zu certificate(s) already in the store",
			  res->duplicates);
}

static cs_rv report(const import_args *args, const parsed_input *in, const cs_import_result *res,
		    cs_err *err)
{
	cs_rv rv = CS_OK;

	if (args->json)
		rv = print_result_json(args, in, res, err);
	else
		for (size_t i = 0; i < res->n; i++)
			print_item(&res->items[i], item_file(args, in, res, i),
				   args->store_name != NULL);
	if (rv != CS_OK)
		return rv;
	return import_verdict(res, err);
}

/* A PFX comes alone: its key and certificates are one import of their own. */
static cs_rv run_pfx(const cli_ctx *ctx, const cli_command *cmd, import_args *args, cs_err *err)
{
	cs_store_id sid = CS_STORE_NONE;
	cs_rv rv;

	if (args->n_files != 1)
		return cli_usage_error(cmd, err, "import a PFX file on its own");
	rv = cli_parse_store_name(args->store_name, &sid, err);
	if (rv != CS_OK)
		return rv;
	if (sid != CS_STORE_NONE && sid != CS_STORE_MY && sid != CS_STORE_ROOT)
		return cli_usage_error(cmd, err,
				       "a PFX's certificate goes to My; --store takes only Root "
				       "(to trust the PFX's root)");
	args->pfx.friendly_name = args->friendly_name;
	args->pfx.trust_root = sid == CS_STORE_ROOT;
	args->pfx.json = args->json;
	return cli_import_pfx(ctx, args->files[0], &args->pfx, err);
}

static bool any_pfx(const import_args *args)
{
	for (int i = 0; i < args->n_files; i++)
		if (cli_is_pfx(args->files[i]))
			return true;
	return false;
}

static cs_rv run_import(const cli_ctx *ctx, const cli_command *cmd, int argc, char **argv,
			cs_err *err)
{
	import_args args = {0};
	parsed_input in = {0};
	cs_import_opts opts = {0};
	cs_import_result res = {0};
	cs_store *store = NULL;
	cs_rv rv;

	rv = parse_args(cmd, argc, argv, &args, err);
	if (rv != CS_OK || args.help)
		return rv;
	if (any_pfx(&args))
		return run_pfx(ctx, cmd, &args, err);
	if (args.pfx_options)
		return cli_usage_error(cmd, err,
				       "--exportable and --password-* apply to PFX files only");
	rv = cli_parse_store_name(args.store_name, &opts.store, err);
	if (rv != CS_OK)
		goto out;
	opts.friendly_name = args.friendly_name;
	rv = parse_all_files(&args, &in, err);
	if (rv != CS_OK)
		goto out;
	rv = cli_open_store(ctx, CS_OPEN_CREATE, &store, err);
	if (rv != CS_OK)
		goto out;
	rv = cs_import_certs(store, &in.certs, &opts, &res, err);
	if (rv == CS_OK)
		rv = report(&args, &in, &res, err);
out:
	cs_import_result_clear(&res);
	cs_store_close(store);
	cs_cert_list_clear(&in.certs);
	free(in.file_of);
	return rv;
}

const cli_command cmd_import = {
	.name = "import",
	.summary = "add certificates from files (DER, PEM, .cer, .p7b), or a PFX with its key",
	.usage = "Usage: certstore import FILE... [--store STORE] [--friendly-name NAME] [--json]\n"
		 "       certstore import FILE.pfx [--exportable] [--password-file FILE |\n"
		 "                        --password-env VAR] [--friendly-name NAME] [--store "
		 "Root]\n"
		 "\n"
		 "Adds the certificates in FILEs (DER, PEM or PEM bundle, Base64 .cer,\n"
		 "PKCS#7 .p7b in DER or PEM) to the store, all files in one transaction:\n"
		 "either every certificate is added or none is.\n"
		 "\n"
		 "Without --store, end-entity certificates go to My and CA certificates to\n"
		 "CA; a self-signed root is skipped, because trusting it is the admin's\n"
		 "decision: name it with --store Root.  Root takes only self-signed\n"
		 "certificates: with --store Root, a certificate a CA issued (the server\n"
		 "certificate or intermediate of a chain) still goes to My or CA, and the\n"
		 "output says so.  Certificates already in their store are reported as\n"
		 "duplicates (a root already in Root as already trusted), not added again.\n"
		 "\n"
		 "A PFX (PKCS#12, modern or legacy encryption) is imported on its own: its\n"
		 "private key goes into the store's key token (not exportable unless\n"
		 "--exportable), its certificate into My bound to that key, and the other\n"
		 "certificates as above (its root to Root only with --store Root).  The\n"
		 "PFX's friendly name is kept unless --friendly-name is given.  The password\n"
		 "comes from --password-file, --password-env or a prompt on the terminal,\n"
		 "never from the command line.\n"
		 "\n"
		 "Options:\n"
		 "  -s, --store STORE          put every certificate in STORE (My, Root, CA,\n"
		 "                             Disallowed, Request, or an alias)\n"
		 "  -n, --friendly-name NAME   friendly name for the end-entity certificate\n"
		 "  -j, --json                 print the result as JSON\n"
		 "  -x, --exportable           PFX: let the key be exported again later\n"
		 "  -P, --password-file FILE   PFX: the password is the first line of FILE\n"
		 "  -E, --password-env VAR     PFX: the password is in environment variable VAR\n"
		 "  -h, --help                 this help\n"
		 "\n"
		 "Exit status: 0 when something was added; 7 when every certificate was\n"
		 "already there; 6 when nothing was added because roots were skipped;\n"
		 "5 when a file is unreadable or malformed (nothing is imported then).\n"
		 "For a PFX also: 10 wrong password, 9 key token problem (or a key type the\n"
		 "token cannot hold), 5 a PFX without a private key.\n",
	.shortopts = "s:n:jxP:E:h",
	.longopts = longopts,
	.run = run_import,
};
