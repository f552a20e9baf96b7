/*
 * pkcs12.c - PFX in and out (see pkcs12.h).
 *
 * Decoding happens with a private OSSL_LIB_CTX (default + legacy provider)
 * made the thread's default for the duration: PKCS12_parse fetches its
 * ciphers with a NULL library context.  Everything that leaves this file is
 * re-decoded in the process's own default context (keys from PKCS#8,
 * certificates from DER), so nothing outlives the private context.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "internal.h"
#include "pkcs12.h"
#include "certs.h"

/* A library context with the default provider and, if present, the legacy one. */
typedef struct pfx_libctx {
	OSSL_LIB_CTX *ctx;
	OSSL_PROVIDER *deflt, *legacy;
} pfx_libctx;

static cs_rv libctx_open(pfx_libctx *lc, cs_err *err)
{
	memset(lc, 0, sizeof(*lc));
	lc->ctx = OSSL_LIB_CTX_new();
	if (lc->ctx != NULL)
		lc->deflt = OSSL_PROVIDER_load(lc->ctx, "default");
	if (lc->deflt == NULL) {
		cs_err_set(err, CS_ERR_INTERNAL, "cannot set up an OpenSSL context for PKCS#12");
		cs_err_add_openssl(err);
		return CS_ERR_INTERNAL;
	}
	/* Without it only legacy PFX fail, with their own message. */
	ERR_set_mark();
	lc->legacy = OSSL_PROVIDER_load(lc->ctx, "legacy");
	ERR_pop_to_mark();
	return CS_OK;
}

static void libctx_close(pfx_libctx *lc)
{
	if (lc->legacy != NULL)
		OSSL_PROVIDER_unload(lc->legacy);
	if (lc->deflt != NULL)
		OSSL_PROVIDER_unload(lc->deflt);
	OSSL_LIB_CTX_free(lc->ctx);
	memset(lc, 0, sizeof(*lc));
}

void cs_pfx_clear(cs_pfx *pfx)
{
	if (pfx == NULL)
		return;
	EVP_PKEY_free(pfx->key);
	cs_cert_free(pfx->cert);
	cs_cert_list_clear(&pfx->chain);
	free(pfx->friendly_name);
	memset(pfx, 0, sizeof(*pfx));
}

/* ---- decoding --------------------------------------------------------------- */

/* The MAC check, which is where a wrong password shows. */
static bool password_ok(PKCS12 *p12, const char *password)
{
	if (!PKCS12_mac_present(p12))
		return true;
	if (password[0] == '\0')
		return PKCS12_verify_mac(p12, NULL, 0) || PKCS12_verify_mac(p12, "", 0);
	return PKCS12_verify_mac(p12, password, -1) == 1;
}

/* Raw results of PKCS12_parse, still in the private context. */
typedef struct pfx_raw {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) * ca;
} pfx_raw;

static void pfx_raw_free(pfx_raw *raw)
{
	EVP_PKEY_free(raw->key);
	X509_free(raw->cert);
	sk_X509_pop_free(raw->ca, X509_free);
	memset(raw, 0, sizeof(*raw));
}

static cs_rv decode_raw(const unsigned char *data, size_t len, const char *name,
			const char *password, pfx_raw *raw, cs_err *err)
{
	const unsigned char *p = data;
	PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
	cs_rv rv = CS_OK;

	if (p12 == NULL) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "%s is not a PKCS#12 (PFX) file", name);
	} else if (!password_ok(p12, password)) {
		rv = cs_err_set(err, CS_ERR_AUTH, "wrong password for %s", name);
	} else if (!PKCS12_parse(p12, password, &raw->key, &raw->cert, &raw->ca)) {
		/* Without a MAC a wrong password shows only here. */
		rv = cs_err_set(err, PKCS12_mac_present(p12) ? CS_ERR_BAD_INPUT : CS_ERR_AUTH,
				"%s: cannot decrypt the PFX (wrong password, or an algorithm "
				"this OpenSSL lacks)",
				name);
		cs_err_add_openssl(err);
	}
	ERR_clear_error();
	PKCS12_free(p12);
	return rv;
}

/* The key as PKCS#8, while the private context is still the default. */
static cs_rv key_to_p8(EVP_PKEY *key, PKCS8_PRIV_KEY_INFO **p8, const char *name, cs_err *err)
{
	*p8 = EVP_PKEY2PKCS8(key);
	if (*p8 != NULL)
		return CS_OK;
	cs_err_set(err, CS_ERR_BAD_INPUT, "%s: cannot encode its private key", name);
	cs_err_add_openssl(err);
	return CS_ERR_BAD_INPUT;
}

