/*
 * sessions.c - session bookkeeping and the login state of each token.  A
 * session here is only a slot, its flags, the state of a search and of one
 * key operation; nothing in a session outlives the module lock.
 *
 * Login is per token and per application (PKCS#11 2.40 section 5.6): every
 * session of a token shares it, and closing the token's last session logs
 * the application out.
 */
#include "p11.h"

#include <stdlib.h>

static p11_session **sessions;
static size_t nsessions;
static CK_SESSION_HANDLE next_handle = 1;
static p11_login login_state[P11_NSLOTS];

p11_login p11_slot_login(CK_SLOT_ID slot)
{
	if (p11_slot_store(slot) == CS_STORE_NONE)
		return P11_LOGIN_NONE;
	return login_state[slot - P11_SLOT_FIRST];
}

bool p11_private_visible(cs_store_id store)
{
	return p11_slot_login(p11_store_slot(store)) == P11_LOGIN_USER;
}

CK_RV p11_object_load_visible(CK_OBJECT_HANDLE h, cs_store_id store, p11_object *obj)
{
	bool present;
	CK_RV rv = p11_store_refresh(&present);

	return rv != CKR_OK ? rv : p11_object_load(h, store, p11_private_visible(store), obj);
}

/* Ends what a session may not keep once nobody is logged in: its key
 * operation and a search whose results may name private objects. */
static void drop_private_state(p11_session *s)
{
	p11_session_end_find(s);
	p11_op_clear(&s->op);
}

void p11_slot_set_login(CK_SLOT_ID slot, p11_login who)
{
	size_t i;

	if (p11_slot_store(slot) == CS_STORE_NONE)
		return;
	login_state[slot - P11_SLOT_FIRST] = who;
	if (who != P11_LOGIN_NONE)
		return;
	for (i = 0; i < nsessions; i++)
		if (sessions[i]->slot == slot)
			drop_private_state(sessions[i]);
}

CK_RV p11_session_open(CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE *out)
{
	p11_session **grown, *s;

	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	if (p11_slot_store(slot) == CS_STORE_NONE)
		return CKR_SLOT_ID_INVALID;
	if (!(flags & CKF_SERIAL_SESSION))
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	/* the token says CKF_WRITE_PROTECTED exactly when this is refused */
	if ((flags & CKF_RW_SESSION) && p11_token_write_protected(slot))
		return CKR_TOKEN_WRITE_PROTECTED;
	/* 5.6: an SO is logged in only while every session is read-write */
	if (!(flags & CKF_RW_SESSION) && p11_slot_login(slot) == P11_LOGIN_SO)
		return CKR_SESSION_READ_WRITE_SO_EXISTS;
	s = calloc(1, sizeof(*s));
	grown = realloc(sessions, (nsessions + 1) * sizeof(*grown));
	if (s == NULL || grown == NULL) {
		free(s);
		return CKR_HOST_MEMORY;
	}
	sessions = grown;
	s->handle = next_handle++;
	s->slot = slot;
	s->flags = flags;
	sessions[nsessions++] = s;
	*out = s->handle;
	return CKR_OK;
}

p11_session *p11_session_get(CK_SESSION_HANDLE h)
{
	size_t i;

	for (i = 0; i < nsessions; i++)
		if (sessions[i]->handle == h)
			return sessions[i];
	return NULL;
}

void p11_session_end_find(p11_session *s)
{
	free(s->found);
	s->found = NULL;
	s->nfound = s->pos = 0;
	s->finding = false;
}

static void remove_at(size_t i)
{
	CK_SLOT_ID slot = sessions[i]->slot;

	drop_private_state(sessions[i]);
	free(sessions[i]);
	sessions[i] = sessions[--nsessions];
	/* 5.6: closing the token's last session logs the application out */
	if (p11_session_count(slot, false) == 0)
		p11_slot_set_login(slot, P11_LOGIN_NONE);
}

CK_RV p11_session_close(CK_SESSION_HANDLE h)
{
	size_t i;

	for (i = 0; i < nsessions; i++) {
		if (sessions[i]->handle == h) {
			remove_at(i);
			return CKR_OK;
		}
	}
	return CKR_SESSION_HANDLE_INVALID;
}

CK_RV p11_session_close_slot(CK_SLOT_ID slot)
{
	size_t i = 0;

	if (p11_slot_store(slot) == CS_STORE_NONE)
		return CKR_SLOT_ID_INVALID;
	while (i < nsessions) {
		if (sessions[i]->slot == slot)
			remove_at(i);
		else
			i++;
	}
	return CKR_OK;
}

void p11_session_close_everything(void)
{
	size_t i;

	while (nsessions > 0)
		remove_at(nsessions - 1);
	free(sessions);
	sessions = NULL;
	for (i = 0; i < P11_NSLOTS; i++)
		login_state[i] = P11_LOGIN_NONE;
}

CK_ULONG p11_session_count(CK_SLOT_ID slot, bool rw_only)
{
	CK_ULONG n = 0;
	size_t i;

	for (i = 0; i < nsessions; i++)
		if (sessions[i]->slot == slot &&
		    (!rw_only || (sessions[i]->flags & CKF_RW_SESSION)))
			n++;
	return n;
}
