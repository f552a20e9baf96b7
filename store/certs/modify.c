/*
 * modify.c - changes to stored certificates, each with its audit entry, each
 * one transaction.
 */
#include "db_certs.h"
#include "certs.h"
#include "usage.h"

#include <stdio.h>
#include <stdlib.h>

/* Runs the change and its audit row together: both or neither. */
#define IN_TRANSACTION(store, err, change, action, ...)                                            \
	do {                                                                                       \
		char detail_[768];                                                                 \
		cs_rv rv_ = cs_db_begin(store, err);                                               \
		if (rv_ != CS_OK)                                                                  \
			return rv_;                                                                \
		rv_ = (change);                                                                    \
		snprintf(detail_, sizeof(detail_), __VA_ARGS__);                                   \
		if (rv_ == CS_OK)                                                                  \
			rv_ = cs_db_audit_insert(store, action, detail_, err);                     \
		if (rv_ == CS_OK)                                                                  \
			return cs_db_commit(store, err);                                           \
		cs_db_rollback(store);                                                             \
		return rv_;                                                                        \
	} while (0)

/* Files published from Root follow every change to Root. */
cs_rv cs_after_root_change(cs_store *store, cs_err *err)
{
	cs_rv rv = cs_publish_roots(store, err);

	if (rv != CS_OK)
		cs_err_prefix(err, "the change is saved, but published/roots is stale (run "
				   "`certstore check`)");
	return rv;
}

static cs_rv delete_row(cs_store *store, const cs_cert *cert, cs_err *err)
{
	IN_TRANSACTION(store, err, cs_db_cert_delete(store, cert->id, err), "delete", "%s %s %s",
		       cs_store_id_name(cert->store), cert->sha1, cert->subject);
}

cs_rv cs_store_delete(cs_store *store, const cs_cert *cert, cs_err *err)
{
	cs_rv rv = delete_row(store, cert, err);

	if (rv == CS_OK && cert->store == CS_STORE_ROOT)
		rv = cs_after_root_change(store, err);
	return rv;
}

static cs_rv move_row(cs_store *store, const cs_cert *cert, cs_store_id to, cs_err *err)
{
	IN_TRANSACTION(store, err, cs_db_cert_set_store(store, cert->id, to, err), "move",
		       "%s %s -> %s %s", cert->sha1, cs_store_id_name(cert->store),
		       cs_store_id_name(to), cert->subject);
}

cs_rv cs_store_move(cs_store *store, const cs_cert *cert, cs_store_id to, cs_err *err)
{
	cs_cert *existing = NULL;
	cs_rv rv;

	if (to == cert->store)
		return cs_err_set(err, CS_ERR_DUPLICATE, "%s is already in %s", cert->sha1,
				  cs_store_id_name(to));
	if (cs_store_find_by_thumbprint(store, to, cert->sha1, &existing, NULL) == CS_OK) {
		cs_cert_free(existing);
		return cs_err_set(err, CS_ERR_DUPLICATE, "%s is already in %s", cert->sha1,
				  cs_store_id_name(to));
	}
	rv = move_row(store, cert, to, err);
	if (rv == CS_OK && (cert->store == CS_STORE_ROOT || to == CS_STORE_ROOT))
		rv = cs_after_root_change(store, err);
	return rv;
}

cs_rv cs_store_set_friendly_name(cs_store *store, const cs_cert *cert, const char *name,
				 cs_err *err)
{
	IN_TRANSACTION(store, err, cs_db_cert_set_text(store, cert->id, "friendly_name", name, err),
		       "set-friendly-name", "%s %s \"%s\"", cs_store_id_name(cert->store),
		       cert->sha1, name ? name : "");
}

cs_rv cs_store_set_archived(cs_store *store, const cs_cert *cert, bool archived, cs_err *err)
{
	IN_TRANSACTION(store, err, cs_db_cert_set_flag(store, cert->id, "archived", archived, err),
		       archived ? "archive" : "unarchive", "%s %s", cs_store_id_name(cert->store),
		       cert->sha1);
}

cs_rv cs_store_set_ca_profile(cs_store *store, const cs_cert *cert, const char *profile,
			      cs_err *err)
{
	IN_TRANSACTION(store, err, cs_db_cert_set_text(store, cert->id, "ca_profile", profile, err),
		       "set-ca-profile", "%s %s %s", cs_store_id_name(cert->store), cert->sha1,
		       profile ? profile : "");
}

static cs_rv set_key_columns(cs_store *store, int64_t id, const char *uri, bool exportable,
			     cs_err *err)
{
	cs_rv rv = cs_db_cert_set_text(store, id, "key_uri", uri, err);

	if (rv == CS_OK)
		rv = cs_db_cert_set_flag(store, id, "exportable", uri != NULL && exportable, err);
	return rv;
}

cs_rv cs_store_set_key(cs_store *store, const cs_cert *cert, const char *uri, bool exportable,
		       cs_err *err)
{
	IN_TRANSACTION(store, err, set_key_columns(store, cert->id, uri, exportable, err),
		       uri ? "bind-key" : "unbind-key", "%s %s %s", cs_store_id_name(cert->store),
		       cert->sha1, uri ? uri : "");
}
