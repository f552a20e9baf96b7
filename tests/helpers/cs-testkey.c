/*
 * cs-testkey - what the provider tests need before the tool can do it:
 *
 *   cs-testkey STORE_DIR init                 make the store's SoftHSM2 token
 *   cs-testkey STORE_DIR bind THUMBPRINT KEY  put KEY (PEM) in the token and
 *                                             bind it to the certificate
 *
 * TODO: replace with `certstore init` / `certstore import --key` once the
 * tool has them.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>

#include "certstore.h"
#include "keys.h"

static cs_rv bind_key(const char *dir, const char *id, const char *keyfile, cs_err *err)
{
	cs_store *store = NULL;
	cs_token *tok = NULL;
	cs_cert *cert = NULL;
	EVP_PKEY *priv = NULL;
	char *uri = NULL;
	FILE *f;
	cs_rv rv;

	f = fopen(keyfile, "r");
	if (f != NULL) {
		priv = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (priv == NULL)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "%s: cannot read a private key", keyfile);
	rv = cs_store_open(dir, 0, &store, err);
	if (rv == CS_OK)
		rv = cs_store_find_one(store, id, NULL, &cert, NULL, err);
	if (rv == CS_OK)
		rv = cs_token_open_store(dir, &tok, err);
	if (rv == CS_OK)
		rv = cs_key_import(tok, priv, cert->friendly_name, false, &uri, err);
	if (rv == CS_ERR_DUPLICATE && uri != NULL)
		rv = CS_OK;
	if (rv == CS_OK)
		rv = cs_store_set_key(store, cert, uri, false, err);
	free(uri);
	cs_cert_free(cert);
	cs_token_close(tok);
	cs_store_close(store);
	EVP_PKEY_free(priv);
	return rv;
}

int main(int argc, char **argv)
{
	cs_err err = {0};
	cs_rv rv;

	if (argc == 3 && strcmp(argv[2], "init") == 0)
		rv = cs_token_init_softhsm(argv[1], &err);
	else if (argc == 5 && strcmp(argv[2], "bind") == 0)
		rv = bind_key(argv[1], argv[3], argv[4], &err);
	else {
		fprintf(stderr, "usage: cs-testkey STORE_DIR init | bind THUMBPRINT KEY.pem\n");
		return 2;
	}
	if (rv != CS_OK)
		fprintf(stderr, "cs-testkey: %s\n", err.msg);
	return (int)rv;
}
