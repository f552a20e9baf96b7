/*
 * keyops.c - C_Sign and C_Decrypt with the Personal token's private keys,
 * forwarded to the HSM through store/keys/keys.h, the one place that talks
 * PKCS#11 for keys.  The store's key token (<store>/certstore.conf [token])
 * is opened on the first key operation, never at C_Initialize or while
 * listing: only a process that may read the store's PIN file can sign, and
 * consumers that merely list are not slowed down or refused.
 *
 * Sizes follow PKCS#11: a NULL output asks for the length, a short buffer
 * gets CKR_BUFFER_TOO_SMALL with the length, and neither ends the operation;
 * anything else does.  Signature and largest plaintext sizes come from the
 * certificate's public key, so answering them needs no HSM round trip.
 */
#include "p11.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

/* Raw input gathered by C_SignUpdate for raw mechanisms: far more than any
 * digest or RSA block needs. */
#define RAW_INPUT_MAX 16384

static cs_token *token;

void p11_keys_finalize(void)
{
	cs_token_close(token);
	token = NULL;
}

static CK_RV token_get(void)
{
	cs_err err = {0};
	cs_rv rv;

	if (token != NULL)
		return CKR_OK;
	rv = cs_token_open_store(p11_store_dirname(), &token, &err);
	if (rv != CS_OK) {
		/* unreadable PIN file, no token configured, module missing: the
		 * caller cannot fix any of these with a PIN */
		(void)p11_ckr(rv, &err);
		token = NULL;
		return CKR_DEVICE_ERROR;
	}
	return CKR_OK;
}

