/*
 * requests.h - the requests subsystem's contract beyond request.h and
 * localca.h (both installed): rules the tools and libcertstore share.  Not
 * installed.
 */
#ifndef CS_REQUESTS_H
#define CS_REQUESTS_H

#include "internal.h"

/*
 * Is the key at key_uri still used, by a certificate (any store, archived
 * too) other than the one with id except_cert, or by a pending request other
 * than the one with id except_pending (0: no exception)?  *used says; when
 * it is true, who (whosz bytes) names the first user: the certificate's
 * SHA-1 thumbprint, or "a pending request".  A store that cannot be read is
 * the error, and the caller must then keep the key.  The one answer to "may
 * this key be deleted?" for delete and requests --cancel.
 */
cs_rv cs_key_users(cs_store *store, const char *key_uri, int64_t except_cert,
		   int64_t except_pending, bool *used, char *who, size_t whosz, cs_err *err);

/*
 * Lets imports into store complete pending requests: an imported
 * certificate whose public key is a pending request's takes over its key
 * URI, exportable flag, friendly name and CA profile, the request leaves the
 * Request store, and a renewal it answers moves the old certificate's
 * usages (accept.c).  cs_store_open calls it for every store.
 */
void cs_requests_attach(cs_store *store);

#endif
