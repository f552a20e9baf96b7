/*
 * mechanisms.c - the mechanisms of the Personal token and their parameters,
 * turned into the cs_sign_mech / cs_decrypt_mech of store/keys/keys.h.  The other
 * tokens hold no keys and offer none.
 *
 * Raw mechanisms (CKM_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_ECDSA) sign what the
 * caller gives; the hash-and-sign ones (CKM_SHA256_RSA_PKCS, ...) hash here,
 * in the module's own library context, and send the digest to the HSM.
 */
#include "p11.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#define CAN_SIGN 1
#define CAN_DECRYPT 2

static const struct mech {
	CK_MECHANISM_TYPE type;
	CK_KEY_TYPE key;
	int flags;
	cs_sign_alg alg; /* signing */
	int md;		 /* hash-and-sign: the hash; NID_undef for raw */
} mechs[] = {
	{CKM_RSA_PKCS, CKK_RSA, CAN_SIGN | CAN_DECRYPT, CS_SIGN_RSA_PKCS1, NID_undef},
	{CKM_RSA_PKCS_PSS, CKK_RSA, CAN_SIGN, CS_SIGN_RSA_PSS, NID_undef},
	{CKM_RSA_PKCS_OAEP, CKK_RSA, CAN_DECRYPT, 0, NID_undef},
	{CKM_SHA1_RSA_PKCS, CKK_RSA, CAN_SIGN, CS_SIGN_RSA_PKCS1, NID_sha1},
	{CKM_SHA224_RSA_PKCS, CKK_RSA, CAN_SIGN, CS_SIGN_RSA_PKCS1, NID_sha224},
	{CKM_SHA256_RSA_PKCS, CKK_RSA, CAN_SIGN, CS_SIGN_RSA_PKCS1, NID_sha256},
	{CKM_SHA384_RSA_PKCS, CKK_RSA, CAN_SIGN, CS_SIGN_RSA_PKCS1, NID_sha384},
	{CKM_SHA512_RSA_PKCS, CKK_RSA, CAN_SIGN, CS_SIGN_RSA_PKCS1, NID_sha512},
	{CKM_SHA1_RSA_PKCS_PSS, CKK_RSA, CAN_SIGN, CS_SIGN_RSA_PSS, NID_sha1},
	{CKM_SHA224_RSA_PKCS_PSS, CKK_RSA, CAN_SIGN, CS_SIGN_RSA_PSS, NID_sha224},
	{CKM_SHA256_RSA_PKCS_PSS, CKK_RSA, CAN_SIGN, CS_SIGN_RSA_PSS, NID_sha256},
	{CKM_SHA384_RSA_PKCS_PSS, CKK_RSA, CAN_SIGN, CS_SIGN_RSA_PSS, NID_sha384},
	{CKM_SHA512_RSA_PKCS_PSS, CKK_RSA, CAN_SIGN, CS_SIGN_RSA_PSS, NID_sha512},
	{CKM_ECDSA, CKK_EC, CAN_SIGN, CS_SIGN_ECDSA_RAW, NID_undef},
	{CKM_ECDSA_SHA1, CKK_EC, CAN_SIGN, CS_SIGN_ECDSA_RAW, NID_sha1},
	{CKM_ECDSA_SHA224, CKK_EC, CAN_SIGN, CS_SIGN_ECDSA_RAW, NID_sha224},
	{CKM_ECDSA_SHA256, CKK_EC, CAN_SIGN, CS_SIGN_ECDSA_RAW, NID_sha256},
	{CKM_ECDSA_SHA384, CKK_EC, CAN_SIGN, CS_SIGN_ECDSA_RAW, NID_sha384},
	{CKM_ECDSA_SHA512, CKK_EC, CAN_SIGN, CS_SIGN_ECDSA_RAW, NID_sha512},
};

#define NMECHS (sizeof(mechs) / sizeof(mechs[0]))

static const struct mech *mech_find(CK_MECHANISM_TYPE type)
{
	size_t i;

	for (i = 0; i < NMECHS; i++)
		if (mechs[i].type == type)
			return &mechs[i];
	return NULL;
}

static bool has_keys(CK_SLOT_ID slot)
{
	return p11_slot_store(slot) == CS_STORE_MY;
}

CK_RV p11_mechanism_list(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
	CK_ULONG have, n, i;

	if (p11_slot_store(slot) == CS_STORE_NONE)
		return CKR_SLOT_ID_INVALID;
	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	n = has_keys(slot) ? NMECHS : 0;
	have = *count;
	*count = n;
	if (list == NULL)
		return CKR_OK;
	if (have < n)
		return CKR_BUFFER_TOO_SMALL;
	for (i = 0; i < n; i++)
		list[i] = mechs[i].type;
	return CKR_OK;
}

