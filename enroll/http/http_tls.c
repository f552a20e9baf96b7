/*
 * http_tls.c - the TLS context of HTTP_TRUST_ROOT_STORE connections (see
 * http.h): anchors from the Root store or ca-file installed as the only
 * trust, RFC 7030 4.1.1 provisional acceptance, and a TLS client
 * certificate whose key stays in the token.
 */
#include "config.h"
#include "http.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

void http_tls_clear(http_tls *tls)
{
	if (tls == NULL)
		return;
	sk_X509_pop_free(tls->anchors, X509_free);
	sk_X509_pop_free(tls->peer_chain, X509_free);
	X509_free(tls->client_cert);
	EVP_PKEY_free(tls->client_key);
	memset(tls, 0, sizeof(*tls));
}

/* RFC 7030 4.1.1: keep the chain the server showed, accept it for now. */
static int keep_peer_chain(X509_STORE_CTX *xctx, void *arg)
{
	http_tls *tls = arg;
	STACK_OF(X509) *untrusted = X509_STORE_CTX_get0_untrusted(xctx);
	X509 *leaf = X509_STORE_CTX_get0_cert(xctx);
	int i;

	sk_X509_pop_free(tls->peer_chain, X509_free);
	tls->peer_chain = sk_X509_new_null();
	if (tls->peer_chain == NULL || leaf == NULL)
		return 0;
	X509_up_ref(leaf);
	sk_X509_push(tls->peer_chain, leaf);
	for (i = 0; untrusted != NULL && i < sk_X509_num(untrusted); i++) {
		X509 *c = sk_X509_value(untrusted, i);

		if (X509_cmp(c, leaf) != 0 && X509_up_ref(c))
			sk_X509_push(tls->peer_chain, c);
	}
	return 1;
}

/* Only the anchors given: curl's default bundle is replaced. */
static CURLcode setup_ssl_ctx(CURL *curl, void *sslctx, void *arg)
{
	http_tls *tls = arg;
	SSL_CTX *ctx = sslctx;
	X509_STORE *st = X509_STORE_new();
	int i;

	(void)curl;
	for (i = 0; st != NULL && tls->anchors != NULL && i < sk_X509_num(tls->anchors); i++)
		X509_STORE_add_cert(st, sk_X509_value(tls->anchors, i));
	if (st == NULL)
		return CURLE_OUT_OF_MEMORY;
	SSL_CTX_set_cert_store(ctx, st);
	if (tls->provisional)
		SSL_CTX_set_cert_verify_callback(ctx, keep_peer_chain, tls);
	/* A token key loaded in the tool's provider context signs the handshake
	 * of curl's SSL_CTX (default context) as it is: libcrypto asks the key's
	 * own provider first.  (Swapping the default context breaks that.) */
	if (tls->client_cert != NULL && (SSL_CTX_use_certificate(ctx, tls->client_cert) != 1 ||
					 SSL_CTX_use_PrivateKey(ctx, tls->client_key) != 1))
		return CURLE_SSL_CERTPROBLEM;
	ERR_clear_error();
	return CURLE_OK;
}

cs_rv http_tls_setup(http_conn *h, cs_store *store, cs_err *err)
{
	cs_rv rv = http_anchors(store, h->profile->ca_file, &h->tls.anchors, err);

	if (rv != CS_OK || h->plain)
		return rv;
	curl_easy_setopt(h->curl, CURLOPT_SSL_CTX_FUNCTION, setup_ssl_ctx);
	curl_easy_setopt(h->curl, CURLOPT_SSL_CTX_DATA, &h->tls);
	return CS_OK;
}

static cs_rv push_x509s(const cs_cert_list *certs, STACK_OF(X509) * st, cs_err *err)
{
	size_t i;

	for (i = 0; i < certs->n; i++) {
		X509 *x = certs->items[i]->x509;

		if (!X509_up_ref(x) || !sk_X509_push(st, x))
			return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	return CS_OK;
}

cs_rv http_anchors(cs_store *store, const char *ca_file, STACK_OF(X509) * *out, cs_err *err)
{
	cs_find_opts opts = {.store = CS_STORE_ROOT};
	cs_cert_list certs = {0};
	cs_bytes data = {0};
	cs_rv rv;

	*out = sk_X509_new_null();
	if (*out == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (ca_file != NULL) {
		rv = cs_read_file(ca_file, &data, err);
		if (rv == CS_OK)
			rv = cs_parse_certs(data.data, data.len, NULL, &certs, err);
		if (rv != CS_OK)
			cs_err_prefix(err, "ca-file %s", ca_file);
	} else
		rv = cs_store_list(store, &opts, &certs, err);
	if (rv == CS_OK)
		rv = push_x509s(&certs, *out, err);
	if (rv != CS_OK) {
		sk_X509_pop_free(*out, X509_free);
		*out = NULL;
	}
	cs_cert_list_clear(&certs);
	cs_bytes_clear(&data);
	return rv;
}

cs_rv http_client_identity(enroll_ctx *ctx, const char *thumbprint, X509 **cert, EVP_PKEY **key,
			   cs_err *err)
{
	cs_find_opts opts = {.store = CS_STORE_MY};
	cs_cert *c = NULL;
	cs_rv rv;

	*cert = NULL;
	*key = NULL;
	rv = cs_store_find_one(ctx->store, thumbprint, &opts, &c, NULL, err);
	if (rv == CS_OK && c->key_uri == NULL)
		rv = cs_err_set(err, CS_ERR_KEY, "the client certificate %s has no private key",
				c->subject);
	if (rv == CS_OK && (ctx->keys == NULL || ctx->keys->libctx == NULL))
		rv = cs_err_set(err, CS_ERR_INTERNAL, "no key context for the client certificate");
	if (rv == CS_OK)
		rv = enroll_load_key(ctx, c->key_uri, key, err);
	if (rv == CS_OK && X509_up_ref(c->x509))
		*cert = c->x509;
	if (rv != CS_OK)
		cs_err_prefix(err, "client-cert %s", thumbprint);
	cs_cert_free(c);
	return rv;
}
