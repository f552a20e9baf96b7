/*
 * tokenconf.c - naming a vendor token in certstore.conf (certstore init
 * --module ... --token ...): checked first, written only when it works.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keys_internal.h"

/* value as an NCONF double-quoted string ('"', '\\' and '$' escaped). */
static char *conf_quote(const char *value)
{
	char *out = malloc(strlen(value) * 2 + 3), *w = out;

	if (out == NULL)
		return NULL;
	*w++ = '"';
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\' || *p == '$')
			*w++ = '\\';
		*w++ = *p;
	}
	*w++ = '"';
	*w = '\0';
	return out;
}

static cs_rv conf_text(const cs_token_config *cfg, const char *pin_file, bool append, char **out,
		       cs_err *err)
{
	char *m = conf_quote(cfg->module), *t = conf_quote(cfg->token_uri);
	char *p = pin_file ? conf_quote(pin_file) : NULL;
	int n = -1;

	if (m != NULL && t != NULL && (pin_file == NULL || p != NULL))
		n = asprintf(out,
			     "%s# The key token: written by certstore init.\n"
			     "[token]\n"
			     "module = %s\n"
			     "token = %s\n"
			     "%s%s%s",
			     append ? "\n" : "", m, t, p ? "pin-file = " : "", p ? p : "",
			     p ? "\n" : "");
	free(m);
	free(t);
	free(p);
	if (n < 0) {
		*out = NULL;
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	return CS_OK;
}

/* The pin file passes cs_pin_read's rules and the token opens with it. */
static cs_rv check_token(const cs_token_config *cfg, cs_err *err)
{
	cs_token *tok = NULL;
	char *pin = NULL;
	cs_rv rv = CS_OK;

	if (cfg->pin_file != NULL) {
		rv = cs_pin_read(cfg, &pin, err);
		cs_pin_free(pin);
	}
	if (rv == CS_OK)
		rv = cs_token_open(cfg, &tok, err);
	cs_token_close(tok);
	return rv;
}

static char *resolve(const char *dir, const char *path)
{
	char *out;

	if (path[0] == '/')
		return strdup(path);
	return asprintf(&out, "%s/%s", dir, path) < 0 ? NULL : out;
}

cs_rv cs_token_init_module(const char *store_dir, const char *module, const char *token_uri,
			   const char *pin_file, cs_err *err)
{
	cs_token_config cfg = {
		(char *)store_dir, (char *)module, (char *)token_uri, NULL, NULL, NULL};
	char *confpath = NULL, *text = NULL;
	struct stat st;
	bool append;
	cs_rv rv;

	if (asprintf(&confpath, "%s/certstore.conf", store_dir) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	append = lstat(confpath, &st) == 0;
	if (append && cs_conf_has_token(confpath)) {
		rv = cs_err_set(err, CS_ERR_DUPLICATE, "%s already names a key token", confpath);
		goto out;
	}
	if (pin_file != NULL && (cfg.pin_file = resolve(store_dir, pin_file)) == NULL) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	rv = check_token(&cfg, err);
	if (rv == CS_OK)
		rv = conf_text(&cfg, pin_file, append, &text, err);
	if (rv == CS_OK)
		rv = cs_file_write_new(confpath, text, 0644, append, err);
out:
	free(cfg.pin_file);
	free(confpath);
	free(text);
	return rv;
}
