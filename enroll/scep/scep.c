/*
 * scep.c - protocol "scep": Simple Certificate Enrolment Protocol, RFC 8894
 * (what Microsoft NDES speaks).
 *
 * Profile keys ([ca.NAME] in certstore.conf):
 *   url             http(s)://host[:port]/path (e.g. .../scep, NDES: .../certsrv/mscep/mscep.dll)
 *   challenge-file  file whose first line is the challenge password (never argv)
 *   ca-identifier   the GetCACert "message" for servers hosting several CAs
 *   ca-file         anchors for the CA certificate (and https) instead of the Root store
 *   connect-timeout, timeout   seconds
 *
 * Trust: GetCACert travels unauthenticated, so the CA certificate it returns
 * must chain to the Root store (or ca-file) before a request carrying the
 * challenge password is encrypted to it: run `certstore ca roots NAME
 * --trust --expect-fingerprint SHA256` first.  The request is signed with a
 * transient self-signed certificate over the request's key in the token
 * (RFC 8894 2.3), and the CA's answer is decrypted with that key.
 */
#include "enroll.h"
#include "http.h"
#include "scep_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/rand.h>

typedef struct scep_session {
	enroll_ctx *ctx;
	const enroll_profile *p;
	http_conn http;
	scep_caps caps;
	cs_cert_list cas;
	const cs_cert *ra;
} scep_session;

static void scep_close(scep_session *s)
{
	http_close(&s->http);
	cs_cert_list_clear(&s->cas);
	memset(s, 0, sizeof(*s));
}

static char *url_escape(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *w = out;

	for (; out != NULL && *s; s++) {
		if (*s == '+' || *s == '/' || *s == '=' || *s == '&' || *s == '%' || *s == ' ')
			w += sprintf(w, "%%%02X", (unsigned char)*s);
		else
			*w++ = *s;
	}
	if (out != NULL)
		*w = '\0';
	return out;
}

/* One HTTP exchange: GET ?operation=OP[&message=M], or POST body for PKIOperation. */
static cs_rv scep_http(scep_session *s, const char *op, const char *message, const cs_bytes *body,
		       http_response *r, cs_err *err)
{
	char *url = NULL, *esc = message ? url_escape(message) : NULL;
	cs_rv rv;

	if (asprintf(&url, "%s%soperation=%s%s%s", s->p->url, strchr(s->p->url, '?') ? "&" : "?",
		     op, esc ? "&message=" : "", esc ? esc : "") < 0) {
		free(esc);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	rv = http_request(&s->http, body ? "POST" : "GET", url,
			  body ? "application/x-pki-message" : NULL, body ? body->data : NULL,
			  body ? body->len : 0, NULL, r, err);
	free(url);
	free(esc);
	return rv;
}

static cs_rv scep_refusal(scep_session *s, const char *op, const http_response *r, cs_err *err)
{
	char excerpt[200];

	http_excerpt(r->body, r->len, excerpt, sizeof(excerpt));
	return cs_err_set(err,
			  http_status_class(r->status) == CS_ERR_AUTH ? CS_ERR_AUTH : CS_ERR_CA,
			  "the SCEP server %s answered %s with HTTP %ld%s%s", s->p->name, op,
			  r->status, *excerpt ? ": " : "", excerpt);
}

/* GetCACaps (a server without it gets the RFC's minimal assumptions) and GetCACert. */
static cs_rv scep_fetch_ca(scep_session *s, cs_err *err)
{
	http_response r = {0};
	cs_rv rv = scep_http(s, "GetCACaps", NULL, NULL, &r, err);

	if (rv == CS_OK && r.status == 200)
		scep_caps_parse((const unsigned char *)r.body, r.len, &s->caps);
	http_response_clear(&r);
	if (rv == CS_OK)
		rv = scep_http(s, "GetCACert", enroll_profile_get(s->p, "ca-identifier"), NULL, &r,
			       err);
	if (rv == CS_OK && r.status != 200)
		rv = scep_refusal(s, "GetCACert", &r, err);
	if (rv == CS_OK)
		rv = scep_parse_cacert(r.content_type, (const unsigned char *)r.body, r.len,
				       &s->cas, &s->ra, err);
	if (rv != CS_OK && rv != CS_ERR_UNREACHABLE && rv != CS_ERR_TLS)
		cs_err_prefix(err, "the SCEP server %s", s->p->name);
	http_response_clear(&r);
	return rv;
}

/* The RA/CA certificate must chain to the anchors before anything is sent to it. */
static cs_rv scep_check_trust(scep_session *s, cs_err *err)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *xctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	size_t i;
	int j, ok = 0;

	for (i = 0; untrusted != NULL && i < s->cas.n; i++)
		sk_X509_push(untrusted, s->cas.items[i]->x509);
	for (j = 0; st != NULL && j < sk_X509_num(s->http.tls.anchors); j++)
		X509_STORE_add_cert(st, sk_X509_value(s->http.tls.anchors, j));
	if (xctx != NULL && untrusted != NULL && s->ra != NULL &&
	    X509_STORE_CTX_init(xctx, st, s->ra->x509, untrusted))
		ok = X509_verify_cert(xctx) == 1;
	X509_STORE_CTX_free(xctx);
	X509_STORE_free(st);
	sk_X509_free(untrusted);
	ERR_clear_error();
	if (ok)
		return CS_OK;
	return cs_err_set(
		err, CS_ERR_TLS,
		"the SCEP server %s: its CA certificate %s does not chain to %s; trust "
		"it first with `certstore ca roots %s --trust --expect-fingerprint SHA256`",
		s->p->name, s->ra ? s->ra->subject : "(none)",
		s->p->ca_file ? s->p->ca_file : "the Root store", s->p->name);
}

