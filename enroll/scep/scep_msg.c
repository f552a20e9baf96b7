/*
 * scep_msg.c - see scep_msg.h.
 */
#include "scep_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

/* RFC 8894 3.2.1: the SCEP authenticated attributes (VeriSign arc). */
static const struct {
	const char *oid, *name;
} scep_oids[] = {
	{"2.16.840.1.113733.1.9.2", "scep-messageType"},
	{"2.16.840.1.113733.1.9.3", "scep-pkiStatus"},
	{"2.16.840.1.113733.1.9.4", "scep-failInfo"},
	{"2.16.840.1.113733.1.9.5", "scep-senderNonce"},
	{"2.16.840.1.113733.1.9.6", "scep-recipientNonce"},
	{"2.16.840.1.113733.1.9.7", "scep-transId"},
};
enum { A_TYPE, A_STATUS, A_FAIL, A_SNONCE, A_RNONCE, A_TRANS };

static int scep_nid(int which)
{
	int nid = OBJ_txt2nid(scep_oids[which].oid);

	if (nid == NID_undef)
		nid = OBJ_create(scep_oids[which].oid, scep_oids[which].name,
				 scep_oids[which].name);
	return nid;
}

void scep_caps_parse(const unsigned char *body, size_t len, scep_caps *out)
{
	char *text = strndup((const char *)body, len), *save = NULL, *line;

	memset(out, 0, sizeof(*out));
	for (line = text ? strtok_r(text, "\r\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\r\n", &save)) {
		bool std = strcasecmp(line, "SCEPStandard") == 0;

		out->post |= std || strcasecmp(line, "POSTPKIOperation") == 0;
		out->aes |= std || strcasecmp(line, "AES") == 0;
		out->sha256 |= std || strcasecmp(line, "SHA-256") == 0;
		out->des3 |= strcasecmp(line, "DES3") == 0;
		out->renewal |= strcasecmp(line, "Renewal") == 0;
	}
	free(text);
}

static bool type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return ct != NULL && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';');
}

/* The RA: an end-entity certificate among them; else the CA is its own RA. */
static const cs_cert *pick_ra(const cs_cert_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!cs_cert_is_ca(l->items[i]))
			return l->items[i];
	for (i = 0; i < l->n; i++)
		if (!cs_cert_is_self_signed(l->items[i]))
			return l->items[i];
	return l->n > 0 ? l->items[0] : NULL;
}

cs_rv scep_parse_cacert(const char *content_type, const unsigned char *body, size_t len,
			cs_cert_list *out, const cs_cert **ra, cs_err *err)
{
	cs_format fmt = CS_FORMAT_UNKNOWN;
	cs_rv rv;

	*ra = NULL;
	if (!type_is(content_type, "application/x-x509-ca-cert") &&
	    !type_is(content_type, "application/x-x509-ca-ra-cert"))
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "GetCACert answered %s, not application/x-x509-ca-cert or "
				  "application/x-x509-ca-ra-cert",
				  content_type ? content_type : "untyped");
	if (len == 0 || body[0] != 0x30)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "GetCACert's answer is not DER");
	rv = cs_parse_certs(body, len, &fmt, out, err);
	if (rv == CS_OK && type_is(content_type, "application/x-x509-ca-ra-cert") &&
	    fmt != CS_FORMAT_PKCS7)
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "GetCACert: a CA/RA answer must be PKCS#7");
	if (rv == CS_OK)
		*ra = pick_ra(out);
	else
		cs_cert_list_clear(out);
	return rv;
}

