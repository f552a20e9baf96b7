#!/bin/bash
# With certstore loaded from configuration (the shipped openssl.cnf snippet),
# everything that does not use the store keeps working: software keys,
# key generation (including what libssl makes for ECDHE), req, dgst,
# verify -CAfile, and a TLS handshake with ordinary key files.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/provider.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
cs import "$PKI/root.crt" --store Root >/dev/null || tap_bail "cannot fill the store"
SNIPPET=$top_srcdir/provider/certstore-openssl.cnf
[ -f "$SNIPPET" ] || SNIPPET=$(dirname "$0")/../../provider/certstore-openssl.cnf
sed -e "s|^module = certstore.so\$|module = $PROVIDER_DIR/certstore.so|" -e "s|^\[certstore_sect\]|&\nstore = $STORE|" "$SNIPPET" \
	>"$TEST_TMP/openssl.cnf"
export OPENSSL_CONF=$TEST_TMP/openssl.cnf
unset CERTSTORE_DIR

tap_like "$(openssl list -providers 2>&1)" "certstore" "the snippet loads certstore"
tap_is "$(openssl storeutl -noout -certs certstore:Root 2>&1 | tail -1)" "Total found: 1" \
	"certstore:Root works from configuration alone"
for alg in "EC -pkeyopt ec_paramgen_curve:P-256" "RSA -pkeyopt rsa_keygen_bits:2048" X25519 ED25519; do
	# shellcheck disable=SC2086
	tap_ok "genpkey -algorithm ${alg%% *}" openssl genpkey -algorithm $alg -out "$TEST_TMP/k.pem"
done
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TEST_TMP/soft.key" 2>/dev/null
tap_ok "req -x509 with a software key" openssl req -new -x509 -key "$TEST_TMP/soft.key" \
	-subj /CN=soft.test -days 1 -out "$TEST_TMP/soft.crt"
echo data >"$TEST_TMP/data"
tap_ok "dgst -sign with a software key" openssl dgst -sha256 -sign "$TEST_TMP/soft.key" \
	-out "$TEST_TMP/sig" "$TEST_TMP/data"
tap_ok "dgst -verify with a software public key" openssl dgst -sha256 \
	-verify <(openssl pkey -in "$TEST_TMP/soft.key" -pubout) -signature "$TEST_TMP/sig" "$TEST_TMP/data"
tap_ok "verify -CAfile" openssl verify -CAfile "$PKI/root.crt" -untrusted "$PKI/inter.crt" "$PKI/leaf.crt"

PORT=$(free_port)
openssl s_server -accept "127.0.0.1:$PORT" -cert "$PKI/leaf.crt" -key "$PKI/leaf.key" \
	-cert_chain "$PKI/inter.crt" -www >"$TEST_TMP/server.log" 2>&1 &
SERVER=$!
bg "$SERVER"
wait_port "$PORT" || tap_bail "s_server did not start"
for v in -tls1_2 -tls1_3; do
	OUT=$(echo Q | timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$PKI/root.crt" \
		-verify_return_error -groups P-256:X25519 $v 2>&1)
	tap_like "$OUT" "Verify return code: 0 \(ok\)" "s_server/s_client with key files, $v"
done
OUT=$(echo Q | timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -CAstore certstore:Root \
	-verify_return_error 2>&1)
tap_like "$OUT" "Verify return code: 0 \(ok\)" "s_client -CAstore certstore:Root from configuration"

tap_done
