/*
 * acme.c - protocol "acme" (RFC 8555): account, order, http-01 challenges
 * answered by our own responder, finalize with the pending request's CSR,
 * and the certificate chain.  See acme.h for the profile's keys.
 *
 * An order the CA is still processing when our patience ends is an
 * ENROLL_PENDING answer whose request ID is the order URL: --retrieve asks
 * for that order again.
 */
#include "acme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ACME_JOSE "application/jose+json"
#define ACME_CHAIN "application/pem-certificate-chain"
#define BAD_NONCE_RETRIES 10

static cs_rv json_body(const acme_session *s, const http_response *r, json_object **out,
		       cs_err *err)
{
	json_tokener *tok = json_tokener_new();

	*out = tok ? json_tokener_parse_ex(tok, r->body, (int)r->len) : NULL;
	json_tokener_free(tok);
	if (*out != NULL && json_object_is_type(*out, json_type_object))
		return CS_OK;
	json_object_put(*out);
	*out = NULL;
	return cs_err_set(err, CS_ERR_BAD_INPUT, "CA %s sent something that is not a JSON object",
			  s->ctx->profile->name);
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void take_nonce(acme_session *s, http_response *r)
{
	if (r->replay_nonce != NULL) {
		free(s->nonce);
		s->nonce = r->replay_nonce;
		r->replay_nonce = NULL;
	}
}

static cs_rv problem(acme_session *s, const char *url, const http_response *r, cs_err *err)
{
	json_object *o = NULL;
	const char *type = NULL, *detail = NULL;
	const enroll_profile *p = s->ctx->profile;
	cs_rv rv;

	if (json_body(s, r, &o, NULL) == CS_OK) {
		type = jstr(o, "type");
		detail = jstr(o, "detail");
	}
	if (type != NULL && strncmp(type, "urn:ietf:params:acme:error:", 27) == 0)
		type += 27;
	snprintf(s->problem, sizeof(s->problem), "%s", type ? type : "");
	s->problem_status = r->status;
	if (r->status == 401 || r->status == 403)
		rv = cs_err_set(err, CS_ERR_AUTH, "CA %s refused (HTTP %ld%s%s at %s)%s%s", p->name,
				r->status, type ? ", " : "", type ? type : "", url,
				detail ? ": " : "", detail ? detail : "");
	else
		rv = cs_err_set(err, CS_ERR_CA, "CA %s refused (HTTP %ld%s%s at %s)%s%s", p->name,
				r->status, type ? ", " : "", type ? type : "", url,
				detail ? ": " : "", detail ? detail : "");
	json_object_put(o);
	return rv;
}

static bool is_bad_nonce(const acme_session *s, const http_response *r)
{
	json_object *o = NULL;
	bool bad = false;

	if (r->status == 400 && json_body(s, r, &o, NULL) == CS_OK)
		bad = jstr(o, "type") &&
		      strcmp(jstr(o, "type"), "urn:ietf:params:acme:error:badNonce") == 0;
	json_object_put(o);
	return bad;
}

static cs_rv fresh_nonce(acme_session *s, cs_err *err)
{
	http_response r = {0};
	cs_rv rv = http_request(&s->http, "HEAD", s->new_nonce, NULL, NULL, 0, NULL, &r, err);

	if (rv == CS_OK)
		rv = http_status_error(&s->http, s->new_nonce, &r, err);
	take_nonce(s, &r);
	if (rv == CS_OK && s->nonce == NULL)
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "CA %s gave no Replay-Nonce",
				s->ctx->profile->name);
	http_response_clear(&r);
	return rv;
}

/* A signed POST (payload NULL: POST-as-GET), retried on badNonce. */
static cs_rv post(acme_session *s, const char *url, const char *payload, const char *accept,
		  http_response *r, cs_err *err)
{
	char *body = NULL;
	cs_rv rv = CS_OK;
	int attempt;

	s->problem[0] = '\0';
	s->problem_status = 0;
	for (attempt = 0; rv == CS_OK && attempt <= BAD_NONCE_RETRIES; attempt++) {
		if (s->nonce == NULL)
			rv = fresh_nonce(s, err);
		if (rv == CS_OK)
			rv = acme_jws(s, url, payload, &body, err);
		free(s->nonce); /* each nonce once */
		s->nonce = NULL;
		if (rv == CS_OK)
			rv = http_request(&s->http, "POST", url, ACME_JOSE, body, strlen(body),
					  accept, r, err);
		free(body);
		body = NULL;
		if (rv == CS_OK)
			take_nonce(s, r);
		if (rv != CS_OK || !is_bad_nonce(s, r))
			break;
		fprintf(stderr, "certstore: CA %s rejected the nonce; trying again\n",
			s->ctx->profile->name);
	}
	if (rv == CS_OK && r->status >= 400)
		rv = problem(s, url, r, err);
	return rv;
}

