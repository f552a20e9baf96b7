/*
 * keyref_pem.c - PEM key references: a key file that names an HSM key, as a
 * usage publishes it (key.pem) and export --format keyref writes it.  It names
 * the key by store and thumbprint and touches no token, so it lives with the
 * usages whose contract (usage.h) declares it.
 */
#include "usage.h"
#include "internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

cs_rv cs_keyref_pem(const char *store_dir, const cs_cert *cert, char **out, cs_err *err)
{
	char *body = NULL, *data = NULL, abs[PATH_MAX];
	BIO *bio = NULL;
	long len;
	int blen;
	cs_rv rv = CS_OK;

	*out = NULL;
	if (cert->key_uri == NULL)
		return cs_err_set(err, CS_ERR_KEY, "%s has no private key to refer to", cert->sha1);
	/* Readers resolve the store from the reference wherever they run: the
	 * path must not depend on the writer's working directory. */
	if (realpath(store_dir, abs) != NULL)
		store_dir = abs;
	blen = asprintf(&body, "version=1\nstore=%s\nthumbprint=%s\nuri=%s\n", store_dir,
			cert->sha1, cert->key_uri);
	bio = BIO_new(BIO_s_mem());
	if (blen < 0 || bio == NULL ||
	    !PEM_write_bio(bio, CS_KEYREF_PEM_NAME, "", (unsigned char *)body, blen)) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot write a key reference");
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	*out = strndup(data, (size_t)len);
	if (*out == NULL)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
out:
	BIO_free(bio);
	free(body);
	return rv;
}

void cs_keyref_clear(cs_keyref *ref)
{
	if (ref == NULL)
		return;
	free(ref->store_dir);
	free(ref->uri);
	memset(ref, 0, sizeof(*ref));
}

static cs_rv parse_body(const unsigned char *body, long len, cs_keyref *out, cs_err *err)
{
	char *text = strndup((const char *)body, (size_t)len), *line, *save = NULL;
	bool v1 = false;

	if (text == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "version=1") == 0)
			v1 = true;
		else if (strncmp(line, "store=", 6) == 0 && out->store_dir == NULL)
			out->store_dir = strdup(line + 6);
		else if (strncmp(line, "uri=", 4) == 0 && out->uri == NULL)
			out->uri = strdup(line + 4);
		else if (strncmp(line, "thumbprint=", 11) == 0)
			snprintf(out->thumbprint, sizeof(out->thumbprint), "%s", line + 11);
	}
	free(text);
	if (!v1 || out->store_dir == NULL || strlen(out->thumbprint) != 40) {
		cs_keyref_clear(out);
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "key reference lacks version=1, store= or thumbprint=");
	}
	return CS_OK;
}

cs_rv cs_keyref_parse(const unsigned char *data, size_t len, cs_keyref *out, cs_err *err)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	char *name = NULL, *header = NULL;
	unsigned char *body = NULL;
	long blen = 0;
	bool found = false;
	cs_rv rv = CS_OK;

	memset(out, 0, sizeof(*out));
	if (bio == NULL)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	/* The body alone, as OpenSSL's PEM-to-DER step hands it on. */
	if (len > 10 && memcmp(data, "version=1\n", 10) == 0) {
		BIO_free(bio);
		return parse_body(data, (long)len, out, err);
	}
	while (!found && PEM_read_bio(bio, &name, &header, &body, &blen)) {
		found = strcmp(name, CS_KEYREF_PEM_NAME) == 0;
		if (found)
			rv = parse_body(body, blen, out, err);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(body);
	}
	ERR_clear_error();
	BIO_free(bio);
	if (!found)
		return cs_err_set(err, CS_ERR_BAD_INPUT, "no " CS_KEYREF_PEM_NAME " block");
	return rv;
}
