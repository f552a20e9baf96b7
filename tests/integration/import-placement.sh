#!/bin/bash
# Without --store, import places each certificate by its kind (end-entity → My,
# intermediate → CA) and skips self-signed roots with a message saying how to
# trust them; every input format lands the same way.
. "$(dirname "$0")/../lib/common.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
LEAF=$(pki_sha1 "$PKI/leaf.crt")
INTER=$(pki_sha1 "$PKI/inter.crt")
ROOT=$(pki_sha1 "$PKI/root.crt")

# Thumbprints listed in one store, one a line, sorted.
listed() {
	cs list "$1" --json | sed -n 's/.*"thumbprint": "\([0-9A-F]*\)".*/\1/p' | sort
}

fresh_store() {
	STORE=$TEST_TMP/store-$1
}

# Imports FILE into a fresh store and checks leaf → My, intermediate → CA, no root.
check_placement() {
	local what=$1 file=$2
	fresh_store "$what"
	run_cs import "$file"
	tap_is "$RC" 0 "$what: import exits 0"
	tap_is "$(listed My)" "$LEAF" "$what: the leaf is in My"
	tap_is "$(listed CA)" "$INTER" "$what: the intermediate is in CA"
	tap_is "$(listed Root)" "" "$what: nothing is in Root"
}

# --- one PEM certificate at a time ---------------------------------------
fresh_store single
run_cs import "$PKI/leaf.crt"
tap_is "$RC" 0 "PEM leaf: exit 0"
tap_like "$OUT" "added to My: .*CN=leaf.test.*$LEAF" "PEM leaf: says it was added to My"
run_cs import "$PKI/inter.crt"
tap_is "$RC" 0 "PEM intermediate: exit 0"
tap_like "$OUT" "added to CA: .*Test Intermediate CA" "PEM intermediate: says it was added to CA"
tap_is "$(listed My)" "$LEAF" "PEM leaf: it is in My"
tap_is "$(listed CA)" "$INTER" "PEM intermediate: it is in CA"

# --- a root without --store Root -----------------------------------------
run_cs import "$PKI/root.crt"
tap_is "$RC" 6 "root without --store Root: exit 6 (trust refused)"
tap_like "$OUT" "skipped self-signed root .*Test Root CA" "root: says it was skipped"
tap_like "$OUT" "certstore import $PKI/root.crt --store Root" "root: says how to trust it"
tap_is "$(listed Root)" "" "root: Root is still empty"
tap_unlike "$(cs list --json)" "$ROOT" "root: not in any store"

run_cs import "$PKI/root.crt" --store "trusted root"
tap_is "$RC" 0 "root with --store 'trusted root' (alias, any case): exit 0"
tap_is "$(listed Root)" "$ROOT" "root: now in Root"

# --- formats --------------------------------------------------------------
cat "$PKI/leaf.crt" "$PKI/inter.crt" "$PKI/root.crt" >"$TEST_TMP/bundle.pem"
fresh_store bundle
run_cs import "$TEST_TMP/bundle.pem"
tap_is "$RC" 0 "PEM bundle with a root: exit 0 (the others were added)"
tap_like "$OUT" "skipped self-signed root" "PEM bundle: the root is reported as skipped"
tap_is "$(listed My)" "$LEAF" "PEM bundle: the leaf is in My"
tap_is "$(listed CA)" "$INTER" "PEM bundle: the intermediate is in CA"
tap_is "$(listed Root)" "" "PEM bundle: nothing is in Root"

cat "$PKI/leaf.crt" "$PKI/inter.crt" >"$TEST_TMP/chain.pem"
check_placement "PEM bundle" "$TEST_TMP/chain.pem"

openssl x509 -in "$PKI/leaf.crt" -outform DER -out "$TEST_TMP/leaf.der"
openssl x509 -in "$PKI/inter.crt" -outform DER -out "$TEST_TMP/inter.der"
fresh_store der
run_cs import "$TEST_TMP/leaf.der"
tap_is "$RC" 0 "DER leaf: exit 0"
tap_is "$(listed My)" "$LEAF" "DER leaf: it is in My"
run_cs import "$TEST_TMP/inter.der"
tap_is "$RC" 0 "DER intermediate: exit 0"
tap_is "$(listed CA)" "$INTER" "DER intermediate: it is in CA"

# Windows "Base-64 encoded X.509": the Base64 of the DER, no PEM header.
base64 -w 64 "$TEST_TMP/leaf.der" >"$TEST_TMP/leaf.cer"
fresh_store base64
run_cs import "$TEST_TMP/leaf.cer"
tap_is "$RC" 0 "Base64 .cer: exit 0"
tap_is "$(listed My)" "$LEAF" "Base64 .cer: the leaf is in My"

openssl crl2pkcs7 -nocrl -certfile "$TEST_TMP/chain.pem" -outform DER -out "$TEST_TMP/chain-der.p7b"
openssl crl2pkcs7 -nocrl -certfile "$TEST_TMP/chain.pem" -outform PEM -out "$TEST_TMP/chain-pem.p7b"
check_placement "PKCS#7 DER" "$TEST_TMP/chain-der.p7b"
check_placement "PKCS#7 PEM" "$TEST_TMP/chain-pem.p7b"

# --- several files, one transaction ----------------------------------------
fresh_store several
run_cs import "$PKI/leaf.crt" "$TEST_TMP/inter.der" "$PKI/root.crt"
tap_is "$RC" 0 "several files: exit 0"
tap_is "$(listed My) $(listed CA)" "$LEAF $INTER" "several files: leaf in My, intermediate in CA"
tap_like "$OUT" "certstore import $PKI/root.crt --store Root" "several files: the hint names the root's own file"

# --- --friendly-name ---------------------------------------------------------
fresh_store friendly
run_cs import "$TEST_TMP/chain.pem" --friendly-name "web server"
tap_is "$RC" 0 "--friendly-name: exit 0"
tap_like "$(cs list My --json)" '"friendly_name": "web server"' "--friendly-name: the leaf carries the name"
tap_unlike "$(cs list CA --json)" '"friendly_name": "web server"' "--friendly-name: the intermediate does not"
run_cs show "web server"
tap_is "$RC" 0 "--friendly-name: show finds the leaf by its name"
tap_like "$OUT" "$LEAF" "--friendly-name: show prints the leaf's thumbprint"

# --- duplicates ---------------------------------------------------------------
run_cs import "$TEST_TMP/chain.pem"
tap_is "$RC" 7 "importing the same certificates again: exit 7 (duplicate)"
tap_like "$OUT" "duplicate, already in My: .*$LEAF" "duplicate: reported per certificate"
tap_is "$(cs list --json | count_listed)" 2 "duplicate: still two certificates"

tap_done
