#!/bin/bash
# Staged roll (Lync's -Roll -EffectiveDate): `assign --at TIME` stages a
# certificate for a usage; `usages` shows current and staged; `tick` before
# TIME does nothing, at or after TIME (CERTSTORE_NOW as the clock) makes it
# current.  TIME is ISO 8601 UTC, @EPOCH or +SECONDS; the certificate must be
# Valid at TIME.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB_DIR/usage.sh"

usage_setup || tap_bail "cannot set up the store"
give_key "$A"
give_key "$B"
NOW=$(date +%s)

cs assign "$A" --usage OAuthTokenIssuer >/dev/null || tap_bail "cannot assign"
AT=$((NOW + 3600))
AT_ISO=$(date -u -d "@$AT" +%Y-%m-%dT%H:%M:%SZ)
run_cs assign "$B" --usage OAuthTokenIssuer --at "$AT_ISO"
tap_is "$RC" 0 "stage with an ISO 8601 time: exit 0"
tap_like "$OUT" "staged OAuthTokenIssuer: $B .* at $AT_ISO" "stage: says what and when"
tap_is "$(published_sha1 OAuthTokenIssuer)" "$A" "staging does not change the current certificate"
USAGES=$(cs usages)
tap_like "$USAGES" "^OAuthTokenIssuer +$A .*Assigned$" "usages: the current certificate"
tap_like "$USAGES" "^ +$B +staged for $AT_ISO$" "usages: the staged one with its time"
tap_like "$(cs usages --json | tr -d ' \n')" "\"staged\":\{\"thumbprint\":\"$B\",\"at\":\"$AT_ISO\"\}" "usages --json: staged"
tap_like "$(cs log --usage OAuthTokenIssuer --action stage)" "stage +OAuthTokenIssuer $B at $AT_ISO\$" "the audit log has the staging, at its ISO 8601 time"

run_cs tick
tap_is "$RC" 0 "tick before the time: exit 0"
tap_is "$OUT" "" "tick before the time: prints nothing"
tap_is "$(published_sha1 OAuthTokenIssuer)" "$A" "tick before the time: nothing changes"
CERTSTORE_NOW=$((AT - 1)) run_cs tick
tap_is "$(published_sha1 OAuthTokenIssuer)" "$A" "tick one second early: nothing changes"

CERTSTORE_NOW=$AT run_cs tick
tap_is "$RC" 0 "tick at the time: exit 0"
tap_is "$OUT" "applied staged OAuthTokenIssuer: $B" "tick: says what it applied"
tap_is "$(published_sha1 OAuthTokenIssuer)" "$B" "tick at the time: the staged certificate is current"
tap_ok "tick: the files are whole" usage_files_whole OAuthTokenIssuer
tap_is "$(db_usage_sha1 OAuthTokenIssuer)" "$B" "tick: the database agrees"
tap_unlike "$(cs usages)" "staged" "tick: nothing is staged any more"
tap_like "$(cs usages --json)" "\"previous\": \"$A\"" "tick: the old certificate is the previous one"
CERTSTORE_NOW=$((AT + 10)) run_cs tick
tap_is "$OUT" "" "a second tick: nothing to do"

# --- other time forms, staging a new usage ---------------------------------------------
run_cs assign "$A" --usage Fresh --at "@$((NOW + 100))"
tap_is "$RC" 0 "stage with @EPOCH for a usage never assigned"
tap_like "$(cs usages)" "^Fresh +- .*Unassigned$" "usages: a staged-only usage is Unassigned"
tap_ok "staged-only: nothing published yet" test ! -e "$STORE/usages/Fresh"
CERTSTORE_NOW=$((NOW + 100)) run_cs tick
tap_is "$(published_sha1 Fresh)" "$A" "tick publishes the staged-only usage"
run_cs assign "$B" --usage Fresh --at +30
tap_is "$RC" 0 "stage with +SECONDS"
CERTSTORE_NOW=$((NOW + 10)) run_cs tick
tap_is "$(published_sha1 Fresh)" "$A" "+SECONDS: not yet"
CERTSTORE_NOW=$(( $(date +%s) + 31 )) run_cs tick
tap_is "$(published_sha1 Fresh)" "$B" "+SECONDS: applied after"

# --- refusals -------------------------------------------------------------------------
BEFORE=$(store_snapshot)
LATE=$(date -u -d "@$((NOW + 900 * 86400))" +%Y-%m-%dT%H:%M:%SZ)
run_cs assign "$B" --usage OAuthTokenIssuer --at "$LATE"
tap_is "$RC" 14 "staging for a time after the certificate expires: exit 14"
tap_like "$ERR" "will not be valid at $LATE: Expired" "the message names the time and the reason"
for bad in 2026-13-01T00:00:00Z 2026-11-22 '@-5' '+' 'now'; do
	run_cs assign "$B" --usage OAuthTokenIssuer --at "$bad"
	tap_is "$RC" 2 "--at '$bad': exit 2"
done
run_cs assign --previous --usage OAuthTokenIssuer --at +10
tap_is "$RC" 2 "--previous with --at: exit 2"
tap_is "$(store_snapshot)" "$BEFORE" "after the refusals: the store is unchanged"

tap_done