static cs_rv scep_open(enroll_ctx *ctx, bool trusted, scep_session *s, cs_err *err)
{
	cs_rv rv = CS_OK;

	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->p = ctx->profile;
	if (s->p->url == NULL || (strncasecmp(s->p->url, "http://", 7) != 0 &&
				  strncasecmp(s->p->url, "https://", 8) != 0))
		return cs_err_set(err, CS_ERR_USAGE,
				  "[ca.%s]: SCEP needs url = http(s)://HOST/PATH", s->p->name);
	rv = http_open(ctx, NULL, &s->http, err);
	if (rv == CS_OK)
		rv = scep_fetch_ca(s, err);
	if (rv == CS_OK && trusted)
		rv = scep_check_trust(s, err);
	if (rv != CS_OK)
		scep_close(s);
	return rv;
}

/* PKIOperation: POST when GetCACaps says so, else GET with the base64 message. */
static cs_rv scep_pkiop(scep_session *s, const cs_bytes *msg, http_response *r, cs_err *err)
{
	char *b64 = malloc(4 * ((msg->len + 2) / 3) + 1);
	cs_rv rv;

	if (s->caps.post) {
		free(b64);
		rv = scep_http(s, "PKIOperation", NULL, msg, r, err);
	} else if (b64 == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	else {
		EVP_EncodeBlock((unsigned char *)b64, msg->data, (int)msg->len);
		rv = scep_http(s, "PKIOperation", b64, NULL, r, err);
		free(b64);
	}
	if (rv == CS_OK && r->status != 200)
		rv = scep_refusal(s, "PKIOperation", r, err);
	return rv;
}

static cs_rv signer_for(const cs_pending *pending, EVP_PKEY *key, X509 **signer, cs_err *err)
{
	X509_REQ *req = NULL;
	cs_rv rv = enroll_pending_csr(pending, &req, err);

	if (rv != CS_OK)
		return rv;
	rv = scep_transient_cert(req, key, signer, err);
	X509_REQ_free(req);
	return rv;
}

static void leaf_first(cs_cert_list *l)
{
	size_t i;
	cs_cert *c;

	for (i = 1; i < l->n; i++)
		if (!cs_cert_is_ca(l->items[i]) && cs_cert_is_ca(l->items[0])) {
			c = l->items[0];
			l->items[0] = l->items[i];
			l->items[i] = c;
			return;
		}
}

static cs_rv scep_status(scep_session *s, scep_rep *rep, const cs_pending *pending, EVP_PKEY *key,
			 X509 *signer, enroll_answer *out, cs_err *err)
{
	cs_bytes env = {0};
	cs_rv rv = scep_rep_verify(rep, &s->cas, &env, err);

	if (rv == CS_OK && strcmp(rep->status, "0") == 0) {
		rv = scep_rep_certs(&env, key, signer, &out->certs, err);
		leaf_first(&out->certs);
		out->state = ENROLL_ISSUED;
	} else if (rv == CS_OK && strcmp(rep->status, "3") == 0) {
		out->state = ENROLL_PENDING;
		out->ca_request_id = strdup(rep->transaction_id);
		out->detail = strdup("the SCEP CA answered PENDING (a manual approval?)");
	} else if (rv == CS_OK) {
		/* FAILURE ends the transaction (RFC 8894 3.3.2.2): asking again
		 * under this transaction ID cannot succeed, so the flow drops the
		 * request and its key instead of piling up one per retry. */
		out->state = ENROLL_DENIED;
		rv = cs_err_set(
			err, CS_ERR_CA, "the SCEP server %s refused the request: %s%s", s->p->name,
			scep_fail_info_name(rep->fail_info),
			strcmp(rep->fail_info, "2") == 0
				? " (a wrong or used challenge password? see challenge-file)"
				: "");
	}
	cs_bytes_clear(&env);
	return rv;
}

static cs_rv check_reply(scep_session *s, const http_response *r, const scep_req *req,
			 scep_rep *rep, cs_err *err)
{
	cs_rv rv;

	if (r->content_type == NULL ||
	    strncasecmp(r->content_type, "application/x-pki-message", 25))
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "the SCEP server %s answered %s, not application/x-pki-message",
				  s->p->name, r->content_type ? r->content_type : "untyped");
	rv = scep_rep_parse((const unsigned char *)r->body, r->len, rep, err);
	if (rv == CS_OK &&
	    (strcmp(rep->transaction_id, req->transaction_id) != 0 ||
	     rep->recipient_nonce_len != (int)sizeof(req->sender_nonce) ||
	     memcmp(rep->recipient_nonce, req->sender_nonce, sizeof(req->sender_nonce))))
		rv = cs_err_set(err, CS_ERR_BAD_INPUT,
				"the SCEP answer is not for this request (transactionID or nonce)");
	if (rv != CS_OK)
		cs_err_prefix(err, "the SCEP server %s", s->p->name);
	return rv;
}

