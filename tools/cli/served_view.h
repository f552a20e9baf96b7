/*
 * served_view.h - what `certstore usages` and `certstore check` say about
 * the processes serving a usage (store/usages/served.h has the records).
 */
#ifndef CS_SERVED_VIEW_H
#define CS_SERVED_VIEW_H

#include "cli.h"
#include "served.h"

typedef struct served_desc {
	char text[1024]; /* "served by nginx[1234] — STALE: nginx[987] still serves 1354… (...)" */
	char stale[768];   /* "nginx[987] still serves 1354… (...)", "" when none is stale */
	json_object *json; /* {"served_by": [...], "stale": bool} members, added by the caller */
	bool any_stale;
} served_desc;

/* Describes who serves u among live (cs_served_list_live).  with_json: fill json too. */
cs_rv served_describe(cs_store *store, const cs_served_list *live, const cs_usage *u,
		      bool with_json, served_desc *out, cs_err *err);
void served_desc_clear(served_desc *d);

/* One record as JSON: pid, start, uid, comm, exe, thumbprint, usage, via, time. */
json_object *served_json(const cs_served *s);

/*
 * For `check`: every usage with a process still on a previous certificate
 * past the usage's previous-grace, printed as "stale: NAME: ..." lines.
 * CS_ERR_STALE when there is one, naming how many.
 */
cs_rv served_check(cs_store *store, bool print, cs_err *err);

#endif
