/*
 * request_inf.c - the certreq INF subset: the request file Windows admins
 * already keep, read into a cs_request_spec.
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

typedef struct inf_state {
	const char *path;
	int line;
	char section[64];
	bool in_san;   /* after 2.5.29.17 = "{text}", _continue_ lines add SANs */
	char *key_alg; /* KeyAlgorithm and KeyLength arrive in any order */
	long key_len;
} inf_state;

/* cs_str_trim, then one pair of quotes around the value dropped. */
static char *strip(char *s)
{
	char *end;

	s = cs_str_trim(s);
	end = s + strlen(s);
	if (end - s >= 2 && *s == '"' && end[-1] == '"') {
		end[-1] = '\0';
		s++;
	}
	return s;
}

static cs_rv inf_error(const inf_state *st, cs_err *err, const char *what)
{
	return cs_err_set(err, CS_ERR_BAD_INPUT, "%s:%d: %s", st->path, st->line, what);
}

static bool truthy(const char *v)
{
	return strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0;
}

/* "dns=a&dns=b&" → --san dns:a --san dns:b */
static cs_rv add_san_text(inf_state *st, cs_request_spec *spec, char *text, cs_err *err)
{
	static const struct {
		const char *inf;
		const char *ours;
	} kinds[] = {{"dns", "dns"}, {"ipaddress", "ip"}, {"email", "email"}, {"url", "uri"}};
	char *save = NULL, *part, *eq, san[600];
	size_t i;
	cs_rv rv = CS_OK;

	for (part = strtok_r(text, "&", &save); part && rv == CS_OK;
	     part = strtok_r(NULL, "&", &save)) {
		part = strip(part);
		if (*part == '\0')
			continue;
		eq = strchr(part, '=');
		if (eq == NULL)
			return inf_error(st, err, "alternative name without '=' (e.g. dns=host&)");
		*eq = '\0';
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strcasecmp(strip(part), kinds[i].inf) == 0)
				break;
		if (i == sizeof(kinds) / sizeof(kinds[0]))
			return inf_error(st, err,
					 "unknown alternative name kind (dns, ipaddress, "
					 "email, url)");
		snprintf(san, sizeof(san), "%s:%s", kinds[i].ours, strip(eq + 1));
		rv = cs_request_spec_add_san(spec, san, err);
		if (rv != CS_OK)
			cs_err_prefix(err, "%s:%d", st->path, st->line);
	}
	return rv;
}

/* KeyUsage = 0xa0, or "CERT_DIGITAL_SIGNATURE_KEY_USAGE | CERT_KEY_ENCIPHERMENT_KEY_USAGE". */
static cs_rv key_usage_from_inf(inf_state *st, cs_request_spec *spec, const char *value,
				cs_err *err)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{"CERT_DIGITAL_SIGNATURE_KEY_USAGE", 0x80},
		{"CERT_NON_REPUDIATION_KEY_USAGE", 0x40},
		{"CERT_KEY_ENCIPHERMENT_KEY_USAGE", 0x20},
		{"CERT_DATA_ENCIPHERMENT_KEY_USAGE", 0x10},
		{"CERT_KEY_AGREEMENT_KEY_USAGE", 0x08},
		{"CERT_KEY_CERT_SIGN_KEY_USAGE", 0x04},
		{"CERT_CRL_SIGN_KEY_USAGE", 0x02},
		{"CERT_OFFLINE_CRL_SIGN_KEY_USAGE", 0x02},
	};
	char *copy = strdup(value), *save = NULL, *part, *end;
	unsigned long n;
	unsigned bits = 0;
	size_t i;
	cs_rv rv = CS_OK;

	if (copy == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	for (part = strtok_r(copy, "|", &save); part != NULL && rv == CS_OK;
	     part = strtok_r(NULL, "|", &save)) {
		part = strip(part);
		if (*part == '"')
			part++;
		if (*part != '\0' && part[strlen(part) - 1] == '"')
			part[strlen(part) - 1] = '\0';
		part = strip(part);
		n = strtoul(part, &end, 0);

		if (*part != '\0' && *end == '\0' && n > 0 && n <= 0xff) {
			bits |= (unsigned)n;
			continue;
		}
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcasecmp(part, names[i].name) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			rv = inf_error(st, err,
				       "KeyUsage: unknown value (use 0xa0 or "
				       "CERT_..._KEY_USAGE names joined by '|')");
		else
			bits |= names[i].bit;
	}
	free(copy);
	if (rv == CS_OK)
		spec->key_usage = bits;
	return rv;
}

