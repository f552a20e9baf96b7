#!/bin/bash
# The command line: --help on the tool and on every subcommand, usage errors
# exit 2 with a pointer to --help, the store is found through --store-dir,
# -d or CERTSTORE_DIR, a missing store is reported by name, and a store dir
# writable by others is refused.
. "$(dirname "$0")/../lib/common.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"

HELP=$("$CERTSTORE" --help); RC=$?
tap_is "$RC" 0 "certstore --help: exit 0"
# Every subcommand the tool lists, not a hand-kept list that falls behind;
# the man page must have a section for each (scripts/doc-coverage.sh checks
# that every one is also mentioned by some test).
SUBCOMMANDS=$(sed -n '/^Subcommands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' <<<"$HELP")
tap_ok "certstore --help lists at least the 22 documented subcommands" \
	test "$(wc -w <<<"$SUBCOMMANDS")" -ge 22
MAN=$top_srcdir/doc/certstore.1
for sub in $SUBCOMMANDS; do
	tap_ok "certstore(1) has a section for $sub" grep -q "^\.SS $sub\b" "$MAN"
	run_cs "$sub" --help
	tap_is "$RC" 0 "certstore $sub --help: exit 0"
	tap_like "$OUT" "^Usage: certstore $sub" "certstore $sub --help: prints its usage"
done
tap_like "$("$CERTSTORE" --version)" '^certstore [0-9]+\.[0-9]+' "--version"

run_cs frobnicate
tap_is "$RC" 2 "unknown subcommand: exit 2"
tap_like "$ERR" "^certstore: unknown subcommand 'frobnicate' \(see 'certstore --help'\)" "unknown subcommand: says so"
OUT=$("$CERTSTORE" 2>&1); RC=$?
tap_is "$RC" 2 "no subcommand: exit 2"
run_cs show
tap_is "$RC" 2 "show without ID: exit 2"
tap_like "$ERR" "show: missing operand \(see 'certstore show --help'\)" "show without ID: points to show --help"
run_cs show a b
tap_is "$RC" 2 "show with two IDs: exit 2"
tap_like "$ERR" "unexpected operand 'b'" "show with two IDs: names the extra operand"
run_cs import --store
tap_is "$RC" 2 "--store without a value: exit 2"
tap_like "$ERR" "option '--store' needs an argument" "--store without a value: says so"
run_cs move x
tap_is "$RC" 2 "move without --to: exit 2"

# --- finding the store -------------------------------------------------------------
run_cs list
tap_is "$RC" 3 "list before any import: exit 3 (no store)"
tap_like "$ERR" "$STORE" "list before any import: the message names the directory"
tap_is "$(ls -A "$TEST_TMP" | grep -c '^store$')" 0 "list does not create a store"

"$CERTSTORE" -d "$STORE" import "$PKI/leaf.crt" >/dev/null
tap_is "$?" 0 "-d DIR: import"
tap_is "$(stat -c %a "$STORE")" 700 "the store dir is created 0700"
tap_is "$(stat -c %a "$STORE/store.db")" 600 "the database is created 0600"
tap_is "$(CERTSTORE_DIR=$STORE "$CERTSTORE" list --json | count_listed)" 1 "CERTSTORE_DIR finds the store"
tap_is "$(CERTSTORE_DIR=$TEST_TMP/elsewhere "$CERTSTORE" --store-dir "$STORE" list --json | count_listed)" 1 \
	"--store-dir wins over CERTSTORE_DIR"

chmod 0777 "$STORE"
run_cs list
tap_is "$RC" 8 "a store dir writable by others: exit 8 (store error)"
tap_like "$ERR" "$STORE" "a store dir writable by others: the message names it"
chmod 0700 "$STORE"

# --- export refuses binary output on a terminal -----------------------------------------
if command -v script >/dev/null; then
	script -qec "$CERTSTORE -d $STORE export $(pki_sha1 "$PKI/leaf.crt") --format der" /dev/null >"$TEST_TMP/tty.out" 2>&1
	tap_like "$(cat "$TEST_TMP/tty.out")" "refusing to write binary" "export der to a terminal: refused"
else
	tap_skip "export der to a terminal: refused" "no script(1)"
fi

tap_done
