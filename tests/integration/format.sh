#!/bin/bash
# The tree's own .clang-format holds for every C file: one point per file, so
# a drift names the file and shows the first lines clang-format would change.
# Format a file with `clang-format -i FILE`.
# clang-format runs once over all files (--dry-run names each file that would
# change); only those are formatted again to show the diff.
. "$(dirname "$0")/../lib/tap.sh"
SRC=${top_srcdir:-$(dirname "$0")/../..}

if ! command -v clang-format >/dev/null; then
	tap_skip_prereq "C files follow .clang-format" "clang-format is not installed"
	tap_done
fi
cd "$SRC" || tap_bail "no source tree at $SRC"
mapfile -t FILES < <(find store provider pkcs11 tools enroll tests/unit tests/fuzz \
	tests/helpers bench -name '*.[ch]' 2>/dev/null | sort)
[ "${#FILES[@]}" -gt 100 ] || tap_bail "found only ${#FILES[@]} C files under $SRC"

report=$(clang-format --style=file --dry-run "${FILES[@]}" 2>&1)
status=$?
declare -A drift=()
while IFS= read -r line; do
	case $line in
	*": warning: code should be clang-formatted"* | *": error: code should be clang-formatted"*)
		drift[${line%%:*}]=1 ;;
	esac
done <<<"$report"
# clang-format failing for another reason (a file it cannot read, a broken
# .clang-format) must not pass as "no drift".
if [ "$status" -ne 0 ] && [ "${#drift[@]}" -eq 0 ]; then
	tap_bail "clang-format --dry-run failed: $(head -n 3 <<<"$report")"
fi
for f in "${FILES[@]}"; do
	if [ -z "${drift[$f]:-}" ]; then
		tap_pass "$f follows .clang-format"
	else
		tap_fail "$f follows .clang-format" "$(clang-format --style=file "$f" | diff -u "$f" - | head -n 12)"
	fi
done
tap_done