CK_RV p11_mechanism_info(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
	const struct mech *m = mech_find(type);

	if (p11_slot_store(slot) == CS_STORE_NONE)
		return CKR_SLOT_ID_INVALID;
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	if (m == NULL || !has_keys(slot))
		return CKR_MECHANISM_INVALID;
	memset(info, 0, sizeof(*info));
	/* Sizes in bits for both (PKCS#11 2.40 counts EC keys in bits too). */
	info->ulMinKeySize = m->key == CKK_RSA ? 1024 : 256;
	info->ulMaxKeySize = m->key == CKK_RSA ? 16384 : 521;
	if (m->flags & CAN_SIGN)
		info->flags |= CKF_SIGN;
	if (m->flags & CAN_DECRYPT)
		info->flags |= CKF_DECRYPT;
	if (m->key == CKK_EC)
		info->flags |= CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
	return CKR_OK;
}

/* A PKCS#11 hash (CKM_SHA256) or MGF (CKG_MGF1_SHA256) as an OpenSSL NID. */
static int hash_nid(CK_ULONG v, bool mgf)
{
	static const struct {
		CK_MECHANISM_TYPE hash;
		CK_RSA_PKCS_MGF_TYPE mgf;
		int nid;
	} t[] = {
		{CKM_SHA_1, CKG_MGF1_SHA1, NID_sha1},
		{CKM_SHA224, CKG_MGF1_SHA224, NID_sha224},
		{CKM_SHA256, CKG_MGF1_SHA256, NID_sha256},
		{CKM_SHA384, CKG_MGF1_SHA384, NID_sha384},
		{CKM_SHA512, CKG_MGF1_SHA512, NID_sha512},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if ((mgf ? t[i].mgf : t[i].hash) == v)
			return t[i].nid;
	return NID_undef;
}

static CK_RV parse_pss(const CK_MECHANISM *mech, const struct mech *m, p11_op *op)
{
	CK_RSA_PKCS_PSS_PARAMS p;

	if (mech->pParameter == NULL || mech->ulParameterLen != sizeof(p))
		return CKR_MECHANISM_PARAM_INVALID;
	memcpy(&p, mech->pParameter, sizeof(p));
	op->sign.md = hash_nid(p.hashAlg, false);
	op->sign.mgf1_md = hash_nid(p.mgf, true);
	/* the hash-and-sign forms must name the hash they compute */
	if (op->sign.md == NID_undef || op->sign.mgf1_md == NID_undef ||
	    (m->md != NID_undef && m->md != op->sign.md))
		return CKR_MECHANISM_PARAM_INVALID;
	if (p.sLen > op->key_size)
		return CKR_MECHANISM_PARAM_INVALID;
	op->sign.salt_len = (int)p.sLen;
	return CKR_OK;
}

static CK_RV parse_oaep(const CK_MECHANISM *mech, p11_op *op)
{
	CK_RSA_PKCS_OAEP_PARAMS p;

	if (mech->pParameter == NULL || mech->ulParameterLen != sizeof(p))
		return CKR_MECHANISM_PARAM_INVALID;
	memcpy(&p, mech->pParameter, sizeof(p));
	op->decrypt.md = hash_nid(p.hashAlg, false);
	op->decrypt.mgf1_md = hash_nid(p.mgf, true);
	if (op->decrypt.md == NID_undef || op->decrypt.mgf1_md == NID_undef)
		return CKR_MECHANISM_PARAM_INVALID;
	if (p.source != 0 && p.source != CKZ_DATA_SPECIFIED)
		return CKR_MECHANISM_PARAM_INVALID;
	if (p.ulSourceDataLen > 0) {
		if (p.pSourceData == NULL)
			return CKR_MECHANISM_PARAM_INVALID;
		op->label = malloc(p.ulSourceDataLen);
		if (op->label == NULL)
			return CKR_HOST_MEMORY;
		memcpy(op->label, p.pSourceData, p.ulSourceDataLen);
		op->decrypt.label = op->label;
		op->decrypt.label_len = p.ulSourceDataLen;
	}
	return CKR_OK;
}

CK_RV p11_mechanism_parse(const CK_MECHANISM *mech, CK_KEY_TYPE kt, p11_op *op)
{
	const struct mech *m = mech_find(mech->mechanism);
	int need = op->kind == P11_OP_SIGN ? CAN_SIGN : CAN_DECRYPT;

	if (m == NULL || !(m->flags & need))
		return CKR_MECHANISM_INVALID;
	if (m->key != kt)
		return CKR_KEY_TYPE_INCONSISTENT;
	op->mechanism = m->type;
	if (op->kind == P11_OP_DECRYPT) {
		op->size = op->key_size;
		if (m->type == CKM_RSA_PKCS_OAEP) {
			op->decrypt.alg = CS_DECRYPT_RSA_OAEP;
			return parse_oaep(mech, op);
		}
		op->decrypt.alg = CS_DECRYPT_RSA_PKCS1;
		return CKR_OK;
	}
	op->sign.alg = m->alg;
	op->sign.md = m->md;
	op->sign.mgf1_md = NID_undef;
	op->size = kt == CKK_EC ? 2 * op->key_size : op->key_size;
	if (m->alg == CS_SIGN_RSA_PSS)
		return parse_pss(mech, m, op);
	return CKR_OK;
}

/* The hash a hash-and-sign mechanism computes here, or NID_undef. */
int p11_mechanism_hash(CK_MECHANISM_TYPE type)
{
	const struct mech *m = mech_find(type);

	return m != NULL ? m->md : NID_undef;
}
