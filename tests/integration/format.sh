#!/bin/bash
# The tree's own .clang-format holds for every C file: one point per file, so
# a drift names the file and shows the first lines clang-format would change.
# Format a file with `clang-format -i FILE`.
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
for f in "${FILES[@]}"; do
	if diff=$(clang-format --style=file "$f" | diff -u "$f" - | head -n 12) && [ -z "$diff" ]; then
		tap_pass "$f follows .clang-format"
	else
		tap_fail "$f follows .clang-format" "$diff"
	fi
done
tap_done
