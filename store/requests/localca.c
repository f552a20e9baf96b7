/*
 * localca.c - the CA kept in the store: creating it and issuing with it.
 */
#include "localca.h"
#include "db_localca.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define BACKDATE_SECONDS 300

cs_rv cs_issue_profile_parse(const char *s, cs_issue_profile *out, cs_err *err)
{
	if (s == NULL || strcasecmp(s, "server") == 0)
		*out = CS_ISSUE_SERVER;
	else if (strcasecmp(s, "client") == 0)
		*out = CS_ISSUE_CLIENT;
	else if (strcasecmp(s, "both") == 0 || strcasecmp(s, "server,client") == 0)
		*out = CS_ISSUE_BOTH;
	else
		return cs_err_set(err, CS_ERR_USAGE, "unknown profile '%s' (server, client, both)",
				  s);
	return CS_OK;
}

static bool valid_name(const char *name)
{
	const char *p;

	if (name == NULL || *name == '\0' || strlen(name) > 64)
		return false;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

static cs_rv add_ext(X509 *x, X509 *issuer, int nid, const char *value, cs_err *err)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = ext != NULL && X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ok) {
		ERR_clear_error();
		return cs_err_set(err, CS_ERR_INTERNAL, "cannot add extension %s = %s",
				  OBJ_nid2sn(nid), value);
	}
	return CS_OK;
}

static cs_rv set_serial_and_validity(X509 *x, int64_t not_after_cap, int days, cs_err *err)
{
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	time_t now = cs_now();
	int64_t end = (int64_t)now + (int64_t)days * 86400;
	int ok;

	if (RAND_bytes(serial, sizeof(serial)) != 1)
		return cs_err_set(err, CS_ERR_INTERNAL, "no randomness for a serial number");
	serial[0] = (serial[0] & 0x7f) | 0x40; /* positive, and always 16 bytes long */
	if (not_after_cap > 0 && end > not_after_cap)
		end = not_after_cap;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
	     X509_time_adj_ex(X509_getm_notBefore(x), 0, -BACKDATE_SECONDS, &now) != NULL &&
	     X509_time_adj_ex(X509_getm_notAfter(x), 0, (long)(end - (int64_t)now), &now) != NULL;
	BN_free(bn);
	return ok ? CS_OK : cs_err_set(err, CS_ERR_INTERNAL, "cannot set serial or validity");
}

static cs_rv sign(X509 *x, EVP_PKEY *key, const EVP_MD *md, cs_err *err)
{
	if (X509_sign(x, key, md) <= 0) {
		cs_err_set(err, CS_ERR_KEY, "signing the certificate with the CA key failed");
		cs_err_add_openssl(err);
		return CS_ERR_KEY;
	}
	return CS_OK;
}

static cs_rv make_ca_cert(const char *cn, EVP_PKEY *key, int days, X509 **out, cs_err *err)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	cs_rv rv = CS_ERR_INTERNAL;

	*out = NULL;
	if (x == NULL || name == NULL || !X509_set_version(x, 2) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    !X509_set_pubkey(x, key)) {
		cs_err_set(err, CS_ERR_INTERNAL, "cannot build the CA certificate");
		goto out;
	}
	rv = set_serial_and_validity(x, 0, days, err);
	if (rv == CS_OK)
		rv = add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE", err);
	if (rv == CS_OK)
		rv = add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature",
			     err);
	if (rv == CS_OK)
		rv = add_ext(x, x, NID_subject_key_identifier, "hash", err);
	if (rv == CS_OK)
		rv = sign(x, key, EVP_sha256(), err);
out:
	X509_NAME_free(name);
	if (rv != CS_OK) {
		X509_free(x);
		return rv;
	}
	*out = x;
	return CS_OK;
}

cs_rv cs_local_ca_create(cs_store *store, const char *name, const char *subject_cn, EVP_PKEY *key,
			 const char *key_uri, int days, cs_local_ca **out, cs_err *err)
{
	char cn[128];
	X509 *x = NULL;
	cs_local_ca *ca = NULL;
	cs_rv rv;

	*out = NULL;
	if (!valid_name(name))
		return cs_err_set(err, CS_ERR_USAGE, "CA name '%s' must be 1-64 of [A-Za-z0-9._-]",
				  name ? name : "");
	if (cs_local_ca_get(store, name, &ca, NULL) == CS_OK) {
		cs_local_ca_free(ca);
		return cs_err_set(err, CS_ERR_DUPLICATE, "a local CA named '%s' already exists",
				  name);
	}
	snprintf(cn, sizeof(cn), "%s", subject_cn ? subject_cn : "");
	if (subject_cn == NULL)
		snprintf(cn, sizeof(cn), "certstore %s CA", name);
	rv = make_ca_cert(cn, key, days > 0 ? days : 3650, &x, err);
	if (rv != CS_OK)
		return rv;
	ca = calloc(1, sizeof(*ca));
	if (ca == NULL || (ca->name = strdup(name)) == NULL ||
	    (ca->key_uri = strdup(key_uri)) == NULL) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
		goto out;
	}
	rv = cs_cert_from_x509(x, &ca->cert, err);
	if (rv == CS_OK)
		rv = cs_db_local_ca_insert(store, ca, err);
out:
	X509_free(x);
	if (rv != CS_OK) {
		cs_local_ca_free(ca);
		return rv;
	}
	*out = ca;
	return CS_OK;
}

