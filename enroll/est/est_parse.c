/*
 * est_parse.c - see est_parse.h.
 */
#include "est_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>

static bool is_b64(unsigned char c)
{
	return isalnum(c) || c == '+' || c == '/';
}

cs_rv est_base64_decode(const unsigned char *in, size_t len, cs_bytes *out, cs_err *err)
{
	unsigned char *clean = malloc(len + 1), *der = malloc(len + 1);
	size_t n = 0, i, pad = 0;
	int dlen;

	memset(out, 0, sizeof(*out));
	if (clean == NULL || der == NULL) {
		free(clean);
		free(der);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	for (i = 0; i < len; i++) {
		if (isspace(in[i]))
			continue;
		if (in[i] == '=' ? pad >= 2 : (!is_b64(in[i]) || pad > 0))
			break;
		pad += in[i] == '=';
		clean[n++] = in[i];
	}
	dlen = i == len && n > 0 && n % 4 == 0 ? EVP_DecodeBlock(der, clean, (int)n) : -1;
	free(clean);
	if (dlen < 0 || (size_t)dlen < pad) {
		free(der);
		return cs_err_set(err, CS_ERR_BAD_INPUT, "the body is not valid base64%s",
				  i < len ? " (a character outside the alphabet)" : "");
	}
	out->data = der;
	out->len = (size_t)dlen - pad;
	return CS_OK;
}

static cs_rv check_content_type(const char *ct, cs_err *err)
{
	size_t n = strlen("application/pkcs7-mime");

	if (ct != NULL && strncasecmp(ct, "application/pkcs7-mime", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || isspace((unsigned char)ct[n])))
		return CS_OK;
	return cs_err_set(err, CS_ERR_BAD_INPUT,
			  "the answer is %s, not a certificate (application/pkcs7-mime)",
			  ct ? ct : "untyped");
}

/* The certificates of a SignedData, in order. */
static cs_rv certs_of(PKCS7 *p7, cs_cert_list *out, cs_err *err)
{
	STACK_OF(X509) *sk = NULL;
	cs_cert *c;
	cs_rv rv = CS_OK;
	int i;

	if (PKCS7_type_is_signed(p7) && p7->d.sign != NULL)
		sk = p7->d.sign->cert;
	else
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "the PKCS#7 is not SignedData (certs-only)");
	if (sk == NULL || sk_X509_num(sk) == 0)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "PKCS#7 holds no certificates");
	for (i = 0; rv == CS_OK && i < sk_X509_num(sk); i++) {
		rv = cs_cert_from_x509(sk_X509_value(sk, i), &c, err);
		if (rv == CS_OK)
			rv = cs_cert_list_push(out, c, err);
	}
	return rv;
}

static void move_to(cs_cert_list *l, size_t from, size_t to)
{
	cs_cert *c = l->items[from];

	if (from < to)
		memmove(&l->items[from], &l->items[from + 1], (to - from) * sizeof(c));
	else
		memmove(&l->items[to + 1], &l->items[to], (from - to) * sizeof(c));
	l->items[to] = c;
}

static void order(cs_cert_list *l, int leaf_first)
{
	size_t i, moved = 0;

	for (i = 0; leaf_first && i < l->n; i++)
		if (!cs_cert_is_ca(l->items[i])) {
			move_to(l, i, 0);
			return;
		}
	for (i = 0; !leaf_first && i + moved < l->n; i++)
		if (cs_cert_is_ca(l->items[i]) && cs_cert_is_self_signed(l->items[i])) {
			move_to(l, i, l->n - 1);
			moved++;
			i--;
		}
}

cs_rv est_parse_certs(const char *content_type, const unsigned char *body, size_t len,
		      int leaf_first, cs_cert_list *out, cs_err *err)
{
	cs_bytes der = {0};
	const unsigned char *p;
	PKCS7 *p7 = NULL;
	cs_rv rv;

	rv = check_content_type(content_type, err);
	if (rv == CS_OK)
		rv = est_base64_decode(body, len, &der, err);
	if (rv == CS_OK) {
		p = der.data;
		p7 = d2i_PKCS7(NULL, &p, (long)der.len);
		ERR_clear_error();
		if (p7 == NULL || p != der.data + der.len)
			rv = cs_err_set(err, CS_ERR_BAD_INPUT,
					"the base64 body is not a PKCS#7 structure");
	}
	if (rv == CS_OK)
		rv = certs_of(p7, out, err);
	if (rv == CS_OK)
		order(out, leaf_first);
	else
		cs_cert_list_clear(out);
	PKCS7_free(p7);
	cs_bytes_clear(&der);
	return rv;
}

void est_csrattrs_clear(est_csrattrs *a)
{
	free(a->items);
	memset(a, 0, sizeof(*a));
}

