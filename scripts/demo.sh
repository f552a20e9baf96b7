#!/bin/bash
# scripts/demo.sh [CERTSTORE] - the end-to-end demo on an already built binary.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
CERTSTORE=${1:-$SRC/build/certstore}
. "$SRC/tests/lib/pki.sh"

# The provider and the library it needs, uninstalled, beside a built binary;
# for an installed one (/usr/bin/certstore from the packages), the provider in
# OpenSSL's modules directory and the snippet the package put in /etc/ssl.
if [ -d "$(dirname "$CERTSTORE")/.libs" ]; then
	PROVIDER_DIR=$(cd "$(dirname "$CERTSTORE")/.libs" && pwd)
	SNIPPET=$SRC/provider/certstore-openssl.cnf
	MODULE=$PROVIDER_DIR/certstore.so
else
	PROVIDER_DIR=
	SNIPPET=/etc/ssl/certstore-openssl.cnf
	MODULE=certstore.so
fi

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/certstore-demo.XXXXXX")
NGINX_PID= AGENT_PID=
cleanup() {
	# nginx and the key agent are stopped by their PIDs, then the temp dir goes.
	[ -z "$NGINX_PID" ] || { kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; }
	[ -z "$AGENT_PID" ] || { kill "$AGENT_PID" 2>/dev/null; wait "$AGENT_PID" 2>/dev/null; }
	rm -rf "$DEMO"
}
trap cleanup EXIT
export CERTSTORE_DIR=$DEMO/store

step() {
	printf '\n$ certstore'
	printf ' %q' "$@"
	printf '\n'
	"$CERTSTORE" "$@"
}

echo "== a test PKI (root CA -> intermediate CA -> server certificate) in $DEMO/pki"
pki_make_all "$DEMO/pki"
cd "$DEMO/pki"

echo "== the store: $CERTSTORE_DIR"
# The store and its key token (a SoftHSM2 token under the store, PIN in a 0600 file).
step init
# Without --store Root the root is refused: trusting it is the admin's decision.
step import root.crt || echo "(exit $?: the root was not trusted implicitly)"
step import root.crt --store Root
# Without its key the server certificate says so: Missing private key.
step import leaf.crt inter.crt --friendly-name "demo web server"
step verify "demo web server" || echo "(exit $?: no private key yet)"
step delete "demo web server"
# The server certificate with its key, as a PFX: the key goes into the token.
echo "demo pfx password" >pfx.pass
openssl pkcs12 -export -in leaf.crt -inkey leaf.key -certfile inter.crt \
	-name "demo web server" -passout file:pfx.pass -out leaf.pfx
rm leaf.key # from here on the key exists only in the token
step import leaf.pfx --password-file pfx.pass
step list
step show "demo web server"
step verify "$(pki_sha1 inter.crt)"
step verify "demo web server"
# Not exportable (the default): the token itself refuses to let it out.
step export "demo web server" --format pfx -o out.pfx --password-file pfx.pass ||
	echo "(exit $?: the key is not exportable)"

echo
echo "== the Windows procedure: request -> issue -> trust the root -> Valid -> assign"
# A CA kept in the store, its key in the token: the embedded CA for labs and demos.
step ca create-local demo --cn "certstore demo CA"
# A key for localhost made in the token, the request signed with it and sent to the CA.
step request --cn localhost --san dns:localhost --san ip:127.0.0.1 --ca demo \
	--friendly-name "localhost web"
# Trusting the CA's root is the admin's decision: check its fingerprint, then --trust.
fp=$("$CERTSTORE" ca roots demo | sed -n 's/.*SHA-256 \([0-9A-F]*\).*/\1/p' | head -1)
step ca roots demo --trust --expect-fingerprint "$fp"
step verify "localhost web"
# nginx's workers run as www-data: the usage's files become readable by that
# group, and so does the use (never the material) of its key, via the agent.
printf '\n[usage.Default]\ngroup = www-data\n' >>"$CERTSTORE_DIR/certstore.conf"
step assign "localhost web" --usage Default
step usages
ls -l "$CERTSTORE_DIR/usages/Default/"
step log