cs_rv scep_transient_cert(X509_REQ *req, EVP_PKEY *key, X509 **out, cs_err *err)
{
	X509 *x = X509_new();
	unsigned char serial[8];
	BIGNUM *bn = NULL;
	int ok;

	*out = NULL;
	ok = x != NULL && RAND_bytes(serial, sizeof(serial)) == 1;
	serial[0] &= 0x7f;
	ok = ok && (bn = BN_bin2bn(serial, sizeof(serial), NULL)) != NULL &&
	     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL && X509_set_version(x, 2) &&
	     X509_set_subject_name(x, X509_REQ_get_subject_name(req)) &&
	     X509_set_issuer_name(x, X509_REQ_get_subject_name(req)) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), 86400) && X509_set_pubkey(x, key);
	BN_free(bn);
	if (ok && X509_sign(x, key, EVP_sha256()) <= 0) {
		X509_free(x);
		cs_err_set(err, CS_ERR_KEY,
			   "signing the SCEP signer certificate with the key failed");
		cs_err_add_openssl(err);
		return CS_ERR_KEY;
	}
	if (!ok) {
		X509_free(x);
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot build the SCEP signer certificate");
	}
	*out = x;
	return CS_OK;
}

static cs_rv p7_der(PKCS7 *p7, cs_bytes *out, cs_err *err)
{
	unsigned char *der = NULL;
	int len = i2d_PKCS7(p7, &der);

	if (len <= 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot encode the SCEP message");
	out->data = der;
	out->len = (size_t)len;
	return CS_OK;
}

/* pkcsPKIEnvelope: EnvelopedData to the RA. */
static cs_rv envelope(const scep_req *r, const unsigned char *content, size_t len, cs_bytes *out,
		      cs_err *err)
{
	STACK_OF(X509) *to = sk_X509_new_null();
	BIO *in = BIO_new_mem_buf(content, (int)len);
	PKCS7 *p7 = NULL;
	cs_rv rv;

	if (to != NULL && sk_X509_push(to, r->ra))
		p7 = PKCS7_encrypt(to, in, r->aes ? EVP_aes_128_cbc() : EVP_des_ede3_cbc(),
				   PKCS7_BINARY);
	rv = p7 != NULL ? p7_der(p7, out, err)
			: cs_err_set(err, CS_ERR_CA, "cannot encrypt to the SCEP RA certificate");
	if (p7 == NULL)
		cs_err_add_openssl(err);
	PKCS7_free(p7);
	BIO_free(in);
	sk_X509_free(to);
	return rv;
}

static bool add_string_attr(PKCS7_SIGNER_INFO *si, int which, int type, const void *v, int len)
{
	ASN1_STRING *s = ASN1_STRING_type_new(type);

	if (s == NULL || !ASN1_STRING_set(s, v, len) ||
	    !PKCS7_add_signed_attribute(si, scep_nid(which), type, s)) {
		ASN1_STRING_free(s);
		return false;
	}
	return true;
}

static bool add_scep_attrs(const scep_req *r, PKCS7_SIGNER_INFO *si)
{
	return PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
					  OBJ_nid2obj(NID_pkcs7_data)) &&
	       add_string_attr(si, A_TYPE, V_ASN1_PRINTABLESTRING, r->message_type, -1) &&
	       add_string_attr(si, A_TRANS, V_ASN1_PRINTABLESTRING, r->transaction_id, -1) &&
	       add_string_attr(si, A_SNONCE, V_ASN1_OCTET_STRING, r->sender_nonce,
			       sizeof(r->sender_nonce));
}

static cs_rv sign_content(const scep_req *r, const cs_bytes *inner, cs_bytes *out, cs_err *err)
{
	PKCS7 *p7 = PKCS7_new();
	PKCS7_SIGNER_INFO *si = NULL;
	BIO *bio = NULL;
	int ok;

	ok = p7 != NULL && PKCS7_set_type(p7, NID_pkcs7_signed) &&
	     PKCS7_content_new(p7, NID_pkcs7_data) &&
	     (si = PKCS7_add_signature(p7, r->signer, r->key,
				       r->sha256 ? EVP_sha256() : EVP_sha1())) != NULL &&
	     PKCS7_add_certificate(p7, r->signer) && add_scep_attrs(r, si) &&
	     (bio = PKCS7_dataInit(p7, NULL)) != NULL &&
	     BIO_write(bio, inner->data, (int)inner->len) == (int)inner->len &&
	     BIO_flush(bio) == 1 && PKCS7_dataFinal(p7, bio);
	BIO_free_all(bio);
	if (!ok) {
		PKCS7_free(p7);
		cs_err_set(err, CS_ERR_KEY,
			   "signing the SCEP message with the request's key failed");
		cs_err_add_openssl(err);
		return CS_ERR_KEY;
	}
	ok = p7_der(p7, out, err);
	PKCS7_free(p7);
	return ok;
}

