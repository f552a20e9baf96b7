/*
 * fuzz_import.c - libFuzzer target over format detection and parsing
 * (cs_parse_certs), the code every outside byte passes through first.
 *
 * Build: ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_import
 * Run:   tests/fuzz/fuzz_import -max_total_time=60 tests/fuzz/corpus/import
 */
#include <stddef.h>
#include <stdint.h>

#include "certstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cs_cert_list certs = {0};
	cs_format format;
	cs_err err;
	size_t i;

	if (cs_parse_certs(data, size, &format, &certs, &err) == CS_OK) {
		/* Touch what the store would use, so derived fields are exercised too. */
		for (i = 0; i < certs.n; i++)
			(void)(cs_cert_is_ca(certs.items[i]) +
			       cs_cert_is_self_signed(certs.items[i]));
	}
	cs_cert_list_clear(&certs);
	return 0;
}
