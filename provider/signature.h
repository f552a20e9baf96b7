/*
 * signature.h - what the two halves of the SIGNATURE implementation share:
 * the operation context, and the parameter functions (signature_params.c)
 * that signature.c's dispatch tables list.
 */
#ifndef CSP_SIGNATURE_H
#define CSP_SIGNATURE_H

#include "provider.h"

typedef struct sig_ctx {
	csp_ctx *prov;
	csp_key *key; /* our copy */
	int is_rsa;
	int pad;	   /* RSA_PKCS1_PADDING or RSA_PKCS1_PSS_PADDING */
	int md;		   /* NID, NID_undef: not set */
	int mgf1_md;	   /* NID, NID_undef: md */
	int saltlen;	   /* OpenSSL's RSA_PSS_SALTLEN_* or bytes */
	EVP_MD_CTX *mdctx; /* digest-sign only */

	/* Delegated operations: one of these is set by the init. */
	EVP_PKEY_CTX *dpctx; /* sign, verify, verify-recover */
	EVP_MD_CTX *dmdctx;  /* digest-sign, digest-verify */
} sig_ctx;

/* OSSL_FUNC_signature_{set,get}_ctx_params and the tables of what they take:
 * digest, padding, PSS salt length and MGF1 digest in; the AlgorithmIdentifier
 * of the signature out.  A delegated operation's are default's own. */
int csp_sig_set_ctx_params(void *ctx, const OSSL_PARAM params[]);
int csp_sig_get_ctx_params(void *ctx, OSSL_PARAM params[]);
const OSSL_PARAM *csp_rsa_sig_settable_ctx_params(void *ctx, void *provctx);
const OSSL_PARAM *csp_ecdsa_sig_settable_ctx_params(void *ctx, void *provctx);
const OSSL_PARAM *csp_rsa_sig_gettable_ctx_params(void *ctx, void *provctx);
const OSSL_PARAM *csp_ecdsa_sig_gettable_ctx_params(void *ctx, void *provctx);

#endif
