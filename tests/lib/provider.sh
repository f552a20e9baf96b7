# provider.sh - running openssl with the certstore provider from the build
# tree (source it after common.sh).
#
#   PROVIDER_DIR     where certstore.so is: $CERTSTORE_PROVIDER_DIR, else
#                    $top_builddir/.libs
#   OSSL_PROV        the openssl options that load it after default
#                    (provider-foreign-keys.sh tests it listed first too)
#   ossl CMD ARGS... openssl CMD with OSSL_PROV, on the test's $STORE
#   run_ossl CMD ARGS...  the same, capturing $OUT, $ERR and $RC; a run that
#                    takes longer than 60 s is killed (RC 124: a hang)
#   provider_eager_conf FILE [first]  writes an openssl.cnf that loads
#                    default, then certstore (first: the other way round;
#                    under that name: -provider certstore and
#                    OSSL_PROVIDER_load find it loaded) with `lazy = no`, which
#                    OSSL_STORE's file: loader needs to read key reference
#                    files (openssl pkey -in, s_server -key); as shipped
#                    (lazy) only PEM_read_bio_PrivateKey reads them

PROVIDER_DIR=${CERTSTORE_PROVIDER_DIR:-${top_builddir:-.}/.libs}
[ -f "$PROVIDER_DIR/certstore.so" ] || tap_bail "no certstore.so in $PROVIDER_DIR (set \$CERTSTORE_PROVIDER_DIR)"
PROVIDER_DIR=$(cd "$PROVIDER_DIR" && pwd)
# The uninstalled module finds the uninstalled libcertstore beside it.
export LD_LIBRARY_PATH="$PROVIDER_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
OSSL_PROV=(-provider-path "$PROVIDER_DIR" -provider default -provider certstore)

provider_eager_conf() {
	local order="default = eager_default
certstore = eager_certstore"
	[ "${2:-}" != first ] || order="certstore = eager_certstore
default = eager_default"
	cat >"$1" <<EOF
openssl_conf = eager_init
[eager_init]
providers = eager_providers
[eager_providers]
$order
[eager_default]
activate = 1
[eager_certstore]
module = $PROVIDER_DIR/certstore.so
lazy = no
activate = 1
EOF
}

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

# needs_keys: gives the store its key token (`certstore init`).
needs_keys() {
	cs init >/dev/null || tap_bail "cannot make the store's token"
}

# bind_key ID KEY.pem: puts the key in the store's token, bound to certificate ID,
# the way an admin would: the certificate and its key as a PFX, imported again.
bind_key() {
	local pem=$TEST_TMP/.bind.pem pfx=$TEST_TMP/.bind.pfx pass=$TEST_TMP/.bind.pass name
	name=$(cs show "$1" | sed -n 's/^Friendly name  *//p')
	[ "$name" != "(none)" ] || name=
	echo "bind $$" >"$pass"
	cs export "$1" -o "$pem" &&
		openssl pkcs12 -export -in "$pem" -inkey "$2" -passout "file:$pass" \
			${name:+-name "$name"} -out "$pfx" &&
		cs delete "$1" >/dev/null &&
		cs import "$pfx" --password-file "$pass" >/dev/null
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
