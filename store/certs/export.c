/*
 * export.c - certificates out, as PEM, DER or PKCS#7 (.p7b), with or without chain.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/pem.h>
#include <openssl/pkcs7.h>

cs_rv cs_export_format_parse(const char *s, cs_export_format *out, cs_err *err)
{
	if (strcasecmp(s, "pem") == 0)
		*out = CS_EXPORT_PEM;
	else if (strcasecmp(s, "der") == 0 || strcasecmp(s, "cer") == 0)
		*out = CS_EXPORT_DER;
	else if (strcasecmp(s, "p7b") == 0 || strcasecmp(s, "p7c") == 0 ||
		 strcasecmp(s, "pkcs7") == 0)
		*out = CS_EXPORT_P7B;
	else
		return cs_err_set(err, CS_ERR_USAGE, "unknown export format '%s' (pem, der, p7b)",
				  s);
	return CS_OK;
}

static cs_rv bio_to_bytes(BIO *bio, cs_bytes *out, cs_err *err)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);

	out->data = malloc(len > 0 ? (size_t)len : 1);
	if (out->data == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (len > 0)
		memcpy(out->data, data, (size_t)len);
	out->len = len > 0 ? (size_t)len : 0;
	return CS_OK;
}

static cs_rv write_p7b(BIO *bio, const cs_cert_list *certs, cs_err *err)
{
	PKCS7 *p7 = PKCS7_new();
	size_t i;
	cs_rv rv = CS_OK;

	/* certs-only SignedData, what Windows calls a .p7b */
	if (p7 == NULL || !PKCS7_set_type(p7, NID_pkcs7_signed) ||
	    !PKCS7_content_new(p7, NID_pkcs7_data)) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot build PKCS#7");
		goto out;
	}
	for (i = 0; i < certs->n; i++) {
		if (!PKCS7_add_certificate(p7, certs->items[i]->x509)) {
			rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot add a certificate to PKCS#7");
			goto out;
		}
	}
	if (i2d_PKCS7_bio(bio, p7) <= 0)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot encode PKCS#7");
out:
	PKCS7_free(p7);
	return rv;
}

static cs_rv serialise(const cs_cert_list *certs, cs_export_format fmt, cs_bytes *out, cs_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	cs_rv rv = CS_OK;
	size_t i;

	if (bio == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (fmt == CS_EXPORT_P7B)
		rv = write_p7b(bio, certs, err);
	else if (fmt == CS_EXPORT_DER)
		rv = i2d_X509_bio(bio, certs->items[0]->x509)
			     ? CS_OK
			     : cs_err_set(err, CS_ERR_INTERNAL, "cannot encode DER");
	else
		for (i = 0; i < certs->n && rv == CS_OK; i++)
			if (!PEM_write_bio_X509(bio, certs->items[i]->x509))
				rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot encode PEM");
	if (rv == CS_OK)
		rv = bio_to_bytes(bio, out, err);
	BIO_free(bio);
	return rv;
}

cs_rv cs_export_cert(cs_store *store, const cs_cert *cert, cs_export_format fmt, bool with_chain,
		     cs_bytes *out, cs_err *err)
{
	cs_status_report report = {0};
	cs_cert_list single = {0};
	cs_cert *copy = NULL;
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	if (with_chain && fmt == CS_EXPORT_DER)
		return cs_err_set(err, CS_ERR_USAGE,
				  "DER holds one certificate; use --format pem or p7b for a chain");
	if (with_chain) {
		rv = cs_status_compute(store, cert, 0, &report, err);
		if (rv == CS_OK)
			rv = serialise(&report.chain, fmt, out, err);
		cs_status_report_clear(&report);
		return rv;
	}
	rv = cs_cert_from_x509(cert->x509, &copy, err);
	if (rv == CS_OK)
		rv = cs_cert_list_push(&single, copy, err);
	if (rv == CS_OK)
		rv = serialise(&single, fmt, out, err);
	cs_cert_list_clear(&single);
	return rv;
}