static cs_rv cert_from_x509_der(X509 *x509, cs_cert **out, cs_err *err)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x509, &der);
	cs_rv rv;

	if (n <= 0)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "cannot encode a certificate of the PFX");
	rv = cs_cert_from_der(der, (size_t)n, out, err);
	OPENSSL_free(der);
	return rv;
}

static cs_rv friendly_name_of(X509 *x509, char **out, cs_err *err)
{
	int len = 0;
	const unsigned char *alias = X509_alias_get0(x509, &len);

	*out = NULL;
	if (alias == NULL || len <= 0)
		return CS_OK;
	*out = strndup((const char *)alias, (size_t)len);
	return *out ? CS_OK : cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
}

/* Moves raw (from the private context) into pfx (the default context). */
static cs_rv adopt(pfx_raw *raw, PKCS8_PRIV_KEY_INFO *p8, const char *name, cs_pfx *pfx,
		   cs_err *err)
{
	cs_rv rv;

	pfx->key = EVP_PKCS82PKEY(p8);
	if (pfx->key == NULL) {
		cs_err_set(err, CS_ERR_BAD_INPUT, "%s: cannot decode its private key", name);
		cs_err_add_openssl(err);
		return CS_ERR_BAD_INPUT;
	}
	rv = cert_from_x509_der(raw->cert, &pfx->cert, err);
	if (rv == CS_OK)
		rv = friendly_name_of(raw->cert, &pfx->friendly_name, err);
	for (int i = 0; rv == CS_OK && i < sk_X509_num(raw->ca); i++) {
		cs_cert *c = NULL;

		rv = cert_from_x509_der(sk_X509_value(raw->ca, i), &c, err);
		if (rv == CS_OK)
			rv = cs_cert_list_push(&pfx->chain, c, err);
	}
	return rv;
}

cs_rv cs_pfx_parse(const unsigned char *data, size_t len, const char *name, const char *password,
		   cs_pfx *out, cs_err *err)
{
	pfx_libctx lc;
	OSSL_LIB_CTX *prev;
	pfx_raw raw = {0};
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	rv = libctx_open(&lc, err);
	if (rv != CS_OK)
		return rv;
	prev = OSSL_LIB_CTX_set0_default(lc.ctx);
	rv = decode_raw(data, len, name, password, &raw, err);
	if (rv == CS_OK && raw.key == NULL)
		rv = cs_err_set(err, CS_ERR_BAD_INPUT,
				"%s holds no private key (import its certificates as a "
				"PEM or .p7b file instead)",
				name);
	else if (rv == CS_OK && raw.cert == NULL)
		rv = cs_err_set(err, CS_ERR_BAD_INPUT,
				"%s holds no certificate for its private key", name);
	if (rv == CS_OK)
		rv = key_to_p8(raw.key, &p8, name, err);
	OSSL_LIB_CTX_set0_default(prev);
	if (rv == CS_OK)
		rv = adopt(&raw, p8, name, out, err);
	PKCS8_PRIV_KEY_INFO_free(p8);
	pfx_raw_free(&raw);
	libctx_close(&lc);
	if (rv != CS_OK)
		cs_pfx_clear(out);
	return rv;
}

/* ---- import ----------------------------------------------------------------- */

/* The certificates to store: the key's first (My, bound later), then the chain. */
static cs_rv plan_certs(cs_pfx *pfx, const cs_pfx_import_opts *opts, cs_cert_list *out, cs_err *err)
{
	const char *fname = opts->friendly_name ? opts->friendly_name : pfx->friendly_name;
	cs_rv rv;

	pfx->cert->store = CS_STORE_MY;
	pfx->cert->exportable = opts->exportable;
	free(pfx->cert->friendly_name);
	pfx->cert->friendly_name = cs_strdup_or_null(fname);
	rv = cs_cert_list_push(out, pfx->cert, err);
	pfx->cert = NULL;
	for (size_t i = 0; rv == CS_OK && i < pfx->chain.n; i++) {
		cs_cert *c = pfx->chain.items[i];

		/* Trust is the admin's decision: only with trust_root. */
		if (opts->trust_root && cs_cert_is_ca(c) && cs_cert_is_self_signed(c))
			c->store = CS_STORE_ROOT;
		rv = cs_cert_list_push(out, c, err);
		pfx->chain.items[i] = NULL; /* owned by out now */
	}
	return rv;
}

/*
 * The PFX's certificate may already be in My: with its key that is a
 * duplicate; without one (imported alone, before the key arrived) the PFX
 * brings the missing key and Windows attaches it, so *keyless receives it.
 */
