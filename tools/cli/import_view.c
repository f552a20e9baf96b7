/*
 * import_view.c - what `import --json` prints, shared by the subcommands
 * that import (import, import of a PFX, accept).  It lives apart from
 * cmd_import.c so that cmd_import_pfx.c and cmd_accept.c need nothing of
 * cmd_import.c (they used to call into it while it called them).
 */
#include <json-c/json.h>

#include "cli.h"

static const char *outcome_name(cs_import_outcome outcome)
{
	switch (outcome) {
	case CS_IMPORT_ADDED:
		return "added";
	case CS_IMPORT_DUPLICATE:
		return "duplicate";
	case CS_IMPORT_SKIPPED_ROOT:
		return "skipped-root";
	}
	return "unknown";
}

json_object *cli_import_result_json(const cs_import_result *res,
				    const char *(*file_of)(size_t i, const void *arg),
				    const void *arg)
{
	json_object *obj = json_object_new_object();
	json_object *items = json_object_new_array();

	cli_json_add_int(obj, "added", (int64_t)res->added);
	cli_json_add_int(obj, "duplicates", (int64_t)res->duplicates);
	cli_json_add_int(obj, "skipped_roots", (int64_t)res->skipped_roots);
	for (size_t i = 0; i < res->n; i++) {
		json_object *item = json_object_new_object();

		cli_json_add_string(item, "outcome", outcome_name(res->items[i].outcome));
		cli_json_add_string(item, "store", cs_store_id_name(res->items[i].store));
		cli_json_add_string(item, "thumbprint", res->items[i].sha1);
		cli_json_add_string(item, "subject", res->items[i].subject);
		cli_json_add_string(item, "file", file_of(i, arg));
		if (res->items[i].not_root)
			json_object_object_add(item, "not_root", json_object_new_boolean(1));
		if (res->items[i].key_attached)
			json_object_object_add(item, "key_attached", json_object_new_boolean(1));
		json_object_array_add(items, item);
	}
	json_object_object_add(obj, "items", items);
	return obj;
}
