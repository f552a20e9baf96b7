/*
 * est.c - protocol "est": Enrollment over Secure Transport, RFC 7030.
 *
 * Profile keys ([ca.NAME] in certstore.conf):
 *   url            https://host[:port] (or a base already ending in /.well-known/est)
 *   label          optional CA label: /.well-known/est/LABEL/...
 *   auth           basic (the default when user is set) or none; RFC 7030 3.2.3
 *                  HTTP authentication is Basic here, TLS client auth is client-cert
 *   user           Basic auth user; password-file holds the password (first line)
 *   client-cert    thumbprint of a certificate in My used for TLS client auth
 *   ca-file        anchors for the server's TLS instead of the Root store
 *   csrattrs       yes: ask /csrattrs before the request is built and apply it
 *   connect-timeout, timeout   seconds
 *
 * Trust: the server's TLS certificate must chain to the Root store (or to
 * ca-file).  For the very first contact, when nothing can verify it yet,
 * `certstore ca roots NAME --expect-fingerprint SHA256` uses the RFC 7030
 * 4.1.1 bootstrap: the TLS connection is accepted provisionally, /cacerts is
 * fetched, one of its certificates must have the fingerprint the admin got
 * out of band, and the server's own TLS chain must verify under it; anything
 * else is refused before a certificate is shown.
 */
#include "certs.h"
#include "enroll.h"
#include "http.h"
#include "est_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

typedef struct est_session {
	enroll_ctx *ctx;
	const enroll_profile *p;
	char *base;
	http_conn http;
} est_session;

static void est_close(est_session *s)
{
	free(s->base);
	http_close(&s->http);
	memset(s, 0, sizeof(*s));
}

