/*
 * find_index.c - exact lookups by the database indexes that long-running
 * readers (the PKCS#11 module) ask for, and the change counter that tells
 * them when to look again.
 */
#include "db_certs.h"
#include "certs.h"

#include <stdlib.h>
#include <string.h>

cs_rv cs_store_find_by_issuer_serial(cs_store *store, const X509_NAME *issuer,
				     const ASN1_INTEGER *serial, const cs_find_opts *opts,
				     cs_cert_list *out, cs_err *err)
{
	cs_db_query q = {0};
	unsigned char *der = NULL;
	char *hex = NULL;
	int len;
	cs_rv rv;

	len = i2d_X509_NAME(issuer, &der);
	hex = cs_serial_hex(serial);
	if (len <= 0 || hex == NULL) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "issuer name or serial cannot be encoded");
		goto out;
	}
	cs_db_query_scope(&q, opts);
	q.issuer_der = der;
	q.issuer_der_len = (size_t)len;
	q.serial = hex;
	rv = cs_db_certs_select(store, &q, out, err);
out:
	OPENSSL_free(der);
	free(hex);
	return rv;
}

cs_rv cs_store_find_by_row(cs_store *store, int64_t id, cs_cert **out, cs_err *err)
{
	cs_db_query q = {.id = id, .include_archived = true};
	cs_rv rv = cs_db_certs_select_first(store, &q, out, err);

	if (rv == CS_OK && *out == NULL)
		rv = cs_err_set(err, CS_ERR_NOT_FOUND, "no certificate in row %lld", (long long)id);
	return rv;
}

cs_rv cs_store_data_version(cs_store *store, int64_t *out, cs_err *err)
{
	return cs_db_data_version(store, out, err);
}

cs_rv cs_store_find_by_key_id(cs_store *store, const unsigned char *id, size_t len,
			      const cs_find_opts *opts, cs_cert_list *out, cs_err *err)
{
	cs_db_query q = {.key_id = id, .key_id_len = len};

	cs_db_query_scope(&q, opts);
	return cs_db_certs_select(store, &q, out, err);
}
