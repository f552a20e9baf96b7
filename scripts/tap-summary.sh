#!/bin/bash
# tap-summary.sh BUILD_DIR - after `make check`, prints "N passed, N failed,
# N skipped" counting TAP test points (one :test-result: line each in the
# automake .trs files); exits 1 when any failed or none ran.
set -euo pipefail

BUILD=${1:-build}
passed=0 failed=0 skipped=0
while read -r result; do
	case $result in
	PASS | XFAIL) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;; # FAIL, XPASS, ERROR
	esac
done < <(find "$BUILD" -name '*.trs' -exec sed -n 's/^:test-result: *//p' {} + 2>/dev/null)

# A build that failed before any test ran counts as one failure.
failed=$((failed + ${EXTRA_FAILURES:-0}))
[ $((passed + failed + skipped)) -gt 0 ] || failed=1
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
