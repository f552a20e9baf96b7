/*
 * status.c - the one place that decides whether a certificate is Valid, and
 * if not, names the reason the way the Windows procedure does.
 */
#include "db.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#define MAX_CHAIN_WALK 32

const char *cs_status_name(cs_status s)
{
	switch (s) {
	case CS_STATUS_VALID:
		return "Valid";
	case CS_STATUS_EXPIRED:
		return "Expired";
	case CS_STATUS_NOT_YET_VALID:
		return "Not yet valid";
	case CS_STATUS_UNTRUSTED_ROOT:
		return "Untrusted root";
	case CS_STATUS_MISSING_KEY:
		return "Missing private key";
	case CS_STATUS_KEY_TOKEN_UNAVAILABLE:
		return "Key token unavailable";
	case CS_STATUS_KEY_MISMATCH:
		return "Private key mismatch";
	case CS_STATUS_DISALLOWED:
		return "Disallowed";
	case CS_STATUS_BAD_SIGNATURE:
		return "Invalid signature";
	case CS_STATUS_INVALID_CHAIN:
		return "Invalid chain";
	}
	return "Unknown";
}

void cs_status_report_clear(cs_status_report *r)
{
	if (r == NULL)
		return;
	cs_cert_list_clear(&r->chain);
	memset(r, 0, sizeof(*r));
}

/* Everything the store could offer as an issuer, by kind. */
typedef struct candidates {
	X509_STORE *trusted;	     /* Root */
	STACK_OF(X509) * untrusted;  /* CA and My */
	STACK_OF(X509) * disallowed; /* Disallowed: never used, only recognised */
} candidates;

static void candidates_free(candidates *c)
{
	X509_STORE_free(c->trusted);
	sk_X509_pop_free(c->untrusted, X509_free);
	sk_X509_pop_free(c->disallowed, X509_free);
}

static cs_rv offer(candidates *c, const cs_cert *found, cs_err *err)
{
	int ok = 1;

	if (found->store == CS_STORE_ROOT)
		ok = X509_STORE_add_cert(c->trusted, found->x509);
	else if (found->store == CS_STORE_DISALLOWED)
		ok = X509_up_ref(found->x509) && sk_X509_push(c->disallowed, found->x509) > 0;
	else if (found->store != CS_STORE_REQUEST)
		ok = X509_up_ref(found->x509) && sk_X509_push(c->untrusted, found->x509) > 0;
	if (!ok)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory building the chain");
	return CS_OK;
}

/*
 * Walks issuer names upwards through the index, so status never loads the
 * whole store (Root may hold 100,000 certificates).
 */
static cs_rv gather_issuers(cs_store *store, const cs_cert *leaf, candidates *c, cs_err *err)
{
	X509_NAME *pending[MAX_CHAIN_WALK];
	size_t npending = 0, steps = 0, i;
	cs_find_opts opts = {.store = CS_STORE_NONE, .include_archived = true};
	cs_cert_list found = {0};
	cs_rv rv = CS_OK;

	if (X509_check_issued(leaf->x509, leaf->x509) == X509_V_OK)
		return CS_OK; /* self-issued: nothing above it */
	pending[npending++] = X509_NAME_dup(X509_get_issuer_name(leaf->x509));
	while (npending > 0 && rv == CS_OK) {
		X509_NAME *name = pending[--npending];

		rv = cs_store_find_by_subject(store, name, &opts, &found, err);
		X509_NAME_free(name);
		for (i = 0; rv == CS_OK && i < found.n; i++) {
			cs_cert *f = found.items[i];

			rv = offer(c, f, err);
			if (rv == CS_OK && steps++ < MAX_CHAIN_WALK && npending < MAX_CHAIN_WALK &&
			    X509_check_issued(f->x509, f->x509) != X509_V_OK)
				pending[npending++] = X509_NAME_dup(X509_get_issuer_name(f->x509));
		}
		cs_cert_list_clear(&found);
	}
	while (npending > 0)
		X509_NAME_free(pending[--npending]);
	return rv;
}