static cs_rv post_json(acme_session *s, const char *url, const char *payload, json_object **out,
		       char **location, cs_err *err)
{
	http_response r = {0};
	cs_rv rv = post(s, url, payload, NULL, &r, err);

	if (rv == CS_OK)
		rv = json_body(s, &r, out, err);
	if (rv == CS_OK && location != NULL) {
		*location = r.location;
		r.location = NULL;
	}
	http_response_clear(&r);
	return rv;
}

static cs_rv directory(acme_session *s, cs_err *err)
{
	http_response r = {0};
	json_object *d = NULL;
	cs_rv rv = http_get(&s->http, s->ctx->profile->url, "application/json", &r, err);

	if (rv == CS_OK)
		rv = json_body(s, &r, &d, err);
	if (rv == CS_OK) {
		s->new_nonce = jstr(d, "newNonce") ? strdup(jstr(d, "newNonce")) : NULL;
		s->new_account = jstr(d, "newAccount") ? strdup(jstr(d, "newAccount")) : NULL;
		s->new_order = jstr(d, "newOrder") ? strdup(jstr(d, "newOrder")) : NULL;
		if (!s->new_nonce || !s->new_account || !s->new_order)
			rv = cs_err_set(err, CS_ERR_BAD_INPUT,
					"%s is not an ACME directory (no newNonce, newAccount "
					"or newOrder)",
					s->ctx->profile->url);
	}
	json_object_put(d);
	http_response_clear(&r);
	return rv;
}

static cs_rv account(acme_session *s, cs_err *err)
{
	const char *email = enroll_profile_get(s->ctx->profile, "email");
	json_object *req = json_object_new_object(), *acct = NULL;
	cs_rv rv;

	json_object_object_add(req, "termsOfServiceAgreed", json_object_new_boolean(1));
	if (email != NULL) {
		json_object *contact = json_object_new_array();
		char *mailto = NULL;

		if (asprintf(&mailto, "mailto:%s", email) > 0)
			json_object_array_add(contact, json_object_new_string(mailto));
		free(mailto);
		json_object_object_add(req, "contact", contact);
	}
	rv = post_json(s, s->new_account, json_object_to_json_string(req), &acct, &s->kid, err);
	if (rv == CS_OK && s->kid == NULL)
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "CA %s gave the account no URL",
				s->ctx->profile->name);
	if (rv == CS_OK)
		rv = acme_account_save(s, err);
	json_object_put(acct);
	json_object_put(req);
	return rv;
}

static void session_close(acme_session *s)
{
	http_close(&s->http);
	EVP_PKEY_free(s->key);
	free(s->key_uri);
	free(s->jwk);
	free(s->thumbprint);
	free(s->nonce);
	free(s->kid);
	free(s->new_nonce);
	free(s->new_account);
	free(s->new_order);
	memset(s, 0, sizeof(*s));
}

static cs_rv session_open(enroll_ctx *ctx, acme_session *s, cs_err *err)
{
	cs_rv rv;

	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	rv = http_open(ctx, NULL, &s->http, err);
	/* the directory first: no account key is made for a CA that does not answer */
	if (rv == CS_OK)
		rv = directory(s, err);
	if (rv == CS_OK)
		rv = acme_account_key(s, err);
	if (rv == CS_OK)
		rv = acme_jwk(s, err);
	if (rv == CS_OK)
		rv = account(s, err);
	if (rv != CS_OK)
		session_close(s);
	return rv;
}

