/*
 * keys.c - the life of a key in the token: generate, look up, check,
 * delete (a key from outside comes in through key_import.c).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "keys_internal.h"

static CK_BBOOL ck_true = CK_TRUE, ck_false = CK_FALSE;

#define ATTR(t, v) ((CK_ATTRIBUTE){(t), (void *)&(v), sizeof(v)})
#define ATTR_BUF(t, p, n) ((CK_ATTRIBUTE){(t), (void *)(p), (n)})

/* Sets CKA_ID on the new pair from its public key.  The id is only known
 * once the token has made the key, hence after the fact. */
static cs_rv set_ids(cs_session *s, CK_KEY_TYPE kt, CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv,
		     unsigned char id[20], EVP_PKEY **pub_out, cs_err *err)
{
	CK_ATTRIBUTE a = ATTR_BUF(CKA_ID, id, 20);
	EVP_PKEY *pk = NULL;
	cs_rv rv;
	CK_RV crv;

	rv = cs_public_of_object(s, pub, kt, &pk, err);
	if (rv == CS_OK && pk == NULL)
		rv = cs_err_set(err, CS_ERR_TOKEN, "token '%s' made a key without a public key",
				s->tok->label);
	if (rv == CS_OK)
		rv = cs_key_id_from_public(pk, id, err);
	if (rv != CS_OK)
		goto out;
	crv = s->tok->p11->C_SetAttributeValue(s->h, priv, &a, 1);
	if (crv == CKR_OK)
		crv = s->tok->p11->C_SetAttributeValue(s->h, pub, &a, 1);
	if (crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "setting CKA_ID on a new key");
		goto out;
	}
	if (pub_out != NULL) {
		*pub_out = pk;
		pk = NULL;
	}
out:
	EVP_PKEY_free(pk);
	return rv;
}

cs_rv cs_key_generate(cs_token *tok, const cs_key_spec *spec, const char *label, bool exportable,
		      char **uri_out, EVP_PKEY **pub_out, cs_err *err)
{
	cs_session s = {.write = true}; /* a new key pair: object files */
	CK_BBOOL extractable = exportable ? CK_TRUE : CK_FALSE;
	CK_ULONG bits = spec->bits;
	CK_BYTE e65537[] = {0x01, 0x00, 0x01};
	unsigned char *ecp = NULL;
	size_t ecp_len = 0;
	const char *lbl = label ? label : "";
	CK_ATTRIBUTE pubt[12], privt[14];
	CK_ULONG npub = 0, npriv = 0;
	CK_MECHANISM mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
	unsigned char id[20];
	cs_rv rv;
	CK_RV crv;

	if (uri_out != NULL)
		*uri_out = NULL;
	if (pub_out != NULL)
		*pub_out = NULL;
	pubt[npub++] = ATTR(CKA_TOKEN, ck_true);
	pubt[npub++] = ATTR(CKA_PRIVATE, ck_false);
	pubt[npub++] = ATTR(CKA_VERIFY, ck_true);
	pubt[npub++] = ATTR_BUF(CKA_LABEL, lbl, strlen(lbl));
	pubt[npub++] = ATTR(CKA_WRAP, ck_false);
	/* SoftHSM2 defaults unwrap/wrap (and derive) to true: a key does only
	 * what we name. */
	privt[npriv++] = ATTR(CKA_UNWRAP, ck_false);
	privt[npriv++] = ATTR(CKA_TOKEN, ck_true);
	privt[npriv++] = ATTR(CKA_PRIVATE, ck_true);
	privt[npriv++] = ATTR(CKA_SENSITIVE, ck_true);
	privt[npriv++] = ATTR(CKA_EXTRACTABLE, extractable);
	privt[npriv++] = ATTR(CKA_SIGN, ck_true);
	privt[npriv++] = ATTR_BUF(CKA_LABEL, lbl, strlen(lbl));
	if (spec->type == CS_KEY_RSA) {
		pubt[npub++] = ATTR(CKA_MODULUS_BITS, bits);
		pubt[npub++] = ATTR_BUF(CKA_PUBLIC_EXPONENT, e65537, sizeof(e65537));
		pubt[npub++] = ATTR(CKA_ENCRYPT, ck_true);
		privt[npriv++] = ATTR(CKA_DECRYPT, ck_true);
	} else {
		rv = cs_ec_params_der(spec->curve_nid, &ecp, &ecp_len, err);
		if (rv != CS_OK)
			return rv;
		pubt[npub++] = ATTR_BUF(CKA_EC_PARAMS, ecp, ecp_len);
		/* SoftHSM2 would default CKA_DECRYPT to true even for EC. */
		privt[npriv++] = ATTR(CKA_DECRYPT, ck_false);
		privt[npriv++] = ATTR(CKA_DERIVE, ck_false);
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
	}
	rv = cs_session_get(tok, &s, err);
	if (rv != CS_OK)
		goto out;
	crv = tok->p11->C_GenerateKeyPair(s.h, &mech, pubt, npub, privt, npriv, &hpub, &hpriv);
	if (crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "generating a %s key in token '%s'",
				cs_key_spec_name(spec), tok->label);
		goto out;
	}
	rv = set_ids(&s, spec->type == CS_KEY_RSA ? CKK_RSA : CKK_EC, hpub, hpriv, id, pub_out,
		     err);
	if (rv == CS_OK && uri_out != NULL)
		rv = cs_key_uri_make(tok, id, sizeof(id), uri_out, err);
	if (rv != CS_OK) {
		tok->p11->C_DestroyObject(s.h, hpriv);
		tok->p11->C_DestroyObject(s.h, hpub);
		if (pub_out != NULL) {
			EVP_PKEY_free(*pub_out);
			*pub_out = NULL;
		}
	}
