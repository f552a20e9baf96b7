/*
 * fuzz_est.c - libFuzzer target over the EST response parsers
 * (enroll/est_parse.c): PKCS#7 certs-only answers, /csrattrs and
 * Retry-After, everything an EST server sends that certstore reads.
 * The first input byte picks the parser; the rest is the body.
 *
 * Build: ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_est
 * Run:   tests/fuzz/fuzz_est -max_total_time=60 tests/fuzz/corpus/est
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "est_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cs_cert_list certs = {0};
	est_csrattrs attrs = {0};
	char *text;
	cs_err err;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		(void)est_parse_certs("application/pkcs7-mime", data + 1, size - 1, data[0] & 4,
				      &certs, &err);
		cs_cert_list_clear(&certs);
		break;
	case 1:
		(void)est_parse_csrattrs(data + 1, size - 1, &attrs, &err);
		est_csrattrs_clear(&attrs);
		break;
	default:
		text = strndup((const char *)data + 1, size - 1);
		if (text != NULL)
			(void)est_parse_retry_after(text, 1700000000);
		free(text);
	}
	return 0;
}
