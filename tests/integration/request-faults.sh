#!/bin/bash
# What can go wrong between a request and its certificate: a response for
# another key, HTML or bad Base64 instead of a certificate, a PKCS#7 without
# certificates, a cancelled request, the token absent or its PIN wrong while
# the key is made.  Each: a clear message, its own exit code, nothing
# half-installed, the pending request and its key kept, no orphan key.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"

make_token || tap_bail "cannot make the store's token"
PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
cs request --cn pending.example --out "$TEST_TMP/req.pem" >/dev/null ||
	tap_bail "cannot make a pending request"

# expect_refused DESC CODE MESSAGE-ERE ARGS...: exit code, message, store and token unchanged.
expect_refused() {
	local desc=$1 code=$2 ere=$3 before tokens
	shift 3
	before=$(store_snapshot)
	tokens=$(token_objects)
	run_cs "$@"
	tap_is "$RC" "$code" "$desc: exit $code"
	tap_like "$ERR" "$ere" "$desc: says what is wrong"
	tap_is "$(store_snapshot)" "$before" "$desc: store unchanged"
	tap_is "$(token_objects)" "$tokens" "$desc: token unchanged"
}

expect_refused "response for another key" 16 "answers no pending request and matches no key" \
	accept "$PKI/leaf.crt"
printf '<html><body><h1>Certificate Services</h1>Your request is pending</body></html>\n' \
	>"$TEST_TMP/resp.html"
expect_refused "HTML instead of a certificate" 5 "resp.html: " accept "$TEST_TMP/resp.html"
printf 'MIIB$$$not*base64@@@\n' >"$TEST_TMP/bad.cer"
expect_refused "bad Base64" 5 "bad.cer: " accept "$TEST_TMP/bad.cer"
openssl crl2pkcs7 -nocrl -outform DER -out "$TEST_TMP/empty.p7b"
expect_refused "PKCS#7 with no certificates" 5 "PKCS#7 holds no certificates" \
	accept "$TEST_TMP/empty.p7b"
tap_is "$(cs requests --json | grep -c '"id"')" 1 "after the bad responses: still pending"

# --- a cancelled request's response ---------------------------------------------
cs request --cn cancelled.example --out "$TEST_TMP/req2.pem" >/dev/null
openssl x509 -req -in "$TEST_TMP/req2.pem" -CA "$PKI/root.crt" -CAkey "$PKI/root.key" \
	-CAcreateserial -days 30 -out "$TEST_TMP/resp2.pem" 2>/dev/null
id=$(cs requests --json | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | tail -1)
cs requests --cancel "$id" >/dev/null
expect_refused "response to a cancelled request" 16 "answers no pending request" \
	accept "$TEST_TMP/resp2.pem"

# --- the token absent, or its PIN wrong, while the key is made -------------------
cp "$STORE/certstore.conf" "$TEST_TMP/conf.saved"
sed -i 's|^token = .*|token = pkcs11:token=absent-token|' "$STORE/certstore.conf"
expect_refused "token absent" 9 "absent-token" request --cn x.example --out "$TEST_TMP/x.pem"
cp "$TEST_TMP/conf.saved" "$STORE/certstore.conf"
cp "$STORE/pin" "$TEST_TMP/pin.saved"
printf 'not-the-pin\n' >"$STORE/pin"
before=$(store_snapshot)
run_cs request --cn x.example --out "$TEST_TMP/x.pem"
tap_is "$RC" 10 "wrong PIN: exit 10"
tap_like "$ERR" "wrong PIN" "wrong PIN: says so"
tap_unlike "$ERR" "not-the-pin" "wrong PIN: the PIN is not in the message"
tap_is "$(store_snapshot)" "$before" "wrong PIN: store unchanged"
cp "$TEST_TMP/pin.saved" "$STORE/pin"
tap_is "$(cs requests --json | grep -c '"id"')" 1 "at the end: the first request is still pending"
tap_done
