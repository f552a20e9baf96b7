/*
 * usages.h - what the rest of libcertstore asks of usages/ beyond usage.h
 * (installed).  Not installed.
 */
#ifndef CS_USAGES_H
#define CS_USAGES_H

#include "certstore.h"

/*
 * Assigns cert to every usage that now serves the certificate `serving`
 * (force: even when cert is not Valid) and runs each one's hooks.  A failing
 * hook does not leave the other usages behind: the first hook failure is
 * returned once all are moved (usage_roll.c).
 */
cs_rv cs_usage_reassign_serving(cs_store *store, const char *serving, const cs_cert *cert,
				bool force, cs_err *err);

#endif
