/*
 * certsrv.c - protocol "certsrv": AD CS web enrollment (the /certsrv pages
 * a Windows CA serves with IIS).  The profile's url is the /certsrv base,
 * e.g. https://ca.example.com/certsrv; template is the certificate
 * template's name; auth is basic, ntlm or negotiate.
 *
 *   submit    POST certfnsh.asp (Mode=newreq, CertRequest, CertAttrib
 *             CertificateTemplate:T), then certnew.cer?ReqID=N&Enc=b64
 *   retrieve  certnew.cer?ReqID=N&Enc=b64 (HTML while pending or denied)
 *   roots     certcarc.asp (nRenewals), then
 *             certnew.p7b?ReqID=CACert&Renewal=N&Enc=b64
 */
#include "enroll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/pem.h>

#include "certsrv_parse.h"
#include "http.h"

static char *page_url(const enroll_profile *p, const char *page)
{
	size_t n = strlen(p->url);
	char *url = NULL;

	if (asprintf(&url, "%.*s/%s", (int)(n > 0 && p->url[n - 1] == '/' ? n - 1 : n), p->url,
		     page) < 0)
		return NULL;
	return url;
}

static cs_rv get_page(http_conn *h, const char *page, http_response *resp, cs_err *err)
{
	char *url = page_url(h->profile, page);
	cs_rv rv = url ? http_get(h, url, NULL, resp, err)
		       : cs_err_set(err, CS_ERR_INTERNAL, "out of memory");

	free(url);
	return rv;
}

static bool is_html(const http_response *r)
{
	const char *b = r->body;

	while (*b == ' ' || *b == '\r' || *b == '\n' || *b == '\t')
		b++;
	return (r->content_type && strncasecmp(r->content_type, "text/html", 9) == 0) || *b == '<';
}

static cs_rv denied(const enroll_profile *p, const certsrv_result *res, enroll_answer *out,
		    cs_err *err)
{
	out->state = ENROLL_DENIED;
	return cs_err_set(err, CS_ERR_CA, "CA %s denied the request%s%s%s: %s", p->name,
			  res->request_id[0] ? " (its ID " : "", res->request_id,
			  res->request_id[0] ? ")" : "",
			  res->message[0] ? res->message : "it gave no reason");
}

static cs_rv set_pending(enroll_answer *out, const certsrv_result *res, cs_err *err)
{
	out->state = ENROLL_PENDING;
	out->ca_request_id = strdup(res->request_id);
	out->detail = res->message[0] ? strdup(res->message) : NULL;
	if (out->ca_request_id == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	return CS_OK;
}

/* certnew.cer?ReqID=N&Enc=b64: the certificate, or an HTML page saying why not. */
static cs_rv fetch_cert(http_conn *h, const char *id, enroll_answer *out, cs_err *err)
{
	http_response resp = {0};
	certsrv_result res;
	char page[96];
	cs_rv rv;

	snprintf(page, sizeof(page), "certnew.cer?ReqID=%s&Enc=b64", id);
	rv = get_page(h, page, &resp, err);
	if (rv == CS_OK && is_html(&resp)) {
		certsrv_parse_result(resp.body, resp.len, &res);
		if (res.request_id[0] == '\0')
			snprintf(res.request_id, sizeof(res.request_id), "%s", id);
		if (res.outcome == CERTSRV_PENDING)
			rv = set_pending(out, &res, err);
		else if (res.outcome == CERTSRV_DENIED)
			rv = denied(h->profile, &res, out, err);
		else
			rv = cs_err_set(err, CS_ERR_BAD_INPUT,
					"CA %s sent an HTML page instead of certificate %s%s%s",
					h->profile->name, id, res.message[0] ? ": " : "",
					res.message);
	} else if (rv == CS_OK) {
		rv = cs_parse_certs((const unsigned char *)resp.body, resp.len, NULL, &out->certs,
				    err);
		if (rv != CS_OK)
			cs_err_prefix(err, "CA %s, certificate %s", h->profile->name, id);
		else {
			out->state = ENROLL_ISSUED;
			out->ca_request_id = strdup(id);
		}
	}
	http_response_clear(&resp);
	return rv;
}

/* The form certfnsh.asp takes, as the web enrollment page posts it. */
static char *request_form(const enroll_profile *p, X509_REQ *req)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL, *esc_pem = NULL, *attrib = NULL, *esc_attrib = NULL, *form = NULL;
	long n;

	if (bio == NULL || !PEM_write_bio_X509_REQ(bio, req))
		goto out;
	n = BIO_get_mem_data(bio, &pem);
	pem = strndup(pem, (size_t)n);
	if (p->template_name != NULL &&
	    asprintf(&attrib, "CertificateTemplate:%s", p->template_name) < 0)
		attrib = NULL;
	esc_pem = pem ? http_form_escape(pem) : NULL;
	esc_attrib = http_form_escape(attrib ? attrib : "");
	if (esc_pem != NULL && esc_attrib != NULL &&
	    asprintf(&form,
		     "Mode=newreq&CertRequest=%s&CertAttrib=%s&TargetStoreFlags=0&SaveCert=yes",
		     esc_pem, esc_attrib) < 0)
		form = NULL;
out:
	free(pem);
	free(esc_pem);
	free(attrib);
	free(esc_attrib);
	BIO_free(bio);
	return form;
}

