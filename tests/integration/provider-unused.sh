#!/bin/bash
# As shipped (lazy): a loaded provider that is never used stays out of the
# way.  Until the store is used certstore registers no key management,
# signature or cipher, and as decoders only its key-reference decoders from
# PEM (none named "DER"), so OpenSSL 3.0 does not build them into the
# decoder chain it makes for every certificate it parses; the store's first
# use registers the rest, in the same process: a certstore: URI, or a PEM
# key reference read by PEM_read_bio_PrivateKey (nginx, haproxy, apache),
# which builds its decoder chain before any certstore code runs.  With
# `lazy = no` everything is registered at load, and key reference files
# also work through OSSL_STORE's file: loader (openssl pkey, s_server -key).
# Provider listed after and before default.
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

# The snippet as shipped, and with `lazy = no`, certstore listed last and first.
sed -e "s|^module = certstore.so\$|module = $PROVIDER_DIR/certstore.so|" \
	-e "s|^# store = .*|store = $STORE|" \
	"$top_srcdir/provider/certstore-openssl.cnf" >"$TEST_TMP/lazy-last.cnf" &&
	sed -e "s|^# lazy = .*|lazy = no|" "$TEST_TMP/lazy-last.cnf" >"$TEST_TMP/eager-last.cnf" &&
	grep -q '^lazy = no$' "$TEST_TMP/eager-last.cnf" &&
	for m in lazy eager; do
		sed -e '/^default = certstore_default_sect$/{h;d}' \
			-e '/^machine-certstore = certstore_sect$/G' \
			"$TEST_TMP/$m-last.cnf" >"$TEST_TMP/$m-first.cnf" || exit 1
	done || tap_bail "cannot make the snippets"

# --- as shipped, unused: the certstore: scheme and the key-reference decoders ---
for order in last first; do
	export OPENSSL_CONF=$TEST_TMP/lazy-$order.cnf
	OUT=$(openssl list -decoders 2>&1)
	OURS=$(printf '%s\n' "$OUT" | grep '@ machine-certstore')
	tap_is "$(printf '%s\n' "$OURS" | grep -c 'input=pem)$')" 2 \
		"as shipped, listed $order, unused: two certstore decoders, from PEM"
	tap_like "$OURS" "RSA.*input=pem" "as shipped, listed $order, unused: one is RSA's"
	tap_like "$OURS" "EC.*input=pem" "as shipped, listed $order, unused: one is EC's"
	tap_unlike "$OURS" "DER" "as shipped, listed $order, unused: no certstore decoder named DER"
	for what in key-managers signature-algorithms asymcipher-algorithms; do
		OUT=$(openssl list "-$what" 2>&1)
		tap_ok "as shipped, listed $order, unused: no certstore $what registered" \
			eval '! printf "%s\n" "$OUT" | grep -q "@ machine-certstore"'
		tap_ok "as shipped, listed $order, unused: default's $what are there" \
			eval 'printf "%s\n" "$OUT" | grep -q "@ default"'
	done
	tap_like "$(openssl list -store-loaders 2>&1)" "certstore @ machine-certstore" \
		"as shipped, listed $order, unused: the certstore: scheme is registered"
	# used: a certstore: URI arms it, in the same process
	OUT=$(CERTSTORE_PROVIDER_DIR= timeout 60 "$CS_SIGN" "certstore:My?friendly-name=EC%20server" 2>&1)
	tap_is "$OUT" "signed 1" "as shipped, listed $order: a certstore: URI signs (the store's use registers the rest)"
	OUT=$(openssl storeutl -noout -certs "certstore:My?friendly-name=RSA%20server" 2>&1)
	tap_like "$OUT" "Certificate" "as shipped, listed $order: storeutl reads certstore:My"
	OUT=$(timeout 60 openssl verify -CAstore certstore:Root -untrusted "$PKI/inter.crt" \
		"$PKI/leaf.crt" 2>&1)
	tap_like "$OUT" ": OK" "as shipped, listed $order: verify -CAstore certstore:Root"
	OUT=$(openssl storeutl -noout "certstore:My?thumbprint=$(printf '%040d' 0)" 2>&1)
	tap_like "$OUT" "machine-certstore::not found::.*no certificate with thumbprint" \
		"as shipped, listed $order: errors carry the provider's name and reason"
	unset OPENSSL_CONF
done

# --- lazy = no: everything is registered at load ----------------------------------
tap_like "$(OPENSSL_CONF=$TEST_TMP/eager-last.cnf openssl list -key-managers 2>&1)" \
	"@ machine-certstore" "lazy = no: certstore's key managers are registered at load"
tap_like "$(OPENSSL_CONF=$TEST_TMP/eager-first.cnf openssl list -decoders 2>&1)" \
	"DER @ machine-certstore" "lazy = no: certstore's decoders (a DER step too) are registered at load"

# --- key references: PEM_read_bio_PrivateKey as shipped (the first use of the
# store in the process is the decoding itself, -provider certstore with no
# section), and also OSSL_STORE's file: loader with lazy = no -----------------------
for order in last first; do
	flag=
	[ $order = last ] || flag=--first
	for t in ec rsa; do
		OUT=$(CERTSTORE_DIR=$STORE timeout 60 "$CS_SIGN" $flag --pem "$TEST_TMP/$t.ref" 2>&1)
		tap_is "$OUT" "signed 1" \
			"as shipped, listed $order: PEM_read_bio_PrivateKey of a $t key reference signs"
		OUT=$(OPENSSL_CONF=$TEST_TMP/eager-$order.cnf CERTSTORE_DIR=$STORE timeout 60 \
			"$CS_SIGN" $flag "$TEST_TMP/$t.ref" 2>&1)
		tap_is "$OUT" "signed 1" "lazy = no, listed $order: OSSL_STORE of a $t key reference signs"
	done
done
# the limit, as documented: the file: loader has no decoder named "DER" of ours
OUT=$(CERTSTORE_DIR=$STORE timeout 60 "$CS_SIGN" "$TEST_TMP/ec.ref" 2>&1)
tap_like "$OUT" "unsupported" "as shipped: OSSL_STORE's file: loader does not read key references (lazy = no does)"

tap_done
