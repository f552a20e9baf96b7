#!/bin/bash
# What goes wrong with keys, each with a clear message and its exit code, and
# nothing changed: neither the store (store_snapshot) nor the token's objects
# (pkcs11-tool --list-objects before and after): wrong PFX password, PFX
# without key, a key type the token cannot hold, wrong PIN, token absent,
# module missing.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/keys.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
PASS=$TEST_TMP/pass
echo 'right one' >"$PASS"
echo 'wrong one' >"$TEST_TMP/wrong"
make_pfx "$TEST_TMP/leaf.pfx" "$PKI/leaf.crt" "$PKI/leaf.key" "$PASS" -name web &&
	openssl pkcs12 -export -nokeys -in "$PKI/inter.crt" -passout "file:$PASS" \
		-out "$TEST_TMP/nokey.pfx" &&
	openssl genpkey -algorithm ED25519 -out "$PKI/ed.key" 2>/dev/null &&
	openssl req -x509 -new -key "$PKI/ed.key" -subj "/CN=ed25519.test" -days 30 \
		-out "$PKI/ed.crt" 2>/dev/null &&
	make_pfx "$TEST_TMP/ed.pfx" "$PKI/ed.crt" "$PKI/ed.key" "$PASS" -name ed ||
	tap_bail "cannot make the PFX files"
keys_init
cp "$STORE/pin" "$TEST_TMP/real.pin"
export P11_PIN_FILE=$TEST_TMP/real.pin
# Something in the store and the token already, so "unchanged" means something.
cs import "$PKI/root.crt" --store Root >/dev/null &&
	make_pfx "$TEST_TMP/exp.pfx" "$PKI/expired.crt" "$PKI/expired.key" "$PASS" -name old &&
	cs import "$TEST_TMP/exp.pfx" --password-file "$PASS" >/dev/null || tap_bail "cannot fill the store"

# expect_failure DESC WANT_RC ERE ARGS...: runs certstore ARGS and checks the
# exit code, the message, and that store and token are as they were.
expect_failure() {
	local desc=$1 want=$2 ere=$3 before objects
	shift 3
	before=$(store_snapshot)
	objects=$(token_objects)
	run_cs "$@"
	tap_is "$RC" "$want" "$desc: exit $want"
	tap_like "$ERR" "$ere" "$desc: message"
	tap_unlike "$OUT$ERR" "right one|wrong one|$(cat "$TEST_TMP/real.pin")" "$desc: no secret in the output"
	tap_is "$(store_snapshot)" "$before" "$desc: store unchanged"
	tap_is "$(token_objects)" "$objects" "$desc: token objects unchanged"
}

expect_failure "wrong PFX password" 10 "^certstore: wrong password for .*leaf.pfx\$" \
	import "$TEST_TMP/leaf.pfx" --password-file "$TEST_TMP/wrong"
expect_failure "PFX without a key" 5 "nokey.pfx holds no private key" \
	import "$TEST_TMP/nokey.pfx" --password-file "$PASS"
expect_failure "Ed25519 key (the token cannot hold it)" 9 "keeps only RSA and EC keys in the token; this is an ED25519 key" \
	import "$TEST_TMP/ed.pfx" --password-file "$PASS"
expect_failure "not a PFX, with --exportable" 2 "apply to PFX files only" \
	import "$PKI/leaf.crt" --exportable

echo 0000000000 >"$STORE/pin"
expect_failure "wrong PIN in the pin file" 10 "wrong PIN" \
	import "$TEST_TMP/leaf.pfx" --password-file "$PASS"
expect_failure "wrong PIN: delete keeps everything" 10 "nothing deleted" delete old
cp "$TEST_TMP/real.pin" "$STORE/pin"
chmod 0644 "$STORE/pin"
expect_failure "pin file readable by others" 8 "accessible by group or others" \
	import "$TEST_TMP/leaf.pfx" --password-file "$PASS"
chmod 0600 "$STORE/pin"

cp "$STORE/certstore.conf" "$TEST_TMP/certstore.conf"
sed -i 's/^token = .*/token = pkcs11:token=elsewhere/' "$STORE/certstore.conf"
expect_failure "token absent" 9 "elsewhere" import "$TEST_TMP/leaf.pfx" --password-file "$PASS"
run_cs show old
tap_like "$OUT" "^Also +Key token unavailable\$" "token absent: show says Key token unavailable (after Expired), not Missing private key"
tap_like "$ERR" "warning: the key token cannot be opened" "token absent: show warns why"
cp "$TEST_TMP/certstore.conf" "$STORE/certstore.conf"

sed -i 's|^module = .*|module = /nonexistent/libnope.so|' "$STORE/certstore.conf"
expect_failure "module missing" 9 "libnope.so" import "$TEST_TMP/leaf.pfx" --password-file "$PASS"
expect_failure "module missing: export" 9 "libnope.so" \
	export old --format pfx -o "$TEST_TMP/x.pfx" --password-file "$PASS"
cp "$TEST_TMP/certstore.conf" "$STORE/certstore.conf"

run_cs import "$TEST_TMP/leaf.pfx" --password-file "$PASS"
tap_is "$RC" 0 "with everything restored the same import works"
expect_failure "the same PFX again" 7 "already in My" import "$TEST_TMP/leaf.pfx" --password-file "$PASS"
tap_done
