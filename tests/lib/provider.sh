# provider.sh - running openssl with the certstore provider from the build
# tree (source it after common.sh).
#
#   PROVIDER_DIR     where certstore.so is: $CERTSTORE_PROVIDER_DIR, else
#                    $top_builddir/.libs
#   OSSL_PROV        the openssl options that load it after default (the
#                    order matters: OpenSSL gives an unqualified fetch of
#                    "EC" or "RSA" to the provider loaded first, and libssl's
#                    ephemeral keys must come from default)
#   ossl CMD ARGS... openssl CMD with OSSL_PROV, on the test's $STORE
#   run_ossl CMD ARGS...  the same, capturing $OUT, $ERR and $RC; a run that
#                    takes longer than 60 s is killed (RC 124: a hang)

PROVIDER_DIR=${CERTSTORE_PROVIDER_DIR:-${top_builddir:-.}/.libs}
[ -f "$PROVIDER_DIR/certstore.so" ] || tap_bail "no certstore.so in $PROVIDER_DIR (set \$CERTSTORE_PROVIDER_DIR)"
PROVIDER_DIR=$(cd "$PROVIDER_DIR" && pwd)
# The uninstalled module finds the uninstalled libcertstore beside it.
export LD_LIBRARY_PATH="$PROVIDER_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
OSSL_PROV=(-provider-path "$PROVIDER_DIR" -provider default -provider certstore)

ossl() {
	local cmd=$1
	shift
	CERTSTORE_DIR=$STORE openssl "$cmd" "${OSSL_PROV[@]}" "$@"
}

run_ossl() {
	OUT=$(CERTSTORE_DIR=$STORE timeout 60 openssl "$1" "${OSSL_PROV[@]}" "${@:2}" \
		2>"$TEST_TMP/.stderr")
	RC=$?
	ERR=$(cat "$TEST_TMP/.stderr")
}

# Number of certificates storeutl prints for URI.
storeutl_count() {
	ossl storeutl -noout -certs "$1" 2>/dev/null | grep -c '^[0-9]*: Certificate$'
}

CS_TESTKEY=${top_builddir:-.}/tests/helpers/cs-testkey
[ -x "$CS_TESTKEY" ] || CS_TESTKEY=

# needs_keys: bails out unless the key helper (make check builds it) is there.
needs_keys() {
	[ -n "$CS_TESTKEY" ] || tap_bail "no tests/helpers/cs-testkey (run make check)"
	"$CS_TESTKEY" "$STORE" init || tap_bail "cannot make the store's token"
}

# bind_key ID KEY.pem: puts the key in the store's token, bound to certificate ID.
bind_key() {
	"$CS_TESTKEY" "$STORE" bind "$1" "$2"
}

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT: until something listens there (10 s at most).
wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
