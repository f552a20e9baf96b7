/*
 * est_http.c - see est_http.h.
 */
#include "est_http.h"
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

typedef struct http_call {
	const enroll_http_req *req;
	enroll_http_resp *resp;
	bool too_big;
} http_call;

void enroll_http_resp_clear(enroll_http_resp *r)
{
	if (r == NULL)
		return;
	free(r->content_type);
	free(r->retry_after);
	cs_bytes_clear(&r->body);
	memset(r, 0, sizeof(*r));
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	http_call *call = arg;
	cs_bytes *b = &call->resp->body;
	size_t len = size * n;
	unsigned char *grown;

	if (b->len + len > HTTP_MAX_BODY) {
		call->too_big = true;
		return 0;
	}
	grown = realloc(b->data, b->len + len + 1);
	if (grown == NULL)
		return 0;
	memcpy(grown + b->len, data, len);
	b->data = grown;
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

static char *header_value(const char *line, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *v, *end = line + len;

	if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
		return NULL;
	for (v = line + nlen + 1; v < end && isspace((unsigned char)*v); v++)
		;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	return strndup(v, (size_t)(end - v));
}

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	http_call *call = arg;
	size_t len = size * n;
	char *v;

	if ((v = header_value(line, len, "Content-Type")) != NULL) {
		free(call->resp->content_type);
		call->resp->content_type = v;
	} else if ((v = header_value(line, len, "Retry-After")) != NULL) {
		free(call->resp->retry_after);
		call->resp->retry_after = v;
	}
	return len;
}

/* RFC 7030 4.1.1: keep the chain the server showed, accept it for now. */
static int keep_peer_chain(X509_STORE_CTX *xctx, void *arg)
{
	enroll_http_tls *tls = arg;
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

/* Only the anchors the caller gave: curl's default bundle is replaced. */
static CURLcode setup_ssl_ctx(CURL *curl, void *sslctx, void *arg)
{
	enroll_http_tls *tls = arg;
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
	if (tls->client_cert != NULL &&
	    (SSL_CTX_use_certificate(ctx, tls->client_cert) != 1 ||
	     SSL_CTX_use_PrivateKey(ctx, tls->client_key) != 1))
		return CURLE_SSL_CERTPROBLEM;
	ERR_clear_error();
	return CURLE_OK;
}

static void set_options(CURL *curl, const enroll_http_req *req, http_call *call,
			struct curl_slist *headers, char *errbuf)
{
	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, req->connect_timeout);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, req->timeout);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, call);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "certstore");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
	}
	if (req->user != NULL) {
		curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(curl, CURLOPT_USERNAME, req->user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, req->password ? req->password : "");
	}
	if (req->tls != NULL) {
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
		curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, setup_ssl_ctx);
		curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, req->tls);
	}
}

static cs_rv classify(const enroll_http_req *req, CURLcode cc, const char *errbuf,
		      const http_call *call, cs_err *err)
{
	const char *detail = *errbuf ? errbuf : curl_easy_strerror(cc);

	if (cc == CURLE_OK)
		return CS_OK;
	switch (enroll_curl_class(cc)) {
	case CS_ERR_UNREACHABLE:
		return cs_err_set(err, CS_ERR_UNREACHABLE, "cannot reach %s at %s: %s", req->what,
				  req->url, detail);
	case CS_ERR_TLS:
		return cs_err_set(err, CS_ERR_TLS,
				  "the TLS certificate of %s does not verify against %s: %s",
				  req->what, "its trust anchors (the Root store or ca-file)", detail);
	default:
		break;
	}
	if (cc == CURLE_WRITE_ERROR && call->too_big)
		return cs_err_set(err, CS_ERR_CA, "%s sent more than %u bytes", req->what,
				  HTTP_MAX_BODY);
	return cs_err_set(err, CS_ERR_CA, "talking to %s at %s failed: %s", req->what, req->url,
			  detail);
}

cs_rv enroll_http_perform(const enroll_http_req *req, enroll_http_resp *out, cs_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "", ctype[128];
	struct curl_slist *headers = NULL;
	http_call call = {req, out, false};
	CURL *curl;
	CURLcode cc;
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	curl = curl_easy_init();
	if (curl == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot start libcurl");
	if (req->content_type != NULL) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", req->content_type);
		headers = curl_slist_append(headers, ctype);
	}
	headers = curl_slist_append(headers, "Expect:");
	set_options(curl, req, &call, headers, errbuf);
	/* A token key loaded in the tool's provider context signs the handshake
	 * of curl's SSL_CTX (default context) as it is: libcrypto asks the key's
	 * own provider first.  (Swapping the default context breaks that.) */
	cc = curl_easy_perform(curl);
	ERR_clear_error();
	rv = classify(req, cc, errbuf, &call, err);
	if (rv == CS_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	else
		enroll_http_resp_clear(out);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return rv;
}

static cs_rv push_x509s(const cs_cert_list *certs, STACK_OF(X509) *st, cs_err *err)
{
	size_t i;

	for (i = 0; i < certs->n; i++) {
		X509 *x = certs->items[i]->x509;

		if (!X509_up_ref(x) || !sk_X509_push(st, x))
			return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	return CS_OK;
}

cs_rv enroll_http_anchors(cs_store *store, const char *ca_file, STACK_OF(X509) **out,
			  cs_err *err)
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

cs_rv enroll_http_client_identity(enroll_ctx *ctx, const char *thumbprint, X509 **cert,
				  EVP_PKEY **key, cs_err *err)
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
	if (rv == CS_OK && ctx->keys->libctx == NULL)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "no key context for the client certificate");
	if (rv == CS_OK)
		rv = cli_keys_load(ctx->keys, c->key_uri, key, err);
	if (rv == CS_OK && X509_up_ref(c->x509))
		*cert = c->x509;
	if (rv != CS_OK)
		cs_err_prefix(err, "client-cert %s", thumbprint);
	cs_cert_free(c);
	return rv;
}

void enroll_http_excerpt(const cs_bytes *body, char *out, size_t n)
{
	size_t i, o = 0;
	bool space = false;

	for (i = 0; body->data != NULL && i < body->len && o + 4 < n; i++) {
		unsigned char c = body->data[i];

		if (isspace(c) || !isprint(c)) {
			space = o > 0;
			continue;
		}
		if (space)
			out[o++] = ' ';
		space = false;
		out[o++] = (char)c;
	}
	if (i < body->len && o + 4 <= n)
		memcpy(out + o, "...", 3), o += 3;
	out[o] = '\0';
}
