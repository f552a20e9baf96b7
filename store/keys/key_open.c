/*
 * key_open.c - the one way to reach a private key in the token, and the one
 * retry when its handle went stale.  keys.c and keyops.c open keys only
 * through here, so every operation takes the same session and lookup path.
 */
#include "keys_internal.h"

cs_rv cs_key_open(cs_token *tok, const char *uri, bool fresh, cs_session *s, cs_key_ref *ref,
		  cs_key_info *key, cs_err *err)
{
	cs_rv rv = cs_key_ref_parse(tok, uri, ref, err);

	if (rv == CS_OK)
		rv = cs_session_get(tok, s, err);
	if (rv == CS_OK)
		rv = cs_find_private(s, uri, ref, fresh, key, err);
	return rv;
}

void cs_key_close(cs_session *s, cs_key_ref *ref)
{
	cs_session_put(s, false);
	cs_key_ref_clear(ref);
}

static bool handle_stale(CK_RV crv)
{
	return crv == CKR_KEY_HANDLE_INVALID || crv == CKR_OBJECT_HANDLE_INVALID;
}

cs_rv cs_key_run(cs_session *s, const char *uri, const cs_key_ref *ref, cs_key_info *key,
		 cs_key_op op, void *ctx, CK_RV *crv, cs_err *err)
{
	cs_rv rv;

	*crv = op(s, key, ctx);
	if (!handle_stale(*crv))
		return CS_OK;
	/* The object was re-created (or the cache outlived it): look again. */
	cs_cache_clear(s->tok);
	rv = cs_find_private(s, uri, ref, true, key, err);
	if (rv != CS_OK)
		return rv;
	*crv = op(s, key, ctx);
	return CS_OK;
}
