/*
 * cmd_usages.c - `certstore usages [--json]`: which certificate serves each
 * usage, its status, and staged rolls.
 */
#include "cli.h"
#include "served_view.h"
#include "usage.h"

#include <stdlib.h>
#include <string.h>

/* One usage as shown: its certificate (NULL when gone from My) and status. */
typedef struct usage_view {
	const cs_usage *u;
	cs_cert *cert;
	const char *status; /* "Assigned", a status name, "Unassigned" or "Certificate missing" */
	char detail[512];
	served_desc served; /* the processes serving it (served_view.h) */
} usage_view;

static cs_rv view_of(cs_store *store, const cs_usage *u, usage_view *v, cs_err *err)
{
	cs_status_report r = {0};
	cs_rv rv;

	memset(v, 0, sizeof(*v));
	v->u = u;
	if (u->sha1[0] == '\0') {
		v->status = "Unassigned";
		return CS_OK;
	}
	rv = cs_store_find_by_thumbprint(store, CS_STORE_MY, u->sha1, &v->cert, err);
	if (rv == CS_ERR_NOT_FOUND) {
		v->status = "Certificate missing";
		snprintf(v->detail, sizeof(v->detail), "%s is no longer in My", u->sha1);
		return CS_OK;
	}
	if (rv == CS_OK)
		rv = cs_status_compute(store, v->cert, 0, &r, err);
	if (rv == CS_OK) {
		v->status = r.status == CS_STATUS_VALID ? "Assigned" : cs_status_name(r.status);
		snprintf(v->detail, sizeof(v->detail), "%s", r.detail);
	}
	cs_status_report_clear(&r);
	return rv;
}

/* Column widths wide enough for every row: a long friendly name must not run into the expiry. */
typedef struct widths {
	int name, friendly;
} widths;

static const char *friendly_of(const usage_view *v)
{
	return v->cert && v->cert->friendly_name && *v->cert->friendly_name ? v->cert->friendly_name
									    : "-";
}

static void print_text_one(const usage_view *v, const widths *w)
{
	const cs_cert *c = v->cert;
	char expires[11] = "-", when[21];

	if (c != NULL)
		cli_format_date(c->not_after, expires);
	printf("%-*s  %-40s  %-*s  %-10s  %s%s%s\n", w->name, v->u->name,
	       v->u->sha1[0] ? v->u->sha1 : "-", w->friendly, friendly_of(v), expires, v->status,
	       v->served.text[0] ? "  " : "", v->served.text);
	if (v->u->staged_sha1[0] != '\0') {
		cli_format_time(v->u->staged_at, when);
		printf("%-*s  %-40s  staged for %s\n", w->name, "", v->u->staged_sha1, when);
	}
}

static json_object *json_one(const usage_view *v)
{
	json_object *obj = json_object_new_object(), *staged = NULL;
	const cs_cert *c = v->cert;

	cli_json_add_string(obj, "usage", v->u->name);
	cli_json_add_string(obj, "thumbprint", v->u->sha1[0] ? v->u->sha1 : NULL);
	cli_json_add_string(obj, "friendly_name", c ? c->friendly_name : NULL);
	cli_json_add_string(obj, "subject", c ? c->subject : NULL);
	if (c != NULL)
		cli_json_add_time(obj, "not_after", c->not_after);
	else
		json_object_object_add(obj, "not_after", NULL);
	cli_json_add_string(obj, "status", v->status);
	cli_json_add_string(obj, "detail", v->detail[0] ? v->detail : NULL);
	if (v->u->assigned_at > 0)
		cli_json_add_time(obj, "assigned_at", v->u->assigned_at);
	cli_json_add_string(obj, "previous", v->u->previous_sha1[0] ? v->u->previous_sha1 : NULL);
	if (v->u->staged_sha1[0] != '\0') {
		staged = json_object_new_object();
		cli_json_add_string(staged, "thumbprint", v->u->staged_sha1);
		cli_json_add_time(staged, "at", v->u->staged_at);
	}
	json_object_object_add(obj, "staged", staged);
	json_object_object_foreach(v->served.json, key, val)
		json_object_object_add(obj, key, json_object_get(val));
	return obj;
}

static cs_rv show_usages(cs_store *store, const cs_usage_list *l, bool json, cs_err *err)
{
	json_object *arr = json ? json_object_new_array() : NULL;
	usage_view *v = calloc(l->n ? l->n : 1, sizeof(*v));
	widths w = {(int)strlen("USAGE"), (int)strlen("FRIENDLY NAME")};
	cs_served_list live = {0};
	size_t i, n = 0;
	cs_rv rv = v != NULL ? CS_OK : cs_err_set(err, CS_ERR_INTERNAL, "out of memory");

	if (rv == CS_OK)
		rv = cs_served_list_live(store, &live, err);
	for (i = 0; rv == CS_OK && i < l->n; i++, n++) {
		rv = view_of(store, &l->items[i], &v[i], err);
		if (rv == CS_OK)
			rv = served_describe(store, &live, &l->items[i], json, &v[i].served, err);
		if ((int)strlen(l->items[i].name) > w.name)
			w.name = (int)strlen(l->items[i].name);
		if (rv == CS_OK && (int)strlen(friendly_of(&v[i])) > w.friendly)
			w.friendly = (int)strlen(friendly_of(&v[i]));
	}
	if (rv == CS_OK && !json && l->n > 0)
		printf("%-*s  %-40s  %-*s  %-10s  %s\n", w.name, "USAGE", "THUMBPRINT", w.friendly,
		       "FRIENDLY NAME", "EXPIRES", "STATUS");
	for (i = 0; rv == CS_OK && i < l->n; i++)
		if (json)
			json_object_array_add(arr, json_one(&v[i]));
		else
			print_text_one(&v[i], &w);
	for (i = 0; v != NULL && i < n; i++) {
		cs_cert_free(v[i].cert);
		served_desc_clear(&v[i].served);
	}
	free(v);
	cs_served_list_clear(&live);
	if (json && rv == CS_OK)
		return cli_json_print(arr, err);
	json_object_put(arr);
	return rv;
}

static cs_rv list_usages(cs_store *store, void *json, cs_err *err)
{
	cs_usage_list l = {0};
	cs_rv rv = cs_usage_list_get(store, &l, err);

	if (rv == CS_OK)
		rv = show_usages(store, &l, *(const bool *)json, err);
	cs_usage_list_clear(&l);
	return rv;
}

static const cli_store_job usages_job = {.open_flags = CS_OPEN_READONLY, .act = list_usages};

const cli_command cmd_usages = {
	.name = "usages",
	.summary = "list usages: certificate, expiry, status, staged rolls",
	.usage = "Usage: certstore usages [--json]\n"
		 "\n"
		 "Lists every usage: the thumbprint, friendly name and expiry date of\n"
		 "the certificate serving it, and its status: \"Assigned\" when the\n"
		 "certificate is Valid, otherwise the problem (e.g. \"Expired\").  A staged\n"
		 "assignment is shown under its usage with the time it takes effect.\n"
		 "After the status: the live processes serving the usage (\"served by\n"
		 "nginx[1234]\") and any still on a previous certificate (\"STALE:\n"
		 "nginx[987] still serves 1354… (assigned ..., hook exit 1)\"); see\n"
		 "`certstore served`.\n"
		 "\n" CLI_JSON_ARRAY_OPTIONS_HELP,
	.shortopts = "jh",
	.longopts = cli_json_only_longopts,
	.run = cli_run_json_only,
	.on_store = &usages_job,
};
