# pebble.sh - Debian's pebble (an ACME test CA) for the integration tests
# (source it after common.sh, token.sh and certsrv.sh).
#
#   start_pebble NAME [always-valid|http01] [NONCE-REJECT-PERCENT] [BLOCKED-DOMAIN]
#       makes pebble's TLS certificate for 127.0.0.1 (Debian ships none),
#       writes its config (httpPort = our http-01 responder's port), starts it
#       with PEBBLE_VA_NOSLEEP=1 and adds [ca.NAME] (protocol acme, ca-file =
#       the TLS root, listen = 127.0.0.1:httpPort, email (the account
#       contact), roots-url = the management
#       interface's /roots/0).  http01: pebble really fetches the challenge;
#       names resolve through pebble-challtestsrv's DNS, which answers
#       127.0.0.1 for every name (pebble's own resolver would ask the
#       system's, which knows no test names).  BLOCKED-DOMAIN goes to
#       pebble's domainBlocklist: an order for it or a name under it is
#       refused with rejectedIdentifier.
#   stop_pebble     stops it by PID (also done at exit)

pebble_tls() {
	[ -f "$PKI/pebbletls.crt" ] && return 0
	mkdir -p "$PKI" &&
	pki_root "$PKI" pebbletls "Pebble TLS Root" &&
	pki_issue "$PKI" pebble localhost pebbletls server
}

start_dns() {
	local dns_port=$1 mgmt_port i
	mgmt_port=$(free_port)
	# Go programs do not run with the sanitizer runtimes preloaded.
	env -u LD_PRELOAD pebble-challtestsrv -dns01 "127.0.0.1:$dns_port" -http01 "" -https01 "" -tlsalpn01 "" \
		-management "127.0.0.1:$mgmt_port" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
		>>"$TEST_TMP/challtestsrv.log" 2>&1 &
	bg $!
	for i in $(seq 100); do
		curl -s --max-time 2 "http://127.0.0.1:$mgmt_port/" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

start_pebble() {
	local name=$1 va=${2:-always-valid} reject=${3:-0} dir=$TEST_TMP/pebble-$1 dns_port i
	local blocked=${4:+\"$4\"}
	local -a env=(PEBBLE_VA_NOSLEEP=1 "PEBBLE_WFE_NONCEREJECT=$reject")
	pebble_tls || tap_bail "cannot make pebble's TLS certificate"
	mkdir -p "$dir"
	PEBBLE_PORT=$(free_port)
	PEBBLE_MGMT=$(free_port)
	HTTP01_PORT=$(free_port)
	cat >"$dir/config.json" <<JSON
{"pebble": {
  "listenAddress": "127.0.0.1:$PEBBLE_PORT",
  "managementListenAddress": "127.0.0.1:$PEBBLE_MGMT",
  "certificate": "$PKI/pebble.crt",
  "privateKey": "$PKI/pebble.key",
  "httpPort": $HTTP01_PORT,
  "tlsPort": $(free_port),
  "ocspResponderURL": "",
  "externalAccountBindingRequired": false,
  "domainBlocklist": [$blocked]
}}
JSON
	dns_port=$(free_port)
	start_dns "$dns_port" || tap_bail "pebble-challtestsrv did not start"
	[ "$va" = always-valid ] && env+=(PEBBLE_VA_ALWAYS_VALID=1)
	env -u LD_PRELOAD "${env[@]}" pebble -config "$dir/config.json" -dnsserver "127.0.0.1:$dns_port" \
		>>"$dir/log" 2>&1 &
	PEBBLE_PID=$!
	bg $PEBBLE_PID
	for i in $(seq 100); do
		curl -sf --max-time 2 --cacert "$PKI/pebbletls.crt" "https://127.0.0.1:$PEBBLE_PORT/dir" \
			>/dev/null 2>&1 && break
		sleep 0.1
	done
	[ "$i" -lt 100 ] || tap_bail "pebble did not start (see $dir/log)"
	printf '\n[ca.%s]\nprotocol = acme\nurl = https://127.0.0.1:%s/dir\nca-file = %s\nlisten = 127.0.0.1:%s\nroots-url = https://127.0.0.1:%s/roots/0\nemail = admin@certstore.test\n' \
		"$name" "$PEBBLE_PORT" "$PKI/pebbletls.crt" "$HTTP01_PORT" "$PEBBLE_MGMT" \
		>>"$STORE/certstore.conf"
}

stop_pebble() {
	kill "$PEBBLE_PID" 2>/dev/null
	wait "$PEBBLE_PID" 2>/dev/null
}
