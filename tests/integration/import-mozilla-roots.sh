#!/bin/bash
# The real Mozilla roots shipped by Debian's ca-certificates all go to Root
# with --store Root, one certificate per file; importing them again adds
# nothing (exit 7); without --store Root none of them is trusted (exit 6).
. "$(dirname "$0")/../lib/common.sh"

MOZILLA=/usr/share/ca-certificates/mozilla
FILES=("$MOZILLA"/*.crt)
N=${#FILES[@]}
if [ ! -e "${FILES[0]}" ]; then
	tap_skip "import the Mozilla roots" "no $MOZILLA/*.crt (install ca-certificates)"
	tap_done
fi
tap_diag "$N files in $MOZILLA"

listed_thumbprints() {
	cs list "$@" --json | sed -n 's/.*"thumbprint": "\([0-9A-F]*\)".*/\1/p' | sort
}

WANT=$(for f in "${FILES[@]}"; do pki_sha1 "$f"; done | sort)

# --- without --store Root: trust refused ------------------------------------
run_cs import "${FILES[@]}"
tap_is "$RC" 6 "without --store Root: exit 6 (trust refused)"
tap_is "$(echo "$OUT" | grep -c '^skipped self-signed root')" "$N" "without --store Root: every root reported as skipped"
tap_is "$(cs list --json | count_listed)" 0 "without --store Root: nothing added"

# --- with --store Root -------------------------------------------------------
run_cs import "${FILES[@]}" --store Root
tap_is "$RC" 0 "import --store Root: exit 0"
tap_is "$(echo "$OUT" | grep -c '^added to Root: ')" "$N" "import --store Root: $N reported as added to Root"
tap_is "$(cs list Root --json | count_listed)" "$N" "list Root --json counts $N certificates"
tap_is "$(listed_thumbprints Root)" "$WANT" "list Root: exactly the thumbprints of the files"
tap_is "$(cs list --json | count_listed)" "$N" "no certificate went to another store"
tap_is "$(cs list Root | tail -n +2 | wc -l)" "$N" "list Root (text): one row per certificate"

# --- again: all duplicates ------------------------------------------------------
run_cs import "${FILES[@]}" --store Root
tap_is "$RC" 7 "import again: exit 7 (duplicate)"
tap_is "$(echo "$OUT" | grep -c '^duplicate, already in Root: ')" "$N" "import again: $N duplicates reported"
tap_like "$ERR" "^certstore: nothing imported" "import again: says nothing was imported"
tap_is "$(cs list Root --json | count_listed)" "$N" "import again: the count is unchanged"

run_cs import "${FILES[@]}" --store Root --json
tap_like "$OUT" "\"duplicates\": $N," "import --json: counts the duplicates"

tap_done