out:
	cs_session_put(&s, false);
	OPENSSL_free(ecp);
	return rv;
}

/* ---- looking keys up ------------------------------------------------------ */

cs_rv cs_key_public(cs_token *tok, const char *uri, EVP_PKEY **out, cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref = {0};
	cs_key_info key;
	cs_rv rv;

	*out = NULL;
	rv = cs_key_open(tok, uri, true, &s, &ref, &key, err);
	if (rv == CS_OK)
		rv = cs_public_from_objects(&s, key.handle, out, err);
	cs_key_close(&s, &ref);
	return rv;
}

/* Is priv's public key pub?  (false when it cannot be told) */
static bool same_public(cs_session *s, CK_OBJECT_HANDLE priv, EVP_PKEY *pub)
{
	EVP_PKEY *pk = NULL;
	bool same;

	if (cs_public_from_objects(s, priv, &pk, NULL) != CS_OK)
		return false;
	same = EVP_PKEY_eq(pk, pub) == 1;
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return same;
}

cs_rv cs_key_find_by_public(cs_token *tok, EVP_PKEY *pub, char **uri_out, cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref = {0};
	CK_OBJECT_HANDLE h, batch[32];
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl = ATTR(CKA_CLASS, cls);
	CK_ULONG n;
	unsigned char id[20], *oid = NULL;
	size_t oid_len = 0;
	bool found = false;
	cs_rv rv;
	CK_RV crv;

	*uri_out = NULL;
	rv = cs_key_id_from_public(pub, id, err);
	if (rv != CS_OK)
		return rv;
	rv = cs_session_get(tok, &s, err);
	if (rv != CS_OK)
		return rv;
	memcpy(ref.id, id, sizeof(id));
	ref.id_len = sizeof(id);
	if (cs_find_object(&s, CKO_PRIVATE_KEY, &ref, "", &h, NULL) == CS_OK &&
	    same_public(&s, h, pub)) {
		rv = cs_key_uri_make(tok, id, sizeof(id), uri_out, err);
		goto out;
	}
	/* Keys made by other tools carry other ids: compare every key. */
	crv = tok->p11->C_FindObjectsInit(s.h, &tmpl, 1);
	while (crv == CKR_OK && !found &&
	       (crv = tok->p11->C_FindObjects(s.h, batch, 32, &n)) == CKR_OK && n > 0) {
		for (CK_ULONG i = 0; i < n && !found; i++) {
			if (!same_public(&s, batch[i], pub))
				continue;
			/* Nested calls inside a search are allowed for attribute reads. */
			rv = cs_get_attr(&s, batch[i], CKA_ID, &oid, &oid_len, NULL, err);
			found = rv == CS_OK && oid != NULL && oid_len > 0;
			if (!found) {
				free(oid);
				oid = NULL;
			}
		}
	}
	tok->p11->C_FindObjectsFinal(s.h);
	if (crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "searching token '%s'", tok->label);
		goto out;
	}
	if (!found) {
		rv = cs_err_set(err, CS_ERR_NOT_FOUND,
				"token '%s' holds no private key for this public key", tok->label);
		goto out;
	}
	rv = cs_key_uri_make(tok, oid, oid_len, uri_out, err);
