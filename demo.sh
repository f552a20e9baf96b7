#!/bin/bash
# demo.sh - the main job: installs the Debian packages, builds certstore, and
# runs the end-to-end demo: a store in a temp dir, a test CA and a server
# certificate made with openssl, imported (the root only with --store Root),
# listed, shown and verified; then the Windows procedure with the store's
# local CA, usage Default served by nginx through the provider, renewed, and
# nginx reloaded by the usage's hook serving the renewal.
set -euo pipefail

SRC=$(cd "$(dirname "$0")" && pwd)
"$SRC/scripts/deps.sh"
"$SRC/scripts/build.sh" build
exec "$SRC/scripts/demo.sh" "$SRC/build/certstore"
