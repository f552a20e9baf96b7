/*
 * roots.c - the Root store as files, for programs that only take files:
 * published/roots.pem and published/roots/ (a hashed -CApath directory).
 */
#include "usage.h"
#include "publish.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

static cs_rv write_hashed(cs_pubdir *pd, const cs_cert_list *roots, cs_err *err)
{
	char name[32];
	unsigned long *hashes = calloc(roots->n + 1, sizeof(*hashes));
	size_t i, j, n;
	cs_rv rv = CS_OK;
	char *pem = NULL;
	BIO *bio;
	long len;

	if (hashes == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	for (i = 0; rv == CS_OK && i < roots->n; i++) {
		X509 *x = roots->items[i]->x509;

		hashes[i] = X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, NULL);
		for (n = 0, j = 0; j < i; j++)
			n += hashes[j] == hashes[i];
		snprintf(name, sizeof(name), "%08lx.%zu", hashes[i], n);
		bio = BIO_new(BIO_s_mem());
		if (bio == NULL || !PEM_write_bio_X509(bio, x)) {
			BIO_free(bio);
			rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
			break;
		}
		len = BIO_get_mem_data(bio, &pem);
		rv = cs_pubdir_write(pd, name, pem, (size_t)len, 0644, err);
		BIO_free(bio);
	}
	free(hashes);
	return rv;
}

static cs_rv write_bundle(const char *path, const cs_cert_list *roots, cs_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	size_t i;
	cs_rv rv;

	for (i = 0; bio != NULL && i < roots->n; i++)
		PEM_write_bio_X509(bio, roots->items[i]->x509);
	if (bio == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	len = BIO_get_mem_data(bio, &data);
	rv = cs_write_file_atomic(path, len > 0 ? data : "", len > 0 ? (size_t)len : 0, 0644, err);
	BIO_free(bio);
	return rv;
}

cs_rv cs_publish_roots(cs_store *store, cs_err *err)
{
	cs_find_opts opts = {.store = CS_STORE_ROOT};
	cs_cert_list roots = {0};
	cs_pubdir pd = {0};
	char *parent = NULL, *bundle = NULL;
	cs_rv rv;

	rv = cs_store_list(store, &opts, &roots, err);
	if (rv != CS_OK)
		return rv;
	if (asprintf(&parent, "%s/published", store->dir) < 0 ||
	    asprintf(&bundle, "%s/published/roots.pem", store->dir) < 0) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	rv = cs_pubdir_begin(parent, "roots", 0755, &pd, err);
	if (rv == CS_OK)
		rv = write_hashed(&pd, &roots, err);
	if (rv == CS_OK)
		rv = write_bundle(bundle, &roots, err);
	if (rv == CS_OK)
		rv = cs_pubdir_commit(&pd, err);
	cs_pubdir_abort(&pd);
out:
	free(parent);
	free(bundle);
	cs_cert_list_clear(&roots);
	return rv;
}

/* Appends fix (taken) to fixes. */
static void push_fix(cs_fix_list *fixes, char *fix)
{
	char **grown = realloc(fixes->items, (fixes->n + 1) * sizeof(*grown));

	if (grown == NULL) {
		free(fix);
		return;
	}
	fixes->items = grown;
	fixes->items[fixes->n++] = fix;
}

/* Does published/roots/ hold one file per root, each one of them? */
static bool hashed_dir_matches(const char *dir, const cs_cert_list *roots)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t files = 0, i;
	bool ok = d != NULL;

	while (ok && (e = readdir(d)) != NULL) {
		char *path = NULL;
		cs_bytes data = {0};
		cs_cert_list one = {0};

		if (e->d_name[0] == '.')
			continue;
		files++;
		ok = asprintf(&path, "%s/%s", dir, e->d_name) >= 0 &&
		     cs_read_file(path, &data, NULL) == CS_OK &&
		     cs_parse_certs(data.data, data.len, NULL, &one, NULL) == CS_OK && one.n == 1;
		for (i = 0; ok && i < roots->n; i++)
			if (strcmp(roots->items[i]->sha1, one.items[0]->sha1) == 0)
				break;
		ok = ok && i < roots->n;
		free(path);
		cs_cert_list_clear(&one);
		cs_bytes_clear(&data);
	}
	if (d != NULL)
		closedir(d);
	return ok && files == roots->n;
}

/* Why published/roots* differ from Root, or NULL when they agree. */
static const char *roots_problem(const char *pub, const cs_cert_list *roots)
{
	char path[4200];
	cs_bytes data = {0};
	cs_cert_list certs = {0};
	const char *why = NULL;
	size_t i;

	snprintf(path, sizeof(path), "%s/roots.pem", pub);
	if (cs_read_file(path, &data, NULL) != CS_OK) {
		/* an empty bundle reads as "empty file": fine when Root is empty */
		if (roots->n > 0 || access(path, F_OK) != 0)
			why = "roots.pem was missing or unreadable";
	} else if (cs_parse_certs(data.data, data.len, NULL, &certs, NULL) != CS_OK ||
		   certs.n != roots->n) {
		why = "roots.pem did not hold the Root store";
	}
	for (i = 0; why == NULL && i < certs.n; i++)
		if (strcmp(certs.items[i]->sha1, roots->items[i]->sha1) != 0)
			why = "roots.pem did not hold the Root store";
	snprintf(path, sizeof(path), "%s/roots", pub);
	if (why == NULL && !hashed_dir_matches(path, roots))
		why = "roots/ did not hold the Root store";
	cs_cert_list_clear(&certs);
	cs_bytes_clear(&data);
	return why;
}

cs_rv cs_publish_roots_check(cs_store *store, cs_fix_list *fixes, cs_err *err)
{
	cs_find_opts opts = {.store = CS_STORE_ROOT};
	cs_cert_list roots = {0};
	char *pub = NULL, *fix = NULL;
	const char *why;
	size_t swept;
	cs_rv rv;

	rv = cs_store_list(store, &opts, &roots, err);
	if (rv == CS_OK && asprintf(&pub, "%s/published", store->dir) < 0) {
		pub = NULL;
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	why = rv == CS_OK ? roots_problem(pub, &roots) : NULL;
	if (why != NULL)
		rv = cs_publish_roots(store, err);
	if (why != NULL && rv == CS_OK &&
	    asprintf(&fix, "published/roots: rewritten (%s)", why) >= 0)
		push_fix(fixes, fix);
	swept = rv == CS_OK ? cs_pubdir_sweep(pub) : 0;
	if (swept > 0 && asprintf(&fix,
				  "published: removed %zu unfinished or superseded "
				  "generation%s",
				  swept, swept == 1 ? "" : "s") >= 0)
		push_fix(fixes, fix);
	free(pub);
	cs_cert_list_clear(&roots);
	return rv;
}
