#!/bin/bash
# EST (RFC 7030) against tests/fixtures/est_fixture.py on 127.0.0.1: the
# first contact verified with the admin's fingerprint (bootstrap), the root
# trusted on purpose, then `request --ca est` ends Valid in My; Basic auth
# from a password file; a CA label; /csrattrs applied; 202 + Retry-After
# kept pending and fetched with --retrieve; simplereenroll authenticated
# with the current certificate's HSM key.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"
. "$(dirname "$0")/../lib/est.sh"

make_token || tap_bail "cannot make the store's token"
est_start || tap_bail "the EST fixture did not start"
est_profile est

# --- the CA's certificates: nothing trusts the server yet ---------------------
run_cs ca roots est
tap_is "$RC" 18 "ca roots before any trust: exit 18 (TLS does not verify)"
tap_like "$ERR" "expect-fingerprint" "ca roots before any trust: says how to bootstrap"
run_cs ca roots est --expect-fingerprint "$(pki_sha256 "$PKI/other.crt")"
tap_is "$RC" 6 "bootstrap with a fingerprint /cacerts does not have: exit 6"
tap_like "$ERR" "no CA certificate with the fingerprint" "bootstrap, wrong fingerprint: says so"
tap_is "$(cs list Root --json | count_listed)" 0 "bootstrap, wrong fingerprint: Root unchanged"
run_cs ca roots est --trust --expect-fingerprint "$(pki_sha256 "$PKI/root.crt")"
tap_is "$RC" 0 "ca roots --trust --expect-fingerprint (bootstrap): exit 0"
tap_like "$OUT" "trusted: 1 root" "bootstrap: the root is trusted"
run_cs ca roots est
tap_is "$RC" 0 "ca roots once the root is trusted: verified against Root, exit 0"

# --- enrollment ------------------------------------------------------------------
run_cs request --cn est1.example --san dns:est1.example --friendly-name est1 --ca est
tap_is "$RC" 0 "request --ca est: exit 0"
tap_like "$OUT" "Status: +Valid" "request --ca est: Valid in My"
tap_like "$(grep simpleenroll "$EST_DIR/requests.log" | tail -1)" "POST simpleenroll label=None" \
	"the request went to /simpleenroll"
run_cs verify est1
tap_like "$OUT" "^Valid$" "verify: Valid"

# --- a CA label, and Basic auth from password-file ------------------------------------
printf 'estuser:s3cret-pw\n' >"$EST_DIR/basic"
run_cs request --cn est2.example --san dns:est2.example --friendly-name est2 --ca est
tap_is "$RC" 10 "Basic auth required, none configured: exit 10"
tap_like "$ERR" "HTTP 401" "401: says so"
tap_like "$ERR" "nothing kept: request [0-9]+ and its new key were removed" \
	"401: a refused new request is not kept (no key piles up)"
printf 's3cret-pw\n' >"$TEST_TMP/est.pw"
chmod 600 "$TEST_TMP/est.pw"
est_profile estlab "label = ops
user = estuser
password-file = $TEST_TMP/est.pw"
run_cs request --cn est3.example --san dns:est3.example --friendly-name est3 --ca estlab
tap_is "$RC" 0 "request with label and Basic auth: exit 0"
tap_like "$(grep simpleenroll "$EST_DIR/requests.log" | tail -1)" "label=ops .*auth=True" \
	"label and Authorization sent"
tap_unlike "$(cs log 2>&1)" "s3cret-pw" "the password is not in the audit log"
rm -f "$EST_DIR/basic"

# --- pending: 202 + Retry-After, then --retrieve ------------------------------------------
echo pending >"$EST_DIR/mode"
tokens=$(token_count)
run_cs request --cn est4.example --san dns:est4.example --friendly-name est4 --ca est
tap_is "$RC" 15 "202 Accepted: exit 15 (pending)"
tap_like "$ERR" "retry after 1 seconds" "202: passes on Retry-After"
id=$(cs requests --json | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | tail -1)
tap_like "$(cs requests)" "est4.example" "202: the request is pending"
tap_is "$(token_count)" $((tokens + 2)) "202: its key is kept in the token"
run_cs request --retrieve "$id"
tap_is "$RC" 0 "request --retrieve after 202: exit 0"
tap_like "$OUT" "Status: +Valid" "--retrieve: Valid"
echo issue >"$EST_DIR/mode"

# --- /csrattrs: hash and curve taken from the server ----------------------------------
est_profile estattrs "csrattrs = yes"
run_cs request --cn est5.example --san dns:est5.example --friendly-name est5 --ca estattrs
tap_is "$RC" 0 "request with csrattrs = yes: exit 0"
tap_like "$ERR" "asks for ecdsa-with-SHA384" "csrattrs: printed"
run_cs export est5 -o "$TEST_TMP/est5.pem"
tap_like "$(openssl x509 -in "$TEST_TMP/est5.pem" -noout -text)" "NIST CURVE: P-384" \
	"csrattrs: the key is the P-384 the server asked for"

# --- simplereenroll with the current certificate's HSM key as TLS client cert ---------------
run_cs renew est1
tap_is "$RC" 0 "renew (EST simplereenroll, same key): exit 0"
tap_like "$(grep simplereenroll "$EST_DIR/requests.log" | tail -1)" "client=True" \
	"simplereenroll: TLS client certificate presented"
tap_like "$OUT" "Subject: +CN=est1.example" "renewal: same subject"
run_cs renew "$(cs list My | awk '$3 == "est1" {print $2}' | head -1)" --new-key
tap_is "$RC" 0 "renew --new-key (simplereenroll, authenticated with the old key): exit 0"
tap_like "$(grep simplereenroll "$EST_DIR/requests.log" | tail -1)" "client=True" \
	"renew --new-key: the current certificate authenticates"
est_profile estcc "client-cert = $(cs show est3 --json | sed -n 's/.*"thumbprint": "\([0-9A-F]*\)".*/\1/p' | head -1)"
run_cs request --cn est6.example --san dns:est6.example --friendly-name est6 --ca estcc
tap_is "$RC" 0 "request with client-cert: exit 0"
tap_like "$(grep simpleenroll "$EST_DIR/requests.log" | tail -1)" "client=True" \
	"client-cert: presented on simpleenroll"
tap_done
