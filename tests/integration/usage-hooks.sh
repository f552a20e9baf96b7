#!/bin/bash
# Hooks: [usage.NAME] on-assign in certstore.conf runs after publish, split
# into argv without a shell, with a clean environment holding CERTSTORE_USAGE,
# CERTSTORE_THUMBPRINT, CERTSTORE_PUBLISH_DIR and PATH; its output and exit
# status go to the audit log.  A failing, missing or hanging hook leaves the
# assignment in place and exits 13.  `group =` gives the published files to a
# group (0750/0640).  tick runs the same hooks.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB_DIR/usage.sh"

usage_setup || tap_bail "cannot set up the store"
give_key "$A"
give_key "$B"
HOOKS=$TEST_TMP/hooks
mkdir -p "$HOOKS"

cat >"$HOOKS/record.sh" <<'SH'
#!/bin/sh
# Records how it was run: its arguments, one a line, then its environment.
out=$1; shift
for a in "$@"; do echo "arg=$a"; done >"$out"
env | grep -v '^PWD=\|^SHLVL=\|^_=' | sort >>"$out"
echo "recorded for $CERTSTORE_USAGE"
SH
cat >"$HOOKS/fail.sh" <<'SH'
#!/bin/sh
echo "reload failed: nginx: [emerg] bad config"
echo "on stderr too" >&2
exit 3
SH
cat >"$HOOKS/chatty.sh" <<'SH'
#!/bin/sh
head -c 10000 /dev/zero | tr '\0' x
SH
printf '#!/bin/sh\nsleep 30\n' >"$HOOKS/hang.sh"
chmod +x "$HOOKS"/*.sh

# NCONF removes double quotes itself: a value in single quotes keeps them for the split.
cat >"$STORE/certstore.conf" <<CONF
[usage.Default]
on-assign = '$HOOKS/record.sh $TEST_TMP/Default.txt "two words" plain'

[usage.Failing]
on-assign = $HOOKS/fail.sh

[usage.Missing]
on-assign = $HOOKS/does-not-exist --flag

[usage.Relative]
on-assign = record.sh x

[usage.Chatty]
on-assign = $HOOKS/chatty.sh

[usage.Hang]
on-assign = $HOOKS/hang.sh
hook-timeout = 1
CONF

# --- a hook that works ------------------------------------------------------------
export CERTSTORE_TEST_SECRET=leak
run_cs assign "$A" --usage Default
tap_is "$RC" 0 "assign with a hook: exit 0"
REC=$(cat "$TEST_TMP/Default.txt" 2>/dev/null)
tap_like "$REC" "^arg=two words$" "the hook's quoted argument is one word"
tap_like "$REC" "^arg=plain$" "the hook's plain argument"
tap_like "$REC" "^CERTSTORE_USAGE=Default$" "CERTSTORE_USAGE"
tap_like "$REC" "^CERTSTORE_THUMBPRINT=$A$" "CERTSTORE_THUMBPRINT"
tap_like "$REC" "^CERTSTORE_PUBLISH_DIR=$STORE/usages/Default$" "CERTSTORE_PUBLISH_DIR"
tap_like "$REC" "^PATH=/" "PATH"
tap_is "$(grep -c = <<<"$REC")" 6 "nothing else in the environment (2 args + 4 variables)"
tap_unlike "$REC" "CERTSTORE_TEST_SECRET|HOME=" "the caller's environment does not leak"
LOG=$(cs log --usage Default)
tap_like "$LOG" "hook +Default $A .*record.sh.*: exit 0" "audit log: the hook and its exit status"
tap_like "$LOG" "recorded for Default" "audit log: the hook's output"

# --- check republishes after a crash, and runs the hook ------------------------------
rm "$STORE/usages/Default/cert.pem" "$TEST_TMP/Default.txt"
run_cs check
tap_is "$RC" 0 "check after a half-published usage: exit 0"
tap_like "$OUT" "usage Default: republished $A" "check: says it republished Default"
tap_like "$(cat "$TEST_TMP/Default.txt" 2>/dev/null)" "^CERTSTORE_THUMBPRINT=$A$" \
	"check: the usage's hook ran, so the service loads the repaired files"
# The hook rewrites its file on every run, so the file cannot count runs:
# the audit log's hook rows can.
hooks_before=$(sqlite3 "$STORE/store.db" "SELECT count(*) FROM audit WHERE action = 'hook'")
run_cs check
tap_is "$RC" 0 "check with nothing to repair: exit 0"
tap_is "$(sqlite3 "$STORE/store.db" "SELECT count(*) FROM audit WHERE action = 'hook'")" \
	"$hooks_before" "check with nothing to repair runs no hook (no new hook row in the audit log)"

# --- a hook that fails: the assignment stays, exit 13 ---------------------------------
run_cs assign "$A" --usage Failing
tap_is "$RC" 13 "a failing hook: exit 13"
tap_like "$ERR" "usage Failing: on-assign hook failed: .*fail.sh: exit 3: reload failed" "failing hook: the message names the usage, the hook, the status, the output"
tap_like "$ERR" "assignment stays" "failing hook: says the assignment stays"
tap_is "$(published_sha1 Failing)" "$A" "failing hook: usages/Failing is published"
tap_like "$(cs usages)" "^Failing +$A .*Assigned$" "failing hook: usages shows it Assigned"
rm "$STORE/usages/Failing/cert.pem"
run_cs check
tap_is "$RC" 13 "check: a failing hook after republishing: exit 13"
tap_like "$ERR" "usage Failing: on-assign hook failed" "check: the failing hook's usage is named"
tap_is "$(published_sha1 Failing)" "$A" "check: the republication stands despite the hook"
LOG=$(cs log --usage Failing)
tap_like "$LOG" "hook +Failing $A .*fail.sh: exit 3" "failing hook: audit log has the exit status"
tap_like "$LOG" "reload failed: nginx" "failing hook: audit log has its stdout"
tap_like "$LOG" "on stderr too" "failing hook: audit log has its stderr"

run_cs assign "$B" --usage Failing,Default
tap_is "$RC" 13 "one failing hook among two usages: exit 13"
tap_is "$(published_sha1 Default)" "$B" "the other usage is still assigned"
tap_like "$(cat "$TEST_TMP/Default.txt")" "CERTSTORE_THUMBPRINT=$B" "and its hook ran"

# --- hooks that cannot run ---------------------------------------------------------------
run_cs assign "$A" --usage Missing
tap_is "$RC" 13 "a hook that does not exist: exit 13"
tap_like "$ERR" "does-not-exist: No such file or directory" "missing hook: says so"
tap_is "$(published_sha1 Missing)" "$A" "missing hook: the assignment stays"
tap_like "$(cs log --usage Missing)" "hook +Missing .*failed" "missing hook: in the audit log"
run_cs assign "$A" --usage Relative
tap_is "$RC" 13 "a relative hook path: exit 13"
tap_like "$ERR" "record.sh is not an absolute path" "relative hook: says so"

run_cs assign "$A" --usage Chatty
tap_is "$RC" 0 "a hook with 10 KB of output: exit 0"
DETAIL=$(cs log --usage Chatty --action hook)
tap_like "$DETAIL" "output truncated at 4 KiB" "its output is cut at 4 KiB in the log"
tap_is "$(grep -o 'xxxxxxxx*' <<<"$DETAIL" | awk '{ n = length($0) > n ? length($0) : n } END { print n }')" 4096 "exactly 4 KiB of it is kept"

START=$(date +%s)
run_cs assign "$A" --usage Hang
tap_is "$RC" 13 "a hook that hangs past hook-timeout: exit 13"
tap_like "$ERR" "killed after its timeout" "hanging hook: says it was killed"
tap_ok "hanging hook: killed within seconds" test $(( $(date +%s) - START )) -lt 10

# --- bad configuration -------------------------------------------------------------------
cp "$STORE/certstore.conf" "$TEST_TMP/conf.good"
printf '[usage.Typo]\non_assign = /bin/true\n' >>"$STORE/certstore.conf"
BEFORE=$(store_snapshot)
run_cs assign "$A" --usage Typo
tap_is "$RC" 8 "an unknown setting in [usage.Typo]: exit 8"
tap_like "$ERR" "certstore.conf: \[usage.Typo\]: unknown setting 'on_assign'" "unknown setting: named with its section"
tap_is "$(store_snapshot)" "$BEFORE" "unknown setting: the store is unchanged"
tap_like "$ERR" "known: on-assign, group, hook-timeout, previous-grace\)" "unknown setting: lists the known ones"
cp "$TEST_TMP/conf.good" "$STORE/certstore.conf"
printf '[usage.Graceless]\nprevious-grace = soon\n' >>"$STORE/certstore.conf"
BEFORE=$(store_snapshot)
run_cs assign "$A" --usage Graceless
tap_is "$RC" 8 "previous-grace that is not a number: exit 8"
tap_like "$ERR" "\[usage.Graceless\]: previous-grace 'soon' is not a number of seconds \(0-86400\)" \
	"bad previous-grace: names the setting, the value and the range"
tap_is "$(store_snapshot)" "$BEFORE" "bad previous-grace: the store is unchanged"
printf '[usage.Broken\n' >"$STORE/certstore.conf"
run_cs assign "$A" --usage Default
tap_is "$RC" 8 "a syntax error in certstore.conf: exit 8"
tap_like "$ERR" "certstore.conf line 1" "syntax error: the file and line"
cp "$TEST_TMP/conf.good" "$STORE/certstore.conf"

# --- group -----------------------------------------------------------------------------
if [ "$(id -u)" = 0 ] && getent group nogroup >/dev/null; then
	GROUP=nogroup
else
	GROUP=$(id -gn)
fi
printf '[usage.Grouped]\ngroup = %s\n' "$GROUP" >>"$STORE/certstore.conf"
run_cs assign "$A" --usage Grouped
tap_is "$RC" 0 "assign a usage with group = $GROUP"
tap_is "$(stat -L -c '%G %a' "$STORE/usages/Grouped")" "$GROUP 750" "group: the directory is $GROUP, 0750"
tap_is "$(stat -c '%G %a' "$STORE/usages/Grouped/"*.pem | sort -u)" "$GROUP 640" "group: every file is $GROUP, 0640"
rm "$STORE/usages/Grouped/cert.pem"
cs check >/dev/null
tap_is "$(stat -L -c '%G %a' "$STORE/usages/Grouped")" "$GROUP 750" "group: kept when check republishes"
printf '[usage.NoSuchGroup]\ngroup = no-such-group-here\n' >>"$STORE/certstore.conf"
run_cs assign "$A" --usage NoSuchGroup
tap_is "$RC" 8 "a group that does not exist: exit 8"
tap_like "$ERR" "group 'no-such-group-here' does not exist" "missing group: named"
tap_ok "missing group: nothing published" test ! -e "$STORE/usages/NoSuchGroup"

# --- tick runs the same hooks --------------------------------------------------------------
run_cs assign "$A" --usage Default --at +60
tap_is "$RC" 0 "stage Default"
CERTSTORE_NOW=$(( $(date +%s) + 120 )) run_cs tick
tap_is "$RC" 0 "tick applies it"
tap_like "$(cat "$TEST_TMP/Default.txt")" "CERTSTORE_THUMBPRINT=$A" "tick ran the hook with the new thumbprint"
run_cs assign "$B" --usage Failing --at +60
CERTSTORE_NOW=$(( $(date +%s) + 120 )) run_cs tick
tap_is "$RC" 13 "tick with a failing hook: exit 13"
tap_is "$(published_sha1 Failing)" "$B" "tick with a failing hook: applied anyway"

tap_done
