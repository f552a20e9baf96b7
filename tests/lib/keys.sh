# keys.sh - the store's key token, seen from outside (source it after common.sh).
#
#   keys_init              `certstore init` on $STORE (bails out on failure)
#   P11_MODULE             SoftHSM2's module (the default key token)
#   p11 ARGS...            pkcs11-tool on the store's token, logged in with the
#                          store's PIN (on pkcs11-tool's argv: tests only)
#   token_objects          the token's objects as pkcs11-tool lists them
#   private_access LABEL   the "Access:" line of the private key labelled LABEL
#   make_pfx OUT CRT KEY PASSFILE [openssl pkcs12 -export options...]

P11_MODULE=${P11_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
command -v pkcs11-tool >/dev/null || tap_bail "pkcs11-tool (opensc) is needed"
[ -f "$P11_MODULE" ] || tap_bail "no SoftHSM2 module at $P11_MODULE"

keys_init() {
	cs init >/dev/null || tap_bail "certstore init failed"
}

p11() {
	SOFTHSM2_CONF=$STORE/token/softhsm2.conf pkcs11-tool --module "$P11_MODULE" \
		--login --pin "$(cat "${P11_PIN_FILE:-$STORE/pin}")" "$@" 2>&1
}

token_objects() {
	p11 --list-objects | grep -v '^Using slot'
}

private_access() {
	token_objects | awk -v l="$1" '
		/^[A-Z]/ { priv = /^Private Key Object/; lab = "" }
		priv && $1 == "label:" { sub(/^ *label: */, ""); lab = $0 }
		priv && lab == l && $1 == "Access:" { sub(/^ *Access: */, ""); print; exit }'
}

make_pfx() {
	local out=$1 crt=$2 key=$3 pass=$4
	shift 4
	openssl pkcs12 -export -in "$crt" -inkey "$key" -passout "file:$pass" -out "$out" "$@"
}
