/*
 * http_status.c - what an HTTP status from a CA means for the user: the
 * result code (authentication vs CA failure) and the message that says
 * what to do, one wording for every protocol.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"

cs_rv http_status_class(long status)
{
	if (status == 401 || status == 403)
		return CS_ERR_AUTH;
	if (status >= 400 || status < 100)
		return CS_ERR_CA;
	return CS_OK;
}

static void scheme_names(unsigned long mask, char *out, size_t n)
{
	static const struct {
		unsigned long bit;
		const char *name;
	} names[] = {{CURLAUTH_NEGOTIATE, "Negotiate"},
		     {CURLAUTH_NTLM, "NTLM"},
		     {CURLAUTH_BASIC, "Basic"},
		     {CURLAUTH_DIGEST, "Digest"},
		     {CURLAUTH_BEARER, "Bearer"}};
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && used < n; i++)
		if (mask & names[i].bit)
			used += (size_t)snprintf(out + used, n - used, "%s%s", used ? ", " : "",
						 names[i].name);
	if (out[0] == '\0')
		snprintf(out, n, "no scheme libcurl knows");
}

/* HTTP 401: what was refused and what to check, for the profile's scheme. */
static cs_rv unauthorized(const http_conn *h, const char *url, const http_response *resp,
			  cs_err *err)
{
	const enroll_profile *p = h->profile;
	long want = 0;
	const char *user = p->user != NULL ? p->user : "";
	char offered[80];

	if (http_auth_scheme(h, &want, NULL) != CS_OK)
		want = 0;
	/* libcurl answers only the scheme it was given: nothing was sent. */
	if (want != 0 && resp->auth_offered != 0 &&
	    (resp->auth_offered & (unsigned long)want) == 0) {
		scheme_names(resp->auth_offered, offered, sizeof(offered));
		return cs_err_set(err, CS_ERR_AUTH,
				  "%s does not offer auth = %s (HTTP 401 at %s; it offers %s): "
				  "set auth in [ca.%s] to one it offers",
				  h->what, p->auth ? p->auth : "basic", url, offered, p->name);
	}
	/* Kerberos has no password to check: the ticket is missing or expired. */
	if (want == (long)CURLAUTH_NEGOTIATE && p->user == NULL)
		return cs_err_set(err, CS_ERR_AUTH,
				  "%s refused the Kerberos (Negotiate) credentials (HTTP 401 at "
				  "%s): no valid ticket; get one with `kinit USER`, or the "
				  "machine's with `kinit -k` (or KRB5_CLIENT_KTNAME)",
				  h->what, url);
	/* NCONF reads `CORP\alice` as "CORPalice": show the name as it was read. */
	if (want == (long)CURLAUTH_NTLM)
		return cs_err_set(err, CS_ERR_AUTH,
				  "%s refused the NTLM credentials of %s (HTTP 401 at %s): check "
				  "user and password-file in [ca.%s]%s",
				  h->what, user, url, p->name,
				  strpbrk(user, "\\@") == NULL
					  ? " (a domain account is user@domain, or "
					    "DOMAIN\\\\user in certstore.conf)"
					  : "");
	return cs_err_set(err, CS_ERR_AUTH,
			  "%s refused the credentials (HTTP 401 at %s): check user and "
			  "password-file in [ca.%s]",
			  h->what, url, p->name);
}

cs_rv http_status_error(const http_conn *h, const char *url, const http_response *resp, cs_err *err)
{
	if (resp->status == 401)
		return unauthorized(h, url, resp, err);
	if (resp->status == 403)
		return cs_err_set(err, CS_ERR_AUTH,
				  "%s says this account may not do that (HTTP 403 at %s)", h->what,
				  url);
	if (http_status_class(resp->status) != CS_OK)
		return cs_err_set(err, CS_ERR_CA, "%s answered HTTP %ld at %s", h->what,
				  resp->status, url);
	return CS_OK;
}
