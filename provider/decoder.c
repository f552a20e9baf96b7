/*
 * decoder.c - DECODER for PEM key references: a key file that names a store
 * key ("-----BEGIN CERTSTORE KEY REFERENCE-----") instead of holding it, for
 * programs that only read key files (nginx, haproxy, apache, stunnel, ...).
 *
 * Only certstore key references reach certstore code: any other input is
 * declined quietly (return 1, no object, nothing on the error stack) so
 * OpenSSL goes on with the next decoder.  A reference that is ours but
 * cannot be resolved stops the decoding with an error naming the file's
 * store and thumbprint: no other decoder could do better with it.
 *
 * Two steps, as OpenSSL's own PEM decoding: "DER" from input=pem takes
 * the block's body out of the PEM (what OpenSSL's PEM-to-DER decoder would
 * do if it knew the name; in 3.0 it drops names it does not know), and
 * "RSA"/"EC" from input=der with structure=certstore-keyref resolve that
 * body to a store key.  Both PEM_read_bio_PrivateKey (nginx, haproxy, ...)
 * and the file: STORE loader (openssl pkey, s_server -key) build chains
 * that reach the second step through the first; the structure keeps every
 * other DER away from it, and OpenSSL's own decoders away from ours.
 *
 * No state survives a call: haproxy decodes the same file twice, apache
 * reads its configuration in two passes, and each decode resolves the key
 * afresh from the store.  The decoder context only says which key type this
 * instance hands out (OpenSSL asks the RSA and the EC decoder in turn; the
 * one whose type does not match declines).
 */
#include "provider.h"
#include "front/pemblock.h"
#include "usage.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#define PEM_BEGIN "-----BEGIN " CS_KEYREF_PEM_NAME "-----"
#define BODY_START "version=1\n"
#define KEYREF_STRUCTURE "certstore-keyref"

typedef struct dec_ctx {
	csp_ctx *prov;
	int type; /* EVP_PKEY_RSA or EVP_PKEY_EC */
	int der;  /* input is the block's body (what OpenSSL's PEM-to-DER step passes on) */
} dec_ctx;

static void *dec_newctx(void *provctx, int type, int der)
{
	dec_ctx *d = calloc(1, sizeof(*d));

	if (d != NULL) {
		d->prov = provctx;
		d->type = type;
		d->der = der;
	}
	return d;
}

static void *pem_newctx(void *provctx)
{
	return dec_newctx(provctx, 0, 0);
}

static void *rsa_der_newctx(void *provctx)
{
	return dec_newctx(provctx, EVP_PKEY_RSA, 1);
}

static void *ec_der_newctx(void *provctx)
{
	return dec_newctx(provctx, EVP_PKEY_EC, 1);
}

static void dec_freectx(void *ctx)
{
	free(ctx);
}

/*
 * Private keys only.  A key reference is a private key file; saying no to
 * every other selection keeps our decoders out of the chains OpenSSL builds
 * for public keys, above all the one per certificate that decodes its
 * SubjectPublicKeyInfo: being in them cost `openssl verify` with the
 * provider loaded about a third more CPU (bench/trust-lookup).
 */
static int dec_does_selection(void *provctx, int selection)
{
	(void)provctx;
	return selection == 0 || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0;
}

static cs_rv resolve(dec_ctx *d, const cs_keyref *ref, csp_key **out, cs_err *err);

/* Can the reference in data be resolved?  If not, the reason is raised. */
static int check_ref(dec_ctx *d, const unsigned char *data, size_t len)
{
	cs_keyref ref = {0};
	csp_key *key = NULL;
	cs_err err = {0};
	int ok;

	ok = cs_keyref_parse(data, len, &ref, &err) == CS_OK &&
	     resolve(d, &ref, &key, &err) == CS_OK;
	if (!ok)
		csp_raise_err(d->prov, &err);
	csp_key_free(key);
	cs_keyref_clear(&ref);
	return ok;
}

