# usage.sh - helpers for the usage tests (source after common.sh).
#
#   usage_setup          test PKI in $PKI plus leaf2 (a second server cert); the store
#                        trusts root, holds inter in CA and leaf, leaf2, expired in My;
#                        sets $A, $B, $EXPIRED (SHA-1 thumbprints of leaf, leaf2, expired)
#   give_key SHA1        binds a stand-in key reference to a certificate in My
#   published_sha1 NAME  thumbprint of usages/NAME/cert.pem ("" when unreadable)
#   db_usage_sha1 NAME   what the database assigns to NAME
#   usage_files_whole NAME   cert.pem is one certificate, chain.pem the intermediate,
#                        fullchain.pem = cert.pem + chain.pem, key.pem a key reference

PKI=$TEST_TMP/pki

usage_setup() {
	pki_make_all "$PKI" && pki_issue "$PKI" leaf2 leaf2.test inter server || return 1
	cs import "$PKI/root.crt" --store Root >/dev/null &&
	cs import "$PKI/inter.crt" "$PKI/leaf.crt" "$PKI/leaf2.crt" "$PKI/expired.crt" >/dev/null || return 1
	A=$(pki_sha1 "$PKI/leaf.crt")
	B=$(pki_sha1 "$PKI/leaf2.crt")
	EXPIRED=$(pki_sha1 "$PKI/expired.crt")
}

# Until the key custody work (`certstore init`, PFX import) is on main, a key
# is a reference in the certificate's row: status only asks whether one is
# bound, as it does when no token is configured.
give_key() {
	sqlite3 "$STORE/store.db" \
		"UPDATE certs SET key_uri = 'pkcs11:token=test;id=%01;type=private' WHERE sha1 = '$1' AND store = 'My'"
}

published_sha1() {
	local f=$STORE/usages/$1/cert.pem
	[ "$(grep -c 'BEGIN CERTIFICATE' "$f" 2>/dev/null)" = 1 ] || return 0
	pki_sha1 "$f" 2>/dev/null
}

db_usage_sha1() {
	sqlite3 "$STORE/store.db" "SELECT sha1 FROM usages WHERE name = '$1'"
}

usage_files_whole() {
	local d=$STORE/usages/$1
	[ "$(grep -c 'BEGIN CERTIFICATE' "$d/cert.pem")" = 1 ] &&
	openssl x509 -in "$d/cert.pem" -noout 2>/dev/null &&
	cmp -s "$d/chain.pem" "$PKI/inter.crt" &&
	[ "$(cat "$d/cert.pem" "$d/chain.pem")" = "$(cat "$d/fullchain.pem")" ] &&
	grep -q 'BEGIN CERTSTORE KEY REFERENCE' "$d/key.pem"
}
