# tls-servers.sh - real TLS servers serving a store certificate whose key is
# a PEM key reference (source it after common.sh and provider.sh).
#
#   tls_setup                  PKI, store, token with the keys, usage Default
#                              (P-256) and usage WebRSA (RSA-2048), both with
#                              group = www-data, the key agent, and
#                              $OSSL_CNF: the openssl.cnf snippet loading the
#                              provider (module =, store =, agent =)
#   tls_agent_setup            only the agent and $OSSL_CNF, for a store made
#                              otherwise (e.g. with its local CA)
#   tls_start NAME             starts server NAME (nginx haproxy apache2
#                              stunnel4 lighttpd) on a free port serving
#                              usage $USAGE: sets $PORT, $SERVER_PID, $SRV_DIR
#   tls_stop                   stops it by PID
#   tls_curl                   curl verifying the chain against the store's
#                              published roots; output in $OUT, exit in $RC
#
# The servers run as root and drop to www-data for the work that signs:
# their key operations go through `certstore agent` on $AGENT_SOCK.

tls_setup() {
	PKI=$TEST_TMP/pki
	pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/rsa.key" 2>/dev/null &&
		openssl req -new -key "$PKI/rsa.key" -subj "/O=certstore tests/CN=rsa.test" -out "$PKI/rsa.csr" &&
		pki_extensions server rsa.test >"$PKI/rsa.ext" &&
		openssl x509 -req -in "$PKI/rsa.csr" -CA "$PKI/inter.crt" -CAkey "$PKI/inter.key" \
			-CAcreateserial -days 30 -extfile "$PKI/rsa.ext" -extensions ext \
			-out "$PKI/rsa.crt" 2>/dev/null || tap_bail "cannot make the RSA certificate"
	cs import "$PKI/root.crt" --store Root >/dev/null &&
		cs import "$PKI/inter.crt" >/dev/null &&
		cs import "$PKI/leaf.crt" --friendly-name "EC server" >/dev/null &&
		cs import "$PKI/rsa.crt" --friendly-name "RSA server" >/dev/null || tap_bail "cannot fill the store"
	needs_keys
	bind_key "EC server" "$PKI/leaf.key" && bind_key "RSA server" "$PKI/rsa.key" ||
		tap_bail "cannot put the keys in the token"
	rm -f "$PKI/leaf.key" "$PKI/rsa.key"
	printf '\n[usage.Default]\ngroup = www-data\n\n[usage.WebRSA]\ngroup = www-data\n' \
		>>"$STORE/certstore.conf"
	cs assign "EC server" --usage Default >/dev/null &&
		cs assign "RSA server" --usage WebRSA >/dev/null || tap_bail "cannot assign the usages"

	tls_agent_setup
	ROOTS=$STORE/published/roots.pem
	[ -f "$ROOTS" ] || ROOTS=$PKI/root.crt
	USAGE=Default
}

# The key agent for unprivileged workers on $AGENT_SOCK ($AGENT_PID, stopped
# on exit) and $OSSL_CNF, the openssl.cnf snippet loading the provider with
# module =, store = and agent =.  The store must have its token already.
tls_agent_setup() {
	# The store (token, PIN, database) stays root-only; workers reach only
	# the agent's socket, through directories they may traverse.
	chmod 0711 "$TEST_TMP"
	mkdir -p "$TEST_TMP/run" && chmod 0755 "$TEST_TMP/run"
	AGENT_SOCK=$TEST_TMP/run/agent.sock
	CERTSTORE_AGENT_TRACE=1 "$CERTSTORE" --store-dir "$STORE" agent --socket "$AGENT_SOCK" \
		2>"$TEST_TMP/agent.log" &
	AGENT_PID=$!
	bg "$AGENT_PID"
	for _ in $(seq 50); do [ -S "$AGENT_SOCK" ] && break; sleep 0.1; done
	[ -S "$AGENT_SOCK" ] || tap_bail "the key agent did not start: $(cat "$TEST_TMP/agent.log")"

	OSSL_CNF=$TEST_TMP/openssl.cnf
	sed -e "s|^module = certstore.so\$|module = $PROVIDER_DIR/certstore.so|" \
		-e "s|^# store = .*|store = $STORE|" \
		-e "s|^activate = 1\$|&|" "$top_srcdir/provider/certstore-openssl.cnf" >"$OSSL_CNF"
	sed -i "/^\[certstore_sect\]/a agent = $AGENT_SOCK" "$OSSL_CNF"
}

tls_conf_nginx() {
	mkdir -p "$SRV_DIR/tmp"
	cat <<EOF2
user www-data;
worker_processes 2;
daemon off;
master_process on;
pid $SRV_DIR/pid;
error_log $SRV_DIR/error.log info;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $SRV_DIR/tmp/body;
	proxy_temp_path $SRV_DIR/tmp/proxy;
	fastcgi_temp_path $SRV_DIR/tmp/fastcgi;
	uwsgi_temp_path $SRV_DIR/tmp/uwsgi;
	scgi_temp_path $SRV_DIR/tmp/scgi;
	server {
		listen 127.0.0.1:$PORT ssl;
		ssl_certificate $UDIR/fullchain.pem;
		ssl_certificate_key $UDIR/key.pem;
		location / { return 200 "served by nginx\n"; }
	}
}
EOF2
}

