#!/bin/bash
# Interop defects met against independent EST servers (issue 18), each
# against the EST fixture: a /cacerts holding two roots bootstraps with the
# fingerprint of either; `ca roots` without --trust tells trusted roots from
# untrusted ones; a pending renewal asked again stays /simplereenroll with the
# TLS client certificate; a renewal's archived predecessor does not make its
# friendly name ambiguous; cancelling a same-key renewal says the key stays;
# /csrattrs asking for what certstore cannot make says so; a wrong password
# is called that, and retrying after one piles up no keys.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"
. "$(dirname "$0")/../lib/est.sh"

make_token || tap_bail "cannot make the store's token"
est_start || tap_bail "the EST fixture did not start"
pki_root "$PKI" root2 "Second Root" || tap_bail "cannot make a second root"
cat "$PKI/root2.crt" >>"$EST_DIR/chain.crt" # /cacerts: inter, root2, root
est_profile est
sha1_of() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'; }
in_root() { cs list Root --json | grep -c "$(sha1_of "$1")"; }
pending_id() { cs requests --json | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | tail -1; }
ROOT=$(pki_sha256 "$PKI/root.crt")
ROOT2=$(pki_sha256 "$PKI/root2.crt")

# --- 1. two roots in /cacerts: the expected one is found wherever it is ----------
run_cs ca roots est --trust --expect-fingerprint "$ROOT"
tap_is "$RC" 0 "two roots, fingerprint of the second one listed: exit 0"
tap_is "$(in_root "$PKI/root.crt")" 1 "two roots: the expected root is in Root"
tap_is "$(in_root "$PKI/root2.crt")" 0 "two roots: the other root is not trusted"
tap_like "$OUT" "not trusted: 1 other root" "two roots: says the other one stays untrusted"
# What follows needs the root trusted, whatever became of the above.
[ "$(in_root "$PKI/root.crt")" = 1 ] || cs import "$PKI/root.crt" --store Root >/dev/null

# --- 5. without --trust: a root in Root is not "not trusted yet" ----------------------
run_cs ca roots est
tap_is "$RC" 0 "ca roots, one of two roots trusted: exit 0"
tap_like "$OUT" "SHA-256 $ROOT \(trusted: in Root\)" "ca roots: the trusted root is marked so"
tap_unlike "$OUT" "expect-fingerprint $ROOT" "ca roots: no advice to trust what is trusted"
tap_like "$OUT" "expect-fingerprint $ROOT2" "ca roots: the untrusted root gets its own advice"
cs ca roots est --trust --expect-fingerprint "$ROOT2" >/dev/null
run_cs ca roots est
tap_unlike "$OUT" "not trusted yet" "ca roots, every root in Root: nothing said untrusted"
tap_like "$OUT" "trusted already" "ca roots, every root in Root: says so"

# --- 7 and 9. a wrong password: named so, and no pile of keys -----------------------
printf 'estuser:right\n' >"$EST_DIR/basic"
printf 'wrong\n' >"$TEST_TMP/pw"
chmod 600 "$TEST_TMP/pw"
est_profile estpw "user = estuser
password-file = $TEST_TMP/pw"
tokens=$(token_count)
# The request IDs' counter moves on; nothing else may.
snapshot() { store_snapshot | grep -v sqlite_sequence; }
before=$(snapshot)
for try in 1 2 3; do
	run_cs request --cn pw.example --san dns:pw.example --ca estpw
done
tap_is "$RC" 10 "wrong password: exit 10"
tap_unlike "$ERR" "set user and password-file" "wrong password: no advice to set what is set"
tap_like "$ERR" "user and password were refused" "wrong password: says they were refused"
tap_unlike "$ERR" "wrong" "wrong password: the password is not in the message"
tap_is "$(token_count)" "$tokens" "three wrong-password tries: no key left in the token"
tap_is "$(snapshot)" "$before" "three wrong-password tries: store unchanged (no request kept)"
printf 'right\n' >"$TEST_TMP/pw"
run_cs request --cn pw.example --san dns:pw.example --ca estpw
tap_is "$RC" 0 "password fixed: exit 0"
tap_is "$(token_count)" $((tokens + 2)) "password fixed: one key pair in the token"
rm -f "$EST_DIR/basic"

# --- 2 and 3. a pending renewal asked again; the name after renewal -----------------
cs request --cn ren.example --san dns:ren.example --friendly-name ren --ca est >/dev/null ||
	tap_bail "cannot get the certificate to renew"
est_mode pending
run_cs renew ren
tap_is "$RC" 15 "renewal taken but not issued (202): exit 15"
est_mode issue
run_cs request --retrieve "$(pending_id)"
tap_is "$RC" 0 "pending renewal asked again: exit 0"
tap_like "$(grep '^POST' "$EST_DIR/requests.log" | tail -1)" "^POST simplereenroll .*client=True" \
	"pending renewal asked again: /simplereenroll with the TLS client certificate"
run_cs show ren
tap_is "$RC" 0 "show NAME after renewal: exit 0 (the archived one does not count)"
run_cs renew ren
tap_is "$RC" 0 "renew NAME after a renewal: exit 0"

# --- 8. cancelling a same-key renewal keeps the key, and says so --------------------------
est_mode pending
rm -f "$EST_DIR"/seen-* # a same-key request is the same bytes: make it new to the fixture
cs renew ren >/dev/null 2>&1
tokens=$(token_count)
run_cs requests --cancel "$(pending_id)"
tap_is "$RC" 0 "cancel a same-key renewal: exit 0"
tap_unlike "$OUT" "removed its key" "cancel a same-key renewal: does not claim the key is gone"
tap_like "$OUT" "key stays" "cancel a same-key renewal: says the key stays"
tap_is "$(token_count)" "$tokens" "cancel a same-key renewal: the key is still there"
est_mode issue

# --- 6. /csrattrs asking for what certstore cannot make ------------------------------
est_mode exotic
est_profile estattrs "csrattrs = yes"
run_cs request --cn attrs.example --san dns:attrs.example --ca estattrs
tap_is "$RC" 0 "csrattrs asking for brainpoolP384r1 and SHA3-384: exit 0 (what it can)"
tap_like "$ERR" "not applied: brainpoolP384r1" "csrattrs: says the curve was not applied"
tap_like "$ERR" "not applied: ecdsa.with.SHA3-384" "csrattrs: says the hash was not applied"
tap_like "$ERR" "request uses key rsa:2048 and hash sha256" "csrattrs: says what was sent instead"
tap_done