echo
echo "== nginx serves usage Default: usages/Default/{fullchain,key}.pem through the provider"
# The token and its PIN stay root-only; www-data reaches only the agent's
# socket, which signs for the usages whose group it is in.
chmod 0711 "$DEMO"
mkdir -p "$DEMO/run" "$DEMO/nginx/tmp" && chmod 0755 "$DEMO/run" "$DEMO/nginx"
"$CERTSTORE" agent --socket "$DEMO/run/agent.sock" 2>"$DEMO/agent.log" &
AGENT_PID=$!
for _ in $(seq 50); do [ -S "$DEMO/run/agent.sock" ] && break; sleep 0.1; done
# openssl.cnf: the shipped snippet, pointed at the module, the store and the agent.
sed -e "s|^module = certstore.so\$|module = $MODULE|" \
	-e "s|^# store = .*|store = $CERTSTORE_DIR|" \
	-e "/^\[certstore_sect\]/a agent = $DEMO/run/agent.sock" \
	"$SNIPPET" >"$DEMO/openssl.cnf"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
N=$DEMO/nginx
cat >"$N/nginx.conf" <<CONF
user www-data;
worker_processes 2;
daemon off;
pid $N/pid;
error_log $N/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	server {
		listen 127.0.0.1:$PORT ssl;
		ssl_certificate     $CERTSTORE_DIR/usages/Default/fullchain.pem;
		ssl_certificate_key $CERTSTORE_DIR/usages/Default/key.pem;
		location / { return 200 "hello from nginx; its key never left the token\n"; }
	}
}
CONF
sed -n '/server {/,/^\t}/p' "$N/nginx.conf"
NGINX=(/usr/bin/env OPENSSL_CONF="$DEMO/openssl.cnf" LD_LIBRARY_PATH="$PROVIDER_DIR"
	/usr/sbin/nginx -c "$N/nginx.conf" -e "$N/error.log")
"${NGINX[@]}" &
NGINX_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
# Assigning or renewing now reloads nginx.  Hooks run with a clean
# environment, so the snippet and the library path are on the command line.
echo "on-assign = ${NGINX[*]} -s reload" >>"$CERTSTORE_DIR/certstore.conf"
echo
echo "$ cat \$CERTSTORE_DIR/certstore.conf"
cat "$CERTSTORE_DIR/certstore.conf"

echo
echo "$ curl --cacert \$CERTSTORE_DIR/published/roots.pem https://localhost:$PORT/"
curl -sS --max-time 20 --cacert "$CERTSTORE_DIR/published/roots.pem" "https://localhost:$PORT/"
echo
echo "$ OPENSSL_CONF=openssl.cnf openssl storeutl -certs certstore:My   (the provider's view)"
OPENSSL_CONF=$DEMO/openssl.cnf LD_LIBRARY_PATH=$PROVIDER_DIR timeout 60 \
	openssl storeutl -text -noout -certs certstore:My | grep -E '^[0-9]+: |^Total|Subject:'

# served: the SHA-1 fingerprint nginx serves, verified against the published roots.
served() {
	timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
		-CAfile "$CERTSTORE_DIR/published/roots.pem" -verify_return_error </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha1 2>/dev/null
}
echo
echo "$ openssl s_client -connect 127.0.0.1:$PORT ... | openssl x509 -noout -fingerprint -sha1"
before=$(served)
echo "$before"

echo
echo "== renewal: the local CA issues again, Default moves, the hook reloads nginx"
step renew "localhost web"
step usages
after=$before
for _ in $(seq 50); do # the reload is asynchronous: 10 s at most
	after=$(served || true)
	[ -z "$after" ] || [ "$after" = "$before" ] || break
	sleep 0.2
done
echo
echo "$ openssl s_client -connect 127.0.0.1:$PORT ... | openssl x509 -noout -fingerprint -sha1"
echo "$after"
if [ -z "$after" ] || [ "$after" = "$before" ]; then
	echo "demo: nginx still serves the old certificate after the renewal" >&2
	tail -n 5 "$N/error.log" >&2
	exit 1
fi
step log --usage Default
curl -sS --max-time 20 --cacert "$CERTSTORE_DIR/published/roots.pem" "https://localhost:$PORT/"

echo
echo "== stopping nginx (pid $NGINX_PID) and the key agent (pid $AGENT_PID)"
kill "$NGINX_PID" "$AGENT_PID"
wait "$NGINX_PID" "$AGENT_PID" 2>/dev/null || true
NGINX_PID= AGENT_PID=

echo
echo "demo: OK"
