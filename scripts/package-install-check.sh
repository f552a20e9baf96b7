#!/bin/bash
# package-install-check.sh WORK SRC - run by package-test.sh through
# `unshare --mount`: mounts overlays over /usr, /etc and /var (changes go to
# WORK/overlay), then, in that private copy of the system, installs the
# packages WORK/*.deb with apt and checks what an admin gets:
#   the store directory made (root, 0700) but no store nor token in it;
#   /usr/bin/certstore, the provider from OpenSSL's modules dir, the PKCS#11
#   module through p11-kit's registry (p11-kit list-modules, trust list shows
#   a store's root), the units (systemd-analyze verify, enabled);
#   the demo (scripts/demo.sh) on the installed files;
#   the packaged path: /var/lib/certstore, the agent on the socket its unit
#   names (socket-activated), nginx serving usage Default through the snippet;
#   purge: every file dpkg listed is gone; a store holding certificates is
#   kept, with a message saying so; an untouched store directory is removed.
set -euo pipefail

WORK=$1
SRC=$2
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
	echo "package-install-check: not in a mount namespace of its own; run package-test.sh" >&2
	exit 1
fi
for d in usr etc var; do
	mount -t overlay "certstore-$d" -o "lowerdir=/$d,upperdir=$WORK/overlay/$d/upper,workdir=$WORK/overlay/$d/work" "/$d"
done
# /run private as well (the agent's socket goes to /run/certstore), and no
# /run/systemd/system in it: the maintainer scripts must not reach the host's
# systemd, if it runs one.
mount -t tmpfs -o mode=0755 certstore-run /run
mkdir -p /run/lock
# The overlays show the host's /etc as it changes: modules that tests on the
# same machine register for a while in /etc/pkcs11/modules (sanitizer builds
# among them) must not reach p11-kit here.  The packages register theirs in
# /usr/share/p11-kit/modules.
if [ -d /etc/pkcs11/modules ]; then
	mount -t tmpfs -o mode=0755 certstore-pkcs11-modules /etc/pkcs11/modules
fi

N=0 FAILED=0
check() { # check DESC CMD...: one TAP line
	local desc=$1
	shift
	N=$((N + 1))
	if "$@" >"$WORK/.check" 2>&1; then
		echo "ok $N - $desc"
	else
		echo "not ok $N - $desc"
		sed 's/^/#   /' "$WORK/.check"
		FAILED=$((FAILED + 1))
	fi
}
contains() { grep -Eq -- "$2" <<<"$1" || { echo "wanted /$2/ in:"; echo "$1"; return 1; }; }

PKGS=(certstore libcertstore0 libcertstore-dev openssl-provider-certstore certstore-pkcs11
	cockpit-certstore)
DEBS=()
for p in "${PKGS[@]}"; do DEBS+=("$WORK/${p}_"*.deb); done # not the -dbgsym ones
export DEBIAN_FRONTEND=noninteractive

echo "== apt-get install ./certstore*.deb ..."
check "apt-get installs the packages" \
	apt-get install -y --no-install-recommends "${DEBS[@]}"
for p in "${PKGS[@]}"; do dpkg -L "$p"; done | sort -u >"$WORK/installed.list"

echo "== what the install did"
check "/var/lib/certstore exists, root:root 0700" \
	test "$(stat -c '%U:%G %a' /var/lib/certstore)" = "root:root 700"
check "... and is empty: no store, no token (certstore init is the admin's)" \
	test -z "$(ls -A /var/lib/certstore)"
check "/usr/bin/certstore runs" /usr/bin/certstore --help
check "the Cockpit page is where cockpit-bridge looks for packages" \
	test -f /usr/share/cockpit/certstore/manifest.json
