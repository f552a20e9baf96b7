/*
 * pending.c - the Request store: requests waiting for their certificates.
 */
#include "request.h"
#include "db_requests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

cs_rv cs_pubkey_id_hex(EVP_PKEY *pub, char out[41], cs_err *err)
{
	X509_PUBKEY *xpk = NULL;
	const unsigned char *bits;
	unsigned char md[SHA_DIGEST_LENGTH];
	int len;
	cs_rv rv = CS_OK;

	if (!X509_PUBKEY_set(&xpk, pub) || !X509_PUBKEY_get0_param(NULL, &bits, &len, NULL, xpk))
		rv = cs_err_set(err, CS_ERR_KEY, "cannot encode the public key");
	else if (!EVP_Digest(bits, (size_t)len, md, NULL, EVP_sha1(), NULL))
		rv = cs_err_set(err, CS_ERR_INTERNAL, "SHA-1 unavailable");
	else
		cs_hex_upper(md, sizeof(md), out);
	X509_PUBKEY_free(xpk);
	return rv;
}

static cs_rv fill_from_request(X509_REQ *req, cs_pending *p, cs_err *err)
{
	unsigned char *der = NULL;
	EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
	char subject[512];
	int len;

	if (pub == NULL)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "the request has no public key");
	len = i2d_X509_REQ(req, &der);
	if (len <= 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot encode the request");
	cs_bytes_clear(&p->csr_der);
	p->csr_der.data = malloc((size_t)len);
	if (p->csr_der.data != NULL) {
		memcpy(p->csr_der.data, der, (size_t)len);
		p->csr_der.len = (size_t)len;
	}
	OPENSSL_free(der);
	X509_NAME_oneline(X509_REQ_get_subject_name(req), subject, sizeof(subject));
	free(p->subject);
	p->subject = strdup(subject);
	if (p->csr_der.data == NULL || p->subject == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	return cs_pubkey_id_hex(pub, p->key_id, err);
}

/*
 * A generated name ("CN DATE") is the same for every request for one CN on
 * one day, and a name two certificates share is no use as an ID: the first
 * free one of "NAME", "NAME (2)", "NAME (3)"... is taken, inside the insert's
 * transaction so two requests at once cannot both take it.
 */
static cs_rv make_name_unique(cs_store *store, cs_pending *p, cs_err *err)
{
	char *base = p->friendly_name, *next = NULL;
	bool taken = true;
	int n;
	cs_rv rv = CS_OK;

	if (!p->friendly_name_generated || base == NULL)
		return CS_OK;
	for (n = 1; rv == CS_OK && n < 10000; n++) {
		if (n > 1 && asprintf(&next, "%s (%d)", base, n) < 0)
			return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		rv = cs_db_friendly_name_taken(store, n > 1 ? next : base, &taken, err);
		if (rv == CS_OK && !taken)
			break;
		free(next);
		next = NULL;
	}
	if (rv == CS_OK && taken)
		rv = cs_err_set(err, CS_ERR_DUPLICATE, "no free friendly name like '%s'", base);
	if (rv == CS_OK && next != NULL) {
		p->friendly_name = next;
		free(base);
	}
	return rv;
}

cs_rv cs_pending_add(cs_store *store, X509_REQ *req, cs_pending *p, cs_err *err)
{
	char detail[1024];
	cs_rv rv;

	rv = fill_from_request(req, p, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_db_begin(store, err);
	if (rv != CS_OK)
		return rv;
	rv = make_name_unique(store, p, err);
	if (rv == CS_OK)
		rv = cs_db_pending_insert(store, p, err);
	if (rv == CS_OK) {
		/* What was asked for, so the log alone answers "which key, which hash?" */
		snprintf(detail, sizeof(detail),
			 "pending %lld %s key %s %s hash %s exportable %s friendly-name \"%s\"%s%s",
			 (long long)p->id, p->subject, p->key_id, p->key_spec ? p->key_spec : "?",
			 p->hash ? p->hash : "sha256", p->exportable ? "yes" : "no",
			 p->friendly_name ? p->friendly_name : "", p->ca_profile ? " ca " : "",
			 p->ca_profile ? p->ca_profile : "");
		rv = cs_db_audit_insert(store, "request", detail, err);
	}
	if (rv == CS_OK)
		return cs_db_commit(store, err);
	cs_db_rollback(store);
	return rv;
}

cs_rv cs_pending_list_get(cs_store *store, cs_pending_list *out, cs_err *err)
{
	out->items = NULL;
	out->n = 0;
	return cs_db_pending_select(store, 0, NULL, out, err);
}

static cs_rv take_one(cs_pending_list *l, cs_pending **out, cs_err *err, const char *what)
{
	if (l->n == 0) {
		cs_pending_list_clear(l);
		return cs_err_set(err, CS_ERR_NOT_FOUND, "no pending request %s", what);
	}
	*out = l->items[0];
	l->items[0] = NULL;
	cs_pending_list_clear(l);
	return CS_OK;
}

cs_rv cs_pending_get(cs_store *store, int64_t id, cs_pending **out, cs_err *err)
{
	cs_pending_list l = {0};
	char what[64];
	cs_rv rv;

	*out = NULL;
	rv = cs_db_pending_select(store, id, NULL, &l, err);
	if (rv != CS_OK)
		return rv;
	snprintf(what, sizeof(what), "with ID %lld", (long long)id);
	return take_one(&l, out, err, what);
}

cs_rv cs_pending_find_by_key_id(cs_store *store, const char *key_id, cs_pending **out, cs_err *err)
{
	cs_pending_list l = {0};
	cs_rv rv;

	*out = NULL;
	rv = cs_db_pending_select(store, 0, key_id, &l, err);
	if (rv != CS_OK)
		return rv;
	/* several share a key after same-key renewals: the newest is answered */
	if (l.n > 1) {
		cs_pending *newest = l.items[l.n - 1];

		l.items[l.n - 1] = l.items[0];
		l.items[0] = newest;
	}
	return take_one(&l, out, err, "for this key");
}

cs_rv cs_pending_set_ca_request_id(cs_store *store, int64_t id, const char *ca_request_id,
				   cs_err *err)
{
	return cs_db_pending_set_ca_request_id(store, id, ca_request_id, err);
}

cs_rv cs_pending_remove(cs_store *store, int64_t id, const char *reason, cs_err *err)
{
	char detail[256];
	cs_rv rv = cs_db_begin(store, err);

	if (rv != CS_OK)
		return rv;
	rv = cs_db_pending_delete(store, id, err);
	if (rv == CS_OK) {
		snprintf(detail, sizeof(detail), "pending %lld %s", (long long)id,
			 reason ? reason : "");
		rv = cs_db_audit_insert(store, "request-remove", detail, err);
	}
	if (rv == CS_OK)
		return cs_db_commit(store, err);
	cs_db_rollback(store);
	return rv;
}
