/*
 * requests_view.h - the Request store as the admin sees it: one table (or
 * one JSON array) of pending requests, printed the same way by `certstore
 * requests` and `certstore list Request`.
 */
#ifndef CERTSTORE_REQUESTS_VIEW_H
#define CERTSTORE_REQUESTS_VIEW_H

#include <stdbool.h>

#include "cli.h"
#include "request.h"

/* Prints every pending request (ID, key, CA, CA-ID, age, subject), or
 * "no pending requests"; with json, a JSON array of objects. */
cs_rv requests_view_print(cs_store *store, bool json, cs_err *err);

/* How many requests are pending (for the `list` summary line). */
cs_rv requests_view_count(cs_store *store, size_t *out, cs_err *err);

#endif
