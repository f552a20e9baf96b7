#!/bin/bash
# nginx serving usage Default from the store's own local CA (keys in the
# token, workers as www-data through the key agent), reloaded by the usage's
# on-assign hook: assigning another certificate, a staged roll applied by
# `tick`, and `renew` each change what nginx serves, seen by `openssl
# s_client` verifying against published/roots.pem.  Then rotation under
# load: a client handshakes in a loop while Default rotates between two
# certificates: no handshake fails, and each one served one of the two.
#
#   HANDSHAKES=200 ROTATIONS=10   the load part's size
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB_DIR/provider.sh"
. "$TESTS_LIB_DIR/tls-servers.sh"
. "$TESTS_LIB_DIR/usage.sh"

HANDSHAKES=${HANDSHAKES:-200}
ROTATIONS=${ROTATIONS:-10}
[ "$(id -u)" = 0 ] || tap_bail "needs root: nginx drops privileges to www-data"
command -v nginx >/dev/null || tap_bail "no nginx (scripts/deps.sh installs nginx-light)"

needs_keys
cs ca create-local lab --key ec:p256 --cn "usage-nginx test CA" >/dev/null &&
	cs ca roots lab --trust >/dev/null || tap_bail "cannot make and trust the local CA"
printf '\n[usage.Default]\ngroup = www-data\n' >>"$STORE/certstore.conf"
for n in 1 2; do
	cs request --cn localhost --san dns:localhost --san ip:127.0.0.1 --key ec:p256 \
		--ca lab --friendly-name "web$n" >/dev/null || tap_bail "cannot get certificate web$n"
done
sha1_of() { cs show "$1" --json | sed -n 's/.*"thumbprint": "\([0-9A-F]*\)".*/\1/p' | head -1; }
WEB1=$(sha1_of web1)
WEB2=$(sha1_of web2)
cs assign "$WEB1" --usage Default >/dev/null || tap_bail "cannot assign web1"
ROOTS=$STORE/published/roots.pem

tls_agent_setup
USAGE=Default
tls_start nginx || tap_bail "nginx does not start: $(tls_server_log)"
# The hook runs with a clean environment: the snippet and the uninstalled
# libcertstore are named on its command line.
cat >>"$STORE/certstore.conf" <<CONF
on-assign = /usr/bin/env $(sanitizer_env_words) OPENSSL_CONF=$OSSL_CNF LD_LIBRARY_PATH=$PROVIDER_DIR $(command -v nginx) -c $SRV_DIR/conf -e $SRV_DIR/error.log -s reload
CONF

# served: the SHA-1 thumbprint nginx serves, when the handshake verifies
# against the published roots (and so the server proved it holds the key).
# The last failure's output is kept in $TEST_TMP/served.err.
served() {
	local out
	if out=$(timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
		-CAfile "$ROOTS" -verify_return_error -verify_hostname localhost </dev/null 2>&1) &&
		grep -q 'Verify return code: 0 (ok)' <<<"$out"; then
		openssl x509 -noout -fingerprint -sha1 <<<"$out" 2>/dev/null | sed 's/.*=//; s/://g'
	else
		printf '%s\n' "$out" >"$TEST_TMP/served.err"
		return 1
	fi
}

# wait_served SHA1: until nginx serves it (a reload is asynchronous; 15 s at most).
wait_served() {
	local i got=
	for i in $(seq 75); do
		got=$(served)
		[ "$got" = "$1" ] && return 0
		sleep 0.2
	done
	echo "nginx serves '$got'"
	return 1
}

tap_ok "nginx serves web1 from usages/Default, verified against published/roots.pem" \
	wait_served "$WEB1"

# --- (a) assign another certificate: the hook reloads nginx --------------------------
run_cs assign "$WEB2" --usage Default
tap_is "$RC" 0 "assign web2: exit 0 (the reload hook succeeded)"
tap_ok "after assign: nginx serves web2" wait_served "$WEB2"
tap_like "$(cs log --usage Default)" "hook" "the hook's run is in the audit log"