static cs_rv certsrv_submit(enroll_ctx *ctx, X509_REQ *req, const cs_pending *pending,
			    enroll_answer *out, cs_err *err)
{
	http_conn h;
	http_response resp = {0};
	certsrv_result res;
	char *form = request_form(ctx->profile, req), *url = page_url(ctx->profile, "certfnsh.asp");
	cs_rv rv;

	(void)pending;
	memset(out, 0, sizeof(*out));
	if (form == NULL || url == NULL) {
		free(form);
		free(url);
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot encode the request");
	}
	rv = http_open(ctx, NULL, &h, err);
	if (rv == CS_OK)
		rv = http_request(&h, "POST", url, "application/x-www-form-urlencoded", form,
				  strlen(form), NULL, &resp, err);
	if (rv == CS_OK)
		rv = http_status_error(&h, url, &resp, err);
	if (rv == CS_OK) {
		certsrv_parse_result(resp.body, resp.len, &res);
		if (res.outcome == CERTSRV_ISSUED)
			rv = fetch_cert(&h, res.request_id, out, err);
		else if (res.outcome == CERTSRV_PENDING)
			rv = set_pending(out, &res, err);
		else if (res.outcome == CERTSRV_DENIED)
			rv = denied(ctx->profile, &res, out, err);
		else
			rv = cs_err_set(err, CS_ERR_BAD_INPUT,
					"CA %s answered the request with a page that says neither "
					"issued, pending nor denied (%s)",
					ctx->profile->name, url);
	}
	if (rv != CS_OK)
		enroll_answer_clear_failed(out);
	http_response_clear(&resp);
	http_close(&h);
	free(form);
	free(url);
	return rv;
}

static cs_rv certsrv_retrieve(enroll_ctx *ctx, const cs_pending *pending, enroll_answer *out,
			      cs_err *err)
{
	const char *id = pending->ca_request_id;
	http_conn h;
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	if (id == NULL || *id == '\0') /* the CA never took it: send it again */
		return enroll_resubmit(ctx, pending, out, err);
	if (strspn(id, "0123456789") != strlen(id))
		return cs_err_set(err, CS_ERR_USAGE,
				  "pending request %lld: '%s' is not an AD CS request ID",
				  (long long)pending->id, id);
	rv = http_open(ctx, NULL, &h, err);
	if (rv == CS_OK)
		rv = fetch_cert(&h, id, out, err);
	if (rv != CS_OK)
		enroll_answer_clear_failed(out);
	http_close(&h);
	return rv;
}

/* Root last: the order `ca roots` prints and installs in. */
static void root_last(cs_cert_list *l)
{
	size_t i;
	cs_cert *c;

	for (i = 0; i + 1 < l->n; i++) {
		if (cs_cert_is_self_signed(l->items[i])) {
			c = l->items[i];
			memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof(c));
			l->items[l->n - 1] = c;
			return;
		}
	}
}

static cs_rv certsrv_roots(enroll_ctx *ctx, cs_cert_list *out, cs_err *err)
{
	http_conn h;
	http_response resp = {0};
	char page[96];
	long renewals = -1;
	cs_rv rv = http_open(ctx, NULL, &h, err);

	if (rv == CS_OK)
		rv = get_page(&h, "certcarc.asp", &resp, err);
	if (rv == CS_OK && (renewals = certsrv_parse_renewals(resp.body, resp.len)) < 0)
		rv = cs_err_set(err, CS_ERR_BAD_INPUT,
				"CA %s: certcarc.asp does not say how many times the CA was "
				"renewed (no nRenewals)",
				ctx->profile->name);
	snprintf(page, sizeof(page), "certnew.p7b?ReqID=CACert&Renewal=%ld&Enc=b64", renewals);
	if (rv == CS_OK)
		rv = get_page(&h, page, &resp, err);
	if (rv == CS_OK && is_html(&resp))
		rv = cs_err_set(err, CS_ERR_BAD_INPUT,
				"CA %s sent an HTML page instead of its certificate chain",
				ctx->profile->name);
	else if (rv == CS_OK) {
		rv = cs_parse_certs((const unsigned char *)resp.body, resp.len, NULL, out, err);
		if (rv != CS_OK)
			cs_err_prefix(err, "CA %s, certnew.p7b", ctx->profile->name);
		root_last(out);
	}
	http_response_clear(&resp);
	http_close(&h);
	return rv;
}

const enroll_protocol enroll_certsrv = {
	.name = "certsrv",
	.submit = certsrv_submit,
	.retrieve = certsrv_retrieve,
	.roots = certsrv_roots,
};