/* Polls url until its status is none of the busy ones, within the profile's timeout. */
static cs_rv poll_status(acme_session *s, const char *url, const char *busy1, const char *busy2,
			 json_object **out, cs_err *err)
{
	time_t deadline = time(NULL) + s->ctx->profile->timeout;
	http_response r = {0};
	const char *status;
	cs_rv rv;

	for (;;) {
		json_object_put(*out);
		*out = NULL;
		rv = post(s, url, NULL, NULL, &r, err);
		if (rv == CS_OK)
			rv = json_body(s, &r, out, err);
		status = jstr(*out, "status");
		if (rv != CS_OK || status == NULL ||
		    (strcmp(status, busy1) != 0 && strcmp(status, busy2) != 0) ||
		    time(NULL) >= deadline)
			break;
		/* Retry-After, kept between 1 and 10 seconds */
		sleep(r.retry_after < 1 ? 1 : r.retry_after > 10 ? 10 : (unsigned)r.retry_after);
	}
	http_response_clear(&r);
	return rv;
}

static cs_rv validation_error(acme_session *s, json_object *authz, const char *status, cs_err *err)
{
	json_object *id = NULL, *chs = NULL, *e = NULL;
	const char *detail = NULL;
	size_t i;

	json_object_object_get_ex(authz, "identifier", &id);
	if (json_object_object_get_ex(authz, "challenges", &chs))
		for (i = 0; i < json_object_array_length(chs) && detail == NULL; i++)
			if (json_object_object_get_ex(json_object_array_get_idx(chs, i), "error",
						      &e))
				detail = jstr(e, "detail");
	return cs_err_set(err, CS_ERR_CA, "CA %s could not validate %s (authorization %s)%s%s",
			  s->ctx->profile->name, jstr(id, "value") ? jstr(id, "value") : "?",
			  status, detail ? ": " : "", detail ? detail : "");
}

static json_object *http01_challenge(json_object *authz)
{
	json_object *chs = NULL, *c;
	size_t i;

	if (!json_object_object_get_ex(authz, "challenges", &chs) ||
	    !json_object_is_type(chs, json_type_array))
		return NULL;
	for (i = 0; i < json_object_array_length(chs); i++) {
		c = json_object_array_get_idx(chs, i);
		if (jstr(c, "type") && strcmp(jstr(c, "type"), "http-01") == 0)
			return c;
	}
	return NULL;
}

static cs_rv answer_challenge(acme_session *s, acme_responder *resp, json_object *authz,
			      cs_err *err)
{
	json_object *c = http01_challenge(authz), *ignored = NULL;
	const char *token = jstr(c, "token"), *url = jstr(c, "url");
	char *keyauth = NULL;
	cs_rv rv;

	if (token == NULL || url == NULL ||
	    strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
			  "mnopqrstuvwxyz0123456789-_") != strlen(token))
		return cs_err_set(err, CS_ERR_CA, "CA %s offers no usable http-01 challenge",
				  s->ctx->profile->name);
	if (asprintf(&keyauth, "%s.%s", token, s->thumbprint) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	rv = acme_responder_add(resp, token, keyauth, err);
	if (rv == CS_OK)
		rv = post_json(s, url, "{}", &ignored, NULL, err);
	json_object_put(ignored);
	free(keyauth);
	return rv;
}

static cs_rv authorize(acme_session *s, acme_responder *resp, const char *url, cs_err *err)
{
	json_object *authz = NULL;
	cs_rv rv = post_json(s, url, NULL, &authz, NULL, err);
	const char *status = jstr(authz, "status");

	if (rv == CS_OK && status != NULL && strcmp(status, "pending") == 0) {
		rv = answer_challenge(s, resp, authz, err);
		if (rv == CS_OK)
			rv = poll_status(s, url, "pending", "processing", &authz, err);
		status = jstr(authz, "status");
	}
	if (rv == CS_OK && (status == NULL || strcmp(status, "valid") != 0))
		rv = validation_error(s, authz, status ? status : "without status", err);
	json_object_put(authz);
	return rv;
}

static cs_rv new_order(acme_session *s, X509_REQ *req, json_object **order, char **url, cs_err *err)
{
	json_object *o = json_object_new_object();
	cs_rv rv;

	json_object_object_add(o, "identifiers", acme_identifiers(req));
	rv = post_json(s, s->new_order,
		       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE),
		       order, url, err);
	if (rv == CS_OK && *url == NULL)
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "CA %s gave the order no URL",
				s->ctx->profile->name);
	json_object_put(o);
	return rv;
}

