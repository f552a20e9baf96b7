#!/bin/bash
# Several processes signing through certstore-pkcs11.so at once, each the
# way a short-lived consumer (pkcs11-tool --sign) does it: C_Initialize,
# C_Login, find the key, sign, C_Finalize, again and again.  SoftHSM2 2.6.1
# alone loses the token for a moment whenever one of them logs in (it
# empties token.object and writes it back after letting go of its lock;
# store/keys/token.c), so without certstore's own access lock a good part of
# these signatures fail ("no token matching", CKR_DEVICE_ERROR) and the
# token.object guard "restores" a file that was only being rewritten.
# Bounded: PROCS processes x SIGNS signatures (bench/pkcs11-concurrent-sign
# runs 4 x 2,500).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/provider.sh" # needs_keys, bind_key

PROCS=${CONC_PROCS:-4}
SIGNS=${CONC_SIGNS:-100}
MODULE=${CERTSTORE_PKCS11:-${top_builddir:-.}/.libs/certstore-pkcs11.so}
LOOP=${top_builddir:-.}/tests/helpers/p11-sign-loop
[ -f "$MODULE" ] || tap_bail "no module at $MODULE (set \$CERTSTORE_PKCS11)"
[ -x "$LOOP" ] || tap_bail "no tests/helpers/p11-sign-loop (run make check)"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
cs import "$PKI/leaf.crt" "$PKI/inter.crt" >/dev/null || tap_bail "import leaf"
needs_keys
bind_key "$(pki_sha1 "$PKI/leaf.crt")" "$PKI/leaf.key" || tap_bail "cannot put the key in the token"

pids=()
for i in $(seq "$PROCS"); do
	"$LOOP" "$MODULE" Personal "$STORE/pin" "$SIGNS" "store=$STORE" \
		>"$TEST_TMP/loop.$i.out" 2>"$TEST_TMP/loop.$i.err" &
	pids+=($!)
	bg "$!"
done
for pid in "${pids[@]}"; do
	wait "$pid"
done

total=0
for i in $(seq "$PROCS"); do
	read -r _ ok _ failed <"$TEST_TMP/loop.$i.out"
	total=$((total + ${ok:-0}))
	tap_is "${failed:-missing}" 0 "process $i: no signature failed ($(head -c 300 "$TEST_TMP/loop.$i.err"))"
done
tap_is "$total" "$((PROCS * SIGNS))" "$PROCS processes x $SIGNS signatures through the module all made"
tap_unlike "$(cat "$TEST_TMP"/loop.*.err)" "restored from its copy" \
	"no token.object was mistaken for one a killed process emptied"
run_cs verify "$(pki_sha1 "$PKI/leaf.crt")"
tap_unlike "$OUT$ERR" "Missing private key" "the key is still in the token afterwards"

tap_done
