#!/bin/bash
# Bad certstore: URIs and lookups that match nothing end with a clear error
# on the OpenSSL error stack, a failing exit code, and no crash or hang.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/provider.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
cs import "$PKI/root.crt" --store Root >/dev/null || tap_bail "cannot fill the store"

# refused DESC MESSAGE_ERE URI: storeutl on URI fails (not by a signal, not
# by the timeout) with MESSAGE on stderr.
refused() {
	local desc=$1 want=$2 uri=$3
	run_ossl storeutl -noout -certs "$uri"
	if [ "$RC" -ne 0 ] && [ "$RC" -lt 124 ]; then
		tap_pass "$desc: fails (exit $RC)"
	else
		tap_fail "$desc: fails (exit $RC)" "$ERR"
	fi
	tap_like "$ERR" "certstore::.*$want" "$desc: the error says so"
}

refused "unknown store" "unknown store 'Nope'" certstore:Nope
refused "no store named" "name a store" certstore:
refused "an authority" "no authority" certstore://Root
refused "unknown selector" "unknown selector 'colour'" "certstore:Root?colour=red"
refused "two selectors" "one selector" "certstore:Root?thumbprint=AB&usage=x"
refused "selector without =" "has no '='" "certstore:Root?thumbprint"
refused "empty selector value" "empty value" "certstore:Root?friendly-name="
refused "thumbprint not hex" "not hexadecimal" "certstore:Root?thumbprint=XYZ"
refused "thumbprint of the wrong length" "40 \\(SHA-1\\) or 64" "certstore:Root?thumbprint=ABCDEF"
refused "bad percent-encoding" "percent-encoding" "certstore:Root?friendly-name=%zz"
refused "percent-encoded NUL" "percent-encoding" "certstore:Root?friendly-name=a%00b"
refused "usage name with a slash" "not valid" "certstore:?usage=../../etc"
refused "unknown thumbprint" "no certificate with thumbprint 0{40} in Root" \
	"certstore:Root?thumbprint=$(printf '0%.0s' {1..40})"
refused "unknown friendly name" "no certificate with friendly name 'nobody' in My" \
	"certstore:My?friendly-name=nobody"
refused "unknown usage" "unknown usage 'Default'" "certstore:?usage=Default"

STORE=$TEST_TMP/no-such-store refused "missing store directory" "no store here" certstore:Root
mkdir -m 0700 "$TEST_TMP/empty-dir"
STORE=$TEST_TMP/empty-dir refused "directory without a store" "no store in" certstore:Root
mkdir -m 0777 "$TEST_TMP/open-dir"
chmod 0777 "$TEST_TMP/open-dir"
STORE=$TEST_TMP/open-dir refused "store writable by others" "writable by group or others" certstore:Root

run_ossl verify -CAstore certstore:Nope -untrusted "$PKI/inter.crt" "$PKI/leaf.crt"
if [ "$RC" -ne 0 ] && [ "$RC" -lt 124 ]; then
	tap_pass "verify -CAstore certstore:Nope fails (exit $RC)"
else
	tap_fail "verify -CAstore certstore:Nope fails (exit $RC)" "$ERR"
fi
tap_like "$ERR" "unknown store 'Nope'" "... and says the store is unknown"

tap_done
