/*
 * local.c - protocol "local": the CA kept in the store signs at once.
 */
#include "enroll.h"

#include <stdlib.h>
#include <string.h>

#include "localca.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>

static cs_rv load_ca(enroll_ctx *ctx, cs_local_ca **ca, EVP_PKEY **key, cs_err *err)
{
	cs_rv rv = cs_local_ca_get(ctx->store, ctx->profile->name, ca, err);

	if (rv == CS_OK)
		rv = enroll_load_key(ctx, (*ca)->key_uri, key, err);
	if (rv != CS_OK)
		cs_err_prefix(err, "local CA %s", ctx->profile->name);
	return rv;
}

/* A request file made elsewhere (certreq -new, `request --out --template`)
 * may name a certificate template; the local CA has none to honour. */
static bool asks_for_template(X509_REQ *req)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	ASN1_OBJECT *v1 = OBJ_txt2obj("1.3.6.1.4.1.311.20.2", 1);
	ASN1_OBJECT *v2 = OBJ_txt2obj("1.3.6.1.4.1.311.21.7", 1);
	bool found = X509v3_get_ext_by_OBJ(exts, v1, -1) >= 0 ||
		     X509v3_get_ext_by_OBJ(exts, v2, -1) >= 0;

	ASN1_OBJECT_free(v1);
	ASN1_OBJECT_free(v2);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return found;
}

static cs_rv local_submit(enroll_ctx *ctx, X509_REQ *req, const cs_pending *pending,
			  enroll_answer *out, cs_err *err)
{
	cs_issue_profile profile;
	cs_local_ca *ca = NULL;
	EVP_PKEY *key = NULL;
	cs_cert *issued = NULL, *chain = NULL;
	X509 *x = NULL;
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	if (asks_for_template(req))
		return cs_err_set(err, CS_ERR_USAGE,
				  "the request names a certificate template, and the local CA %s "
				  "has none (templates are for an AD CS CA); make the request "
				  "without --template",
				  ctx->profile->name);
	rv = cs_issue_profile_parse(ctx->profile->issue_profile, &profile, err);
	if (rv == CS_OK)
		rv = load_ca(ctx, &ca, &key, err);
	if (rv == CS_OK)
		rv = cs_local_ca_issue(ctx->store, ca, key, req, profile, (int)ctx->profile->days,
				       &x, err);
	if (rv == CS_OK)
		rv = cs_cert_from_x509(x, &issued, err);
	if (rv == CS_OK)
		rv = cs_cert_list_push(&out->certs, issued, err);
	if (rv == CS_OK)
		rv = cs_cert_from_x509(ca->cert->x509, &chain, err);
	if (rv == CS_OK)
		rv = cs_cert_list_push(&out->certs, chain, err);
	if (rv == CS_OK)
		out->state = ENROLL_ISSUED;
	else
		enroll_answer_clear(out);
	X509_free(x);
	EVP_PKEY_free(key);
	cs_local_ca_free(ca);
	return rv;
}

static cs_rv local_retrieve(enroll_ctx *ctx, const cs_pending *pending, enroll_answer *out,
			    cs_err *err)
{
	X509_REQ *req = NULL;
	cs_rv rv = enroll_pending_csr(pending, &req, err);

	if (rv != CS_OK)
		return rv;
	rv = local_submit(ctx, req, pending, out, err);
	X509_REQ_free(req);
	return rv;
}

static cs_rv local_roots(enroll_ctx *ctx, cs_cert_list *out, cs_err *err)
{
	cs_local_ca *ca = NULL;
	cs_cert *copy = NULL;
	cs_rv rv = cs_local_ca_get(ctx->store, ctx->profile->name, &ca, err);

	if (rv == CS_OK)
		rv = cs_cert_from_x509(ca->cert->x509, &copy, err);
	if (rv == CS_OK)
		rv = cs_cert_list_push(out, copy, err);
	cs_local_ca_free(ca);
	return rv;
}

/* The local CA has no certificate templates: a template asked for would be
 * dropped without a word, so the request is refused before a key is made. */
static cs_rv local_prepare(enroll_ctx *ctx, cs_request_spec *spec, cs_err *err)
{
	if (spec->template_name == NULL && spec->template_oid == NULL)
		return CS_OK;
	return cs_err_set(err, CS_ERR_USAGE,
			  "the local CA %s has no certificate templates (--template and "
			  "--template-oid are for an AD CS CA); it issues its issue-profile "
			  "(%s): drop the template",
			  ctx->profile->name,
			  ctx->profile->issue_profile ? ctx->profile->issue_profile : "server");
}

const enroll_protocol enroll_local = {
	.name = "local",
	.prepare = local_prepare,
	.submit = local_submit,
	.retrieve = local_retrieve,
	.roots = local_roots,
};
