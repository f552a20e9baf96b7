/*
 * certs.h - the certs subsystem's contract beyond certstore.h: rules about
 * one certificate that the tools and libcertstore share, so each is
 * decided once, here.  Not installed: for libcertstore and the tools.
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

#endif
