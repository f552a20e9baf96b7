#!/bin/bash
# Which certificate nginx really serves (issue 16): nginx (master as root
# through the provider, workers as www-data through the key agent) serving
# usage Default is named by `usages` and `served`; after `assign` of another
# certificate with no reload hook, `usages` says STALE and `check` exits 19;
# after nginx is reloaded, it is fresh again and `check` passes.  The loads
# are in `log --usage Default`.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB_DIR/provider.sh"
. "$TESTS_LIB_DIR/tls-servers.sh"
. "$TESTS_LIB_DIR/served.sh"

[ "$(id -u)" = 0 ] || tap_bail "needs root: nginx drops privileges to www-data"
command -v nginx >/dev/null || tap_bail "no nginx (scripts/deps.sh installs nginx-light)"
served_setup
tls_start nginx || tap_bail "nginx does not start: $(tls_server_log)"
MASTER=$SERVER_PID
tap_ok "nginx serves web1" wait_handshake "$WEB1"
# Each worker has signed once it answered a handshake; two workers, so make a few.
for _ in 1 2 3 4 5 6; do handshake_sha1 >/dev/null; done
WORKERS=$(children_of "$MASTER" | tr '\n' ' ')

run_cs served
tap_is "$RC" 0 "served: exit 0"
tap_diag "$OUT"
tap_like "$OUT" "^$MASTER +nginx +0 +$WEB1 +provider .* Default +$(command -v nginx)" \
	"served: the nginx master (root) loaded web1's key through the provider"
tap_like "$OUT" "nginx +33 +$WEB1 +agent " "served: an nginx worker (www-data, uid 33) used web1's key through the agent"
worker_listed=no
for w in $WORKERS; do grep -q "^$w  *nginx  *33 " <<<"$OUT" && worker_listed=yes; done
tap_is "$worker_listed" yes "served: the worker listed is one of the master's children ($WORKERS)"
run_cs served --json
tap_like "$OUT" "\"pid\": $MASTER," "served --json: the master's pid"
tap_like "$OUT" '"via": "agent"' "served --json: the agent's records"

tap_like "$(usages_line)" "Assigned  served by nginx\\[$MASTER\\]" "usages: Default is served by the nginx master"
tap_unlike "$(usages_line)" "STALE" "usages: nothing stale while nginx serves the assigned certificate"
run_cs usages --json
tap_like "$OUT" '"stale": false' "usages --json: stale false"
tap_like "$OUT" "\"served_by\": \\[" "usages --json: served_by"
run_cs check
tap_is "$RC" 0 "check: exit 0 while nginx serves the assigned certificate"

# --- assign web2 with no reload hook: nginx stays on web1 ----------------------------
run_cs assign "$WEB2" --usage Default
tap_is "$RC" 0 "assign web2 (no on-assign hook): exit 0"
# (its workers' handshakes now fail: the agent grants web1 for previous-grace 0 s)
tap_unlike "$(handshake_sha1)" "$WEB2" "nginx does not serve web2"
line=$(usages_line)
tap_diag "$line"
tap_like "$line" "STALE: nginx\\[$MASTER\\].* still serves? ${WEB1:0:4}… \\(assigned [0-9-]+ [0-9:]+, no hook run\\)" \
	"usages: STALE names the nginx master still on web1 and says no hook ran"
tap_unlike "$line" "served by" "usages: no process serves web2 yet"
run_cs usages --json
tap_like "$OUT" '"stale": true' "usages --json: stale true"
run_cs check
tap_is "$RC" 19 "check: exit 19 (stale server past previous-grace 0)"
tap_like "$OUT" "stale: Default: nginx\\[$MASTER\\]" "check: names the stale usage and process"
tap_like "$ERR" "certstore: 1 usage is served by a process still on a previous certificate" "check: the message"

# --- reload nginx: the master loads web2, new workers sign with it -------------------
env OPENSSL_CONF="$OSSL_CNF" LD_LIBRARY_PATH="$PROVIDER_DIR" nginx -c "$SRV_DIR/conf" \
	-e "$SRV_DIR/error.log" -s reload
tap_ok "after reload: nginx serves web2" wait_handshake "$WEB2"
for _ in 1 2 3 4 5 6; do handshake_sha1 >/dev/null; done
tap_ok "the old workers exited" wait_gone $WORKERS
line=$(usages_line)
tap_like "$line" "Assigned  served by nginx\\[$MASTER\\]" "usages: the master serves Default again (it loaded web2)"
tap_unlike "$line" "STALE" "usages: nothing stale after the reload"
run_cs check
tap_is "$RC" 0 "check: exit 0 after the reload"
log=$(cs log --usage Default)
tap_like "$log" "load +Default nginx\\[$MASTER\\] uid=0 loaded $WEB2 via provider" "log --usage: the master's load of web2"
tap_like "$log" "load +Default nginx\\[[0-9]+\\] uid=33 loaded $WEB1 via agent" "log --usage: a worker's use of web1"
tap_like "$log" "assign +Default $WEB2" "log --usage: beside the assignment"

tls_stop
tap_ok "after nginx stops: no nginx in served" bash -c "! '$CERTSTORE' --store-dir '$STORE' served | grep -q ' nginx '"
tap_done
