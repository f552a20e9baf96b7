/*
 * config_file.c - reading certstore.conf.
 */
#include "config_file.h"

#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

cs_rv cs_config_open(const char *store_dir, bool missing_ok, CONF **out, cs_err *err)
{
	char *path = NULL;
	CONF *conf = NULL;
	long eline = 0;
	cs_rv rv = CS_OK;

	*out = NULL;
	if (asprintf(&path, "%s/certstore.conf", store_dir) < 0 ||
	    (conf = NCONF_new(NULL)) == NULL) {
		free(path);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	/* Only a file that is not there is "missing": a directory on the way
	 * closed to us (a worker and a root-only store) is EACCES, an error. */
	if (access(path, F_OK) != 0 && errno == ENOENT && missing_ok)
		goto out;
	if (NCONF_load(conf, path, &eline) <= 0) {
		if (eline > 0)
			rv = cs_err_set(err, CS_ERR_STORE, "%s line %ld: syntax error", path,
					eline);
		else
			rv = cs_err_set(err, CS_ERR_STORE, "%s: cannot read it (%s)", path,
					access(path, F_OK) == 0 || errno != ENOENT
						? "permission denied"
						: "no such file");
		ERR_clear_error();
	}
out:
	free(path);
	if (rv != CS_OK) {
		NCONF_free(conf);
		return rv;
	}
	*out = conf;
	return CS_OK;
}

const char *cs_config_get(const CONF *conf, const char *section, const char *key)
{
	const char *v;

	/* NCONF_get_string queues an error for a missing key; absence is normal here. */
	ERR_set_mark();
	v = NCONF_get_string(conf, section, key);
	ERR_pop_to_mark();
	return v;
}

typedef struct section_walk {
	const char *prefix;
	char **names;
	size_t n;
} section_walk;

IMPLEMENT_LHASH_DOALL_ARG_CONST(CONF_VALUE, section_walk);

static void collect_section(const CONF_VALUE *v, section_walk *w)
{
	char **grown;

	/* section headers are the entries whose name is NULL */
	if (v->name != NULL || strncmp(v->section, w->prefix, strlen(w->prefix)) != 0)
		return;
	grown = realloc(w->names, (w->n + 2) * sizeof(*grown));
	if (grown == NULL)
		return;
	w->names = grown;
	w->names[w->n++] = strdup(v->section);
	w->names[w->n] = NULL;
}

char **cs_config_sections(const CONF *conf, const char *prefix)
{
	section_walk w = {prefix, calloc(1, sizeof(char *)), 0};

	if (w.names == NULL || conf->data == NULL)
		return w.names;
	lh_CONF_VALUE_doall_section_walk(conf->data, collect_section, &w);
	return w.names;
}
