#!/bin/bash
# scripts/demo.sh [CERTSTORE] - the end-to-end demo on an already built binary.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
CERTSTORE=${1:-$SRC/build/certstore}
. "$SRC/tests/lib/pki.sh"

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/certstore-demo.XXXXXX")
trap 'rm -rf "$DEMO"' EXIT
export CERTSTORE_DIR=$DEMO/store

step() {
	printf '\n$ certstore'
	printf ' %q' "$@"
	printf '\n'
	"$CERTSTORE" "$@"
}

echo "== a test PKI (root CA -> intermediate CA -> server certificate) in $DEMO/pki"
pki_make_all "$DEMO/pki"
cd "$DEMO/pki"

echo "== the store: $CERTSTORE_DIR"
# The store and its key token (a SoftHSM2 token under the store, PIN in a 0600 file).
step init
# Without --store Root the root is refused: trusting it is the admin's decision.
step import root.crt || echo "(exit $?: the root was not trusted implicitly)"
step import root.crt --store Root
# Without its key the server certificate says so: Missing private key.
step import leaf.crt inter.crt --friendly-name "demo web server"
step verify "demo web server" || echo "(exit $?: no private key yet)"
step delete "demo web server"
# The server certificate with its key, as a PFX: the key goes into the token.
echo "demo pfx password" >pfx.pass
openssl pkcs12 -export -in leaf.crt -inkey leaf.key -certfile inter.crt \
	-name "demo web server" -passout file:pfx.pass -out leaf.pfx
rm leaf.key # from here on the key exists only in the token
step import leaf.pfx --password-file pfx.pass
step list
step show "demo web server"
step verify "$(pki_sha1 inter.crt)"
step verify "demo web server"
# Not exportable (the default): the token itself refuses to let it out.
step export "demo web server" --format pfx -o out.pfx --password-file pfx.pass ||
	echo "(exit $?: the key is not exportable)"

echo
echo "== the Windows procedure: request -> issue -> trust the root -> Valid -> assign"
# A CA kept in the store, its key in the token: the embedded CA for labs and demos.
step ca create-local demo --cn "certstore demo CA"
# A key for localhost made in the token, the request signed with it and sent to the CA.
step request --cn localhost --san dns:localhost --san ip:127.0.0.1 --ca demo \
	--friendly-name "localhost web"
# Trusting the CA's root is the admin's decision: check its fingerprint, then --trust.
fp=$("$CERTSTORE" ca roots demo | sed -n 's/.*SHA-256 \([0-9A-F]*\).*/\1/p' | head -1)
step ca roots demo --trust --expect-fingerprint "$fp"
step verify "localhost web"
step assign "localhost web" --usage Default
step usages
ls -l "$CERTSTORE_DIR/usages/Default/"
step log

echo
echo "demo: OK"
