#!/bin/bash
# openssl s_server serves a store certificate with its HSM key, both named
# by certstore: URIs, and s_client verifies it against certstore:Root:
# RSA-2048 and P-256, TLS 1.2 and TLS 1.3 (and TLS 1.2 RSA key exchange,
# which decrypts in the token).  The signatures are made in the token.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/provider.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/rsa.key" 2>/dev/null &&
	openssl req -new -key "$PKI/rsa.key" -subj "/O=certstore tests/CN=rsa.test" -out "$PKI/rsa.csr" &&
	pki_extensions server rsa.test >"$PKI/rsa.ext" &&
	openssl x509 -req -in "$PKI/rsa.csr" -CA "$PKI/inter.crt" -CAkey "$PKI/inter.key" \
		-CAcreateserial -days 30 -extfile "$PKI/rsa.ext" -extensions ext \
		-out "$PKI/rsa.crt" 2>/dev/null || tap_bail "cannot make the RSA certificate"
cs import "$PKI/root.crt" --store Root >/dev/null &&
	cs import "$PKI/inter.crt" >/dev/null &&
	cs import "$PKI/leaf.crt" --friendly-name "EC server" >/dev/null &&
	cs import "$PKI/rsa.crt" --friendly-name "RSA server" >/dev/null || tap_bail "cannot fill the store"
needs_keys
bind_key "EC server" "$PKI/leaf.key" && bind_key "RSA server" "$PKI/rsa.key" ||
	tap_bail "cannot put the keys in the token"
# From here on the keys exist only in the token.
rm -f "$PKI/leaf.key" "$PKI/rsa.key"

# serve URI: s_server on a free port with URI as certificate and key.
serve() {
	PORT=$(free_port)
	CERTSTORE_DIR=$STORE CERTSTORE_PROVIDER_TRACE=1 openssl s_server "${OSSL_PROV[@]}" \
		-accept "127.0.0.1:$PORT" -cert "$1" -key "$1" -cert_chain "$PKI/inter.crt" \
		-www >"$TEST_TMP/server.log" 2>&1 &
	SERVER=$!
	bg "$SERVER"
	wait_port "$PORT"
}

stop() {
	kill "$SERVER" 2>/dev/null
	wait "$SERVER" 2>/dev/null
}

# connect DESC ARGS...: a full handshake verified against certstore:Root.
connect() {
	local desc=$1
	shift
	OUT=$(echo Q | CERTSTORE_DIR=$STORE timeout 20 openssl s_client "${OSSL_PROV[@]}" \
		-connect "127.0.0.1:$PORT" -CAstore certstore:Root -verify_return_error \
		-verify_hostname "$HOST" "$@" 2>&1)
	RC=$?
	if [ "$RC" -eq 0 ] && printf '%s\n' "$OUT" | grep -q 'Verify return code: 0 (ok)'; then
		tap_pass "$desc"
	else
		tap_fail "$desc" "exit $RC: $(printf '%s\n' "$OUT" | grep -iE 'error|verify|alert' | head -5)
server: $(grep -i error "$TEST_TMP/server.log" | head -3)"
	fi
}

HOST=leaf.test
serve "certstore:My?friendly-name=EC%20server" || tap_bail "s_server did not start: $(cat "$TEST_TMP/server.log")"
connect "P-256 key in the token, TLS 1.3" -tls1_3
connect "P-256 key in the token, TLS 1.2 (ECDHE-ECDSA)" -tls1_2
connect "P-256 key, TLS 1.3 with a P-256 key share (ECDHE stays with default)" -tls1_3 -groups P-256
connect "P-256 key, TLS 1.2 with P-256 ECDHE" -tls1_2 -groups P-256
stop
tap_like "$(cat "$TEST_TMP/server.log")" "open token" "the server opened the token (the signatures were made there)"

HOST=rsa.test
serve "certstore:My?thumbprint=$(pki_sha1 "$PKI/rsa.crt")" || tap_bail "s_server did not start"
connect "RSA-2048 key in the token, TLS 1.3 (RSA-PSS)" -tls1_3
connect "RSA-2048 key in the token, TLS 1.2 (ECDHE-RSA)" -tls1_2
connect "RSA-2048, TLS 1.2 with a PKCS#1 v1.5 signature" -tls1_2 -sigalgs RSA+SHA256
connect "RSA-2048, TLS 1.2 with RSA-PSS" -tls1_2 -sigalgs rsa_pss_rsae_sha256
connect "RSA-2048, TLS 1.2 RSA key exchange (decryption in the token)" -tls1_2 -cipher AES128-GCM-SHA256
stop

# --- the same keys through pkeyutl / dgst -------------------------------------------
RSA_URI="certstore:My?friendly-name=RSA%20server"
openssl x509 -in "$PKI/rsa.crt" -pubkey -noout >"$TEST_TMP/rsa.pub"
openssl x509 -in "$PKI/leaf.crt" -pubkey -noout >"$TEST_TMP/ec.pub"
echo "a message" >"$TEST_TMP/msg"
for k in "RSA:$RSA_URI:rsa.pub" "ECDSA:certstore:My?friendly-name=EC%20server:ec.pub"; do
	name=${k%%:*} rest=${k#*:}
	uri=${rest%:*} pub=${rest##*:}
	ossl dgst -sha384 -sign "$uri" -out "$TEST_TMP/sig" "$TEST_TMP/msg" 2>/dev/null
	tap_ok "$name: dgst -sign in the token verifies with the certificate's key" \
		openssl dgst -sha384 -verify "$TEST_TMP/$pub" -signature "$TEST_TMP/sig" "$TEST_TMP/msg"
done
echo "a secret" >"$TEST_TMP/plain"
openssl pkeyutl -encrypt -pubin -inkey "$TEST_TMP/rsa.pub" -in "$TEST_TMP/plain" -out "$TEST_TMP/enc1"
tap_is "$(ossl pkeyutl -decrypt -inkey "$RSA_URI" -in "$TEST_TMP/enc1" 2>&1)" "a secret" \
	"RSA PKCS#1 v1.5 decryption in the token"
openssl pkeyutl -encrypt -pubin -inkey "$TEST_TMP/rsa.pub" -pkeyopt rsa_padding_mode:oaep \
	-in "$TEST_TMP/plain" -out "$TEST_TMP/enc2"
tap_is "$(ossl pkeyutl -decrypt -inkey "$RSA_URI" -pkeyopt rsa_padding_mode:oaep -in "$TEST_TMP/enc2" 2>&1)" \
	"a secret" "RSA OAEP (SHA-1) decryption in the token"

tap_done
