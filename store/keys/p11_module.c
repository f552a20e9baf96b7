/*
 * p11_module.c - loading a PKCS#11 module (by path or p11-kit name) and
 * turning its return values into certstore errors.  The bottom of key
 * custody: token.c, softhsm.c, keys.c and keyops.c use it; it uses none of
 * them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys_internal.h"

/* ---- errors and small helpers ------------------------------------------- */

cs_rv cs_p11_err(cs_err *err, CK_RV rv, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return cs_err_set(err, CS_ERR_TOKEN, "%s: %s (CKR 0x%lx)", what, p11_kit_strerror(rv),
			  (unsigned long)rv);
}

bool cs_p11_session_dead(CK_RV rv)
{
	switch (rv) {
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_DEVICE_REMOVED:
	case CKR_DEVICE_ERROR:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_CRYPTOKI_NOT_INITIALIZED:
	case CKR_USER_NOT_LOGGED_IN:
		return true;
	default:
		return false;
	}
}

void cs_p11_label(char *dst, const CK_UTF8CHAR *src, size_t n)
{
	memcpy(dst, src, n);
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* ---- the module --------------------------------------------------------- */

cs_rv cs_module_load(const char *module, CK_FUNCTION_LIST **out, cs_err *err)
{
	CK_FUNCTION_LIST *m = NULL;
	CK_RV crv;

	*out = NULL;
	if (strchr(module, '/') == NULL) {
		CK_FUNCTION_LIST **all = p11_kit_modules_load(NULL, 0);

		if (all != NULL) {
			m = p11_kit_module_for_name(all, module);
			for (size_t i = 0; all[i] != NULL; i++)
				if (all[i] != m)
					p11_kit_module_release(all[i]);
			free(all);
		}
	}
	if (m == NULL)
		m = p11_kit_module_load(module, 0);
	if (m == NULL) {
		const char *why = p11_kit_message();

		return cs_err_set(err, CS_ERR_TOKEN, "cannot load PKCS#11 module %s%s%s", module,
				  why ? ": " : "", why ? why : "");
	}
	crv = p11_kit_module_initialize(m);
	if (crv != CKR_OK) {
		p11_kit_module_release(m);
		return cs_p11_err(err, crv, "PKCS#11 module %s does not initialise", module);
	}
	*out = m;
	return CS_OK;
}

void cs_module_unload(CK_FUNCTION_LIST *p11)
{
	if (p11 == NULL)
		return;
	p11_kit_module_finalize(p11);
	p11_kit_module_release(p11);
}