static cs_rv authorize_all(acme_session *s, json_object *order, cs_err *err)
{
	const char *listen = enroll_profile_get(s->ctx->profile, "listen");
	acme_responder *resp = NULL;
	json_object *list = NULL, *u;
	size_t i;
	cs_rv rv;

	if (!json_object_object_get_ex(order, "authorizations", &list) ||
	    !json_object_is_type(list, json_type_array))
		return cs_err_set(err, CS_ERR_BAD_INPUT, "CA %s: the order lists no authorizations",
				  s->ctx->profile->name);
	rv = acme_responder_start(listen ? listen : "80", &resp, err);
	for (i = 0; rv == CS_OK && i < json_object_array_length(list); i++) {
		u = json_object_array_get_idx(list, i);
		if (!json_object_is_type(u, json_type_string))
			rv = cs_err_set(err, CS_ERR_BAD_INPUT, "CA %s: a bad authorization URL",
					s->ctx->profile->name);
		else
			rv = authorize(s, resp, json_object_get_string(u), err);
	}
	acme_responder_stop(resp);
	return rv;
}

static cs_rv finalize(acme_session *s, json_object *order, X509_REQ *req, cs_err *err)
{
	unsigned char *der = NULL;
	int len = i2d_X509_REQ(req, &der);
	char *csr = len > 0 ? acme_b64url(der, (size_t)len) : NULL, *payload = NULL;
	const char *url = jstr(order, "finalize");
	json_object *ignored = NULL;
	cs_rv rv = CS_OK;

	if (url == NULL)
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "CA %s: the order has no finalize URL",
				s->ctx->profile->name);
	else if (csr == NULL || asprintf(&payload, "{\"csr\":\"%s\"}", csr) < 0)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot encode the request");
	if (rv == CS_OK)
		rv = post_json(s, url, payload, &ignored, NULL, err);
	json_object_put(ignored);
	OPENSSL_free(der);
	free(csr);
	if (payload != NULL)
		free(payload);
	return rv;
}

static cs_rv download(acme_session *s, const char *url, enroll_answer *out, cs_err *err)
{
	http_response r = {0};
	cs_rv rv = post(s, url, NULL, ACME_CHAIN, &r, err);

	if (rv == CS_OK) {
		rv = cs_parse_certs((const unsigned char *)r.body, r.len, NULL, &out->certs, err);
		if (rv != CS_OK)
			cs_err_prefix(err, "CA %s, certificate %s", s->ctx->profile->name, url);
	}
	if (rv == CS_OK)
		out->state = ENROLL_ISSUED;
	http_response_clear(&r);
	return rv;
}

/*
 * RFC 8555 7.1.6: an invalid order "will not be issued; consider this order
 * process abandoned".  Seen after finalize or on --retrieve of its URL, it is
 * the CA's last word on this request: denied, so the flow drops the request
 * and its new key.  (A failed validation makes the order invalid too, but
 * authorize() stops there first, and a new order with the same request may
 * pass once the responder is reachable: that request is kept.)
 */
static cs_rv order_invalid(acme_session *s, json_object *order, enroll_answer *out, cs_err *err)
{
	json_object *e = NULL;
	const char *detail =
		json_object_object_get_ex(order, "error", &e) ? jstr(e, "detail") : NULL;

	out->state = ENROLL_DENIED;
	return cs_err_set(err, CS_ERR_CA,
			  "CA %s will not issue the request: its order is invalid%s%s",
			  s->ctx->profile->name, detail ? ": " : "", detail ? detail : "");
}

/* The order at url, once it is valid: its certificate; still processing: pending. */
static cs_rv conclude(acme_session *s, const char *url, enroll_answer *out, cs_err *err)
{
	json_object *order = NULL;
	cs_rv rv = poll_status(s, url, "processing", "ready", &order, err);
	const char *status = jstr(order, "status"), *cert = jstr(order, "certificate");

	out->ca_request_id = strdup(url);
	if (rv == CS_OK && status != NULL && strcmp(status, "processing") == 0) {
		out->state = ENROLL_PENDING;
		out->detail = strdup("the order is still being processed");
	} else if (rv == CS_OK && status != NULL && strcmp(status, "invalid") == 0)
		rv = order_invalid(s, order, out, err);
	else if (rv == CS_OK && (status == NULL || strcmp(status, "valid") != 0 || !cert))
		rv = cs_err_set(err, CS_ERR_CA, "CA %s: the order ended %s", s->ctx->profile->name,
				status ? status : "without a status");
	else if (rv == CS_OK)
		rv = download(s, cert, out, err);
	json_object_put(order);
	return rv;
}

