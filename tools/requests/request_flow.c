/*
 * request_flow.c - see request_flow.h.
 */
#include "request_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "requests.h"
#include "usage.h"

#include <openssl/pem.h>

static cs_rv generate_key(cli_keys *keys, const cs_request_spec *spec, const char *label,
			  char **uri, EVP_PKEY **priv, cs_err *err)
{
	cs_key_spec ks;
	cs_rv rv;

	rv = cs_key_spec_parse(spec->key, &ks, err);
	if (rv == CS_OK)
		rv = cs_key_generate(keys->token, &ks, label, spec->exportable, uri, NULL, err);
	if (rv == CS_OK) {
		rv = cli_keys_load(keys, *uri, priv, err);
		if (rv != CS_OK) {
			cs_key_rollback(keys->token, *uri, err);
			free(*uri);
			*uri = NULL;
		}
	}
	return rv;
}

static cs_rv fill_pending(cs_pending *p, const cs_request_spec *spec, const char *uri,
			  const flow_target *t, cs_err *err)
{
	cs_key_spec ks;

	if (cs_key_spec_parse(spec->key, &ks, err) != CS_OK)
		return CS_ERR_USAGE;
	p->key_uri = strdup(uri);
	p->key_spec = strdup(cs_key_spec_name(&ks));
	p->friendly_name = cs_request_friendly_name(spec, cs_now());
	p->friendly_name_generated = spec->friendly_name == NULL;
	p->hash = strdup(spec->hash ? spec->hash : "sha256");
	p->exportable = spec->exportable;
	p->ca_profile = t->ca_profile ? strdup(t->ca_profile) : NULL;
	p->usages = t->usages ? strdup(t->usages) : NULL;
	p->renews = t->renews ? strdup(t->renews) : NULL;
	if (p->key_uri == NULL || p->key_spec == NULL || p->friendly_name == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	return CS_OK;
}

cs_rv flow_make_pending(cs_store *store, cli_keys *keys, const cs_request_spec *spec,
			const flow_target *target, cs_pending **out, X509_REQ **req_out,
			cs_err *err)
{
	cs_pending *p = calloc(1, sizeof(*p));
	char *uri = NULL, *label = cs_request_friendly_name(spec, cs_now());
	EVP_PKEY *priv = NULL;
	X509_REQ *req = NULL;
	cs_rv rv;

	*out = NULL;
	*req_out = NULL;
	if (p == NULL || label == NULL) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (target->reuse_key != NULL) {
		uri = strdup(target->reuse_key);
		rv = uri != NULL ? cli_keys_load(keys, uri, &priv, err)
				 : cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	} else
		rv = generate_key(keys, spec, label, &uri, &priv, err);
	if (rv != CS_OK)
		goto out;
	rv = cs_request_build(spec, priv, &req, err);
	if (rv == CS_OK)
		rv = fill_pending(p, spec, uri, target, err);
	if (rv == CS_OK)
		rv = cs_pending_add(store, req, p, err);
	if (rv != CS_OK && target->reuse_key == NULL) /* no orphan key in the token */
		cs_key_rollback(keys->token, uri, err);
	if (rv == CS_OK) {
		/* Hand on the request as recorded, so --ca and --retrieve send the same bytes. */
		const unsigned char *der = p->csr_der.data;

		X509_REQ_free(req);
		req = d2i_X509_REQ(NULL, &der, (long)p->csr_der.len);
		if (req == NULL)
			rv = cs_err_set(err, CS_ERR_INTERNAL,
					"the recorded request does not decode");
	}
out:
	EVP_PKEY_free(priv);
	free(uri);
	free(label);
	if (rv != CS_OK) {
		X509_REQ_free(req);
		cs_pending_free(p);
		return rv;
	}
	*out = p;
	*req_out = req;
	return CS_OK;
}

static bool answers(const cs_pending *pending, const cs_cert *cert)
{
	char key_id[41];

	return cs_pubkey_id_hex(X509_get0_pubkey(cert->x509), key_id, NULL) == CS_OK &&
	       strcmp(key_id, pending->key_id) == 0;
}

/* Usages named at request time, once the certificate is Valid. */
static cs_rv assign_usages(cs_store *store, const cs_pending *pending, const char *sha1,
			   cs_err *err)
{
	cs_cert *cert = NULL;
	char *list, *save = NULL, *name;
	cs_rv rv;

	if (pending->usages == NULL || *pending->usages == '\0')
		return CS_OK;
	rv = cs_store_find_by_thumbprint(store, CS_STORE_MY, sha1, &cert, err);
	list = strdup(pending->usages);
	for (name = strtok_r(list, ",", &save); rv == CS_OK && name != NULL;
	     name = strtok_r(NULL, ",", &save)) {
		rv = cs_usage_assign(store, name, cert, false, err);
		if (rv == CS_OK)
			printf("assigned to usage %s\n", name);
		if (rv == CS_OK)
			rv = cs_usage_run_hooks(store, name, cert, err);
	}
	free(list);
	cs_cert_free(cert);
	return rv;
}

cs_rv flow_install_answer(cs_store *store, const cs_pending *pending, const cs_cert_list *certs,
			  const char *profile_name, bool json, cs_err *err)
{
	cs_import_result res = {0};
	cs_rv rv;
	char sha1[41];

	if (certs->n == 0 || !answers(pending, certs->items[0]))
		return cs_err_set(err, CS_ERR_KEY,
				  "the CA's certificate%s%s is not for the key of pending request "
				  "%lld; nothing was installed and the request stays pending",
				  certs->n ? " " : "", certs->n ? certs->items[0]->subject : "",
				  (long long)pending->id);
	cs_import_opts opts = {.request_id = pending->id};

	rv = cs_import_certs(store, certs, &opts, &res, err);
	if (rv != CS_OK)
		return rv;
	memcpy(sha1, certs->items[0]->sha1, sizeof(sha1));
	cs_import_result_clear(&res);
	rv = flow_report(store, sha1, profile_name, json, err);
	if (rv == CS_OK)
		rv = assign_usages(store, pending, sha1, err);
	return rv;
}

static void print_report_text(const cs_cert *cert, const cs_status_report *r,
			      const char *profile_name)
{
	printf("Certificate issued and installed in My\n");
	printf("  Subject:       %s\n", cert->subject);
	printf("  Thumbprint:    %s\n", cert->sha1);
	printf("  Friendly name: %s\n", cert->friendly_name ? cert->friendly_name : "");
	printf("  Status:        %s\n", cs_status_name(r->status));
	if (r->status == CS_STATUS_UNTRUSTED_ROOT && profile_name != NULL)
		printf("  The CA's root is not trusted yet: run `certstore ca roots %s --trust`\n",
		       profile_name);
	else if (r->status != CS_STATUS_VALID)
		printf("  %s\n", r->detail);
}

cs_rv flow_report(cs_store *store, const char *sha1, const char *profile_name, bool json,
		  cs_err *err)
{
	cs_status_report r = {0};
	cs_cert *cert = NULL;
	json_object *obj;
	cs_rv rv;

	rv = cs_store_find_by_thumbprint(store, CS_STORE_MY, sha1, &cert, err);
	if (rv == CS_OK)
		rv = cs_status_compute(store, cert, 0, &r, err);
	if (rv == CS_OK && json) {
		obj = cli_json_cert(cert);
		json_object_object_add(obj, "status", cli_json_status(&r));
		cli_json_add_string(obj, "ca", profile_name);
		rv = cli_json_print(obj, err);
	} else if (rv == CS_OK)
		print_report_text(cert, &r, profile_name);
	cs_status_report_clear(&r);
	cs_cert_free(cert);
	return rv;
}

static cs_rv handle_answer(cs_store *store, const cs_pending *pending, enroll_answer *a,
			   const char *profile_name, bool json, cs_err *err)
{
	if (a->state == ENROLL_PENDING) {
		cs_rv rv = cs_pending_set_ca_request_id(
			store, pending->id, a->ca_request_id ? a->ca_request_id : "", err);
		if (rv != CS_OK)
			return rv;
		return cs_err_set(err, CS_ERR_PENDING,
				  "%s has taken the request (its ID %s) but not issued yet%s%s; "
				  "ask again with `certstore request --retrieve %lld`",
				  profile_name, a->ca_request_id ? a->ca_request_id : "?",
				  a->detail ? ": " : "", a->detail ? a->detail : "",
				  (long long)pending->id);
	}
	return flow_install_answer(store, pending, &a->certs, profile_name, json, err);
}

static cs_rv load_protocol(cs_store *store, const char *profile_name, enroll_profile **profile,
			   const enroll_protocol **proto, cs_err *err)
{
	cs_rv rv = enroll_profile_load(store, profile_name, profile, err);

	if (rv == CS_OK)
		rv = enroll_protocol_find((*profile)->protocol, proto, err);
	return rv;
}

cs_rv flow_prepare(cs_store *store, cli_keys *keys, const char *profile_name, cs_request_spec *spec,
		   cs_err *err)
{
	enroll_profile *profile = NULL;
	const enroll_protocol *proto = NULL;
	enroll_keys ek;
	enroll_ctx ctx = {store, &ek, NULL, NULL};
	cs_rv rv = load_protocol(store, profile_name, &profile, &proto, err);

	cli_enroll_keys(keys, &ek);
	ctx.profile = profile;
	if (rv == CS_OK && proto->prepare != NULL)
		rv = proto->prepare(&ctx, spec, err);
	enroll_profile_free(profile);
	return rv;
}

static cs_rv ask_ca(enroll_ctx *ctx, const enroll_protocol *proto, const cs_pending *pending,
		    X509_REQ *req, const cs_cert *current, enroll_answer *answer, cs_err *err)
{
	if (current != NULL && proto->renew != NULL)
		return proto->renew(ctx, req, pending, current, answer, err);
	return req != NULL ? proto->submit(ctx, req, pending, answer, err)
			   : proto->retrieve(ctx, pending, answer, err);
}

/*
 * A request refused for its credentials when just made (wrong password, 403,
 * a password file the policy rejects), or denied by the CA whenever that
 * comes (an AD CS policy module's or officer's denial is final: certnew.cer
 * says "denied" for ever, on --retrieve too) is not kept: asking again
 * cannot succeed, and every corrected retry would leave one more key in the
 * token.  The key goes too unless something else still uses it
 * (cs_key_users: a same-key renewal's certificate); when unsure it stays.
 * err keeps the refusal and says what was removed; a failure to clean up is
 * only added to its words.
 */
static void drop_refused(cs_store *store, cli_keys *keys, const cs_pending *pending, cs_err *err)
{
	char who[128] = "";
	bool used = false;
	bool gone = cs_pending_remove(store, pending->id, "refused by the CA", NULL) == CS_OK;

	/* After the row, so that the request itself is not counted as a user. */
	if (gone && pending->key_uri != NULL &&
	    cs_key_users(store, pending->key_uri, 0, 0, &used, who, sizeof(who), NULL) != CS_OK) {
		used = true;
		snprintf(who, sizeof(who), "perhaps: the store could not be read");
	}
	if (gone && pending->key_uri != NULL && !used)
		gone = cs_key_delete(keys->token, pending->key_uri, NULL) == CS_OK;
	if (!gone)
		cs_err_prefix(err,
			      "request %lld could not be removed after the refusal (cancel "
			      "it with `certstore requests --cancel %lld`)",
			      (long long)pending->id, (long long)pending->id);
	else if (used)
		cs_err_prefix(err,
			      "nothing kept: request %lld was removed; its key stays (in use: "
			      "%s); fix the cause and request again",
			      (long long)pending->id, who);
	else
		cs_err_prefix(err,
			      "nothing kept: request %lld and its new key were removed; fix the "
			      "cause and request again",
			      (long long)pending->id);
}

static cs_rv submit_to(cs_store *store, cli_keys *keys, const char *profile_name,
		       const cs_pending *pending, X509_REQ *req, const cs_cert *current, bool json,
		       cs_err *err)
{
	enroll_profile *profile = NULL;
	const enroll_protocol *proto = NULL;
	enroll_answer answer = {0};
	enroll_keys ek;
	enroll_ctx ctx = {store, &ek, NULL, NULL};
	cs_rv rv;

	cli_enroll_keys(keys, &ek);
	rv = load_protocol(store, profile_name, &profile, &proto, err);
	if (rv == CS_OK) {
		ctx.profile = profile;
		if (!json)
			fprintf(stderr, "certstore: sending the request to %s (%s)...\n",
				profile_name, proto->name);
		rv = ask_ca(&ctx, proto, pending, req, current, &answer, err);
	}
	if (rv == CS_OK)
		rv = handle_answer(store, pending, &answer, profile_name, json, err);
	/* A refused password on --retrieve is not final: the CA still holds
	 * the request under its ID, and the next try may bring the password. */
	if (answer.state == ENROLL_DENIED ||
	    (req != NULL && (rv == CS_ERR_AUTH || rv == CS_ERR_REFUSED)))
		drop_refused(store, keys, pending, err);
	else if (rv != CS_OK && rv != CS_ERR_PENDING)
		cs_err_prefix(err,
			      "pending request %lld kept (retry with `certstore request "
			      "--retrieve %lld`)",
			      (long long)pending->id, (long long)pending->id);
	enroll_answer_clear(&answer);
	enroll_profile_free(profile);
	return rv;
}

cs_rv flow_submit(cs_store *store, cli_keys *keys, const char *profile_name,
		  const cs_pending *pending, X509_REQ *req, bool json, cs_err *err)
{
	return submit_to(store, keys, profile_name, pending, req, NULL, json, err);
}

cs_rv flow_submit_renewal(cs_store *store, cli_keys *keys, const char *profile_name,
			  const cs_pending *pending, X509_REQ *req, const cs_cert *current,
			  bool json, cs_err *err)
{
	return submit_to(store, keys, profile_name, pending, req, current, json, err);
}

cs_rv flow_write_request(const char *path, X509_REQ *req, cs_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	cs_rv rv;

	if (bio == NULL || !PEM_write_bio_X509_REQ(bio, req)) {
		BIO_free(bio);
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot encode the request");
	}
	len = BIO_get_mem_data(bio, &data);
	rv = cs_write_file_atomic(path, data, (size_t)len, 0644, err);
	BIO_free(bio);
	return rv;
}