tls_conf_haproxy() {
	cp "$UDIR/fullchain.pem" "$SRV_DIR/site.pem"
	cp "$UDIR/key.pem" "$SRV_DIR/site.pem.key"
	cat <<EOF2
global
	user www-data
	group www-data
	ssl-load-extra-files key
defaults
	mode http
	timeout connect 5s
	timeout client 5s
	timeout server 5s
frontend tls
	bind 127.0.0.1:$PORT ssl crt $SRV_DIR/site.pem
	http-request return status 200 content-type text/plain string "served by haproxy"
EOF2
}

tls_conf_apache2() {
	local m=/usr/lib/apache2/modules
	mkdir -p "$SRV_DIR/htdocs" && echo "served by apache2" >"$SRV_DIR/htdocs/index.html"
	chmod -R a+rX "$SRV_DIR/htdocs"
	cat <<EOF2
ServerRoot /etc/apache2
DefaultRuntimeDir $SRV_DIR
LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule dir_module $m/mod_dir.so
LoadModule socache_shmcb_module $m/mod_socache_shmcb.so
LoadModule ssl_module $m/mod_ssl.so
ServerName localhost
Listen 127.0.0.1:$PORT https
PidFile $SRV_DIR/pid
ErrorLog $SRV_DIR/error.log
LogLevel info ssl:info
User www-data
Group www-data
StartServers 1
DocumentRoot $SRV_DIR/htdocs
<Directory $SRV_DIR/htdocs>
	Require all granted
</Directory>
SSLSessionCache none
<VirtualHost 127.0.0.1:$PORT>
	SSLEngine on
	SSLCertificateFile $UDIR/fullchain.pem
	SSLCertificateKeyFile $UDIR/key.pem
</VirtualHost>
EOF2
}

tls_conf_stunnel4() {
	# The backend reads the whole request head before answering: closing a
	# socket with unread data sends a reset, and curl may then see nothing.
	cat >"$SRV_DIR/backend.sh" <<'SH'
#!/bin/sh
while IFS= read -r line; do
	line=$(printf '%s' "$line" | tr -d '\r')
	[ -z "$line" ] && break
done
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nserved by stunnel\n'
SH
	chmod 0755 "$SRV_DIR/backend.sh"
	cat <<EOF2
foreground = yes
pid = $SRV_DIR/pid
setuid = www-data
setgid = www-data
debug = info
[https]
accept = 127.0.0.1:$PORT
cert = $UDIR/fullchain.pem
key = $UDIR/key.pem
exec = $SRV_DIR/backend.sh
EOF2
}

tls_conf_lighttpd() {
	mkdir -p "$SRV_DIR/htdocs" && echo "served by lighttpd" >"$SRV_DIR/htdocs/index.html"
	chmod -R a+rX "$SRV_DIR/htdocs"
	cat <<EOF2
server.modules = ("mod_openssl")
server.document-root = "$SRV_DIR/htdocs"
server.bind = "127.0.0.1"
server.port = $PORT
server.pid-file = "$SRV_DIR/pid"
server.errorlog = "$SRV_DIR/error.log"
server.username = "www-data"
server.groupname = "www-data"
index-file.names = ("index.html")
ssl.engine = "enable"
ssl.pemfile = "$UDIR/fullchain.pem"
ssl.privkey = "$UDIR/key.pem"
EOF2
}

tls_start() {
	local name=$1
	PORT=$(free_port)
	SRV_DIR=$TEST_TMP/srv-$name-$USAGE
	UDIR=$STORE/usages/$USAGE
	# Some servers write their pid file and log after dropping privileges.
	mkdir -p "$SRV_DIR" && chmod 0755 "$SRV_DIR" && chown www-data: "$SRV_DIR"
	"tls_conf_$name" >"$SRV_DIR/conf"
	local -a argv
	case $name in
	nginx) argv=(nginx -c "$SRV_DIR/conf" -e "$SRV_DIR/error.log") ;;
	haproxy) argv=(haproxy -db -f "$SRV_DIR/conf") ;;
	apache2) argv=(apache2 -f "$SRV_DIR/conf" -DFOREGROUND) ;;
	stunnel4) argv=(stunnel4 "$SRV_DIR/conf") ;;
	lighttpd) argv=(lighttpd -D -f "$SRV_DIR/conf") ;;
	esac
	# Started directly (env execs the server), so that $! is the server's
	# own PID: a subshell's PID would leave the server running after tls_stop.
	env OPENSSL_CONF="$OSSL_CNF" LD_LIBRARY_PATH="$PROVIDER_DIR" "${argv[@]}" \
		>"$SRV_DIR/out.log" 2>&1 &
	SERVER_PID=$!
	bg "$SERVER_PID"
	wait_port "$PORT"
}

tls_stop() {
	kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
}

tls_curl() {
	OUT=$(curl -sS --max-time 20 --cacert "$ROOTS" --resolve "$1:$PORT:127.0.0.1" \
		"https://$1:$PORT/" 2>&1)
	RC=$?
}

# What the server said, for a failure's diagnostics.
tls_server_log() {
	tail -n 5 "$SRV_DIR/out.log" "$SRV_DIR/error.log" 2>/dev/null
}
