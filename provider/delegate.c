/*
 * delegate.c - keys that are not the store's, and the library context they
 * live in.
 *
 * OpenSSL 3.0 gives a fetch that two providers match to the one listed
 * first, and then moves the caller's key to that provider's KEYMGMT.  When
 * certstore is listed before `default` (on the command line, in
 * [providers], or by the name sort some programs trigger) every plain RSA
 * or EC key of the process reaches our KEYMGMT, SIGNATURE and ASYM_CIPHER:
 * certificates' public keys, PEM keys, libssl's ephemeral keys.  Such a
 * foreign key is held as an EVP_PKEY in a library context of our own in
 * which only `default` is loaded, and every operation on it runs there.
 *
 * Never the caller's library context: a fetch there can land on certstore
 * again (that is how the key got here), and a provider calling itself for
 * its own operation recurses.  Nothing here touches the store or the token
 * or takes the store lock, so SoftHSM2 (which uses OpenSSL in-process, see
 * DESIGN.md "Known traps") cannot deadlock through it.
 */
#include "provider.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

static csp_ctx *root(csp_ctx *ctx)
{
	return ctx->parent != NULL ? ctx->parent : ctx;
}

/* Made on first use: a process that never meets a foreign key never pays
 * for a second library context. */
OSSL_LIB_CTX *csp_dflt(csp_ctx *ctx)
{
	csp_ctx *r = root(ctx);
	OSSL_LIB_CTX *lc;

	pthread_mutex_lock(&r->dflt_lock);
	if (r->dflt == NULL) {
		lc = OSSL_LIB_CTX_new();
		if (lc != NULL && (r->dflt_prov = OSSL_PROVIDER_load(lc, "default")) == NULL) {
			OSSL_LIB_CTX_free(lc);
			lc = NULL;
		}
		r->dflt = lc;
		csp_trace("default library context for foreign keys: %s",
			  lc != NULL ? "ok" : "failed");
	}
	lc = r->dflt;
	pthread_mutex_unlock(&r->dflt_lock);
	if (lc == NULL)
		csp_raise(ctx, CS_ERR_INTERNAL,
			  "cannot load the default provider for keys that are not the store's");
	return lc;
}

void csp_dflt_free(csp_ctx *ctx)
{
	int i;

	for (i = 0; i < CSP_TYPES; i++) {
		EVP_KEYMGMT_free(ctx->dflt_keymgmt[i]);
		EVP_SIGNATURE_free(ctx->dflt_signature[i]);
	}
	EVP_ASYM_CIPHER_free(ctx->dflt_asym_cipher);
	if (ctx->dflt_prov != NULL)
		OSSL_PROVIDER_unload(ctx->dflt_prov);
	OSSL_LIB_CTX_free(ctx->dflt);
	pthread_mutex_destroy(&ctx->dflt_lock);
}

int csp_type_index(int type)
{
	return type == EVP_PKEY_RSA ? 0 : 1;
}

/*
 * The default provider's method of that operation for the key type, fetched
 * once per provider: its parameter lists are what we announce, since a
 * foreign key accepts exactly what default accepts.
 */
static void *dflt_method(csp_ctx *ctx, int op, int type)
{
	csp_ctx *r = root(ctx);
	OSSL_LIB_CTX *lc = csp_dflt(ctx);
	int i = csp_type_index(type);
	void **slot;
	void *m = NULL;

	if (lc == NULL)
		return NULL;
	switch (op) {
	case OSSL_OP_KEYMGMT:
		slot = (void **)&r->dflt_keymgmt[i];
		break;
	case OSSL_OP_SIGNATURE:
		slot = (void **)&r->dflt_signature[i];
		break;
	default:
		slot = (void **)&r->dflt_asym_cipher;
		break;
	}
	pthread_mutex_lock(&r->dflt_lock);
	if (*slot == NULL) {
		switch (op) {
		case OSSL_OP_KEYMGMT:
			*slot = EVP_KEYMGMT_fetch(lc, csp_key_type_name(type), NULL);
			break;
		case OSSL_OP_SIGNATURE:
			*slot = EVP_SIGNATURE_fetch(lc, type == EVP_PKEY_RSA ? "RSA" : "ECDSA",
						    NULL);
			break;
		default:
			*slot = EVP_ASYM_CIPHER_fetch(lc, "RSA", NULL);
			break;
		}
	}
	m = *slot;
	pthread_mutex_unlock(&r->dflt_lock);
	return m;
}

EVP_KEYMGMT *csp_dflt_keymgmt(csp_ctx *ctx, int type)
{
	return dflt_method(ctx, OSSL_OP_KEYMGMT, type);
}

EVP_SIGNATURE *csp_dflt_signature(csp_ctx *ctx, int type)
{
	return dflt_method(ctx, OSSL_OP_SIGNATURE, type);
}

EVP_ASYM_CIPHER *csp_dflt_asym_cipher(csp_ctx *ctx)
{
	return dflt_method(ctx, OSSL_OP_ASYM_CIPHER, EVP_PKEY_RSA);
}

/* The SubjectPublicKeyInfo der (len bytes from an i2d_*, taken and freed
 * here) read in lc; NULL when the i2d failed (len <= 0) or it does not read. */
static EVP_PKEY *public_in(OSSL_LIB_CTX *lc, unsigned char *der, int len)
{
	const unsigned char *p = der;
	EVP_PKEY *out = NULL;

	if (len > 0)
		out = d2i_PUBKEY_ex(NULL, &p, len, lc, NULL);
	OPENSSL_free(der);
	return out;
}

/*
 * The public half of pkey (any library context) as a key of ours: through
 * its SubjectPublicKeyInfo, which every provider can write and our context
 * can read without asking the caller's providers anything.
 */
EVP_PKEY *csp_dflt_public(csp_ctx *ctx, const EVP_PKEY *pkey)
{
	OSSL_LIB_CTX *lc = csp_dflt(ctx);
	unsigned char *der = NULL;
	int len;

	if (lc == NULL || pkey == NULL)
		return NULL;
	len = i2d_PUBKEY(pkey, &der);
	return public_in(lc, der, len);
}

/* The same from a certificate's SubjectPublicKeyInfo as it is encoded. */
EVP_PKEY *csp_dflt_public_of_cert(csp_ctx *ctx, const X509 *x509)
{
	OSSL_LIB_CTX *lc = csp_dflt(ctx);
	unsigned char *der = NULL;
	int len;

	if (lc == NULL)
		return NULL;
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x509), &der);
	return public_in(lc, der, len);
}

EVP_PKEY_CTX *csp_key_pctx(const csp_key *key)
{
	OSSL_LIB_CTX *lc = csp_dflt(key->prov);

	if (lc == NULL || key->pub == NULL)
		return NULL;
	return EVP_PKEY_CTX_new_from_pkey(lc, key->pub, NULL);
}
