#!/bin/bash
# AD CS web enrollment (protocol = certsrv) against the fixture: the CA's TLS
# certificate checked against Root, the issuing CA's chain from certcarc.asp +
# certnew.p7b trusted on purpose, a request issued at once (Valid in My), one
# left pending and retrieved later, one denied (neither it nor its key kept:
# a denial is final, also when it comes on --retrieve, where a same-key
# renewal's key stays), Basic authentication with the password from a 0600
# file, and an NTLM profile at a CA that offers only Basic.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"
. "$(dirname "$0")/../lib/certsrv.sh"

make_token || tap_bail "cannot make the store's token"
certsrv_pki || tap_bail "cannot make the test PKI"
my_count() { cs list My --json | count_listed; }
pending_count() { cs requests --json | grep -c '"id"'; }

start_certsrv adcs
ADCS_DIR=$TEST_TMP/certsrv-adcs

# --- the CA's TLS certificate is checked against Root ------------------------
run_cs request --cn web.example --san dns:web.example --ca adcs
tap_is "$RC" 18 "TLS root not in Root: exit 18"
tap_like "$ERR" "TLS certificate of CA adcs .* is not trusted" "TLS root not in Root: says so"
tap_like "$ERR" "ca-file" "TLS root not in Root: says how to fix it"
tap_is "$(my_count)" 0 "TLS root not in Root: nothing in My"
tap_is "$(pending_count)" 1 "TLS root not in Root: the request stays pending"
cs import "$PKI/tlsroot.crt" --store Root >/dev/null || tap_bail "cannot trust the TLS root"

# --- ca roots: certcarc.asp, then certnew.p7b ---------------------------------
run_cs ca roots adcs
tap_is "$RC" 0 "ca roots adcs: exit 0"
tap_like "$OUT" "root +CN=Fixture Issuing CA" "ca roots: the issuing CA's root"
tap_like "$OUT" "SHA-256 $(pki_sha256 "$PKI/adcs.crt")" "ca roots: its fingerprint"
run_cs ca roots adcs --trust --expect-fingerprint "$(pki_sha256 "$PKI/adcs.crt")"
tap_is "$RC" 0 "ca roots adcs --trust: exit 0"

