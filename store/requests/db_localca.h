/*
 * db_localca.h - the SQL of the local_ca tables (db_localca.c).
 *
 * A cs_local_ca row is allocated by cs_db_local_ca_select and freed by
 * cs_local_ca_free (localca.h), which lives in db_localca.c beside the code
 * that allocates it.  Caller: localca.c.
 */
#ifndef CS_DB_LOCALCA_H
#define CS_DB_LOCALCA_H

#include "db.h"
#include "localca.h"

cs_rv cs_db_local_ca_insert(cs_store *store, const cs_local_ca *ca, cs_err *err);
cs_rv cs_db_local_ca_select(cs_store *store, const char *name, cs_local_ca **out, cs_err *err);
cs_rv cs_db_local_ca_names(cs_store *store, char ***out, cs_err *err);
cs_rv cs_db_local_ca_record_issued(cs_store *store, const char *ca, const cs_cert *cert,
				   cs_err *err);

#endif
