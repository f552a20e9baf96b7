#!/bin/bash
# run-tests.sh - installs the Debian packages, builds, runs every test
# (`make check`: unit tests and integration tests, all TAP) and ends with the
# line "N passed, N failed, N skipped" counting test points.  Exits non-zero
# when anything failed.
#
# Environment: BUILD_DIR (default build), CONFIGURE_FLAGS (e.g.
# --enable-sanitizers), CHECK_JOBS (parallel tests, default: nproc).
set -uo pipefail

SRC=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD_DIR:-build}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
read -r -a configure_flags <<<"${CONFIGURE_FLAGS:-}"

"$SRC/scripts/deps.sh" || exit 1

if ! "$SRC/scripts/build.sh" "$BUILD" "${configure_flags[@]}"; then
	echo "run-tests.sh: the build failed" >&2
	EXTRA_FAILURES=1 "$SRC/scripts/tap-summary.sh" /nonexistent
	exit 1
fi

find "$BUILD" -name '*.trs' -delete
make -C "$BUILD" -s -j"${CHECK_JOBS:-$(nproc)}" check >"$BUILD/check.out" 2>&1
check_rc=$?
grep -E '^(FAIL|ERROR|XPASS|SKIP):' "$BUILD/check.out" || true
sed -n '/^# TOTAL/,/^# ERROR/p' "$BUILD/check.out"

# The logs of failed tests, so that CI output says why.
for trs in $(grep -l -E '^:test-result: (FAIL|ERROR|XPASS)' $(find "$BUILD" -name '*.trs') /dev/null); do
	echo "==== ${trs%.trs}.log"
	grep -v -E '^(ok |PASS: )' "${trs%.trs}.log"
done

# Where the time went: the slowest shell tests (CI has a time budget).
echo "slowest tests (wall time, s):"
find "$BUILD/tests" -name '*.log' -exec grep -H -m1 '^# duration: ' {} + 2>/dev/null |
	sed -E 's|^'"$BUILD"'/||; s|\.log:# duration: ([0-9]+) ms$| \1|' | sort -k2,2nr | head -n 10 |
	awk '{ printf "  %6.1f  %s\n", $2 / 1000, $1 }'

extra=0
# make check failing with no failed test point means the build of a test broke.
if [ "$check_rc" != 0 ] && ! grep -q -E '^(FAIL|ERROR|XPASS):' "$BUILD/check.out"; then
	tail -n 30 "$BUILD/check.out"
	extra=1
fi
EXTRA_FAILURES=$extra "$SRC/scripts/tap-summary.sh" "$BUILD"
