#!/bin/bash
# certstore-pkcs11.so seen by real PKCS#11 consumers: OpenSC's pkcs11-tool,
# GnuTLS's p11tool, p11-kit's trust (reading and writing), NSS (modutil +
# certutil) and Java's SunPKCS11 through keytool.  Personal certificates with
# keys in the store's SoftHSM2 token sign and decrypt through the module, and
# openssl checks the results with the certificates.  Trust consumers only see
# modules registered system-wide (p11-kit ignores per-user files for root),
# so the module is registered under /etc/pkcs11/modules for the duration of
# the test and the file is removed on exit.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/provider.sh" # needs_keys, bind_key

MODULE=${CERTSTORE_PKCS11:-${top_builddir:-.}/.libs/certstore-pkcs11.so}
[ -f "$MODULE" ] || tap_bail "no module at $MODULE (set \$CERTSTORE_PKCS11)"
MODULE=$(cd "$(dirname "$MODULE")" && pwd)/$(basename "$MODULE")
PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
pki_root "$PKI" extra "Extra Root CA" || tap_bail "cannot make the extra root"

cs import "$PKI/root.crt" "$PKI/other.crt" --store Root >/dev/null || tap_bail "import Root"
cs import "$PKI/leaf.crt" "$PKI/inter.crt" >/dev/null || tap_bail "import leaf"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/rsa.key" 2>/dev/null &&
	openssl req -new -key "$PKI/rsa.key" -subj "/O=certstore tests/CN=rsa.test" \
		-out "$PKI/rsa.csr" &&
	pki_extensions server rsa.test >"$PKI/rsa.ext" &&
	openssl x509 -req -in "$PKI/rsa.csr" -CA "$PKI/inter.crt" -CAkey "$PKI/inter.key" \
		-CAcreateserial -days 30 -extfile "$PKI/rsa.ext" -extensions ext \
		-out "$PKI/rsa.crt" 2>/dev/null &&
	cs import "$PKI/rsa.crt" >/dev/null || tap_bail "cannot make the RSA certificate"
needs_keys
bind_key "$(pki_sha1 "$PKI/leaf.crt")" "$PKI/leaf.key" &&
	bind_key "$(pki_sha1 "$PKI/rsa.crt")" "$PKI/rsa.key" || tap_bail "cannot put the keys in the token"
# From here on the keys exist only in the token.
rm -f "$PKI/leaf.key" "$PKI/rsa.key"
# CKA_ID of a certificate and its key: the SHA-1 of the public key, which is
# the subjectKeyIdentifier these certificates carry.
key_id() {
	openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f
}
openssl x509 -in "$PKI/rsa.crt" -pubkey -noout >"$PKI/rsa.pub"
openssl x509 -in "$PKI/leaf.crt" -pubkey -noout >"$PKI/leaf.pub"
printf 'signed through certstore-pkcs11.so\n' >"$TEST_TMP/msg"
export CERTSTORE_DIR=$STORE

REG=
if [ -w /etc/pkcs11 ] || { [ ! -e /etc/pkcs11 ] && [ -w /etc ]; }; then
	mkdir -p /etc/pkcs11/modules
	REG=/etc/pkcs11/modules/certstore-test-$$.module
	cat >"$REG" <<CONF
module: $MODULE
trust-policy: yes
priority: 10
x-init-reserved: store=$STORE
CONF
	pkcs11_cleanup() {
		rm -f "$REG"
		test_cleanup
	}
	trap pkcs11_cleanup EXIT
fi