/* Sends content as message type, signed with the request's key, and reads the CertRep. */
static cs_rv scep_exchange(scep_session *s, const cs_pending *pending, const char *type,
			   const cs_bytes *content, enroll_answer *out, cs_err *err)
{
	scep_req req = {.message_type = type,
			.transaction_id = pending->key_id,
			.ra = s->ra->x509,
			.aes = s->caps.aes,
			.sha256 = s->caps.sha256};
	http_response r = {0};
	scep_rep rep = {0};
	cs_bytes msg = {0};
	cs_rv rv = CS_OK;

	memset(out, 0, sizeof(*out));
	if (!s->caps.aes && !s->caps.des3)
		return cs_err_set(err, CS_ERR_CA, "the SCEP server %s offers neither AES nor DES3",
				  s->p->name);
	if (RAND_bytes(req.sender_nonce, sizeof(req.sender_nonce)) != 1)
		return cs_err_set(err, CS_ERR_INTERNAL, "no random bytes for the nonce");
	rv = enroll_load_key(s->ctx, pending->key_uri, &req.key, err);
	if (rv == CS_OK)
		rv = signer_for(pending, req.key, &req.signer, err);
	if (rv == CS_OK)
		rv = scep_build(&req, content->data, content->len, &msg, err);
	if (rv == CS_OK)
		rv = scep_pkiop(s, &msg, &r, err);
	if (rv == CS_OK)
		rv = check_reply(s, &r, &req, &rep, err);
	if (rv == CS_OK)
		rv = scep_status(s, &rep, pending, req.key, req.signer, out, err);
	if (rv != CS_OK)
		enroll_answer_clear_failed(out);
	scep_rep_clear(&rep);
	cs_bytes_clear(&msg);
	http_response_clear(&r);
	X509_free(req.signer);
	EVP_PKEY_free(req.key);
	return rv;
}

