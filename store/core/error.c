/*
 * error.c - cs_err: one message and one class per failure.
 */
#include "certstore.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

cs_rv cs_err_set(cs_err *err, cs_rv rv, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return rv;
	err->rv = rv;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rv;
}

void cs_err_prefix(cs_err *err, const char *fmt, ...)
{
	char prefix[512];
	char old[CS_ERR_MSG_MAX];
	size_t used, n;
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncating a long message is fine; losing the prefix is not.  (Not
	 * strncat: gcc -O1 -Werror=stringop-truncation rejects it here.) */
	snprintf(err->msg, sizeof(err->msg), "%s: ", prefix);
	used = strlen(err->msg);
	n = strnlen(old, sizeof(err->msg) - used - 1);
	memcpy(err->msg + used, old, n);
	err->msg[used + n] = '\0';
}

void cs_err_add_openssl(cs_err *err)
{
	unsigned long code;
	char buf[256];
	size_t used;

	/* The newest error is the most specific one for our purposes. */
	code = ERR_peek_last_error();
	ERR_clear_error();
	if (err == NULL || code == 0)
		return;
	ERR_error_string_n(code, buf, sizeof(buf));
	used = strlen(err->msg);
	if (used + 4 < sizeof(err->msg))
		snprintf(err->msg + used, sizeof(err->msg) - used, " (%s)", buf);
}

const char *cs_rv_name(cs_rv rv)
{
	switch (rv) {
	case CS_OK:
		return "success";
	case CS_ERR_INTERNAL:
		return "internal error";
	case CS_ERR_USAGE:
		return "usage error";
	case CS_ERR_NOT_FOUND:
		return "not found";
	case CS_ERR_AMBIGUOUS:
		return "ambiguous";
	case CS_ERR_BAD_INPUT:
		return "bad input";
	case CS_ERR_TRUST_REFUSED:
		return "trust refused";
	case CS_ERR_DUPLICATE:
		return "duplicate";
	case CS_ERR_STORE:
		return "store error";
	case CS_ERR_TOKEN:
		return "token error";
	case CS_ERR_AUTH:
		return "authentication failed";
	case CS_ERR_REFUSED:
		return "refused";
	case CS_ERR_CA:
		return "CA error";
	case CS_ERR_HOOK:
		return "hook failed";
	case CS_ERR_NOT_VALID:
		return "not valid";
	case CS_ERR_PENDING:
		return "pending";
	case CS_ERR_KEY:
		return "key error";
	case CS_ERR_UNREACHABLE:
		return "CA unreachable";
	case CS_ERR_TLS:
		return "TLS verification failed";
	case CS_ERR_STALE:
		return "stale server";
	}
	return "unknown error";
}
