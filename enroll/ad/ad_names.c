/*
 * ad_names.c - the names ca discover starts from: a domain's DN, and the
 * default realm of krb5.conf.  No LDAP here, so the unit tests link it alone.
 */
#include "ad_discover.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ad_domain_dn(const char *domain)
{
	size_t n = strlen(domain), i, o = 0;
	char *dn = malloc(n * 2 + 8); /* each label adds "DC=" and "," at most */

	if (dn == NULL || n == 0) {
		free(dn);
		return NULL;
	}
	o += (size_t)sprintf(dn, "DC=");
	for (i = 0; i < n; i++) {
		if (domain[i] == '.' && i + 1 < n)
			o += (size_t)sprintf(dn + o, ",DC=");
		else if (domain[i] != '.')
			dn[o++] = domain[i];
	}
	dn[o] = '\0';
	return dn;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

cs_rv ad_krb5_default_realm(const char *path, char **out, cs_err *err)
{
	FILE *f = fopen(path, "r");
	char line[512], *s, *eq;
	bool in_libdefaults = false;

	*out = NULL;
	if (f == NULL)
		return cs_err_set(err, CS_ERR_NOT_FOUND, "%s: cannot be read", path);
	while (*out == NULL && fgets(line, sizeof(line), f) != NULL) {
		s = trim(line);
		if (*s == '[') {
			in_libdefaults = strncmp(s, "[libdefaults]", 13) == 0;
			continue;
		}
		eq = strchr(s, '=');
		if (!in_libdefaults || eq == NULL || *s == '#' || *s == ';')
			continue;
		*eq = '\0';
		if (strcmp(trim(s), "default_realm") != 0)
			continue;
		*out = strdup(trim(eq + 1));
		for (s = *out; s != NULL && *s; s++)
			*s = (char)tolower((unsigned char)*s);
	}
	fclose(f);
	if (*out == NULL || **out == '\0') {
		free(*out);
		*out = NULL;
		return cs_err_set(err, CS_ERR_NOT_FOUND, "%s names no default_realm", path);
	}
	return CS_OK;
}