static cs_rv scep_submit(enroll_ctx *ctx, X509_REQ *req, const cs_pending *pending,
			 enroll_answer *out, cs_err *err)
{
	scep_session s;
	cs_rv rv = scep_open(ctx, true, &s, err);

	(void)req; /* pending->csr_der: the same bytes, challenge included */
	if (rv == CS_OK)
		rv = scep_exchange(&s, pending, SCEP_PKCSREQ, &pending->csr_der, out, err);
	scep_close(&s);
	return rv;
}

/* CertPoll (GetCertInitial): IssuerAndSubject, same transactionID. */
static cs_rv scep_retrieve(enroll_ctx *ctx, const cs_pending *pending, enroll_answer *out,
			   cs_err *err)
{
	X509_REQ *req = NULL;
	cs_bytes ias = {0};
	scep_session s;
	cs_rv rv = enroll_pending_csr(pending, &req, err);

	if (rv != CS_OK)
		return rv;
	rv = scep_open(ctx, true, &s, err);
	if (rv == CS_OK)
		rv = scep_issuer_and_subject(X509_get_issuer_name(s.ra->x509),
					     X509_REQ_get_subject_name(req), &ias, err);
	if (rv == CS_OK)
		rv = scep_exchange(&s, pending, SCEP_CERTPOLL, &ias, out, err);
	scep_close(&s);
	OPENSSL_free(ias.data);
	X509_REQ_free(req);
	return rv;
}

static cs_rv scep_roots(enroll_ctx *ctx, cs_cert_list *out, cs_err *err)
{
	scep_session s;
	cs_rv rv = scep_open(ctx, false, &s, err);

	if (rv == CS_OK) {
		*out = s.cas;
		memset(&s.cas, 0, sizeof(s.cas));
	}
	scep_close(&s);
	return rv;
}

static cs_rv scep_prepare(enroll_ctx *ctx, cs_request_spec *spec, cs_err *err)
{
	char *file = NULL, *secret = NULL;
	cs_rv rv;

	if (spec->key != NULL && strncasecmp(spec->key, "rsa", 3) != 0)
		return cs_err_set(
			err, CS_ERR_USAGE,
			"SCEP needs an RSA key (the CA encrypts its answer to it), not %s",
			spec->key);
	if (enroll_profile_get(ctx->profile, "challenge-file") == NULL)
		return CS_OK;
	file = enroll_profile_path(ctx->profile, "challenge-file");
	if (file == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	rv = http_read_secret_file(ctx->profile->store_dir, file, "challenge-file", &secret, err);
	if (rv == CS_OK && secret != NULL)
		rv = cs_request_spec_set(&spec->challenge_password, secret, err);
	http_secret_free(secret);
	free(file);
	return rv;
}

const enroll_protocol enroll_scep = {
	.name = "scep",
	.submit = scep_submit,
	.retrieve = scep_retrieve,
	.roots = scep_roots,
	.prepare = scep_prepare,
};
