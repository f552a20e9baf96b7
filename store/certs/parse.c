/*
 * parse.c - bytes from outside → certificates.  Format detection lives here,
 * once: DER, PEM (bundles, PKCS#7 blocks), bare Base64 as Windows writes
 * ".cer (Base-64)", and PKCS#7 certs-only (.p7b/.p7c).  PKCS#12 is recognised
 * and reported so the caller can ask for a password.
 */
#include "internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>

const char *cs_format_name(cs_format f)
{
	switch (f) {
	case CS_FORMAT_DER:
		return "DER certificate";
	case CS_FORMAT_PEM:
		return "PEM";
	case CS_FORMAT_PKCS7:
		return "PKCS#7";
	case CS_FORMAT_PKCS12:
		return "PKCS#12";
	case CS_FORMAT_BASE64:
		return "Base64 certificate";
	case CS_FORMAT_UNKNOWN:
		break;
	}
	return "unknown";
}

/* Length of the outermost DER element, or 0 when the header is unreadable. */
static size_t der_outer_length(const unsigned char *p, size_t len)
{
	size_t n, i, body = 0;

	if (len < 2 || p[0] != 0x30)
		return 0;
	if (p[1] < 0x80)
		return 2 + p[1];
	n = p[1] & 0x7f;
	if (n == 0 || n > 4 || len < 2 + n)
		return 0;
	for (i = 0; i < n; i++)
		body = (body << 8) | p[2 + i];
	return 2 + n + body;
}

static cs_rv certs_from_pkcs7(PKCS7 *p7, cs_cert_list *certs, cs_err *err)
{
	STACK_OF(X509) *stack = NULL;
	cs_cert *cert;
	cs_rv rv;
	int i;

	if (PKCS7_type_is_signed(p7) && p7->d.sign != NULL)
		stack = p7->d.sign->cert;
	else if (PKCS7_type_is_signedAndEnveloped(p7) && p7->d.signed_and_enveloped != NULL)
		stack = p7->d.signed_and_enveloped->cert;
	else
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "PKCS#7 is not SignedData, so it carries no certificates");
	if (stack == NULL || sk_X509_num(stack) == 0)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "PKCS#7 holds no certificates");
	for (i = 0; i < sk_X509_num(stack); i++) {
		rv = cs_cert_from_x509(sk_X509_value(stack, i), &cert, err);
		if (rv == CS_OK)
			rv = cs_cert_list_push(certs, cert, err);
		if (rv != CS_OK) {
			cs_err_prefix(err, "PKCS#7 certificate %d", i + 1);
			return rv;
		}
	}
	return CS_OK;
}

static cs_rv parse_pkcs7_der(const unsigned char *data, size_t len, cs_cert_list *certs,
			     cs_err *err)
{
	const unsigned char *p = data;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	cs_rv rv;

	if (p7 == NULL) {
		ERR_clear_error();
		return cs_err_set(err, CS_ERR_BAD_INPUT, "not a valid PKCS#7 structure");
	}
	rv = certs_from_pkcs7(p7, certs, err);
	PKCS7_free(p7);
	return rv;
}

static bool looks_like_pkcs12(const unsigned char *data, size_t len)
{
	const unsigned char *p = data;
	PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);

	ERR_clear_error();
	if (p12 == NULL)
		return false;
	PKCS12_free(p12);
	return true;
}

static cs_rv parse_der(const unsigned char *data, size_t len, cs_format *format,
		       cs_cert_list *certs, cs_err *err)
{
	size_t outer = der_outer_length(data, len);
	const unsigned char *p = data;
	cs_cert *cert;
	PKCS7 *p7;
	cs_rv rv;

	if (outer == 0)
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "not a certificate: neither DER, PEM, Base64 nor PKCS#7");
	if (outer > len)
		return cs_err_set(
			err, CS_ERR_BAD_INPUT,
			"truncated DER: the outer SEQUENCE claims %zu bytes, the data has %zu",
			outer, len);
	if (outer < len)
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "%zu bytes of trailing data after the DER structure",
				  len - outer);
	if (cs_cert_from_der(data, len, &cert, NULL) == CS_OK) {
		*format = CS_FORMAT_DER;
		return cs_cert_list_push(certs, cert, err);
	}
	if (looks_like_pkcs12(data, len)) {
		*format = CS_FORMAT_PKCS12;
		return cs_err_set(
			err, CS_ERR_BAD_INPUT,
			"PKCS#12 (PFX) file: it holds a private key and needs a password");
	}
	p7 = d2i_PKCS7(NULL, &p, (long)len);
	ERR_clear_error();
	if (p7 == NULL)
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "DER data is neither an X.509 certificate, PKCS#7 nor PKCS#12");
	*format = CS_FORMAT_PKCS7;
	rv = certs_from_pkcs7(p7, certs, err);
	PKCS7_free(p7);
	return rv;
}

