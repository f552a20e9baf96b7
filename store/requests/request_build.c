/*
 * request_build.c - the PKCS#10 request itself: extensions and signature.
 */
#include "request.h"
#include "internal.h"
#include "keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#define OID_MS_TEMPLATE_NAME "1.3.6.1.4.1.311.20.2"
#define OID_MS_TEMPLATE_V2 "1.3.6.1.4.1.311.21.7"

static const EVP_MD *request_digest(const cs_request_spec *spec, cs_err *err)
{
	static const char *const allowed[] = {"sha256", "sha224", "sha384", "sha512"};
	const char *name = spec->hash ? spec->hash : "sha256";
	size_t i;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcasecmp(name, allowed[i]) == 0)
			return EVP_get_digestbyname(allowed[i]);
	cs_err_set(err, CS_ERR_USAGE, "unknown hash '%s' (sha256, sha224, sha384, sha512)", name);
	return NULL;
}

/* "dns:a" → "DNS:a", the form X509V3_EXT_conf_nid reads. */
static cs_rv san_conf(const cs_request_spec *spec, char **out, cs_err *err)
{
	size_t i, size = 1;
	char *s, *colon;

	for (i = 0; i < spec->n_sans; i++)
		size += strlen(spec->sans[i]) + 4;
	s = calloc(1, size);
	if (s == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	for (i = 0; i < spec->n_sans; i++) {
		colon = strchr(spec->sans[i], ':');
		if (i > 0)
			strcat(s, ",");
		if (strncasecmp(spec->sans[i], "dns:", 4) == 0)
			strcat(s, "DNS");
		else if (strncasecmp(spec->sans[i], "ip:", 3) == 0)
			strcat(s, "IP");
		else if (strncasecmp(spec->sans[i], "email:", 6) == 0)
			strcat(s, "email");
		else
			strcat(s, "URI");
		strcat(s, colon);
	}
	*out = s;
	return CS_OK;
}

static cs_rv push_ext(STACK_OF(X509_EXTENSION) * exts, X509_EXTENSION *ext, cs_err *err)
{
	if (ext == NULL || !sk_X509_EXTENSION_push(exts, ext)) {
		X509_EXTENSION_free(ext);
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot build a request extension");
	}
	return CS_OK;
}

static cs_rv add_san_ext(const cs_request_spec *spec, STACK_OF(X509_EXTENSION) * exts, cs_err *err)
{
	X509_EXTENSION *ext;
	char *conf = NULL;
	cs_rv rv;

	if (spec->n_sans == 0)
		return CS_OK;
	rv = san_conf(spec, &conf, err);
	if (rv != CS_OK)
		return rv;
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, conf);
	if (ext == NULL) {
		ERR_clear_error();
		rv = cs_err_set(err, CS_ERR_USAGE, "bad subject alternative name in '%s'", conf);
	} else
		rv = push_ext(exts, ext, err);
	free(conf);
	return rv;
}

/* An extension whose value is the DER we made ourselves. */
static cs_rv add_raw_ext(STACK_OF(X509_EXTENSION) * exts, const char *oid, const unsigned char *der,
			 int len, cs_err *err)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;

	if (obj != NULL && value != NULL && ASN1_OCTET_STRING_set(value, der, len))
		ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, value);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(value);
	return push_ext(exts, ext, err);
}

/* szOID_ENROLL_CERTTYPE_EXTENSION: the template name as a BMPString. */
static cs_rv add_template_name_ext(const char *name, STACK_OF(X509_EXTENSION) * exts, cs_err *err)
{
	ASN1_STRING *bmp = NULL;
	unsigned char *der = NULL;
	int len;
	cs_rv rv;

	if (ASN1_mbstring_copy(&bmp, (const unsigned char *)name, -1, MBSTRING_UTF8,
			       B_ASN1_BMPSTRING) < 0) {
		ERR_clear_error();
		return cs_err_set(err, CS_ERR_USAGE, "template name '%s' cannot be encoded", name);
	}
	len = i2d_ASN1_BMPSTRING(bmp, &der);
	rv = len > 0 ? add_raw_ext(exts, OID_MS_TEMPLATE_NAME, der, len, err)
		     : cs_err_set(err, CS_ERR_INTERNAL, "cannot encode the template name");
	OPENSSL_free(der);
	ASN1_STRING_free(bmp);
	return rv;
}

