/*
 * test_certsrv_parse.c - reading AD CS web enrollment pages
 * (enroll/certsrv_parse.c), on the markers real pages carry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "certsrv_parse.h"

static void parse(const char *page, certsrv_result *res)
{
	certsrv_parse_result(page, strlen(page), res);
}

static void test_certsrv_issued_page_gives_the_request_id(void **state)
{
	certsrv_result r;

	(void)state;
	parse("<P>The certificate you requested was issued to you.</P>\n"
	      "<A Href=\"certnew.cer?ReqID=1234&amp;Enc=b64\">Download certificate</A>",
	      &r);
	assert_int_equal(r.outcome, CERTSRV_ISSUED);
	assert_string_equal(r.request_id, "1234");
}

static void test_certsrv_pending_page_gives_the_request_id(void **state)
{
	certsrv_result r;

	(void)state;
	parse("<Font>Certificate Pending</Font><P>Your certificate request has been received. "
	      "However, you must wait for an administrator to issue the certificate you "
	      "requested.</P><P>Your Request Id is 77.</P>",
	      &r);
	assert_int_equal(r.outcome, CERTSRV_PENDING);
	assert_string_equal(r.request_id, "77");
}

static void test_certsrv_denied_page_gives_the_disposition_message(void **state)
{
	certsrv_result r;

	(void)state;
	parse("<P>Your certificate request was denied.</P><P>Your Request Id is 9.</P>"
	      "<P>The disposition message is \"Denied by Policy Module  0x80094800,\n"
	      "  <B>no template</B>.\"</P>",
	      &r);
	assert_int_equal(r.outcome, CERTSRV_DENIED);
	assert_string_equal(r.request_id, "9");
	assert_string_equal(r.message, "Denied by Policy Module 0x80094800, no template.");
}

static void test_certsrv_certnew_html_while_pending_is_pending(void **state)
{
	certsrv_result r;

	(void)state;
	parse("<Table><TR><TD ID=locDispMsg>Disposition message:</TD>\n"
	      "<TD>\t\tTaken Under Submission</TD></TR></Table>",
	      &r);
	assert_int_equal(r.outcome, CERTSRV_PENDING);
	assert_string_equal(r.message, "Taken Under Submission");
}

static void test_certsrv_unknown_page_is_unknown(void **state)
{
	certsrv_result r;

	(void)state;
	parse("<html><body>Welcome. Your Request Id is </body></html>", &r);
	assert_int_equal(r.outcome, CERTSRV_UNKNOWN);
	certsrv_parse_result("certnew.cer?ReqID=", 10, &r); /* bounded by len */
	assert_int_equal(r.outcome, CERTSRV_UNKNOWN);
}

static void test_certsrv_renewals_from_certcarc(void **state)
{
	const char *page = "<Script>\nvar nRenewals=3;\nvar sCAName=\"x\";</Script>";

	(void)state;
	assert_int_equal(certsrv_parse_renewals(page, strlen(page)), 3);
	assert_int_equal(certsrv_parse_renewals("no such thing", 13), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_certsrv_issued_page_gives_the_request_id),
		cmocka_unit_test(test_certsrv_pending_page_gives_the_request_id),
		cmocka_unit_test(test_certsrv_denied_page_gives_the_disposition_message),
		cmocka_unit_test(test_certsrv_certnew_html_while_pending_is_pending),
		cmocka_unit_test(test_certsrv_unknown_page_is_unknown),
		cmocka_unit_test(test_certsrv_renewals_from_certcarc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
