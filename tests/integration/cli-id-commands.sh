#!/bin/bash
# The commands on one certificate (show, verify, set, move, delete, export,
# repair) run through one helper (tools/cli/cert_command.c), and usages,
# served and check through another (cli_run_json_only): each must still
# take ID and --store as before, give the same usage errors in the same
# order (unknown option, operand count, required option, store names), exit
# with the same codes, and leave the store as it was when it fails.
. "$(dirname "$0")/../lib/common.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
cs import "$PKI/leaf.crt" "$PKI/inter.crt" >/dev/null || tap_bail "cannot import"
cs import "$PKI/root.crt" --store Root >/dev/null || tap_bail "cannot import the root"
LEAF=$(pki_sha1 "$PKI/leaf.crt")
BEFORE=$(store_snapshot)

# What a command needs besides ID to get past its own checks.
required() {
	case $1 in
	set) echo "--friendly-name web" ;;
	move) echo "--to CA" ;;
	esac
}

for sub in show verify set move delete export repair; do
	run_cs "$sub"
	tap_is "$RC" 2 "$sub without ID: exit 2"
	tap_like "$ERR" "^certstore: $sub: missing operand \(see 'certstore $sub --help'\)$" \
		"$sub without ID: says so"
	# shellcheck disable=SC2046
	run_cs "$sub" "$LEAF" extra $(required "$sub")
	tap_like "$ERR" "^certstore: $sub: unexpected operand 'extra'" "$sub with two IDs: names the extra"
	run_cs "$sub" "$LEAF" --frobnicate
	tap_is "$RC" 2 "$sub --frobnicate: exit 2"
	tap_like "$ERR" "^certstore: $sub: unknown option '--frobnicate'" "$sub --frobnicate: says so"
	run_cs "$sub" "$LEAF" -Z
	tap_like "$ERR" "^certstore: $sub: unknown option '-Z'" "$sub -Z: says so"
	run_cs "$sub" "$LEAF" --store
	tap_like "$ERR" "^certstore: $sub: option '--store' needs an argument" "$sub --store without a value"
	# shellcheck disable=SC2046
	run_cs "$sub" "$LEAF" --store Nowhere $(required "$sub")
	tap_is "$RC" 3 "$sub --store Nowhere: exit 3"
	tap_like "$ERR" "^certstore: unknown store 'Nowhere'" "$sub --store Nowhere: names it"
	# shellcheck disable=SC2046
	run_cs "$sub" "$LEAF" --store CA $(required "$sub")
	tap_is "$RC" 3 "$sub ID --store CA (the leaf is in My): exit 3, not found"
	tap_is "$OUT" "" "$sub ID --store CA: did nothing"
	run_cs "$sub" --help "$LEAF" --frobnicate
	tap_is "$RC" 0 "$sub --help before a bad option: --help wins, exit 0"
	run_cs "$sub" "$LEAF" --help
	tap_is "$RC" 0 "$sub ID --help: exit 0"
	tap_like "$OUT" "^Usage: certstore $sub ID" "$sub ID --help: its usage"
done
tap_is "$(store_snapshot)" "$BEFORE" "after every usage error: store unchanged"

# Required options come after the operand count, and store names in order.
run_cs set "$LEAF"
tap_is "$RC" 2 "set without --friendly-name: exit 2"
tap_like "$ERR" "^certstore: set: nothing to set: give --friendly-name NAME \(see 'certstore set --help'\)$" \
	"set without --friendly-name: says so"
run_cs move "$LEAF"
tap_like "$ERR" "^certstore: move: --to STORE is required \(see 'certstore move --help'\)$" \
	"move without --to: says so"
run_cs move
tap_like "$ERR" "move: missing operand" "move without ID or --to: the operand first"
run_cs move "$LEAF" --to Elsewhere --store Nowhere
tap_like "$ERR" "unknown store 'Nowhere'" "move: --store is checked before --to"
tap_unlike "$ERR" "Elsewhere" "move: ... and only the first bad name is reported"
run_cs move "$LEAF" --to Elsewhere
tap_is "$RC" 3 "move --to Elsewhere: exit 3"
tap_like "$ERR" "^certstore: unknown store 'Elsewhere'" "move --to Elsewhere: names it"
run_cs export "$LEAF" --password-env NOPE
tap_like "$ERR" "^certstore: export: --legacy and --password-\* apply to --format pfx only" \
	"export --password-env without pfx: usage error"
