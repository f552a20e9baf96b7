/*
 * acme_account.c - the ACME account of a profile: an EC P-256 key made in the
 * store's token the first time the profile is used, and
 * <store>/acme/NAME.account (0600) holding its key URI and the account URL:
 *
 *   key = pkcs11:...;id=...
 *   account = https://ca.example/acme/acct/123
 *
 * The account URL is informative: every session asks the CA for it again
 * (newAccount with the same key returns the existing account), so a CA that
 * forgot us, like a restarted pebble, simply makes a new one.
 */
#include "acme.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *account_path(const acme_session *s)
{
	char *path = NULL;

	if (asprintf(&path, "%s/acme/%s.account", cs_store_dir(s->ctx->store),
		     s->ctx->profile->name) < 0)
		return NULL;
	return path;
}

/* The value of "key = value" lines; NULL when absent. */
static char *read_value(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[2048], *v, *value = NULL;
	size_t n = strlen(key);

	while (f != NULL && value == NULL && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, key, n) != 0)
			continue;
		v = line + n;
		v += strspn(v, " \t");
		if (*v++ != '=')
			continue;
		value = strdup(v + strspn(v, " \t"));
	}
	if (f != NULL)
		fclose(f);
	return value;
}

static cs_rv write_account(const acme_session *s, const char *path, cs_err *err)
{
	char *dir = NULL, *text = NULL;
	cs_rv rv;

	if (asprintf(&dir, "%s/acme", cs_store_dir(s->ctx->store)) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rv = cs_err_set(err, CS_ERR_STORE, "%s: %s", dir, strerror(errno));
		free(dir);
		return rv;
	}
	free(dir);
	if (asprintf(&text, "# ACME account of CA profile %s (certstore)\nkey = %s\n%s%s%s",
		     s->ctx->profile->name, s->key_uri, s->kid ? "account = " : "",
		     s->kid ? s->kid : "", s->kid ? "\n" : "") < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	rv = cs_write_file_atomic(path, text, strlen(text), 0600, err);
	free(text);
	return rv;
}

static cs_rv make_key(acme_session *s, const char *path, cs_err *err)
{
	cs_key_spec spec;
	char label[128];
	cs_rv rv = cs_key_spec_parse("ec:p256", &spec, err);

	snprintf(label, sizeof(label), "certstore ACME account %s", s->ctx->profile->name);
	if (rv == CS_OK)
		rv = cs_key_generate(s->ctx->keys->token, &spec, label, false, &s->key_uri, NULL,
				     err);
	if (rv == CS_OK)
		rv = write_account(s, path, err);
	if (rv != CS_OK && s->key_uri != NULL) { /* no orphan key */
		cs_key_rollback(s->ctx->keys->token, s->key_uri, err);
		free(s->key_uri);
		s->key_uri = NULL;
	}
	if (rv == CS_OK)
		fprintf(stderr, "certstore: made the ACME account key for %s in the token\n",
			s->ctx->profile->name);
	return rv;
}

cs_rv acme_account_key(acme_session *s, cs_err *err)
{
	char *path = account_path(s);
	cs_rv rv = CS_OK;

	if (path == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	s->key_uri = read_value(path, "key");
	if (s->key_uri == NULL)
		rv = make_key(s, path, err);
	if (rv == CS_OK) {
		rv = enroll_load_key(s->ctx, s->key_uri, &s->key, err);
		if (rv != CS_OK)
			cs_err_prefix(err,
				      "the ACME account key named in %s (remove the file to "
				      "make a new account)",
				      path);
	}
	free(path);
	return rv;
}

cs_rv acme_account_save(acme_session *s, cs_err *err)
{
	char *path = account_path(s), *known;
	cs_rv rv = CS_OK;

	if (path == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	known = read_value(path, "account");
	if (known == NULL || s->kid == NULL || strcmp(known, s->kid) != 0)
		rv = write_account(s, path, err);
	free(known);
	free(path);
	return rv;
}
