#!/bin/bash
# `certstore served` lists live processes only (issue 16): a process that
# loaded a store key through the provider is listed while it runs and not
# after it exits, and a process that gets its pid afterwards (pid reuse) is
# not taken for it.  The load is also sent once to the journal, as fields a
# journal query filters on (its native protocol), or to syslog as KEY=value
# text under the identifier certstore where no journal runs.
#
# The pid reuse is real, not simulated: in a private pid namespace (unshare
# --pid --mount-proc), where nothing else forks, /proc/sys/kernel/ns_last_pid
# hands the dead process's pid to the next child.
#
# Syslog and journal: these machines run neither (no /dev/log, no
# /run/systemd/journal/socket), so the provider's datagrams go to sockets the
# test reads (CERTSTORE_SYSLOG_SOCKET, CERTSTORE_JOURNAL_SOCKET: a reader of
# the journal's native protocol, one FIELD=value a line); the point that asks
# journalctl runs only where a journal does.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB_DIR/provider.sh"
. "$TESTS_LIB_DIR/tls-servers.sh"
. "$TESTS_LIB_DIR/served.sh"

[ "$(id -u)" = 0 ] || tap_bail "needs root: a pid namespace and ns_last_pid"
unshare --pid --fork --mount-proc true 2>/dev/null || tap_bail "cannot make a pid namespace here"
served_setup
# openssl s_server -key and pkey -in read the key reference through
# OSSL_STORE's file: loader, which needs the provider's `lazy = no`.
sed -e "s|^# lazy = .*|lazy = no|" "$OSSL_CNF" >"$TEST_TMP/eager.cnf" &&
	grep -q '^lazy = no$' "$TEST_TMP/eager.cnf" || tap_bail "cannot make the lazy = no snippet"
OSSL_CNF=$TEST_TMP/eager.cnf
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

# the journal's native protocol, to a reader of our own: each datagram's
# FIELD=value lines, then a blank line
JOURNAL_SOCK=$TEST_TMP/journal.sock
python3 - "$JOURNAL_SOCK" "$TEST_TMP/journal.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", 0) as f:
    while True:
        f.write(s.recv(8192) + b"\n")
PY
bg $!
for _ in $(seq 50); do [ -S "$JOURNAL_SOCK" ] && break; sleep 0.1; done
env OPENSSL_CONF="$OSSL_CNF" LD_LIBRARY_PATH="$PROVIDER_DIR" CERTSTORE_JOURNAL_SOCKET="$JOURNAL_SOCK" \
	openssl pkey -in "$REF" -noout &
PKEY=$!
wait $PKEY
sleep 0.2
fields=$(cat "$TEST_TMP/journal.txt" 2>/dev/null)
tap_diag "$fields"
for f in "SYSLOG_IDENTIFIER=certstore" "PRIORITY=6" "CERTSTORE_EVENT=key-load" \
	"CERTSTORE_PID=$PKEY" "CERTSTORE_COMM=openssl" "CERTSTORE_UID=0" "CERTSTORE_EXE=/usr/bin/openssl" \
	"CERTSTORE_THUMBPRINT=$WEB1" "CERTSTORE_USAGE=Default" "CERTSTORE_VIA=provider" \
	"MESSAGE=openssl\\[$PKEY\\] uses the key of $WEB1 \\(usage Default\\) through the provider"; do
	tap_like "$fields" "^$f\$" "journal: the load carries the field ${f%%=*}"
done
tap_is "$(grep -c "^CERTSTORE_THUMBPRINT=" <<<"$fields")" 1 "journal: one record for the process"
# (the reader adds a newline to each datagram: one record, ended by its last
# field's own newline, ends the file in two)
tap_is "$(tail -c 2 "$TEST_TMP/journal.txt" | od -An -tx1 | tr -d ' \n')" 0a0a \
	"journal: the datagram ends with its last field's newline"

if [ -S /run/systemd/journal/socket ] && command -v journalctl >/dev/null; then
	since=$(date '+%Y-%m-%d %H:%M:%S')
	env OPENSSL_CONF="$OSSL_CNF" LD_LIBRARY_PATH="$PROVIDER_DIR" openssl pkey -in "$REF" -noout
	sleep 1
	tap_like "$(journalctl CERTSTORE_THUMBPRINT="$WEB1" --since "$since" -o cat 2>/dev/null)" \
		"uses the key of $WEB1" "journal: journalctl CERTSTORE_THUMBPRINT=... finds the load"
else
	tap_skip "journal: journalctl CERTSTORE_THUMBPRINT=... finds the load" \
		"no journal runs here (no /run/systemd/journal/socket)"
fi
tap_done
