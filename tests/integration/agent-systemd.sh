#!/bin/bash
# The key agent as systemd runs it: certstore-agent.socket and .service pass
# `systemd-analyze verify`; started by socket activation (the listening
# socket passed in LISTEN_FDS, as systemd-socket-activate does), the agent
# serves on the socket it was given; once serving it holds no capability.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB_DIR/provider.sh"

[ "$(id -u)" = 0 ] || tap_bail "needs root: the worker runs as www-data"
CS_SIGN=${top_builddir:-.}/tests/helpers/cs-sign
command -v systemd-analyze >/dev/null || tap_bail "no systemd-analyze (Debian package systemd)"
command -v systemd-socket-activate >/dev/null || tap_bail "no systemd-socket-activate (Debian package systemd)"

UNITS=$TEST_TMP/units
mkdir -p "$UNITS"
sed "s|^ExecStart=[^ ]*/certstore |ExecStart=$CERTSTORE |" \
	"${top_builddir:-.}/systemd/certstore-agent.service" >"$UNITS/certstore-agent.service"
cp "$top_srcdir/systemd/certstore-agent.socket" "$UNITS/"
OUT=$(cd "$UNITS" && systemd-analyze verify --man=no certstore-agent.socket certstore-agent.service 2>&1)
tap_is "$?:$OUT" "0:" "systemd-analyze verify: certstore-agent.socket and .service are clean"
tap_like "$(cat "$UNITS/certstore-agent.service")" "LimitNOFILE=" "the service raises its descriptor limit above the agent's caps"

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
needs_keys
cs import "$PKI/root.crt" --store Root >/dev/null && cs import "$PKI/inter.crt" >/dev/null &&
	cs import "$PKI/leaf.crt" --friendly-name web >/dev/null || tap_bail "cannot fill the store"
bind_key web "$PKI/leaf.key" || tap_bail "cannot put the key in the token"
printf '\n[usage.Default]\ngroup = www-data\n' >>"$STORE/certstore.conf"
cs assign web --usage Default >/dev/null || tap_bail "cannot assign"
KEYREF=$STORE/usages/Default/key.pem

chmod 0711 "$TEST_TMP"
mkdir -p "$TEST_TMP/run" && chmod 0755 "$TEST_TMP/run"
SOCK=$TEST_TMP/run/agent.sock
# --socket names a path the agent must not use: the passed socket wins.
systemd-socket-activate -l "$SOCK" -E LD_LIBRARY_PATH -E LD_PRELOAD -E ASAN_OPTIONS -E UBSAN_OPTIONS \
	"$CERTSTORE" --store-dir "$STORE" agent \
	--socket "$TEST_TMP/run/not-this.sock" 2>"$TEST_TMP/agent.log" &
ACT=$!
bg "$ACT"
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
chmod 0666 "$SOCK"
sed -e "s|^module = certstore.so\$|module = $PROVIDER_DIR/certstore.so|" \
	"$top_srcdir/provider/certstore-openssl.cnf" >"$TEST_TMP/openssl.cnf"
sed -i "/^\[certstore_sect\]/a agent = $SOCK" "$TEST_TMP/openssl.cnf"
OUT=$(OPENSSL_CONF=$TEST_TMP/openssl.cnf CERTSTORE_PROVIDER_DIR= timeout 60 "$CS_SIGN" \
	--pem --drop-to www-data --count 3 "$KEYREF" 2>&1)
tap_is "$OUT" "signed 3" "socket-activated: www-data signs through the socket systemd passed"
tap_ok "the agent did not bind the --socket path" test ! -e "$TEST_TMP/run/not-this.sock"
# systemd-socket-activate execs the agent in its own process: same pid.
# (No pgrep: with the sanitizer runtimes preloaded it hangs, as curl does.)
AGENT=$ACT
cap=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$AGENT/status")
tap_is "$cap" "0000000000000000" "serving, the agent holds no capability (CapEff)"
bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' "/proc/$AGENT/status")
tap_is "$bnd" "0000000000000000" "nor can it regain one (CapBnd)"
tap_is "$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' "/proc/$AGENT/status")" 1 "no new privileges"
tap_done
