/*
 * ad_discover.h - the enterprise CAs an Active Directory forest publishes
 * (`certstore ca discover`).
 *
 * AD CS registers each enterprise CA as a pKIEnrollmentService object under
 * CN=Enrollment Services,CN=Public Key Services,CN=Services,<configuration
 * naming context> (its dNSHostName, cACertificate and the certificateTemplates
 * it offers), and each template as a pKICertificateTemplate under
 * CN=Certificate Templates in the same container.  This reads them over LDAP
 * (OpenLDAP's libldap), bound with Kerberos (SASL GSSAPI, the credential
 * cache or the machine keytab through KRB5_CLIENT_KTNAME) or with a simple
 * bind whose password comes from a file, never from argv.
 */
#ifndef CERTSTORE_AD_DISCOVER_H
#define CERTSTORE_AD_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "certstore.h"

typedef struct ad_template {
	char *name;		 /* cn: what a request names (CertificateTemplate:NAME) */
	char *display_name;	 /* displayName */
	long min_key_size;	 /* msPKI-Minimal-Key-Size, 0 when absent */
	bool subject_in_request; /* msPKI-Certificate-Name-Flag ENROLLEE_SUPPLIES_SUBJECT */
} ad_template;

typedef struct ad_ca {
	char *name;	  /* cn of the enrollment service: the CA's name */
	char *host;	  /* dNSHostName: where its /certsrv is */
	cs_bytes cert;	  /* cACertificate (DER), empty when absent */
	char **templates; /* certificateTemplates: names */
	size_t n_templates;
} ad_ca;

typedef struct ad_directory {
	char *domain; /* DNS name of the domain asked */
	char *server; /* the LDAP server (host[:port]) that answered */
	ad_ca *cas;
	size_t n_cas;
	ad_template *templates;
	size_t n_templates;
} ad_directory;

typedef struct ad_query {
	const char *domain;	   /* NULL: default_realm of krb5_conf, else the host's domain */
	const char *server;	   /* NULL: DNS SRV _ldap._tcp.DOMAIN, else DOMAIN itself */
	const char *bind_user;	   /* NULL: SASL GSSAPI; else simple bind as this (DN or UPN) */
	const char *password_file; /* simple bind's password (secret-file rules) */
	const char *store_dir;	   /* owner of secret files, base of relative paths */
	const char *krb5_conf;	   /* NULL: /etc/krb5.conf ($KRB5_CONFIG first) */
	const char *tls_ca;	   /* StartTLS, the DC verified against this CA file
				    * (simple binds use StartTLS always, with
				    * ldap.conf's TLS_CACERT when this is NULL) */
} ad_query;

/* Everything the forest publishes about its enterprise CAs.  Exit classes:
 * CS_ERR_USAGE no domain known, CS_ERR_UNREACHABLE no server, CS_ERR_AUTH the
 * bind was refused (no ticket, wrong password), CS_ERR_TLS the DC's TLS
 * certificate did not verify, CS_ERR_NOT_FOUND no enrollment service is
 * registered. */
cs_rv ad_discover(const ad_query *q, ad_directory *out, cs_err *err);
void ad_directory_clear(ad_directory *d);
const ad_template *ad_directory_template(const ad_directory *d, const char *name);

/* Pure helpers, exposed for the unit tests. */
/* "example.com" -> "DC=example,DC=com"; caller frees. */
char *ad_domain_dn(const char *domain);
/* [libdefaults] default_realm of a krb5.conf, lower-cased (a realm is the
 * domain's DNS name in capitals); CS_ERR_NOT_FOUND when it has none. */
cs_rv ad_krb5_default_realm(const char *path, char **out, cs_err *err);

#endif
