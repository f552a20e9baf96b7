#!/bin/bash
# The certstore: STORE loader hands out what the store holds: every
# certificate of a store (the same count `certstore list` gives), one by
# thumbprint (SHA-1 or SHA-256, any case, with colons) or by friendly name,
# store names by alias in any case, and the store dir from the provider's
# `store` parameter.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/provider.sh"

MOZILLA=/usr/share/ca-certificates/mozilla
PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
ls "$MOZILLA"/*.crt >/dev/null 2>&1 || tap_bail "no Mozilla roots in $MOZILLA (ca-certificates)"
cs import "$MOZILLA"/*.crt --store Root >/dev/null || tap_bail "cannot import the Mozilla roots"
cs import "$PKI/leaf.crt" --friendly-name "Web TLS 2024" >/dev/null &&
	cs import "$PKI/inter.crt" >/dev/null || tap_bail "cannot import the test PKI"
LEAF=$(pki_sha1 "$PKI/leaf.crt")
LEAF256=$(pki_sha256 "$PKI/leaf.crt")

# The SHA-1 fingerprints of the certificates storeutl gives for URI, sorted.
fingerprints() {
	ossl storeutl -certs "$1" 2>/dev/null |
		awk '/BEGIN CERTIFICATE/ {pem = ""} {pem = pem $0 "\n"}
		     /END CERTIFICATE/ {printf "%s", pem | "openssl x509 -noout -fingerprint -sha1"; close("openssl x509 -noout -fingerprint -sha1")}' |
		sed 's/.*=//; s/://g' | sort
}

# --- whole stores ---------------------------------------------------------------
WANT=$(cs list Root --json | count_listed)
tap_like "$WANT" '^1[0-9][0-9]$' "the Mozilla roots are in Root ($WANT)"
tap_is "$(storeutl_count certstore:Root)" "$WANT" "storeutl -certs certstore:Root gives as many as certstore list Root"
tap_is "$(fingerprints certstore:Root)" "$(cs list Root --json | sed -n 's/.*"thumbprint": "\([0-9A-F]*\)".*/\1/p' | sort)" \
	"... and the same certificates"
tap_is "$(storeutl_count 'certstore:trusted%20root')" "$WANT" "certstore:trusted%20root (alias, any case) is Root"
tap_is "$(storeutl_count certstore:ROOT)" "$WANT" "certstore:ROOT (upper case) is Root"
tap_is "$(fingerprints certstore:My)" "$LEAF" "certstore:My holds the leaf only"
tap_is "$(fingerprints certstore:Intermediate)" "$(pki_sha1 "$PKI/inter.crt")" "certstore:Intermediate is CA"
tap_is "$(storeutl_count certstore:Disallowed)" 0 "certstore:Disallowed is empty"
run_ossl storeutl -noout -certs certstore:Disallowed
tap_is "$RC" 0 "an empty store is not an error"

# --- selectors --------------------------------------------------------------------
tap_is "$(fingerprints "certstore:My?thumbprint=$LEAF")" "$LEAF" "?thumbprint=SHA-1"
LOWER_COLONS=$(echo "$LEAF" | tr A-F a-f | sed 's/../&:/g; s/:$//')
tap_is "$(fingerprints "certstore:My?thumbprint=$LOWER_COLONS")" "$LEAF" "?thumbprint= in lower case with colons"
tap_is "$(fingerprints "certstore:My?thumbprint=$LEAF256")" "$LEAF" "?thumbprint=SHA-256"
tap_is "$(fingerprints "certstore:?thumbprint=$LEAF")" "$LEAF" "?thumbprint= without a store searches every store"
tap_is "$(fingerprints "certstore:My?friendly-name=Web%20TLS%202024")" "$LEAF" "?friendly-name= (percent-encoded)"
tap_is "$(storeutl_count "certstore:Root?thumbprint=$LEAF")" 0 "?thumbprint= of a My certificate finds nothing in Root"
run_ossl storeutl -noout -certs "certstore:My?usage=Default"
tap_is "$RC" 1 "?usage= with no such usage: exit 1"
tap_like "$ERR" "unknown usage 'Default'" "?usage=: says the usage is unknown"

# --- the expected type is honoured --------------------------------------------------
tap_is "$(ossl storeutl -noout -crls certstore:Root 2>/dev/null | grep -c 'CRL$')" 0 "-crls: no CRLs, and no certificates"
run_ossl storeutl -noout -crls certstore:Root
tap_is "$RC" 0 "-crls: exit 0"

# --- the store dir from the provider's configuration ------------------------------
cat >"$TEST_TMP/openssl.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
providers = providers
[providers]
default = default_sect
certstore = certstore_sect
[default_sect]
activate = 1
[certstore_sect]
module = $PROVIDER_DIR/certstore.so
store = $STORE
activate = 1
CNF
OUT=$(OPENSSL_CONF=$TEST_TMP/openssl.cnf CERTSTORE_DIR=$TEST_TMP/nowhere \
	openssl storeutl -noout -certs "certstore:My?thumbprint=$LEAF" 2>&1)
tap_like "$OUT" "Total found: 1" "the provider's store parameter wins over CERTSTORE_DIR"

tap_done
