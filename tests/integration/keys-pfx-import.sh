#!/bin/bash
# import FILE.pfx: the key goes into the token (CKA_SENSITIVE, CKA_EXTRACTABLE
# only with --exportable, labelled with the friendly name), the certificate
# into My bound to it, the chain to CA and the root to Root only with
# --store Root.  RSA and EC, modern (AES-256/PBKDF2) and legacy (3DES/RC2-40)
# PFX as openssl writes them; pkcs11-tool checks the token on its own.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/keys.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/rsa.key" 2>/dev/null &&
	openssl req -new -key "$PKI/rsa.key" -subj "/O=certstore tests/CN=rsa.test" -out "$PKI/rsa.csr" &&
	pki_extensions server rsa.test >"$PKI/rsa.ext" &&
	openssl x509 -req -in "$PKI/rsa.csr" -CA "$PKI/inter.crt" -CAkey "$PKI/inter.key" \
		-CAcreateserial -days 30 -extfile "$PKI/rsa.ext" -extensions ext \
		-out "$PKI/rsa.crt" 2>/dev/null || tap_bail "cannot make the RSA certificate"
PASS=$TEST_TMP/pass
echo 'pfx secret' >"$PASS"
cat "$PKI/inter.crt" "$PKI/root.crt" >"$PKI/chain.pem"
make_pfx "$TEST_TMP/ec.pfx" "$PKI/leaf.crt" "$PKI/leaf.key" "$PASS" -name "web server" \
	-certfile "$PKI/chain.pem" || tap_bail "cannot make ec.pfx"
make_pfx "$TEST_TMP/rsa-legacy.pfx" "$PKI/rsa.crt" "$PKI/rsa.key" "$PASS" -legacy -name "rsa pfx" \
	-certfile "$PKI/inter.crt" || tap_bail "cannot make rsa-legacy.pfx"
LEAF=$(pki_sha1 "$PKI/leaf.crt")
RSA=$(pki_sha1 "$PKI/rsa.crt")
INTER=$(pki_sha1 "$PKI/inter.crt")
ROOT=$(pki_sha1 "$PKI/root.crt")
keys_init

# --- EC, modern PFX, not exportable -------------------------------------------------
run_cs import "$TEST_TMP/ec.pfx" --password-file "$PASS"
tap_is "$RC" 0 "EC modern PFX: exit 0"
tap_like "$OUT" "^added to My: CN=leaf.test.*\($LEAF\)" "EC PFX: the leaf went to My"
tap_like "$OUT" "^added to CA: CN=Test Intermediate CA" "EC PFX: the intermediate went to CA"
tap_like "$OUT" "^skipped self-signed root CN=Test Root CA" "EC PFX: the root was skipped without --store Root"
tap_like "$OUT" "^private key: pkcs11:.*token=certstore.*\(not exportable\)" "EC PFX: the key is in the token"
tap_unlike "$OUT$ERR" "pfx secret" "the password is never printed"
run_cs show "$LEAF"
tap_like "$OUT" "^Friendly name +web server\$" "EC PFX: friendlyName kept"
tap_like "$OUT" "^Key reference +pkcs11:.*type=private" "EC PFX: bound to a key"
tap_like "$OUT" "^Exportable +no\$" "EC PFX: not exportable"
tap_like "$OUT" "^Status +Untrusted root\$" "EC PFX: Untrusted root until the root is trusted"
tap_is "$(cs list Root | grep -c "$ROOT")" 0 "EC PFX: the root is not in Root"
tap_is "$(private_access "web server")" "sensitive" "pkcs11-tool: EC key CKA_SENSITIVE, not extractable"
tap_like "$(token_objects)" "Private Key Object; EC" "pkcs11-tool: an EC private key object"

cs import "$PKI/root.crt" --store Root >/dev/null
run_cs verify "$LEAF"
tap_is "$RC" 0 "EC PFX: verify exit 0 once the root is trusted"
tap_like "$OUT" "^Valid\$" "EC PFX: Valid (root trusted, key present and matching)"
run_cs list My
tap_like "$OUT" "$LEAF +web server .* yes +Valid " "list: the leaf is Valid with a key"

# --- RSA, legacy PFX, exportable, another friendly name -------------------------------
run_cs import "$TEST_TMP/rsa-legacy.pfx" --password-file "$PASS" --exportable --friendly-name "RSA legacy"
tap_is "$RC" 0 "RSA legacy (RC2-40/3DES) PFX: exit 0"
tap_like "$OUT" "^duplicate, already in CA: CN=Test Intermediate CA" "RSA PFX: the intermediate was already there"
tap_like "$OUT" "\(exportable\)\$" "RSA PFX: exportable"
run_cs show "$RSA"
tap_like "$OUT" "^Friendly name +RSA legacy\$" "RSA PFX: --friendly-name wins over the PFX's"
tap_like "$OUT" "^Exportable +yes\$" "RSA PFX: exportable"
tap_like "$OUT" "^Status +Valid\$" "RSA PFX: Valid"
tap_like "$(private_access "RSA legacy")" "^sensitive.*extractable" "pkcs11-tool: RSA key CKA_SENSITIVE and CKA_EXTRACTABLE"
tap_unlike "$(private_access "RSA legacy")" "never extractable" "pkcs11-tool: RSA key not never-extractable"
tap_like "$(token_objects)" "Private Key Object; RSA" "pkcs11-tool: an RSA private key object"

# --- the password from the environment; --store Root trusts the PFX's root ----------
STORE=$TEST_TMP/store2
keys_init
run_cs import "$TEST_TMP/ec.pfx" --password-env NOT_SET_ANYWHERE
tap_is "$RC" 2 "--password-env naming an unset variable: exit 2"
PFXPW='pfx secret' run_cs import "$TEST_TMP/ec.pfx" --password-env PFXPW --store Root
tap_is "$RC" 0 "--password-env and --store Root: exit 0"
tap_like "$OUT" "^added to Root: CN=Test Root CA" "--store Root: the PFX's root went to Root"
tap_like "$OUT" "^added to My: CN=leaf.test" "--store Root: the leaf still went to My"
tap_like "$(cs verify "$LEAF")" "^Valid\$" "--store Root: Valid at once"

# --- --json: what was placed where, and the key -----------------------------------------
STORE=$TEST_TMP/store-json
keys_init
run_cs import "$TEST_TMP/rsa-legacy.pfx" --password-file "$PASS" --json
tap_is "$RC" 0 "PFX --json: exit 0"
json_get() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" <<<"$OUT"; }
tap_is "$(json_get 'd["added"]')" 2 "PFX --json: two certificates added (leaf and intermediate)"
tap_is "$(json_get '[i["store"] for i in d["items"] if i["thumbprint"] == "'"$RSA"'"][0]')" My \
	"PFX --json: the leaf is listed in My by thumbprint"
tap_like "$(json_get 'd["key"]["uri"]')" "^pkcs11:.*type=private" "PFX --json: the key's URI"
tap_is "$(json_get 'd["key"]["exportable"]')" False "PFX --json: the key is not exportable"
tap_unlike "$OUT$ERR" "pfx secret" "PFX --json: the password is never printed"

# --- no password source and no terminal -------------------------------------------------
STORE=$TEST_TMP/store3
keys_init
OUT=$(setsid "$CERTSTORE" --store-dir "$STORE" import "$TEST_TMP/rsa-legacy.pfx" </dev/null 2>&1)
RC=$?
tap_is "$RC" 2 "no password source and no terminal: exit 2"
tap_like "$OUT" "password-file" "no password: the message names the options"
tap_done