/* What the verify callback saw, worst first by our precedence. */
typedef struct verdicts {
	int expired_depth, not_yet_depth, untrusted_depth, signature_depth, other_depth;
	int other_error;
} verdicts;

static int collect_cb(int ok, X509_STORE_CTX *ctx)
{
	verdicts *v = X509_STORE_CTX_get_app_data(ctx);
	int e = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);

	if (ok || v == NULL)
		return ok;
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		if (v->expired_depth < 0)
			v->expired_depth = depth;
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		if (v->not_yet_depth < 0)
			v->not_yet_depth = depth;
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
		if (v->untrusted_depth < 0)
			v->untrusted_depth = depth;
		break;
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
		if (v->signature_depth < 0)
			v->signature_depth = depth;
		break;
	default:
		if (v->other_depth < 0) {
			v->other_depth = depth;
			v->other_error = e;
		}
	}
	return 1; /* keep going: we want every reason, then pick by precedence */
}

static cs_rv copy_chain(STACK_OF(X509) * chain, cs_cert_list *out, cs_err *err)
{
	cs_cert *c;
	cs_rv rv = CS_OK;
	int i;

	for (i = 0; chain != NULL && i < sk_X509_num(chain) && rv == CS_OK; i++) {
		rv = cs_cert_from_x509(sk_X509_value(chain, i), &c, err);
		if (rv == CS_OK)
			rv = cs_cert_list_push(out, c, err);
	}
	return rv;
}

static bool in_disallowed(const candidates *c, X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(c->disallowed); i++) {
		X509 *d = sk_X509_value(c->disallowed, i);

		if (X509_cmp(d, x) == 0 || X509_check_issued(d, x) == X509_V_OK)
			return true;
	}
	return false;
}

static cs_rv cert_is_disallowed(cs_store *store, const cs_cert *cert, bool *out, cs_err *err)
{
	cs_cert *found = NULL;
	cs_err tmp;
	cs_rv rv;

	rv = cs_store_find_by_thumbprint(store, CS_STORE_DISALLOWED, cert->sha1, &found, &tmp);
	*out = rv == CS_OK;
	cs_cert_free(found);
	if (rv == CS_ERR_NOT_FOUND)
		return CS_OK;
	if (rv != CS_OK && err != NULL)
		*err = tmp;
	return rv;
}

/* The subject at depth (or the top of the chain when depth < 0). */
static const char *subject_at(const cs_cert_list *chain, int depth)
{
	size_t at;

	if (chain->n == 0)
		return "?";
	at = depth >= 0 && (size_t)depth < chain->n ? (size_t)depth : chain->n - 1;
	return chain->items[at]->subject;
}

static void decide_chain(cs_status_report *out, const verdicts *v, bool disallowed)
{
	const cs_cert_list *ch = &out->chain;

	if (disallowed) {
		out->status = CS_STATUS_DISALLOWED;
		snprintf(out->detail, sizeof(out->detail),
			 "the certificate or one of its issuers is in the Disallowed store");
	} else if (v->expired_depth >= 0) {
		out->status = CS_STATUS_EXPIRED;
		snprintf(out->detail, sizeof(out->detail), "%s has expired",
			 subject_at(ch, v->expired_depth));
	} else if (v->not_yet_depth >= 0) {
		out->status = CS_STATUS_NOT_YET_VALID;
		snprintf(out->detail, sizeof(out->detail), "%s is not valid yet",
			 subject_at(ch, v->not_yet_depth));
	} else if (v->signature_depth >= 0) {
		out->status = CS_STATUS_BAD_SIGNATURE;
		snprintf(out->detail, sizeof(out->detail), "the signature on %s does not verify",
			 subject_at(ch, v->signature_depth));
	} else if (v->untrusted_depth >= 0) {
		out->status = CS_STATUS_UNTRUSTED_ROOT;
		snprintf(out->detail, sizeof(out->detail),
			 "the chain ends at %s, which is not in Root (import the root with "
			 "--store Root to trust it)",
			 subject_at(ch, -1));
	} else if (v->other_depth >= 0) {
		out->status = CS_STATUS_INVALID_CHAIN;
		snprintf(out->detail, sizeof(out->detail), "%s",
			 X509_verify_cert_error_string(v->other_error));
	}
}