static cs_rv eku_from_inf(inf_state *st, cs_request_spec *spec, const char *key, const char *value,
			  cs_err *err)
{
	char oid[128];
	ASN1_OBJECT *obj;

	if (strcasecmp(key, "OID") != 0)
		return inf_error(st, err, "[EnhancedKeyUsageExtension] takes OID = lines");
	snprintf(oid, sizeof(oid), "%s", value[0] == '"' ? value + 1 : value);
	if (oid[0] != '\0' && oid[strlen(oid) - 1] == '"')
		oid[strlen(oid) - 1] = '\0';
	obj = OBJ_txt2obj(oid, 1);
	ASN1_OBJECT_free(obj);
	if (obj == NULL) {
		ERR_clear_error();
		return inf_error(st, err, "[EnhancedKeyUsageExtension]: not a dotted OID");
	}
	if (spec->n_ekus >= CS_REQUEST_MAX_EKUS)
		return inf_error(st, err, "too many enhanced key usages");
	return cs_request_spec_set(&spec->ekus[spec->n_ekus++], oid, err);
}

static cs_rv new_request_key(inf_state *st, cs_request_spec *spec, const char *key,
			     const char *value, cs_err *err)
{
	if (strcasecmp(key, "Subject") == 0)
		return cs_request_spec_set(&spec->subject, value, err);
	if (strcasecmp(key, "FriendlyName") == 0)
		return cs_request_spec_set(&spec->friendly_name, value, err);
	if (strcasecmp(key, "HashAlgorithm") == 0)
		return cs_request_spec_set(&spec->hash, value, err);
	if (strcasecmp(key, "Exportable") == 0) {
		spec->exportable = truthy(value);
		return CS_OK;
	}
	if (strcasecmp(key, "KeyAlgorithm") == 0) {
		free(st->key_alg);
		st->key_alg = strdup(value);
		return CS_OK;
	}
	if (strcasecmp(key, "KeyLength") == 0) {
		char *end;

		st->key_len = strtol(value, &end, 10);
		if (*end != '\0' || st->key_len <= 0)
			return inf_error(st, err, "KeyLength is not a number");
	}
	if (strcasecmp(key, "KeyUsage") == 0)
		return key_usage_from_inf(st, spec, value, err);
	return CS_OK; /* MachineKeySet, ProviderName, ...: meaningless for a token */
}

static cs_rv handle_line(inf_state *st, cs_request_spec *spec, char *line, cs_err *err)
{
	char *eq, *key, *value;

	line = strip(line);
	if (*line == '\0' || *line == ';' || *line == '#')
		return CS_OK;
	if (*line == '[') {
		char *close = strchr(line, ']');

		if (close == NULL)
			return inf_error(st, err, "section header without ']'");
		*close = '\0';
		snprintf(st->section, sizeof(st->section), "%s", strip(line + 1));
		st->in_san = false;
		return CS_OK;
	}
	eq = strchr(line, '=');
	if (eq == NULL)
		return inf_error(st, err, "expected KEY = VALUE");
	*eq = '\0';
	key = strip(line);
	value = strip(eq + 1);
	if (strcasecmp(st->section, "NewRequest") == 0)
		return new_request_key(st, spec, key, value, err);
	if (strcasecmp(st->section, "EnhancedKeyUsageExtension") == 0)
		return eku_from_inf(st, spec, key, value, err);
	if (strcasecmp(st->section, "RequestAttributes") == 0 &&
	    strcasecmp(key, "CertificateTemplate") == 0)
		return cs_request_spec_set(&spec->template_name, value, err);
	if (strcasecmp(st->section, "Extensions") == 0) {
		if (strcmp(key, "2.5.29.17") == 0) {
			if (strncasecmp(value, "{text}", 6) != 0)
				return inf_error(st, err, "2.5.29.17 must be \"{text}...\"");
			st->in_san = true;
			return add_san_text(st, spec, value + 6, err);
		}
		if (strcasecmp(key, "_continue_") == 0) {
			if (!st->in_san)
				return inf_error(st, err, "_continue_ outside 2.5.29.17");
			return add_san_text(st, spec, value, err);
		}
		return inf_error(st, err,
				 "only the 2.5.29.17 (alternative names) extension is "
				 "supported here");
	}
	return CS_OK;
}

