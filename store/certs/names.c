/*
 * names.c - the store names admins type, with their Windows aliases.
 */
#include "internal.h"

#include <strings.h>

typedef struct store_name {
	cs_store_id id;
	const char *name;
	const char *display;
	const char *aliases[4];
} store_name;

static const store_name store_names[] = {
	{CS_STORE_MY, "My", "Personal", {"Personal", "MY", NULL}},
	{CS_STORE_ROOT,
	 "Root",
	 "Trusted Root Certification Authorities",
	 {"Trusted Root", "TrustedRoot", "Trusted Root Certification Authorities", NULL}},
	{CS_STORE_CA,
	 "CA",
	 "Intermediate Certification Authorities",
	 {"Intermediate", "Intermediate CA", "Intermediate Certification Authorities", NULL}},
	{CS_STORE_DISALLOWED,
	 "Disallowed",
	 "Untrusted Certificates",
	 {"Untrusted", "Untrusted Certificates", NULL}},
	{CS_STORE_REQUEST,
	 "Request",
	 "Certificate Enrollment Requests",
	 {"Requests", "Certificate Enrollment Requests", NULL}},
};

#define N_STORES (sizeof(store_names) / sizeof(store_names[0]))

cs_rv cs_store_id_parse(const char *name, cs_store_id *out, cs_err *err)
{
	size_t i, j;

	for (i = 0; name != NULL && i < N_STORES; i++) {
		if (strcasecmp(name, store_names[i].name) == 0) {
			*out = store_names[i].id;
			return CS_OK;
		}
		for (j = 0; store_names[i].aliases[j] != NULL; j++) {
			if (strcasecmp(name, store_names[i].aliases[j]) == 0) {
				*out = store_names[i].id;
				return CS_OK;
			}
		}
	}
	return cs_err_set(err, CS_ERR_NOT_FOUND,
			  "unknown store '%s' (stores: My/Personal, Root/\"Trusted Root\", "
			  "CA/Intermediate, Disallowed/Untrusted, Request)",
			  name ? name : "");
}

/* The entry of id, NULL for an id that names no store. */
static const store_name *entry_of(cs_store_id id)
{
	size_t i;

	for (i = 0; i < N_STORES; i++)
		if (store_names[i].id == id)
			return &store_names[i];
	return NULL;
}

const char *cs_store_id_name(cs_store_id id)
{
	const store_name *e = entry_of(id);

	return e != NULL ? e->name : "?";
}

const char *cs_store_id_display(cs_store_id id)
{
	const store_name *e = entry_of(id);

	return e != NULL ? e->display : "?";
}
