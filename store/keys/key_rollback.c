/*
 * key_rollback.c - undoing a key made for a change that then failed.  A
 * rollback that cannot delete the key says so, with the key's URI, so the
 * admin can remove it by hand: an orphan key in an HSM is not silent.
 */
#include <stdio.h>
#include <string.h>

#include "keys_internal.h"

void cs_key_rollback(cs_token *tok, const char *uri, cs_err *err)
{
	cs_err why = {0};
	size_t len;
	cs_rv rv;

	if (tok == NULL || uri == NULL)
		return;
	rv = cs_key_delete(tok, uri, &why);
	if (rv == CS_OK || rv == CS_ERR_NOT_FOUND || err == NULL)
		return;
	len = strnlen(err->msg, sizeof(err->msg));
	snprintf(err->msg + len, sizeof(err->msg) - len,
		 /* bounded so the first failure's message keeps room */
		 "%sthe key made for it could not be removed from the token (%.300s): %.500s",
		 len > 0 ? "; " : "", uri, why.msg);
}
