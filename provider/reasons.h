/*
 * reasons.h - the reasons the provider puts on OpenSSL's error stack, with
 * their text.  One table for the core (provider.c) and the front
 * (front/front.c), which OpenSSL asks for them when it loads the module:
 * lazily loaded (the default) that is before the core is there.
 */
#ifndef CSP_REASONS_H
#define CSP_REASONS_H

#include <openssl/core.h>

#include "provider.h"

static const OSSL_ITEM csp_reason_strings[] = {
	{CS_ERR_INTERNAL, "internal error"},
	{CS_ERR_USAGE, "usage"},
	{CS_ERR_NOT_FOUND, "not found"},
	{CS_ERR_AMBIGUOUS, "ambiguous"},
	{CS_ERR_BAD_INPUT, "bad input"},
	{CS_ERR_TRUST_REFUSED, "trust refused"},
	{CS_ERR_DUPLICATE, "duplicate"},
	{CS_ERR_STORE, "store error"},
	{CS_ERR_TOKEN, "token error"},
	{CS_ERR_AUTH, "authentication failed"},
	{CS_ERR_REFUSED, "refused"},
	{CS_ERR_CA, "CA error"},
	{CS_ERR_HOOK, "hook failed"},
	{CS_ERR_NOT_VALID, "not valid"},
	{CS_ERR_PENDING, "pending"},
	{CS_ERR_KEY, "key error"},
	{CS_ERR_UNREACHABLE, "unreachable"},
	{CS_ERR_TLS, "TLS certificate not trusted"},
	{CS_ERR_STALE, "stale server"},
	{CSP_R_BAD_URI, "malformed certstore URI"},
	{CSP_R_UNSUPPORTED, "unsupported"},
	{CSP_R_BAD_PARAM, "bad parameter"},
	{0, NULL},
};

#endif
