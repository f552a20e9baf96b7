#!/bin/bash
# Every bad input is refused with a message naming the file (or the store, or
# the ID) and what is wrong, with the exit code of its class, and leaves the
# store byte-for-byte unchanged.
. "$(dirname "$0")/../lib/common.sh"

PKI=$TEST_TMP/pki
BAD=$TEST_TMP/bad
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
mkdir -p "$BAD"

# --- the bad inputs ---------------------------------------------------------
: >"$BAD/empty.crt"
openssl x509 -in "$PKI/leaf.crt" -outform DER | head -c 300 >"$BAD/truncated.der"
# A PEM certificate whose Base64 body has characters Base64 does not have.
sed '3s/^..../!!!!/; 4s/^..../####/' "$PKI/leaf.crt" >"$BAD/corrupt.pem"
openssl crl2pkcs7 -nocrl -outform DER -out "$BAD/nocerts.p7b"
openssl crl2pkcs7 -nocrl -outform PEM -out "$BAD/nocerts-pem.p7b"
head -c 2048 /dev/urandom >"$BAD/random.bin"
# Random bytes that happen to start like DER must not pass either.
{ printf '\x30\x82\x01\x00'; head -c 256 /dev/urandom; } >"$BAD/random.der"
mkdir "$BAD/a-directory"

# --- a store with something in it, and two ways to be ambiguous --------------
cs import "$PKI/leaf.crt" --friendly-name twin >/dev/null &&
	cs import "$PKI/expired.crt" --friendly-name twin >/dev/null &&
	cs import "$PKI/inter.crt" >/dev/null &&
	cs import "$PKI/root.crt" --store Root >/dev/null &&
	cs import "$PKI/root.crt" --store CA >/dev/null ||
	tap_bail "cannot fill the store"
ROOT=$(pki_sha1 "$PKI/root.crt")

snapshot() {
	store_snapshot
	sha256sum <"$STORE/store.db"
}
BEFORE=$(snapshot)
[ -n "$(cs list --json | count_listed)" ] || tap_bail "cannot list the store"

# expect_refused DESC WANT_RC MESSAGE_ERE ARGS...: runs certstore ARGS and checks
# the exit code, that the message matches, and that the store is unchanged.
expect_refused() {
	local desc=$1 want_rc=$2 message=$3 after
	shift 3
	run_cs "$@"
	tap_is "$RC" "$want_rc" "$desc: exit $want_rc"
	tap_like "$ERR" "^certstore: .*$message" "$desc: the message says what is wrong"
	after=$(snapshot)
	if [ "$after" = "$BEFORE" ]; then
		tap_pass "$desc: the store is unchanged"
	else
		tap_fail "$desc: the store is unchanged" "$(diff <(echo "$BEFORE") <(echo "$after"))"
	fi
}

expect_refused "empty file" 5 "$BAD/empty.crt: .*empty" import "$BAD/empty.crt"
expect_refused "truncated DER" 5 "$BAD/truncated.der: .*truncated" import "$BAD/truncated.der"
expect_refused "PEM with a corrupt body" 5 "$BAD/corrupt.pem: .*(corrupt|Base64)" \
	import "$BAD/corrupt.pem"
expect_refused "PKCS#7 (DER) with no certificates" 5 "$BAD/nocerts.p7b: .*no certificates" \
	import "$BAD/nocerts.p7b"
expect_refused "PKCS#7 (PEM) with no certificates" 5 "$BAD/nocerts-pem.p7b: .*no certificates" \
	import "$BAD/nocerts-pem.p7b"
expect_refused "random bytes" 5 "$BAD/random.bin: .*not a certificate" import "$BAD/random.bin"
expect_refused "random bytes that look like DER" 5 "$BAD/random.der: " import "$BAD/random.der"
expect_refused "a directory" 5 "$BAD/a-directory: .*directory" import "$BAD/a-directory"
expect_refused "a missing path" 5 "$BAD/missing.crt: .*No such file" import "$BAD/missing.crt"
expect_refused "a good file then a bad one (all or nothing)" 5 "$BAD/empty.crt: .*empty" \
	import "$PKI/other.crt" --store Root "$BAD/empty.crt"
expect_refused "a bad file then a good one (all or nothing)" 5 "$BAD/random.bin: " \
	import "$BAD/random.bin" "$PKI/other.crt" --store Root
expect_refused "unknown store name" 3 "unknown store 'Bogus'" \
	import "$PKI/other.crt" --store Bogus
expect_refused "unknown store name in list" 3 "unknown store 'Nowhere'" list Nowhere
expect_refused "ambiguous friendly name (show)" 4 "twin" show twin
tap_like "$OUT" "$(pki_sha1 "$PKI/leaf.crt")" "ambiguous friendly name: the matches are listed (leaf)"
tap_like "$OUT" "$(pki_sha1 "$PKI/expired.crt")" "ambiguous friendly name: the matches are listed (expired)"
expect_refused "ambiguous friendly name (delete)" 4 "twin" delete twin
expect_refused "ambiguous thumbprint in two stores (delete)" 4 "${ROOT:0:8}" delete "${ROOT:0:8}"
tap_like "$OUT" "$ROOT +Root" "ambiguous thumbprint: the Root copy is listed"
tap_like "$OUT" "$ROOT +CA" "ambiguous thumbprint: the CA copy is listed"
expect_refused "no such ID (delete)" 3 "no certificate matches 'ABCDEF0123456789'" \
	delete ABCDEF0123456789
expect_refused "unknown option" 2 "unknown option '--bogus'" import --bogus "$PKI/other.crt"
expect_refused "import without a file" 2 "missing operand" import

# A bad file must not create a store that did not exist.
STORE=$TEST_TMP/never-created
run_cs import "$BAD/empty.crt"
tap_is "$RC" 5 "bad file, no store yet: exit 5"
if [ -e "$STORE" ]; then
	tap_fail "bad file, no store yet: no store is created"
else
	tap_pass "bad file, no store yet: no store is created"
fi

tap_done