# --- issued at once -------------------------------------------------------------
run_cs request --cn web.example --san dns:web.example --ca adcs --usage Default
tap_is "$RC" 0 "request --ca adcs: exit 0"
tap_like "$OUT" "Certificate issued and installed in My" "request --ca adcs: installed"
tap_like "$OUT" "Status: +Valid" "request --ca adcs: Valid"
tap_like "$OUT" "assigned to usage Default" "request --ca adcs: usage assigned"
tap_like "$ERR" "waiting for the CA adcs" "request --ca adcs: waiting message on stderr"
tap_is "$(cat "$(ls -t "$ADCS_DIR"/*.attrib | head -1)")" "CertificateTemplate:WebServer" \
	"certfnsh.asp got CertAttrib CertificateTemplate:WebServer"
thumb=$(printf '%s' "$OUT" | sed -n 's/.*Thumbprint: *//p')
run_cs verify "$thumb"
tap_like "$OUT" "^Valid$" "verify: Valid"
first=$(cs requests --json | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | head -1)
run_cs request --retrieve "$first"
tap_is "$RC" 0 "the request kept after the TLS failure, retried: exit 0"
tap_like "$OUT" "Status: +Valid" "retried: Valid"
tap_is "$(pending_count)" 0 "retried: no request left pending"

# --- pending, then issued on --retrieve ------------------------------------------
start_certsrv pend --mode pending --pending-polls 1
run_cs request --cn later.example --san dns:later.example --ca pend
tap_is "$RC" 15 "pending: exit 15"
tap_like "$ERR" "its ID 4[0-9]" "pending: names the CA's request ID"
tap_like "$ERR" "certstore request --retrieve [0-9]+" "pending: says how to ask again"
id=$(printf '%s' "$ERR" | sed -n 's/.*--retrieve \([0-9]*\).*/\1/p')
run_cs requests
tap_like "$OUT" "later.example" "pending: listed by requests"
run_cs request --retrieve "$id"
tap_is "$RC" 15 "retrieve while still pending: exit 15"
tap_like "$ERR" "Taken Under Submission" "retrieve while pending: the CA's words"
run_cs request --retrieve "$id"
tap_is "$RC" 0 "retrieve once issued: exit 0"
tap_like "$OUT" "Status: +Valid" "retrieved: Valid"
tap_is "$(pending_count)" 0 "retrieved: no longer pending"

# --- denied ----------------------------------------------------------------------
start_certsrv deny --mode deny
before_my=$(my_count)
before_tok=$(token_count)
run_cs request --cn denied.example --san dns:denied.example --ca deny
tap_is "$RC" 12 "denied: exit 12"
tap_like "$ERR" "CA deny denied the request \(its ID [0-9]+\): Denied by Policy Module" \
	"denied: the disposition message"
tap_is "$(my_count)" "$before_my" "denied: nothing in My"
# A denial is final: keeping the request would leave one more key in the
# token on every try (issue 18, defect 9's shape).
tap_like "$ERR" "nothing kept: request [0-9]+ and its new key were removed" "denied: says nothing is kept"
tap_is "$(pending_count)" 0 "denied: the request is not kept"
tap_is "$(token_count)" "$before_tok" "denied: nor its key"
run_cs request --cn denied.example --san dns:denied.example --ca deny
tap_is "$RC" 12 "denied again: exit 12"
tap_is "$(token_count)" "$before_tok" "denied again: no key piles up"

# --- pending, then denied on --retrieve: as final as a denial at once ----------------
# (issue 18) Kept, the request could only be denied again, and its key
# stayed in the token for ever.
start_certsrv later --mode pending --deny-pending
run_cs request --cn later-denied.example --san dns:later-denied.example --ca later
tap_is "$RC" 15 "pending, later denied: exit 15 first"
id=$(printf '%s' "$ERR" | sed -n 's/.*--retrieve \([0-9]*\).*/\1/p')
tap_is "$(token_count)" $((before_tok + 2)) "pending: its new key waits in the token"
run_cs request --retrieve "$id"
tap_is "$RC" 12 "denied on --retrieve: exit 12"
tap_like "$ERR" "CA later denied the request \(its ID [0-9]+\): Denied by Officer" \
	"denied on --retrieve: the CA's words"
tap_like "$ERR" "nothing kept: request $id and its new key were removed" \
	"denied on --retrieve: says what was removed"
tap_is "$(pending_count)" 0 "denied on --retrieve: the request is not kept"
tap_is "$(token_count)" "$before_tok" "denied on --retrieve: nor its key"
# A same-key renewal's request shares the renewed certificate's key: the
# request goes, the key stays.
run_cs renew "$thumb" --ca later
tap_is "$RC" 15 "same-key renewal, pending: exit 15"
id=$(printf '%s' "$ERR" | sed -n 's/.*--retrieve \([0-9]*\).*/\1/p')
run_cs request --retrieve "$id"
tap_is "$RC" 12 "same-key renewal denied on --retrieve: exit 12"
tap_like "$ERR" "nothing kept: request $id was removed; its key stays \(in use: $thumb\)" \
	"same-key renewal denied: says the key stays and why"
tap_is "$(pending_count)" 0 "same-key renewal denied: the request is not kept"
tap_is "$(token_count)" "$before_tok" "same-key renewal denied: the key is still there"
run_cs verify "$thumb"
tap_like "$OUT" "^Valid$" "same-key renewal denied: the renewed certificate is still Valid"

# --- Basic authentication ------------------------------------------------------------
printf 's3cret-pass\n' >"$TEST_TMP/ca-pass"
chmod 600 "$TEST_TMP/ca-pass"
printf 'wrong-pass\n' >"$TEST_TMP/wrong-pass"
chmod 600 "$TEST_TMP/wrong-pass"
start_certsrv auth --user enroll --password-file "$TEST_TMP/ca-pass"
add_profile auth auth=basic user=enroll password-file="$TEST_TMP/ca-pass"
run_cs request --cn auth.example --san dns:auth.example --ca auth
tap_is "$RC" 0 "basic auth: exit 0"
tap_like "$OUT" "Status: +Valid" "basic auth: Valid"
tap_unlike "$ERR$OUT" "s3cret" "basic auth: the password is not printed"
tap_unlike "$(cat "$STORE"/store.db* | strings)" "s3cret" "basic auth: nor kept in the store"
# A relative password-file is relative to the store directory, wherever
# certstore runs from (a timer runs it in /).
cp "$TEST_TMP/ca-pass" "$STORE/rel.pass"
chmod 600 "$STORE/rel.pass"
add_profile relpass protocol=certsrv url="https://127.0.0.1:$PORT/certsrv" template=WebServer \
	auth=basic user=enroll password-file=rel.pass
cd / || tap_bail "cannot cd /"
run_cs request --cn rel.example --san dns:rel.example --ca relpass
cd - >/dev/null || tap_bail "cannot cd back"
tap_is "$RC" 0 "password-file = rel.pass (relative), run from /: read from the store directory"
add_profile asks protocol=certsrv url="https://127.0.0.1:$PORT/certsrv" auth=basic user=enroll
shown=$(with_tty s3cret-pass "$CERTSTORE" --store-dir "$STORE" request --cn tty.example --ca asks)
tap_like "$shown" "Password for enroll at CA asks: " "no password-file: asks on the terminal"
tap_like "$shown" "rc 0" "no password-file: the typed password is used"
tap_unlike "$shown" "s3cret" "no password-file: the password is not echoed"
# setsid: no controlling terminal even when make check runs from one
timeout 120 setsid -w "$CERTSTORE" --store-dir "$STORE" request --cn notty.example --ca asks \
	</dev/null >/dev/null 2>"$TEST_TMP/notty.err"
RC=$?
ERR=$(cat "$TEST_TMP/notty.err")
tap_is "$RC" 10 "no password-file and no terminal: exit 10"
tap_like "$ERR" "no terminal to ask on: set password-file in \[ca.asks\]" \
	"no password-file and no terminal: says what to do"

# An NTLM profile at a CA that offers only Basic: libcurl answers only the
# scheme it was given, so nothing was sent and nothing was "refused".
add_profile ntlmonly protocol=certsrv url="https://127.0.0.1:$PORT/certsrv" template=WebServer \
	auth=ntlm user=enroll password-file="$TEST_TMP/ca-pass"
before_tok=$(token_count)
run_cs request --cn ntlm.example --san dns:ntlm.example --ca ntlmonly
tap_is "$RC" 10 "auth = ntlm at a CA offering Basic: exit 10"
tap_like "$ERR" "CA ntlmonly does not offer auth = ntlm \(HTTP 401 at https://127.0.0.1:$PORT/certsrv/certfnsh.asp; it offers Basic\): set auth in \[ca.ntlmonly\] to one it offers" \
	"auth = ntlm at a CA offering Basic: says what it offers"
tap_is "$(token_count)" "$before_tok" "auth = ntlm at a CA offering Basic: no key kept"
tap_done
