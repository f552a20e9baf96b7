# certsrv.sh - the AD CS web enrollment fixture (tests/fixtures/certsrv_fixture.py)
# for the integration tests (source it after common.sh and token.sh).
#
#   certsrv_pki               makes $PKI: tlsroot + tls (the fixture's TLS
#                             certificate for 127.0.0.1) and adcs (the issuing CA)
#   start_certsrv NAME [FIXTURE-ARGS...]
#                             starts a fixture, adds [ca.NAME] (protocol certsrv,
#                             template WebServer) to certstore.conf; sets $PORT
#   add_profile NAME KEY=VALUE...   more keys for [ca.NAME] (appended section)
#   free_port                 prints a TCP port nobody listens on (now)

CERTSRV_FIXTURE=${top_srcdir:-$TESTS_LIB_DIR/../..}/tests/fixtures/certsrv_fixture.py

certsrv_pki() {
	PKI=$TEST_TMP/pki
	mkdir -p "$PKI" &&
	pki_root "$PKI" tlsroot "Fixture TLS Root" &&
	pki_issue "$PKI" tls localhost tlsroot server &&
	pki_root "$PKI" adcs "Fixture Issuing CA"
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits for FILE to exist (a server's port file), up to 10 s.
wait_for_file() {
	local i
	for i in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

start_certsrv() {
	local name=$1 dir=$TEST_TMP/certsrv-$1
	shift
	mkdir -p "$dir"
	python3 "$CERTSRV_FIXTURE" --cert "$PKI/tls.crt" --key "$PKI/tls.key" \
		--ca-cert "$PKI/adcs.crt" --ca-key "$PKI/adcs.key" --workdir "$dir" \
		--port-file "$dir/port" "$@" 2>>"$dir/log" &
	bg $!
	wait_for_file "$dir/port" || tap_bail "the certsrv fixture $name did not start"
	PORT=$(cat "$dir/port")
	printf '\n[ca.%s]\nprotocol = certsrv\nurl = https://127.0.0.1:%s/certsrv\ntemplate = WebServer\n' \
		"$name" "$PORT" >>"$STORE/certstore.conf"
}

add_profile() {
	local name=$1 kv
	shift
	for kv in "$@"; do
		printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
	done | { printf '[ca.%s]\n' "$name"; cat; } >>"$STORE/certstore.conf"
}

# with_tty ANSWER CMD...: runs CMD on a pseudo-terminal, types ANSWER once it
# asks "Password for", prints what the terminal showed and then "rc N".
with_tty() {
	local answer=$1
	shift
	# Python does not run with the sanitizer runtimes preloaded; certstore,
	# linked with them, needs no preload.
	env -u LD_PRELOAD timeout --foreground 120 python3 - "$answer" "$@" <<'PY'
import os, pty, sys
answer = sys.argv[1].encode() + b"\n"
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
seen, sent = b"", False
while True:
    try:
        data = os.read(fd, 1024)
    except OSError:
        break
    if not data:
        break
    seen += data
    if not sent and b"Password for" in seen:
        os.write(fd, answer)
        sent = True
print(seen.decode(errors="replace"))
print("rc", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PY
}
