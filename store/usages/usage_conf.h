/*
 * usage_conf.h - what certstore.conf says about one usage:
 *
 *   [usage.Default]
 *   on-assign = /usr/sbin/nginx -s reload
 *   group = www-data
 *   hook-timeout = 60
 *   previous-grace = 300
 *
 * Internal to libcertstore.
 */
#ifndef CS_USAGE_CONF_H
#define CS_USAGE_CONF_H

#include "internal.h"

typedef struct cs_usage_conf {
	char *on_assign;    /* the hook command line, NULL when none */
	char *group;	    /* group that may read the published files, NULL when none */
	int hook_timeout;   /* seconds a hook may run before it is killed */
	int previous_grace; /* seconds the usage's previous certificate stays
			     * usable by its group after a change (agent.h) */
} cs_usage_conf;

/*
 * Reads [usage.NAME] of the store's certstore.conf.  No file or no section
 * is an empty cs_usage_conf; an unknown setting or a bad value is
 * CS_ERR_STORE naming the file, the section and the setting.
 */
cs_rv cs_usage_conf_load(cs_store *store, const char *name, cs_usage_conf *out, cs_err *err);
void cs_usage_conf_clear(cs_usage_conf *uc);

/*
 * A group as certstore.conf names it: a group name, or a number (a gid that
 * has no name here).  The publisher and the agent both resolve it this way,
 * so the group that can read a usage's files is the group the agent grants.
 */
cs_rv cs_group_resolve(const char *group, gid_t *gid, cs_err *err);

/*
 * With uc->group set, gives dir and every file in it to that group, modes
 * 0750 and 0640 (nothing for others).  Without it, does nothing.
 */
cs_rv cs_usage_conf_apply_group(const cs_usage_conf *uc, const char *dir, cs_err *err);

#endif
