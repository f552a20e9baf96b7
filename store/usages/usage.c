/*
 * usage.c - usages: which certificate serves which name, and the files that
 * say so to TLS servers.
 */
#include "usage.h"
#include "db_usages.h"
#include "publish.h"
#include "usage_conf.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

bool cs_usage_name_valid(const char *name)
{
	const char *p;

	if (name == NULL || *name == '\0' || strlen(name) > 64 || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || name[0] == '.')
		return false;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

static cs_rv check_name(const char *name, cs_err *err)
{
	if (!cs_usage_name_valid(name))
		return cs_err_set(err, CS_ERR_USAGE,
				  "bad usage name '%s': use 1-64 of [A-Za-z0-9._-], not starting "
				  "with '.'",
				  name ? name : "");
	return CS_OK;
}

cs_rv cs_usage_list_get(cs_store *store, cs_usage_list *out, cs_err *err)
{
	return cs_db_usage_select(store, NULL, out, err);
}

cs_rv cs_usage_get(cs_store *store, const char *name, cs_usage *out, cs_err *err)
{
	cs_usage_list l = {0};
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	rv = check_name(name, err);
	if (rv == CS_OK)
		rv = cs_db_usage_select(store, name, &l, err);
	if (rv != CS_OK)
		return rv;
	if (l.n == 0) {
		cs_usage_list_clear(&l);
		return cs_err_set(err, CS_ERR_NOT_FOUND, "usage '%s' is not assigned", name);
	}
	*out = l.items[0];
	l.items[0].name = NULL;
	cs_usage_list_clear(&l);
	return CS_OK;
}

char *cs_usage_dir(cs_store *store, const char *name)
{
	char *path = NULL;

	if (asprintf(&path, "%s/usages/%s", store->dir, name) < 0)
		return NULL;
	return path;
}

static char *usages_parent(cs_store *store)
{
	char *path = NULL;

	if (asprintf(&path, "%s/usages", store->dir) < 0)
		return NULL;
	return path;
}

static cs_rv pem_of(const cs_cert_list *chain, size_t from, size_t to, char **out, size_t *len,
		    cs_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	size_t i;

	for (i = from; bio != NULL && i < to; i++)
		PEM_write_bio_X509(bio, chain->items[i]->x509);
	if (bio == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	n = BIO_get_mem_data(bio, &data);
	*out = malloc(n > 0 ? (size_t)n : 1);
	if (*out != NULL && n > 0)
		memcpy(*out, data, (size_t)n);
	*len = n > 0 ? (size_t)n : 0;
	BIO_free(bio);
	return *out != NULL ? CS_OK : cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
}

/* Leaf, then issuers up to but not including a self-signed root (servers need not send it). */
static size_t chain_end(const cs_cert_list *chain)
{
	size_t n = chain->n;

	if (n > 1 && cs_cert_is_self_signed(chain->items[n - 1]))
		n--;
	return n;
}

/* Writes chain->items[from..to) as PEM to file name of pd. */
static cs_rv write_pem_file(cs_pubdir *pd, const char *name, const cs_cert_list *chain, size_t from,
			    size_t to, cs_err *err)
{
	char *pem = NULL;
	size_t len = 0;
	cs_rv rv = pem_of(chain, from, to, &pem, &len, err);

	if (rv == CS_OK)
		rv = cs_pubdir_write(pd, name, pem, len, 0644, err);
	free(pem);
	return rv;
}

static cs_rv write_usage_files(cs_store *store, cs_pubdir *pd, const cs_cert *cert,
			       const cs_cert_list *chain, cs_err *err)
{
	size_t end = chain_end(chain);
	char *pem = NULL;
	cs_rv rv;

	rv = write_pem_file(pd, "cert.pem", chain, 0, 1, err);
	if (rv == CS_OK)
		rv = write_pem_file(pd, "chain.pem", chain, 1, end, err);
	if (rv == CS_OK)
		rv = write_pem_file(pd, "fullchain.pem", chain, 0, end, err);
	if (rv == CS_OK && cert->key_uri != NULL) {
		rv = cs_keyref_pem(store->dir, cert, &pem, err);
		if (rv == CS_OK)
			rv = cs_pubdir_write(pd, "key.pem", pem, strlen(pem), 0644, err);
		free(pem);
	}
	return rv;
}

/* Writes a new generation for NAME serving cert (not yet current). */
static cs_rv prepare_publish(cs_store *store, const char *name, const cs_cert *cert,
			     const cs_status_report *report, cs_pubdir *pd, cs_err *err)
{
	char *parent = usages_parent(store);
	cs_usage_conf uc = {0};
	cs_rv rv;

	if (parent == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	rv = cs_usage_conf_load(store, name, &uc, err);
	if (rv == CS_OK)
		rv = cs_pubdir_begin(parent, name, 0755, pd, err);
	free(parent);
	if (rv == CS_OK)
		rv = write_usage_files(store, pd, cert, &report->chain, err);
	/* before the swap: a group-only usage is never readable by others */
	if (rv == CS_OK)
		rv = cs_usage_conf_apply_group(&uc, pd->gen_dir, err);
	if (rv != CS_OK)
		cs_pubdir_abort(pd);
	cs_usage_conf_clear(&uc);
	return rv;
}

static cs_rv record_assignment(cs_store *store, const char *name, const cs_cert *cert, cs_err *err)
{
	cs_usage_list l = {0};
	cs_usage u = {0};
	char detail[512];
	cs_rv rv;

	rv = cs_db_usage_select(store, name, &l, err);
	if (rv != CS_OK)
		return rv;
	if (l.n > 0)
		u = l.items[0];
	u.name = (char *)name;
	if (strcmp(u.sha1, cert->sha1) != 0 && u.sha1[0] != '\0')
		memcpy(u.previous_sha1, u.sha1, sizeof(u.sha1));
	memcpy(u.sha1, cert->sha1, sizeof(u.sha1));
	if (strcmp(u.staged_sha1, cert->sha1) == 0) {
		u.staged_sha1[0] = '\0';
		u.staged_at = 0;
	}
	u.assigned_at = (int64_t)cs_now();
	rv = cs_db_usage_upsert(store, &u, err);
	if (l.n == 0)
		u.name = NULL;
	cs_usage_list_clear(&l);
	if (rv != CS_OK)
		return rv;
	snprintf(detail, sizeof(detail), "%s %s %s", name, cert->sha1, cert->subject);
	return cs_db_audit_insert(store, "assign", detail, err);
}

static cs_rv refuse_unless_valid(const cs_cert *cert, const cs_status_report *r, bool force,
				 cs_err *err)
{
	if (cert->store != CS_STORE_MY)
		return cs_err_set(err, CS_ERR_USAGE,
				  "%s is in %s; only certificates in My serve "
				  "usages",
				  cert->sha1, cs_store_id_name(cert->store));
	if (force || r->status == CS_STATUS_VALID)
		return CS_OK;
	return cs_err_set(err, CS_ERR_NOT_VALID,
			  "%s is not valid: %s (%s); use --force to assign it "
			  "anyway",
			  cert->sha1, cs_status_name(r->status), r->detail);
}

cs_rv cs_usage_assign(cs_store *store, const char *name, const cs_cert *cert, bool force,
		      cs_err *err)
{
	cs_status_report report = {0};
	cs_pubdir pd = {0};
	cs_rv rv;

	rv = check_name(name, err);
	if (rv == CS_OK)
		rv = cs_status_compute(store, cert, 0, &report, err);
	if (rv == CS_OK)
		rv = refuse_unless_valid(cert, &report, force, err);
	if (rv == CS_OK)
		rv = prepare_publish(store, name, cert, &report, &pd, err);
	cs_status_report_clear(&report);
	if (rv != CS_OK)
		return rv;
	rv = cs_db_begin(store, err);
	if (rv == CS_OK) {
		rv = record_assignment(store, name, cert, err);
		rv = rv == CS_OK ? cs_db_commit(store, err) : (cs_db_rollback(store), rv);
	}
	/* Database first, then the swap: a crash in between leaves files that
	 * `certstore check` brings up to date from the database. */
	if (rv == CS_OK)
		rv = cs_pubdir_commit(&pd, err);
	cs_pubdir_abort(&pd);
	return rv;
}

cs_rv cs_usage_unassign(cs_store *store, const char *name, cs_err *err)
{
	char *parent = NULL, detail[128];
	cs_rv rv;

	rv = check_name(name, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_db_begin(store, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_db_usage_delete(store, name, err);
	snprintf(detail, sizeof(detail), "%s", name);
	if (rv == CS_OK)
		rv = cs_db_audit_insert(store, "unassign", detail, err);
	if (rv != CS_OK) {
		cs_db_rollback(store);
		return rv;
	}
	rv = cs_db_commit(store, err);
	parent = usages_parent(store);
	if (rv == CS_OK && parent != NULL)
		rv = cs_pubdir_remove(parent, name, err);
	free(parent);
	return rv;
}
