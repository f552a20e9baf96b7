/*
 * store.c - OSSL_STORE loader for the certstore: scheme.
 *
 * A loader context is one URI.  Nothing is read at open: OpenSSL may still
 * set a search criterion (X509_LOOKUP_store sets the subject it needs right
 * after opening), so the query runs at the first load and then hands out one
 * object per call.  Subject searches go to the database index: with
 * `-CAstore certstore:Root` each issuer lookup reads only the matching rows.
 *
 * Certificates are passed as DER (OSSL_OBJECT_CERT); OpenSSL decodes them.
 */
#include "provider.h"
#include "usage.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/params.h>
#include <openssl/store.h>
#include <openssl/x509.h>

typedef struct csp_loader {
	csp_ctx *prov;
	csp_uri uri;
	int expect;	    /* OSSL_STORE_INFO_*, 0: anything */
	X509_NAME *subject; /* OSSL_STORE_PARAM_SUBJECT, NULL: none */
	bool queried;
	bool failed; /* an error was reported: the next load ends the stream */
	bool eof;
	cs_cert_list certs;
	size_t next;
	bool cert_done;	  /* certs.items[next] was handed out, its key may follow */
	cs_der_list ders; /* a subject search of a whole store: DER only */
} csp_loader;

static void *csp_store_open(void *provctx, const char *uri)
{
	csp_ctx *prov = provctx;
	csp_loader *l;
	cs_err err = {0};

	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		csp_raise(prov, CS_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	l->prov = prov;
	csp_arm(prov);
	if (csp_uri_parse(uri, &l->uri, &err) != CS_OK) {
		csp_raise(prov, err.rv == CS_ERR_BAD_INPUT ? CSP_R_BAD_URI : (int)err.rv, "%s",
			  err.msg);
		free(l);
		return NULL;
	}
	return l;
}

static const OSSL_PARAM *csp_store_settable_ctx_params(void *provctx)
{
	static const OSSL_PARAM params[] = {
		OSSL_PARAM_int(OSSL_STORE_PARAM_EXPECT, NULL),
		OSSL_PARAM_octet_string(OSSL_STORE_PARAM_SUBJECT, NULL, 0),
		OSSL_PARAM_END,
	};
	return params;
}

static int set_subject(csp_loader *l, const OSSL_PARAM *p)
{
	const unsigned char *der;
	const void *v;
	size_t len;

	if (!OSSL_PARAM_get_octet_string_ptr(p, &v, &len))
		return 0;
	der = v;
	X509_NAME_free(l->subject);
	l->subject = d2i_X509_NAME(NULL, &der, (long)len);
	if (l->subject == NULL) {
		csp_raise(l->prov, CSP_R_BAD_PARAM,
			  "the subject to search for is not a valid name");
		return 0;
	}
	return 1;
}

static int csp_store_set_ctx_params(void *loaderctx, const OSSL_PARAM params[])
{
	csp_loader *l = loaderctx;
	const OSSL_PARAM *p;

	if (params == NULL)
		return 1;
	if (l->queried) {
		csp_raise(l->prov, CSP_R_UNSUPPORTED, "search criteria must be set before loading");
		return 0;
	}
	p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_EXPECT);
	if (p != NULL && !OSSL_PARAM_get_int(p, &l->expect))
		return 0;
	p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_SUBJECT);
	if (p != NULL && !set_subject(l, p))
		return 0;
	return 1;
}

/* ---- the query ---------------------------------------------------------- */

static const char *where(const csp_loader *l)
{
	return l->uri.store != CS_STORE_NONE ? cs_store_id_name(l->uri.store) : "any store";
}

static cs_rv by_thumbprint(csp_loader *l, cs_store *st, const cs_find_opts *opts, cs_cert_list *out,
			   cs_err *err)
{
	cs_cert *cert = NULL;
	cs_rv rv;

	rv = cs_store_find_one(st, l->uri.value, opts, &cert, out, err);
	if (rv == CS_ERR_AMBIGUOUS) /* the same certificate in several stores */
		return CS_OK;
	if (rv == CS_ERR_NOT_FOUND)
		return cs_err_set(err, rv, "no certificate with thumbprint %s in %s", l->uri.value,
				  where(l));
	if (rv != CS_OK)
		return rv;
	return cs_cert_list_push(out, cert, err);
}

/* ?usage=NAME: the certificate the usage points at now, as libcertstore
 * records it (the published files follow the same row). */
