#!/bin/bash
# build.sh [BUILD_DIR [CONFIGURE_ARGS...]] - builds certstore out of tree
# (default: build/), running autoreconf and configure when needed.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
shift || true
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac

cd "$SRC"
[ -x configure ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p "$BUILD"
cd "$BUILD"
# Configure again when the arguments changed since the last time.
if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$*" ]; then
	"$SRC/configure" -q "$@"
	echo "$*" >.configure-args
fi
make -s -j"$(nproc)" >/dev/null
echo "built in $BUILD"