/* szOID_CERTIFICATE_TEMPLATE: SEQUENCE { OID, major INTEGER, minor INTEGER OPTIONAL }. */
static cs_rv encode_template_v2(ASN1_OBJECT *oid, long major, long minor, bool has_minor,
				unsigned char **out, int *outlen)
{
	ASN1_INTEGER *imaj = ASN1_INTEGER_new(), *imin = ASN1_INTEGER_new();
	int lo = i2d_ASN1_OBJECT(oid, NULL), lmaj, lmin = 0, body, total;
	unsigned char *buf, *p;

	ASN1_INTEGER_set(imaj, major);
	ASN1_INTEGER_set(imin, minor);
	lmaj = i2d_ASN1_INTEGER(imaj, NULL);
	if (has_minor)
		lmin = i2d_ASN1_INTEGER(imin, NULL);
	body = lo + lmaj + lmin;
	total = ASN1_object_size(1, body, V_ASN1_SEQUENCE);
	p = buf = OPENSSL_malloc((size_t)total);
	if (buf != NULL) {
		ASN1_put_object(&p, 1, body, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
		i2d_ASN1_OBJECT(oid, &p);
		i2d_ASN1_INTEGER(imaj, &p);
		if (has_minor)
			i2d_ASN1_INTEGER(imin, &p);
	}
	ASN1_INTEGER_free(imaj);
	ASN1_INTEGER_free(imin);
	*out = buf;
	*outlen = total;
	return buf != NULL ? CS_OK : CS_ERR_INTERNAL;
}

static cs_rv add_template_v2_ext(const char *spec, STACK_OF(X509_EXTENSION) * exts, cs_err *err)
{
	char oidtext[128];
	long major = 0, minor = 0;
	int fields, len = 0;
	ASN1_OBJECT *oid;
	unsigned char *der = NULL;
	cs_rv rv;

	fields = sscanf(spec, "%127[0-9.]:%ld:%ld", oidtext, &major, &minor);
	if (fields < 2 || (oid = OBJ_txt2obj(oidtext, 1)) == NULL) {
		ERR_clear_error();
		return cs_err_set(err, CS_ERR_USAGE,
				  "bad --template-oid '%s' (use OID:major[:minor])", spec);
	}
	rv = encode_template_v2(oid, major, minor, fields == 3, &der, &len);
	ASN1_OBJECT_free(oid);
	if (rv == CS_OK)
		rv = add_raw_ext(exts, OID_MS_TEMPLATE_V2, der, len, err);
	else
		cs_err_set(err, rv, "cannot encode the template extension");
	OPENSSL_free(der);
	return rv;
}

/* The admin's KeyUsage and enhanced key usages, as extensions of the request. */
static cs_rv add_usage_exts(const cs_request_spec *spec, STACK_OF(X509_EXTENSION) * exts,
			    cs_err *err)
{
	static const struct {
		unsigned bit;
		const char *name;
	} bits[] = {{0x80, "digitalSignature"}, {0x40, "nonRepudiation"}, {0x20, "keyEncipherment"},
		    {0x10, "dataEncipherment"}, {0x08, "keyAgreement"},	  {0x04, "keyCertSign"},
		    {0x02, "cRLSign"},		{0x01, "encipherOnly"}};
	char conf[512] = "critical";
	X509_EXTENSION *ext;
	size_t i;
	cs_rv rv = CS_OK;

	for (i = 0; spec->key_usage != 0 && i < sizeof(bits) / sizeof(bits[0]); i++)
		if (spec->key_usage & bits[i].bit) {
			strcat(conf, ",");
			strcat(conf, bits[i].name);
		}
	if (spec->key_usage != 0) {
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage, conf);
		rv = ext != NULL ? push_ext(exts, ext, err)
				 : cs_err_set(err, CS_ERR_USAGE, "bad key usage 0x%02x",
					      spec->key_usage);
	}
	conf[0] = '\0';
	for (i = 0; rv == CS_OK && i < spec->n_ekus; i++) {
		if (strlen(conf) + strlen(spec->ekus[i]) + 2 >= sizeof(conf))
			return cs_err_set(err, CS_ERR_USAGE, "too many enhanced key usages");
		if (i > 0)
			strcat(conf, ",");
		strcat(conf, spec->ekus[i]);
	}
	if (rv == CS_OK && spec->n_ekus > 0) {
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage, conf);
		rv = ext != NULL ? push_ext(exts, ext, err)
				 : cs_err_set(err, CS_ERR_USAGE, "bad enhanced key usage in '%s'",
					      conf);
	}
	ERR_clear_error();
	return rv;
}

