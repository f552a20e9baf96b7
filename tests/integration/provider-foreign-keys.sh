#!/bin/bash
# The provider as a guest: with certstore listed FIRST and listed LAST,
# plain operations on ordinary software keys (made with openssl alone) work
# as they do with default alone.  OpenSSL 3.0 gives a fetch both providers
# match to the one listed first, so listed first certstore receives every
# RSA and EC key of the process: verify of RSA and EC chains, dgst -verify
# and -sign with PEM keys, pkeyutl -encrypt -pubin, genpkey, req -newkey,
# cms -sign/-verify, pkcs12 -export, for RSA-2048, RSA-PSS, P-256, P-384
# and Ed25519 (which must go to default untouched); then s_server/s_client
# mutual TLS where one side's key is a store key and the other side's a PEM
# key of each of those types.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/provider.sh"

K=$TEST_TMP/keys
mkdir -p "$K"
echo "the data to sign" >"$TEST_TMP/data"

# genkey KIND FILE: a software key, with openssl alone.
genkey() {
	case $1 in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" ;;
	rsa-pss) openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out "$2" ;;
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$2" ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$2" ;;
	esac 2>/dev/null
}

KINDS="rsa rsa-pss p256 p384 ed25519"
# A root and a client/server leaf for each kind, made without the provider.
for kind in $KINDS; do
	d=$K/$kind
	mkdir -p "$d"
	genkey "$kind" "$d/ca.key" && genkey "$kind" "$d/leaf.key" &&
		openssl req -x509 -new -key "$d/ca.key" -subj "/CN=$kind root" -days 30 \
			-addext "basicConstraints=critical,CA:TRUE" -out "$d/ca.crt" 2>/dev/null &&
		printf '%s\n' "[ext]" "basicConstraints = CA:FALSE" "subjectAltName = IP:127.0.0.1" \
			"extendedKeyUsage = serverAuth,clientAuth" >"$d/ext" &&
		openssl req -new -key "$d/leaf.key" -subj "/CN=$kind leaf" -out "$d/leaf.csr" 2>/dev/null &&
		openssl x509 -req -in "$d/leaf.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
			-days 10 -extfile "$d/ext" -extensions ext -out "$d/leaf.crt" 2>/dev/null &&
		openssl pkey -in "$d/leaf.key" -pubout -out "$d/leaf.pub" &&
		openssl pkey -in "$d/ca.key" -pubout -out "$d/ca.pub" ||
		tap_bail "cannot make the $kind test keys"
done

# The store's own keys for the TLS half: an EC and an RSA certificate whose
# keys are in the store's token, each with a key reference.
PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/rsa.key" 2>/dev/null &&
	openssl req -new -key "$PKI/rsa.key" -subj /CN=rsa.test -out "$PKI/rsa.csr" 2>/dev/null &&
	printf '%s\n' "[ext]" "basicConstraints = CA:FALSE" "subjectAltName = IP:127.0.0.1" \
		"extendedKeyUsage = serverAuth,clientAuth" >"$PKI/rsa.ext" &&
	openssl x509 -req -in "$PKI/rsa.csr" -CA "$PKI/inter.crt" -CAkey "$PKI/inter.key" \
		-CAcreateserial -days 10 -extfile "$PKI/rsa.ext" -extensions ext \
		-out "$PKI/rsa.crt" 2>/dev/null || tap_bail "cannot make the RSA store certificate"
cs import "$PKI/root.crt" --store Root >/dev/null &&
	cs import "$PKI/inter.crt" >/dev/null &&
	cs import "$PKI/leaf.crt" --friendly-name "store ec" >/dev/null &&
	cs import "$PKI/rsa.crt" --friendly-name "store rsa" >/dev/null || tap_bail "cannot fill the store"
needs_keys
bind_key "store ec" "$PKI/leaf.key" && bind_key "store rsa" "$PKI/rsa.key" ||
	tap_bail "cannot put the keys in the token"
cs export "store ec" --format keyref -o "$TEST_TMP/ec.keyref" &&
	cs export "store rsa" --format keyref -o "$TEST_TMP/rsa.keyref" ||
	tap_bail "cannot export the key references"
cp "$PKI/leaf.crt" "$TEST_TMP/ec.crt"
cp "$PKI/rsa.crt" "$TEST_TMP/rsa.crt"

