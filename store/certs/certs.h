/*
 * certs.h - the certs subsystem's contract beyond certstore.h: rules about
 * one certificate that the tools and libcertstore share, so each is
 * decided once, here, and what the rest of libcertstore asks of certs/
 * beyond the public API.  Not installed: for libcertstore and the tools.
 */
#ifndef CS_CERTS_H
#define CS_CERTS_H

#include "certstore.h"

/*
 * Is fingerprint the SHA-256 or SHA-1 of cert?  The admin's spelling is
 * accepted (upper or lower case, colons and spaces between bytes), nothing
 * else: a fingerprint holding anything but hex digits, or a prefix of one,
 * never matches (cs_thumbprint_normalise).  Used for the consent to trust
 * a root (ca roots --expect-fingerprint, EST bootstrap).
 */
bool cs_cert_matches_fingerprint(const cs_cert *cert, const char *fingerprint);

/* A serial number as cs_cert.serial spells it (BN_bn2hex: upper-case hex);
 * the caller frees it.  NULL when out of memory. */
char *cs_serial_hex(const ASN1_INTEGER *serial);

/* Republishes what is derived from Root (published/roots*) after a change to it. */
cs_rv cs_after_root_change(cs_store *store, cs_err *err);

/*
 * cs_import_certs, except that a certificate whose store field is already
 * set goes to that store instead of being placed by its kind (a PFX's leaf
 * goes to My with its key, its root to Root when the admin said so).  Its
 * key_uri and exportable fields are stored as they are.
 */
cs_rv cs_import_certs_placed(cs_store *store, const cs_cert_list *certs, const cs_import_opts *opts,
			     cs_import_result *res, cs_err *err);

#endif
