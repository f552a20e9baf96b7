#!/bin/bash
# When the key token cannot be asked (PIN file unreadable, module missing),
# status says so, "Key token unavailable" with the reason, and not "Missing
# private key": an HSM outage must not read as a lost key (issue 14).  A
# certificate with no key linked is still "Missing private key", and with
# the token back everything is Valid again.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/keys.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
PASS=$TEST_TMP/pass
echo 'pfx secret' >"$PASS"
cat "$PKI/inter.crt" "$PKI/root.crt" >"$PKI/chain.pem"
make_pfx "$TEST_TMP/leaf.pfx" "$PKI/leaf.crt" "$PKI/leaf.key" "$PASS" -name web \
	-certfile "$PKI/chain.pem" || tap_bail "cannot make leaf.pfx"
LEAF=$(pki_sha1 "$PKI/leaf.crt")
keys_init
cs import "$PKI/root.crt" --store Root >/dev/null &&
	cs import "$TEST_TMP/leaf.pfx" --password-file "$PASS" >/dev/null ||
	tap_bail "cannot fill the store"
# a second leaf of the same chain, imported without its key
pki_issue "$PKI" nokey nokey.test inter server && cs import "$PKI/nokey.crt" --store My >/dev/null ||
	tap_bail "cannot import the keyless certificate"
NOKEY=$(pki_sha1 "$PKI/nokey.crt")

run_cs show "$LEAF"
tap_like "$OUT" "^Status +Valid\$" "token working: Valid"

# unavailable DESC REASON-ERE: what show, verify and list say now
unavailable() {
	local desc=$1 ere=$2
	run_cs show "$LEAF"
	tap_like "$OUT" "^Status +Key token unavailable\$" "$desc: show says Key token unavailable"
	tap_like "$OUT" "^Status detail +.*$ere" "$desc: show gives the reason"
	tap_unlike "$OUT" "Missing private key" "$desc: show does not say Missing private key"
	run_cs verify "$LEAF"
	tap_is "$RC" 14 "$desc: verify exits 14"
	tap_like "$OUT" "^Key token unavailable\$" "$desc: verify says Key token unavailable"
	run_cs list --store My
	tap_like "$OUT" "$LEAF .*Key token unavailable" "$desc: list says Key token unavailable"
	run_cs show "$LEAF" --json
	tap_like "$OUT" '"status": *"Key token unavailable"' "$desc: --json status"
	run_cs show "$NOKEY"
	tap_like "$OUT" "Missing private key" "$desc: no key linked is still Missing private key"
}

mv "$STORE/pin" "$TEST_TMP/pin.away"
unavailable "PIN file unreadable" "pin"
mv "$TEST_TMP/pin.away" "$STORE/pin"

cp "$STORE/certstore.conf" "$TEST_TMP/certstore.conf"
sed -i 's|^module = .*|module = /nonexistent/libnope.so|' "$STORE/certstore.conf"
unavailable "module missing" "libnope.so"
cp "$TEST_TMP/certstore.conf" "$STORE/certstore.conf"

run_cs show "$LEAF"
tap_like "$OUT" "^Status +Valid\$" "token back: Valid again"
tap_done
