/*
 * config.c - the [token] section of certstore.conf and the PIN file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/conf.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "config_file.h"
#include "keys.h"

#define CS_PIN_MAX 256

void cs_token_config_free(cs_token_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->store_dir);
	free(cfg->module);
	free(cfg->token_uri);
	free(cfg->pin_file);
	free(cfg->softhsm_conf);
	free(cfg->agent);
	free(cfg);
}

/* path as given when absolute, else dir/path. */
static char *resolve(const char *dir, const char *path)
{
	char *out;

	if (path[0] == '/')
		return strdup(path);
	if (asprintf(&out, "%s/%s", dir, path) < 0)
		return NULL;
	return out;
}

static const char *conf_get(CONF *conf, const char *name)
{
	return cs_config_get(conf, "token", name);
}

cs_rv cs_token_config_load(const char *store_dir, cs_token_config **out, cs_err *err)
{
	cs_rv rv = CS_ERR_INTERNAL;
	CONF *conf = NULL;
	cs_token_config *cfg = NULL;
	char *path = NULL;
	const char *module, *token, *pin, *shconf, *agent;

	*out = NULL;
	if (asprintf(&path, "%s/certstore.conf", store_dir) < 0) {
		path = NULL;
		goto oom;
	}
	rv = cs_config_open(store_dir, false, &conf, err);
	if (rv != CS_OK)
		goto out;
	module = conf_get(conf, "module");
	token = conf_get(conf, "token");
	pin = conf_get(conf, "pin-file");
	shconf = conf_get(conf, "softhsm-conf");
	agent = conf_get(conf, "agent");
	if (module == NULL || *module == '\0' || token == NULL || *token == '\0') {
		rv = cs_err_set(err, CS_ERR_STORE, "%s: section [token] needs `module` and `token`",
				path);
		goto out;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL)
		goto oom;
	cfg->store_dir = strdup(store_dir);
	cfg->module = strdup(module);
	cfg->token_uri = strdup(token);
	if (cfg->store_dir == NULL || cfg->module == NULL || cfg->token_uri == NULL)
		goto oom;
	if (pin != NULL && *pin != '\0' && (cfg->pin_file = resolve(store_dir, pin)) == NULL)
		goto oom;
	if (shconf != NULL && *shconf != '\0' &&
	    (cfg->softhsm_conf = resolve(store_dir, shconf)) == NULL)
		goto oom;
	if (agent != NULL && *agent != '\0' && (cfg->agent = resolve(store_dir, agent)) == NULL)
		goto oom;
	*out = cfg;
	cfg = NULL;
	rv = CS_OK;
	goto out;
oom:
	rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory reading the token configuration");
out:
	cs_token_config_free(cfg);
	NCONF_free(conf);
	free(path);
	return rv;
}

void cs_pin_free(char *pin)
{
	if (pin == NULL)
		return;
	OPENSSL_cleanse(pin, strlen(pin));
	free(pin);
}

cs_rv cs_pin_read(const cs_token_config *cfg, char **pin_out, cs_err *err)
{
	cs_rv rv;
	int fd = -1;
	struct stat st, dst;
	char buf[CS_PIN_MAX + 2];
	ssize_t n;
	size_t len = 0;
	const char *path = cfg->pin_file;

	*pin_out = NULL;
	if (path == NULL)
		return cs_err_set(err, CS_ERR_AUTH, "no pin-file in the [token] configuration");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rv = cs_err_set(err, CS_ERR_STORE, "pin file %s: %s%s", path, strerror(errno),
				errno == ELOOP ? " (it must not be a symbolic link)" : "");
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rv = cs_err_set(err, CS_ERR_STORE, "pin file %s is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		rv = cs_err_set(err, CS_ERR_STORE,
				"pin file %s is accessible by group or others (mode %04o); "
				"it must be 0600 or 0400",
				path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (stat(cfg->store_dir, &dst) != 0) {
		rv = cs_err_set(err, CS_ERR_STORE, "store directory %s: %s", cfg->store_dir,
				strerror(errno));
		goto out;
	}
	if (st.st_uid != dst.st_uid) {
		rv = cs_err_set(err, CS_ERR_STORE,
				"pin file %s is owned by uid %u, not by the store's owner (uid %u)",
				path, (unsigned)st.st_uid, (unsigned)dst.st_uid);
		goto out;
	}
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rv = cs_err_set(err, CS_ERR_STORE, "pin file %s: %s", path,
					strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	len = strcspn(buf, "\r\n");
	if (len > CS_PIN_MAX) {
		rv = cs_err_set(err, CS_ERR_AUTH, "pin file %s: the PIN is longer than %d bytes",
				path, CS_PIN_MAX);
		goto out;
	}
	if (len == 0) {
		rv = cs_err_set(err, CS_ERR_AUTH, "pin file %s is empty", path);
		goto out;
	}
	*pin_out = strndup(buf, len);
	if (*pin_out == NULL) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	rv = CS_OK;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return rv;
}
