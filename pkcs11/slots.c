/*
 * slots.c - one slot and one token per store: Personal, Trusted Root,
 * Intermediate CA, Untrusted.  Only Trusted Root is writable (a certificate
 * created there is a trust decision taken through PKCS#11, e.g. by
 * `trust anchor --store`).
 */
#include "p11.h"

#include <string.h>

static const struct {
	cs_store_id store;
	const char *label;	 /* the token label consumers show */
	const char *description; /* the slot description */
} slots[P11_NSLOTS] = {
	{CS_STORE_MY, "Personal", "certstore Personal (My)"},
	{CS_STORE_ROOT, "Trusted Root", "certstore Trusted Root Certification Authorities (Root)"},
	{CS_STORE_CA, "Intermediate CA", "certstore Intermediate Certification Authorities (CA)"},
	{CS_STORE_DISALLOWED, "Untrusted", "certstore Untrusted Certificates (Disallowed)"},
};

void p11_pad(CK_UTF8CHAR *field, size_t size, const char *s)
{
	size_t n = strlen(s);

	memset(field, ' ', size);
	memcpy(field, s, n < size ? n : size);
}

cs_store_id p11_slot_store(CK_SLOT_ID slot)
{
	if (slot < P11_SLOT_FIRST || slot >= P11_SLOT_FIRST + P11_NSLOTS)
		return CS_STORE_NONE;
	return slots[slot - P11_SLOT_FIRST].store;
}

CK_SLOT_ID p11_store_slot(cs_store_id store)
{
	CK_SLOT_ID i;

	for (i = 0; i < P11_NSLOTS; i++)
		if (slots[i].store == store)
			return P11_SLOT_FIRST + i;
	return (CK_SLOT_ID)-1;
}

CK_RV p11_slot_list(CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	CK_ULONG i, have;

	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	have = *count;
	*count = P11_NSLOTS;
	if (list == NULL)
		return CKR_OK;
	if (have < P11_NSLOTS)
		return CKR_BUFFER_TOO_SMALL;
	for (i = 0; i < P11_NSLOTS; i++)
		list[i] = P11_SLOT_FIRST + i;
	return CKR_OK;
}

CK_RV p11_slot_info(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	if (p11_slot_store(slot) == CS_STORE_NONE)
		return CKR_SLOT_ID_INVALID;
	memset(info, 0, sizeof(*info));
	p11_pad(info->slotDescription, sizeof(info->slotDescription),
		slots[slot - P11_SLOT_FIRST].description);
	p11_pad(info->manufacturerID, sizeof(info->manufacturerID), "certstore");
	info->flags = CKF_TOKEN_PRESENT;
	info->hardwareVersion.major = 0;
	info->firmwareVersion.major = 0;
	return CKR_OK;
}

/* Writers (`trust anchor --store`) look for the first token without
 * CKF_WRITE_PROTECTED, so Root has it too when this process could not write
 * anyway; and then it opens no read-write session either. */
bool p11_token_write_protected(CK_SLOT_ID slot)
{
	return p11_slot_store(slot) != CS_STORE_ROOT || !p11_store_writable();
}

bool p11_token_has_pin(CK_SLOT_ID slot)
{
	return p11_slot_store(slot) == CS_STORE_MY && p11_store_has_key_token();
}

CK_RV p11_token_info(CK_SLOT_ID slot, CK_ULONG sessions, CK_ULONG rw_sessions,
		     CK_TOKEN_INFO_PTR info)
{
	cs_store_id store = p11_slot_store(slot);

	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	if (store == CS_STORE_NONE)
		return CKR_SLOT_ID_INVALID;
	memset(info, 0, sizeof(*info));
	p11_pad(info->label, sizeof(info->label), slots[slot - P11_SLOT_FIRST].label);
	p11_pad(info->manufacturerID, sizeof(info->manufacturerID), "certstore");
	p11_pad(info->model, sizeof(info->model), "certstore");
	p11_pad(info->serialNumber, sizeof(info->serialNumber), cs_store_id_name(store));
	p11_pad(info->utcTime, sizeof(info->utcTime), "");
	/* random numbers come from the system's generator (C_GenerateRandom) */
	info->flags = CKF_TOKEN_INITIALIZED | CKF_RNG;
	if (p11_token_write_protected(slot))
		info->flags |= CKF_WRITE_PROTECTED;
	/* Personal's private keys are private objects: the key token's PIN */
	if (store == CS_STORE_MY)
		info->flags |= CKF_LOGIN_REQUIRED;
	if (p11_token_has_pin(slot))
		info->flags |= CKF_USER_PIN_INITIALIZED;
	info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
	info->ulSessionCount = sessions;
	info->ulMaxRwSessionCount = store == CS_STORE_ROOT ? CK_EFFECTIVELY_INFINITE : 0;
	info->ulRwSessionCount = rw_sessions;
	info->ulMaxPinLen = store == CS_STORE_MY ? P11_MAX_PIN_LEN : 0;
	info->ulMinPinLen = store == CS_STORE_MY ? 1 : 0;
	info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->hardwareVersion.major = 0;
	info->firmwareVersion.major = 0;
	return CKR_OK;
}
