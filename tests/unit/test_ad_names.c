/*
 * test_ad_names.c - the names `certstore ca discover` starts from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ad_discover.h"

static void test_domain_dn_has_one_dc_per_label(void **state)
{
	char *dn = ad_domain_dn("corp.example.com");

	(void)state;
	assert_string_equal(dn, "DC=corp,DC=example,DC=com");
	free(dn);
	dn = ad_domain_dn("example.com.");
	assert_string_equal(dn, "DC=example,DC=com");
	free(dn);
	assert_null(ad_domain_dn(""));
}

static char *write_conf(const char *text)
{
	char *path = strdup("/tmp/test_ad_names.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_default_realm_is_read_from_libdefaults_in_lower_case(void **state)
{
	char *path = write_conf("[realms]\n default_realm = WRONG.ORG\n"
				"[libdefaults]\n  dns_lookup_kdc = true\n"
				"  default_realm = CORP.EXAMPLE.COM  \n");
	char *realm = NULL;

	(void)state;
	assert_int_equal(ad_krb5_default_realm(path, &realm, NULL), CS_OK);
	assert_string_equal(realm, "corp.example.com");
	free(realm);
	unlink(path);
	free(path);
}

static void test_no_default_realm_is_not_found(void **state)
{
	char *path = write_conf("[libdefaults]\n dns_lookup_kdc = true\n");
	char *realm = NULL;
	cs_err err = {0};

	(void)state;
	assert_int_equal(ad_krb5_default_realm(path, &realm, &err), CS_ERR_NOT_FOUND);
	assert_null(realm);
	assert_non_null(strstr(err.msg, "no default_realm"));
	unlink(path);
	free(path);
	assert_int_equal(ad_krb5_default_realm("/nonexistent/krb5.conf", &realm, NULL),
			 CS_ERR_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_dn_has_one_dc_per_label),
		cmocka_unit_test(test_default_realm_is_read_from_libdefaults_in_lower_case),
		cmocka_unit_test(test_no_default_realm_is_not_found),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
