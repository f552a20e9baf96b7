#!/bin/bash
# Store keys through the provider as servers use them, from a PEM key
# reference: a forked child signs, 8 threads sign at once, a worker signs
# through the key agent (and is refused a key no usage grants it), and the
# failures say what is wrong without hanging: a wrong PIN in the pin file, a
# reference to a certificate deleted from the store, a key gone from the token.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/provider.sh"

CS_SIGN=${top_builddir:-.}/tests/helpers/cs-sign
[ -x "$CS_SIGN" ] || tap_bail "no tests/helpers/cs-sign (run make check)"
export CERTSTORE_PROVIDER_DIR=$PROVIDER_DIR
# Key reference files through OSSL_STORE's file: loader (openssl pkey -in,
# s_server -key, cs-sign KEYREF) need `lazy = no`.
provider_eager_conf "$TEST_TMP/eager.cnf"
export OPENSSL_CONF=$TEST_TMP/eager.cnf

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
cs import "$PKI/root.crt" --store Root >/dev/null &&
	cs import "$PKI/inter.crt" >/dev/null &&
	cs import "$PKI/leaf.crt" --friendly-name "EC server" >/dev/null || tap_bail "cannot fill the store"
needs_keys
bind_key "EC server" "$PKI/leaf.key" || tap_bail "cannot put the key in the token"
KEYREF=$TEST_TMP/key.pem
cs export "EC server" --format keyref -o "$KEYREF" || tap_bail "cannot export the key reference"

# --- the openssl command with a key reference (the file: STORE loader) -------------
openssl x509 -in "$PKI/leaf.crt" -pubkey -noout >"$TEST_TMP/cert.pub"
tap_is "$(ossl pkey -in "$KEYREF" -pubout 2>&1)" "$(cat "$TEST_TMP/cert.pub")" \
	"openssl pkey -in KEYREF -pubout gives the certificate's public key"
run_ossl pkey -pubin -in "$KEYREF"
tap_ok "a public-key read (-pubin) of a key reference is declined (decoders serve private keys only)" \
	test "$RC" != 0
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TEST_TMP/soft.key" 2>/dev/null
run_ossl pkey -in "$TEST_TMP/soft.key" -pubout
tap_ok "an ordinary PEM key still loads, nothing on stderr (other PEM is declined quietly)" \
	test "$RC" = 0 -a -z "$ERR"
PORT=$(free_port)
CERTSTORE_DIR=$STORE openssl s_server "${OSSL_PROV[@]}" -accept "127.0.0.1:$PORT" \
	-cert "$PKI/leaf.crt" -key "$KEYREF" -cert_chain "$PKI/inter.crt" -www \
	>"$TEST_TMP/s_server.log" 2>&1 &