# ---- pkcs11-tool (OpenSC) ----------------------------------------------------
out=$(pkcs11-tool --module "$MODULE" -L 2>&1)
tap_like "$out" "token label +: Personal" "pkcs11-tool -L lists the Personal token"
tap_like "$out" "token label +: Trusted Root" "pkcs11-tool -L lists the Trusted Root token"
tap_like "$out" "token label +: Untrusted" "pkcs11-tool -L lists the Untrusted token"
out=$(pkcs11-tool --module "$MODULE" --slot 2 -O 2>&1)
tap_like "$out" "label: +Test Root CA" "pkcs11-tool -O shows the roots in Trusted Root"
skid=$(openssl x509 -in "$PKI/root.crt" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f)
tap_like "$out" "ID: +$skid" "CKA_ID is the SHA-1 of the public key (the root's SKI)"
# Personal's private keys are private objects: seen and used after C_Login
# with the key token's PIN, which pkcs11-tool takes from the environment
# (--pin env:NAME), never from argv.
P11_TEST_PIN=$(cat "$STORE/pin")
export P11_TEST_PIN
p11login() {
	pkcs11-tool --module "$MODULE" --slot 1 --login --pin env:P11_TEST_PIN "$@"
}
out=$(pkcs11-tool --module "$MODULE" --slot 1 -O 2>&1)
tap_like "$out" "label: +leaf.test" "pkcs11-tool -O shows the leaf in Personal"
tap_unlike "$out" "Test Root CA" "Personal does not show the roots"
tap_unlike "$out" "Private Key Object" "without login Personal shows no private key"
out=$(p11login -O 2>&1)
tap_like "$out" "Private Key Object; RSA" "pkcs11-tool --login -O shows the RSA private key in Personal"
tap_like "$out" "Private Key Object; EC" "pkcs11-tool --login -O shows the EC private key in Personal"
out=$(P11_TEST_PIN=wrong-pin p11login -O 2>&1)
tap_like "$out" "CKR_PIN_INCORRECT" "a wrong PIN is refused (CKR_PIN_INCORRECT)"

# p11sign DESC ID MECH OPENSSL-VERIFY-ARGS...: pkcs11-tool signs $TEST_TMP/msg
# with the key ID, openssl dgst checks the signature.
p11sign() {
	local desc=$1 id=$2 mech=$3 sig=$TEST_TMP/sig
	shift 3
	rm -f "$sig"
	if ! out=$(p11login --sign --id "$id" -m "$mech" \
		-i "$TEST_TMP/msg" -o "$sig" "${P11SIGN_ARGS[@]}" 2>&1); then
		tap_fail "$desc" "pkcs11-tool: $out"
	elif out=$(openssl dgst -sha256 "$@" -signature "$sig" "$TEST_TMP/msg" 2>&1) &&
		[ "$out" = "Verified OK" ]; then
		tap_pass "$desc"
	else
		tap_fail "$desc" "openssl dgst: $out"
	fi
}
P11SIGN_ARGS=()
p11sign "pkcs11-tool --sign -m SHA256-RSA-PKCS: openssl verifies it with the certificate" \
	"$(key_id "$PKI/rsa.crt")" SHA256-RSA-PKCS -verify "$PKI/rsa.pub"
P11SIGN_ARGS=(--mgf MGF1-SHA256)
p11sign "pkcs11-tool --sign -m SHA256-RSA-PKCS-PSS: openssl verifies it" \
	"$(key_id "$PKI/rsa.crt")" SHA256-RSA-PKCS-PSS -verify "$PKI/rsa.pub" \
	-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-2
P11SIGN_ARGS=(--signature-format openssl)
p11sign "pkcs11-tool --sign -m ECDSA-SHA256: openssl verifies it with the certificate" \
	"$(key_id "$PKI/leaf.crt")" ECDSA-SHA256 -verify "$PKI/leaf.pub"
openssl dgst -sha256 -binary "$TEST_TMP/msg" >"$TEST_TMP/msg.sha256"
out=$(p11login --sign --id "$(key_id "$PKI/leaf.crt")" -m ECDSA \
	--signature-format openssl -i "$TEST_TMP/msg.sha256" -o "$TEST_TMP/sig" 2>&1 &&
	openssl pkeyutl -verify -pubin -inkey "$PKI/leaf.pub" -in "$TEST_TMP/msg.sha256" \
		-sigfile "$TEST_TMP/sig" 2>&1)
tap_like "$out" "Signature Verified Successfully" "pkcs11-tool --sign -m ECDSA over a digest verifies"

# With certstore's provider loaded from openssl.cnf in the consumer's process
# (SoftHSM2 uses OpenSSL in it too), signing must neither deadlock nor reach
# the provider: the module and SoftHSM2 use the module's own library context.
SNIPPET=$top_srcdir/provider/certstore-openssl.cnf
[ -f "$SNIPPET" ] || SNIPPET=$(dirname "$0")/../../provider/certstore-openssl.cnf
sed -e "s|^module = certstore.so\$|module = $PROVIDER_DIR/certstore.so|" -e "s|^\[certstore_sect\]|&\nstore = $STORE|" "$SNIPPET" \
	>"$TEST_TMP/openssl.cnf"
P11SIGN_ARGS=()
OPENSSL_CONF=$TEST_TMP/openssl.cnf p11sign \
	"pkcs11-tool --sign with certstore's provider in openssl.cnf: no deadlock, verifies" \
	"$(key_id "$PKI/rsa.crt")" SHA256-RSA-PKCS -verify "$PKI/rsa.pub"

