/*
 * key_status.c - what status asks of key custody: is this certificate's key
 * in the token, and does it match?  Above keys.c (it asks cs_key_check);
 * nothing in key custody calls it.
 */
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "internal.h"
#include "keys_internal.h"

cs_rv cs_token_check_key(cs_token *tok, const cs_cert *cert, cs_status *out, cs_err *err)
{
	EVP_PKEY *pub;
	cs_rv rv;

	*out = CS_STATUS_MISSING_KEY;
	if (cert == NULL || cert->key_uri == NULL || cert->x509 == NULL)
		return CS_OK;
	pub = X509_get0_pubkey(cert->x509);
	if (pub == NULL)
		return CS_OK;
	rv = cs_key_check(tok, cert->key_uri, pub, out, err);
	ERR_clear_error();
	return rv;
}

cs_status cs_token_key_checker(void *ctx, const cs_cert *cert)
{
	cs_status st = CS_STATUS_MISSING_KEY;

	if (ctx == NULL || cs_token_check_key(ctx, cert, &st, NULL) != CS_OK)
		return CS_STATUS_MISSING_KEY;
	return st;
}

static cs_rv check_with_token(void *ctx, const cs_cert *cert, cs_status *out, cs_err *err)
{
	return cs_token_check_key(ctx, cert, out, err);
}

/* The token could not be opened: every key question has that answer. */
static cs_rv check_without_token(void *ctx, const cs_cert *cert, cs_status *out, cs_err *err)
{
	const cs_store *store = ctx;

	*out = CS_STATUS_MISSING_KEY;
	if (cert == NULL || cert->key_uri == NULL)
		return CS_OK; /* no key linked: missing, whatever the token */
	return cs_err_set(err, CS_ERR_TOKEN, "%s", store->key_token_error);
}

void cs_store_attach_token(cs_store *store, cs_token *tok, const cs_err *open_error)
{
	store->key_checker = NULL;
	store->key_checker_ctx = NULL;
	if (tok != NULL) {
		store->key_check = check_with_token;
		store->key_check_ctx = tok;
		store->key_token_error[0] = '\0';
		return;
	}
	store->key_check = check_without_token;
	store->key_check_ctx = store;
	snprintf(store->key_token_error, sizeof(store->key_token_error), "%s",
		 open_error != NULL && open_error->msg[0] ? open_error->msg
							  : "the key token cannot be opened");
}
