/*
 * uri.c - parsing certstore: URIs.
 *
 *   certstore:My                          every certificate in My
 *   certstore:Trusted%20Root              aliases, any case, percent-encoded
 *   certstore:My?thumbprint=AB12...       SHA-1 or SHA-256, colons allowed
 *   certstore:My?friendly-name=Web%20TLS
 *   certstore:?usage=Default              a selector may stand without a store
 */
#include "provider.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCHEME "certstore:"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes in[0..len) into a new string; what names the part for errors. */
static cs_rv decode(const char *in, size_t len, const char *what, char **out, cs_err *err)
{
	char *s = malloc(len + 1), *o = s;
	size_t i;
	int hi, lo;

	if (s == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	for (i = 0; i < len; i++) {
		if (in[i] != '%') {
			*o++ = in[i];
			continue;
		}
		hi = i + 1 < len ? hexval((unsigned char)in[i + 1]) : -1;
		lo = i + 2 < len ? hexval((unsigned char)in[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(s);
			return cs_err_set(err, CS_ERR_BAD_INPUT,
					  "bad percent-encoding in the %s of the URI", what);
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	*out = s;
	return CS_OK;
}

/* Upper-case hex without colons or spaces; 40 (SHA-1) or 64 (SHA-256) digits. */
static cs_rv normalise_thumbprint(char *tp, cs_err *err)
{
	char *r, *w = tp;
	size_t n;

	for (r = tp; *r != '\0'; r++) {
		if (*r == ':' || *r == ' ')
			continue;
		if (hexval((unsigned char)*r) < 0)
			return cs_err_set(err, CS_ERR_BAD_INPUT,
					  "thumbprint '%s' is not hexadecimal", tp);
		*w++ = (char)toupper((unsigned char)*r);
	}
	*w = '\0';
	n = strlen(tp);
	if (n != 40 && n != 64)
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "a thumbprint has 40 (SHA-1) or 64 (SHA-256) hex digits, not %zu",
				  n);
	return CS_OK;
}

/* Usage names are file names under usages/: keep them to the documented set. */
static cs_rv check_usage_name(const char *name, cs_err *err)
{
	const char *p;

	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "usage name '%s' is not valid", name);
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return cs_err_set(err, CS_ERR_BAD_INPUT,
					  "usage name '%s' is not valid (letters, digits, '.', "
					  "'_' and '-' only)",
					  name);
	return CS_OK;
}

static cs_rv parse_selector(const char *q, csp_uri *out, cs_err *err)
{
	const char *eq = strchr(q, '=');
	size_t klen;
	cs_rv rv;

	if (eq == NULL)
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "selector '%s' has no '=' (use thumbprint=, friendly-name= or "
				  "usage=)",
				  q);
	if (strpbrk(q, "&;") != NULL)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "a certstore URI takes one selector");
	klen = (size_t)(eq - q);
	if (klen == 10 && strncasecmp(q, "thumbprint", klen) == 0)
		out->sel = CSP_SEL_THUMBPRINT;
	else if (klen == 13 && strncasecmp(q, "friendly-name", klen) == 0)
		out->sel = CSP_SEL_FRIENDLY_NAME;
	else if (klen == 5 && strncasecmp(q, "usage", klen) == 0)
		out->sel = CSP_SEL_USAGE;
	else if (klen == 3 && strncasecmp(q, "key", klen) == 0)
		out->sel = CSP_SEL_KEY;
	else
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "unknown selector '%.*s' (use thumbprint=, friendly-name= or "
				  "usage=)",
				  (int)klen, q);
	rv = decode(eq + 1, strlen(eq + 1), "selector", &out->value, err);
	if (rv != CS_OK)
		return rv;
	if (*out->value == '\0')
		return cs_err_set(err, CS_ERR_BAD_INPUT, "selector '%.*s' has an empty value",
				  (int)klen, q);
	if (out->sel == CSP_SEL_THUMBPRINT)
		return normalise_thumbprint(out->value, err);
	if (out->sel == CSP_SEL_USAGE)
		return check_usage_name(out->value, err);
	if (out->sel == CSP_SEL_KEY && strncmp(out->value, "pkcs11:", 7) != 0)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "key= takes a pkcs11: URI");
	return CS_OK;
}

static cs_rv parse_store(const char *path, size_t len, csp_uri *out, cs_err *err)
{
	char *name = NULL;
	cs_rv rv;

	if (len == 0) {
		if (out->sel != CSP_SEL_NONE)
			return CS_OK;
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "name a store: certstore:My, certstore:Root, certstore:CA or "
				  "certstore:Disallowed");
	}
	if (len >= 2 && path[0] == '/' && path[1] == '/')
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "certstore URIs have no authority: write certstore:NAME, not "
				  "certstore://NAME");
	rv = decode(path, len, "store name", &name, err);
	if (rv == CS_OK)
		rv = cs_store_id_parse(name, &out->store, err);
	free(name);
	return rv;
}

cs_rv csp_uri_parse(const char *uri, csp_uri *out, cs_err *err)
{
	const char *path, *q;
	cs_rv rv = CS_OK;

	memset(out, 0, sizeof(*out));
	if (uri == NULL || strncasecmp(uri, SCHEME, strlen(SCHEME)) != 0)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "'%s' is not a certstore: URI",
				  uri != NULL ? uri : "(null)");
	path = uri + strlen(SCHEME);
	q = strchr(path, '?');
	if (q != NULL)
		rv = parse_selector(q + 1, out, err);
	if (rv == CS_OK)
		rv = parse_store(path, q != NULL ? (size_t)(q - path) : strlen(path), out, err);
	if (rv != CS_OK) {
		cs_err_prefix(err, "%s", uri);
		csp_uri_clear(out);
	}
	return rv;
}

void csp_uri_clear(csp_uri *uri)
{
	free(uri->value);
	memset(uri, 0, sizeof(*uri));
}