cs_rv scep_build(const scep_req *r, const unsigned char *content, size_t len, cs_bytes *out,
		 cs_err *err)
{
	cs_bytes inner = {0};
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	rv = envelope(r, content, len, &inner, err);
	if (rv == CS_OK)
		rv = sign_content(r, &inner, out, err);
	cs_bytes_clear(&inner);
	return rv;
}

cs_rv scep_issuer_and_subject(const X509_NAME *issuer, const X509_NAME *subject, cs_bytes *out,
			      cs_err *err)
{
	int li = i2d_X509_NAME(issuer, NULL), ls = i2d_X509_NAME(subject, NULL), total;
	unsigned char *p;

	if (li <= 0 || ls <= 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot encode IssuerAndSubject");
	total = ASN1_object_size(1, li + ls, V_ASN1_SEQUENCE);
	out->data = p = OPENSSL_malloc((size_t)total);
	if (p == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	ASN1_put_object(&p, 1, li + ls, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	i2d_X509_NAME(issuer, &p);
	i2d_X509_NAME(subject, &p);
	out->len = (size_t)total;
	return CS_OK;
}

void scep_rep_clear(scep_rep *rep)
{
	PKCS7_free(rep->p7);
	memset(rep, 0, sizeof(*rep));
}

/* A printable or octet string attribute into buf; false when absent. */
static bool get_attr(PKCS7_SIGNER_INFO *si, int which, void *buf, size_t size, int *len)
{
	ASN1_TYPE *t = PKCS7_get_signed_attribute(si, scep_nid(which));
	const ASN1_STRING *s;
	size_t n;

	if (t == NULL || (t->type != V_ASN1_PRINTABLESTRING && t->type != V_ASN1_OCTET_STRING))
		return false;
	s = t->value.asn1_string;
	n = (size_t)ASN1_STRING_length(s);
	if (t->type == V_ASN1_PRINTABLESTRING && n >= size)
		return false;
	if (n > size)
		n = size;
	memcpy(buf, ASN1_STRING_get0_data(s), n);
	if (t->type == V_ASN1_PRINTABLESTRING)
		((char *)buf)[n] = '\0';
	if (len != NULL)
		*len = (int)n;
	return true;
}

cs_rv scep_rep_parse(const unsigned char *der, size_t len, scep_rep *out, cs_err *err)
{
	const unsigned char *p = der;
	STACK_OF(PKCS7_SIGNER_INFO) * sis;
	PKCS7_SIGNER_INFO *si;

	memset(out, 0, sizeof(*out));
	out->p7 = d2i_PKCS7(NULL, &p, (long)len);
	ERR_clear_error();
	if (out->p7 == NULL || !PKCS7_type_is_signed(out->p7) || out->p7->d.sign == NULL) {
		scep_rep_clear(out);
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "the SCEP answer is not a PKCS#7 SignedData");
	}
	sis = PKCS7_get_signer_info(out->p7);
	si = sk_PKCS7_SIGNER_INFO_num(sis) == 1 ? sk_PKCS7_SIGNER_INFO_value(sis, 0) : NULL;
	if (si == NULL ||
	    !get_attr(si, A_TYPE, out->message_type, sizeof(out->message_type), NULL) ||
	    !get_attr(si, A_STATUS, out->status, sizeof(out->status), NULL) ||
	    !get_attr(si, A_TRANS, out->transaction_id, sizeof(out->transaction_id), NULL) ||
	    !get_attr(si, A_RNONCE, out->recipient_nonce, sizeof(out->recipient_nonce),
		      &out->recipient_nonce_len)) {
		scep_rep_clear(out);
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "the SCEP answer lacks its signer or the messageType, pkiStatus, "
				  "transactionID or recipientNonce attribute");
	}
	(void)get_attr(si, A_FAIL, out->fail_info, sizeof(out->fail_info), NULL);
	if (strcmp(out->message_type, SCEP_CERTREP) != 0) {
		scep_rep_clear(out);
		return cs_err_set(err, CS_ERR_BAD_INPUT, "the SCEP answer is not a CertRep");
	}
	return CS_OK;
}

cs_rv scep_rep_verify(scep_rep *rep, const cs_cert_list *cas, cs_bytes *enveloped, cs_err *err)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	BIO *out = BIO_new(BIO_s_mem());
	char *data;
	long n;
	size_t i;
	int ok = certs != NULL && out != NULL;

	for (i = 0; ok && i < cas->n; i++)
		ok = sk_X509_push(certs, cas->items[i]->x509) > 0;
	/* The signer must be one of the CA's certificates from GetCACert. */
	ok = ok && PKCS7_verify(rep->p7, certs, NULL, NULL, out,
				PKCS7_NOINTERN | PKCS7_NOVERIFY | PKCS7_BINARY) == 1;
	ERR_clear_error();
	n = ok ? BIO_get_mem_data(out, &data) : 0;
	if (ok && n > 0) {
		enveloped->data = malloc((size_t)n);
		if (enveloped->data != NULL) {
			memcpy(enveloped->data, data, (size_t)n);
			enveloped->len = (size_t)n;
		}
	}
	BIO_free(out);
	sk_X509_free(certs);
	if (!ok)
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "the SCEP answer's signature is not the CA's (or is broken)");
	return CS_OK;
}