run_cs export "$LEAF" --format bogus
tap_is "$RC" 2 "export --format bogus: exit 2"
tap_like "$ERR" "bogus" "export --format bogus: names it"
run_cs export "$LEAF" --format keyref --chain
tap_like "$ERR" "--chain does not apply to keyref" "export keyref --chain: refused"
tap_is "$(store_snapshot)" "$BEFORE" "after the required-option errors: store unchanged"

# --store and the command's own options reach the action.
run_cs show "$LEAF" --store My --json
tap_is "$RC" 0 "show ID --store My --json: exit 0"
tap_like "$OUT" "\"thumbprint\": \"$LEAF\"" "show --json: the certificate's JSON"
# The leaf has no key here: Missing private key, looked up in the token.
run_cs verify "$LEAF" -s My -j
tap_is "$RC" 14 "verify -s My -j: exit 14 (not Valid)"
tap_like "$OUT" '"status": "Missing private key"' "verify -j: JSON with the verdict"
run_cs export "$LEAF" -s My -f der -o "$TEST_TMP/leaf.der"
tap_is "$RC" 0 "export -f der -o FILE: exit 0"
tap_ok "export -f der: the certificate, in DER" \
	cmp -s "$TEST_TMP/leaf.der" <(openssl x509 -in "$PKI/leaf.crt" -outform der)
run_cs set "$LEAF" -n web -s My
tap_like "$OUT" "friendly name of .* set to \"web\"" "set -n web -s My: says so"
run_cs show web --json
tap_like "$OUT" '"friendly_name": "web"' "set: the friendly name is stored (and finds the certificate)"
run_cs move web --to CA
tap_like "$OUT" "^moved from My to CA: " "move --to CA: says so"
run_cs delete web --store CA --keep-key
tap_like "$OUT" "^deleted from CA: " "delete --store CA: says so"
tap_is "$(cs list --json | count_listed)" 2 "delete: the leaf is gone, the others stay"

# The --json-only commands: no operand, --json or nothing.
for sub in usages served check; do
	run_cs "$sub" extra
	tap_is "$RC" 2 "$sub extra: exit 2"
	tap_like "$ERR" "^certstore: $sub: unexpected operand 'extra'" "$sub extra: says so"
	run_cs "$sub" --frobnicate
	tap_like "$ERR" "^certstore: $sub: unknown option '--frobnicate'" "$sub --frobnicate: says so"
	run_cs "$sub" --json
	tap_is "$RC" 0 "$sub --json: exit 0"
	tap_like "$OUT" '^[[{]' "$sub --json: JSON"
	run_cs "$sub" -j --help
	tap_is "$RC" 0 "$sub -j --help: exit 0"
	tap_like "$OUT" "^Usage: certstore $sub \[--json\]" "$sub --help: its usage"
done

# accept and renew read their options through the same table.
run_cs renew
tap_like "$ERR" "^certstore: renew: missing operand" "renew without ID: says so"
run_cs renew "$LEAF" --ca a --out b
tap_is "$RC" 2 "renew --ca and --out: exit 2"
tap_like "$ERR" "--ca and --out exclude each other" "renew --ca and --out: says so"
run_cs accept --json
tap_like "$ERR" "^certstore: accept: missing operand" "accept --json without a file: says so"
run_cs accept --frobnicate x
tap_like "$ERR" "^certstore: accept: unknown option '--frobnicate'" "accept --frobnicate: says so"

# list, log and init too.
run_cs list --store My CA
tap_is "$RC" 2 "list --store My CA: exit 2"
tap_like "$ERR" "^certstore: list: name the store once" "list --store My CA: says so"
run_cs list CA -a -j
tap_is "$(count_listed <<<"$OUT")" 1 "list CA -a -j: the store operand and the flags reach the listing"
run_cs log extra
tap_like "$ERR" "^certstore: log: unexpected operand 'extra'" "log extra: says so"
run_cs log -a import -j
tap_like "$OUT" '"action": "import"' "log -a import -j: the filter and --json reach the log"
tap_unlike "$OUT" '"action": "move"' "log -a import: ... and filter"
run_cs init --module /nonexistent.so
tap_like "$ERR" "^certstore: init: --module and --token go together" "init --module alone: says so"
run_cs init --pin-file /nonexistent
tap_like "$ERR" "^certstore: init: --pin-file goes with --module and --token" "init --pin-file alone: says so"

tap_done
