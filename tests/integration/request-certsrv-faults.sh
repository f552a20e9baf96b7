#!/bin/bash
# What can go wrong between `request --ca` and an online CA, with the AD CS
# fixture: the CA unreachable, its TLS certificate not trusted, 401 and 403,
# a password file others can read, is a symbolic link or is someone else's,
# auth = cert (an EST-only thing), a page that says nothing, and answers that
# are not the certificate (HTML, bad Base64, PKCS#7 without certificates, a
# certificate for another key).  Each: its exit code and message, nothing in
# My, the request and its key kept (but not when the CA refused the
# credentials: then neither is kept, so retries pile up no keys); and asking
# again (--retrieve) changes neither the store nor the token.  First contact
# with Root empty says what works.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"
. "$(dirname "$0")/../lib/certsrv.sh"

make_token || tap_bail "cannot make the store's token"
certsrv_pki || tap_bail "cannot make the test PKI"
pki_issue "$PKI" other other.example adcs server || tap_bail "cannot make another certificate"
my_count() { cs list My --json | count_listed; }
pending_count() { cs requests --json | grep -c '"id"'; }

# --- first contact, Root still empty: advice that works, not libcurl's words -------
start_certsrv first
run_cs request --cn first.example --san dns:first.example --ca first
tap_is "$RC" 18 "first contact, Root empty: exit 18"
tap_unlike "$ERR" "error importing CA certificate blob" "first contact, Root empty: not libcurl's words"
tap_like "$ERR" "Root holds no certificate yet" "first contact, Root empty: says Root is empty"
tap_unlike "$ERR" "ca roots first --trust" "first contact: no advice to fetch roots over the untrusted TLS"
tap_like "$ERR" "certstore import root.cer --store Root.*ca-file = root.cer" \
	"first contact: advises importing the root file or pinning it with ca-file"
tap_is "$(my_count)" 0 "first contact, Root empty: nothing in My"
cs requests --cancel "$(cs requests --json | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | head -1)" >/dev/null

cs import "$PKI/tlsroot.crt" --store Root >/dev/null || tap_bail "cannot trust the TLS root"
cs import "$PKI/adcs.crt" --store Root >/dev/null || tap_bail "cannot trust the issuing CA"

# expect_refused DESC CODE ERE PROFILE: a request refused for its credentials is
# not kept: neither the request nor its new key (no pile of keys on retries).
expect_refused() {
	local desc=$1 code=$2 ere=$3 profile=$4 tokens before
	tokens=$(token_count)
	before=$(store_snapshot | grep -v sqlite_sequence)
	run_cs request --cn fault.example --san dns:fault.example --ca "$profile"
	tap_is "$RC" "$code" "$desc: exit $code"
	tap_like "$ERR" "$ere" "$desc: says what is wrong"
	tap_like "$ERR" "nothing kept: request [0-9]+ and its new key were removed" \
		"$desc: says the request and its key are removed"
	tap_is "$(store_snapshot | grep -v sqlite_sequence)" "$before" "$desc: store unchanged"
	tap_is "$(token_count)" "$tokens" "$desc: no key left in the token"
}

# expect_fault DESC CODE ERE PROFILE: a request to PROFILE fails so, then a retry
# changes nothing.
expect_fault() {
	local desc=$1 code=$2 ere=$3 profile=$4 my tokens id before
	my=$(my_count)
	tokens=$(token_count)
	run_cs request --cn fault.example --san dns:fault.example --ca "$profile"
	tap_is "$RC" "$code" "$desc: exit $code"
	tap_like "$ERR" "$ere" "$desc: says what is wrong"
	tap_like "$ERR" "pending request [0-9]+ kept" "$desc: says the request is kept"
	tap_is "$(my_count)" "$my" "$desc: nothing installed in My"
	tap_is "$(pending_count)" 1 "$desc: the request is kept"
	tap_is "$(token_count)" $((tokens + 2)) "$desc: its key is kept"
	id=$(cs requests --json | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | head -1)
	before=$(store_snapshot)
	tokens=$(token_objects)
	run_cs request --retrieve "$id"
	tap_is "$RC" "$code" "$desc, asked again: exit $code"
	tap_is "$(store_snapshot)" "$before" "$desc, asked again: store unchanged"
	tap_is "$(token_objects)" "$tokens" "$desc, asked again: token unchanged"
	cs requests --cancel "$id" >/dev/null
}

