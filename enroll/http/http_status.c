/*
 * http_status.c - what an HTTP status from a CA means for the user: the
 * result code (authentication vs CA failure) and the message that says
 * what to do, one wording for every protocol.
 */
#include "config.h"

#include <strings.h>

#include "http.h"

cs_rv http_status_class(long status)
{
	if (status == 401 || status == 403)
		return CS_ERR_AUTH;
	if (status >= 400 || status < 100)
		return CS_ERR_CA;
	return CS_OK;
}

cs_rv http_status_error(const http_conn *h, const char *url, const http_response *resp, cs_err *err)
{
	const char *name = h->profile->name;

	/* Kerberos has no password to check: the ticket is missing or expired. */
	if (resp->status == 401 && h->profile->user == NULL && h->profile->auth != NULL &&
	    strcasecmp(h->profile->auth, "negotiate") == 0)
		return cs_err_set(err, CS_ERR_AUTH,
				  "%s refused the Kerberos (Negotiate) credentials (HTTP 401 at "
				  "%s): no valid ticket; get one with `kinit USER`, or the "
				  "machine's with `kinit -k` (or KRB5_CLIENT_KTNAME)",
				  h->what, url);
	if (resp->status == 401)
		return cs_err_set(err, CS_ERR_AUTH,
				  "%s refused the credentials (HTTP 401 at %s): check user and "
				  "password-file in [ca.%s]",
				  h->what, url, name);
	if (resp->status == 403)
		return cs_err_set(err, CS_ERR_AUTH,
				  "%s says this account may not do that (HTTP 403 at %s)", h->what,
				  url);
	if (http_status_class(resp->status) != CS_OK)
		return cs_err_set(err, CS_ERR_CA, "%s answered HTTP %ld at %s", h->what,
				  resp->status, url);
	return CS_OK;
}
