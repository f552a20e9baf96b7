#!/bin/bash
# Usages: assign publishes usages/NAME/ whole, `usages` reports each one's
# certificate and status, reassigning remembers the previous certificate and
# `assign --previous` restores it, unassign removes the files but keeps the
# certificate.  Refusals: a certificate that is not Valid (exit 14 with its
# reason, unless --force), a certificate outside My, and bad usage names
# (`../x`, empty, with a newline: exit 2) — each with the store unchanged.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB_DIR/usage.sh"

usage_setup || tap_bail "cannot set up the store"

# --- refusals before any key: the store stays as it was ------------------------------
BEFORE=$(store_snapshot)
run_cs assign "$A" --usage Default
tap_is "$RC" 14 "a certificate without a key: exit 14"
tap_like "$ERR" "$A is not valid: Missing private key" "without a key: the message names the reason"
tap_like "$ERR" "--force" "without a key: the message says how to override"
tap_is "$(store_snapshot)" "$BEFORE" "without a key: the store is unchanged"
tap_ok "without a key: nothing is published" test ! -e "$STORE/usages/Default"

for bad in '../x' '' "$(printf 'a\nb')" '.hidden' 'a/b' 'Default,'; do
	shown=$(printf '%s' "$bad" | tr '\n' '~')
	run_cs assign "$A" --usage "$bad" --force
	tap_is "$RC" 2 "usage name '$shown': exit 2"
	tap_like "$ERR" "bad usage name" "usage name '$shown': says the name is bad"
	tap_is "$(store_snapshot)" "$BEFORE" "usage name '$shown': the store is unchanged"
done
tap_like "$(cs assign "$A" --usage "$(printf 'a\nb')" --force 2>&1)" 'a\\nb' "a newline is shown as \\n"
tap_ok "'../x' wrote nothing outside usages/" test ! -e "$STORE/x" -a ! -e "$STORE/usages/x"

ROOT=$(pki_sha1 "$PKI/root.crt")
run_cs assign "$ROOT" --usage Default --force
tap_is "$RC" 2 "a certificate in Root: exit 2"
tap_like "$ERR" "only certificates in My serve usages" "a certificate in Root: says why"
run_cs assign "$A"
tap_is "$RC" 2 "assign without --usage: exit 2"
run_cs assign --usage Default
tap_is "$RC" 2 "assign without ID: exit 2"
run_cs assign "$A" --usage Default --at tomorrow
tap_is "$RC" 2 "assign --at with a bad time: exit 2"
tap_like "$ERR" "bad time 'tomorrow'" "bad time: named"
tap_is "$(store_snapshot)" "$BEFORE" "after every refusal: the store is unchanged"

# --- --force assigns anyway, and usages shows the problem ----------------------------
run_cs assign "$A" --usage Forced --force
tap_is "$RC" 0 "--force assigns a certificate without a key"
tap_like "$ERR" "warning: $A is not valid: Missing private key" "--force warns"
tap_like "$(cs usages)" "^Forced +$A .* Missing private key$" "usages: the forced usage shows its problem"
tap_ok "forced: cert.pem is the certificate" test "$(published_sha1 Forced)" = "$A"
cs unassign --usage Forced >/dev/null

