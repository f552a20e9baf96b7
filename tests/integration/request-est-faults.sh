#!/bin/bash
# What can go wrong between certstore and an EST server: unreachable, a TLS
# certificate that does not verify, 401 and 403, 500, HTML instead of a
# certificate, bad base64, a PKCS#7 without certificates, a certificate for
# another key.  Each: a clear message, its own exit code, the pending request
# and its key kept, nothing half-installed (store and token unchanged).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"
. "$(dirname "$0")/../lib/est.sh"

make_token || tap_bail "cannot make the store's token"
est_start || tap_bail "the EST fixture did not start"
cp "$STORE/certstore.conf" "$TEST_TMP/conf.base"
est_profile est
est_trust_root est

# A request the CA has taken but not issued: every fault below is met by --retrieve.
est_mode pending
run_cs request --cn faults.example --san dns:faults.example --friendly-name faults --ca est
tap_is "$RC" 15 "202: exit 15"
ID=$(cs requests --json | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | tail -1)

# profile KEYS: [ca.est] rewritten with these extra lines (or another url).
profile() {
	cp "$TEST_TMP/conf.base" "$STORE/certstore.conf"
	est_profile est "$1"
}

# expect_fault DESC CODE MESSAGE-ERE: --retrieve fails so, nothing changes.
expect_fault() {
	local desc=$1 code=$2 ere=$3 before tokens
	before=$(store_snapshot)
	tokens=$(token_objects)
	run_cs request --retrieve "$ID"
	tap_is "$RC" "$code" "$desc: exit $code"
	tap_like "$ERR" "$ere" "$desc: says what is wrong"
	tap_like "$ERR" "pending request $ID kept" "$desc: says the request is kept"
	tap_is "$(store_snapshot)" "$before" "$desc: store unchanged (request still pending)"
	tap_is "$(token_objects)" "$tokens" "$desc: token unchanged (key kept)"
}

# --- transport and trust ---------------------------------------------------------
dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s|^url = https://127.0.0.1:$EST_PORT|url = https://127.0.0.1:$dead|" "$STORE/certstore.conf"
expect_fault "CA unreachable" 17 "cannot reach the EST server est at https://127.0.0.1:$dead"
profile "ca-file = $PKI/other.crt"
expect_fault "TLS verification failure (ca-file of another CA)" 18 \
	"TLS certificate of the EST server est does not verify"
cp "$TEST_TMP/conf.base" "$STORE/certstore.conf"
printf '\n[ca.est]\nprotocol = est\nurl = https://localhost:%s\n' "$EST_PORT" >>"$STORE/certstore.conf"
expect_fault "TLS host name mismatch (localhost vs 127.0.0.1)" 18 "does not verify"
profile ""

# --- the CA says no ----------------------------------------------------------------
est_mode issue
printf 'estuser:right\n' >"$EST_DIR/basic"
expect_fault "401 without credentials" 10 "HTTP 401 \(authentication required"
printf 'wrong\n' >"$TEST_TMP/pw"
chmod 600 "$TEST_TMP/pw"
profile "user = estuser
password-file = $TEST_TMP/pw"
expect_fault "401 with a wrong password" 10 "HTTP 401"
tap_unlike "$ERR" "wrong" "401: the password is not in the message"
# auth is read: none sends no credentials even with the right ones at hand
# (it once fell back to Basic whatever auth said), and what EST cannot do
# is refused before anything is sent.
printf 'right\n' >"$TEST_TMP/pw-right"
chmod 600 "$TEST_TMP/pw-right"
profile "auth = none
user = estuser
password-file = $TEST_TMP/pw-right"
expect_fault "auth = none with the right user and password: none sent (401)" 10 "HTTP 401"
profile "auth = ntlm
user = estuser
password-file = $TEST_TMP/pw-right"
expect_fault "auth = ntlm for EST" 2 "auth = ntlm: an EST profile authenticates with basic"
rm -f "$EST_DIR/basic"
profile ""
est_mode forbidden
expect_fault "403" 10 "HTTP 403 \(forbidden\): not allowed to enroll"
est_mode error
expect_fault "500" 12 "answered /simpleenroll with HTTP 500: internal CA error"

# --- malformed answers ----------------------------------------------------------------
est_mode html
expect_fault "HTML instead of PKCS#7" 5 "the answer is text/html, not a certificate"
est_mode badb64
expect_fault "bad base64" 5 "not valid base64"
est_mode empty
expect_fault "PKCS#7 with no certificates" 5 "PKCS#7 holds no certificates"
est_mode wrongkey
expect_fault "certificate for another key" 16 "is not for the key of pending request $ID"

# --- a new request meeting a fault: key and request kept, My unchanged ----------------
est_mode html
tokens=$(token_count)
mine=$(cs list My --json | count_listed)
run_cs request --cn fresh.example --san dns:fresh.example --ca est
tap_is "$RC" 5 "new request, HTML answer: exit 5"
tap_is "$(token_count)" $((tokens + 2)) "new request, HTML answer: its key is kept"
tap_is "$(cs requests --json | grep -c '"id"')" 2 "new request, HTML answer: kept pending"
tap_is "$(cs list My --json | count_listed)" "$mine" "new request, HTML answer: nothing in My"

# --- and once the CA behaves, the kept request gets its certificate ----------------
est_mode issue
run_cs request --retrieve "$ID"
tap_is "$RC" 0 "after the faults: --retrieve succeeds"
tap_like "$OUT" "Status: +Valid" "after the faults: Valid"

# --- ca roots faults ----------------------------------------------------------------------
est_mode html
run_cs ca roots est
tap_is "$RC" 5 "ca roots, HTML /cacerts: exit 5"
tap_like "$ERR" "/cacerts: the answer is text/html" "ca roots, HTML: says so"
tap_done
