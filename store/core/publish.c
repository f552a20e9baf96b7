/*
 * publish.c - atomic replacement of published directories.
 */
#include "publish.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void cs_remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/*
 * Only the store's owner may change what is in parent: a group that could
 * write there could swap NAME for a link of its own, and the next commit,
 * running as root, would remove whatever that link points at.
 */
static cs_rv check_parent(const char *parent, cs_err *err)
{
	struct stat st;

	if (lstat(parent, &st) != 0)
		return cs_err_set(err, CS_ERR_STORE, "%s: %s", parent, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return cs_err_set(err, CS_ERR_STORE,
				  "%s: not a directory: refusing to publish there", parent);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return cs_err_set(
			err, CS_ERR_STORE,
			"%s: owned by uid %u, not by the store's owner: refusing to publish "
			"there",
			parent, (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return cs_err_set(
			err, CS_ERR_STORE,
			"%s: writable by group or others (mode %04o): refusing to publish "
			"there (chmod go-w %s)",
			parent, (unsigned)(st.st_mode & 07777), parent);
	return CS_OK;
}

cs_rv cs_pubdir_begin(const char *parent, const char *name, int dir_mode, cs_pubdir *out,
		      cs_err *err)
{
	struct timespec ts;
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	if (mkdir(parent, 0711) != 0 && errno != EEXIST)
		return cs_err_set(err, CS_ERR_STORE, "%s: cannot create: %s", parent,
				  strerror(errno));
	rv = check_parent(parent, err);
	if (rv != CS_OK)
		return rv;
	clock_gettime(CLOCK_REALTIME, &ts);
	out->parent = strdup(parent);
	out->name = strdup(name);
	if (out->parent == NULL || out->name == NULL ||
	    asprintf(&out->gen_dir, "%s/.%s.gen-%lld%09ld-%ld", parent, name, (long long)ts.tv_sec,
		     ts.tv_nsec, (long)getpid()) < 0) {
		out->gen_dir = NULL;
		cs_pubdir_abort(out);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	if (mkdir(out->gen_dir, (mode_t)dir_mode) != 0) {
		cs_err_set(err, CS_ERR_STORE, "%s: cannot create: %s", out->gen_dir,
			   strerror(errno));
		cs_pubdir_abort(out);
		return CS_ERR_STORE;
	}
	(void)chmod(out->gen_dir, (mode_t)dir_mode);
	return CS_OK;
}

cs_rv cs_pubdir_write(cs_pubdir *pd, const char *file, const void *data, size_t len, int mode,
		      cs_err *err)
{
	char *path = NULL;
	cs_rv rv;

	if (asprintf(&path, "%s/%s", pd->gen_dir, file) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	rv = cs_write_file_atomic(path, data, len, mode, err);
	free(path);
	return rv;
}

/* Is entry (a name in parent) one of NAME's generation directories, and a
 * real directory rather than a link to somewhere else? */
static bool is_generation(const char *parent, const char *name, const char *entry)
{
	char prefix[300], path[4400];
	struct stat st;

	snprintf(prefix, sizeof(prefix), ".%s.gen-", name);
	if (strncmp(entry, prefix, strlen(prefix)) != 0 || strchr(entry, '/') != NULL)
		return false;
	snprintf(path, sizeof(path), "%s/%s", parent, entry);
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The generation NAME points at now (absolute), or NULL when NAME is not a
 * link to one of its own generations: nothing else is ever removed. */
static char *current_target(const char *parent, const char *name)
{
	char link[4096], *path = NULL, *out = NULL;
	ssize_t n;

	if (asprintf(&path, "%s/%s", parent, name) < 0)
		return NULL;
	n = readlink(path, link, sizeof(link) - 1);
	free(path);
	if (n <= 0)
		return NULL;
	link[n] = '\0';
	if (!is_generation(parent, name, link) || asprintf(&out, "%s/%s", parent, link) < 0)
		return NULL;
	return out;
}

cs_rv cs_pubdir_commit(cs_pubdir *pd, cs_err *err)
{
	char *tmp_link = NULL, *final = NULL, *old = current_target(pd->parent, pd->name);
	const char *base = strrchr(pd->gen_dir, '/') + 1;
	cs_rv rv = CS_OK;

	fsync_dir(pd->gen_dir);
	if (asprintf(&tmp_link, "%s/.%s.link-%ld", pd->parent, pd->name, (long)getpid()) < 0 ||
	    asprintf(&final, "%s/%s", pd->parent, pd->name) < 0) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	unlink(tmp_link);
	if (symlink(base, tmp_link) != 0 || rename(tmp_link, final) != 0) {
		rv = cs_err_set(err, CS_ERR_STORE, "%s: cannot publish: %s", final,
				strerror(errno));
		unlink(tmp_link);
		goto out;
	}
	fsync_dir(pd->parent);
	if (old != NULL && strcmp(old, pd->gen_dir) != 0)
		cs_remove_tree(old);
	free(pd->gen_dir);
	pd->gen_dir = NULL; /* committed: abort must not remove it */
out:
	free(old);
	free(tmp_link);
	free(final);
	return rv;
}

void cs_pubdir_abort(cs_pubdir *pd)
{
	if (pd->gen_dir != NULL)
		cs_remove_tree(pd->gen_dir);
	free(pd->gen_dir);
	free(pd->parent);
	free(pd->name);
	memset(pd, 0, sizeof(*pd));
}

cs_rv cs_pubdir_remove(const char *parent, const char *name, cs_err *err)
{
	char *old = NULL, *final = NULL;
	struct stat st;
	cs_rv rv;

	if (lstat(parent, &st) != 0 && errno == ENOENT)
		return CS_OK; /* nothing was ever published */
	rv = check_parent(parent, err);
	if (rv != CS_OK)
		return rv;
	old = current_target(parent, name);
	if (asprintf(&final, "%s/%s", parent, name) < 0) {
		free(old);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	if (unlink(final) != 0 && errno != ENOENT) {
		cs_err_set(err, CS_ERR_STORE, "%s: cannot remove: %s", final, strerror(errno));
		free(final);
		free(old);
		return CS_ERR_STORE;
	}
	fsync_dir(parent);
	if (old != NULL)
		cs_remove_tree(old);
	free(final);
	free(old);
	return CS_OK;
}

/* Is generation directory `entry` the target of some link in parent? */
static bool is_linked(const char *parent, const char *entry)
{
	DIR *d = opendir(parent);
	struct dirent *e;
	char link[4096], path[4096];
	ssize_t n;
	bool used = false;

	while (d != NULL && !used && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			used = strcmp(link, entry) == 0;
		}
	}
	if (d != NULL)
		closedir(d);
	return used;
}

size_t cs_pubdir_sweep(const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *e;
	char path[4096];
	size_t removed = 0;

	if (d != NULL && check_parent(parent, NULL) != CS_OK) {
		closedir(d);
		return 0;
	}
	while (d != NULL && (e = readdir(d)) != NULL) {
		struct stat st;

		if (e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		if (strstr(e->d_name, ".gen-") == NULL && strstr(e->d_name, ".link-") == NULL)
			continue;
		if (strstr(e->d_name, ".gen-") != NULL && is_linked(parent, e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
		/* a generation is a directory, a half-made link a link: anything
		 * else under those names was not made here and stays */
		if (lstat(path, &st) != 0 ||
		    (strstr(e->d_name, ".gen-") != NULL ? !S_ISDIR(st.st_mode)
							: !S_ISLNK(st.st_mode)))
			continue;
		cs_remove_tree(path);
		removed++;
	}
	if (d != NULL)
		closedir(d);
	return removed;
}
