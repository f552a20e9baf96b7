/*
 * renewal.h - renewals: once the certificate a `renew` request asked for is
 * issued, the usages of the old one move to it and the old one is archived
 * (requests/renew.c).  usage.h includes this header, where these functions
 * were first declared; include either.
 *
 * Conventions are those of certstore.h.
 */
#ifndef CERTSTORE_RENEWAL_H
#define CERTSTORE_RENEWAL_H

#include "certstore.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A renewal has been issued: every usage of old_sha1 moves to new_sha1
 * (both in My) and the old certificate is archived.  Called by import for
 * the answer to a request made by `renew`.
 */
cs_rv cs_renewal_complete(cs_store *store, const char *old_sha1, const char *new_sha1, cs_err *err);
/* Inside import's transaction: moves the usages of old_sha1 to new_cert and
 * archives the old one, when new_cert is Valid (*moved); after the commit
 * cs_renewal_publish publishes them and runs their hooks.  A crash in
 * between leaves files `certstore check` republishes, hooks included. */
cs_rv cs_renewal_record(cs_store *store, const cs_cert *new_cert, const char *old_sha1, bool *moved,
			cs_err *err);
/* After the commit: publishes the usages cs_renewal_record moved to new_sha1
 * (a certificate in My) and runs their hooks. */
cs_rv cs_renewal_publish(cs_store *store, const char *new_sha1, cs_err *err);

#ifdef __cplusplus
}
#endif

#endif
