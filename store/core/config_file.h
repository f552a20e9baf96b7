/*
 * config_file.h - <store>/certstore.conf, in OpenSSL NCONF syntax (what
 * admins know from openssl.cnf).  Sections: [token] (keys.h), [ca.NAME]
 * (CA profiles), [usage.NAME] (usage hooks and groups).
 */
#ifndef CERTSTORE_CONFIG_FILE_H
#define CERTSTORE_CONFIG_FILE_H

#include <openssl/conf.h>

#include "certstore.h"

/*
 * Loads <store_dir>/certstore.conf.  A missing file is an empty
 * configuration when missing_ok, else CS_ERR_STORE; a syntax error is
 * CS_ERR_STORE naming the line.  Free with NCONF_free.
 */
cs_rv cs_config_open(const char *store_dir, bool missing_ok, CONF **out, cs_err *err);

/* The value of key in section, or NULL (absence queues no OpenSSL error). */
const char *cs_config_get(const CONF *conf, const char *section, const char *key);

/* Section names starting with prefix ("ca.", "usage."), NULL-terminated;
 * free each and the array. */
char **cs_config_sections(const CONF *conf, const char *prefix);

#endif
