#!/bin/bash
# verify builds root → intermediate → leaf from the store and names the
# verdict: Untrusted root before the root is in Root, Valid after, Expired for
# an expired leaf, Disallowed once the root is moved to Disallowed, and
# Missing private key for a leaf in My without a key.
. "$(dirname "$0")/../lib/common.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
LEAF=$(pki_sha1 "$PKI/leaf.crt")
INTER=$(pki_sha1 "$PKI/inter.crt")
ROOT=$(pki_sha1 "$PKI/root.crt")
EXPIRED=$(pki_sha1 "$PKI/expired.crt")

# The "status" of ID as `verify --json` reports it.
status_of() {
	cs verify "$1" --json 2>/dev/null | sed -n 's/^  "status": "\(.*\)",$/\1/p'
}

# The status column of ID's row in `list`.
listed_status() {
	cs list --json | grep -A20 "\"thumbprint\": \"$1\"" | sed -n 's/.*"status": "\(.*\)",$/\1/p' | head -1
}

cs import "$PKI/leaf.crt" "$PKI/inter.crt" "$PKI/expired.crt" >/dev/null ||
	tap_bail "cannot import the chain"

# --- before the root is trusted --------------------------------------------
run_cs verify "$INTER"
tap_is "$RC" 14 "intermediate, root not in Root: exit 14"
tap_like "$OUT" "^Untrusted root$" "intermediate, root not in Root: Untrusted root"
run_cs verify "$LEAF"
tap_is "$RC" 14 "leaf, root not in Root: exit 14"
tap_like "$OUT" "^Untrusted root$" "leaf, root not in Root: Untrusted root (before Missing private key)"
tap_like "$ERR" "^certstore: .*$LEAF.*Untrusted root" "leaf, root not in Root: the error names the certificate"
tap_like "$OUT" "^also: Missing private key$" "leaf, root not in Root: the missing key is named too"

# --- the root in Root ---------------------------------------------------------
cs import "$PKI/root.crt" --store Root >/dev/null || tap_bail "cannot import the root"
run_cs verify "$INTER"
tap_is "$RC" 0 "intermediate, root in Root: exit 0"
tap_like "$OUT" "^Valid$" "intermediate, root in Root: Valid"
run_cs verify "$LEAF"
tap_is "$RC" 14 "leaf without a key: exit 14"
tap_like "$OUT" "^Missing private key$" "leaf without a key: Missing private key"
tap_like "$(echo "$OUT" | grep -E -o "$LEAF|$INTER|$ROOT" | tr '\n' ' ')" "^$LEAF $INTER $ROOT \$" \
	"leaf: the chain is printed leaf first, to the root"
tap_is "$(listed_status "$LEAF")" "Missing private key" "list shows Missing private key for the leaf in My"
tap_like "$(cs list My)" "$LEAF .* no +Missing private key" "list (text) shows key 'no' and Missing private key"
tap_is "$(listed_status "$INTER")" "Valid" "list shows the intermediate Valid"
tap_is "$(cs verify "$LEAF" --json | grep -c '"thumbprint"')" 4 "verify --json: three chain elements and the leaf"

# --- time ------------------------------------------------------------------------
run_cs verify "$EXPIRED"
tap_is "$RC" 14 "expired leaf: exit 14"
tap_like "$OUT" "^Expired$" "expired leaf: Expired"
tap_is "$(listed_status "$EXPIRED")" "Expired" "list shows the expired leaf Expired"
tap_is "$(CERTSTORE_NOW=$(date -d 2100-01-01 +%s) status_of "$INTER")" "Expired" \
	"CERTSTORE_NOW after the intermediate's expiry: Expired"
tap_is "$(CERTSTORE_NOW=$(date -d 2000-01-01 +%s) status_of "$INTER")" "Not yet valid" \
	"CERTSTORE_NOW before the intermediate's start: Not yet valid"

# --- the root disallowed -------------------------------------------------------------
run_cs move "$ROOT" --to Disallowed
tap_is "$RC" 0 "move the root to Disallowed: exit 0"
tap_is "$(cs list Disallowed --json | count_listed)" 1 "the root is in Disallowed"
tap_is "$(cs list Root --json | count_listed)" 0 "Root is empty"
run_cs verify "$ROOT"
tap_is "$RC" 14 "disallowed root: exit 14"
tap_like "$OUT" "^Disallowed$" "disallowed root: Disallowed"
tap_is "$(status_of "$INTER")" "Disallowed" "intermediate under a disallowed root: Disallowed"
tap_is "$(status_of "$LEAF")" "Disallowed" "leaf under a disallowed root: Disallowed"

run_cs move "$ROOT" --to Root
tap_is "$RC" 0 "move the root back to Root: exit 0"
tap_is "$(status_of "$INTER")" "Valid" "intermediate: Valid again"

tap_done
