/*
 * ad_tls.c - StartTLS on the LDAP connection of `ca discover`.
 *
 * An AD domain controller refuses a simple bind over plain LDAP ("Strong(er)
 * authentication required": Samba's `ldap server require strong auth`,
 * Windows' LDAP signing policy), and a password must not cross the network
 * in clear anyway.  So a simple bind always runs inside StartTLS, and so
 * does a Kerberos bind when --tls-ca names the CA file.  The DC's TLS
 * certificate is verified, with its name, against --tls-ca, else against
 * libldap's own configuration (TLS_CACERT in ldap.conf, $LDAPTLS_CACERT).
 */
#include "ad_tls.h"

#include <ldap.h>

cs_rv ad_start_tls(LDAP *ld, const ad_query *q, const char *server, cs_err *err)
{
	int demand = LDAP_OPT_X_TLS_DEMAND, fresh = 0, rc;
	char *detail = NULL;
	cs_rv rv;

	/* Without --tls-ca the handle keeps libldap's global TLS context, made
	 * from ldap.conf and $LDAPTLS_*: a handle's own new context would start
	 * with no CA at all (libldap clears a handle's TLS paths). */
	if (q->tls_ca != NULL) {
		ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
		if (ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, q->tls_ca) != LDAP_OPT_SUCCESS)
			return cs_err_set(err, CS_ERR_USAGE, "--tls-ca %s: cannot use it",
					  q->tls_ca);
		/* The options above take effect only in a context made after them. */
		if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &fresh) != LDAP_OPT_SUCCESS)
			return cs_err_set(err, CS_ERR_BAD_INPUT,
					  "--tls-ca %s: cannot set up TLS with the CA "
					  "certificates in it",
					  q->tls_ca);
	}
	rc = ldap_start_tls_s(ld, NULL, NULL);
	if (rc == LDAP_SUCCESS)
		return CS_OK;
	ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &detail);
	if (rc == LDAP_SERVER_DOWN && detail == NULL)
		rv = cs_err_set(err, CS_ERR_UNREACHABLE,
				"cannot reach the domain controller %s: %s", server,
				ldap_err2string(rc));
	else if (rc == LDAP_CONNECT_ERROR || rc == LDAP_SERVER_DOWN)
		rv = cs_err_set(err, CS_ERR_TLS,
				"the TLS certificate of the domain controller %s did not verify "
				"against %s (LDAP: %s); pass the CA that issued it with --tls-ca "
				"FILE",
				server, q->tls_ca ? q->tls_ca : "ldap.conf's TLS_CACERT",
				ldap_err2string(rc));
	else
		rv = cs_err_set(err, CS_ERR_TLS,
				"the domain controller %s refused StartTLS: %s (a simple bind "
				"never sends its password without TLS)",
				server, detail ? detail : ldap_err2string(rc));
	ldap_memfree(detail);
	return rv;
}
