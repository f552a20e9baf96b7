/*
 * cmd_import_pfx.c - `certstore import FILE.pfx`: the key into the token,
 * the certificate into My bound to it, the chain to CA (cs_pfx_import does
 * all of it; this file finds the password and prints).
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/pkcs12.h>

#include "cli.h"
#include "cli_keys.h"
#include "cli_password.h"
#include "pkcs12.h"

bool cli_is_pfx(const char *path)
{
	cs_bytes data = {0};
	cs_cert_list certs = {0};
	cs_format fmt = CS_FORMAT_UNKNOWN;

	if (cs_read_file(path, &data, NULL) == CS_OK)
		cs_parse_certs(data.data, data.len, &fmt, &certs, NULL);
	cs_cert_list_clear(&certs);
	cs_bytes_clear(&data);
	return fmt == CS_FORMAT_PKCS12;
}

static void print_result(const char *path, const cs_import_result *res, const char *uri,
			 bool exportable, bool trust_root)
{
	for (size_t i = 0; i < res->n; i++) {
		const cs_import_item *it = &res->items[i];
		const char *store = cs_store_id_name(it->store);

		if (it->key_attached)
			printf("key attached to the certificate already in My: %s (%s)\n",
			       it->subject, it->sha1);
		else if (it->outcome == CS_IMPORT_ADDED)
			printf("added to %s: %s (%s)\n", store, it->subject, it->sha1);
		else if (it->outcome == CS_IMPORT_DUPLICATE && it->store == CS_STORE_ROOT &&
			 !trust_root)
			printf("already trusted (in Root): %s (%s)\n", it->subject, it->sha1);
		else if (it->outcome == CS_IMPORT_DUPLICATE)
			printf("duplicate, already in %s: %s (%s)\n", store, it->subject, it->sha1);
		else
			printf("skipped self-signed root %s (%s): to trust it, import "
			       "it with --store Root (or %s with --store Root next time)\n",
			       it->subject, it->sha1, path);
	}
	printf("private key: %s (%s)\n", uri, exportable ? "exportable" : "not exportable");
}

static const char *the_pfx(size_t i, const void *path)
{
	(void)i;
	return path;
}

/* The shape of `import --json` for certificates, with the key added. */
static cs_rv print_result_json(const char *path, const cs_import_result *res, const char *uri,
			       bool exportable, cs_err *err)
{
	json_object *obj = cli_import_result_json(res, the_pfx, path);
	json_object *key = json_object_new_object();

	cli_json_add_string(key, "uri", uri);
	cli_json_add_bool(key, "exportable", exportable);
	json_object_object_add(obj, "key", key);
	return cli_json_print(obj, err);
}

/* What the import into the store needs, the password already read. */
typedef struct pfx_job {
	const char *path;
	const cs_bytes *data;
	const char *password;
	const cli_pfx_import *o;
} pfx_job;

static cs_rv import_with_password(cs_store *store, void *arg, cs_err *err)
{
	const pfx_job *j = arg;
	const cli_pfx_import *o = j->o;
	const char *path = j->path;
	cs_pfx_import_opts opts = {o->friendly_name, o->exportable, o->trust_root};
	cs_import_result res = {0};
	cs_token *tok = NULL;
	cs_cert *leaf = NULL;
	char *uri = NULL;
	cs_rv rv;

	rv = cli_token_open(store, &tok, err);
	if (rv == CS_OK)
		rv = cs_pfx_import(store, tok, path, j->data->data, j->data->len, j->password,
				   &opts, &res, &uri, err);
	if (rv == CS_OK)
		rv = cs_store_find_by_thumbprint(store, CS_STORE_MY, res.items[0].sha1, &leaf, err);
	if (rv == CS_OK && o->json)
		rv = print_result_json(path, &res, uri, leaf->exportable, err);
	else if (rv == CS_OK)
		print_result(path, &res, uri, leaf->exportable, o->trust_root);
	cs_cert_free(leaf);
	free(uri);
	cs_import_result_clear(&res);
	cs_token_close(tok);
	return rv;
}

cs_rv cli_import_pfx(const cli_ctx *ctx, const char *path, const cli_pfx_import *o, cs_err *err)
{
	cli_password_src src = {o->password_file, o->password_env};
	cs_bytes data = {0};
	char *password = NULL, prompt[512];
	pfx_job job = {path, &data, NULL, o};
	cli_store_job store_job = {.act = import_with_password, .arg = &job};
	cs_rv rv;

	rv = cs_read_file(path, &data, err);
	snprintf(prompt, sizeof(prompt), "Password for %s", path);
	if (rv == CS_OK)
		rv = cli_password_get(&src, prompt, false, &password, err);
	job.password = password;
	/* the password first: no prompt waits with the store open */
	if (rv == CS_OK)
		rv = cli_run_with_store(ctx, &store_job, err);
	cli_password_free(password);
	cs_bytes_clear(&data);
	return rv;
}
