/*
 * served_view.c - who serves each usage, for `usages` and `check`.
 */
#include "served_view.h"
#include "usage_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

json_object *served_json(const cs_served *s)
{
	json_object *obj = json_object_new_object();

	cli_json_add_int(obj, "pid", s->pid);
	cli_json_add_int(obj, "start", s->start);
	cli_json_add_int(obj, "uid", s->uid);
	cli_json_add_string(obj, "comm", s->comm);
	cli_json_add_string(obj, "exe", s->exe && *s->exe ? s->exe : NULL);
	cli_json_add_string(obj, "thumbprint", s->sha1);
	cli_json_add_string(obj, "usage", s->usage && *s->usage ? s->usage : NULL);
	cli_json_add_string(obj, "via", s->via);
	cli_json_add_time(obj, "time", s->time);
	return obj;
}

/* appends "nginx[1234]" to buf, comma-separated */
static void add_name(char *buf, size_t size, const cs_served *s)
{
	size_t used = strlen(buf);

	snprintf(buf + used, size - used, "%s%s[%lld]", used ? ", " : "", s->comm,
		 (long long)s->pid);
}

/* "nginx[987] still serves 1354… (assigned 2026-12-02 10:33, hook exit 1)" */
static void describe_stale(cs_store *store, const cs_usage *u, const cs_served_by_list *by,
			   char *out, size_t size)
{
	char names[512] = "", hook[128] = "", when[17];
	const char *old = NULL;
	time_t t = (time_t)u->assigned_at;
	struct tm tm;

	for (size_t i = 0; i < by->n; i++)
		if (by->items[i].stale) {
			add_name(names, sizeof(names), by->items[i].rec);
			old = by->items[i].rec->sha1;
		}
	if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(when, sizeof(when), "?");
	(void)cs_served_last_hook(store, u->name, hook, sizeof(hook), NULL);
	snprintf(out, size, "%s still serve%s %.4s… (assigned %s, %s%s)", names,
		 strchr(names, ',') ? "" : "s", old ? old : "", when,
		 hook[0] ? "hook " : "no hook run", hook);
}

cs_rv served_describe(cs_store *store, const cs_served_list *live, const cs_usage *u,
		      bool with_json, served_desc *out, cs_err *err)
{
	cs_served_by_list by = {0};
	char fresh[512] = "";
	json_object *arr = NULL;
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	rv = cs_served_for_usage(live, u, &by, err);
	if (rv != CS_OK)
		return rv;
	if (with_json)
		arr = json_object_new_array();
	for (size_t i = 0; i < by.n; i++) {
		json_object *one = with_json ? served_json(by.items[i].rec) : NULL;

		if (one != NULL) {
			cli_json_add_bool(one, "stale", by.items[i].stale);
			json_object_array_add(arr, one);
		}
		if (!by.items[i].stale)
			add_name(fresh, sizeof(fresh), by.items[i].rec);
		out->any_stale = out->any_stale || by.items[i].stale;
	}
	if (out->any_stale)
		describe_stale(store, u, &by, out->stale, sizeof(out->stale));
	snprintf(out->text, sizeof(out->text), "%s%s%s%s%s", fresh[0] ? "served by " : "", fresh,
		 fresh[0] && out->any_stale ? " — " : "", out->any_stale ? "STALE: " : "",
		 out->stale);
	if (with_json) {
		out->json = json_object_new_object();
		json_object_object_add(out->json, "served_by", arr);
		cli_json_add_bool(out->json, "stale", out->any_stale);
	}
	cs_served_by_list_clear(&by);
	return CS_OK;
}

void served_desc_clear(served_desc *d)
{
	if (d != NULL && d->json != NULL)
		json_object_put(d->json);
	if (d != NULL)
		d->json = NULL;
}

/* Whether u's previous-grace (certstore.conf) has ended. */
static cs_rv grace_over(cs_store *store, const cs_usage *u, bool *over, cs_err *err)
{
	cs_usage_conf uc = {0};
	cs_rv rv = cs_usage_conf_load(store, u->name, &uc, err);

	*over = rv == CS_OK && (int64_t)time(NULL) - u->assigned_at >= uc.previous_grace;
	cs_usage_conf_clear(&uc);
	return rv;
}

cs_rv served_check(cs_store *store, bool print, cs_err *err)
{
	cs_usage_list l = {0};
	cs_served_list live = {0};
	size_t nstale = 0, pruned;
	cs_rv rv;

	rv = cs_served_prune(store, &pruned, err);
	if (rv == CS_OK)
		rv = cs_usage_list_get(store, &l, err);
	if (rv == CS_OK)
		rv = cs_served_list_live(store, &live, err);
	for (size_t i = 0; rv == CS_OK && i < l.n; i++) {
		served_desc d;
		bool over = false;

		if (l.items[i].sha1[0] == '\0')
			continue;
		rv = served_describe(store, &live, &l.items[i], false, &d, err);
		if (rv == CS_OK && d.any_stale)
			rv = grace_over(store, &l.items[i], &over, err);
		if (rv == CS_OK && d.any_stale && over) {
			nstale++;
			if (print)
				printf("stale: %s: %s\n", l.items[i].name, d.stale);
		}
		served_desc_clear(&d);
	}
	if (rv == CS_OK && nstale > 0)
		rv = cs_err_set(err, CS_ERR_STALE,
				"%zu usage%s served by a process still on a previous certificate "
				"(reload it, or fix the usage's on-assign hook)",
				nstale, nstale == 1 ? " is" : "s are");
	cs_served_list_clear(&live);
	cs_usage_list_clear(&l);
	return rv;
}