static cs_rv parse_pem_block(const char *name, const unsigned char *body, long blen, int index,
			     cs_cert_list *certs, cs_err *err)
{
	const unsigned char *p = body;
	cs_cert *cert;
	X509 *x509;
	cs_rv rv;

	if (strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0 ||
	    strcmp(name, "TRUSTED CERTIFICATE") == 0) {
		x509 = strcmp(name, "TRUSTED CERTIFICATE") == 0 ? d2i_X509_AUX(NULL, &p, blen)
								: d2i_X509(NULL, &p, blen);
		if (x509 == NULL) {
			ERR_clear_error();
			return cs_err_set(err, CS_ERR_BAD_INPUT,
					  "PEM block %d (%s) does not hold a valid certificate",
					  index, name);
		}
		rv = cs_cert_from_x509(x509, &cert, err);
		X509_free(x509);
		return rv == CS_OK ? cs_cert_list_push(certs, cert, err) : rv;
	}
	if (strcmp(name, "PKCS7") == 0 || strcmp(name, "CERTIFICATE CHAIN") == 0) {
		rv = parse_pkcs7_der(body, blen, certs, err);
		if (rv != CS_OK)
			cs_err_prefix(err, "PEM block %d (%s)", index, name);
		return rv;
	}
	if (strstr(name, "PRIVATE KEY") != NULL)
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "PEM block %d is a %s: private keys are imported from PFX "
				  "(PKCS#12) files, so they go straight into the token",
				  index, name);
	return cs_err_set(err, CS_ERR_BAD_INPUT, "PEM block %d is a %s, not a certificate", index,
			  name);
}

static cs_rv parse_pem(const unsigned char *data, size_t len, cs_cert_list *certs, cs_err *err)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	char *name = NULL, *header = NULL;
	unsigned char *body = NULL;
	long blen = 0;
	int index = 0;
	unsigned long e;
	cs_rv rv = CS_OK;

	if (bio == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	for (;;) {
		if (!PEM_read_bio(bio, &name, &header, &body, &blen)) {
			e = ERR_peek_last_error();
			ERR_clear_error();
			if (ERR_GET_REASON(e) == PEM_R_NO_START_LINE && index > 0)
				break;
			rv = cs_err_set(err, CS_ERR_BAD_INPUT,
					"PEM block %d is corrupt (bad Base64 or missing END line)",
					index + 1);
			break;
		}
		index++;
		rv = parse_pem_block(name, body, blen, index, certs, err);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(body);
		name = header = NULL;
		body = NULL;
		if (rv != CS_OK)
			break;
	}
	BIO_free(bio);
	return rv;
}

/* Windows' "Base-64 encoded X.509 (.CER)" without armour, and Base64 .p7b. */
static cs_rv parse_bare_base64(const unsigned char *data, size_t len, cs_format *format,
			       cs_cert_list *certs, cs_err *err)
{
	unsigned char *clean = NULL, *der = NULL;
	size_t n = 0, i;
	int dlen, pad = 0;
	cs_rv rv;

	clean = malloc(len + 1);
	der = malloc(len + 1);
	if (clean == NULL || der == NULL) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < len; i++) {
		if (isspace(data[i]))
			continue;
		if (!isalnum(data[i]) && data[i] != '+' && data[i] != '/' && data[i] != '=') {
			rv = cs_err_set(err, CS_ERR_BAD_INPUT,
					"not a certificate: neither DER, PEM, Base64 nor PKCS#7");
			goto out;
		}
		clean[n++] = data[i];
	}
	if (n == 0 || n % 4 != 0) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "Base64 text has a wrong length");
		goto out;
	}
	dlen = EVP_DecodeBlock(der, clean, (int)n);
	if (dlen < 0) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "Base64 text does not decode");
		goto out;
	}
	/* EVP_DecodeBlock counts padding bytes as data. */
	while (n > 0 && clean[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	rv = parse_der(der, (size_t)dlen - (size_t)pad, format, certs, err);
	if (rv == CS_OK && *format == CS_FORMAT_DER)
		*format = CS_FORMAT_BASE64;
out:
	free(clean);
	free(der);
	return rv;
}

static bool contains_pem_armour(const unsigned char *data, size_t len)
{
	static const char marker[] = "-----BEGIN ";

	return memmem(data, len, marker, sizeof(marker) - 1) != NULL;
}

cs_rv cs_parse_certs(const unsigned char *data, size_t len, cs_format *format, cs_cert_list *certs,
		     cs_err *err)
{
	cs_format dummy = CS_FORMAT_UNKNOWN;
	cs_rv rv;

	if (format == NULL)
		format = &dummy;
	*format = CS_FORMAT_UNKNOWN;
	if (data == NULL || len == 0)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "no data");
	if (data[0] == 0x30)
		rv = parse_der(data, len, format, certs, err);
	else if (contains_pem_armour(data, len)) {
		*format = CS_FORMAT_PEM;
		rv = parse_pem(data, len, certs, err);
	} else
		rv = parse_bare_base64(data, len, format, certs, err);
	if (rv != CS_OK)
		cs_cert_list_clear(certs);
	return rv;
}
