#!/bin/bash
# package-test.sh [WORK_DIR] - builds the Debian packages from a clean copy of
# the tree (dpkg-buildpackage -us -uc -b), checks them with lintian (no
# error; warnings listed in debian/README.source), then installs them into a
# private copy of the system and checks them there (package-install-check.sh):
# overlay mounts over /usr, /etc and /var inside a mount namespace of their
# own, so nothing outside this script ever sees the packages' p11-kit module
# or OpenSSL provider, and everything the install did is gone when it exits.
#
# DEB_BUILD_OPTIONS defaults to nocheck: CI's first leg ran the same suite on
# the same tree; set DEB_BUILD_OPTIONS= to run it inside the package build too.
# REUSE=1 skips the build and lintian and checks the packages already in WORK_DIR.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$SRC/build-deb}
case $WORK in /*) ;; *) WORK=$PWD/$WORK ;; esac
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck}

if [ "${REUSE:-0}" != 1 ]; then
echo "== the source tree, clean (what git tracks, plus new files not ignored)"
rm -rf "$WORK"
mkdir -p "$WORK/certstore"
(cd "$SRC" && git ls-files -co --exclude-standard -z | grep -zv '^build' |
	xargs -0 cp --parents -a -t "$WORK/certstore")

echo "== dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)"
(cd "$WORK/certstore" && nice dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1 || {
	tail -n 40 "$WORK/build.log" >&2
	echo "package-test: dpkg-buildpackage failed (whole log: $WORK/build.log)" >&2
	exit 1
}
ls -1 "$WORK"/*.deb

echo "== lintian (fails on errors; every warning is explained in debian/README.source)"
lintian --fail-on error --display-info "$WORK"/*.changes | tee "$WORK/lintian.log"
fi

echo "== install, use, purge: in a private copy of /usr, /etc and /var"
rm -rf "$WORK/overlay"
for d in usr etc var; do mkdir -p "$WORK/overlay/$d/upper" "$WORK/overlay/$d/work"; done
unshare --mount --propagation private --fork \
	"$SRC/scripts/package-install-check.sh" "$WORK" "$SRC"
