#!/bin/bash
# certstore init makes the store with its SoftHSM2 token (token/, a 0600 pin
# file, certstore.conf); a second init changes nothing and exits 7; a vendor
# token is named with --module/--token/--pin-file, and a pin file others can
# read is refused before anything is written.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/keys.sh"

run_cs init
tap_is "$RC" 0 "init: exit 0"
tap_like "$OUT" "SoftHSM2 token 'certstore'" "init: says which token it made"
tap_ok "init: token/ exists" test -d "$STORE/token/tokens"
tap_is "$(stat -c %a "$STORE/token")" 700 "init: token/ is 0700"
tap_is "$(stat -c %a "$STORE/pin")" 600 "init: the pin file is 0600"
tap_like "$(cat "$STORE/certstore.conf")" "^token = pkcs11:token=certstore" "init: certstore.conf names the token"
tap_like "$(p11 --list-token-slots 2>&1; p11 --show-info)" "certstore" "init: pkcs11-tool logs in with the PIN"

BEFORE=$(store_snapshot; ls -lR --time-style=+%s "$STORE/token"; cat "$STORE/pin" "$STORE/certstore.conf")
run_cs init
tap_is "$RC" 7 "second init: exit 7 (duplicate)"
tap_like "$ERR" "already a store with a key token.*nothing changed" "second init: says so"
tap_is "$(store_snapshot; ls -lR --time-style=+%s "$STORE/token"; cat "$STORE/pin" "$STORE/certstore.conf")" "$BEFORE" \
	"second init: store, token and pin unchanged"

# --- a vendor token: here a second SoftHSM2 token made with softhsm2-util -----------
VENDOR=$TEST_TMP/vendor
mkdir -p "$VENDOR/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$VENDOR/tokens" >"$VENDOR/softhsm2.conf"
export SOFTHSM2_CONF=$VENDOR/softhsm2.conf
softhsm2-util --init-token --free --label vendor --so-pin 87654321 --pin 24681357 >/dev/null ||
	tap_bail "cannot make the vendor token"
STORE=$TEST_TMP/store2
mkdir -m 700 "$STORE"
printf '24681357\n' >"$TEST_TMP/vendor.pin"

chmod 0644 "$TEST_TMP/vendor.pin"
run_cs init --module "$P11_MODULE" --token "pkcs11:token=vendor" --pin-file "$TEST_TMP/vendor.pin"
tap_is "$RC" 8 "init --pin-file with mode 0644: exit 8"
tap_like "$ERR" "vendor.pin is accessible by group or others \(mode 0644\)" "mode 0644: the message says why"
tap_ok "mode 0644: no certstore.conf written" test ! -e "$STORE/certstore.conf"

chmod 0600 "$TEST_TMP/vendor.pin"
run_cs init --module "$P11_MODULE" --token "pkcs11:token=nosuch" --pin-file "$TEST_TMP/vendor.pin"
tap_is "$RC" 9 "init --token naming no token: exit 9"
tap_ok "no such token: no certstore.conf written" test ! -e "$STORE/certstore.conf"

run_cs init --module "$P11_MODULE" --token "pkcs11:token=vendor" --pin-file "$TEST_TMP/vendor.pin"
tap_is "$RC" 0 "init --module --token --pin-file: exit 0"
tap_like "$(cat "$STORE/certstore.conf")" '^token = "pkcs11:token=vendor"' "vendor: certstore.conf names the token"
tap_ok "vendor: no embedded token made" test ! -e "$STORE/token"
run_cs init --module "$P11_MODULE" --token "pkcs11:token=vendor" --pin-file "$TEST_TMP/vendor.pin"
tap_is "$RC" 7 "vendor: second init: exit 7"

run_cs init --module "$P11_MODULE"
tap_is "$RC" 2 "init --module without --token: usage error"
tap_done
