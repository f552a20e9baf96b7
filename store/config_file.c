/*
 * config_file.c - loading certstore.conf.
 */
#include "config_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

cs_rv cs_config_load(const char *store_dir, CONF **out, cs_err *err)
{
	CONF *conf = NCONF_new(NULL);
	char *path = NULL;
	long eline = 0;
	cs_rv rv = CS_OK;

	*out = NULL;
	if (conf == NULL || asprintf(&path, "%s/certstore.conf", store_dir) < 0) {
		NCONF_free(conf);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	if (access(path, F_OK) != 0 && errno == ENOENT)
		goto out; /* no file: nothing configured */
	if (NCONF_load(conf, path, &eline) <= 0) {
		if (eline > 0)
			rv =
			    cs_err_set(err, CS_ERR_STORE, "%s line %ld: syntax error", path, eline);
		else
			rv = cs_err_set(err, CS_ERR_STORE, "%s: cannot read it: %s", path,
					access(path, R_OK) != 0 ? strerror(errno) : "bad syntax");
		ERR_clear_error();
	}
out:
	free(path);
	if (rv == CS_OK)
		*out = conf;
	else
		NCONF_free(conf);
	return rv;
}

const char *cs_config_get(CONF *conf, const char *section, const char *key)
{
	STACK_OF(CONF_VALUE) * sect;
	CONF_VALUE *v;
	int i;

	if (conf == NULL)
		return NULL;
	ERR_set_mark(); /* a missing section queues an error; absence is normal */
	sect = NCONF_get_section(conf, section);
	ERR_pop_to_mark();
	for (i = 0; sect != NULL && i < sk_CONF_VALUE_num(sect); i++) {
		v = sk_CONF_VALUE_value(sect, i);
		if (strcmp(v->name, key) == 0)
			return v->value;
	}
	return NULL;
}
