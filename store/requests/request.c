/*
 * request.c - a request spec → a signed PKCS#10 request.
 */
#include "request.h"
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

void cs_request_spec_clear(cs_request_spec *spec)
{
	size_t i;

	if (spec == NULL)
		return;
	free(spec->subject);
	free(spec->cn);
	free(spec->org);
	free(spec->ou);
	free(spec->country);
	free(spec->state);
	free(spec->city);
	free(spec->email);
	for (i = 0; i < spec->n_sans; i++)
		free(spec->sans[i]);
	free(spec->key);
	free(spec->hash);
	free(spec->template_name);
	free(spec->template_oid);
	free(spec->friendly_name);
	for (i = 0; i < spec->n_ekus; i++)
		free(spec->ekus[i]);
	if (spec->challenge_password != NULL)
		OPENSSL_cleanse(spec->challenge_password, strlen(spec->challenge_password));
	free(spec->challenge_password);
	memset(spec, 0, sizeof(*spec));
}

cs_rv cs_request_spec_set(char **field, const char *value, cs_err *err)
{
	char *copy = NULL;

	if (value != NULL && (copy = strdup(value)) == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	free(*field);
	*field = copy;
	return CS_OK;
}

static const char *const san_kinds[] = {"dns:", "ip:", "email:", "uri:"};

cs_rv cs_request_spec_add_san(cs_request_spec *spec, const char *san, cs_err *err)
{
	size_t i, plen;

	if (spec->n_sans >= CS_REQUEST_MAX_SANS)
		return cs_err_set(err, CS_ERR_USAGE, "at most %d subject alternative names",
				  CS_REQUEST_MAX_SANS);
	for (i = 0; i < sizeof(san_kinds) / sizeof(san_kinds[0]); i++) {
		plen = strlen(san_kinds[i]);
		if (strncasecmp(san, san_kinds[i], plen) == 0 && san[plen] != '\0' &&
		    strchr(san, ',') == NULL)
			return cs_request_spec_set(&spec->sans[spec->n_sans++], san, err);
	}
	return cs_err_set(err, CS_ERR_USAGE,
			  "bad subject alternative name '%s' (use dns:NAME, ip:ADDRESS, "
			  "email:ADDRESS or uri:URI)",
			  san);
}

/* Windows writes S= for the state and E= for e-mail. */
static const char *attribute_name(const char *key)
{
	if (strcasecmp(key, "S") == 0)
		return "ST";
	if (strcasecmp(key, "E") == 0)
		return "emailAddress";
	return key;
}

static cs_rv add_rdn(X509_NAME *name, const char *key, const char *value, cs_err *err)
{
	const char *field = attribute_name(key);

	if (OBJ_txt2nid(field) == NID_undef)
		return cs_err_set(err, CS_ERR_USAGE, "unknown subject attribute '%s'", key);
	/* X.520 countryName is a PrintableString of exactly two letters. */
	if (OBJ_txt2nid(field) == NID_countryName &&
	    (strlen(value) != 2 || !isalpha((unsigned char)value[0]) ||
	     !isalpha((unsigned char)value[1])))
		return cs_err_set(err, CS_ERR_USAGE,
				  "country %s=\"%s\": C is the two-letter ISO 3166 code "
				  "(US, GB, DE, ...)",
				  key, value);
	if (!X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, (const unsigned char *)value,
					-1, -1, 0)) {
		ERR_clear_error();
		return cs_err_set(err, CS_ERR_USAGE, "subject attribute %s=\"%s\" is not allowed",
				  key, value);
	}
	return CS_OK;
}

/*
 * Splits "CN=a, O=b\, Inc" (',' separated, '\' escapes) or "/CN=a/O=b"
 * ('/' separated) in written order.
 */
static cs_rv parse_dn(const char *text, X509_NAME *name, cs_err *err)
{
	char sep = text[0] == '/' ? '/' : ',';
	char *buf = malloc(strlen(text) + 1), *w, *eq;
	const char *r = text[0] == '/' ? text + 1 : text;
	cs_rv rv = CS_OK;

	if (buf == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	while (rv == CS_OK && *r != '\0') {
		for (w = buf; *r != '\0' && *r != sep; r++) {
			if (*r == '\\' && r[1] != '\0')
				r++;
			*w++ = *r;
		}
		*w = '\0';
		if (*r == sep)
			r++;
		eq = strchr(buf, '=');
		if (eq == NULL) {
			rv = cs_err_set(err, CS_ERR_USAGE, "subject part '%s' has no '='",
					cs_str_trim(buf));
			break;
		}
		*eq = '\0';
		rv = add_rdn(name, cs_str_trim(buf), cs_str_trim(eq + 1), err);
	}
	free(buf);
	return rv;
}

static cs_rv subject_from_fields(const cs_request_spec *spec, X509_NAME *name, cs_err *err)
{
	const struct {
		const char *key;
		const char *value;
	} parts[] = {{"C", spec->country},
		     {"ST", spec->state},
		     {"L", spec->city},
		     {"O", spec->org},
		     {"OU", spec->ou},
		     {"CN", spec->cn},
		     {"emailAddress", spec->email}};
	size_t i;
	cs_rv rv = CS_OK;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]) && rv == CS_OK; i++)
		if (parts[i].value != NULL && *parts[i].value != '\0')
			rv = add_rdn(name, parts[i].key, parts[i].value, err);
	return rv;
}

cs_rv cs_request_subject(const cs_request_spec *spec, X509_NAME **out, cs_err *err)
{
	X509_NAME *name = X509_NAME_new();
	cs_rv rv;

	*out = NULL;
	if (name == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (spec->subject != NULL && *spec->subject != '\0')
		rv = parse_dn(spec->subject, name, err);
	else
		rv = subject_from_fields(spec, name, err);
	if (rv == CS_OK && X509_NAME_entry_count(name) == 0)
		rv = cs_err_set(err, CS_ERR_USAGE,
				"the request needs a subject (--subject or --cn)");
	if (rv != CS_OK) {
		X509_NAME_free(name);
		return rv;
	}
	*out = name;
	return CS_OK;
}

static char *subject_cn(const cs_request_spec *spec)
{
	X509_NAME *name = NULL;
	char buf[256] = "";
	char *out;

	if (spec->cn != NULL)
		return strdup(spec->cn);
	if (cs_request_subject(spec, &name, NULL) != CS_OK)
		return strdup("certificate");
	if (X509_NAME_get_text_by_NID(name, NID_commonName, buf, sizeof(buf)) <= 0)
		snprintf(buf, sizeof(buf), "certificate");
	X509_NAME_free(name);
	out = strdup(buf);
	return out;
}

char *cs_request_friendly_name(const cs_request_spec *spec, time_t now)
{
	char *cn, *out = NULL;
	struct tm tm;

	if (spec->friendly_name != NULL)
		return strdup(spec->friendly_name);
	cn = subject_cn(spec);
	gmtime_r(&now, &tm);
	if (cn != NULL && asprintf(&out, "%s %04d-%02d-%02d", cn, tm.tm_year + 1900, tm.tm_mon + 1,
				   tm.tm_mday) < 0)
		out = NULL;
	free(cn);
	return out;
}
