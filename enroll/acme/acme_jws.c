/*
 * acme_jws.c - JSON Web Signatures for ACME (RFC 8555 6.2, RFC 7515) with
 * the account key in the token: ES256 through the certstore provider.
 */
#include "acme.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

char *acme_b64url(const unsigned char *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	int n, i;

	if (out == NULL)
		return NULL;
	n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return out;
}

/* The uncompressed point 04||X||Y of an EC P-256 public key, via its SPKI. */
static cs_rv p256_point(EVP_PKEY *key, unsigned char point[65], cs_err *err)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int n = i2d_PUBKEY(key, &der);
	EVP_PKEY *pub = NULL;
	size_t len = 0;
	cs_rv rv = CS_OK;

	p = der;
	if (n > 0)
		pub = d2i_PUBKEY(NULL, &p, n);
	if (pub == NULL || !EVP_PKEY_is_a(pub, "EC") || EVP_PKEY_get_bits(pub) != 256 ||
	    !EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, point, 65, &len) ||
	    len != 65 || point[0] != 0x04)
		rv = cs_err_set(err, CS_ERR_KEY, "the ACME account key is not an EC P-256 key");
	EVP_PKEY_free(pub);
	OPENSSL_free(der);
	return rv;
}

cs_rv acme_jwk(acme_session *s, cs_err *err)
{
	unsigned char point[65], digest[32];
	char *x = NULL, *y = NULL;
	cs_rv rv = p256_point(s->key, point, err);

	if (rv != CS_OK)
		return rv;
	x = acme_b64url(point + 1, 32);
	y = acme_b64url(point + 33, 32);
	/* RFC 7638: required members only, sorted, no whitespace */
	if (x == NULL || y == NULL ||
	    asprintf(&s->jwk, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x,
		     y) < 0) {
		s->jwk = NULL;
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	if (rv == CS_OK && !EVP_Digest(s->jwk, strlen(s->jwk), digest, NULL, EVP_sha256(), NULL))
		rv = cs_err_set(err, CS_ERR_INTERNAL, "SHA-256 failed");
	if (rv == CS_OK && (s->thumbprint = acme_b64url(digest, sizeof(digest))) == NULL)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	free(x);
	free(y);
	return rv;
}

/* ES256: the token's DER ECDSA signature as JWS wants it, r||s, 32 bytes each. */
static cs_rv es256(acme_session *s, const char *input, unsigned char raw[64], cs_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[80];
	const unsigned char *p = der;
	size_t len = sizeof(der);
	ECDSA_SIG *sig = NULL;
	const BIGNUM *r, *sv;
	cs_rv rv = CS_OK;

	if (md == NULL ||
	    EVP_DigestSignInit_ex(md, NULL, "SHA256", s->ctx->keys->libctx, NULL, s->key, NULL) !=
		    1 ||
	    EVP_DigestSignUpdate(md, input, strlen(input)) != 1 ||
	    EVP_DigestSignFinal(md, der, &len) != 1 ||
	    (sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL) {
		rv = cs_err_set(err, CS_ERR_KEY,
				"the token could not sign with the ACME account key");
		cs_err_add_openssl(err);
	} else {
		ECDSA_SIG_get0(sig, &r, &sv);
		if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(sv, raw + 32, 32) != 32)
			rv = cs_err_set(err, CS_ERR_KEY, "the account key's signature is too long");
	}
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return rv;
}

static char *protected_header(acme_session *s, const char *url)
{
	json_object *h = json_object_new_object();
	char *out;

	json_object_object_add(h, "alg", json_object_new_string("ES256"));
	json_object_object_add(h, "nonce", json_object_new_string(s->nonce ? s->nonce : ""));
	json_object_object_add(h, "url", json_object_new_string(url));
	if (s->kid != NULL)
		json_object_object_add(h, "kid", json_object_new_string(s->kid));
	else
		json_object_object_add(h, "jwk", json_tokener_parse(s->jwk));
	out = strdup(json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(h);
	return out;
}

cs_rv acme_jws(acme_session *s, const char *url, const char *payload, char **out, cs_err *err)
{
	char *hdr = protected_header(s, url), *b64h = NULL, *b64p = NULL, *input = NULL;
	char *b64s = NULL;
	unsigned char raw[64];
	cs_rv rv = CS_OK;

	*out = NULL;
	if (hdr != NULL)
		b64h = acme_b64url((const unsigned char *)hdr, strlen(hdr));
	b64p = payload ? acme_b64url((const unsigned char *)payload, strlen(payload)) : strdup("");
	if (b64h == NULL || b64p == NULL || asprintf(&input, "%s.%s", b64h, b64p) < 0) {
		input = NULL;
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	if (rv == CS_OK)
		rv = es256(s, input, raw, err);
	if (rv == CS_OK && (b64s = acme_b64url(raw, sizeof(raw))) == NULL)
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (rv == CS_OK &&
	    asprintf(out, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", b64h,
		     b64p, b64s) < 0) {
		*out = NULL;
		rv = cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	}
	free(hdr);
	free(b64h);
	free(b64p);
	free(b64s);
	free(input);
	return rv;
}