/*
 * Some servers (scepserver 2.1, older NDES) encrypt the CertRep with single
 * DES, which OpenSSL 3 keeps in its legacy provider.  What it protects is the
 * issued certificate, which is public, so certstore reads such an answer (it
 * never sends with DES): the legacy provider is loaded for that case only,
 * and unloaded after (a provider reference kept to exit leaks its library
 * context).  *legacy is NULL when DES is not involved.
 */
static bool allow_des_answer(PKCS7 *env, OSSL_PROVIDER **legacy)
{
	const PKCS7_ENC_CONTENT *ec = env->d.enveloped ? env->d.enveloped->enc_data : NULL;

	*legacy = NULL;
	if (ec == NULL || ec->algorithm == NULL ||
	    OBJ_obj2nid(ec->algorithm->algorithm) != NID_des_cbc)
		return true;
	*legacy = OSSL_PROVIDER_try_load(NULL, "legacy", 1);
	return *legacy != NULL;
}

cs_rv scep_rep_certs(const cs_bytes *enveloped, EVP_PKEY *key, X509 *cert, cs_cert_list *out,
		     cs_err *err)
{
	const unsigned char *p = enveloped->data;
	PKCS7 *env = d2i_PKCS7(NULL, &p, (long)enveloped->len);
	BIO *plain = BIO_new(BIO_s_mem());
	OSSL_PROVIDER *legacy = NULL;
	char *data = NULL;
	long n = 0;
	cs_rv rv;

	if (env == NULL || plain == NULL || !PKCS7_type_is_enveloped(env))
		rv = cs_err_set(err, CS_ERR_BAD_INPUT, "the SCEP answer holds no EnvelopedData");
	else if (!allow_des_answer(env, &legacy) || PKCS7_decrypt(env, key, cert, plain, 0) != 1) {
		rv = cs_err_set(err, CS_ERR_BAD_INPUT,
				"the SCEP answer does not decrypt with the "
				"request's key");
		cs_err_add_openssl(err);
	} else {
		n = BIO_get_mem_data(plain, &data);
		rv = cs_parse_certs((const unsigned char *)data, (size_t)n, NULL, out, err);
		if (rv != CS_OK)
			cs_err_prefix(err, "the SCEP answer's certificates");
	}
	ERR_clear_error();
	if (legacy != NULL)
		OSSL_PROVIDER_unload(legacy);
	BIO_free(plain);
	PKCS7_free(env);
	return rv;
}

const char *scep_fail_info_name(const char *code)
{
	static const char *const names[] = {"badAlg", "badMessageCheck", "badRequest", "badTime",
					    "badCertId"};

	if (code != NULL && code[0] >= '0' && code[0] <= '4' && code[1] == '\0')
		return names[code[0] - '0'];
	return "unspecified";
}
