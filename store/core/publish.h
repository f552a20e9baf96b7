/*
 * publish.h - directories other programs read, replaced atomically: a new
 * generation directory is written and fsync'd, then a symlink NAME →
 * .NAME.gen-… is swapped in with rename(2).  Internal to libcertstore.
 */
#ifndef CS_PUBLISH_H
#define CS_PUBLISH_H

#include "internal.h"

typedef struct cs_pubdir {
	char *parent;  /* e.g. <store>/usages */
	char *name;    /* e.g. Default */
	char *gen_dir; /* the new generation being written (absolute) */
} cs_pubdir;

/* Creates parent (mode 0711 so group-readable usages can be reached) and a fresh
 * generation directory with mode dir_mode. */
cs_rv cs_pubdir_begin(const char *parent, const char *name, int dir_mode, cs_pubdir *out,
		      cs_err *err);
/* Writes one file into the generation (fsync'd). */
cs_rv cs_pubdir_write(cs_pubdir *pd, const char *file, const void *data, size_t len, int mode,
		      cs_err *err);
/* Makes the generation current (symlink swap, fsync of parent) and removes the old one. */
cs_rv cs_pubdir_commit(cs_pubdir *pd, cs_err *err);
/* Removes an uncommitted generation and frees pd. Safe after commit. */
void cs_pubdir_abort(cs_pubdir *pd);
/* Removes NAME and the generation it points at. */
cs_rv cs_pubdir_remove(const char *parent, const char *name, cs_err *err);
/* Removes generation directories of parent that no NAME link points at. */
size_t cs_pubdir_sweep(const char *parent);
/* rm -rf */
void cs_remove_tree(const char *path);

#endif
