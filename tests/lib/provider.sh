# provider.sh - running openssl with the certstore provider from the build
# tree (source it after common.sh).
#
#   PROVIDER_DIR     where certstore.so is: $CERTSTORE_PROVIDER_DIR, else
#                    $top_builddir/.libs
#   OSSL_PROV        the openssl options that load it next to default
#   ossl CMD ARGS... openssl CMD with OSSL_PROV, on the test's $STORE
#   run_ossl CMD ARGS...  the same, capturing $OUT, $ERR and $RC; a run that
#                    takes longer than 60 s is killed (RC 124: a hang)

PROVIDER_DIR=${CERTSTORE_PROVIDER_DIR:-${top_builddir:-.}/.libs}
[ -f "$PROVIDER_DIR/certstore.so" ] || tap_bail "no certstore.so in $PROVIDER_DIR (set \$CERTSTORE_PROVIDER_DIR)"
PROVIDER_DIR=$(cd "$PROVIDER_DIR" && pwd)
# The uninstalled module finds the uninstalled libcertstore beside it.
export LD_LIBRARY_PATH="$PROVIDER_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
OSSL_PROV=(-provider-path "$PROVIDER_DIR" -provider certstore -provider default)

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
