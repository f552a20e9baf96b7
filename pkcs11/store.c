/*
 * store.c - the module's view of the store: one read-only connection opened
 * when first needed, a small cache of parsed rows, and the data version that
 * says when the cache is stale (a change committed by `certstore`, or by our
 * own writes, which go through a separate read-write connection).
 */
#include "p11.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CACHE_SIZE 1024 /* direct-mapped by row id; a collision evicts */

static char *store_dir;
static cs_store *ro;
static int64_t version;
static cs_cert *cache[CACHE_SIZE];

static void cache_clear(void)
{
	size_t i;

	for (i = 0; i < CACHE_SIZE; i++) {
		cs_cert_free(cache[i]);
		cache[i] = NULL;
	}
}

const cs_cert *p11_cache_put(cs_cert *cert)
{
	cs_cert **slot = &cache[(uint64_t)cert->id % CACHE_SIZE];

	if (*slot != NULL && (*slot)->id == cert->id) {
		cs_cert_free(cert);
		return *slot;
	}
	cs_cert_free(*slot);
	*slot = cert;
	return cert;
}

static const cs_cert *cache_get(int64_t id)
{
	cs_cert *c = cache[(uint64_t)id % CACHE_SIZE];

	return c != NULL && c->id == id ? c : NULL;
}

CK_RV p11_store_init(const char *dir)
{
	if (dir == NULL || *dir == '\0')
		dir = cs_store_default_dir();
	store_dir = strdup(dir);
	return store_dir != NULL ? CKR_OK : CKR_HOST_MEMORY;
}

void p11_store_finalize(void)
{
	cache_clear();
	cs_store_close(ro);
	ro = NULL;
	free(store_dir);
	store_dir = NULL;
}

void p11_store_forget(void)
{
	/* SQLite connections must not cross fork(); closing the parent's in the
	 * child could even disturb the parent's locks.  Leak it instead. */
	ro = NULL;
	cache_clear();
}

const char *p11_store_dirname(void)
{
	return store_dir;
}

cs_store *p11_store_ro(void)
{
	return ro;
}

static void debug_log(const cs_err *err)
{
	if (err != NULL && getenv("CERTSTORE_PKCS11_DEBUG") != NULL)
		fprintf(stderr, "certstore-pkcs11: %s\n", err->msg);
}

CK_RV p11_ckr(cs_rv rv, const cs_err *err)
{
	if (rv != CS_OK)
		debug_log(err);
	switch (rv) {
	case CS_OK:
		return CKR_OK;
	case CS_ERR_BAD_INPUT:
	case CS_ERR_USAGE:
		return CKR_ATTRIBUTE_VALUE_INVALID;
	case CS_ERR_NOT_FOUND:
		return CKR_OBJECT_HANDLE_INVALID;
	case CS_ERR_TRUST_REFUSED:
	case CS_ERR_REFUSED:
		return CKR_ACTION_PROHIBITED;
	case CS_ERR_STORE:
	case CS_ERR_TOKEN:
		return CKR_DEVICE_ERROR;
	case CS_ERR_AUTH:
		return CKR_PIN_INCORRECT;
	case CS_ERR_KEY:
		return CKR_KEY_HANDLE_INVALID;
	default:
		return CKR_GENERAL_ERROR;
	}
}

/* A store that is missing or that this user cannot read shows as empty
 * tokens: a system-wide registration must not break every consumer. */
static void try_open(void)
{
	cs_err err = {0};

	if (cs_store_open(store_dir, CS_OPEN_READONLY, &ro, &err) != CS_OK) {
		debug_log(&err);
		ro = NULL;
		return;
	}
	if (cs_store_data_version(ro, &version, &err) != CS_OK) {
		debug_log(&err);
		cs_store_close(ro);
		ro = NULL;
	}
}

CK_RV p11_store_refresh(bool *present)
{
	cs_err err = {0};
	int64_t now;

	*present = false;
	if (ro == NULL) {
		try_open();
		cache_clear();
		*present = ro != NULL;
		return CKR_OK;
	}
	if (cs_store_data_version(ro, &now, &err) != CS_OK)
		return p11_ckr(err.rv, &err);
	if (now != version) {
		version = now;
		cache_clear();
	}
	*present = true;
	return CKR_OK;
}

CK_RV p11_object_load(CK_OBJECT_HANDLE h, cs_store_id store, bool private_visible, p11_object *obj)
{
	int64_t row = (int64_t)(h >> P11_KIND_BITS);
	unsigned kinds[16], kind = (unsigned)(h & ((1u << P11_KIND_BITS) - 1));
	const cs_cert *c = row > 0 ? cache_get(row) : NULL;
	cs_cert *fresh = NULL;
	size_t i, n;

	if (c == NULL && row > 0 && ro != NULL) {
		if (cs_store_find_by_row(ro, row, &fresh, NULL) == CS_OK)
			c = p11_cache_put(fresh);
	}
	if (c == NULL || c->store != store || c->archived)
		return CKR_OBJECT_HANDLE_INVALID;
	n = p11_object_kinds(c, private_visible, kinds, 16);
	for (i = 0; i < n; i++) {
		if (kinds[i] == kind) {
			obj->handle = h;
			obj->kind = kind;
			obj->cert = c;
			return CKR_OK;
		}
	}
	return CKR_OBJECT_HANDLE_INVALID;
}

bool p11_store_writable(void)
{
	char path[4096];

	if (store_dir == NULL || access(store_dir, W_OK) != 0)
		return false;
	snprintf(path, sizeof(path), "%s/store.db", store_dir);
	return access(path, W_OK) == 0;
}

bool p11_store_has_key_token(void)
{
	cs_token_config *cfg = NULL;
	bool has;

	if (store_dir == NULL || cs_token_config_load(store_dir, &cfg, NULL) != CS_OK)
		return false;
	has = cfg->pin_file != NULL;
	cs_token_config_free(cfg);
	return has;
}

CK_RV p11_store_open_rw(cs_store **out)
{
	cs_err err = {0};
	cs_rv rv;

	if (!p11_store_writable())
		return CKR_TOKEN_WRITE_PROTECTED;
	rv = cs_store_open(store_dir, 0, out, &err);
	return p11_ckr(rv, &err);
}
