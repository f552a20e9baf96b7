/*
 * store.c - opening a store directory: where it is, who may write it.  The
 * facade: it sits above every subsystem (it opens the database and installs
 * the Request store's import hooks); nothing below calls into it.
 */
#include "db.h"
#include "requests.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CS_DEFAULT_DIR "/var/lib/certstore"

const char *cs_store_default_dir(void)
{
	const char *env = getenv("CERTSTORE_DIR");

	return env != NULL && *env != '\0' ? env : CS_DEFAULT_DIR;
}

static cs_rv make_dir(const char *dir, cs_err *err)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return cs_err_set(err, CS_ERR_STORE, "%s: cannot create the store directory: %s",
				  dir, strerror(errno));
	return CS_OK;
}

/* A store others can write is a store others can make us trust: refuse it. */
static cs_rv check_dir(const char *dir, cs_err *err)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		return cs_err_set(err, CS_ERR_NOT_FOUND, "%s: no store here: %s", dir,
				  strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return cs_err_set(err, CS_ERR_STORE, "%s: not a directory", dir);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return cs_err_set(err, CS_ERR_STORE,
				  "%s: the store directory is writable by group or others (mode "
				  "%04o); refusing to use it (chmod 0700 %s)",
				  dir, (unsigned)(st.st_mode & 07777), dir);
	return CS_OK;
}

cs_rv cs_store_open(const char *dir, int flags, cs_store **out, cs_err *err)
{
	cs_store *store;
	cs_rv rv;

	*out = NULL;
	if (dir == NULL || *dir == '\0')
		dir = cs_store_default_dir();
	store = calloc(1, sizeof(*store));
	if (store == NULL || (store->dir = strdup(dir)) == NULL) {
		free(store);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	store->flags = flags;
	cs_requests_attach(store);
	if (flags & CS_OPEN_CREATE) {
		rv = make_dir(dir, err);
		if (rv != CS_OK)
			goto out;
	}
	rv = check_dir(dir, err);
	if (rv == CS_OK)
		rv = cs_db_open(store, (flags & CS_OPEN_CREATE) != 0,
				(flags & CS_OPEN_READONLY) != 0, err);
out:
	if (rv != CS_OK) {
		cs_store_close(store);
		return rv;
	}
	*out = store;
	return CS_OK;
}

void cs_store_close(cs_store *store)
{
	if (store == NULL)
		return;
	cs_db_close(store);
	free(store->dir);
	free(store);
}

const char *cs_store_dir(const cs_store *store)
{
	return store->dir;
}

void cs_store_set_key_checker(cs_store *store, cs_key_checker fn, void *ctx)
{
	store->key_checker = fn;
	store->key_checker_ctx = ctx;
	/* the caller chose this checker: it replaces one attached before */
	store->key_check = NULL;
	store->key_check_ctx = NULL;
}
