/*
 * cert.c - one certificate: parsed once, with every property the store keeps.
 */
#include "internal.h"
#include "certs.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

static char *name_oneline(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *out = NULL;
	long len;

	if (bio == NULL)
		return NULL;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		len = BIO_get_mem_data(bio, &data);
		out = strndup(len > 0 ? data : "", len > 0 ? (size_t)len : 0);
	}
	BIO_free(bio);
	return out;
}

char *cs_serial_hex(const ASN1_INTEGER *serial)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex, *out;

	if (bn == NULL)
		return NULL;
	hex = BN_bn2hex(bn);
	BN_free(bn);
	if (hex == NULL)
		return NULL;
	out = strdup(hex);
	OPENSSL_free(hex);
	return out;
}

static bool asn1_time_to_epoch(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return false;
	*out = (int64_t)timegm(&tm);
	return true;
}

static cs_rv fill_properties(cs_cert *cert, cs_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;

	if (!X509_digest(cert->x509, EVP_sha1(), md, &mdlen))
		return cs_err_set(err, CS_ERR_BAD_INPUT, "cannot compute the SHA-1 thumbprint");
	cs_hex_upper(md, mdlen, cert->sha1);
	if (!X509_digest(cert->x509, EVP_sha256(), md, &mdlen))
		return cs_err_set(err, CS_ERR_BAD_INPUT, "cannot compute the SHA-256 thumbprint");
	cs_hex_upper(md, mdlen, cert->sha256);
	cert->subject = name_oneline(X509_get_subject_name(cert->x509));
	cert->issuer = name_oneline(X509_get_issuer_name(cert->x509));
	cert->serial = cs_serial_hex(X509_get0_serialNumber(cert->x509));
	if (cert->subject == NULL || cert->issuer == NULL || cert->serial == NULL)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "certificate names or serial unreadable");
	if (!asn1_time_to_epoch(X509_get0_notBefore(cert->x509), &cert->not_before) ||
	    !asn1_time_to_epoch(X509_get0_notAfter(cert->x509), &cert->not_after))
		return cs_err_set(err, CS_ERR_BAD_INPUT, "certificate validity dates unreadable");
	return CS_OK;
}

static cs_rv cert_from_owned_x509(X509 *x509, cs_cert **out, cs_err *err)
{
	cs_cert *cert;
	unsigned char *der = NULL;
	int len;
	cs_rv rv;

	*out = NULL;
	cert = calloc(1, sizeof(*cert));
	if (cert == NULL) {
		X509_free(x509);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	cert->x509 = x509;
	len = i2d_X509(x509, &der);
	if (len <= 0) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "certificate cannot be re-encoded");
		goto out;
	}
	cert->der.data = malloc((size_t)len);
	if (cert->der.data == NULL) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	memcpy(cert->der.data, der, (size_t)len);
	cert->der.len = (size_t)len;
	rv = fill_properties(cert, err);
out:
	OPENSSL_free(der);
	if (rv != CS_OK) {
		cs_cert_free(cert);
		return rv;
	}
	*out = cert;
	return CS_OK;
}

cs_rv cs_cert_from_der(const unsigned char *der, size_t len, cs_cert **out, cs_err *err)
{
	const unsigned char *p = der;
	X509 *x509;

	*out = NULL;
	x509 = d2i_X509(NULL, &p, (long)len);
	if (x509 == NULL) {
		ERR_clear_error();
		return cs_err_set(err, CS_ERR_BAD_INPUT, "not a valid DER X.509 certificate");
	}
	if (p != der + len) {
		X509_free(x509);
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "%zu bytes of trailing data after the certificate",
				  (size_t)(der + len - p));
	}
	return cert_from_owned_x509(x509, out, err);
}

cs_rv cs_cert_from_x509(X509 *x509, cs_cert **out, cs_err *err)
{
	if (!X509_up_ref(x509))
		return cs_err_set(err, CS_ERR_INTERNAL, "X509_up_ref failed");
	return cert_from_owned_x509(x509, out, err);
}

void cs_cert_free(cs_cert *cert)
{
	if (cert == NULL)
		return;
	X509_free(cert->x509);
	cs_bytes_clear(&cert->der);
	free(cert->subject);
	free(cert->issuer);
	free(cert->serial);
	free(cert->friendly_name);
	free(cert->key_uri);
	free(cert->ca_profile);
	free(cert);
}

bool cs_cert_is_self_signed(const cs_cert *cert)
{
	/* X509_check_issued + signature check, as OpenSSL's own chain builder does. */
	return X509_self_signed(cert->x509, 1) == 1;
}

bool cs_cert_is_ca(const cs_cert *cert)
{
	return X509_check_ca(cert->x509) != 0 &&
	       (X509_get_extension_flags(cert->x509) & EXFLAG_CA) != 0;
}

bool cs_cert_key_id(const cs_cert *cert, unsigned char id[20])
{
	return cs_x509_key_id(cert->x509, id);
}

cs_rv cs_cert_list_push(cs_cert_list *list, cs_cert *cert, cs_err *err)
{
	cs_cert **grown;

	grown = realloc(list->items, (list->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		cs_cert_free(cert);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	list->items = grown;
	list->items[list->n++] = cert;
	return CS_OK;
}

void cs_der_list_clear(cs_der_list *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i].data);
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

void cs_cert_list_clear(cs_cert_list *list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < list->n; i++)
		cs_cert_free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

bool cs_cert_matches_fingerprint(const cs_cert *cert, const char *fingerprint)
{
	char want[66];

	if (cert == NULL || fingerprint == NULL ||
	    !cs_thumbprint_normalise(fingerprint, want, sizeof(want)))
		return false;
	return strcmp(want, cert->sha256) == 0 || strcmp(want, cert->sha1) == 0;
}