static cs_rv by_usage(csp_loader *l, cs_store *st, const cs_find_opts *opts, cs_cert_list *out,
		      cs_err *err)
{
	cs_usage u = {0};
	cs_rv rv;

	rv = cs_usage_get(st, l->uri.value, &u, err);
	if (rv == CS_ERR_NOT_FOUND || (rv == CS_OK && u.sha1[0] == '\0')) {
		rv = cs_err_set(err, CS_ERR_NOT_FOUND,
				"unknown usage '%s': no certificate is assigned to it",
				l->uri.value);
		goto out;
	}
	if (rv != CS_OK)
		goto out;
	free(l->uri.value);
	l->uri.value = strdup(u.sha1);
	if (l->uri.value == NULL)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	else
		rv = by_thumbprint(l, st, opts, out, err);
out:
	cs_usage_clear(&u);
	return rv;
}

static cs_rv by_selector(csp_loader *l, cs_store *st, cs_cert_list *out, cs_err *err)
{
	cs_find_opts opts = {.store = l->uri.store};
	cs_rv rv = CS_OK;

	switch (l->uri.sel) {
	case CSP_SEL_NONE:
		if (l->subject != NULL)
			return cs_store_find_by_subject(st, l->subject, &opts, out, err);
		return cs_store_list(st, &opts, out, err);
	case CSP_SEL_THUMBPRINT:
		return by_thumbprint(l, st, &opts, out, err);
	case CSP_SEL_USAGE:
		return by_usage(l, st, &opts, out, err);
	case CSP_SEL_KEY:
		return CS_OK; /* handled in load: no certificate to find */
	case CSP_SEL_FRIENDLY_NAME:
		rv = cs_store_find_by_friendly_name(st, l->uri.value, &opts, out, err);
		if (rv == CS_OK && out->n == 0)
			rv = cs_err_set(err, CS_ERR_NOT_FOUND,
					"no certificate with friendly name '%s' in %s",
					l->uri.value, where(l));
		return rv;
	}
	return rv;
}

/* A selector plus a subject search: keep the selected ones with that subject. */
static void keep_subject(cs_cert_list *list, const X509_NAME *subject)
{
	size_t i, kept = 0;

	for (i = 0; i < list->n; i++) {
		if (X509_NAME_cmp(X509_get_subject_name(list->items[i]->x509), subject) == 0)
			list->items[kept++] = list->items[i];
		else
			cs_cert_free(list->items[i]);
	}
	list->n = kept;
}

static const char *describe(const csp_loader *l)
{
	static const char *const sel[] = {"list", "thumbprint", "friendly-name", "usage", "key"};

	if (l->uri.sel == CSP_SEL_NONE && l->subject != NULL)
		return "subject";
	return sel[l->uri.sel];
}

static bool wants(const csp_loader *l, int type)
{
	return l->expect == 0 || l->expect == type;
}

/* An issuer lookup (a subject search of a whole store, for certificates)
 * hands out DER that OpenSSL parses itself: nothing needs parsing here. */
static bool der_only(const csp_loader *l)
{
	return l->uri.sel == CSP_SEL_NONE && l->subject != NULL && wants(l, OSSL_STORE_INFO_CERT);
}

static cs_rv run_query(csp_loader *l, cs_err *err)
{
	cs_find_opts opts = {.store = l->uri.store};
	cs_store *st = NULL;
	cs_rv rv;

	rv = csp_store_acquire(l->prov, &st, err);
	if (rv != CS_OK)
		return rv;
	if (der_only(l))
		rv = cs_store_find_der_by_subject(st, l->subject, &opts, &l->ders, err);
	else
		rv = by_selector(l, st, &l->certs, err);
	csp_store_release(l->prov);
	csp_trace("query %s: %s -> %zu", where(l), describe(l),
		  rv == CS_OK ? l->certs.n + l->ders.n : 0);
	if (rv == CS_OK && l->subject != NULL && l->uri.sel != CSP_SEL_NONE)
		keep_subject(&l->certs, l->subject);
	return rv;
}

/* ---- handing out objects ------------------------------------------------- */

static int emit_der(const cs_bytes *der, OSSL_CALLBACK *object_cb, void *object_cbarg)
{
	int type = OSSL_OBJECT_CERT;
	OSSL_PARAM params[] = {
		OSSL_PARAM_int(OSSL_OBJECT_PARAM_TYPE, &type),
		OSSL_PARAM_octet_string(OSSL_OBJECT_PARAM_DATA, der->data, der->len),
		OSSL_PARAM_END,
	};

	return object_cb(params, object_cbarg);
}

static int emit_cert(const cs_cert *cert, OSSL_CALLBACK *object_cb, void *object_cbarg)
{
	return emit_der(&cert->der, object_cb, object_cbarg);
}

