#!/bin/bash
# show finds a certificate by SHA-1, SHA-256, an 8-digit prefix or its
# friendly name and prints its fields; export writes PEM, DER and PKCS#7 (with
# the chain) that openssl reads back as the same certificates; delete removes
# it; the audit log records every change.
. "$(dirname "$0")/../lib/common.sh"

PKI=$TEST_TMP/pki
OUTDIR=$TEST_TMP/out
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
mkdir -p "$OUTDIR"
LEAF=$(pki_sha1 "$PKI/leaf.crt")
LEAF256=$(pki_sha256 "$PKI/leaf.crt")
INTER=$(pki_sha1 "$PKI/inter.crt")
ROOT=$(pki_sha1 "$PKI/root.crt")

cs import "$PKI/root.crt" --store Root >/dev/null &&
	cs import "$PKI/leaf.crt" "$PKI/inter.crt" --friendly-name web >/dev/null ||
	tap_bail "cannot import the chain"

# --- show -----------------------------------------------------------------------
lower() { tr 'A-F' 'a-f'; }
colons() { sed 's/../&:/g; s/:$//'; }

for id in "$LEAF" "$LEAF256" "${LEAF:0:8}" "$(echo "$LEAF" | lower)" "$(echo "$LEAF" | colons)" web; do
	run_cs show "$id"
	tap_is "$RC" 0 "show '$id': exit 0"
	tap_like "$OUT" "^SHA-1 thumbprint +$LEAF\$" "show '$id': finds the leaf"
done

run_cs show web
tap_like "$OUT" "^Subject +CN=leaf.test" "show: subject"
tap_like "$OUT" "^Issuer +CN=Test Intermediate CA" "show: issuer"
tap_like "$OUT" "^Serial +$(openssl x509 -in "$PKI/leaf.crt" -noout -serial | sed 's/.*=//')\$" "show: serial"
tap_like "$OUT" "^Not after +$(date -u -d "$(openssl x509 -in "$PKI/leaf.crt" -noout -enddate | sed 's/.*=//')" +%Y-%m-%dT%H:%M:%SZ)\$" "show: not after"
tap_like "$OUT" "^Subject alt names +DNS:leaf.test, DNS:www.leaf.test, IP Address:127.0.0.1\$" "show: SANs"
tap_like "$OUT" "^Key usage +Digital Signature, Key Encipherment\$" "show: key usage"
tap_like "$OUT" "^Extended key usage +TLS Web Server Authentication, TLS Web Client Authentication\$" "show: EKU"
tap_like "$OUT" "^Basic constraints +CA:FALSE\$" "show: basic constraints"
tap_like "$OUT" "^SHA-256 thumbprint +$LEAF256\$" "show: SHA-256 thumbprint"
tap_like "$OUT" "^Store +My\$" "show: store"
tap_like "$OUT" "^Friendly name +web\$" "show: friendly name"
tap_like "$OUT" "^Status +Missing private key\$" "show: status"
tap_like "$OUT" "^  2  $ROOT  CN=Test Root CA" "show: the chain reaches the root"
run_cs show "$INTER" --json
tap_like "$OUT" '"basic_constraints": \[' "show --json: basic constraints as an array"
tap_like "$OUT" '"CA:TRUE"' "show --json: the intermediate is a CA"
run_cs show "$LEAF" --store CA
tap_is "$RC" 3 "show --store CA of a certificate in My: not found (exit 3)"

# --- set ----------------------------------------------------------------------------
run_cs set "$INTER" --friendly-name issuing-ca
tap_is "$RC" 0 "set --friendly-name: exit 0"
tap_like "$(cs show issuing-ca)" "^SHA-1 thumbprint +$INTER\$" "set --friendly-name: show finds it by the new name"

# --- export ------------------------------------------------------------------------
# The SHA-1 thumbprints of the certificates in a PEM stream, in order.
pem_thumbprints() {
	local tmp=$TEST_TMP/split n=0
	rm -rf "$tmp" && mkdir "$tmp"
	awk -v dir="$tmp" '/BEGIN CERTIFICATE/ { n++ } n { print > (dir "/" n ".pem") }'
	for f in $(ls "$tmp" | sort -n); do
		pki_sha1 "$tmp/$f"
	done | tr '\n' ' '
}