static cs_rv check_my(cs_store *store, const cs_cert *cert, const char *name, cs_cert **keyless,
		      cs_err *err)
{
	cs_cert *found = NULL;
	cs_rv rv = cs_store_find_by_thumbprint(store, CS_STORE_MY, cert->sha1, &found, err);

	*keyless = NULL;
	if (rv == CS_OK && found->key_uri == NULL) {
		*keyless = found;
		return CS_OK;
	}
	cs_cert_free(found);
	if (rv == CS_OK)
		return cs_err_set(err, CS_ERR_DUPLICATE,
				  "%s: %s (%s) is already in My with its key", name, cert->subject,
				  cert->sha1);
	return rv == CS_ERR_NOT_FOUND ? CS_OK : rv;
}

/*
 * Puts the key in the token.  *created says whether it is ours to delete on
 * failure: a key the token already had is bound as it is.
 */
static cs_rv put_key(cs_token *tok, EVP_PKEY *key, cs_cert *leaf, char **uri, bool *created,
		     cs_err *err)
{
	cs_rv rv = cs_key_import(tok, key, leaf->friendly_name, leaf->exportable, uri, err);

	*created = rv == CS_OK;
	if (rv == CS_ERR_DUPLICATE && *uri != NULL)
		rv = cs_key_is_exportable(tok, *uri, &leaf->exportable, err);
	if (rv == CS_OK) {
		free(leaf->key_uri);
		leaf->key_uri = strdup(*uri);
		if (leaf->key_uri == NULL)
			rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	return rv;
}

/*
 * The key goes to the certificate already in My: the chain is imported
 * (placed as usual), then the key bound; res lists the certificate first,
 * a duplicate with key_attached set.
 */
static cs_rv attach_key(cs_store *store, cs_cert *keyless, cs_cert_list *certs,
			cs_import_result *res, cs_err *err)
{
	cs_import_opts iopts = {0};
	cs_cert_list chain = {certs->items + 1, certs->n - 1};
	cs_import_item *items;
	cs_rv rv = CS_OK;

	memset(res, 0, sizeof(*res));
	if (chain.n > 0)
		rv = cs_import_certs_placed(store, &chain, &iopts, res, err);
	if (rv == CS_OK)
		rv = cs_store_set_key(store, keyless, certs->items[0]->key_uri,
				      certs->items[0]->exportable, err);
	if (rv != CS_OK)
		return rv;
	items = realloc(res->items, (res->n + 1) * sizeof(*items));
	if (items == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	memmove(items + 1, items, res->n * sizeof(*items));
	memset(items, 0, sizeof(*items));
	items[0].outcome = CS_IMPORT_DUPLICATE;
	items[0].store = CS_STORE_MY;
	items[0].key_attached = true;
	memcpy(items[0].sha1, keyless->sha1, sizeof(items[0].sha1));
	items[0].subject = strdup(keyless->subject);
	res->items = items;
	res->n++;
	res->duplicates++;
	return CS_OK;
}

static cs_rv store_certs(cs_store *store, const cs_cert_list *certs, const char *name,
			 cs_import_result *res, cs_err *err)
{
	cs_import_opts iopts = {0};
	cs_rv rv = cs_import_certs_placed(store, certs, &iopts, res, err);

	if (rv == CS_OK && (res->n == 0 || res->items[0].outcome != CS_IMPORT_ADDED)) {
		/* Another writer got there first; the transaction has committed the rest. */
		rv = cs_err_set(err, CS_ERR_DUPLICATE, "%s: its certificate is already in My",
				name);
	}
	return rv;
}

cs_rv cs_pfx_import(cs_store *store, cs_token *tok, const char *name, const unsigned char *data,
		    size_t len, const char *password, const cs_pfx_import_opts *opts,
		    cs_import_result *res, char **key_uri_out, cs_err *err)
{
	static const cs_pfx_import_opts no_opts;
	cs_pfx pfx = {0};
	cs_cert_list certs = {0};
	EVP_PKEY *key = NULL;
	cs_cert *keyless = NULL;
	char *uri = NULL;
	bool created = false;
	cs_rv rv;

	memset(res, 0, sizeof(*res));
	if (key_uri_out != NULL)
		*key_uri_out = NULL;
	rv = cs_pfx_parse(data, len, name, password, &pfx, err);
	if (rv != CS_OK)
		return rv;
	key = pfx.key;
	pfx.key = NULL;
	rv = check_my(store, pfx.cert, name, &keyless, err);
	if (rv == CS_OK)
		rv = plan_certs(&pfx, opts ? opts : &no_opts, &certs, err);
	if (rv == CS_OK) {
		rv = put_key(tok, key, certs.items[0], &uri, &created, err);
		if (rv != CS_OK)
			cs_err_prefix(err, "%s", name);
	}
	if (rv == CS_OK && keyless != NULL)
		rv = attach_key(store, keyless, &certs, res, err);
	else if (rv == CS_OK)
		rv = store_certs(store, &certs, name, res, err);
	if (rv != CS_OK && created)
		cs_key_rollback(tok, uri, err);
	if (rv == CS_OK && key_uri_out != NULL) {
		*key_uri_out = uri;
		uri = NULL;
	}
	free(uri);
	EVP_PKEY_free(key);
	cs_cert_free(keyless);
	cs_cert_list_clear(&certs);
	cs_pfx_clear(&pfx);
	return rv;
}

/* ---- export ----------------------------------------------------------------- */

/* The chain above cert (not cert itself), as far as the store builds it. */
static cs_rv chain_of(cs_store *store, const cs_cert *cert, STACK_OF(X509) * *out, cs_err *err)
{
	cs_status_report report = {0};
	cs_rv rv = cs_status_compute(store, cert, 0, &report, err);

	*out = sk_X509_new_null();
	if (rv == CS_OK && *out == NULL)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	for (size_t i = 1; rv == CS_OK && i < report.chain.n; i++) {
		X509 *x = report.chain.items[i]->x509;

		if (!X509_up_ref(x) || !sk_X509_push(*out, x)) {
			X509_free(x);
			rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		}
	}
	cs_status_report_clear(&report);
	return rv;
}

static cs_rv encode_p12(PKCS12 *p12, cs_bytes *out, cs_err *err)
{
	unsigned char *der = NULL;
	int n = i2d_PKCS12(p12, &der);

	if (n <= 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot encode the PFX");
	out->data = malloc((size_t)n);
	if (out->data != NULL) {
		memcpy(out->data, der, (size_t)n);
		out->len = (size_t)n;
	}
	OPENSSL_clear_free(der, (size_t)n);
	return out->data ? CS_OK : cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
}

static cs_rv build_p12(const cs_cert *cert, EVP_PKEY *key, STACK_OF(X509) * ca,
		       const char *password, bool legacy, cs_bytes *out, cs_err *err)
{
	int nid_key = legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : NID_aes_256_cbc;
	int nid_cert = legacy ? NID_pbe_WithSHA1And40BitRC2_CBC : NID_aes_256_cbc;
	pfx_libctx lc;
	PKCS12 *p12 = NULL;
	cs_rv rv = libctx_open(&lc, err);

	if (rv != CS_OK)
		return rv;
	if (legacy && lc.legacy == NULL) {
		libctx_close(&lc);
		return cs_err_set(err, CS_ERR_INTERNAL,
				  "OpenSSL's legacy provider is not available for --legacy");
	}
	/* mac_iter -1: no MAC yet, it is added below with the digest we choose. */
	p12 = PKCS12_create_ex(password, cert->friendly_name, key, cert->x509, ca, nid_key,
			       nid_cert, PKCS12_DEFAULT_ITER, -1, 0, lc.ctx, NULL);
	if (p12 == NULL || !PKCS12_set_mac(p12, password, -1, NULL, 0, PKCS12_DEFAULT_ITER,
					   legacy ? EVP_sha1() : EVP_sha256())) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot make the PFX");
		cs_err_add_openssl(err);
	}
	if (rv == CS_OK)
		rv = encode_p12(p12, out, err);
	PKCS12_free(p12);
	libctx_close(&lc);
	return rv;
}

cs_rv cs_pfx_export(cs_store *store, cs_token *tok, const cs_cert *cert, const char *password,
		    const cs_pfx_export_opts *opts, cs_bytes *out, cs_err *err)
{
	EVP_PKEY *key = NULL;
	STACK_OF(X509) *ca = NULL;
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	if (password == NULL || password[0] == '\0')
		return cs_err_set(err, CS_ERR_USAGE, "a PFX needs a non-empty password");
	if (cert->key_uri == NULL)
		return cs_err_set(err, CS_ERR_KEY, "%s (%s) has no private key to export",
				  cert->subject, cert->sha1);
	rv = cs_key_export(tok, cert->key_uri, &key, err);
	if (rv == CS_ERR_REFUSED)
		cs_err_set(err, rv, "the private key of %s (%s) is not exportable", cert->subject,
			   cert->sha1);
	if (rv == CS_OK && opts != NULL && opts->chain)
		rv = chain_of(store, cert, &ca, err);
	if (rv == CS_OK)
		rv = build_p12(cert, key, ca, password, opts != NULL && opts->legacy, out, err);
	sk_X509_pop_free(ca, X509_free);
	EVP_PKEY_free(key);
	return rv;
}
