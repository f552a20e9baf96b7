#!/bin/bash
# Several processes may use the store at once: concurrent imports of different
# files all succeed, and a reader listing the store while a big import runs
# sees either none or all of it, never half.
. "$(dirname "$0")/../lib/common.sh"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
MOZILLA=/usr/share/ca-certificates/mozilla
FILES=("$MOZILLA"/*.crt)
N=${#FILES[@]}
[ -e "${FILES[0]}" ] || tap_bail "no $MOZILLA/*.crt (install ca-certificates)"

cs import "$PKI/inter.crt" >/dev/null || tap_bail "cannot create the store"

# --- two imports at once ------------------------------------------------------
for round in 1 2 3; do
	STORE=$TEST_TMP/pair-$round
	cs import "$PKI/inter.crt" >/dev/null || tap_bail "cannot create $STORE"
	cs import "$PKI/leaf.crt" >"$TEST_TMP/a.out" 2>&1 & a=$!
	cs import "$PKI/root.crt" "$PKI/other.crt" --store Root >"$TEST_TMP/b.out" 2>&1 & b=$!
	bg "$a"; bg "$b"
	wait "$a"; rc_a=$?
	wait "$b"; rc_b=$?
	tap_is "$rc_a $rc_b" "0 0" "round $round: two concurrent imports both exit 0"
	tap_is "$(cs list --json | count_listed)" 4 "round $round: all four certificates are in the store"
done

# --- eight imports at once, the Mozilla roots split between them ---------------
STORE=$TEST_TMP/eight
cs import "$PKI/inter.crt" >/dev/null || tap_bail "cannot create $STORE"
pids=()
for k in 0 1 2 3 4 5 6 7; do
	part=()
	for ((i = k; i < N; i += 8)); do part+=("${FILES[$i]}"); done
	cs import "${part[@]}" --store Root >"$TEST_TMP/part-$k.out" 2>&1 &
	pids+=($!)
	bg "$!"
done
failed=0
for pid in "${pids[@]}"; do
	wait "$pid" || failed=$((failed + 1))
done
tap_is "$failed" 0 "eight concurrent imports: none fails"
tap_is "$(cs list Root --json | count_listed)" "$N" "eight concurrent imports: all $N roots are in Root"

# --- a reader during a big import ------------------------------------------------
import_all_at_once() {
	cs import "${FILES[@]}" --store Root
}

# The control: one file per transaction, which a reader can catch half done.
import_one_by_one() {
	local f
	for f in "${FILES[@]}"; do
		cs import "$f" --store Root || return 1
	done
}

# Runs IMPORTER in the background on a fresh store while `list Root` runs in a
# loop; leaves the counts it saw in $TEST_TMP/counts and prints
# "reads-during-import partial-counts failed-commands".
read_during_import() {
	local name=$1 importer=$2 counts=$TEST_TMP/counts pid during=0 errors=0
	STORE=$TEST_TMP/reader-$name
	cs import "$PKI/inter.crt" >/dev/null || tap_bail "cannot create $STORE"
	: >"$counts"
	"$importer" >/dev/null 2>&1 &
	pid=$!
	bg "$pid"
	while kill -0 "$pid" 2>/dev/null; do
		if cs list Root --json >"$TEST_TMP/list.json" 2>>"$TEST_TMP/reader.err"; then
			count_listed <"$TEST_TMP/list.json" >>"$counts"
		else
			errors=$((errors + 1))
		fi
		during=$((during + 1))
	done
	wait "$pid" || errors=$((errors + 1))
	echo "$during $(grep -c -v -x -e 0 -e "$N" "$counts") $errors"
}

seen() {
	sort -n "$TEST_TMP/counts" | uniq -c | awk '{ printf "%s x%s, ", $2, $1 }'
}

read -r during partial errors < <(read_during_import control import_one_by_one)
tap_diag "control: $during reads, $(sort -un "$TEST_TMP/counts" | wc -l) different counts seen"
tap_like "$partial" '^[1-9]' "control: the reader does catch an import made of many transactions half done"

for round in 1 2 3; do
	read -r during partial errors < <(read_during_import "$round" import_all_at_once)
	tap_diag "round $round: $during reads while the import ran; counts seen: $(seen)"
	tap_like "$during" '^[1-9]' "reader round $round: the reader ran while the import did"
	tap_is "$partial" 0 "reader round $round: every read saw 0 or $N roots, never part of them"
	tap_is "$errors" 0 "reader round $round: no read (and not the import) failed"
	tap_is "$(cs list Root --json | count_listed)" "$N" "reader round $round: all $N roots at the end"
done
[ ! -s "$TEST_TMP/reader.err" ] || tap_diag "reader errors: $(sort "$TEST_TMP/reader.err" | uniq -c)"

tap_done
