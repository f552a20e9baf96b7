#!/bin/bash
# python-ssl.sh - Python's own SSL and hashing test suites (test_ssl,
# test_hashlib, Debian package libpython3.11-testsuite) with the certstore
# provider included system-wide: a copy of /etc/ssl/openssl.cnf that
# `.include`s the shipped snippet, through OPENSSL_CONF, once with the
# snippet as shipped and once with its [providers] listing certstore before
# default.  A test may fail only if it fails identically without the
# provider.  Prints TAP.
#
# Heavy (minutes of CPU): not part of `make check`; .ci/run runs it once as
# a leg of its own.
#
#   top_builddir=build tests/heavy/python-ssl.sh
top_builddir=${top_builddir:-build}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
export top_builddir top_srcdir
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/provider.sh"

SUITES=${SUITES:-test_ssl test_hashlib}
python3 -c 'import test.support' 2>/dev/null ||
	tap_bail "no Python test suite (apt-get install libpython3.11-testsuite; scripts/deps.sh does)"
SYSCNF=${SYSTEM_OPENSSL_CNF:-/etc/ssl/openssl.cnf}
[ -f "$SYSCNF" ] || tap_bail "no $SYSCNF"

# The snippet as an admin installs it, then a system openssl.cnf including it.
sed -e "s|^module = certstore.so\$|module = $PROVIDER_DIR/certstore.so|" \
	-e "s|^# store = .*|store = $STORE|" "$top_srcdir/provider/certstore-openssl.cnf" \
	>"$TEST_TMP/snippet-last.cnf"
sed -e '/^default = certstore_default_sect$/{h;d}' -e '/^machine-certstore = certstore_sect$/G' \
	"$TEST_TMP/snippet-last.cnf" >"$TEST_TMP/snippet-first.cnf"
for order in first last; do
	{ echo ".include $TEST_TMP/snippet-$order.cnf"; cat "$SYSCNF"; } >"$TEST_TMP/openssl-$order.cnf"
done

# run_suites NAME [OPENSSL_CONF]: the suites, verbose; the ids of the tests
# that failed or erred, sorted, in $TEST_TMP/NAME.failed; the exit status.
run_suites() {
	local name=$1 conf=${2:-$SYSCNF} rc
	# shellcheck disable=SC2086
	(cd "$TEST_TMP" && OPENSSL_CONF=$conf timeout 1800 python3 -m test -v $SUITES) \
		>"$TEST_TMP/$name.log" 2>&1
	rc=$?
	grep -E '^[a-zA-Z_0-9]+ \([a-zA-Z_0-9.]+\) \.\.\. .*(FAIL|ERROR)$|^(FAIL|ERROR): ' \
		"$TEST_TMP/$name.log" | sed -E 's/^(FAIL|ERROR): //; s/ \.\.\. .*//' | sort -u \
		>"$TEST_TMP/$name.failed"
	return $rc
}

run_suites without
base_rc=$?
tap_diag "without the provider: exit $base_rc, $(wc -l <"$TEST_TMP/without.failed") failing tests"
sed 's/^/  fails without the provider too: /' "$TEST_TMP/without.failed" | while read -r l; do tap_diag "$l"; done

for order in first last; do
	conf=$TEST_TMP/openssl-$order.cnf
	tap_like "$(OPENSSL_CONF=$conf openssl list -providers 2>&1)" "machine-certstore" \
		"certstore listed $order: the system openssl.cnf loads the provider"
	tap_like "$(OPENSSL_CONF=$conf python3 -c 'import ssl, hashlib; print(ssl.OPENSSL_VERSION, hashlib.sha256(b"x").hexdigest()[:8])' 2>&1)" \
		"^OpenSSL 3.*2d711642$" "certstore listed $order: python3 imports ssl and hashes"
	run_suites "$order" "$conf"
	rc=$?
	new=$(comm -23 "$TEST_TMP/$order.failed" "$TEST_TMP/without.failed")
	if [ -z "$new" ] && { [ "$rc" = 0 ] || [ "$rc" = "$base_rc" ]; }; then
		tap_pass "certstore listed $order: $SUITES pass (exit $rc; failing without the provider too: $(wc -l <"$TEST_TMP/$order.failed"))"
	else
		tap_fail "certstore listed $order: $SUITES pass" \
			"exit $rc (without the provider: $base_rc); failing only with the provider:
$new
$(tail -40 "$TEST_TMP/$order.log")"
	fi
done

tap_done