bg $!
wait_port "$PORT" || tap_bail "s_server -key KEYREF did not start: $(cat "$TEST_TMP/s_server.log")"
OUT=$(echo Q | timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$PKI/root.crt" \
	-verify_return_error 2>&1)
tap_like "$OUT" "Verify return code: 0 \\(ok\\)" "openssl s_server -key KEYREF: s_client verifies the chain"

# sign ARGS...: cs-sign with a 60 s limit (124: it hung); $OUT, $ERR, $RC.
sign() {
	OUT=$(CERTSTORE_DIR=$STORE timeout 60 "$CS_SIGN" "$@" 2>"$TEST_TMP/.stderr")
	RC=$?
	ERR=$(cat "$TEST_TMP/.stderr")
}

sign --count 3 "$KEYREF"
tap_is "$RC:$OUT" "0:signed 3" "a key reference signs and the signatures verify" "$ERR"
sign --fork --count 2 "$KEYREF"
tap_is "$RC:$OUT" "0:signed 6" "a forked child signs with the parent's key, then the parent again" "$ERR"
sign --threads 8 --count 5 "$KEYREF"
tap_is "$RC:$OUT" "0:signed 40" "8 threads sign at once" "$ERR"
sign --threads 8 --count 2 "certstore:My?friendly-name=EC%20server"
tap_is "$RC:$OUT" "0:signed 16" "8 threads sign at once with a certstore: URI key" "$ERR"

# --- a worker through the key agent ------------------------------------------------
if [ "$(id -u)" = 0 ]; then
	chmod 0711 "$TEST_TMP"
	mkdir -p "$TEST_TMP/run" && chmod 0755 "$TEST_TMP/run"
	SOCK=$TEST_TMP/run/agent.sock
	printf '\n[usage.Default]\ngroup = www-data\n' >>"$STORE/certstore.conf"
	cs assign "EC server" --usage Default >/dev/null || tap_bail "cannot assign Default"
	"$CERTSTORE" --store-dir "$STORE" agent --socket "$SOCK" 2>"$TEST_TMP/agent.log" &
	bg $!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	sed -e "s|^module = certstore.so\$|module = $PROVIDER_DIR/certstore.so|" \
		"$top_srcdir/provider/certstore-openssl.cnf" >"$TEST_TMP/openssl.cnf"
	sed -i "/^\[certstore_sect\]/a agent = $SOCK" "$TEST_TMP/openssl.cnf"
	# the shipped snippet (lazy): the key file read as servers read it
	OUT=$(OPENSSL_CONF=$TEST_TMP/openssl.cnf CERTSTORE_PROVIDER_DIR= timeout 60 "$CS_SIGN" \
		--pem --drop-to www-data --fork "$KEYREF" 2>&1)
	tap_is "$OUT" "signed 3" "a worker dropped to www-data signs through the agent (and its forked child)"
	OUT=$(OPENSSL_CONF=$TEST_TMP/openssl.cnf CERTSTORE_PROVIDER_DIR= timeout 60 "$CS_SIGN" \
		--pem --drop-to nobody "$KEYREF" 2>&1)
	tap_like "$OUT" "uid 65534 may not use the key of $(pki_sha1 "$PKI/leaf.crt")" \
		"nobody (no usage grants it) is refused by the agent, with a clear error"
	OUT=$(OPENSSL_CONF=$TEST_TMP/openssl.cnf CERTSTORE_PROVIDER_DIR= timeout 60 "$CS_SIGN" \
		--pem --drop-to nobody "$KEYREF" 2>&1 | grep -ci 'pin')
	tap_is "$OUT" "0" "the refusal says nothing about the token's PIN"
	# Without the agent, the worker cannot use the root-only token at all.
	OUT=$(CERTSTORE_PROVIDER_DIR=$PROVIDER_DIR timeout 60 "$CS_SIGN" --drop-to www-data "$KEYREF" 2>&1)
	RC=$?
	tap_ok "without the agent, www-data cannot sign with the root-only token (exit $RC)" \
		test "$RC" = 1
else
	for d in "worker signs through the agent" "nobody is refused" "refusal says nothing of the PIN" \
		"no agent, no signature"; do
		tap_skip "$d" "needs root to drop privileges"
	done
fi

# --- bad input -------------------------------------------------------------------
cp "$STORE/pin" "$TEST_TMP/pin.good"
echo 000000 >"$STORE/pin"
sign "$KEYREF"
tap_ok "wrong PIN: signing fails, no hang (exit $RC)" test "$RC" = 1
tap_like "$ERR" "wrong PIN for token" "wrong PIN: OpenSSL's error stack says so"
cp "$TEST_TMP/pin.good" "$STORE/pin"

cs export "EC server" --format pem -o "$TEST_TMP/leaf.pem"
cs delete "EC server" >/dev/null 2>&1 || cs delete "EC server" --store My >/dev/null
sign "$KEYREF"
tap_ok "reference to a deleted certificate: fails, no hang (exit $RC)" test "$RC" = 1
tap_like "$ERR" "no certificate with thumbprint $(pki_sha1 "$PKI/leaf.crt")" \
	"reference to a deleted certificate: the error names the thumbprint"

tap_done