printf 'a session key\n' >"$TEST_TMP/secret"
openssl pkeyutl -encrypt -pubin -inkey "$PKI/rsa.pub" -in "$TEST_TMP/secret" \
	-out "$TEST_TMP/secret.enc" 2>/dev/null
out=$(p11login --decrypt --id "$(key_id "$PKI/rsa.crt")" \
	-m RSA-PKCS -i "$TEST_TMP/secret.enc" 2>/dev/null)
tap_is "$out" "a session key" "pkcs11-tool --decrypt -m RSA-PKCS gives back what openssl encrypted"
openssl pkeyutl -encrypt -pubin -inkey "$PKI/rsa.pub" -pkeyopt rsa_padding_mode:oaep \
	-in "$TEST_TMP/secret" -out "$TEST_TMP/secret.enc" 2>/dev/null
out=$(p11login --decrypt --id "$(key_id "$PKI/rsa.crt")" \
	-m RSA-PKCS-OAEP --hash-algorithm SHA-1 --mgf MGF1-SHA1 -i "$TEST_TMP/secret.enc" 2>/dev/null)
tap_is "$out" "a session key" "pkcs11-tool --decrypt -m RSA-PKCS-OAEP (SHA-1) works"

# CERTSTORE_PKCS11_DEBUG: when the key token cannot be opened (here its pin
# file is readable by others) signing fails either way, and only with the
# variable set does the module say why, on stderr.
pin=$(sed -n 's/^pin-file *= *//p' "$STORE/certstore.conf" | head -1)
case $pin in /*) ;; *) pin=$STORE/${pin:-pin} ;; esac
chmod 0644 "$pin"
debug_sign() {
	timeout 60 pkcs11-tool --module "$MODULE" --slot 1 --login --pin env:P11_TEST_PIN \
		--sign --id "$(key_id "$PKI/rsa.crt")" \
		-m SHA256-RSA-PKCS -i "$TEST_TMP/msg" -o "$TEST_TMP/sig" 2>&1 >/dev/null
}
quiet=$(debug_sign)
loud=$(CERTSTORE_PKCS11_DEBUG=1 debug_sign)
chmod 0600 "$pin"
tap_unlike "$quiet" "certstore-pkcs11:" "without CERTSTORE_PKCS11_DEBUG the module prints nothing"
tap_like "$loud" "certstore-pkcs11: .*accessible by group or others" \
	"CERTSTORE_PKCS11_DEBUG=1: the module says on stderr why the key token cannot be used"

# ---- p11tool (GnuTLS) ----------------------------------------------------------
out=$(p11tool --provider "$MODULE" --list-all "pkcs11:token=Trusted%20Root" 2>&1)
tap_like "$out" "Label: Test Root CA" "p11tool --list-all shows Trusted Root"
out=$(p11tool --provider "$MODULE" --list-all-trusted "pkcs11:token=Trusted%20Root" 2>&1)
tap_like "$out" "Label: Other Root CA" "p11tool --list-all-trusted marks the roots trusted"
# GnuTLS takes the PIN from the environment for --login
GNUTLS_PIN=$P11_TEST_PIN
export GNUTLS_PIN
out=$(timeout 60 p11tool --provider "$MODULE" --login --test-sign "pkcs11:token=Personal;object=rsa.test" 2>&1)
tap_like "$out" "Verifying against public key in the token\.\.\. ok" \
	"p11tool --test-sign with the RSA key"
out=$(timeout 60 p11tool --provider "$MODULE" --login --test-sign "pkcs11:token=Personal;object=leaf.test" 2>&1)
unset GNUTLS_PIN
tap_like "$out" "Verifying against public key in the token\.\.\. ok" \
	"p11tool --test-sign with the EC key"

# ---- p11-kit trust -------------------------------------------------------------
anchors() {
	trust list --filter=ca-anchors | grep -cE "label: (Test|Other|Extra) Root CA$"
}
if [ -n "$REG" ]; then
	want=$(cs list Root --json | count_listed)
	tap_is "$(anchors)" "$want" "trust list --filter=ca-anchors shows every Root certificate"
	tap_is "$(CERTSTORE_DIR=$TEST_TMP/nowhere anchors)" "$want" \
		"the store named by x-init-reserved in the .module file is read (p11-kit passes it as pReserved)"
	trust anchor --store "$PKI/extra.crt" >"$TEST_TMP/anchor.out" 2>&1
	# Debian's trust also runs extract-compat, which it does not ship: ignore
	# that exit status and check the store.
	run_cs list Root
	tap_like "$OUT" "CN=Extra Root CA" "trust anchor --store adds to Root"
	run_cs log
	tap_like "$OUT" "import +Root .*Extra Root CA" "the added anchor is audit-logged"
	tap_is "$(anchors)" "$((want + 1))" "trust list shows the new anchor"
	trust anchor --remove "$PKI/extra.crt" >/dev/null 2>&1
	run_cs list Root
	tap_unlike "$OUT" "Extra Root CA" "trust anchor --remove removes it from Root"
	run_cs log --action delete
	tap_like "$OUT" "delete +.*Extra Root CA" "the removed anchor is audit-logged"
	cs move "$(pki_sha1 "$PKI/other.crt")" --to Disallowed >/dev/null
	out=$(trust list --filter=blocklist)
	tap_like "$out" "label: Other Root CA" "a root moved to Disallowed is in trust's blocklist"
	tap_is "$(anchors)" "$((want - 1))" "and is no longer an anchor"
	cs move "$(pki_sha1 "$PKI/other.crt")" --to Root >/dev/null
else
	for d in "trust list shows Root" "trust anchor --store" "anchor audit" "new anchor listed" \
		"trust anchor --remove" "removed anchor audit" "blocklist" "no longer anchor"; do
		tap_skip "$d" "cannot register a module under /etc/pkcs11/modules (not root)"
	done
fi

# ---- NSS -----------------------------------------------------------------------
NSSDB=$TEST_TMP/nssdb
mkdir -p "$NSSDB"
certutil -N -d "sql:$NSSDB" --empty-password >/dev/null 2>&1
modutil -dbdir "sql:$NSSDB" -add certstore -libfile "$MODULE" -force >/dev/null 2>&1
out=$(certutil -L -d "sql:$NSSDB" -h "Trusted Root" 2>&1)
tap_like "$out" "Trusted Root:Test Root CA +C,C,C" "NSS: Test Root CA is trusted C,C,C"
tap_like "$out" "Trusted Root:Other Root CA +C,C,C" "NSS: Other Root CA is trusted C,C,C"
cs move "$(pki_sha1 "$PKI/other.crt")" --to Disallowed >/dev/null
out=$(certutil -L -d "sql:$NSSDB" -h all 2>&1)
tap_like "$out" "Untrusted:Other Root CA +p,p,p" "NSS: a Disallowed certificate is prohibited (p,p,p)"

# ---- Java SunPKCS11 ------------------------------------------------------------
# The keystore password is the token's PIN (Personal: the key token's).
keytool_list() {
	printf 'name = certstore\nlibrary = %s\nslot = %s\n' "$MODULE" "$1" >"$TEST_TMP/java.cfg"
	timeout 120 keytool -list -storetype PKCS11 -providerClass sun.security.pkcs11.SunPKCS11 \
		-providerArg "$TEST_TMP/java.cfg" -storepass:file "$2" 2>&1
}
if sanitizer_build; then
	why="sanitizer build: the JVM cannot run with the ASan runtime preloaded, nor load an ASan module without it"
	tap_skip "Java keytool lists Trusted Root entries" "$why"
	tap_skip "Java keytool lists the Personal RSA key entry" "$why"
	tap_skip "Java keytool lists the Personal EC key entry" "$why"
elif command -v keytool >/dev/null; then
	echo none >"$TEST_TMP/nopin"
	out=$(keytool_list 2 "$TEST_TMP/nopin")
	tap_like "$out" "Test Root CA, trustedCertEntry" "Java keytool lists Trusted Root entries"
	out=$(keytool_list 1 "$STORE/pin")
	tap_like "$out" "rsa.test, PrivateKeyEntry" "Java keytool lists the Personal RSA key entry"
	tap_like "$out" "leaf.test, PrivateKeyEntry" "Java keytool lists the Personal EC key entry"
else
	# scripts/deps.sh installs a JDK: under CI=true its absence is a failure.
	tap_skip_prereq "Java keytool lists Trusted Root entries" "no keytool"
	tap_skip_prereq "Java keytool lists the Personal RSA key entry" "no keytool"
	tap_skip_prereq "Java keytool lists the Personal EC key entry" "no keytool"
fi

tap_done