# --- transport and TLS -------------------------------------------------------------
add_profile down protocol=certsrv url="https://127.0.0.1:$(free_port)/certsrv" connect-timeout=3
expect_fault "CA unreachable" 17 "cannot reach CA down at https://127.0.0.1:[0-9]+/certsrv" down
start_certsrv pinned
add_profile pinned ca-file="$PKI/adcs.crt"
expect_fault "TLS certificate not trusted (wrong ca-file)" 18 \
	"TLS certificate of CA pinned .* is not trusted.*ca-file = " pinned
tap_unlike "$ERR" "ca roots pinned --trust" "TLS not trusted: no advice to fetch roots over that TLS"

# --- credentials ---------------------------------------------------------------------
printf 'right\n' >"$TEST_TMP/right"
printf 'wrong\n' >"$TEST_TMP/wrong"
chmod 600 "$TEST_TMP/right" "$TEST_TMP/wrong"
start_certsrv badpass --user enroll --password-file "$TEST_TMP/right"
add_profile badpass auth=basic user=enroll password-file="$TEST_TMP/wrong"
expect_refused "wrong password (401)" 10 "CA badpass refused the credentials \(HTTP 401" badpass
start_certsrv forbid --forbid
expect_refused "forbidden (403)" 10 "HTTP 403" forbid
cp "$TEST_TMP/right" "$TEST_TMP/open"
chmod 644 "$TEST_TMP/open"
start_certsrv openpass --user enroll --password-file "$TEST_TMP/right"
add_profile openpass auth=basic user=enroll password-file="$TEST_TMP/open"
expect_refused "password file readable by others" 11 "accessible by group or others" openpass
tap_unlike "$ERR" "right" "password file readable by others: the password is not printed"
# The rules of a secret file (certstore.conf(5)): no symbolic link, and owned
# by the store's owner even when 0600; both refused by policy, exit 11.
ln -s "$TEST_TMP/right" "$TEST_TMP/link"
add_profile linkpass protocol=certsrv url="https://127.0.0.1:$PORT/certsrv" auth=basic \
	user=enroll password-file="$TEST_TMP/link"
expect_refused "password file that is a symbolic link" 11 "password-file .*/link is a symbolic link" linkpass
cp "$TEST_TMP/right" "$TEST_TMP/notmine"
chmod 600 "$TEST_TMP/notmine"
chown nobody "$TEST_TMP/notmine"
add_profile notmine protocol=certsrv url="https://127.0.0.1:$PORT/certsrv" auth=basic \
	user=enroll password-file="$TEST_TMP/notmine"
expect_refused "0600 password file owned by another user" 11 \
	"password-file .*/notmine is owned by uid [0-9]+, not by the store's owner" notmine
# auth = cert was accepted and did nothing; a TLS client certificate is EST's.
add_profile certauth protocol=certsrv url="https://127.0.0.1:$PORT/certsrv" auth=cert
expect_fault "auth = cert for certsrv" 2 "auth = cert: only EST profiles present a TLS client certificate" certauth

# --- answers that are not the certificate ------------------------------------------
start_certsrv garbage --garbage
expect_fault "a page saying neither issued, pending nor denied" 5 \
	"neither issued, pending nor denied" garbage
start_certsrv html --answer html
expect_fault "HTML instead of a certificate" 5 "HTML page instead of certificate" html
start_certsrv badb64 --answer badb64
expect_fault "bad Base64" 5 "CA badb64, certificate [0-9]+: .*Base64" badb64
start_certsrv emptyp7 --answer emptyp7
expect_fault "PKCS#7 with no certificates" 5 "PKCS#7 holds no certificates" emptyp7
start_certsrv otherkey --answer otherkey --other-cert "$PKI/other.crt"
expect_fault "a certificate for another key" 16 "is not for the key of pending request" otherkey
tap_done
