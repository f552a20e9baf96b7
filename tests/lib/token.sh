# token.sh - the store's own SoftHSM2 token, seen independently of certstore
# (source it after common.sh).
#
#   make_token          makes the store with its embedded token (certstore init)
#   token_objects       pkcs11-tool's listing of the token's objects
#   token_count         how many key objects the token holds

SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}

make_token() {
	cs init >/dev/null
}

token_objects() {
	# The PIN is on pkcs11-tool's argv here only: a test token, a test process.
	SOFTHSM2_CONF=$STORE/token/softhsm2.conf pkcs11-tool --module "$SOFTHSM_MODULE" \
		--token-label certstore --login --pin "$(cat "$STORE/pin")" -O 2>/dev/null
}

token_count() {
	token_objects | grep -c '^[A-Z][a-z]* Key Object'
}
