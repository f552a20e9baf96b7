/*
 * roots.c - the Root store as files, for programs that only take files:
 * published/roots.pem and published/roots/ (a hashed -CApath directory).
 */
#include "usage.h"
#include "publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (asprintf(&parent, "%s/published", cs_store_dir(store)) < 0 ||
	    asprintf(&bundle, "%s/published/roots.pem", cs_store_dir(store)) < 0) {
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
