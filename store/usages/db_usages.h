/*
 * db_usages.h - the SQL of the usages table (db_usages.c).
 *
 * A cs_usage_list is allocated by cs_db_usage_select and freed by
 * cs_usage_list_clear (usage.h), which lives in db_usages.c beside the code
 * that allocates it.  Callers: usage.c, usage_roll.c, and renew.c (which
 * moves a usage to the renewed certificate in the same transaction).
 */
#ifndef CS_DB_USAGES_H
#define CS_DB_USAGES_H

#include "db.h"
#include "usage.h"

/* name NULL: every usage.  upsert writes every column of u. */
cs_rv cs_db_usage_select(cs_store *store, const char *name, cs_usage_list *out, cs_err *err);
cs_rv cs_db_usage_upsert(cs_store *store, const cs_usage *u, cs_err *err);
cs_rv cs_db_usage_delete(cs_store *store, const char *name, cs_err *err);

#endif