/* A My certificate's private key follows it, by reference; issuer lookups
 * (a subject search) want certificates only. */
static bool has_key_to_give(const csp_loader *l, const cs_cert *cert)
{
	return wants(l, OSSL_STORE_INFO_PKEY) && l->subject == NULL && cert->key_uri != NULL &&
	       cert->store == CS_STORE_MY && csp_cert_key_type(cert) != 0;
}

/* Hands on the key a lookup gave (rv, key, err: its result), or raises its
 * error and ends the stream. */
static int emit_found_key(csp_loader *l, cs_rv rv, csp_key *key, cs_err *err,
			  OSSL_CALLBACK *object_cb, void *object_cbarg)
{
	int ok;

	if (rv != CS_OK) {
		csp_raise_err(l->prov, err);
		l->failed = true;
		return 0;
	}
	ok = csp_key_emit(key, object_cb, object_cbarg);
	csp_key_free(key);
	return ok;
}

static int emit_key(csp_loader *l, const cs_cert *cert, OSSL_CALLBACK *object_cb,
		    void *object_cbarg)
{
	csp_key *key = NULL;
	cs_err err = {0};
	cs_rv rv = csp_key_from_thumbprint(l->prov, cert->sha1, &key, &err);

	return emit_found_key(l, rv, key, &err, object_cb, object_cbarg);
}

/* The next object: a certificate, then its key if it has one to give. */
static int load_next(csp_loader *l, OSSL_CALLBACK *object_cb, void *object_cbarg)
{
	const cs_cert *cert;

	if (l->next < l->ders.n)
		return emit_der(&l->ders.items[l->next++], object_cb, object_cbarg);

	while (l->next < l->certs.n) {
		cert = l->certs.items[l->next];
		if (!l->cert_done) {
			l->cert_done = true;
			if (wants(l, OSSL_STORE_INFO_CERT))
				return emit_cert(cert, object_cb, object_cbarg);
		}
		l->next++;
		l->cert_done = false;
		if (has_key_to_give(l, cert))
			return emit_key(l, cert, object_cb, object_cbarg);
	}
	l->eof = true;
	return 0;
}

/* ?key=URI: the one object is the key itself. */
static int load_key_by_uri(csp_loader *l, OSSL_CALLBACK *object_cb, void *object_cbarg)
{
	csp_key *key = NULL;
	cs_err err = {0};
	cs_rv rv;

	l->eof = true;
	if (!wants(l, OSSL_STORE_INFO_PKEY))
		return 0;
	rv = csp_key_from_uri(l->prov, l->uri.value, &key, &err);
	return emit_found_key(l, rv, key, &err, object_cb, object_cbarg);
}

static int csp_store_load(void *loaderctx, OSSL_CALLBACK *object_cb, void *object_cbarg,
			  OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
	csp_loader *l = loaderctx;
	cs_err err = {0};

	if (l->uri.sel == CSP_SEL_KEY)
		return l->eof ? 0 : load_key_by_uri(l, object_cb, object_cbarg);

	/* After an error, end the stream: callers loop until eof. */
	if (l->failed || !(wants(l, OSSL_STORE_INFO_CERT) || wants(l, OSSL_STORE_INFO_PKEY))) {
		l->eof = true;
		return 0;
	}
	if (!l->queried) {
		l->queried = true;
		if (run_query(l, &err) != CS_OK) {
			csp_raise_err(l->prov, &err);
			l->failed = true;
			return 0;
		}
	}
	return load_next(l, object_cb, object_cbarg);
}

static int csp_store_eof(void *loaderctx)
{
	const csp_loader *l = loaderctx;

	return l->eof;
}

static int csp_store_close(void *loaderctx)
{
	csp_loader *l = loaderctx;

	if (l == NULL)
		return 1;
	cs_cert_list_clear(&l->certs);
	cs_der_list_clear(&l->ders);
	X509_NAME_free(l->subject);
	csp_uri_clear(&l->uri);
	free(l);
	return 1;
}

const OSSL_DISPATCH csp_store_functions[] = {
	{OSSL_FUNC_STORE_OPEN, (void (*)(void))csp_store_open},
	{OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS, (void (*)(void))csp_store_settable_ctx_params},
	{OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*)(void))csp_store_set_ctx_params},
	{OSSL_FUNC_STORE_LOAD, (void (*)(void))csp_store_load},
	{OSSL_FUNC_STORE_EOF, (void (*)(void))csp_store_eof},
	{OSSL_FUNC_STORE_CLOSE, (void (*)(void))csp_store_close},
	{0, NULL},
};