run_cs export web -o "$OUTDIR/leaf.pem"
tap_is "$RC" 0 "export pem -o: exit 0"
tap_is "$(pki_sha1 "$OUTDIR/leaf.pem")" "$LEAF" "export pem: openssl reads the leaf back"
tap_is "$(stat -c %a "$OUTDIR/leaf.pem")" 644 "export -o: mode 0644"
tap_is "$(cs export web | pki_sha1 /dev/stdin)" "$LEAF" "export pem to stdout: the leaf"
run_cs export web --output "$OUTDIR/leaf-long.pem"
tap_is "$(pki_sha1 "$OUTDIR/leaf-long.pem")" "$LEAF" "export --output (the long -o): the leaf"
run_cs export web --format der -o "$OUTDIR/leaf.der"
tap_is "$RC" 0 "export der: exit 0"
tap_is "$(openssl x509 -inform DER -in "$OUTDIR/leaf.der" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')" "$LEAF" \
	"export der: openssl reads the leaf back"
tap_is "$(cmp "$OUTDIR/leaf.der" <(openssl x509 -in "$PKI/leaf.crt" -outform DER) && echo same)" same \
	"export der: byte-for-byte the imported certificate"
tap_is "$(cs export web --chain | pem_thumbprints)" "$LEAF $INTER $ROOT " "export --chain pem: leaf, intermediate, root"
run_cs export web --format p7b --chain -o "$OUTDIR/chain.p7b"
tap_is "$RC" 0 "export p7b --chain: exit 0"
tap_is "$(openssl pkcs7 -inform DER -in "$OUTDIR/chain.p7b" -print_certs 2>/dev/null | pem_thumbprints | tr ' ' '\n' | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "$LEAF" "$INTER" "$ROOT" | sort | tr '\n' ' ')" "export p7b --chain: openssl pkcs7 reads the three certificates"
run_cs export web --format p7b -o "$OUTDIR/leaf.p7b"
tap_is "$(openssl pkcs7 -inform DER -in "$OUTDIR/leaf.p7b" -print_certs 2>/dev/null | pem_thumbprints)" "$LEAF " \
	"export p7b: openssl pkcs7 reads the leaf alone"
run_cs export web --format der --chain
tap_is "$RC" 2 "export der --chain: refused as a usage error (exit 2)"
run_cs export web --format xml
tap_is "$RC" 2 "export --format xml: refused (exit 2)"
tap_like "$ERR" "xml" "export --format xml: the message names the format"

# The exported chain goes back into a fresh store unchanged.
STORE_SAVED=$STORE
STORE=$TEST_TMP/second
cs import "$OUTDIR/chain.p7b" >/dev/null
tap_is "$(cs list --json | count_listed)" 2 "the exported p7b imports again (leaf and intermediate, root skipped)"
STORE=$STORE_SAVED

# --- delete ---------------------------------------------------------------------
run_cs delete web
tap_is "$RC" 0 "delete by friendly name: exit 0"
tap_like "$OUT" "deleted from My: .*$LEAF" "delete: says what it deleted"
run_cs show "$LEAF"
tap_is "$RC" 3 "deleted: show says not found (exit 3)"
tap_is "$(cs list --json | count_listed)" 2 "deleted: two certificates remain"
run_cs delete "$LEAF"
tap_is "$RC" 3 "delete again: not found (exit 3)"

run_cs move "$ROOT" --to Disallowed
tap_is "$RC" 0 "move the root to Disallowed: exit 0"
tap_like "$OUT" "moved from Root to Disallowed: .*$ROOT" "move: says what it moved"

# --- log ------------------------------------------------------------------------------
run_cs log
tap_is "$RC" 0 "log: exit 0"
tap_like "$OUT" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z +uid=$(id -u) +import +.*$ROOT" "log: the root's import, with time and uid"
tap_like "$OUT" "import .*$LEAF" "log: the leaf's import"
tap_like "$OUT" "delete .*$LEAF" "log: the delete"
tap_like "$OUT" "$INTER.*issuing-ca|issuing-ca.*$INTER" "log: the friendly-name change"
tap_like "$OUT" "move .*$ROOT|$ROOT.*move" "log: the move"
run_cs log --json
tap_is "$(echo "$OUT" | grep -c '"action"')" "$(cs log | wc -l)" "log --json: one object per entry"

tap_done