MODULESDIR=$(pkg-config --variable=modulesdir libcrypto)
check "the provider is in OpenSSL's modules dir ($MODULESDIR)" test -f "$MODULESDIR/certstore.so"
OUT=$(openssl list -providers -provider default -provider certstore 2>&1 || true)
check "openssl -provider certstore loads it from there" contains "$OUT" "certstore"
OUT=$(p11-kit list-modules 2>&1 || true)
check "p11-kit list-modules shows the module (registered in /usr/share/p11-kit/modules)" \
	contains "$OUT" "^certstore: /.*/pkcs11/certstore-pkcs11.so"
check "the units are verified by systemd-analyze" \
	systemd-analyze verify /lib/systemd/system/certstore-agent.socket \
	/lib/systemd/system/certstore-agent.service /lib/systemd/system/certstore-tick.timer \
	/lib/systemd/system/certstore-tick.service
check "certstore-agent.socket is enabled (sockets.target)" \
	test -L /etc/systemd/system/sockets.target.wants/certstore-agent.socket
check "certstore-tick.timer is enabled (timers.target)" \
	test -L /etc/systemd/system/timers.target.wants/certstore-tick.timer

cat >"$WORK/use-lib.c" <<'C'
#include <certstore.h>
int main(void) { return cs_store_default_dir() == 0; }
C
check "libcertstore-dev: a program includes <certstore.h> and links (pkg-config certstore)" \
	sh -c "cc -o '$WORK/use-lib' '$WORK/use-lib.c' \$(pkg-config --cflags --libs certstore) && '$WORK/use-lib'"

echo "== the demo against the installed files"
check "scripts/demo.sh /usr/bin/certstore" "$SRC/scripts/demo.sh" /usr/bin/certstore
tail -n 3 "$WORK/.check"

echo "== the packaged path: /var/lib/certstore, the agent's socket unit, nginx"
. "$SRC/tests/lib/pki.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/certstore-pkg.XXXXXX")
NGINX_PID= AGENT_PID=
cleanup() {
	[ -z "$NGINX_PID" ] || { kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; }
	[ -z "$AGENT_PID" ] || { kill "$AGENT_PID" 2>/dev/null; wait "$AGENT_PID" 2>/dev/null; }
	rm -rf "$T"
}
trap cleanup EXIT
unset CERTSTORE_DIR
check "certstore init (the default store, /var/lib/certstore)" certstore init
certstore ca create-local pkg --cn "certstore package CA" >/dev/null
fp=$(certstore ca roots pkg | sed -n 's/.*SHA-256 \([0-9A-F]*\).*/\1/p' | head -1)
check "the local CA's root is trusted (ca roots --trust)" \
	certstore ca roots pkg --trust --expect-fingerprint "$fp"
check "trust list shows the store's root (p11-kit trust through the module)" \
	contains "$(trust list --filter=ca-anchors 2>&1)" "certstore package CA"
check "certstore request: a key in the token, a certificate for localhost" \
	certstore request --cn localhost --san dns:localhost --san ip:127.0.0.1 --ca pkg \
	--friendly-name web