/* The key half of the status.  A token that cannot be asked is no answer
 * about the key: CS_STATUS_KEY_TOKEN_UNAVAILABLE, with the reason in why,
 * so an HSM outage does not read as a missing key. */
static cs_status check_key(cs_store *store, const cs_cert *cert, char *why, size_t whysz)
{
	cs_status st = CS_STATUS_MISSING_KEY;
	cs_err err = {0};

	if (cert->store != CS_STORE_MY || cs_cert_is_ca(cert))
		return CS_STATUS_VALID;
	if (store->key_check != NULL) {
		if (store->key_check(store->key_check_ctx, cert, &st, &err) == CS_OK)
			return st;
		snprintf(why, whysz, "%s", err.msg);
		return CS_STATUS_KEY_TOKEN_UNAVAILABLE;
	}
	if (store->key_checker != NULL)
		return store->key_checker(store->key_checker_ctx, cert);
	return cert->key_uri != NULL ? CS_STATUS_VALID : CS_STATUS_MISSING_KEY;
}

static cs_rv verify_chain(cs_store *store, const cs_cert *cert, time_t now, cs_status_report *out,
			  cs_err *err)
{
	candidates c = {X509_STORE_new(), sk_X509_new_null(), sk_X509_new_null()};
	verdicts v = {-1, -1, -1, -1, -1, 0};
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) * chain;
	bool disallowed = false;
	cs_rv rv;
	int i;

	if (c.trusted == NULL || c.untrusted == NULL || c.disallowed == NULL || ctx == NULL) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (cert->store == CS_STORE_ROOT && !X509_STORE_add_cert(c.trusted, cert->x509)) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	rv = gather_issuers(store, cert, &c, err);
	if (rv != CS_OK)
		goto out;
	if (!X509_STORE_CTX_init(ctx, c.trusted, cert->x509, c.untrusted)) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot set up chain verification");
		goto out;
	}
	/* Any Root certificate is an anchor, self-signed or not, as on Windows. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_CTX_set_time(ctx, 0, now);
	X509_STORE_CTX_set_verify_cb(ctx, collect_cb);
	X509_STORE_CTX_set_app_data(ctx, &v);
	(void)X509_verify_cert(ctx);
	ERR_clear_error();
	chain = X509_STORE_CTX_get0_chain(ctx);
	rv = copy_chain(chain, &out->chain, err);
	if (rv != CS_OK)
		goto out;
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		disallowed = disallowed || in_disallowed(&c, sk_X509_value(chain, i));
	decide_chain(out, &v, disallowed);
out:
	X509_STORE_CTX_free(ctx);
	candidates_free(&c);
	return rv;
}

cs_rv cs_status_compute(cs_store *store, const cs_cert *cert, time_t now, cs_status_report *out,
			cs_err *err)
{
	bool disallowed = false;
	char why[CS_ERR_MSG_MAX] = "";
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	if (now == 0)
		now = cs_now();
	rv = cert_is_disallowed(store, cert, &disallowed, err);
	if (rv == CS_OK)
		rv = verify_chain(store, cert, now, out, err);
	if (rv != CS_OK) {
		cs_status_report_clear(out);
		return rv;
	}
	if (disallowed || cert->store == CS_STORE_DISALLOWED) {
		out->status = CS_STATUS_DISALLOWED;
		snprintf(out->detail, sizeof(out->detail),
			 "the certificate is in the Disallowed store");
	}
	out->key_status = check_key(store, cert, why, sizeof(why));
	if (out->status == CS_STATUS_VALID && out->key_status != CS_STATUS_VALID) {
		out->status = out->key_status;
		snprintf(out->detail, sizeof(out->detail), "%s",
			 out->key_status == CS_STATUS_KEY_TOKEN_UNAVAILABLE ? why
			 : out->key_status == CS_STATUS_MISSING_KEY
				 ? "no private key is linked to this certificate"
				 : "the linked private key does not match the certificate's public "
				   "key");
	}
	return CS_OK;
}
