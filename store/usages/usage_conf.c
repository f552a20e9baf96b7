/*
 * usage_conf.c - the [usage.NAME] sections of certstore.conf, and the group
 * that may read a usage's published files.
 */
#include "usage_conf.h"
#include "agent.h"
#include "config_file.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>

#define HOOK_TIMEOUT_DEFAULT 60

static const char *const known_keys[] = {"on-assign", "group", "hook-timeout", "previous-grace"};

void cs_usage_conf_clear(cs_usage_conf *uc)
{
	if (uc == NULL)
		return;
	free(uc->on_assign);
	free(uc->group);
	memset(uc, 0, sizeof(*uc));
}

/*
 * key in [section] exactly: cs_config_get (NCONF_get_string) would fall back
 * to the unnamed default section, and a top-level `group =` or `on-assign =`
 * must not silently apply to every usage.
 */
static const char *section_value(CONF *conf, const char *section, const char *key)
{
	STACK_OF(CONF_VALUE) * sect;
	CONF_VALUE *v;
	int i;

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

static bool known_key(const char *key)
{
	for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
		if (strcmp(known_keys[i], key) == 0)
			return true;
	return false;
}

/* A misspelt setting ("on_assign") would silently disable a hook: refuse it. */
static cs_rv check_keys(CONF *conf, const char *section, const char *path, cs_err *err)
{
	STACK_OF(CONF_VALUE) * sect;
	int i;

	ERR_set_mark(); /* a missing section queues an error; absence is normal */
	sect = NCONF_get_section(conf, section);
	ERR_pop_to_mark();

	for (i = 0; sect != NULL && i < sk_CONF_VALUE_num(sect); i++) {
		const char *key = sk_CONF_VALUE_value(sect, i)->name;
		char known[128] = "";

		if (known_key(key))
			continue;
		for (size_t k = 0; k < sizeof(known_keys) / sizeof(known_keys[0]); k++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
				 k > 0 ? ", " : "", known_keys[k]);
		return cs_err_set(err, CS_ERR_STORE, "%s: [%s]: unknown setting '%s' (known: %s)",
				  path, section, key, known);
	}
	return CS_OK;
}

/* A number of seconds in [min, 86400] for `key`, def when absent. */
static cs_rv parse_seconds(const char *s, const char *key, int min, int def, const char *path,
			   const char *section, int *out, cs_err *err)
{
	char *end = NULL;
	long v;

	*out = def;
	if (s == NULL)
		return CS_OK;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > 86400)
		return cs_err_set(err, CS_ERR_STORE,
				  "%s: [%s]: %s '%s' is not a number of seconds (%d-86400)", path,
				  section, key, s, min);
	*out = (int)v;
	return CS_OK;
}

static cs_rv dup_setting(const char *v, char **out, cs_err *err)
{
	*out = NULL;
	if (v == NULL || *v == '\0')
		return CS_OK;
	*out = strdup(v);
	return *out != NULL ? CS_OK : cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
}

cs_rv cs_usage_conf_load(cs_store *store, const char *name, cs_usage_conf *out, cs_err *err)
{
	CONF *conf = NULL;
	char section[80], path[4200];
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	snprintf(section, sizeof(section), "usage.%s", name);
	snprintf(path, sizeof(path), "%s/certstore.conf", store->dir);
	rv = cs_config_open(store->dir, true, &conf, err);
	if (rv == CS_OK)
		rv = check_keys(conf, section, path, err);
	if (rv == CS_OK)
		rv = parse_seconds(section_value(conf, section, "hook-timeout"), "hook-timeout", 1,
				   HOOK_TIMEOUT_DEFAULT, path, section, &out->hook_timeout, err);
	if (rv == CS_OK)
		rv = parse_seconds(section_value(conf, section, "previous-grace"), "previous-grace",
				   0, CS_AGENT_PREVIOUS_GRACE, path, section, &out->previous_grace,
				   err);
	if (rv == CS_OK)
		rv = dup_setting(section_value(conf, section, "on-assign"), &out->on_assign, err);
	if (rv == CS_OK)
		rv = dup_setting(section_value(conf, section, "group"), &out->group, err);
	NCONF_free(conf);
	if (rv != CS_OK)
		cs_usage_conf_clear(out);
	return rv;
}

cs_rv cs_group_resolve(const char *group, gid_t *gid, cs_err *err)
{
	struct group gr, *found = NULL;
	char buf[4096], *end = NULL;
	unsigned long n;

	if (getgrnam_r(group, &gr, buf, sizeof(buf), &found) == 0 && found != NULL) {
		*gid = found->gr_gid;
		return CS_OK;
	}
	n = strtoul(group, &end, 10);
	if (end != group && *end == '\0') {
		*gid = (gid_t)n;
		return CS_OK;
	}
	return cs_err_set(err, CS_ERR_STORE, "certstore.conf: group '%s' does not exist", group);
}

static cs_rv give(const char *path, gid_t gid, mode_t mode, cs_err *err)
{
	if (chown(path, (uid_t)-1, gid) != 0 || chmod(path, mode) != 0)
		return cs_err_set(err, CS_ERR_STORE, "%s: cannot give it to group %lu: %s", path,
				  (unsigned long)gid, strerror(errno));
	return CS_OK;
}

cs_rv cs_usage_conf_apply_group(const cs_usage_conf *uc, const char *dir, cs_err *err)
{
	char path[4200];
	struct dirent *e;
	cs_rv rv = CS_OK;
	gid_t gid = 0;
	DIR *d;

	if (uc->group == NULL)
		return CS_OK;
	rv = cs_group_resolve(uc->group, &gid, err);
	if (rv != CS_OK)
		return rv;
	d = opendir(dir);
	if (d == NULL)
		return cs_err_set(err, CS_ERR_STORE, "%s: %s", dir, strerror(errno));
	while (rv == CS_OK && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		rv = give(path, gid, 0640, err);
	}
	closedir(d);
	return rv == CS_OK ? give(dir, gid, 0750, err) : rv;
}