static cs_rv add_extensions(const cs_request_spec *spec, X509_REQ *req, cs_err *err)
{
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	cs_rv rv;

	if (exts == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	rv = add_san_ext(spec, exts, err);
	if (rv == CS_OK)
		rv = add_usage_exts(spec, exts, err);
	if (rv == CS_OK && spec->template_name != NULL)
		rv = add_template_name_ext(spec->template_name, exts, err);
	if (rv == CS_OK && spec->template_oid != NULL)
		rv = add_template_v2_ext(spec->template_oid, exts, err);
	if (rv == CS_OK && sk_X509_EXTENSION_num(exts) > 0 && !X509_REQ_add_extensions(req, exts))
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot add extensions to the request");
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rv;
}

cs_rv cs_request_build(const cs_request_spec *spec, EVP_PKEY *key, X509_REQ **out, cs_err *err)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	const EVP_MD *md;
	cs_rv rv;

	*out = NULL;
	md = request_digest(spec, err);
	if (md == NULL)
		return CS_ERR_USAGE;
	rv = cs_request_subject(spec, &name, err);
	if (rv != CS_OK)
		return rv;
	req = X509_REQ_new();
	if (req == NULL || !X509_REQ_set_version(req, 0) || !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, key)) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot build the request");
		goto out;
	}
	rv = add_extensions(spec, req, err);
	if (rv == CS_OK && spec->challenge_password != NULL &&
	    !X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword, MBSTRING_UTF8,
				       (const unsigned char *)spec->challenge_password, -1)) {
		ERR_clear_error();
		rv = cs_err_set(err, CS_ERR_USAGE, "the challenge password cannot be encoded");
	}
	if (rv != CS_OK)
		goto out;
	if (X509_REQ_sign(req, key, md) <= 0) {
		rv = cs_err_set(err, CS_ERR_KEY, "signing the request with the new key failed");
		cs_err_add_openssl(err);
		goto out;
	}
	*out = req;
	req = NULL;
out:
	X509_REQ_free(req);
	X509_NAME_free(name);
	return rv;
}

cs_rv cs_request_spec_check(const cs_request_spec *spec, cs_err *err)
{
	X509_NAME *name = NULL;
	X509_REQ *req = NULL;
	cs_key_spec ks;
	cs_rv rv;

	if (request_digest(spec, err) == NULL)
		return CS_ERR_USAGE;
	rv = cs_key_spec_parse(spec->key, &ks, err);
	if (rv == CS_OK)
		rv = cs_request_subject(spec, &name, err);
	/* The extensions are built as the real run builds them, then dropped:
	 * a SAN or template the real run would refuse is refused here too. */
	if (rv == CS_OK && (req = X509_REQ_new()) == NULL)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (rv == CS_OK)
		rv = add_extensions(spec, req, err);
	X509_REQ_free(req);
	X509_NAME_free(name);
	return rv;
}

static void append(char **buf, const char *label, const char *value)
{
	char *next = NULL;

	if (value == NULL)
		return;
	if (asprintf(&next, "%s%-18s %s\n", *buf ? *buf : "", label, value) < 0)
		return;
	free(*buf);
	*buf = next;
}

cs_rv cs_request_summary(const cs_request_spec *spec, char **out, cs_err *err)
{
	X509_NAME *name = NULL;
	char subject[512] = "", *text = NULL, *friendly, ku[16];
	size_t i;
	cs_rv rv;

	*out = NULL;
	rv = cs_request_spec_check(spec, err);
	if (rv == CS_OK)
		rv = cs_request_subject(spec, &name, err);
	if (rv != CS_OK)
		return rv;
	X509_NAME_oneline(name, subject, sizeof(subject));
	X509_NAME_free(name);
	friendly = cs_request_friendly_name(spec, cs_now());
	append(&text, "Subject:", subject);
	for (i = 0; i < spec->n_sans; i++)
		append(&text, i == 0 ? "Alternative names:" : "", spec->sans[i]);
	append(&text, "Key:", spec->key ? spec->key : "rsa:2048");
	append(&text, "Hash:", spec->hash ? spec->hash : "sha256");
	append(&text, "Exportable:", spec->exportable ? "yes" : "no");
	append(&text, "Friendly name:", friendly);
	if (spec->key_usage != 0 && snprintf(ku, sizeof(ku), "0x%02x", spec->key_usage) > 0)
		append(&text, "Key usage:", ku);
	for (i = 0; i < spec->n_ekus; i++)
		append(&text, i == 0 ? "Enhanced key usage:" : "", spec->ekus[i]);
	append(&text, "Template:", spec->template_name);
	append(&text, "Template OID:", spec->template_oid);
	free(friendly);
	if (text == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	*out = text;
	return CS_OK;
}
