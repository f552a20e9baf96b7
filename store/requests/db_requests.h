/*
 * db_requests.h - the SQL of the pending table (db_requests.c).
 *
 * Pending requests are rows of the Request store: made and read here, freed
 * by cs_pending_free / cs_pending_list_clear (request.h), which live in
 * db_requests.c because this is where the rows are allocated.  Callers:
 * pending.c, and import.c when a response completes a request.
 */
#ifndef CS_DB_REQUESTS_H
#define CS_DB_REQUESTS_H

#include "db.h"
#include "request.h"

/* Inserts p and sets p->id.  select: id 0 and key_id NULL = all. */
cs_rv cs_db_pending_insert(cs_store *store, cs_pending *p, cs_err *err);
cs_rv cs_db_pending_select(cs_store *store, int64_t id, const char *key_id, cs_pending_list *out,
			   cs_err *err);
cs_rv cs_db_pending_delete(cs_store *store, int64_t id, cs_err *err);
/* Whether a certificate (any store, archived too) or a pending request has this friendly name. */
cs_rv cs_db_friendly_name_taken(cs_store *store, const char *name, bool *taken, cs_err *err);
cs_rv cs_db_pending_set_ca_request_id(cs_store *store, int64_t id, const char *ca_request_id,
				      cs_err *err);

#endif