static void oid_text(const ASN1_OBJECT *obj, char *out, size_t n, char *name, size_t nn)
{
	int nid = OBJ_obj2nid(obj);

	OBJ_obj2txt(out, (int)n, obj, 1);
	if (name != NULL)
		snprintf(name, nn, "%s", nid != NID_undef ? OBJ_nid2ln(nid) : out);
}

/* Attribute ::= SEQUENCE { type OID, values SET OF ANY }: the OID values. */
static cs_rv attribute_entry(const unsigned char *p, long len, est_csrattr *e, cs_err *err)
{
	X509_ATTRIBUTE *attr = d2i_X509_ATTRIBUTE(NULL, &p, len);
	int i;

	if (attr == NULL)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "a csrattrs attribute is malformed");
	oid_text(X509_ATTRIBUTE_get0_object(attr), e->oid, sizeof(e->oid), e->name,
		 sizeof(e->name));
	for (i = 0; i < X509_ATTRIBUTE_count(attr) && e->n_values < 4; i++) {
		ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(attr, i);

		if (t != NULL && t->type == V_ASN1_OBJECT)
			oid_text(t->value.object, e->values[e->n_values++], sizeof(e->values[0]),
				 NULL, 0);
	}
	X509_ATTRIBUTE_free(attr);
	return CS_OK;
}

static cs_rv one_entry(const unsigned char **pp, long avail, est_csrattr *e, cs_err *err)
{
	const unsigned char *start = *pp, *p = *pp;
	long len;
	int tag, xclass, ret;
	ASN1_OBJECT *obj;

	ret = ASN1_get_object(&p, &len, &tag, &xclass, avail);
	if ((ret & 0x80) || xclass != V_ASN1_UNIVERSAL)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "csrattrs entry is not DER");
	*pp = p + len;
	if (tag == V_ASN1_OBJECT) {
		p = start;
		obj = d2i_ASN1_OBJECT(NULL, &p, (long)(*pp - start));
		if (obj == NULL)
			return cs_err_set(err, CS_ERR_BAD_INPUT, "csrattrs holds a bad OID");
		oid_text(obj, e->oid, sizeof(e->oid), e->name, sizeof(e->name));
		ASN1_OBJECT_free(obj);
		return CS_OK;
	}
	if (tag == V_ASN1_SEQUENCE && (ret & V_ASN1_CONSTRUCTED))
		return attribute_entry(start, (long)(*pp - start), e, err);
	return cs_err_set(err, CS_ERR_BAD_INPUT, "csrattrs entry is neither OID nor attribute");
}

static cs_rv parse_attrs_der(const unsigned char *p, long total, est_csrattrs *out, cs_err *err)
{
	const unsigned char *end;
	long len;
	int tag, xclass, ret;
	est_csrattr *grown;
	cs_rv rv = CS_OK;

	ret = ASN1_get_object(&p, &len, &tag, &xclass, total);
	if ((ret & 0x80) || tag != V_ASN1_SEQUENCE || !(ret & V_ASN1_CONSTRUCTED))
		return cs_err_set(err, CS_ERR_BAD_INPUT, "csrattrs is not a DER SEQUENCE");
	end = p + len;
	while (rv == CS_OK && p < end && out->n < 64) {
		grown = realloc(out->items, (out->n + 1) * sizeof(*grown));
		if (grown == NULL)
			return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		out->items = grown;
		memset(&grown[out->n], 0, sizeof(*grown));
		rv = one_entry(&p, (long)(end - p), &grown[out->n], err);
		out->n += rv == CS_OK;
	}
	return rv;
}

cs_rv est_parse_csrattrs(const unsigned char *body, size_t len, est_csrattrs *out, cs_err *err)
{
	cs_bytes der = {0};
	size_t i;
	cs_rv rv;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < len && isspace(body[i]); i++)
		;
	if (i == len)
		return CS_OK;
	rv = est_base64_decode(body, len, &der, err);
	ERR_set_mark();
	if (rv == CS_OK)
		rv = parse_attrs_der(der.data, (long)der.len, out, err);
	ERR_pop_to_mark();
	if (rv != CS_OK) {
		cs_err_prefix(err, "/csrattrs");
		est_csrattrs_clear(out);
	}
	cs_bytes_clear(&der);
	return rv;
}

long est_parse_retry_after(const char *value, time_t now)
{
	struct tm tm;
	char *end;
	long n;
	time_t when;

	if (value == NULL || *value == '\0')
		return -1;
	n = strtol(value, &end, 10);
	if (end != value && *end == '\0')
		return n >= 0 && n <= 86400 * 30 ? n : -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	when = timegm(&tm);
	return when == (time_t)-1 ? -1 : when > now ? (long)(when - now) : 0;
}
