/*
 * key.c - store keys as the provider holds them: a token reference plus the
 * certificate's public key.
 */
#include "provider.h"
#include "keys.h"
#include "agent.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/params.h>
#include <openssl/x509.h>

int csp_cert_key_type(const cs_cert *cert)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert->x509);

	if (pub == NULL)
		return 0;
	if (EVP_PKEY_is_a(pub, "RSA"))
		return EVP_PKEY_RSA;
	if (EVP_PKEY_is_a(pub, "EC"))
		return EVP_PKEY_EC;
	return 0;
}

const char *csp_key_type_name(int type)
{
	return type == EVP_PKEY_RSA ? "RSA" : "EC";
}

const char *csp_key_alias_name(int type)
{
	return type == EVP_PKEY_RSA ? "CERTSTORE-RSA" : "CERTSTORE-EC";
}

static cs_rv key_from_cert(csp_ctx *ctx, const cs_cert *cert, csp_key **out, cs_err *err)
{
	csp_key *key;

	if (cert->key_uri == NULL)
		return cs_err_set(err, CS_ERR_KEY, "%s (%s) has no private key in the store",
				  cert->subject, cert->sha1);
	if (csp_cert_key_type(cert) == 0)
		return cs_err_set(err, CS_ERR_KEY,
				  "%s (%s): only RSA and EC keys are served by the provider",
				  cert->subject, cert->sha1);
	key = calloc(1, sizeof(*key));
	if (key == NULL || (key->uri = strdup(cert->key_uri)) == NULL) {
		free(key);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	key->prov = ctx;
	key->type = csp_cert_key_type(cert);
	memcpy(key->sha1, cert->sha1, sizeof(key->sha1));
	key->pub = csp_dflt_public_of_cert(ctx, cert->x509);
	if (key->pub == NULL) {
		csp_key_free(key);
		return cs_err_set(err, CS_ERR_INTERNAL, "%s (%s): cannot read its public key",
				  cert->subject, cert->sha1);
	}
	*out = key;
	return CS_OK;
}

cs_rv csp_key_from_thumbprint(csp_ctx *ctx, const char *sha1, csp_key **out, cs_err *err)
{
	cs_find_opts opts = {.store = CS_STORE_NONE};
	cs_cert_list all = {0};
	cs_cert *cert = NULL;
	cs_store *st;
	cs_rv rv;

	*out = NULL;
	rv = csp_store_acquire(ctx, &st, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_store_find_one(st, sha1, &opts, &cert, &all, err);
	csp_store_release(ctx);
	if (rv == CS_ERR_AMBIGUOUS && all.n > 0) { /* one certificate in several stores */
		cert = all.items[0];
		all.items[0] = NULL;
		rv = CS_OK;
	}
	if (rv == CS_ERR_NOT_FOUND)
		rv = cs_err_set(err, rv, "no certificate with thumbprint %s in the store", sha1);
	if (rv == CS_OK)
		rv = key_from_cert(ctx, cert, out, err);
	if (rv == CS_OK)
		csp_served_note(ctx, cert->sha1);
	cs_cert_free(cert);
	cs_cert_list_clear(&all);
	return rv;
}

cs_rv csp_key_from_uri(csp_ctx *ctx, const char *uri, csp_key **out, cs_err *err)
{
	struct cs_token *tok = NULL;
	csp_key *key = NULL;
	EVP_PKEY *pub = NULL, *token_pub = NULL;
	cs_rv rv;

	*out = NULL;
	rv = csp_token_get(ctx, &tok, err);
	if (rv == CS_OK)
		rv = cs_key_public(tok, uri, &token_pub, err);
	if (rv != CS_OK)
		return rv;
	/* Into our own library context, as every key we hold (see delegate.c). */
	pub = csp_dflt_public(ctx, token_pub);
	EVP_PKEY_free(token_pub);
	if (pub == NULL)
		return cs_err_set(err, CS_ERR_KEY, "%s: cannot read its public key", uri);
	key = calloc(1, sizeof(*key));
	if (key == NULL || (key->uri = strdup(uri)) == NULL) {
		free(key);
		EVP_PKEY_free(pub);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	key->prov = ctx;
	key->type = EVP_PKEY_is_a(pub, "RSA") ? EVP_PKEY_RSA : EVP_PKEY_EC;
	key->pub = pub;
	*out = key;
	return CS_OK;
}

void csp_key_free(csp_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pub);
	free(key->uri);
	free(key);
}

csp_key *csp_key_dup(const csp_key *key)
{
	csp_key *copy = calloc(1, sizeof(*copy));

	if (copy == NULL)
		return NULL;
	*copy = *key;
	copy->uri = key->uri != NULL ? strdup(key->uri) : NULL;
	if ((key->uri != NULL && copy->uri == NULL) ||
	    (key->pub != NULL && !EVP_PKEY_up_ref(key->pub))) {
		free(copy->uri);
		free(copy);
		return NULL;
	}
	return copy;
}

int csp_key_emit(const csp_key *key, OSSL_CALLBACK *object_cb, void *object_cbarg)
{
	return csp_key_emit_as(key, csp_key_type_name(key->type), object_cb, object_cbarg);
}

int csp_key_emit_as(const csp_key *key, const char *name, OSSL_CALLBACK *object_cb,
		    void *object_cbarg)
{
	csp_keyref ref = {.magic = CSP_KEYREF_MAGIC, .key = key};
	int type = OSSL_OBJECT_PKEY;
	/* The length matters: the decoder framework copies the data type with
	 * OSSL_PARAM_get_utf8_string, which takes data_size bytes (the STORE
	 * path reads it as a pointer and did not notice a 0). */
	OSSL_PARAM params[] = {
		OSSL_PARAM_int(OSSL_OBJECT_PARAM_TYPE, &type),
		OSSL_PARAM_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE, (char *)name, strlen(name)),
		OSSL_PARAM_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &ref, sizeof(ref)),
		OSSL_PARAM_END,
	};

	return object_cb(params, object_cbarg);
}

cs_rv csp_key_sign(const csp_key *key, const cs_sign_mech *mech, const unsigned char *in,
		   size_t inlen, unsigned char *out, size_t *outlen, cs_err *err)
{
	const char *agent = key->sha1[0] != '\0' ? csp_agent(key->prov) : NULL;
	cs_token *tok;
	cs_rv rv;

	if (agent != NULL)
		return cs_agent_sign(agent, csp_store_dir(key->prov), key->sha1, mech, in, inlen,
				     out, outlen, err);
	rv = csp_token_get(key->prov, &tok, err);
	if (rv == CS_OK)
		rv = cs_key_sign(tok, key->uri, mech, in, inlen, out, outlen, err);
	return rv;
}

cs_rv csp_key_decrypt(const csp_key *key, const cs_decrypt_mech *mech, const unsigned char *in,
		      size_t inlen, unsigned char *out, size_t *outlen, cs_err *err)
{
	const char *agent = key->sha1[0] != '\0' ? csp_agent(key->prov) : NULL;
	cs_token *tok;
	cs_rv rv;

	if (agent != NULL)
		return cs_agent_decrypt(agent, csp_store_dir(key->prov), key->sha1, mech, in, inlen,
					out, outlen, err);
	rv = csp_token_get(key->prov, &tok, err);
	if (rv == CS_OK)
		rv = cs_key_decrypt(tok, key->uri, mech, in, inlen, out, outlen, err);
	return rv;
}