static cs_rv key_from_inf(inf_state *st, cs_request_spec *spec, cs_err *err)
{
	char key[32];
	const char *alg = st->key_alg ? st->key_alg : "RSA";

	if (st->key_alg == NULL && st->key_len == 0)
		return CS_OK;
	if (strcasecmp(alg, "RSA") == 0)
		snprintf(key, sizeof(key), "rsa:%ld", st->key_len ? st->key_len : 2048);
	else if (strcasecmp(alg, "ECDSA_P256") == 0 || strcasecmp(alg, "ECDH_P256") == 0)
		snprintf(key, sizeof(key), "ec:p256");
	else if (strcasecmp(alg, "ECDSA_P384") == 0 || strcasecmp(alg, "ECDH_P384") == 0)
		snprintf(key, sizeof(key), "ec:p384");
	else if (strcasecmp(alg, "ECDSA") == 0 || strcasecmp(alg, "ECDH") == 0)
		snprintf(key, sizeof(key), "ec:p%ld", st->key_len ? st->key_len : 256);
	else
		return cs_err_set(
			err, CS_ERR_BAD_INPUT,
			"%s: KeyAlgorithm %s is not supported (RSA, ECDSA_P256, ECDSA_P384)",
			st->path, alg);
	return cs_request_spec_set(&spec->key, key, err);
}

/* certreq accepts UTF-16LE files (what Notepad saves as "Unicode"); we read them as UTF-8. */
static char *text_from_bytes(const cs_bytes *data)
{
	const unsigned char *p = data->data;
	char *text, *w;
	size_t i;

	if (data->len >= 2 && p[0] == 0xff && p[1] == 0xfe) {
		w = text = calloc(1, data->len * 2 + 1);
		for (i = 2; text != NULL && i + 1 < data->len; i += 2) {
			unsigned c = p[i] | (unsigned)p[i + 1] << 8;

			if (c < 0x80) {
				*w++ = (char)c;
			} else if (c < 0x800) {
				*w++ = (char)(0xc0 | c >> 6);
				*w++ = (char)(0x80 | (c & 0x3f));
			} else {
				*w++ = (char)(0xe0 | c >> 12);
				*w++ = (char)(0x80 | ((c >> 6) & 0x3f));
				*w++ = (char)(0x80 | (c & 0x3f));
			}
		}
		return text;
	}
	if (data->len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		return strndup((const char *)p + 3, data->len - 3);
	return strndup((const char *)p, data->len);
}

cs_rv cs_request_spec_read_inf(const char *path, cs_request_spec *spec, cs_err *err)
{
	inf_state st = {.path = path};
	cs_bytes data = {0};
	char *text, *line, *next;
	cs_rv rv;

	rv = cs_read_file(path, &data, err);
	if (rv != CS_OK)
		return rv;
	text = text_from_bytes(&data);
	if (text == NULL) {
		cs_bytes_clear(&data);
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	for (line = text; rv == CS_OK && line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		st.line++;
		rv = handle_line(&st, spec, line, err);
	}
	if (rv == CS_OK)
		rv = key_from_inf(&st, spec, err);
	free(st.key_alg);
	free(text);
	cs_bytes_clear(&data);
	return rv;
}
