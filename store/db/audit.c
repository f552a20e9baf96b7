/*
 * audit.c - the "View Log" of the procedure: every change, who and when.
 */
#include "db.h"

#include <stdlib.h>

cs_rv cs_audit_add(cs_store *store, const char *action, const char *detail, cs_err *err)
{
	return cs_db_audit_insert(store, action, detail, err);
}

cs_rv cs_audit_list_get(cs_store *store, const char *action_prefix, cs_audit_list *out,
			cs_err *err)
{
	out->items = NULL;
	out->n = 0;
	return cs_db_audit_select(store, action_prefix, out, err);
}

void cs_audit_list_clear(cs_audit_list *list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < list->n; i++) {
		free(list->items[i].action);
		free(list->items[i].detail);
	}
	free(list->items);
	list->items = NULL;
	list->n = 0;
}
