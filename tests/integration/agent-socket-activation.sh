#!/bin/bash
# The key agent started by systemd's socket activation (certstore-agent.socket):
# it serves the listening socket it is given as fd 3 (LISTEN_PID/LISTEN_FDS),
# ignores --socket, signs for a worker dropped to www-data through it, and on
# SIGTERM leaves the socket to its owner (systemd keeps it for the next start).
# systemd-socket-activate(1) passes the socket exactly as systemd does.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/provider.sh"

CS_SIGN=${top_builddir:-.}/tests/helpers/cs-sign
[ -x "$CS_SIGN" ] || tap_bail "no tests/helpers/cs-sign (run make check)"
command -v systemd-socket-activate >/dev/null || tap_bail "no systemd-socket-activate (package systemd)"
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root to drop a worker to www-data"
	exit 0
fi

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
cs import "$PKI/root.crt" --store Root >/dev/null &&
	cs import "$PKI/inter.crt" >/dev/null &&
	cs import "$PKI/leaf.crt" --friendly-name "EC server" >/dev/null || tap_bail "cannot fill the store"
needs_keys
bind_key "EC server" "$PKI/leaf.key" || tap_bail "cannot put the key in the token"
KEYREF=$TEST_TMP/key.pem
cs export "EC server" --format keyref -o "$KEYREF" || tap_bail "cannot export the key reference"
printf '\n[usage.Default]\ngroup = www-data\n' >>"$STORE/certstore.conf"
cs assign "EC server" --usage Default >/dev/null || tap_bail "cannot assign Default"

chmod 0711 "$TEST_TMP"
mkdir -p "$TEST_TMP/run" && chmod 0755 "$TEST_TMP/run"
SOCK=$TEST_TMP/run/agent.sock
IGNORED=$TEST_TMP/run/not-this.sock
# systemd-socket-activate hands the program only LISTEN_* and what -E names.
ENVS=()
for v in LD_LIBRARY_PATH LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS; do
	[ -z "${!v+x}" ] || ENVS+=(-E "$v")
done
systemd-socket-activate -l "$SOCK" "${ENVS[@]}" -E CERTSTORE_AGENT_TRACE=1 \
	"$CERTSTORE" --store-dir "$STORE" agent --socket "$IGNORED" 2>"$TEST_TMP/agent.log" &
AGENT_PID=$!
bg "$AGENT_PID"
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || tap_bail "systemd-socket-activate made no socket: $(cat "$TEST_TMP/agent.log")"
chmod 0666 "$SOCK" # what SocketMode=0666 does in certstore-agent.socket

sed -e "s|^module = certstore.so\$|module = $PROVIDER_DIR/certstore.so|" \
	"$top_srcdir/provider/certstore-openssl.cnf" >"$TEST_TMP/openssl.cnf"
sed -i "/^\[certstore_sect\]/a agent = $SOCK" "$TEST_TMP/openssl.cnf"
# 30 s: an agent that does not serve the socket it was given leaves the worker waiting.
OUT=$(OPENSSL_CONF=$TEST_TMP/openssl.cnf CERTSTORE_PROVIDER_DIR= timeout 30 "$CS_SIGN" \
	--pem --drop-to www-data --fork "$KEYREF" 2>&1)
tap_is "$OUT" "signed 3" "a worker dropped to www-data signs through the socket-activated agent" \
	"$(cat "$TEST_TMP/agent.log")"
tap_like "$(cat "$TEST_TMP/agent.log")" "uid $(id -u www-data) gid [0-9]+ sign [0-9A-F]{40}: ok" \
	"the agent that answered is the one started with the socket"
tap_ok "given a socket, the agent does not make its own (--socket is ignored)" test ! -e "$IGNORED"

kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
RC=$?
tap_is "$RC" "0" "SIGTERM stops the socket-activated agent cleanly" "$(cat "$TEST_TMP/agent.log")"
tap_ok "the socket stays for its owner (systemd starts the agent again on it)" test -S "$SOCK"

# Started by hand (no LISTEN_FDS, or LISTEN_PID of another process), the
# agent makes its --socket as before.
rm -f "$SOCK"
LISTEN_PID=1 LISTEN_FDS=1 "$CERTSTORE" --store-dir "$STORE" agent --socket "$SOCK" \
	2>"$TEST_TMP/agent2.log" 3</dev/null &
AGENT2=$!
bg "$AGENT2"
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
tap_ok "LISTEN_PID of another process: the agent listens on --socket itself" test -S "$SOCK"
kill -TERM "$AGENT2"
wait "$AGENT2"
tap_ok "... and removes that socket when it stops" test ! -e "$SOCK"

tap_done
