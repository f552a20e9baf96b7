/*
 * fuzz_scep.c - libFuzzer target over the SCEP message parsers
 * (enroll/scep_msg.c): the CertRep pkiMessage (structure and its
 * authenticated attributes), the GetCACert answer and GetCACaps.  The first
 * input byte picks the parser; the rest is the body.  Seeds in
 * corpus/scep/ start with the byte of their parser: 0x00 CertRep, 0x01 CA
 * certificate, 0x04 RA and CA certificates (PKCS#7), 0x02 GetCACaps.
 *
 * Build: ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_scep
 * Run:   tests/fuzz/fuzz_scep -max_total_time=60 tests/fuzz/corpus/scep
 */
#include <stddef.h>
#include <stdint.h>

#include "scep_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cs_cert_list certs = {0}, none = {0};
	const cs_cert *ra = NULL;
	cs_bytes env = {0};
	scep_caps caps;
	scep_rep rep;
	cs_err err;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (scep_rep_parse(data + 1, size - 1, &rep, &err) == CS_OK) {
			(void)scep_fail_info_name(rep.fail_info);
			/* no CA certificates: the signature check must fail cleanly */
			(void)scep_rep_verify(&rep, &none, &env, &err);
			cs_bytes_clear(&env);
			scep_rep_clear(&rep);
		}
		break;
	case 1:
		(void)scep_parse_cacert(data[0] & 4 ? "application/x-x509-ca-ra-cert"
						    : "application/x-x509-ca-cert",
					data + 1, size - 1, &certs, &ra, &err);
		cs_cert_list_clear(&certs);
		break;
	default:
		scep_caps_parse(data + 1, size - 1, &caps);
	}
	return 0;
}
