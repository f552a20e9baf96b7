/*
 * sessions.c - session bookkeeping.  A session here is only a slot, its
 * flags, the state of a search and of one key operation: there is no login
 * (see module.c) and nothing in a session outlives the module lock.
 */
#include "p11.h"

#include <stdlib.h>

static p11_session **sessions;
static size_t nsessions;
static CK_SESSION_HANDLE next_handle = 1;

CK_RV p11_session_open(CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE *out)
{
	p11_session **grown, *s;

	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	if (p11_slot_store(slot) == CS_STORE_NONE)
		return CKR_SLOT_ID_INVALID;
	if (!(flags & CKF_SERIAL_SESSION))
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	if ((flags & CKF_RW_SESSION) && p11_slot_store(slot) != CS_STORE_ROOT)
		return CKR_TOKEN_WRITE_PROTECTED;
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
	p11_session_end_find(sessions[i]);
	p11_op_clear(&sessions[i]->op);
	free(sessions[i]);
	sessions[i] = sessions[--nsessions];
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
	while (nsessions > 0)
		remove_at(nsessions - 1);
	free(sessions);
	sessions = NULL;
}

CK_ULONG p11_session_count(CK_SLOT_ID slot, bool rw_only)
{
	CK_ULONG n = 0;
	size_t i;

	for (i = 0; i < nsessions; i++)
		if (sessions[i]->slot == slot && (!rw_only || (sessions[i]->flags & CKF_RW_SESSION)))
			n++;
	return n;
}