out:
	free(oid);
	cs_session_put(&s, false);
	return rv;
}

cs_rv cs_key_check(cs_token *tok, const char *uri, EVP_PKEY *cert_pub, cs_status *status_out,
		   cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref = {0};
	cs_key_info key;
	EVP_PKEY *pk = NULL;
	cs_rv rv;

	*status_out = CS_STATUS_MISSING_KEY;
	if (uri == NULL)
		return CS_OK;
	rv = cs_key_open(tok, uri, true, &s, &ref, &key, err);
	if (rv == CS_ERR_NOT_FOUND) {
		rv = CS_OK; /* not in this token (or on another one): missing here */
		goto out;
	}
	if (rv == CS_OK)
		rv = cs_public_from_objects(&s, key.handle, &pk, err);
	if (rv != CS_OK)
		goto out;
	*status_out = EVP_PKEY_eq(pk, cert_pub) == 1 ? CS_STATUS_VALID : CS_STATUS_KEY_MISMATCH;
	ERR_clear_error();
out:
	EVP_PKEY_free(pk);
	cs_key_close(&s, &ref);
	return rv;
}

cs_rv cs_key_is_exportable(cs_token *tok, const char *uri, bool *out, cs_err *err)
{
	cs_session s = {0};
	cs_key_ref ref = {0};
	cs_key_info key;
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE a = ATTR(CKA_EXTRACTABLE, b);
	cs_rv rv;
	CK_RV crv;

	*out = false;
	rv = cs_key_open(tok, uri, true, &s, &ref, &key, err);
	if (rv == CS_OK) {
		crv = tok->p11->C_GetAttributeValue(s.h, key.handle, &a, 1);
		if (crv != CKR_OK)
			rv = cs_p11_err(err, crv, "reading CKA_EXTRACTABLE of %s", uri);
		*out = b == CK_TRUE;
	}
	cs_key_close(&s, &ref);
	return rv;
}

cs_rv cs_key_delete(cs_token *tok, const char *uri, cs_err *err)
{
	cs_session s = {.write = true};
	cs_key_ref ref = {0}, byid = {0};
	cs_key_info key;
	unsigned char *id = NULL;
	size_t idlen = 0;
	CK_OBJECT_HANDLE batch[16];
	CK_ATTRIBUTE tmpl;
	CK_ULONG n;
	cs_rv rv;
	CK_RV crv;

	rv = cs_key_open(tok, uri, true, &s, &ref, &key, err);
	if (rv == CS_OK)
		rv = cs_get_attr(&s, key.handle, CKA_ID, &id, &idlen, NULL, err);
	if (rv != CS_OK)
		goto out;
	cs_cache_clear(tok);
	crv = tok->p11->C_DestroyObject(s.h, key.handle);
	if (crv != CKR_OK) {
		rv = cs_p11_err(err, crv, "deleting key %s", uri);
		goto out;
	}
	if (id == NULL || idlen == 0 || idlen > CS_KEY_ID_MAX)
		goto out;
	/* Everything else sharing the id: the public key, certificates.  Found
	 * first, destroyed after: a search must not run while objects vanish. */
	memcpy(byid.id, id, idlen);
	byid.id_len = idlen;
	tmpl = ATTR_BUF(CKA_ID, byid.id, idlen);
	for (int round = 0; round < 8; round++) {
		crv = tok->p11->C_FindObjectsInit(s.h, &tmpl, 1);
		if (crv != CKR_OK)
			break;
		crv = tok->p11->C_FindObjects(s.h, batch, 16, &n);
		tok->p11->C_FindObjectsFinal(s.h);
		if (crv != CKR_OK || n == 0)
			break;
		for (CK_ULONG i = 0; i < n; i++)
			tok->p11->C_DestroyObject(s.h, batch[i]);
	}
	if (crv != CKR_OK)
		rv = cs_p11_err(err, crv, "deleting the objects of key %s", uri);
out:
	free(id);
	cs_key_close(&s, &ref);
	return rv;
}