/*
 * The problem types of RFC 8555 6.7 that refuse this request's content for
 * good, wherever they come (newOrder, finalize): badCSR (the CSR itself),
 * rejectedIdentifier and unsupportedIdentifier (its names, which a new order
 * from the same request repeats).  Not final: caa, like a failed http-01,
 * is about DNS records the admin can change, after which a new order with
 * the same request may pass; the others are about the account, the nonce,
 * the server or the transport.
 */
static void mark_final(const acme_session *s, enroll_answer *out)
{
	static const char *const final[] = {"badCSR", "rejectedIdentifier",
					    "unsupportedIdentifier"};
	size_t i;

	for (i = 0; i < sizeof(final) / sizeof(final[0]); i++)
		if (strcmp(s->problem, final[i]) == 0)
			out->state = ENROLL_DENIED;
}

static cs_rv acme_submit(enroll_ctx *ctx, X509_REQ *req, const cs_pending *pending,
			 enroll_answer *out, cs_err *err)
{
	acme_session s;
	json_object *order = NULL;
	char *url = NULL;
	cs_rv rv;

	(void)pending;
	memset(out, 0, sizeof(*out));
	rv = session_open(ctx, &s, err);
	if (rv != CS_OK)
		return rv;
	rv = new_order(&s, req, &order, &url, err);
	if (rv == CS_OK)
		rv = authorize_all(&s, order, err);
	if (rv == CS_OK)
		rv = finalize(&s, order, req, err);
	if (rv == CS_OK)
		rv = conclude(&s, url, out, err);
	if (rv != CS_OK) {
		mark_final(&s, out);
		enroll_answer_clear_failed(out);
	}
	json_object_put(order);
	free(url);
	session_close(&s);
	return rv;
}

static cs_rv acme_retrieve(enroll_ctx *ctx, const cs_pending *pending, enroll_answer *out,
			   cs_err *err)
{
	acme_session s;
	bool forgotten;
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	if (pending->ca_request_id == NULL || *pending->ca_request_id == '\0')
		return enroll_resubmit(ctx, pending, out, err); /* no order yet: start one */
	if (strncmp(pending->ca_request_id, "https://", 8) != 0)
		return cs_err_set(err, CS_ERR_USAGE,
				  "pending request %lld: '%s' is not an ACME order",
				  (long long)pending->id, pending->ca_request_id);
	rv = session_open(ctx, &s, err);
	if (rv != CS_OK)
		return rv;
	rv = conclude(&s, pending->ca_request_id, out, err);
	forgotten = rv != CS_OK && s.problem_status == 404;
	session_close(&s);
	/* An order the CA no longer knows (its orders expire and are purged,
	 * a test CA forgets them on restart) issued nothing: a new order for
	 * the same request is what --retrieve of a request without one does. */
	if (forgotten) {
		fprintf(stderr,
			"certstore: CA %s no longer knows order %s; starting a new order for the "
			"same request\n",
			ctx->profile->name, pending->ca_request_id);
		enroll_answer_clear(out);
		return enroll_resubmit(ctx, pending, out, err);
	}
	if (rv != CS_OK)
		enroll_answer_clear_failed(out);
	return rv;
}

/* ACME has no root distribution: roots-url names where the CA publishes it. */
static cs_rv acme_roots(enroll_ctx *ctx, cs_cert_list *out, cs_err *err)
{
	const char *url = enroll_profile_get(ctx->profile, "roots-url");
	http_response r = {0};
	http_conn h;
	cs_rv rv;

	if (url == NULL)
		return cs_err_set(err, CS_ERR_USAGE,
				  "ACME has no way to ask a CA for its root: set roots-url = URL "
				  "(a PEM file the CA publishes) in [ca.%s], or import the root "
				  "with `certstore import ROOT --store Root`",
				  ctx->profile->name);
	rv = http_open(ctx, NULL, &h, err);
	if (rv == CS_OK)
		rv = http_get(&h, url, NULL, &r, err);
	if (rv == CS_OK) {
		rv = cs_parse_certs((const unsigned char *)r.body, r.len, NULL, out, err);
		if (rv != CS_OK)
			cs_err_prefix(err, "CA %s, %s", ctx->profile->name, url);
	}
	http_response_clear(&r);
	http_close(&h);
	return rv;
}

const enroll_protocol enroll_acme = {
	.name = "acme",
	.submit = acme_submit,
	.retrieve = acme_retrieve,
	.roots = acme_roots,
};
