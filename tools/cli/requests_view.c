/*
 * requests_view.c - see requests_view.h.
 */
#include "requests_view.h"

#include <stdio.h>

static json_object *pending_json(const cs_pending *p)
{
	json_object *o = json_object_new_object();

	cli_json_add_int(o, "id", p->id);
	cli_json_add_string(o, "subject", p->subject);
	cli_json_add_string(o, "key", p->key_spec);
	cli_json_add_string(o, "key_uri", p->key_uri);
	cli_json_add_string(o, "friendly_name", p->friendly_name);
	cli_json_add_string(o, "ca", p->ca_profile);
	cli_json_add_string(o, "ca_request_id", p->ca_request_id);
	cli_json_add_string(o, "usages", p->usages);
	cli_json_add_time(o, "created", p->created);
	cli_json_add_int(o, "age_seconds", (int64_t)cs_now() - p->created);
	return o;
}

static void print_age(int64_t seconds)
{
	if (seconds < 3600)
		printf("%4lldm", (long long)(seconds / 60));
	else if (seconds < 86400)
		printf("%4lldh", (long long)(seconds / 3600));
	else
		printf("%4lldd", (long long)(seconds / 86400));
}

static void print_table(const cs_pending_list *l)
{
	size_t i;

	if (l->n == 0) {
		printf("no pending requests\n");
		return;
	}
	printf("%-5s %-10s %-12s %-10s %5s  %s\n", "ID", "KEY", "CA", "CA-ID", "AGE", "SUBJECT");
	for (i = 0; i < l->n; i++) {
		const cs_pending *p = l->items[i];

		printf("%-5lld %-10s %-12s %-10s ", (long long)p->id, p->key_spec,
		       p->ca_profile ? p->ca_profile : "(file)",
		       p->ca_request_id ? p->ca_request_id : "-");
		print_age((int64_t)cs_now() - p->created);
		printf("  %s\n", p->subject);
	}
}

cs_rv requests_view_print(cs_store *store, bool json, cs_err *err)
{
	cs_pending_list l = {0};
	json_object *arr;
	size_t i;
	cs_rv rv = cs_pending_list_get(store, &l, err);

	if (rv != CS_OK)
		return rv;
	if (json) {
		arr = json_object_new_array();
		for (i = 0; i < l.n; i++)
			json_object_array_add(arr, pending_json(l.items[i]));
		rv = cli_json_print(arr, err);
	} else
		print_table(&l);
	cs_pending_list_clear(&l);
	return rv;
}

cs_rv requests_view_count(cs_store *store, size_t *out, cs_err *err)
{
	cs_pending_list l = {0};
	cs_rv rv = cs_pending_list_get(store, &l, err);

	*out = rv == CS_OK ? l.n : 0;
	cs_pending_list_clear(&l);
	return rv;
}