# ok DESC CMD...: tap_ok, with what the command said when it failed (a
# program is killed after 60 s: a hang fails too).
ok() {
	local desc=$1 out rc
	shift
	if declare -F "$1" >/dev/null; then
		out=$(CERTSTORE_DIR=$STORE "$@" 2>&1)
	else
		out=$(CERTSTORE_DIR=$STORE timeout 60 "$@" 2>&1)
	fi
	rc=$?
	if [ "$rc" = 0 ]; then tap_pass "$desc"; else tap_fail "$desc" "exit $rc: $out"; fi
}

# genkey_with KIND FILE: genpkey with the provider loaded ($P), and the key
# is whole: it reads back without the provider and passes its check.
genkey_with() {
	local alg
	case $1 in
	rsa) alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) ;;
	rsa-pss) alg=(-algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048) ;;
	p256) alg=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
	p384) alg=(-algorithm EC -pkeyopt ec_paramgen_curve:P-384) ;;
	ed25519) alg=(-algorithm ED25519) ;;
	esac
	timeout 60 openssl genpkey "${P[@]}" "${alg[@]}" -out "$2" &&
		openssl pkey -in "$2" -check -noout
}

# The -newkey arguments of req for KIND (word-split on purpose).
newkey_args() {
	case $1 in
	rsa) echo "rsa:2048" ;;
	rsa-pss) echo "rsa-pss -pkeyopt rsa_keygen_bits:2048" ;;
	p256) echo "ec -pkeyopt ec_paramgen_curve:P-256" ;;
	p384) echo "ec -pkeyopt ec_paramgen_curve:P-384" ;;
	ed25519) echo "ed25519" ;;
	esac
}

# start_server DIR OPENSSL-ARGS...: s_server requiring a client certificate,
# as $SRV on $PORT; fails (one TAP failure) when it does not listen.
start_server() {
	local dir=$1
	shift
	PORT=$(free_port)
	SRV_LOG=$dir/s_server.log
	# -rev (not -www, which answers no TLS 1.3 client that sent a certificate)
	CERTSTORE_DIR=$STORE openssl s_server -accept "127.0.0.1:$PORT" "$@" -Verify 2 \
		-verify_return_error -rev >"$SRV_LOG" 2>&1 &
	SRV=$!
	bg "$SRV"
	wait_port "$PORT" && return 0
	tap_fail "s_server $*" "it did not start: $(cat "$SRV_LOG")"
	return 1
}

stop_server() {
	kill "$SRV" 2>/dev/null
	wait "$SRV" 2>/dev/null
}

# handshake DESC S_CLIENT-ARGS...: the client verifies the server's chain and
# signature ("Verify return code: 0"), the server the client's (it prints
# CONNECTION ESTABLISHED only after that, and -verify_return_error aborts
# the handshake when either fails).
handshake() {
	local desc=$1 out before i
	shift
	before=$(grep -c "^CONNECTION ESTABLISHED" "$SRV_LOG")
	out=$(printf 'handshake done\nCLOSE\n' | CERTSTORE_DIR=$STORE timeout 20 \
		openssl s_client "${P[@]}" -connect "127.0.0.1:$PORT" "$@" -verify_return_error \
		-groups P-256:P-384 -ign_eof 2>&1)
	for i in $(seq 50); do # the server may print it a moment after the client is done
		[ "$(grep -c "^CONNECTION ESTABLISHED" "$SRV_LOG")" -gt "$before" ] && break
		sleep 0.1
	done
	if printf '%s' "$out" | grep -q "Verify return code: 0 (ok)" &&
		[ "$(grep -c "^CONNECTION ESTABLISHED" "$SRV_LOG")" -gt "$before" ]; then
		tap_pass "$desc"
	else
		tap_fail "$desc" "$out
$(tail -5 "$SRV_LOG")"
	fi
}

