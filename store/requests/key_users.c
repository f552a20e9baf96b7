/*
 * key_users.c - who still uses a key: certificates and pending requests.
 * A same-key renewal's request shares its key with the certificate it
 * renews, and an archived certificate keeps its key, so both are asked.
 */
#include "requests.h"
#include "request.h"

#include <stdio.h>
#include <string.h>

static bool same_uri(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

cs_rv cs_key_users(cs_store *store, const char *key_uri, int64_t except_cert,
		   int64_t except_pending, bool *used, char *who, size_t whosz, cs_err *err)
{
	cs_find_opts all = {.store = CS_STORE_NONE, .include_archived = true};
	cs_cert_list certs = {0};
	cs_pending_list pending = {0};
	cs_rv rv;
	size_t i;

	*used = false;
	rv = cs_store_list(store, &all, &certs, err);
	for (i = 0; rv == CS_OK && !*used && i < certs.n; i++) {
		const cs_cert *c = certs.items[i];

		if (c->id != except_cert && same_uri(c->key_uri, key_uri)) {
			*used = true;
			snprintf(who, whosz, "%s", c->sha1);
		}
	}
	if (rv == CS_OK && !*used)
		rv = cs_pending_list_get(store, &pending, err);
	for (i = 0; rv == CS_OK && !*used && i < pending.n; i++) {
		if (pending.items[i]->id != except_pending &&
		    same_uri(pending.items[i]->key_uri, key_uri)) {
			*used = true;
			snprintf(who, whosz, "a pending request");
		}
	}
	cs_pending_list_clear(&pending);
	cs_cert_list_clear(&certs);
	return rv;
}