# --- with keys -------------------------------------------------------------------------
give_key "$A"
give_key "$B"
run_cs assign "$A" --usage Default,WebServicesInternal
tap_is "$RC" 0 "assign to two usages: exit 0"
tap_like "$OUT" "assigned Default: $A" "assign: says what it assigned (1)"
tap_like "$OUT" "assigned WebServicesInternal: $A" "assign: says what it assigned (2)"
tap_ok "usages/Default: cert, chain, fullchain, key reference" usage_files_whole Default
tap_ok "usages/WebServicesInternal: whole too" usage_files_whole WebServicesInternal
tap_is "$(published_sha1 Default)" "$A" "usages/Default/cert.pem is the certificate"
tap_unlike "$(cat "$STORE/usages/Default/key.pem")" "PRIVATE KEY-----" "key.pem holds no key material"
USAGES=$(cs usages)
tap_like "$USAGES" "^Default +$A +- +[0-9]{4}-[0-9]{2}-[0-9]{2} +Assigned$" "usages: Default, thumbprint, expiry, Assigned"
tap_like "$USAGES" "^WebServicesInternal +$A " "usages: WebServicesInternal"
JSON=$(cs usages --json)
tap_like "$JSON" '"usage": "Default"' "usages --json: usage"
tap_like "$JSON" "\"thumbprint\": \"$A\"" "usages --json: thumbprint"
tap_like "$JSON" '"status": "Assigned"' "usages --json: status"
tap_like "$JSON" '"not_after": "[0-9-]+T[0-9:]+Z"' "usages --json: expiry"

cs set "$B" --friendly-name second >/dev/null
run_cs assign second --usage Default
tap_is "$RC" 0 "reassign Default (by friendly name)"
tap_is "$(published_sha1 Default)" "$B" "reassign: cert.pem is the new certificate"
tap_ok "reassign: the files are whole" usage_files_whole Default
tap_like "$(cs usages)" "^Default +$B +second " "usages: the friendly name"
tap_like "$(cs usages --json)" "\"previous\": \"$A\"" "usages --json: the previous certificate"
tap_is "$(ls -A "$STORE/usages" | grep -c '\.gen-')" 2 "one generation per usage, the old one removed"

run_cs assign --previous --usage Default
tap_is "$RC" 0 "assign --previous: exit 0"
tap_is "$(published_sha1 Default)" "$A" "assign --previous restores the previous certificate"
run_cs assign --previous --usage Default
tap_is "$(published_sha1 Default)" "$B" "assign --previous twice goes back again"
run_cs assign --previous --usage Nowhere
tap_is "$RC" 3 "assign --previous on an unknown usage: exit 3"
tap_like "$ERR" "usage 'Nowhere' is not assigned" "--previous on an unknown usage: says so"
run_cs assign --previous --usage WebServicesInternal
tap_is "$RC" 3 "assign --previous with no previous certificate: exit 3"
tap_like "$ERR" "has no previous certificate" "--previous without one: says so"
run_cs assign "$A" --previous --usage Default
tap_is "$RC" 2 "assign ID --previous: exit 2"

run_cs assign "$EXPIRED" --usage Default
tap_is "$RC" 14 "an expired certificate: exit 14"
tap_like "$ERR" "is not valid: Expired" "expired: the message says Expired"
tap_is "$(published_sha1 Default)" "$B" "expired: Default is unchanged"

# --- status as time passes -------------------------------------------------------------
LATER=$(( $(date +%s) + 900 * 86400 ))
tap_like "$(CERTSTORE_NOW=$LATER cs usages)" "^Default +$B .* Expired$" "usages: Expired once the certificate has expired"

# --- unassign ----------------------------------------------------------------------------
run_cs unassign --usage WebServicesInternal
tap_is "$RC" 0 "unassign: exit 0"
tap_ok "unassign: the published directory is gone" test ! -e "$STORE/usages/WebServicesInternal"
tap_unlike "$(cs usages)" "WebServicesInternal" "unassign: gone from usages"
tap_like "$(cs list My)" "$A" "unassign: the certificate stays in My"
run_cs unassign --usage WebServicesInternal
tap_is "$RC" 3 "unassign an unknown usage: exit 3"
run_cs unassign --usage '../x'
tap_is "$RC" 2 "unassign a bad name: exit 2"

# --- the audit log -------------------------------------------------------------------------
LOG=$(cs log --usage Default)
tap_like "$LOG" "assign +Default $A" "log --usage Default: the assignments"
tap_unlike "$LOG" "WebServicesInternal" "log --usage Default: not the other usage"
tap_like "$(cs log --usage WebServicesInternal)" "unassign +WebServicesInternal" "log --usage: unassign"

tap_done