for order in first last; do
	if [ "$order" = first ]; then
		OSSL_PROV=(-provider-path "$PROVIDER_DIR" -provider certstore -provider default)
	else
		OSSL_PROV=(-provider-path "$PROVIDER_DIR" -provider default -provider certstore)
	fi
	P=("${OSSL_PROV[@]}")
	o="certstore $order"
	W=$TEST_TMP/$order
	mkdir -p "$W"
	# Everything registered at load (`lazy = no`, in a configuration that
	# loads the providers in this order; -provider finds them loaded): as
	# in any process once it used the store, certstore listed first is
	# handed every key.  s_server/s_client -key also read key reference
	# files through OSSL_STORE's file: loader, which needs it.
	provider_eager_conf "$W/eager.cnf" "$order"
	export OPENSSL_CONF=$W/eager.cnf

	for kind in $KINDS; do
		d=$K/$kind
		ok "$o, $kind: verify a chain made with openssl alone" \
			openssl verify "${P[@]}" -CAfile "$d/ca.crt" "$d/leaf.crt"
		openssl dgst -sha256 -sign "$d/leaf.key" -out "$W/$kind.sig" "$TEST_TMP/data" 2>/dev/null ||
			openssl pkeyutl -sign -rawin -inkey "$d/leaf.key" -in "$TEST_TMP/data" \
				-out "$W/$kind.sig" 2>/dev/null
		if [ "$kind" = ed25519 ]; then
			ok "$o, $kind: pkeyutl -verify -rawin with a PEM public key" \
				openssl pkeyutl "${P[@]}" -verify -rawin -pubin -inkey "$d/leaf.pub" \
				-in "$TEST_TMP/data" -sigfile "$W/$kind.sig"
			ok "$o, $kind: pkeyutl -sign -rawin with a PEM key" \
				openssl pkeyutl "${P[@]}" -sign -rawin -inkey "$d/leaf.key" \
				-in "$TEST_TMP/data" -out "$W/$kind.sig2"
		else
			ok "$o, $kind: dgst -verify with a PEM public key" \
				openssl dgst "${P[@]}" -sha256 -verify "$d/leaf.pub" \
				-signature "$W/$kind.sig" "$TEST_TMP/data"
			ok "$o, $kind: dgst -sign with a PEM key, verified without the provider" \
				bash -c 'openssl dgst "${@:4}" -sha256 -sign "$1" -out "$2.2" "$3" &&
					openssl dgst -sha256 -verify "${1%.key}.pub" -signature "$2.2" "$3"' \
				_ "$d/leaf.key" "$W/$kind.sig" "$TEST_TMP/data" "${P[@]}"
		fi
		ok "$o, $kind: genpkey" genkey_with "$kind" "$W/$kind.gen"
		ok "$o, $kind: req -new -newkey, and the request verifies" \
			bash -c 'openssl req "${@:3}" -new -newkey $1 -nodes -keyout "$2.key" \
				-subj /CN=new -out "$2.csr" && openssl req "${@:3}" -in "$2.csr" -verify -noout' \
			_ "$(newkey_args "$kind")" "$W/$kind.req" "${P[@]}"
		if [ "$kind" = ed25519 ] || [ "$kind" = rsa-pss ]; then
			# (checked by hand: the same commands without the provider)
			tap_skip "$o, $kind: cms -sign and -verify" \
				"OpenSSL 3.0's CMS fails the same without the provider (Ed25519: no default digest; RSA-PSS key: unsupported padding mode)"
		else ok "$o, $kind: cms -sign and -verify" \
			bash -c 'openssl cms "${@:5}" -sign -nodetach -binary -in "$3" -signer "$1.crt" -inkey "$1.key" \
				-out "$4" -outform DER && openssl cms "${@:5}" -verify -binary -in "$4" -inform DER \
				-CAfile "$2" -purpose any -out /dev/null' \
			_ "$d/leaf" "$d/ca.crt" "$TEST_TMP/data" "$W/$kind.cms" "${P[@]}"
		fi
		ok "$o, $kind: pkcs12 -export, and it reads back" \
			bash -c 'openssl pkcs12 "${@:4}" -export -in "$1.crt" -inkey "$1.key" -passout pass:x \
				-out "$2" && openssl pkcs12 "${@:4}" -in "$2" -passin pass:x -noout' \
			_ "$d/leaf" "$W/$kind.p12" "$TEST_TMP/data" "${P[@]}"
	done
	ok "$o, rsa: pkeyutl -encrypt -pubin, decrypted with the key" \
		bash -c 'openssl pkeyutl "${@:3}" -encrypt -pubin -inkey "$1.pub" -in "$2" -out "$1.enc" &&
			openssl pkeyutl "${@:3}" -decrypt -inkey "$1.key" -in "$1.enc" | cmp -s - "$2"' \
		_ "$K/rsa/leaf" "$TEST_TMP/data" "${P[@]}"
	ok "$o, rsa: pkeyutl -encrypt with OAEP" \
		bash -c 'openssl pkeyutl "${@:3}" -encrypt -pubin -inkey "$1.pub" -pkeyopt rsa_padding_mode:oaep \
			-in "$2" -out "$1.oaep" && openssl pkeyutl -decrypt -inkey "$1.key" \
			-pkeyopt rsa_padding_mode:oaep -in "$1.oaep" | cmp -s - "$2"' \
		_ "$K/rsa/leaf" "$TEST_TMP/data" "${P[@]}"
	ok "$o, rsa: dgst -sign with PSS padding" \
		bash -c 'openssl dgst "${@:4}" -sha256 -sign "$1.key" -sigopt rsa_padding_mode:pss -out "$2" "$3" &&
			openssl dgst -sha256 -verify "$1.pub" -sigopt rsa_padding_mode:pss -signature "$2" "$3"' \
		_ "$K/rsa/leaf" "$W/pss.sig" "$TEST_TMP/data" "${P[@]}"
	ok "$o, p256: a key check (validate) of a PEM key" \
		openssl pkey "${P[@]}" -in "$K/p256/leaf.key" -check -noout
	ok "$o, p256: ECDH derive between two PEM keys" \
		bash -c 'openssl pkeyutl "${@:3}" -derive -inkey "$1/leaf.key" -peerkey "$1/ca.pub" -out "$2" &&
			openssl pkeyutl -derive -inkey "$1/ca.key" -peerkey "$1/leaf.pub" | cmp -s - "$2"' \
		_ "$K/p256" "$W/secret" "${P[@]}"

	# ---- mutual TLS: a store key on one side, a PEM key on the other ----------------
	# A server with a store key takes clients of every kind (its CA file
	# holds their roots); a server with a PEM key of each kind takes a
	# client with each store key.
	cat "$K"/*/ca.crt >"$W/all-ca.crt"
	for skey in ec rsa; do
		start_server "$W" "${P[@]}" -cert "$TEST_TMP/$skey.crt" -key "$TEST_TMP/$skey.keyref" \
			-cert_chain "$PKI/inter.crt" -CAfile "$W/all-ca.crt" || continue
		for kind in $KINDS; do
			handshake "$o: mutual TLS, server with a store $skey key, client with a $kind PEM key" \
				-cert "$K/$kind/leaf.crt" -key "$K/$kind/leaf.key" -CAfile "$PKI/root.crt"
		done
		stop_server
	done
	for kind in $KINDS; do
		start_server "$W" "${P[@]}" -cert "$K/$kind/leaf.crt" -key "$K/$kind/leaf.key" \
			-CAfile "$PKI/root.crt" || continue
		for skey in ec rsa; do
			handshake "$o: mutual TLS, server with a $kind PEM key, client with a store $skey key" \
				-cert "$TEST_TMP/$skey.crt" -key "$TEST_TMP/$skey.keyref" \
				-cert_chain "$PKI/inter.crt" -CAfile "$K/$kind/ca.crt"
		done
		stop_server
	done
	unset OPENSSL_CONF
done

# Listed first with everything registered (lazy = no, or once the process
# used the store), the provider really is the one handed these keys; as
# shipped and unused it registers no key management, and is not.
provider_eager_conf "$TEST_TMP/eager-first.cnf" first
OUT=$(OPENSSL_CONF=$TEST_TMP/eager-first.cnf CERTSTORE_PROVIDER_TRACE=1 openssl verify \
	-CAfile "$K/rsa/ca.crt" "$K/rsa/leaf.crt" 2>&1)
tap_like "$OUT" "foreign keys: ok" \
	"lazy = no, listed first, certstore is handed the certificate's key (and passes it on)"
OUT=$(CERTSTORE_PROVIDER_TRACE=1 openssl verify -provider-path "$PROVIDER_DIR" -provider certstore \
	-provider default -CAfile "$K/rsa/ca.crt" "$K/rsa/leaf.crt" 2>&1)
tap_like "$OUT" ": OK" "as shipped, listed first and unused: the chain verifies"
tap_unlike "$OUT" "foreign keys" "as shipped, listed first and unused: certstore is not handed the key"

tap_done
