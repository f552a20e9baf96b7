#!/bin/bash
# openssl verify -CAstore certstore:Root trusts exactly the roots in Root,
# finds them through the subject index (no listing of the store), and
# loading the provider costs nothing: no store, no token opened until an
# operation needs one, and verification never opens a token.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/provider.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
cs import /usr/share/ca-certificates/mozilla/*.crt --store Root >/dev/null ||
	tap_bail "cannot import the Mozilla roots"
cs import "$PKI/other.crt" --store Root >/dev/null || tap_bail "cannot import the other root"

verify() {
	run_ossl verify -CAstore certstore:Root -untrusted "$PKI/inter.crt" "$@"
}

# --- the root is not in Root yet -------------------------------------------------
verify "$PKI/leaf.crt"
tap_is "$RC" 2 "root not in Root: verify fails (exit 2)"
tap_like "$OUT$ERR" "unable to get (local )?issuer certificate" "root not in Root: says the issuer is missing"

# --- trusting it ------------------------------------------------------------------
cs import "$PKI/root.crt" --store Root >/dev/null || tap_bail "cannot import the root"
verify "$PKI/leaf.crt"
tap_is "$RC" 0 "root in Root: verify exits 0"
tap_like "$OUT" "leaf.crt: OK" "root in Root: leaf.crt: OK"
verify "$PKI/expired.crt"
tap_is "$RC" 2 "an expired leaf still fails"
tap_like "$OUT$ERR" "certificate has expired" "... because it has expired"
run_ossl verify -CAstore certstore:CA -untrusted "$PKI/inter.crt" "$PKI/leaf.crt"
tap_is "$RC" 2 "-CAstore certstore:CA does not trust a root that is only in Root"

# --- lookups go to the index ---------------------------------------------------------
OUT=$(CERTSTORE_PROVIDER_TRACE=1 CERTSTORE_DIR=$STORE openssl verify "${OSSL_PROV[@]}" \
	-CAstore certstore:Root -untrusted "$PKI/inter.crt" "$PKI/leaf.crt" 2>&1)
tap_like "$OUT" "query Root: subject -> 1" "issuers are looked up by subject"
tap_unlike "$OUT" "query Root: list" "the store is never listed whole"
tap_unlike "$OUT" "token" "verification opens no token"

# --- loading the provider costs nothing ------------------------------------------------
OUT=$(CERTSTORE_PROVIDER_TRACE=1 CERTSTORE_DIR=$TEST_TMP/no-such-store \
	openssl list "${OSSL_PROV[@]}" -providers 2>&1)
RC=$?
tap_is "$RC" 0 "openssl list -providers with the provider loaded and no store: exit 0"
tap_like "$OUT" "certstore" "... lists the certstore provider"
tap_unlike "$OUT" "open store|token" "... and opens neither the store nor a token"
OUT=$(CERTSTORE_PROVIDER_TRACE=1 CERTSTORE_DIR=$TEST_TMP/no-such-store \
	openssl verify "${OSSL_PROV[@]}" -CAfile "$PKI/root.crt" -untrusted "$PKI/inter.crt" \
	"$PKI/leaf.crt" 2>&1)
tap_like "$OUT" "leaf.crt: OK" "verify -CAfile works with the provider loaded and no store"
tap_unlike "$OUT" "open store|token" "... without touching the store"

tap_done
