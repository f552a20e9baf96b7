/*
 * ad_tls.h - StartTLS for `ca discover`'s LDAP connection (see ad_tls.c).
 */
#ifndef CERTSTORE_AD_TLS_H
#define CERTSTORE_AD_TLS_H

#include <ldap.h>

#include "ad_discover.h"

/* StartTLS on ld, the DC's certificate verified against q->tls_ca (else
 * libldap's TLS_CACERT).  Exit classes: CS_ERR_TLS not verified or refused,
 * CS_ERR_UNREACHABLE no server. */
cs_rv ad_start_tls(LDAP *ld, const ad_query *q, const char *server, cs_err *err);

#endif
