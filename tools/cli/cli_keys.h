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
#include "cli.h"
#include "enroll.h"
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

/*
 * Installs the token-backed key checker on store when the store has a token,
 * so status reports "Missing private key"/"Private key mismatch" by looking.
 * keys->token is set when a token was opened: cli_keys_close(keys) after the
 * store is done.  A store without certstore.conf keeps the library's
 * default; when its token cannot be opened every key is unreachable
 * ("Missing private key") and a warning on stderr says why.
 */
void cli_keys_attach_checker(cs_store *store, cli_keys *keys);

/* enroll/'s view of keys (what it may use of them, and the tool's no-echo
 * prompt for CA passwords); reads keys' fields now, so call it after
 * cli_keys_open.  keys must outlive out. */
void cli_enroll_keys(cli_keys *keys, enroll_keys *out);

/* Opens the store's token alone; a store without one says 'certstore init'. */
cs_rv cli_token_open(cs_store *store, cs_token **out, cs_err *err);

/* ---- PFX (cmd_import_pfx.c) --------------------------------------------- */

typedef struct cli_pfx_import {
	const char *friendly_name;
	const char *password_file;
	const char *password_env;
	bool exportable;
	bool trust_root; /* --store Root */
	bool json;	 /* --json: the result as import's JSON, plus "key" */
} cli_pfx_import;

/* True when the file at path is a PKCS#12 file (by content, not name). */
bool cli_is_pfx(const char *path);
/* `certstore import FILE.pfx`: password, token, cs_pfx_import, printing. */
cs_rv cli_import_pfx(const cli_ctx *ctx, const char *path, const cli_pfx_import *opts, cs_err *err);

#endif