CK_RV p11_keys_check_pin(const unsigned char *pin, size_t len)
{
	cs_token_config *cfg = NULL;
	char *want = NULL;
	cs_err err = {0};
	CK_RV rv;

	if (cs_token_config_load(p11_store_dirname(), &cfg, &err) != CS_OK ||
	    cfg->pin_file == NULL) {
		rv = CKR_USER_PIN_NOT_INITIALIZED;
		goto out;
	}
	if (cs_pin_read(cfg, &want, &err) != CS_OK) {
		(void)p11_ckr(err.rv, &err);
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	/* the length is not secret (the token reports the range anyway) */
	rv = strlen(want) == len && CRYPTO_memcmp(want, pin, len) == 0 ? CKR_OK : CKR_PIN_INCORRECT;
out:
	cs_pin_free(want);
	cs_token_config_free(cfg);
	return rv;
}

/* A store/keys/keys.h failure in PKCS#11 words (the words go to the debug log). */
static CK_RV key_ckr(cs_rv rv, const cs_err *err, bool decrypt)
{
	CK_RV ck = p11_ckr(rv, err);

	switch (rv) {
	case CS_ERR_BAD_INPUT:
		return decrypt ? CKR_ENCRYPTED_DATA_INVALID : CKR_DATA_INVALID;
	case CS_ERR_USAGE:
		return CKR_MECHANISM_PARAM_INVALID;
	case CS_ERR_NOT_FOUND:
	case CS_ERR_AMBIGUOUS:
	case CS_ERR_KEY:
		return CKR_KEY_HANDLE_INVALID; /* the row names a key the HSM lacks */
	case CS_ERR_AUTH:
	case CS_ERR_STORE:
	case CS_ERR_TOKEN:
		return CKR_DEVICE_ERROR;
	default:
		return ck;
	}
}

void p11_op_clear(p11_op *op)
{
	free(op->key_uri);
	free(op->label);
	EVP_MD_CTX_free(op->md_ctx);
	if (op->data != NULL)
		OPENSSL_clear_free(op->data, op->data_len);
	if (op->result != NULL)
		OPENSSL_clear_free(op->result, op->result_len);
	OPENSSL_free(op->parts);
	memset(op, 0, sizeof(*op));
}

static CK_RV start_digest(p11_op *op)
{
	int nid = p11_mechanism_hash(op->mechanism);
	EVP_MD *md;
	int ok;

	if (nid == NID_undef)
		return CKR_OK;
	/* the module's library context is the default here (module.c) */
	md = EVP_MD_fetch(NULL, OBJ_nid2sn(nid), NULL);
	op->md_ctx = EVP_MD_CTX_new();
	ok = md != NULL && op->md_ctx != NULL && EVP_DigestInit_ex(op->md_ctx, md, NULL);
	EVP_MD_free(md);
	return ok ? CKR_OK : CKR_HOST_MEMORY;
}

CK_RV p11_op_init(p11_op *op, p11_op_kind kind, cs_store_id store, bool private_visible,
		  const CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
	p11_object obj;
	bool present;
	CK_RV rv;

	if (op->kind != P11_OP_NONE)
		return CKR_OPERATION_ACTIVE;
	if (mech == NULL)
		return CKR_ARGUMENTS_BAD;
	rv = p11_store_refresh(&present);
	if (rv == CKR_OK)
		rv = p11_object_load(key, store, private_visible, &obj);
	if (rv == CKR_OBJECT_HANDLE_INVALID)
		return CKR_KEY_HANDLE_INVALID;
	if (rv != CKR_OK)
		return rv;
	if (obj.kind == P11_KIND_PUBLIC_KEY)
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (obj.kind != P11_KIND_PRIVATE_KEY)
		return CKR_KEY_HANDLE_INVALID;
	op->kind = kind;
	op->key_size = p11_cert_key_size(obj.cert);
	op->key_uri = strdup(obj.cert->key_uri);
	rv = op->key_uri != NULL ? CKR_OK : CKR_HOST_MEMORY;
	if (rv == CKR_OK)
		rv = p11_mechanism_parse(mech, p11_cert_key_type(obj.cert), op);
	if (rv == CKR_OK && kind == P11_OP_SIGN)
		rv = start_digest(op);
	if (rv == CKR_OK)
		rv = token_get();
	if (rv != CKR_OK)
		p11_op_clear(op);
	return rv;
}

static CK_RV gather(p11_op *op, const unsigned char *in, size_t len)
{
	unsigned char *grown;

	if (len == 0)
		return CKR_OK;
	if (op->data_len + len > RAW_INPUT_MAX)
		return CKR_DATA_LEN_RANGE;
	grown = OPENSSL_clear_realloc(op->data, op->data_len, op->data_len + len);
	if (grown == NULL)
		return CKR_HOST_MEMORY;
	memcpy(grown + op->data_len, in, len);
	op->data = grown;
	op->data_len += len;
	return CKR_OK;
}

CK_RV p11_sign_update(p11_op *op, const unsigned char *in, size_t len)
{
	CK_RV rv;

	if (in == NULL && len > 0)
		rv = CKR_ARGUMENTS_BAD;
	else if (op->md_ctx != NULL)
		rv = EVP_DigestUpdate(op->md_ctx, in, len) ? CKR_OK : CKR_GENERAL_ERROR;
	else
		rv = gather(op, in, len);
	if (rv != CKR_OK)
		p11_op_clear(op);
	return rv;
}

/* What the HSM gets must fit the mechanism; the HSM's own refusal would come
 * back as a device error. */
static CK_RV check_sign_input(const p11_op *op, size_t len)
{
	const EVP_MD *md;

	switch (op->sign.alg) {
	case CS_SIGN_RSA_PKCS1:
		return op->sign.md == NID_undef && len + 11 > op->key_size ? CKR_DATA_LEN_RANGE
									   : CKR_OK;
	case CS_SIGN_RSA_PSS:
		md = EVP_get_digestbynid(op->sign.md);
		return md != NULL && (size_t)EVP_MD_get_size(md) == len ? CKR_OK
									: CKR_DATA_LEN_RANGE;
	default:
		return len > 0 ? CKR_OK : CKR_DATA_LEN_RANGE;
	}
}

CK_RV p11_sign_final(p11_op *op, const unsigned char *in, size_t len, unsigned char *out,
		     CK_ULONG_PTR outlen)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	const unsigned char *data = in;
	size_t n;
	cs_err err = {0};
	cs_rv crv;
	CK_RV rv = CKR_OK;

	if (outlen == NULL || (in == NULL && len > 0)) {
		p11_op_clear(op);
		return CKR_ARGUMENTS_BAD;
	}
	if (out == NULL) {
		*outlen = op->size;
		return CKR_OK;
	}
	if (*outlen < op->size) {
		*outlen = op->size;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (op->md_ctx != NULL) {
		if ((len > 0 && !EVP_DigestUpdate(op->md_ctx, in, len)) ||
		    !EVP_DigestFinal_ex(op->md_ctx, digest, &dlen))
			rv = CKR_GENERAL_ERROR;
		data = digest;
		len = dlen;
	} else if (op->data_len > 0) {
		rv = gather(op, in, len);
		data = op->data;
		len = op->data_len;
	}
	if (rv == CKR_OK)
		rv = check_sign_input(op, len);
	if (rv == CKR_OK) {
		n = *outlen;
		crv = cs_key_sign(token, op->key_uri, &op->sign, data, len, out, &n, &err);
		rv = key_ckr(crv, &err, false);
		if (rv == CKR_OK)
			*outlen = n;
	}
	OPENSSL_cleanse(digest, sizeof(digest));
	p11_op_clear(op);
	return rv;
}

CK_RV p11_decrypt_update(p11_op *op, const unsigned char *in, size_t len)
{
	unsigned char *grown;

	/* more than one block can only be refused, now or at the end */
	if (op->parts_len + len > op->key_size) {
		p11_op_clear(op);
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	}
	if (len == 0)
		return CKR_OK;
	grown = OPENSSL_realloc(op->parts, op->parts_len + len);
	if (grown == NULL) {
		p11_op_clear(op);
		return CKR_HOST_MEMORY;
	}
	memcpy(grown + op->parts_len, in, len);
	op->parts = grown;
	op->parts_len += len;
	return CKR_OK;
}

CK_RV p11_decrypt(p11_op *op, const unsigned char *in, size_t len, unsigned char *out,
		  CK_ULONG_PTR outlen)
{
	unsigned char *plain = NULL;
	size_t n = op->key_size;
	cs_err err = {0};
	cs_rv crv;
	CK_RV rv;

	if (outlen == NULL || in == NULL) {
		p11_op_clear(op);
		return CKR_ARGUMENTS_BAD;
	}
	if (len != op->key_size) {
		p11_op_clear(op);
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	}
	if (out == NULL) {
		*outlen = op->result != NULL ? op->result_len : op->size;
		return CKR_OK;
	}
	/* A retry after a short buffer: the same input has its answer already. */
	if (op->result == NULL || op->data_len != len || memcmp(op->data, in, len) != 0) {
		plain = OPENSSL_malloc(n);
		if (plain == NULL) {
			p11_op_clear(op);
			return CKR_HOST_MEMORY;
		}
		crv = cs_key_decrypt(token, op->key_uri, &op->decrypt, in, len, plain, &n, &err);
		rv = key_ckr(crv, &err, true);
		if (rv != CKR_OK) {
			OPENSSL_clear_free(plain, op->key_size);
			p11_op_clear(op);
			return rv;
		}
		if (op->result != NULL)
			OPENSSL_clear_free(op->result, op->result_len);
		op->result = plain;
		op->result_len = n;
		if (op->data != NULL)
			OPENSSL_clear_free(op->data, op->data_len);
		op->data = NULL;
		op->data_len = 0;
		rv = gather(op, in, len);
		if (rv != CKR_OK) {
			p11_op_clear(op);
			return rv;
		}
	}
	if (*outlen < op->result_len) {
		*outlen = op->result_len;
		return CKR_BUFFER_TOO_SMALL;
	}
	memcpy(out, op->result, op->result_len);
	*outlen = op->result_len;
	p11_op_clear(op);
	return CKR_OK;
}
