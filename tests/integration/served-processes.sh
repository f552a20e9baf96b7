#!/bin/bash
# `certstore served` lists live processes only (issue 16): a process that
# loaded a store key through the provider is listed while it runs and not
# after it exits, and a process that gets its pid afterwards (pid reuse) is
# not taken for it.  The load is also sent to syslog once, as KEY=value text
# under the identifier certstore.
#
# The pid reuse is real, not simulated: in a private pid namespace (unshare
# --pid --mount-proc), where nothing else forks, /proc/sys/kernel/ns_last_pid
# hands the dead process's pid to the next child.
#
# Syslog: this machine runs no syslog daemon (no /dev/log), so the provider's
# datagrams go to a socket the test reads (CERTSTORE_SYSLOG_SOCKET); the
# journal point runs only where /dev/log and journalctl exist.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB_DIR/provider.sh"
. "$TESTS_LIB_DIR/tls-servers.sh"
. "$TESTS_LIB_DIR/served.sh"

[ "$(id -u)" = 0 ] || tap_bail "needs root: a pid namespace and ns_last_pid"
unshare --pid --fork --mount-proc true 2>/dev/null || tap_bail "cannot make a pid namespace here"
served_setup
REF=$TEST_TMP/web1.ref
cs export web1 --format keyref -o "$REF" || tap_bail "cannot export the key reference"

# the syslog reader: one datagram a line
SYSLOG_SOCK=$TEST_TMP/log.sock
python3 - "$SYSLOG_SOCK" "$TEST_TMP/syslog.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", 0) as f:
    while True:
        f.write(s.recv(8192) + b"\n")
PY
bg $!
for _ in $(seq 50); do [ -S "$SYSLOG_SOCK" ] && break; sleep 0.1; done

# In the namespace: a server that loads web1's key, then exits; then a
# process given its pid.  Prints KEY=value lines for the checks below.
cat >"$TEST_TMP/inner.sh" <<'INNER'
listed() { "$CERTSTORE" --store-dir "$STORE" served | grep -c "^$1 "; }
env OPENSSL_CONF="$OSSL_CNF" LD_LIBRARY_PATH="$PROVIDER_DIR" CERTSTORE_SYSLOG_SOCKET="$SYSLOG_SOCK" \
	openssl s_server -accept "127.0.0.1:$PORT" -cert "$STORE/usages/Default/fullchain.pem" \
	-key "$REF" -quiet </dev/null >"$TEST_TMP/s_server.log" 2>&1 &
P=$!
for _ in $(seq 100); do [ "$(listed $P)" = 1 ] && break; sleep 0.1; done
echo "PID=$P"
echo "LIVE=$(listed $P)"
echo "LINE=$("$CERTSTORE" --store-dir "$STORE" served | grep "^$P ")"
kill $P
wait $P
echo "DEAD=$(listed $P)"
# the next child gets pid P (the echo is a builtin: no fork before it)
echo $((P - 1)) >/proc/sys/kernel/ns_last_pid
sleep 60 &
Q=$!
echo "REUSED_PID=$Q"
echo "REUSED=$(listed $P)"
kill $Q
INNER
PORT=$(free_port)
export CERTSTORE STORE OSSL_CNF PROVIDER_DIR SYSLOG_SOCK REF PORT TEST_TMP
RES=$(unshare --pid --fork --mount-proc --kill-child bash "$TEST_TMP/inner.sh" 2>&1)
tap_diag "$RES"
val() { sed -n "s/^$1=//p" <<<"$RES"; }
P=$(val PID)
tap_is "$(val LIVE)" 1 "served: the running openssl (pid $P) is listed"
tap_like "$(val LINE)" "^$P +openssl +0 +$WEB1 +provider .* Default +/usr/bin/openssl$" \
	"served: program, uid, thumbprint, how, usage and executable"
tap_is "$(val DEAD)" 0 "served: after it exits it is not listed"
tap_is "$(val REUSED_PID)" "$P" "a new process got the dead one's pid $P"
tap_is "$(val REUSED)" 0 "served: the process with the reused pid is not listed"

sleep 0.2
log=$(cat "$TEST_TMP/syslog.txt" 2>/dev/null)
tap_like "$log" "^<30>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} certstore\\[[0-9]+\\]: CERTSTORE_EVENT=key-load COMM=openssl PID=$P START=[0-9]+ UID=0 EXE=/usr/bin/openssl THUMBPRINT=$WEB1 USAGE=Default VIA=provider$" \
	"syslog: the load as daemon.info KEY=value text, identifier certstore"
tap_is "$(grep -c "THUMBPRINT=$WEB1" <<<"$log")" 1 "syslog: once per process and certificate (s_server resolves the key more than once)"

if [ -S /dev/log ] && command -v journalctl >/dev/null; then
	since=$(date '+%Y-%m-%d %H:%M:%S')
	env OPENSSL_CONF="$OSSL_CNF" LD_LIBRARY_PATH="$PROVIDER_DIR" openssl pkey -in "$REF" -noout
	sleep 1
	tap_like "$(journalctl -t certstore --since "$since" -o cat 2>/dev/null)" \
		"THUMBPRINT=$WEB1" "journal: journalctl -t certstore finds the load"
else
	tap_skip "journal: journalctl -t certstore finds the load" "no syslog daemon or journal runs here (no /dev/log)"
fi
tap_done