static cs_rv est_base_url(const enroll_profile *p, char **out, cs_err *err)
{
	const char *label = enroll_profile_get(p, "label");
	size_t len;

	if (p->url == NULL || strncasecmp(p->url, "https://", 8) != 0)
		return cs_err_set(err, CS_ERR_USAGE, "[ca.%s]: EST needs url = https://HOST[:PORT]",
				  p->name);
	len = strlen(p->url);
	while (len > 8 && p->url[len - 1] == '/')
		len--;
	if (asprintf(out, "%.*s%s%s%s", (int)len, p->url,
		     strstr(p->url, "/.well-known/est") ? "" : "/.well-known/est", label ? "/" : "",
		     label ? label : "") < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	return CS_OK;
}

static cs_rv est_identity(est_session *s, const cs_cert *client, http_open_opts *o, cs_err *err)
{
	const char *thumb = enroll_profile_get(s->p, "client-cert");

	if (client != NULL)
		thumb = client->sha1;
	/* `ca roots` opens no token: /cacerts needs no client auth (RFC 7030 4.1.2). */
	if (thumb == NULL ||
	    (client == NULL && (s->ctx->keys == NULL || s->ctx->keys->libctx == NULL)))
		return CS_OK;
	return http_client_identity(s->ctx, thumb, &o->client_cert, &o->client_key, err);
}

/* client: authenticate with this certificate (reenroll); provisional: bootstrap. */
static cs_rv est_open(enroll_ctx *ctx, const cs_cert *client, bool provisional, est_session *s,
		      cs_err *err)
{
	http_open_opts o = {.provisional = provisional};
	cs_rv rv;

	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->p = ctx->profile;
	rv = est_base_url(s->p, &s->base, err);
	if (rv == CS_OK)
		rv = est_identity(s, client, &o, err);
	if (rv == CS_OK)
		rv = http_open(ctx, &o, &s->http, err); /* takes o's references */
	else {
		X509_free(o.client_cert);
		EVP_PKEY_free(o.client_key);
	}
	if (rv != CS_OK)
		est_close(s);
	return rv;
}

static cs_rv est_call(est_session *s, const char *op, const cs_bytes *body, http_response *resp,
		      cs_err *err)
{
	char *url = NULL;
	cs_rv rv;

	if (asprintf(&url, "%s/%s", s->base, op) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	rv = http_request(&s->http, body ? "POST" : "GET", url, body ? "application/pkcs10" : NULL,
			  body ? body->data : NULL, body ? body->len : 0, NULL, resp, err);
	free(url);
	return rv;
}

/* What a 401 means depends on what was sent: advice to set user and
 * password-file when both are set already sends the admin in circles. */
static const char *est_401_advice(const est_session *s)
{
	if (s->p->user != NULL)
		return "(authentication required: the user and password were refused; check "
		       "user and the password in password-file)";
	if (s->http.tls.client_cert != NULL)
		return "(authentication required: the client certificate was not accepted)";
	return "(authentication required: set user and password-file, or client-cert)";
}

/*
 * Whether an error status to /simpleenroll or /simplereenroll refuses this
 * request for good.  RFC 7030 4.2.3 answers a rejected request with an
 * error status and leaves which one to HTTP: 400 (the request is malformed
 * or the CA's policy rejects it), 409 (it conflicts with what the CA holds)
 * and 422 (understood, not acceptable) are about these bytes, and --retrieve
 * could only send the same bytes again: final, the flow drops the request
 * and its new key.  Not final: 401/403 (the credentials: a request just made
 * is dropped for them anyway, on --retrieve the CA may still hold it),
 * 404/405/410/415/421 (a wrong url or not an EST server: the profile is at
 * fault, not the request), 408/413/429 (time, size or rate limits of the
 * server or a proxy, which pass or can be raised), other 4xx (nothing says
 * what they mean for this request) and 5xx (the server's own failure).
 */
static bool est_final_status(long status)
{
	return status == 400 || status == 409 || status == 422;
}

/* Any status but 200/202 is a refusal, in the server's own words.  out is
 * the answer to an enrollment, NULL for a request that enrolls nothing
 * (/cacerts, /csrattrs): a final refusal marks it denied. */
static cs_rv est_refusal(est_session *s, const char *op, const http_response *r, enroll_answer *out,
			 cs_err *err)
{
	char excerpt[200];

	http_excerpt(r->body, r->len, excerpt, sizeof(excerpt));
	if (http_status_class(r->status) == CS_ERR_AUTH)
		return cs_err_set(err, CS_ERR_AUTH,
				  "the EST server %s refused /%s: HTTP %ld %s%s%s", s->p->name, op,
				  r->status, r->status == 401 ? est_401_advice(s) : "(forbidden)",
				  *excerpt ? ": " : "", excerpt);
	if (out != NULL && est_final_status(r->status)) {
		out->state = ENROLL_DENIED;
		return cs_err_set(err, CS_ERR_CA,
				  "the EST server %s refused the request (/%s): HTTP %ld%s%s",
				  s->p->name, op, r->status, *excerpt ? ": " : "", excerpt);
	}
	return cs_err_set(err, CS_ERR_CA, "the EST server %s answered /%s with HTTP %ld%s%s",
			  s->p->name, op, r->status, *excerpt ? ": " : "", excerpt);
}

static cs_rv base64_lines(const cs_bytes *der, cs_bytes *out, cs_err *err)
{
	size_t chunks = (der->len + 47) / 48, i;
	unsigned char *w;

	out->data = malloc(chunks * 66 + 1);
	if (out->data == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	w = out->data;
	for (i = 0; i < der->len; i += 48) {
		size_t n = der->len - i < 48 ? der->len - i : 48;

		w += EVP_EncodeBlock(w, der->data + i, (int)n);
		*w++ = '\n';
	}
	out->len = (size_t)(w - out->data);
	return CS_OK;
}

static cs_rv est_pending(est_session *s, const cs_pending *pending, const http_response *r,
			 enroll_answer *out, cs_err *err)
{
	long after = est_parse_retry_after(r->retry_after_value, time(NULL));

	out->state = ENROLL_PENDING;
	if (asprintf(&out->ca_request_id, "est-%.16s", pending->key_id) < 0 ||
	    asprintf(&out->detail, "the EST server asks to retry %s%ld seconds",
		     after < 0 ? "" : "after ", after < 0 ? 0 : after) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (after < 0) {
		free(out->detail);
		out->detail = strdup("the EST server gave no Retry-After");
	}
	return CS_OK;
}

/* POST the request to op (simpleenroll/simplereenroll); 202 is pending. */
static cs_rv est_enroll(est_session *s, const char *op, const cs_pending *pending,
			enroll_answer *out, cs_err *err)
{
	http_response r = {0};
	cs_bytes body = {0};
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	rv = base64_lines(&pending->csr_der, &body, err);
	if (rv == CS_OK)
		rv = est_call(s, op, &body, &r, err);
	if (rv == CS_OK && r.status == 200) {
		rv = est_parse_certs(r.content_type, (const unsigned char *)r.body, r.len, 1,
				     &out->certs, err);
		if (rv != CS_OK)
			cs_err_prefix(err,
				      "the EST server %s answered /%s with no usable certificate",
				      s->p->name, op);
		out->state = ENROLL_ISSUED;
	} else if (rv == CS_OK && r.status == 202)
		rv = est_pending(s, pending, &r, out, err);
	else if (rv == CS_OK)
		rv = est_refusal(s, op, &r, out, err);
	if (rv != CS_OK)
		enroll_answer_clear_failed(out);
	http_response_clear(&r);
	cs_bytes_clear(&body);
	return rv;
}

static cs_rv est_submit(enroll_ctx *ctx, X509_REQ *req, const cs_pending *pending,
			enroll_answer *out, cs_err *err)
{
	est_session s;
	cs_rv rv = est_open(ctx, NULL, false, &s, err);

	(void)req; /* pending->csr_der holds the same bytes, as recorded */
	if (rv == CS_OK)
		rv = est_enroll(&s, "simpleenroll", pending, out, err);
	est_close(&s);
	return rv;
}

/* RFC 7030 4.2.3: a pending request is asked for again with the same request. */
static cs_rv est_retrieve(enroll_ctx *ctx, const cs_pending *pending, enroll_answer *out,
			  cs_err *err)
{
	return est_submit(ctx, NULL, pending, out, err);
}

/* simplereenroll over TLS client auth with the certificate being renewed. */
static cs_rv est_renew(enroll_ctx *ctx, X509_REQ *req, const cs_pending *pending,
		       const cs_cert *current, enroll_answer *out, cs_err *err)
{
	est_session s;
	cs_rv rv = est_open(ctx, current, false, &s, err);

	(void)req;
	if (rv == CS_OK)
		rv = est_enroll(&s, "simplereenroll", pending, out, err);
	est_close(&s);
	return rv;
}

/* The server's TLS chain must verify under the certificate the admin vouched for. */
static cs_rv peer_under(est_session *s, const cs_cert_list *certs, X509 *anchor, cs_err *err)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *xctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_dup(s->http.tls.peer_chain);
	X509 *leaf = sk_X509_value(s->http.tls.peer_chain, 0);
	size_t i;
	int ok = 0;

	for (i = 0; untrusted != NULL && i < certs->n; i++)
		sk_X509_push(untrusted, certs->items[i]->x509);
	if (st != NULL && xctx != NULL && leaf != NULL && X509_STORE_add_cert(st, anchor) &&
	    X509_STORE_CTX_init(xctx, st, leaf, untrusted))
		ok = X509_verify_cert(xctx) == 1;
	X509_STORE_CTX_free(xctx);
	X509_STORE_free(st);
	sk_X509_free(untrusted);
	ERR_clear_error();
	if (!ok)
		return cs_err_set(err, CS_ERR_TLS,
				  "the EST server %s: its TLS certificate is not issued under the "
				  "CA certificate with the expected fingerprint; nothing trusted",
				  s->p->name);
	return CS_OK;
}

static cs_rv check_bootstrap(est_session *s, const cs_cert_list *certs, const char *fp, cs_err *err)
{
	size_t i;

	for (i = 0; i < certs->n; i++) {
		if (!cs_cert_matches_fingerprint(certs->items[i], fp))
			continue;
		/* A server Root already vouches for: the fingerprint then only
		 * picks which of several roots to trust. */
		for (int a = 0; a < sk_X509_num(s->http.tls.anchors); a++)
			if (peer_under(s, certs, sk_X509_value(s->http.tls.anchors, a), NULL) ==
			    CS_OK)
				return CS_OK;
		return peer_under(s, certs, certs->items[i]->x509, err);
	}
	return cs_err_set(err, CS_ERR_TRUST_REFUSED,
			  "the EST server %s sent no CA certificate with the fingerprint %s; "
			  "nothing trusted",
			  s->p->name, fp);
}

static cs_rv est_roots(enroll_ctx *ctx, cs_cert_list *out, cs_err *err)
{
	const char *fp = ctx->profile->ca_file == NULL ? ctx->bootstrap_fingerprint : NULL;
	http_response r = {0};
	est_session s;
	cs_rv rv = est_open(ctx, NULL, fp != NULL, &s, err);

	if (rv == CS_OK)
		rv = est_call(&s, "cacerts", NULL, &r, err);
	if (rv == CS_OK && r.status != 200)
		rv = est_refusal(&s, "cacerts", &r, NULL, err);
	if (rv == CS_OK) {
		rv = est_parse_certs(r.content_type, (const unsigned char *)r.body, r.len, 0, out,
				     err);
		if (rv != CS_OK)
			cs_err_prefix(err, "the EST server %s: /cacerts", ctx->profile->name);
	}
	if (rv == CS_OK && fp != NULL)
		rv = check_bootstrap(&s, out, fp, err);
	if (rv != CS_OK)
		cs_cert_list_clear(out);
	http_response_clear(&r);
	est_close(&s);
	return rv;
}

static bool yes(const char *v)
{
	return v != NULL &&
	       (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* The hash or key one OID of /csrattrs stands for, if certstore can make it. */
static bool csrattr_known(const char *oid, const char **hash, const char **key)
{
	static const struct {
		int nid;
		const char *hash, *key;
	} map[] = {
		{NID_ecdsa_with_SHA256, "sha256", NULL},
		{NID_ecdsa_with_SHA384, "sha384", NULL},
		{NID_ecdsa_with_SHA512, "sha512", NULL},
		{NID_sha256WithRSAEncryption, "sha256", NULL},
		{NID_sha384WithRSAEncryption, "sha384", NULL},
		{NID_sha512WithRSAEncryption, "sha512", NULL},
		{NID_secp384r1, NULL, "ec:p384"},
		{NID_X9_62_prime256v1, NULL, "ec:p256"},
	};
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int nid = obj ? OBJ_obj2nid(obj) : NID_undef;
	size_t i;

	ASN1_OBJECT_free(obj);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].nid == nid) {
			*hash = map[i].hash;
			*key = map[i].key;
			return true;
		}
	return false;
}

static void csrattr_name(const char *oid, char *buf, size_t len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);

	if (obj == NULL || OBJ_obj2txt(buf, (int)len, obj, 0) <= 0)
		snprintf(buf, len, "%s", oid);
	ASN1_OBJECT_free(obj);
}

/*
 * What of one /csrattrs entry this client can honour (a hash, an EC curve;
 * what the command line set wins).  What it cannot (another curve, another
 * hash, a challenge password) is said on stderr: the request then goes out
 * without it, and the admin must not believe otherwise.
 */
static cs_rv apply_csrattr(const est_csrattr *a, cs_request_spec *spec, cs_err *err)
{
	const char *hash, *key;
	char name[80];
	int v;
	cs_rv rv = CS_OK;

	for (v = a->n_values > 0 ? 0 : -1; v < a->n_values && rv == CS_OK; v++) {
		const char *oid = v < 0 ? a->oid : a->values[v];

		if (!csrattr_known(oid, &hash, &key)) {
			csrattr_name(oid, name, sizeof(name));
			fprintf(stderr,
				"certstore: not applied: %s (certstore makes RSA and EC "
				"P-256/P-384 keys, signed with SHA-256/384/512)\n",
				name);
			continue;
		}
		if (hash != NULL && spec->hash == NULL)
			rv = cs_request_spec_set(&spec->hash, hash, err);
		if (key != NULL && spec->key == NULL)
			rv = cs_request_spec_set(&spec->key, key, err);
	}
	return rv;
}

static cs_rv est_prepare(enroll_ctx *ctx, cs_request_spec *spec, cs_err *err)
{
	http_response r = {0};
	est_csrattrs attrs = {0};
	est_session s;
	size_t i;
	cs_rv rv;

	if (!yes(enroll_profile_get(ctx->profile, "csrattrs")))
		return CS_OK;
	rv = est_open(ctx, NULL, false, &s, err);
	if (rv == CS_OK)
		rv = est_call(&s, "csrattrs", NULL, &r, err);
	if (rv == CS_OK && r.status == 200)
		rv = est_parse_csrattrs((const unsigned char *)r.body, r.len, &attrs, err);
	else if (rv == CS_OK && r.status != 204 && r.status != 404)
		rv = est_refusal(&s, "csrattrs", &r, NULL, err);
	for (i = 0; rv == CS_OK && i < attrs.n; i++) {
		fprintf(stderr, "certstore: the EST server asks for %s%s%s\n", attrs.items[i].name,
			attrs.items[i].n_values ? " = " : "",
			attrs.items[i].n_values ? attrs.items[i].values[0] : "");
		rv = apply_csrattr(&attrs.items[i], spec, err);
	}
	if (rv == CS_OK && attrs.n > 0)
		fprintf(stderr, "certstore: the request uses key %s and hash %s\n",
			spec->key ? spec->key : "rsa:2048", spec->hash ? spec->hash : "sha256");
	est_csrattrs_clear(&attrs);
	http_response_clear(&r);
	est_close(&s);
	return rv;
}

const enroll_protocol enroll_est = {
	.name = "est",
	.submit = est_submit,
	.retrieve = est_retrieve,
	.roots = est_roots,
	.prepare = est_prepare,
	.renew = est_renew,
};
