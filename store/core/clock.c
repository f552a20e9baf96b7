/*
 * clock.c - the store's idea of now, one function every subsystem asks
 * (validity, grace periods, staged rolls, audit rows).  CERTSTORE_NOW
 * (seconds since the epoch) sets it, so tests can stand at any date.
 */
#include "internal.h"

#include <stdlib.h>
#include <time.h>

time_t cs_now(void)
{
	const char *env = getenv("CERTSTORE_NOW");
	char *end;
	long long v;

	if (env != NULL && *env != '\0') {
		v = strtoll(env, &end, 10);
		if (*end == '\0')
			return (time_t)v;
	}
	return time(NULL);
}
