#!/bin/bash
# `lazy = yes`: a loaded provider that is never used stays out of the way.
# Until the store is opened (a certstore: URI) certstore registers no key
# management, signature, cipher or decoder, so OpenSSL 3.0 does not build
# them into the decoder chain it makes for every certificate it parses; the
# store's first use registers them, in the same process.  Without it (as
# shipped) everything is registered at load, and key reference files work
# both through PEM_read_bio_PrivateKey (nginx, haproxy, apache), which
# builds its decoder chain before any certstore code runs, and through
# OSSL_STORE (openssl pkey, s_server -key).  Provider listed after and
# before default.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/provider.sh"

CS_SIGN=${top_builddir:-.}/tests/helpers/cs-sign
[ -x "$CS_SIGN" ] || tap_bail "no tests/helpers/cs-sign (run make check)"
export CERTSTORE_PROVIDER_DIR=$PROVIDER_DIR

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
cs export "EC server" --format keyref -o "$TEST_TMP/ec.ref" &&
	cs export "RSA server" --format keyref -o "$TEST_TMP/rsa.ref" ||
	tap_bail "cannot export the key references"

# The snippet as shipped with `lazy = yes`, certstore listed last and first.
sed -e "s|^module = certstore.so\$|module = $PROVIDER_DIR/certstore.so|" \
	-e "s|^# store = .*|store = $STORE|" -e "s|^# lazy = .*|lazy = yes|" \
	"$top_srcdir/provider/certstore-openssl.cnf" >"$TEST_TMP/lazy-last.cnf" &&
	grep -q '^lazy = yes$' "$TEST_TMP/lazy-last.cnf" &&
	sed -e '/^default = certstore_default_sect$/{h;d}' -e '/^machine-certstore = certstore_sect$/G' \
		"$TEST_TMP/lazy-last.cnf" >"$TEST_TMP/lazy-first.cnf" ||
	tap_bail "cannot make the lazy snippets"

# --- lazy = yes, unused: nothing but the certstore: scheme is registered --------
for order in last first; do
	export OPENSSL_CONF=$TEST_TMP/lazy-$order.cnf
	for what in key-managers signature-algorithms asymcipher-algorithms decoders; do
		OUT=$(openssl list "-$what" 2>&1)
		tap_ok "lazy, listed $order, unused: no certstore $what registered" \
			eval '! printf "%s\n" "$OUT" | grep -q "@ machine-certstore"'
		tap_ok "lazy, listed $order, unused: default's $what are there" \
			eval 'printf "%s\n" "$OUT" | grep -q "@ default"'
	done
	tap_like "$(openssl list -store-loaders 2>&1)" "certstore @ machine-certstore" \
		"lazy, listed $order, unused: the certstore: scheme is registered"
	# used: a certstore: URI arms it, in the same process
	OUT=$(CERTSTORE_PROVIDER_DIR= timeout 60 "$CS_SIGN" "certstore:My?friendly-name=EC%20server" 2>&1)
	tap_is "$OUT" "signed 1" "lazy, listed $order: a certstore: URI signs (the store's use registers the rest)"
	OUT=$(openssl storeutl -noout -certs "certstore:My?friendly-name=RSA%20server" 2>&1)
	tap_like "$OUT" "Certificate" "lazy, listed $order: storeutl reads certstore:My"
	OUT=$(timeout 60 openssl verify -CAstore certstore:Root -untrusted "$PKI/inter.crt" \
		"$PKI/leaf.crt" 2>&1)
	tap_like "$OUT" ": OK" "lazy, listed $order: verify -CAstore certstore:Root"
	OUT=$(openssl storeutl -noout "certstore:My?thumbprint=$(printf '%040d' 0)" 2>&1)
	tap_like "$OUT" "machine-certstore::not found::.*no certificate with thumbprint" \
		"lazy, listed $order: errors carry the provider's name and reason"
	unset OPENSSL_CONF
done

# --- as shipped (no lazy): everything is registered at load ----------------------
FIRST=(-provider-path "$PROVIDER_DIR" -provider certstore -provider default)
tap_like "$(openssl list -key-managers "${OSSL_PROV[@]}" 2>&1)" "@ certstore" \
	"not lazy: certstore's key managers are registered at load"
tap_like "$(openssl list -decoders "${FIRST[@]}" 2>&1)" "@ certstore" \
	"not lazy: certstore's decoders are registered at load"

# --- not lazy: key references through both ways of reading a key file -----------
for order in last first; do
	flag=
	[ $order = last ] || flag=--first
	for t in ec rsa; do
		OUT=$(CERTSTORE_DIR=$STORE timeout 60 "$CS_SIGN" $flag --pem "$TEST_TMP/$t.ref" 2>&1)
		tap_is "$OUT" "signed 1" "listed $order: PEM_read_bio_PrivateKey of a $t key reference signs"
		OUT=$(CERTSTORE_DIR=$STORE timeout 60 "$CS_SIGN" $flag "$TEST_TMP/$t.ref" 2>&1)
		tap_is "$OUT" "signed 1" "listed $order: OSSL_STORE of a $t key reference signs"
	done
done

tap_done