/* Step 1, PEM to body: only a CERTSTORE KEY REFERENCE block goes on. */
static int pem_decode(dec_ctx *d, const unsigned char *data, size_t len, OSSL_CALLBACK *data_cb,
		      void *data_cbarg)
{
	BIO *bio;
	char *name = NULL, *header = NULL;
	unsigned char *body = NULL;
	long blen = 0;
	int ok = 1, objtype = OSSL_OBJECT_PKEY;

	if (strstr((const char *)data, PEM_BEGIN) == NULL)
		return 1;
	/* Resolve once here too: the file: STORE loader (openssl pkey, s_server
	 * -key) drops the errors of the second step, so a reference that cannot
	 * be resolved is reported from this one. */
	if (!check_ref(d, data, len))
		return 0;
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL)
		return 0;
	/* Skip other blocks before ours (a key file may hold a certificate too). */
	while (PEM_read_bio(bio, &name, &header, &body, &blen)) {
		if (strcmp(name, CS_KEYREF_PEM_NAME) == 0) {
			OSSL_PARAM params[] = {
				OSSL_PARAM_int(OSSL_OBJECT_PARAM_TYPE, &objtype),
				OSSL_PARAM_utf8_string(OSSL_OBJECT_PARAM_DATA_STRUCTURE,
						       (char *)KEYREF_STRUCTURE,
						       sizeof(KEYREF_STRUCTURE) - 1),
				OSSL_PARAM_octet_string(OSSL_OBJECT_PARAM_DATA, body, (size_t)blen),
				OSSL_PARAM_END,
			};
			ok = data_cb(params, data_cbarg);
			break;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(body);
		name = header = NULL;
		body = NULL;
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(body);
	BIO_free(bio);
	ERR_clear_error(); /* PEM_read_bio's "no start line" at the end: not ours to report */
	(void)d;
	return ok;
}

/* Resolves ref to a key: the store the reference names, the certificate
 * with its thumbprint there, and that certificate's key binding now (the
 * reference's uri= is what it was when written; the store decides). */
static cs_rv resolve(dec_ctx *d, const cs_keyref *ref, csp_key **out, cs_err *err)
{
	csp_ctx *sctx = NULL;
	cs_rv rv;

	if (ref->store_dir[0] != '/')
		return cs_err_set(err, CS_ERR_BAD_INPUT,
				  "key reference: store=%s is not an absolute path",
				  ref->store_dir);
	rv = csp_ctx_for_store(d->prov, ref->store_dir, &sctx, err);
	if (rv == CS_OK)
		rv = csp_key_from_thumbprint(sctx, ref->thumbprint, out, err);
	if (rv != CS_OK)
		cs_err_prefix(err, "key reference to %s in %s", ref->thumbprint, ref->store_dir);
	return rv;
}

static int dec_decode(void *ctx, OSSL_CORE_BIO *in, int selection, OSSL_CALLBACK *data_cb,
		      void *data_cbarg, OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
	dec_ctx *d = ctx;
	unsigned char *data = NULL;
	size_t len = 0;
	cs_keyref ref = {0};
	csp_key *key = NULL;
	cs_err err = {0};
	int ok = 1;

	if (!d->der) {
		/* One block, even when declining (see csp_read_pem_block). */
		if (!csp_read_pem_block(d->prov->bio_gets, d->prov->bio_read_ex, in, &data, &len))
			return 1;
		if (dec_does_selection(NULL, selection))
			ok = pem_decode(d, data, len, data_cb, data_cbarg);
		goto out;
	}
	if (!dec_does_selection(NULL, selection))
		return 1;
	if (!csp_read_all(d->prov->bio_read_ex, in, &data, &len))
		return 1;
	/* Not ours: decline without a word, the next decoder gets the input. */
	if (len < sizeof(BODY_START) || memcmp(data, BODY_START, sizeof(BODY_START) - 1) != 0)
		goto out;
	if (cs_keyref_parse(data, len, &ref, &err) != CS_OK) {
		csp_raise_err(d->prov, &err);
		ok = 0;
		goto out;
	}
	if (resolve(d, &ref, &key, &err) != CS_OK) {
		csp_raise_err(d->prov, &err);
		ok = 0;
		goto out;
	}
	/* The other type's decoder hands it out. */
	if (key->type != d->type)
		goto out;
	csp_trace("decoded key reference to %s in %s", ref.thumbprint, ref.store_dir);
	ok = csp_key_emit(key, data_cb, data_cbarg);
out:
	csp_key_free(key);
	cs_keyref_clear(&ref);
	free(data);
	return ok;
}

/* A decoded object asked for by another provider (OpenSSL does this when
 * the KEYMGMT it picked is not ours): public parts only, as KEYMGMT export. */
static int dec_export_object(void *ctx, const void *objref, size_t objref_sz,
			     OSSL_CALLBACK *export_cb, void *export_cbarg)
{
	const csp_keyref *ref = objref;
	OSSL_PARAM *params = NULL;
	int ok;

	if (objref_sz != sizeof(*ref) || memcmp(ref->magic, CSP_KEYREF_MAGIC, 8) != 0 ||
	    ref->key->pub == NULL)
		return 0;
	if (EVP_PKEY_todata(ref->key->pub, EVP_PKEY_PUBLIC_KEY, &params) != 1)
		return 0;
	ok = export_cb(params, export_cbarg);
	OSSL_PARAM_free(params);
	return ok;
}

/*
 * The front's key-reference decoder (front/front.c, the default `lazy` mode) hands
 * a PEM block that holds a key reference here, once it has loaded the core.
 * Until then OpenSSL knows no key manager of ours: PEM_read_bio_PrivateKey
 * made its list of them before any certstore code ran, and its construct
 * step (decoder_construct_pkey) then fetches a key manager by the data type
 * we emit.  Fetched as "RSA" or "EC" that is default's (the first
 * registered, and cached), which takes the reference for a public key:
 * "unsupported key components".  So the reference goes out typed
 * CERTSTORE-RSA / CERTSTORE-EC, an alias of RSA / EC that only our key
 * managers carry (provider.c): a name OpenSSL has not seen yet is not in
 * its fetch cache, the fetch constructs, and while we are arming our key
 * managers answer with no_cache, which puts them in the fetch's temporary
 * store, the one it looks in first.  The key we make is then ours.  Once
 * armed everything is registered for good, and later decodings find our
 * key manager in their list (by the alias, now known).
 */
int csp_keyref_decode_pem(csp_ctx *prov, int type, const unsigned char *data, size_t len,
			  OSSL_CALLBACK *data_cb, void *data_cbarg)
{
	dec_ctx d = {.prov = prov, .type = type, .der = 1};
	cs_keyref ref = {0};
	csp_key *key = NULL;
	cs_err err = {0};
	int ok = 1;

	csp_arm_hold(true);
	if (cs_keyref_parse(data, len, &ref, &err) != CS_OK ||
	    resolve(&d, &ref, &key, &err) != CS_OK) {
		csp_arm_hold(false);
		csp_raise_err(prov, &err);
		ok = 0;
		goto out;
	}
	csp_arm_hold(false);
	if (key->type != type) /* the other type's decoder hands it out */
		goto out;
	csp_trace("decoded key reference to %s in %s", ref.thumbprint, ref.store_dir);
	csp_arm_begin(prov);
	ok = csp_key_emit_as(key, csp_key_alias_name(type), data_cb, data_cbarg);
	csp_arm(prov);
out:
	csp_key_free(key);
	cs_keyref_clear(&ref);
	return ok;
}

/* A decoded object asked for by another provider, for the front. */
int csp_keyref_export_object(void *ctx, const void *objref, size_t objref_sz,
			     OSSL_CALLBACK *export_cb, void *export_cbarg)
{
	return dec_export_object(ctx, objref, objref_sz, export_cb, export_cbarg);
}

#define DEC_FUNCTIONS                                                                              \
	{OSSL_FUNC_DECODER_FREECTX, (void (*)(void))dec_freectx},                                  \
		{OSSL_FUNC_DECODER_DOES_SELECTION, (void (*)(void))dec_does_selection},            \
		{OSSL_FUNC_DECODER_DECODE, (void (*)(void))dec_decode},                            \
	{                                                                                          \
		OSSL_FUNC_DECODER_EXPORT_OBJECT, (void (*)(void))dec_export_object                 \
	}

const OSSL_DISPATCH csp_pem_decoder_functions[] = {
	{OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))pem_newctx},
	{OSSL_FUNC_DECODER_DOES_SELECTION, (void (*)(void))dec_does_selection},
	{OSSL_FUNC_DECODER_FREECTX, (void (*)(void))dec_freectx},
	{OSSL_FUNC_DECODER_DECODE, (void (*)(void))dec_decode},
	{0, NULL},
};

const OSSL_DISPATCH csp_rsa_der_decoder_functions[] = {
	DEC_FUNCTIONS,
	{OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))rsa_der_newctx},
	{0, NULL},
};

const OSSL_DISPATCH csp_ec_der_decoder_functions[] = {
	DEC_FUNCTIONS,
	{OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))ec_der_newctx},
	{0, NULL},
};
