#!/bin/bash
# The systemd units as installed (built from systemd/*.in): systemd-analyze
# verify finds nothing to say about them (no unknown key, no bad reference,
# an executable ExecStart), the agent's socket unit listens where the agent
# and the provider's snippet expect it, and nothing starts before a store
# exists (`certstore init` stays the admin's decision).
. "$(dirname "$0")/../lib/common.sh"

command -v systemd-analyze >/dev/null || tap_bail "no systemd-analyze (package systemd)"
UNITS=$TEST_TMP/units
mkdir -p "$UNITS"
BUILT=${top_builddir:-.}/systemd
for u in "$BUILT/certstore-agent.service" "$BUILT/certstore-tick.service" \
	"$top_srcdir/systemd/certstore-agent.socket" "$top_srcdir/systemd/certstore-tick.timer"; do
	[ -f "$u" ] || tap_bail "no unit $u (run make)"
	# The units name the installed binary; verify checks it is executable, so
	# point them at the one under test.
	sed -E "s|^ExecStart=[^ ]*/certstore |ExecStart=$CERTSTORE |" "$u" >"$UNITS/${u##*/}"
done
(cd "$UNITS" && ls) | tr '\n' ' ' | sed 's/^/# units: /; s/$/\n/'

OUT=$(cd "$UNITS" && no_sanitizer_preload systemd-analyze verify --man=no ./certstore-* 2>&1)
RC=$?
tap_is "$RC:$OUT" "0:" "systemd-analyze verify: every unit is clean"

listen=$(sed -n 's/^ListenStream=//p' "$UNITS/certstore-agent.socket")
default=$("$CERTSTORE" agent --help | grep -o '(default [^)]*)' | sed 's/(default \(.*\))/\1/')
tap_is "$listen" "$default" "the socket unit listens on the agent's default socket"
tap_like "$(cat "$top_srcdir/provider/certstore-openssl.cnf")" "agent = $listen" \
	"the provider's snippet names the same socket"
tap_is "$(sed -n 's/^SocketMode=//p' "$UNITS/certstore-agent.socket")" "0666" \
	"the socket is 0666: the agent authorises each peer by its credentials"
tap_like "$(sed -n 's/^ExecStart=//p' "$UNITS/certstore-agent.service")" " agent( |$)" \
	"the socket's service runs certstore agent"

for u in certstore-agent.socket certstore-agent.service certstore-tick.service; do
	tap_is "$(sed -n 's/^ConditionPathExists=//p' "$UNITS/$u")" "/var/lib/certstore/store.db" \
		"$u waits for a store (certstore init), making none itself"
done
tap_like "$(sed -n '/^\[Install\]/,$p' "$UNITS/certstore-agent.socket")" "WantedBy=sockets.target" \
	"the socket is enabled with sockets.target"
tap_like "$(sed -n '/^\[Install\]/,$p' "$UNITS/certstore-tick.timer")" "WantedBy=timers.target" \
	"the tick timer is enabled with timers.target"
tap_done
