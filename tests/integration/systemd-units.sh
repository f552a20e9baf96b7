#!/bin/bash
# The systemd units (certstore-tick.service and .timer, certstore-agent.service)
# pass `systemd-analyze verify` without a word: it exits 0 on unknown keys
# and bad values (it only warns), so any output fails the unit.  ExecStart
# is pointed at the built certstore, since @bindir@ is not installed here;
# systemd-analyze loads none of our code, so it runs without the sanitizer
# runtimes in a sanitizer build.
. "$(dirname "$0")/../lib/common.sh"

if ! command -v systemd-analyze >/dev/null; then
	tap_skip_prereq "systemd-analyze verify" "no systemd-analyze (scripts/deps.sh installs systemd)"
	tap_done
fi
UNITS=$TEST_TMP/units
mkdir -p "$UNITS"
for unit in "$top_builddir"/systemd/certstore-*.service "$top_srcdir"/systemd/certstore-*.timer; do
	sed "s|^ExecStart=[^ ]*/certstore |ExecStart=$CERTSTORE |" "$unit" >"$UNITS/${unit##*/}"
done
tap_is "$(ls "$UNITS" | tr '\n' ' ')" \
	"certstore-agent.service certstore-tick.service certstore-tick.timer " "the three units are built"
for unit in "$UNITS"/*; do
	out=$(cd "$UNITS" && no_sanitizer_preload timeout 120 systemd-analyze verify --man=no "./${unit##*/}" 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && [ -z "$out" ]; then
		tap_pass "systemd-analyze verify ${unit##*/}: clean"
	else
		tap_fail "systemd-analyze verify ${unit##*/}: clean" "exit $rc: $out"
	fi
done
tap_done
