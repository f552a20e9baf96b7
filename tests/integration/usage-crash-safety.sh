#!/bin/bash
# Crash safety of assign: `certstore assign` is killed with SIGKILL at random
# moments (ITERATIONS times, default 60; tests/soak/usage-crash-soak.sh runs
# 1000), alternating two certificates.  After every kill usages/Default is
# wholly one of the two (cert.pem one certificate, chain.pem and
# fullchain.pem agreeing with it, key.pem a key reference); after
# `certstore check` the database and the published files agree, no
# half-written generation is left, and nothing is lost.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB_DIR/usage.sh"

ITERATIONS=${ITERATIONS:-60}
usage_setup || tap_bail "cannot set up the store"
give_key "$A"
give_key "$B"
cs assign "$A" --usage Default >/dev/null || tap_bail "cannot assign"

# Leftover generations that no usage link points at.
unlinked_generations() {
	local gen used
	used=$(readlink "$STORE/usages/Default")
	for gen in $(cd "$STORE/usages" && ls -A | grep '^\.'); do
		[ "$gen" = "$used" ] || echo "$gen"
	done
}

# The kills land anywhere from the start to a little past the end of an
# assign, as long as one takes on this machine now (a loaded machine is
# slower): a range that always ends too early kills every assign and
# proves nothing about the ones that complete.  This calibrates the range;
# nothing asserts a time.
t0=$(date +%s%N)
cs assign "$B" --usage Default >/dev/null && cs assign "$A" --usage Default >/dev/null ||
	tap_bail "cannot assign"
ASSIGN_MS=$((($(date +%s%N) - t0) / 2000000))
KILL_RANGE_MS=$((ASSIGN_MS * 3 / 2 + 10))
tap_diag "one assign took ${ASSIGN_MS} ms: kills within 0..${KILL_RANGE_MS} ms"

killed=0 repaired=0 changed=0
last=$(published_sha1 Default)
for i in $(seq 1 "$ITERATIONS"); do
	if [ $((i % 2)) = 1 ]; then target=$B; else target=$A; fi
	"$CERTSTORE" --store-dir "$STORE" assign "$target" --usage Default >/dev/null 2>&1 &
	pid=$!
	delay=$((RANDOM % KILL_RANGE_MS))
	sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ $? = 137 ] && killed=$((killed + 1))

	got=$(published_sha1 Default)
	[ "$got" = "$last" ] || changed=$((changed + 1))
	last=$got
	if { [ "$got" = "$A" ] || [ "$got" = "$B" ]; } && usage_files_whole Default; then
		[ "$ITERATIONS" -gt 100 ] || tap_pass "kill $i: usages/Default is wholly one certificate"
	else
		tap_fail "kill $i: usages/Default is wholly one certificate" \
			"cert.pem: '$got'; $(ls -la "$STORE/usages/" "$STORE/usages/Default/" 2>&1)"
	fi

	fixes=$(cs check 2>&1)
	rc=$?
	repaired=$((repaired + $(grep -c '^fixed:' <<<"$fixes")))
	db=$(db_usage_sha1 Default)
	if [ "$rc" = 0 ] && [ "$db" = "$(published_sha1 Default)" ] && usage_files_whole Default &&
		[ -z "$(unlinked_generations)" ] && [ "$(cs check)" = "ok: the published files agree with the store" ]; then
		[ "$ITERATIONS" -gt 100 ] || tap_pass "kill $i: after check the database ($db) and the files agree"
	else
		tap_fail "kill $i: after check the database and the files agree" \
			"check rc $rc: $fixes; database: '$db', cert.pem: '$(published_sha1 Default)'; leftovers: $(unlinked_generations)"
	fi
done
tap_diag "$killed of $ITERATIONS assigns were killed mid-way; check made $repaired fixes; the published certificate changed $changed times"
tap_ok "some assigns were killed before they finished" test "$killed" -gt 0
# Kills alone prove nothing if no assign ever got through: an assign that
# never publishes would pass every point above.
tap_ok "some assigns completed: the published thumbprint changed" test "$changed" -gt 0

# --- nothing lost -------------------------------------------------------------------
tap_is "$(sqlite3 "$STORE/store.db" 'PRAGMA integrity_check')" ok "the database is intact"
LIST=$(cs list My)
tap_like "$LIST" "$A" "certificate A is still in My"
tap_like "$LIST" "$B" "certificate B is still in My"
tap_is "$(sqlite3 "$STORE/store.db" 'SELECT count(*) FROM usages')" 1 "one usage row, Default"
run_cs assign "$A" --usage Default
tap_is "$RC" 0 "a last assign after all the kills works"
tap_is "$(published_sha1 Default)" "$A" "and publishes"
tap_like "$(cs usages)" "^Default +$A .*Assigned$" "usages agrees"

tap_done
