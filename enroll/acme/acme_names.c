/*
 * acme_names.c - the identifiers of an ACME order (RFC 8555 7.1.3), drawn
 * from the request that will finalize it: see acme.h.
 */
#include "acme.h"

#include <arpa/inet.h>
#include <openssl/x509v3.h>

static void add_cn(json_object *ids, X509_REQ *req)
{
	X509_NAME *name = X509_REQ_get_subject_name(req);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	ASN1_STRING *cn = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)) : NULL;
	json_object *id;

	if (cn == NULL)
		return;
	id = json_object_new_object();
	json_object_object_add(id, "type", json_object_new_string("dns"));
	json_object_object_add(id, "value",
			       json_object_new_string_len((const char *)ASN1_STRING_get0_data(cn),
							  ASN1_STRING_length(cn)));
	json_object_array_add(ids, id);
}

json_object *acme_identifiers(X509_REQ *req)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	GENERAL_NAMES *sans = NULL;
	json_object *ids = json_object_new_array(), *id;
	char ip[64];
	int i, idx = exts ? X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1) : -1;

	if (idx >= 0)
		sans = X509V3_EXT_d2i(X509v3_get_ext(exts, idx));
	for (i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		int len = g->type == GEN_IPADD ? ASN1_STRING_length(g->d.ip) : 0;

		id = json_object_new_object();
		if (g->type == GEN_DNS) {
			json_object_object_add(id, "type", json_object_new_string("dns"));
			json_object_object_add(
				id, "value",
				json_object_new_string_len(
					(const char *)ASN1_STRING_get0_data(g->d.dNSName),
					ASN1_STRING_length(g->d.dNSName)));
		} else if (g->type == GEN_IPADD && (len == 4 || len == 16)) {
			inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.ip), ip,
				  sizeof(ip));
			json_object_object_add(id, "type", json_object_new_string("ip"));
			json_object_object_add(id, "value", json_object_new_string(ip));
		}
		if (json_object_object_length(id) > 0)
			json_object_array_add(ids, id);
		else
			json_object_put(id);
	}
	GENERAL_NAMES_free(sans);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	if (json_object_array_length(ids) == 0)
		add_cn(ids, req);
	return ids;
}
