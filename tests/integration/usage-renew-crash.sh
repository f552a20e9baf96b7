#!/bin/bash
# Crash safety of renew: `certstore renew` (same key, the store's local CA,
# EC P-256) is killed with SIGKILL at random moments, ITERATIONS times
# (default 60).  After every kill:
#   - usages/Default is wholly one certificate of the store: cert.pem one
#     certificate, fullchain.pem = cert.pem + chain.pem, the chain verifying
#     it against published/roots.pem, key.pem a key reference;
#   - after `certstore check` (exit 0) the database and the files agree (a
#     second check finds nothing to fix) and the database is intact;
#   - exactly one non-archived certificate is in My, and it serves Default
#     (Valid): a renewal is either not installed or installed, moved and the
#     old one archived, never installed and left beside the old one;
#   - what is pending is what `certstore requests` lists, and each pending
#     row is a renewal of a certificate in My with that certificate's key
#     (a request the CA never answered: harmless, cancellable).
# At the end an uninterrupted renew still moves Default and archives the
# right certificate, and `requests --cancel` clears the leftovers without
# touching the key in use.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB_DIR/usage.sh"

ITERATIONS=${ITERATIONS:-60}
cs init >/dev/null || tap_bail "cannot make the store's token"
cs ca create-local lab --key ec:p256 --cn "renew-crash test CA" >/dev/null &&
	cs ca roots lab --trust >/dev/null || tap_bail "cannot make and trust the local CA"
cs request --cn localhost --san dns:localhost --key ec:p256 --ca lab --friendly-name web \
	--usage Default >/dev/null 2>&1 || tap_bail "cannot get the first certificate"
ROOTS=$STORE/published/roots.pem
sql() { sqlite3 "$STORE/store.db" "$1"; }

# cert.pem one certificate of My, fullchain = cert + chain, the chain verifying it.
files_whole() {
	local d=$STORE/usages/Default sha1
	[ "$(grep -c 'BEGIN CERTIFICATE' "$d/cert.pem" 2>/dev/null)" = 1 ] || return 1
	sha1=$(pki_sha1 "$d/cert.pem") || return 1
	[ "$(sql "SELECT count(*) FROM certs WHERE store = 'My' AND sha1 = '$sha1'")" = 1 ] &&
		[ "$(cat "$d/cert.pem" "$d/chain.pem")" = "$(cat "$d/fullchain.pem")" ] &&
		openssl verify -CAfile "$ROOTS" ${chain:+-untrusted "$d/chain.pem"} "$d/cert.pem" \
			>/dev/null 2>&1 &&
		grep -q 'BEGIN CERTSTORE KEY REFERENCE' "$d/key.pem"
}

# Pending rows not explained as a same-key renewal of a certificate in My.
unexplained_pending() {
	sql "SELECT r.id FROM requests r WHERE r.renews IS NULL OR NOT EXISTS
		(SELECT 1 FROM certs c WHERE c.store = 'My' AND c.sha1 = r.renews
		 AND c.key_uri = r.key_uri)"
}

# A renewal takes ~50 ms alone, several times that under the sanitizers or
# beside other tests: one uninterrupted renewal is timed, and each kill falls
# within twice that, so that some renewals finish and most are interrupted
# on this machine as it is now.
start=$(date +%s%N)
cs renew "$(db_usage_sha1 Default)" >/dev/null 2>&1 || tap_bail "an uninterrupted renew failed"
KILL_WINDOW_MS=$((2 * ($(date +%s%N) - start) / 1000000))
[ "$KILL_WINDOW_MS" -ge 80 ] || KILL_WINDOW_MS=80
tap_diag "one renewal took $((KILL_WINDOW_MS / 2)) ms: kills within $KILL_WINDOW_MS ms"

