#!/bin/bash
# A renewal with no reload hook, nginx's workers signing as www-data through
# the key agent: during the usage's previous-grace nginx keeps serving the
# old certificate and its handshakes succeed (the renewal archived that
# certificate, and the agent still grants it); after the grace the agent
# refuses, handshakes fail, and nginx's error log names the usage and says
# to reload; a reload serves the renewal.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB_DIR/provider.sh"
. "$TESTS_LIB_DIR/tls-servers.sh"
. "$TESTS_LIB_DIR/usage.sh"

GRACE=${GRACE:-20}
[ "$(id -u)" = 0 ] || tap_bail "needs root: nginx drops privileges to www-data"
command -v nginx >/dev/null || tap_bail "no nginx (scripts/deps.sh installs nginx-light)"

needs_keys
cs ca create-local lab --key ec:p256 --cn "grace test CA" >/dev/null &&
	cs ca roots lab --trust >/dev/null || tap_bail "cannot make and trust the local CA"
printf '\n[usage.Default]\ngroup = www-data\nprevious-grace = %s\n' "$GRACE" >>"$STORE/certstore.conf"
cs request --cn localhost --san dns:localhost --san ip:127.0.0.1 --key ec:p256 \
	--ca lab --friendly-name web >/dev/null || tap_bail "cannot get the certificate"
WEB=$(cs show web --json | sed -n 's/.*"thumbprint": "\([0-9A-F]*\)".*/\1/p' | head -1)
cs assign "$WEB" --usage Default >/dev/null || tap_bail "cannot assign web"
ROOTS=$STORE/published/roots.pem

tls_agent_setup
USAGE=Default
tls_start nginx || tap_bail "nginx does not start: $(tls_server_log)"

# served: the SHA-1 thumbprint of a handshake that verified, or fails.
served() {
	local out
	out=$(timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
		-CAfile "$ROOTS" -verify_return_error </dev/null 2>&1) &&
		grep -q 'Verify return code: 0 (ok)' <<<"$out" &&
		openssl x509 -noout -fingerprint -sha1 <<<"$out" 2>/dev/null | sed 's/.*=//; s/://g'
}
tap_is "$(served)" "$WEB" "nginx serves web"

run_cs renew web
tap_is "$RC" 0 "renew web (no reload hook): exit 0" "$ERR"
RENEWED=$(published_sha1 Default)
tap_unlike "$RENEWED" "^($WEB|)$" "Default moved to the renewal"
tap_like "$(cs show "$WEB" --json)" '"archived": true' "the old certificate is archived"
renewed_at=$(date +%s)

ok=0
for _ in 1 2 3; do [ "$(served)" = "$WEB" ] && ok=$((ok + 1)); done
elapsed=$(($(date +%s) - renewed_at))
tap_is "$ok" 3 "within the grace (${elapsed} s of ${GRACE} s), nginx's handshakes with the old certificate and key succeed"

# Past the grace: the agent refuses the archived certificate's key.
sleep $((GRACE + 2 - elapsed > 0 ? GRACE + 2 - elapsed : 0))
tap_ok "after the grace, nginx's handshakes fail" test -z "$(served)"
log=$(cat "$SRV_DIR/error.log" "$SRV_DIR/out.log" 2>/dev/null)
tap_like "$log" "usage Default's previous certificate" "nginx's error log names the usage"
tap_like "$log" "reload the server" "nginx's error log says what to do"
tap_like "$(grep "$WEB" "$TEST_TMP/agent.log" | tail -n 1)" "previous-grace ended" \
	"the agent's log says why it refused"

/usr/bin/env $(sanitizer_env_words) OPENSSL_CONF="$OSSL_CNF" LD_LIBRARY_PATH="$PROVIDER_DIR" \
	nginx -c "$SRV_DIR/conf" -e "$SRV_DIR/error.log" -s reload 2>/dev/null
for _ in $(seq 50); do [ "$(served)" = "$RENEWED" ] && break; sleep 0.2; done
tap_is "$(served)" "$RENEWED" "after a reload, nginx serves the renewal"

tls_stop
tap_done
