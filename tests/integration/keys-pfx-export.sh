#!/bin/bash
# export --format pfx: an exportable key makes a PFX that openssl reads back
# (AES-256/PBKDF2/SHA-256 MAC by default, 3DES/RC2-40/SHA-1 with --legacy),



. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/keys.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
PASS=$TEST_TMP/pass
echo 'export secret' >"$PASS"
make_pfx "$TEST_TMP/in.pfx" "$PKI/leaf.crt" "$PKI/leaf.key" "$PASS" -name web -certfile "$PKI/inter.crt" &&
	make_pfx "$TEST_TMP/other.pfx" "$PKI/expired.crt" "$PKI/expired.key" "$PASS" -name locked ||
	tap_bail "cannot make the PFX files"
LEAF=$(pki_sha1 "$PKI/leaf.crt")
keys_init
cs import "$PKI/root.crt" --store Root >/dev/null &&
	cs import "$TEST_TMP/in.pfx" --password-file "$PASS" --exportable >/dev/null &&
	cs import "$TEST_TMP/other.pfx" --password-file "$PASS" >/dev/null || tap_bail "cannot fill the store"

# --- exportable: modern ------------------------------------------------------------
run_cs export web --format pfx -o "$TEST_TMP/out.pfx" --password-file "$PASS" --chain
tap_is "$RC" 0 "export --format pfx of an exportable key: exit 0"
tap_is "$(stat -c %a "$TEST_TMP/out.pfx")" 600 "the PFX is written 0600"
INFO=$(openssl pkcs12 -info -nokeys -in "$TEST_TMP/out.pfx" -passin "file:$PASS" 2>&1)
tap_like "$INFO" "^MAC: sha256" "modern: SHA-256 MAC"
tap_like "$INFO" "PBES2, PBKDF2, AES-256-CBC.*hmacWithSHA256" "modern: PBES2/PBKDF2/AES-256-CBC"
tap_like "$INFO" "friendlyName: web" "modern: friendlyName set"
tap_is "$(printf '%s\n' "$INFO" | grep -c '^subject=')" 3 "--chain: leaf, intermediate and root"
openssl pkcs12 -in "$TEST_TMP/out.pfx" -passin "file:$PASS" -nocerts -nodes 2>/dev/null |
	openssl pkey -pubout >"$TEST_TMP/out.pub" 2>/dev/null
openssl x509 -in "$PKI/leaf.crt" -pubkey -noout >"$TEST_TMP/leaf.pub"
tap_ok "modern: the PFX's key is the certificate's" cmp "$TEST_TMP/out.pub" "$TEST_TMP/leaf.pub"

# --- exportable: legacy -------------------------------------------------------------
run_cs export "$LEAF" --format pfx --legacy -o "$TEST_TMP/legacy.pfx" --password-file "$PASS"
tap_is "$RC" 0 "export --format pfx --legacy: exit 0"
INFO=$(openssl pkcs12 -info -nokeys -legacy -in "$TEST_TMP/legacy.pfx" -passin "file:$PASS" 2>&1)
tap_like "$INFO" "^MAC: sha1" "legacy: SHA-1 MAC"
tap_like "$INFO" "pbeWithSHA1And3-KeyTripleDES-CBC" "legacy: 3DES key bag"
tap_like "$INFO" "pbeWithSHA1And40BitRC2-CBC" "legacy: RC2-40 certificates"

# --- round trip into a fresh store -----------------------------------------------------
STORE0=$STORE
STORE=$TEST_TMP/store2
keys_init
run_cs import "$TEST_TMP/legacy.pfx" --password-file "$PASS"
tap_is "$RC" 0 "the exported legacy PFX imports into another store"
tap_like "$(cs show "$LEAF")" "^Friendly name +web\$" "round trip: friendly name"
STORE=$STORE0

# --- not exportable: the tool refuses, and so does the token ----------------------------
BEFORE=$(ls "$TEST_TMP")
run_cs export locked --format pfx -o "$TEST_TMP/locked.pfx" --password-file "$PASS"
tap_is "$RC" 11 "non-exportable key: exit 11"
tap_like "$ERR" "the private key of CN=expired.test.* is not exportable" "non-exportable: the message says so"
tap_is "$(ls "$TEST_TMP")" "$BEFORE" "non-exportable: no file written"
# opensc 0.23's pkcs11-tool reads no private key value at all ("not (yet)
# supported"), for an exportable key neither: ask the token directly.  Both
# keys are sensitive (no value in the clear); the token must refuse to wrap
# the non-exportable one and wrap the exportable one, or the refusal proves
# nothing.
secret() { # LABEL
	SOFTHSM2_CONF=$STORE/token/softhsm2.conf "$top_builddir/tests/helpers/p11-secret" \
		"$P11_MODULE" "${P11_PIN_FILE:-$STORE/pin}" "$1" 2>&1
}
tap_is "$(secret locked)" "value: CKR_ATTRIBUTE_SENSITIVE wrap: CKR_KEY_UNEXTRACTABLE" \
	"the token refuses the non-exportable key: CKR_ATTRIBUTE_SENSITIVE, CKR_KEY_UNEXTRACTABLE"
tap_like "$(secret web)" "^value: CKR_ATTRIBUTE_SENSITIVE wrap: CKR_OK [1-9][0-9]* bytes$" \
	"the token wraps the exportable key (what export --format pfx does)"
tap_is "$(private_access locked)" "sensitive" "pkcs11-tool: the token holds it CKA_SENSITIVE, CKA_EXTRACTABLE false"
tap_like "$(private_access web)" "extractable" "pkcs11-tool: the exportable one is CKA_EXTRACTABLE"
run_cs export "$(pki_sha1 "$PKI/inter.crt")" --format pfx -o "$TEST_TMP/ca.pfx" --password-file "$PASS"
tap_is "$RC" 16 "a certificate without key: exit 16"
run_cs export web --format pem --legacy
tap_is "$RC" 2 "--legacy without --format pfx: usage error"
tap_done
