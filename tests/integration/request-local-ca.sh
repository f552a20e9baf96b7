#!/bin/bash
# The Windows procedure with a CA kept in the store: create the local CA (its
# key in the token), request a certificate for it (key in the token, request
# signed through the provider), see "Untrusted root" until the CA's root is
# trusted on purpose, then Valid; usages assigned once Valid; dry runs make no key.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"

make_token || tap_bail "cannot make the store's token"

# --- the local CA ---------------------------------------------------------
before=$(token_count)
run_cs ca create-local lab
tap_is "$RC" 0 "ca create-local: exit 0"
tap_like "$OUT" "local CA lab created: CN=certstore lab CA" "ca create-local: names the CA"
tap_is "$(token_count)" $((before + 2)) "ca create-local: its key pair is in the token"
tap_like "$(token_objects)" "never extractable" "ca create-local: the CA key is not extractable"
run_cs ca create-local lab
tap_is "$RC" 7 "ca create-local twice: exit 7 (duplicate)"
tap_is "$(token_count)" $((before + 2)) "ca create-local twice: no orphan key left"
run_cs ca list
tap_like "$OUT" "^lab +local" "ca list: shows the local CA"

# --- a request answered at once --------------------------------------------
run_cs request --cn web.example --san dns:web.example --san ip:127.0.0.1 --ca lab \
	--friendly-name web
tap_is "$RC" 0 "request --ca lab: exit 0"
tap_like "$OUT" "Certificate issued and installed in My" "request: the wizard's report"
tap_like "$OUT" "Status: +Untrusted root" "request: Untrusted root before the CA is trusted"
tap_like "$OUT" "certstore ca roots lab --trust" "request: says how to trust the root"
run_cs export web -o "$TEST_TMP/web.pem"
tap_like "$(openssl x509 -in "$TEST_TMP/web.pem" -noout -ext subjectAltName)" \
	"DNS:web.example, IP Address:127.0.0.1" "issued: SANs copied from the request"
tap_like "$(openssl x509 -in "$TEST_TMP/web.pem" -noout -ext extendedKeyUsage)" \
	"TLS Web Server Authentication" "issued: serverAuth EKU (server profile)"
run_cs requests --json
tap_is "$(printf '%s' "$OUT" | grep -c '"id"')" 0 "issued: the pending request is gone"

# --- trusting the root, only on purpose --------------------------------------
run_cs ca roots lab
tap_is "$RC" 0 "ca roots: exit 0"
tap_like "$OUT" "SHA-256 [0-9A-F]{64}" "ca roots: prints the SHA-256 fingerprint"
tap_like "$OUT" "--trust --expect-fingerprint" "ca roots: says how to trust"
tap_is "$(cs list Root --json | count_listed)" 0 "ca roots without --trust: Root unchanged"
run_cs ca roots lab --trust --expect-fingerprint 00112233
tap_is "$RC" 6 "ca roots --trust with a wrong fingerprint: exit 6"
tap_is "$(cs list Root --json | count_listed)" 0 "wrong fingerprint: Root unchanged"
fp=$(printf '%s' "$OUT" | sed -n 's/.*SHA-256 \([0-9A-F]\{64\}\).*/\1/p' | head -1)
run_cs ca roots lab --trust --expect-fingerprint "$fp"
tap_is "$RC" 0 "ca roots --trust with the right fingerprint: exit 0"
tap_is "$(cs list Root --json | count_listed)" 1 "the root is in Root"
run_cs verify web
tap_is "$RC" 0 "verify web: exit 0"
tap_like "$OUT" "^Valid$" "verify web: Valid"

# --- EC key, usages assigned once Valid ----------------------------------------
run_cs request --cn api.example --san dns:api.example --key ec:p384 --hash sha384 --ca lab \
	--usage Default,WebServicesInternal
tap_is "$RC" 0 "request ec:p384 --usage: exit 0"
tap_like "$OUT" "Status: +Valid" "request ec:p384: Valid at once"
tap_like "$OUT" "assigned to usage WebServicesInternal" "request --usage: assigned"
tap_ok "usages/Default/cert.pem published" test -s "$STORE/usages/Default/cert.pem"
tap_like "$(openssl x509 -in "$STORE/usages/Default/cert.pem" -noout -subject)" "api.example" \
	"usages/Default serves the new certificate"

# --- dry run: a summary, no key ---------------------------------------------------
before=$(token_count)
run_cs request --cn dry.example --san dns:dry.example --key rsa:3072 --ca lab --dry-run
tap_is "$RC" 0 "dry run: exit 0"
tap_like "$OUT" "Subject: +/CN=dry.example" "dry run: shows the subject"
tap_like "$OUT" "rsa:3072" "dry run: shows the key"
tap_is "$(token_count)" "$before" "dry run: no key made"

# --- ca create-local --days --cn: a CA issues nothing that outlives it ------------------
# A validity is checked from both sides (expires within N+1 days, not within
# N-1), so that a --days or days = ignored in favour of a default fails.
valid_days_between() { # FILE LOW HIGH: valid for more than LOW days, less than HIGH
	openssl x509 -in "$1" -noout -checkend $(($2 * 86400)) >/dev/null &&
		! openssl x509 -in "$1" -noout -checkend $(($3 * 86400)) >/dev/null
}
run_cs ca create-local short --key ec:p256 --days 20 --cn "Short Lived CA"
tap_is "$RC" 0 "ca create-local --days 20 --cn: exit 0"
tap_like "$OUT" "CN=Short Lived CA" "ca create-local --cn: names the CA so"
run_cs request --cn short.example --san dns:short.example --ca short --friendly-name short
tap_is "$RC" 0 "request --ca short: exit 0"
cs export short -o "$TEST_TMP/short.pem"
tap_ok "a 20-day local CA: what it issues ends with it (19 to 21 days)" \
	valid_days_between "$TEST_TMP/short.pem" 19 21

# --- [ca.NAME] days = for a local CA: the validity of what it issues ----------------------
printf '\n[ca.lab]\nprotocol = local\ndays = 5\n' >>"$STORE/certstore.conf"
run_cs request --cn five.example --san dns:five.example --ca lab --friendly-name five
tap_is "$RC" 0 "request --ca lab with days = 5: exit 0"
cs export five -o "$TEST_TMP/five.pem"
tap_ok "days = 5 in [ca.lab]: the certificate is valid for 4 to 6 days" \
	valid_days_between "$TEST_TMP/five.pem" 4 6

# --- an unknown profile fails before any key is made ---------------------------------
before=$(token_count)
run_cs request --cn x.example --ca nowhere
tap_is "$RC" 3 "unknown CA profile: exit 3"
tap_like "$ERR" "no CA profile 'nowhere'" "unknown CA profile: says so"
tap_is "$(token_count)" "$before" "unknown CA profile: no key made"
tap_done
