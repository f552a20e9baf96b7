/*
 * cli_keys.c - see cli_keys.h.
 */
#include "cli_keys.h"
#include "cli_password.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core.h>
#include <openssl/err.h>
#include <openssl/store.h>

/* The provider's entry point, linked in from libcsprovider. */
OSSL_provider_init_fn OSSL_provider_init;
/* ... and its switch for the records of served keys: the tool's own signing
 * (a CSR, a renewal) is not a service that `certstore served` should list. */
void csp_served_disable(void);

static cs_rv open_libctx(cs_store *store, cli_keys *k, cs_err *err)
{
	/* The built-in provider reads no config: it finds the store through the
	 * environment, as any program using it would. */
	if (setenv("CERTSTORE_DIR", cs_store_dir(store), 1) != 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot set CERTSTORE_DIR");
	csp_served_disable();
	k->libctx = OSSL_LIB_CTX_new();
	if (k->libctx == NULL ||
	    !OSSL_PROVIDER_add_builtin(k->libctx, "certstore", OSSL_provider_init))
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot set up an OpenSSL context");
	/* default first: unqualified fetches (digests, software keys) stay there */
	k->deflt = OSSL_PROVIDER_load(k->libctx, "default");
	k->certstore = OSSL_PROVIDER_load(k->libctx, "certstore");
	if (k->deflt == NULL || k->certstore == NULL) {
		cs_err_set(err, CS_ERR_INTERNAL, "cannot load the certstore provider");
		cs_err_add_openssl(err);
		return CS_ERR_INTERNAL;
	}
	return CS_OK;
}

cs_rv cli_keys_open(cs_store *store, cli_keys *out, cs_err *err)
{
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	rv = cs_token_open_store(cs_store_dir(store), &out->token, err);
	if (rv == CS_OK)
		rv = open_libctx(store, out, err);
	if (rv != CS_OK)
		cli_keys_close(out);
	return rv;
}

void cli_keys_close(cli_keys *k)
{
	if (k == NULL)
		return;
	if (k->certstore != NULL)
		OSSL_PROVIDER_unload(k->certstore);
	if (k->deflt != NULL)
		OSSL_PROVIDER_unload(k->deflt);
	OSSL_LIB_CTX_free(k->libctx);
	cs_token_close(k->token);
	memset(k, 0, sizeof(*k));
}

static char *percent_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *w = out;

	for (; out != NULL && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.') {
			*w++ = (char)c;
		} else {
			*w++ = '%';
			*w++ = hex[c >> 4];
			*w++ = hex[c & 15];
		}
	}
	if (out != NULL)
		*w = '\0';
	return out;
}

cs_rv cli_keys_load(cli_keys *k, const char *uri, EVP_PKEY **out, cs_err *err)
{
	OSSL_STORE_CTX *sctx = NULL;
	OSSL_STORE_INFO *info;
	char *enc = percent_encode(uri), *store_uri = NULL;
	cs_rv rv = CS_OK;

	*out = NULL;
	if (enc == NULL || asprintf(&store_uri, "certstore:My?key=%s", enc) < 0) {
		free(enc);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	sctx = OSSL_STORE_open_ex(store_uri, k->libctx, NULL, NULL, NULL, NULL, NULL, NULL);
	while (sctx != NULL && *out == NULL && !OSSL_STORE_eof(sctx)) {
		info = OSSL_STORE_load(sctx);
		if (info != NULL && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
			*out = OSSL_STORE_INFO_get1_PKEY(info);
		OSSL_STORE_INFO_free(info);
		if (info == NULL)
			break;
	}
	if (*out == NULL) {
		rv = cs_err_set(err, CS_ERR_KEY, "cannot load the key %s", uri);
		cs_err_add_openssl(err);
	}
	OSSL_STORE_close(sctx);
	free(store_uri);
	free(enc);
	return rv;
}

/* Does the store name a key token at all? */
static bool has_token_config(cs_store *store)
{
	cs_token_config *cfg = NULL;

	if (cs_token_config_load(cs_store_dir(store), &cfg, NULL) != CS_OK)
		return false;
	cs_token_config_free(cfg);
	return true;
}

cs_rv cli_token_open(cs_store *store, cs_token **out, cs_err *err)
{
	*out = NULL;
	if (!has_token_config(store))
		return cs_err_set(err, CS_ERR_TOKEN,
				  "the store %s has no key token (run 'certstore init')",
				  cs_store_dir(store));
	return cs_token_open_store(cs_store_dir(store), out, err);
}

void cli_keys_attach_checker(cs_store *store, cli_keys *keys)
{
	cs_err err = {0};

	memset(keys, 0, sizeof(*keys));
	if (!has_token_config(store))
		return;
	if (cs_token_open_store(cs_store_dir(store), &keys->token, &err) == CS_OK)
		cs_store_attach_token(store, keys->token, NULL);
	else {
		/* status then says "Key token unavailable: <why>", not "Missing
		 * private key": an HSM outage is not a lost key */
		cs_store_attach_token(store, NULL, &err);
		fprintf(stderr,
			"certstore: warning: the key token cannot be opened, so no "
			"private key can be reached: %s\n",
			err.msg);
	}
}

static cs_rv enroll_load(void *arg, const char *uri, EVP_PKEY **out, cs_err *err)
{
	return cli_keys_load(arg, uri, out, err);
}

static cs_rv enroll_ask(void *arg, const char *prompt, char **out, cs_err *err)
{
	cli_password_src none = {0};

	(void)arg;
	return cli_password_get(&none, prompt, false, out, err);
}

void cli_enroll_keys(cli_keys *keys, enroll_keys *out)
{
	memset(out, 0, sizeof(*out));
	out->libctx = keys->libctx;
	out->token = keys->token;
	out->load_key = enroll_load;
	out->ask_secret = enroll_ask;
	out->arg = keys;
}