printf '\n[usage.Default]\ngroup = www-data\n' >>/var/lib/certstore/certstore.conf
check "certstore assign web --usage Default" certstore assign web --usage Default
# What systemd does for certstore-agent.socket: the socket, then the
# service's ExecStart with it (systemd-socket-activate passes it the same way).
SOCK=$(sed -n 's/^ListenStream=//p' /lib/systemd/system/certstore-agent.socket)
read -ra EXEC <<<"$(sed -n 's/^ExecStart=//p' /lib/systemd/system/certstore-agent.service)"
systemd-socket-activate -l "$SOCK" "${EXEC[@]}" 2>"$T/agent.log" &
AGENT_PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
chmod 0666 "$SOCK" # SocketMode=0666
# The snippet as the admin edits it: the agent line uncommented.
cp /etc/ssl/certstore-openssl.cnf /etc/ssl/certstore-openssl.cnf.orig
sed -i "s|^# agent = /run/certstore/agent.sock.*|agent = $SOCK|" /etc/ssl/certstore-openssl.cnf
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/tmp"
cat >"$T/nginx.conf" <<CONF
user www-data;
worker_processes 1;
daemon off;
pid $T/nginx.pid;
error_log $T/error.log;
events { worker_connections 16; }
http {
	access_log off;
	client_body_temp_path $T/tmp/body;
	proxy_temp_path $T/tmp/proxy;
	fastcgi_temp_path $T/tmp/fastcgi;
	uwsgi_temp_path $T/tmp/uwsgi;
	scgi_temp_path $T/tmp/scgi;
	server {
		listen 127.0.0.1:$PORT ssl;
		ssl_certificate     /var/lib/certstore/usages/Default/fullchain.pem;
		ssl_certificate_key /var/lib/certstore/usages/Default/key.pem;
		location / { return 200 "served from the packages\n"; }
	}
}
CONF
OPENSSL_CONF=/etc/ssl/certstore-openssl.cnf /usr/sbin/nginx -c "$T/nginx.conf" -e "$T/error.log" &
NGINX_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
OUT=$(curl -sS --max-time 20 --cacert /var/lib/certstore/published/roots.pem "https://localhost:$PORT/" 2>&1 || true)
check "nginx serves usage Default, its workers signing through the agent's socket" \
	contains "$OUT" "served from the packages"
[ "$FAILED" = 0 ] || { tail -n 5 "$T/error.log" "$T/agent.log" 2>/dev/null | sed 's/^/# /'; }
kill "$NGINX_PID" "$AGENT_PID" 2>/dev/null || true
wait "$NGINX_PID" "$AGENT_PID" 2>/dev/null || true
NGINX_PID= AGENT_PID=
mv /etc/ssl/certstore-openssl.cnf.orig /etc/ssl/certstore-openssl.cnf

echo "== apt-get purge, with a store holding certificates"
apt-get purge -y "${PKGS[@]}" >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; false; }
left=$(while read -r f; do
	[ "$f" != /. ] || continue
	if [ -d "$f" ]; then # a directory (or /lib): fine while another package owns it
		dpkg-query -S "$f" >/dev/null 2>&1 || echo "$f/"
		continue
	fi
	[ ! -e "$f" ] && [ ! -L "$f" ] || echo "$f"
done <"$WORK/installed.list")
check "every file dpkg -L listed is gone" test -z "$left"
[ -z "$left" ] || echo "$left" | sed 's/^/#   left: /'
check "the conffile /etc/ssl/certstore-openssl.cnf is gone" test ! -e /etc/ssl/certstore-openssl.cnf
check "no package of certstore is left in dpkg's database" \
	test -z "$(dpkg-query -W -f='${Package} ${Status}\n' "${PKGS[@]}" 2>/dev/null | grep -v 'not-installed')"
check "the store with certificates is kept" test -f /var/lib/certstore/store.db
check "... and purge says so, and how to remove it" \
	contains "$(tr '\n' ' ' <"$WORK/purge.log")" "/var/lib/certstore is kept.*rm -rf /var/lib/certstore"
cat "$WORK/purge.log" | grep -A4 "is kept" | sed 's/^/#   /' || true

echo "== install and purge with no store: the directory goes"
rm -rf /var/lib/certstore
apt-get install -y --no-install-recommends "${DEBS[@]}" >/dev/null 2>&1
check "installed again: /var/lib/certstore made again" test -d /var/lib/certstore
apt-get purge -y "${PKGS[@]}" >"$WORK/purge2.log" 2>&1
check "purged: the empty /var/lib/certstore is removed" test ! -e /var/lib/certstore
check "... silently" test -z "$(grep 'is kept' "$WORK/purge2.log")"

echo "1..$N"
[ "$FAILED" = 0 ] || { echo "package-install-check: $FAILED of $N checks failed" >&2; exit 1; }
echo "package-install-check: all $N checks passed"
