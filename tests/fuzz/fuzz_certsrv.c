/*
 * fuzz_certsrv.c - libFuzzer target over the AD CS web enrollment page
 * parser (enroll/certsrv_parse.c): every certfnsh.asp, certnew.cer
 * and certcarc.asp page a CA (or anyone in between) sends goes through it.
 *
 * Build: ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_certsrv
 * Run:   tests/fuzz/fuzz_certsrv -max_total_time=60 tests/fuzz/corpus/certsrv
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certsrv_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so reading one byte past the page is caught. */
	char *page = malloc(size ? size : 1);
	certsrv_result res;

	if (page == NULL)
		return 0;
	memcpy(page, data, size);
	certsrv_parse_result(page, size, &res);
	if (memchr(res.request_id, '\0', sizeof(res.request_id)) == NULL ||
	    memchr(res.message, '\0', sizeof(res.message)) == NULL)
		abort();
	(void)certsrv_parse_renewals(page, size);
	free(page);
	return 0;
}
