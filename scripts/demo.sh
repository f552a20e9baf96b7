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
# Without --store Root the root is refused: trusting it is the admin's decision.
step import root.crt || echo "(exit $?: the root was not trusted implicitly)"
step import root.crt --store Root
step import leaf.crt inter.crt --friendly-name "demo web server"
step list
step show "demo web server"
step verify "$(pki_sha1 inter.crt)"
# The server certificate has no private key in the store yet (the HSM work
# comes later), so its verdict names that problem.
step verify "demo web server" || echo "(exit $?: the key is not in the store yet)"
step log

echo
echo "demo: OK"