killed=0 repaired=0 pending_max=0
for i in $(seq 1 "$ITERATIONS"); do
	current=$(db_usage_sha1 Default)
	"$CERTSTORE" --store-dir "$STORE" renew "$current" >/dev/null 2>&1 &
	pid=$!
	# Mostly inside the time a renewal takes, sometimes after it.
	sleep "$(awk -v ms=$((RANDOM % KILL_WINDOW_MS)) 'BEGIN { printf "%.3f", ms / 1000 }')"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ $? = 137 ] && killed=$((killed + 1))

	chain=$(cat "$STORE/usages/Default/chain.pem" 2>/dev/null)
	if files_whole; then
		[ "$ITERATIONS" -gt 100 ] || tap_pass "kill $i: usages/Default is wholly one certificate"
	else
		tap_fail "kill $i: usages/Default is wholly one certificate" \
			"$(ls -la "$STORE/usages/" "$STORE/usages/Default/" 2>&1)"
	fi

	fixes=$(cs check 2>&1)
	rc=$?
	repaired=$((repaired + $(grep -c '^fixed:' <<<"$fixes")))
	db=$(db_usage_sha1 Default)
	if [ "$rc" = 0 ] && [ "$db" = "$(published_sha1 Default)" ] && files_whole &&
		[ "$(cs check)" = "ok: the published files agree with the store" ]; then
		[ "$ITERATIONS" -gt 100 ] || tap_pass "kill $i: after check the database ($db) and the files agree"
	else
		tap_fail "kill $i: after check the database and the files agree" \
			"check rc $rc: $fixes; database: '$db', cert.pem: '$(published_sha1 Default)'"
	fi

	live=$(sql "SELECT sha1 FROM certs WHERE store = 'My' AND archived = 0")
	if [ "$live" = "$db" ] && cs usages | grep -Eq "^Default +$db .*Assigned$"; then
		[ "$ITERATIONS" -gt 100 ] || tap_pass "kill $i: one non-archived certificate, serving Default"
	else
		tap_fail "kill $i: one non-archived certificate, serving Default" \
			"Default: $db; not archived: $(echo $live); $(cs usages 2>&1)"
	fi

	pending=$(sql 'SELECT count(*) FROM requests')
	listed=$(cs requests | tail -n +2 | grep -c .)
	bad=$(unexplained_pending)
	[ "$pending" -le "$pending_max" ] || pending_max=$pending
	if [ "$pending" = "$listed" ] && [ -z "$bad" ]; then
		[ "$ITERATIONS" -gt 100 ] || tap_pass "kill $i: $pending pending, each a listed renewal of a certificate in My"
	else
		tap_fail "kill $i: pending requests are listed renewals of certificates in My" \
			"$pending rows, $listed listed, unexplained: $bad; $(cs requests 2>&1)"
	fi
done
tap_diag "$killed of $ITERATIONS renewals were killed mid-way; check made $repaired fixes;" \
	"at most $pending_max pending renewals were left"
tap_ok "some renewals were killed before they finished" test "$killed" -gt 0
tap_ok "some renewals finished before the kill" test "$killed" -lt "$ITERATIONS"

# --- after the kills ------------------------------------------------------------------
tap_is "$(sql 'PRAGMA integrity_check')" ok "the database is intact"
current=$(db_usage_sha1 Default)
run_cs renew "$current"
tap_is "$RC" 0 "an uninterrupted renew works" "$ERR"
new=$(db_usage_sha1 Default)
tap_unlike "$new" "^($current|)$" "... and moves Default"
tap_is "$(sql "SELECT archived FROM certs WHERE store = 'My' AND sha1 = '$current'")" 1 \
	"... and archives the certificate it renewed"
tap_is "$(sql "SELECT sha1 FROM certs WHERE store = 'My' AND archived = 0")" "$new" \
	"... which leaves one non-archived certificate"
key=$(sql "SELECT key_uri FROM certs WHERE sha1 = '$new'")
for id in $(sql 'SELECT id FROM requests'); do
	cs requests --cancel "$id" >/dev/null 2>&1 || tap_fail "requests --cancel $id"
done
tap_is "$(sql 'SELECT count(*) FROM requests')" 0 "requests --cancel clears what the kills left pending"
tap_is "$(cs verify "$new" >/dev/null 2>&1; echo $?)" 0 "the key in use survived the cancels (verify: Valid)"
tap_done
