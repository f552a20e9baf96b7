#!/bin/bash
# Which certificate haproxy really serves (issue 16): haproxy loads the key
# reference as root and drops to www-data, signing through the key agent.
# `usages` names it; after `assign` of another certificate whose reload hook
# fails it is STALE (with the hook's exit status) and `check` exits 19; restarted on the new certificate, the old
# process drops out and `check` passes.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB_DIR/provider.sh"
. "$TESTS_LIB_DIR/tls-servers.sh"
. "$TESTS_LIB_DIR/served.sh"

[ "$(id -u)" = 0 ] || tap_bail "needs root: haproxy drops privileges to www-data"
command -v haproxy >/dev/null || tap_bail "no haproxy (scripts/deps.sh installs it)"
served_setup
tls_start haproxy || tap_bail "haproxy does not start: $(tls_server_log)"
OLD=$SERVER_PID
tap_ok "haproxy serves web1" wait_handshake "$WEB1"

run_cs served
tap_diag "$OUT"
tap_like "$OUT" "^$OLD +haproxy +[0-9]+ +$WEB1 +provider .* Default +$(command -v haproxy)" \
	"served: haproxy loaded web1's key through the provider, once though it decodes twice"
tap_is "$(grep -c "^$OLD " <<<"$OUT")" 1 "served: one line for haproxy and web1 (the agent's use is the same process)"
tap_like "$(usages_line)" "Assigned  served by haproxy\\[$OLD\\]" "usages: Default is served by haproxy"
run_cs check
tap_is "$RC" 0 "check: exit 0 while haproxy serves the assigned certificate"

# a reload hook that fails: what usages says next to the stale server
echo "on-assign = /bin/false" >>"$STORE/certstore.conf"
run_cs assign "$WEB2" --usage Default
tap_is "$RC" 13 "assign web2 with a failing on-assign hook: exit 13"
line=$(usages_line)
tap_diag "$line"
tap_like "$line" "STALE: haproxy\\[$OLD\\] still serves ${WEB1:0:4}… \\(assigned [0-9-]+ [0-9:]+, hook exit 1\\)" \
	"usages: STALE names haproxy still on web1, and the hook's exit status"
run_cs usages --json
tap_like "$OUT" '"stale": true' "usages --json: stale true"
run_cs check
tap_is "$RC" 19 "check: exit 19 (stale haproxy past previous-grace 0)"
tap_like "$OUT" "stale: Default: haproxy\\[$OLD\\]" "check: names haproxy"

# haproxy reads its key file at start: restart it on the new usages/Default/key.pem
tls_stop
tls_start haproxy || tap_bail "haproxy does not restart: $(tls_server_log)"
tap_ok "restarted haproxy serves web2" wait_handshake "$WEB2"
line=$(usages_line)
tap_like "$line" "Assigned  served by haproxy\\[$SERVER_PID\\]$" "usages: the new haproxy serves Default, nothing stale"
tap_unlike "$(cs served)" "^$OLD " "served: the stopped haproxy is gone"
run_cs check
tap_is "$RC" 0 "check: exit 0 after the restart"

tls_stop
tap_done