cs_rv cs_local_ca_get(cs_store *store, const char *name, cs_local_ca **out, cs_err *err)
{
	return cs_db_local_ca_select(store, name, out, err);
}

cs_rv cs_local_ca_names(cs_store *store, char ***out, cs_err *err)
{
	return cs_db_local_ca_names(store, out, err);
}

static cs_rv copy_san(X509_REQ *req, X509 *x, cs_err *err)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	int i = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
	cs_rv rv = CS_OK;

	if (i >= 0 && !X509_add_ext(x, sk_X509_EXTENSION_value(exts, i), -1))
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot copy subjectAltName");
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rv;
}

/*
 * The hash the request was signed with is the one its requester asked for
 * (--hash, INF HashAlgorithm): the certificate is signed with it too, as a
 * CA honouring the request does.  Anything but SHA-2 gets SHA-256.
 */
static const EVP_MD *requested_digest(X509_REQ *req)
{
	int md_nid = NID_undef, pk_nid = NID_undef;

	if (!OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req), &md_nid, &pk_nid))
		return EVP_sha256();
	switch (md_nid) {
	case NID_sha224:
		return EVP_sha224();
	case NID_sha384:
		return EVP_sha384();
	case NID_sha512:
		return EVP_sha512();
	default:
		return EVP_sha256();
	}
}

/* Copies the request's extension nid into x; *copied says whether it had one. */
static cs_rv copy_req_ext(X509_REQ *req, X509 *x, int nid, bool *copied, cs_err *err)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	int i = X509v3_get_ext_by_NID(exts, nid, -1);
	cs_rv rv = CS_OK;

	*copied = i >= 0;
	if (i >= 0 && !X509_add_ext(x, sk_X509_EXTENSION_value(exts, i), -1))
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot copy %s", OBJ_nid2sn(nid));
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rv;
}

/* The key usage and EKU the request asked for (certreq INF KeyUsage,
 * [EnhancedKeyUsageExtension]) are honoured; the profile's otherwise. */
static cs_rv end_entity_exts(X509 *x, X509 *issuer, X509_REQ *req, cs_issue_profile profile,
			     cs_err *err)
{
	static const char *const eku[] = {"", "serverAuth", "clientAuth", "serverAuth,clientAuth"};
	bool rsa = EVP_PKEY_is_a(X509_get0_pubkey(x), "RSA"), copied = false;
	cs_rv rv;

	rv = add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE", err);
	if (rv == CS_OK)
		rv = copy_req_ext(req, x, NID_key_usage, &copied, err);
	if (rv == CS_OK && !copied)
		rv = add_ext(x, issuer, NID_key_usage,
			     rsa ? "critical,digitalSignature,keyEncipherment"
				 : "critical,digitalSignature",
			     err);
	if (rv == CS_OK)
		rv = copy_req_ext(req, x, NID_ext_key_usage, &copied, err);
	if (rv == CS_OK && !copied)
		rv = add_ext(x, issuer, NID_ext_key_usage, eku[profile], err);
	if (rv == CS_OK)
		rv = add_ext(x, issuer, NID_subject_key_identifier, "hash", err);
	if (rv == CS_OK)
		rv = add_ext(x, issuer, NID_authority_key_identifier, "keyid:always", err);
	return rv;
}

cs_rv cs_local_ca_issue(cs_store *store, const cs_local_ca *ca, EVP_PKEY *ca_key, X509_REQ *req,
			cs_issue_profile profile, int days, X509 **out, cs_err *err)
{
	/* Work on the request as encoded: its key is then an ordinary public key,
	 * whatever provider made the original (ours cannot verify). */
	X509_REQ *copy = X509_REQ_dup(req);
	EVP_PKEY *pub = copy != NULL ? X509_REQ_get0_pubkey(copy) : NULL;
	X509 *x = X509_new();
	cs_cert *issued = NULL;
	cs_rv rv;

	*out = NULL;
	if (pub == NULL || X509_REQ_verify(copy, pub) != 1) {
		ERR_clear_error();
		X509_free(x);
		X509_REQ_free(copy);
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "the request's signature does not verify with its own key");
	}
	if (x == NULL || !X509_set_version(x, 2) ||
	    !X509_set_subject_name(x, X509_REQ_get_subject_name(copy)) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert->x509)) ||
	    !X509_set_pubkey(x, pub)) {
		rv = cs_err_set(err, CS_ERR_INTERNAL, "cannot build the certificate");
		goto out;
	}
	rv = set_serial_and_validity(x, ca->cert->not_after, days > 0 ? days : 397, err);
	if (rv == CS_OK)
		rv = copy_san(copy, x, err);
	if (rv == CS_OK)
		rv = end_entity_exts(x, ca->cert->x509, copy, profile, err);
	if (rv == CS_OK)
		rv = sign(x, ca_key, requested_digest(copy), err);
	if (rv == CS_OK)
		rv = cs_cert_from_x509(x, &issued, err);
	if (rv == CS_OK)
		rv = cs_db_local_ca_record_issued(store, ca->name, issued, err);
out:
	cs_cert_free(issued);
	X509_REQ_free(copy);
	if (rv != CS_OK) {
		X509_free(x);
		return rv;
	}
	*out = x;
	return CS_OK;
}
