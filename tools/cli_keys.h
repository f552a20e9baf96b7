/*
 * cli_keys.h - the tool's own keys: the store's token for making and
 * deleting keys, and private-key operations through the certstore provider
 * (registered built in, in a library context of the tool's own), so the
 * tool signs requests and certificates the way TLS servers sign handshakes.
 */
#ifndef CERTSTORE_CLI_KEYS_H
#define CERTSTORE_CLI_KEYS_H

#include <openssl/evp.h>
#include <openssl/provider.h>

#include "certstore.h"
#include "keys.h"

typedef struct cli_keys {
	OSSL_LIB_CTX *libctx;
	OSSL_PROVIDER *deflt;
	OSSL_PROVIDER *certstore;
	cs_token *token;
} cli_keys;

/* Opens the store's token (certstore.conf) and the provider context. */
cs_rv cli_keys_open(cs_store *store, cli_keys *out, cs_err *err);
void cli_keys_close(cli_keys *keys);

/* The key at uri as an EVP_PKEY whose private half stays in the token. */
cs_rv cli_keys_load(cli_keys *keys, const char *uri, EVP_PKEY **out, cs_err *err);

/* Installs the token-backed key checker on store when the store has a token,
 * so status reports "Missing private key"/"Private key mismatch" by looking.
 * A store without certstore.conf keeps the library's default. *keys_out is
 * set when a token was opened (close it after the store is done). */
void cli_keys_attach_checker(cs_store *store, cli_keys *keys);

#endif