# --- (b) a staged roll, applied by tick --------------------------------------------------
run_cs assign "$WEB1" --usage Default --at +2
tap_is "$RC" 0 "stage web1 for +2 s: exit 0"
run_cs tick
tap_is "$(served)" "$WEB2" "tick before the time: nginx still serves web2"
CERTSTORE_NOW=$(($(date +%s) + 3)) run_cs tick
tap_is "$RC" 0 "tick after the time: exit 0"
tap_like "$OUT" "applied staged Default: $WEB1" "tick applied the staged roll"
tap_ok "after tick: nginx serves web1" wait_served "$WEB1"

# --- (c) renewal through the local CA -------------------------------------------------------
run_cs renew "$WEB1"
tap_is "$RC" 0 "renew web1: exit 0"
WEB3=$(published_sha1 Default)
tap_unlike "$WEB3" "^($WEB1|)$" "renew: Default moved to the renewal"
tap_ok "after renew: nginx serves the renewal" wait_served "$WEB3"
tap_like "$(cs show "$WEB1" --json)" '"archived": true' "renew: web1 is archived"

# --- (d) rotation under load ------------------------------------------------------------------
# The client records one line per handshake: the thumbprint, or "FAIL".  It
# makes $HANDSHAKES, and more while the rotations last (10 times as many at most).
client_loop() {
	local i got
	for i in $(seq $((HANDSHAKES * 10))); do
		[ "$i" -le "$HANDSHAKES" ] || [ ! -e "$TEST_TMP/rotated" ] || break
		got=$(served) && [ -n "$got" ] || got=FAIL
		echo "$got"
	done
}
client_loop >"$TEST_TMP/handshakes.log" &
CLIENT=$!
bg "$CLIENT"
rotated=0 hook_failures=0
for i in $(seq "$ROTATIONS"); do
	if [ $((i % 2)) = 1 ]; then target=$WEB2; else target=$WEB3; fi
	timeout 60 "$CERTSTORE" --store-dir "$STORE" assign "$target" --usage Default >/dev/null 2>&1
	case $? in
	0) rotated=$((rotated + 1)) ;;
	13) hook_failures=$((hook_failures + 1)) ;;
	esac
	sleep 0.3
done
touch "$TEST_TMP/rotated"
still=$(kill -0 "$CLIENT" 2>/dev/null && echo yes || echo no)
# The client must end on its own within its bound (10 s per handshake at most).
for _ in $(seq 600); do kill -0 "$CLIENT" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$CLIENT" 2>/dev/null; then
	kill "$CLIENT"
	tap_fail "the client loop finished" "still running after 300 s"
fi
wait "$CLIENT" 2>/dev/null
tap_is "$rotated" "$ROTATIONS" "rotation: all $ROTATIONS assigns and reloads succeeded ($hook_failures hook failures)"
total=$(wc -l <"$TEST_TMP/handshakes.log")
failed=$(grep -c FAIL "$TEST_TMP/handshakes.log")
others=$(grep -v -e FAIL -e "^$WEB2\$" -e "^$WEB3\$" "$TEST_TMP/handshakes.log" | sort -u)
tap_diag "$total handshakes: $(sort "$TEST_TMP/handshakes.log" | uniq -c | tr '\n' ' ')"
tap_is "$still" yes "rotation: the client was handshaking all through the rotations"
tap_ok "rotation: the client made at least $HANDSHAKES handshakes ($total)" test "$total" -ge "$HANDSHAKES"
tap_is "$failed" 0 "rotation: no handshake failed (each verified: the key matches)"
[ "$failed" = 0 ] || tap_diag "the last failure: $(tail -n 20 "$TEST_TMP/served.err" 2>/dev/null)
$(tls_server_log)
$(grep -v ' ok$' "$TEST_TMP/agent.log" | tail -n 5)"
tap_is "$others" "" "rotation: every served certificate is one of the two"
tap_like "$(sort -u "$TEST_TMP/handshakes.log" | grep -v FAIL | wc -l)" "^2$" \
	"rotation: both certificates were served"
# Last assigned: WEB3 when ROTATIONS is even.
last=$([ $((ROTATIONS % 2)) = 1 ] && echo "$WEB2" || echo "$WEB3")
tap_ok "after the rotations: nginx serves the last one assigned" wait_served "$last"

tls_stop
tap_done
