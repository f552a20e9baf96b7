#!/bin/bash
# Key status by looking in the token, and the repairs: a certificate whose
# reference was lost is re-linked by `repair`; a reference to another key says
# "Private key mismatch"; a key deleted behind the store's back says "Missing
# private key" in list, show and verify.  delete takes the key out of the
# token unless another certificate uses it or --keep-key is given.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/keys.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
pki_issue "$PKI" second second.test inter server || tap_bail "cannot make a second certificate"
PASS=$TEST_TMP/pass
echo 'secret' >"$PASS"
for n in leaf second expired; do
	make_pfx "$TEST_TMP/$n.pfx" "$PKI/$n.crt" "$PKI/$n.key" "$PASS" -name "$n" ||
		tap_bail "cannot make $n.pfx"
done
LEAF=$(pki_sha1 "$PKI/leaf.crt")
SECOND=$(pki_sha1 "$PKI/second.crt")
keys_init
cs import "$PKI/root.crt" --store Root >/dev/null &&
	cs import "$PKI/inter.crt" >/dev/null &&
	cs import "$TEST_TMP/leaf.pfx" --password-file "$PASS" >/dev/null &&
	cs import "$TEST_TMP/second.pfx" --password-file "$PASS" >/dev/null ||
	tap_bail "cannot fill the store"
sql() { sqlite3 "$STORE/store.db" "$1"; }
LEAF_URI=$(sql "SELECT key_uri FROM certs WHERE sha1 = '$LEAF'")
SECOND_URI=$(sql "SELECT key_uri FROM certs WHERE sha1 = '$SECOND'")
tap_like "$(cs verify "$LEAF")" "^Valid\$" "to start with the leaf is Valid"

# status_everywhere DESC STATUS ID: list, show and verify all say STATUS.
status_everywhere() {
	tap_like "$(cs list My 2>&1 | grep "$3")" " $2 " "$1: list says $2"
	tap_like "$(cs show "$3" 2>&1)" "^Status +$2\$" "$1: show says $2"
	run_cs verify "$3"
	tap_like "$OUT" "^$2\$" "$1: verify says $2"
	tap_is "$RC" 14 "$1: verify exit 14"
}

# --- the reference lost: repair finds the key by its public key --------------------
sql "UPDATE certs SET key_uri = NULL WHERE sha1 = '$LEAF'"
status_everywhere "no reference" "Missing private key" "$LEAF"
run_cs repair "$LEAF"
tap_is "$RC" 0 "repair: exit 0"
tap_like "$OUT" "^repaired CN=leaf.test.*bound to pkcs11:" "repair: says what it bound"
tap_is "$(sql "SELECT key_uri FROM certs WHERE sha1 = '$LEAF'")" "$LEAF_URI" "repair: the same key as before"
tap_like "$(cs verify "$LEAF")" "^Valid\$" "repair: Valid again"

# --- the reference names another key: mismatch --------------------------------------
sql "UPDATE certs SET key_uri = '$SECOND_URI' WHERE sha1 = '$LEAF'"
status_everywhere "another certificate's key" "Private key mismatch" "$LEAF"
cs repair "$LEAF" >/dev/null
tap_like "$(cs verify "$LEAF")" "^Valid\$" "repair after a mismatch: Valid again"

# --- the key deleted behind our back -------------------------------------------------
p11 --delete-object --type privkey --label leaf >/dev/null
status_everywhere "key gone from the token" "Missing private key" "$LEAF"
run_cs repair "$LEAF"
tap_is "$RC" 3 "repair without a matching key: exit 3"
tap_like "$ERR" "no key in the token matches CN=leaf.test" "repair without a matching key: message"

# --- delete takes the key along ------------------------------------------------------------
run_cs delete "$SECOND"
tap_is "$RC" 0 "delete: exit 0"
tap_like "$OUT" "deleted the private key from the token" "delete: says the key went too"
tap_unlike "$(token_objects)" "label: +second\$" "delete: the key and its public key are gone from the token"

# --- --keep-key, and a key kept is bound again on the next import ----------------------------
cs import "$TEST_TMP/expired.pfx" --password-file "$PASS" >/dev/null || tap_bail "cannot import expired.pfx"
run_cs delete expired --keep-key
tap_is "$RC" 0 "delete --keep-key: exit 0"
tap_like "$(token_objects)" "label: +expired" "delete --keep-key: the key stays in the token"
OBJECTS=$(token_objects)
run_cs import "$TEST_TMP/expired.pfx" --password-file "$PASS"
tap_is "$RC" 0 "the PFX imports again with its key still in the token"
tap_is "$(token_objects)" "$OBJECTS" "... and the key is reused, not duplicated"

# --- a key two certificates share stays ----------------------------------------------------
EXPIRED_URI=$(sql "SELECT key_uri FROM certs WHERE friendly_name = 'expired'")
cs import "$PKI/other.crt" --store Root >/dev/null
OTHER=$(pki_sha1 "$PKI/other.crt")
sql "UPDATE certs SET key_uri = '$EXPIRED_URI' WHERE sha1 = '$OTHER'"
run_cs delete expired
tap_is "$RC" 0 "delete of a certificate whose key is shared: exit 0"
tap_like "$OUT" "key kept: $OTHER uses it too" "shared key: kept, and says who uses it"
tap_like "$(token_objects)" "label: +expired" "shared key: still in the token"
tap_done
