/*
 * config_file.h - <store>/certstore.conf, in OpenSSL NCONF syntax (the
 * syntax admins know from openssl.cnf).  Internal to libcertstore.
 *
 * The hsm branch reads its [token] section with its own loader
 * (cs_token_config_load in config.c); the two are to be reconciled into
 * this one when both are on main.
 */
#ifndef CS_CONFIG_FILE_H
#define CS_CONFIG_FILE_H

#include "internal.h"

#include <openssl/conf.h>

/*
 * Loads <store_dir>/certstore.conf into *out (free with NCONF_free).  A
 * missing file is an empty configuration, not an error; an unreadable file
 * or a syntax error is CS_ERR_STORE naming the file and line.
 */
cs_rv cs_config_load(const char *store_dir, CONF **out, cs_err *err);

/*
 * The value of `key` in [section] exactly: unlike NCONF_get_string there is
 * no fall-back to the default section nor to the environment.  NULL when
 * absent.  The string belongs to conf.
 */
const char *cs_config_get(CONF *conf, const char *section, const char *key);

#endif
