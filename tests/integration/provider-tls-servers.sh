#!/bin/bash
# nginx, haproxy, apache2 (mod_ssl), stunnel4 and lighttpd serve store
# certificates published by `certstore assign`, with the PEM key reference
# as their key file and the provider loaded only by the openssl.cnf snippet.
# Each starts as root and handshakes in processes running as www-data; the
# token stays root-only (0700) and its PIN unreadable to them: signatures
# go through `certstore agent`, which grants the key per usage
# ([usage.NAME] group = www-data).  curl verifies the chain against the
# store's published roots.  Twice: with the snippet as shipped, and with its
# [providers] section listing certstore BEFORE default (OpenSSL 3.0 then
# hands certstore every RSA and EC key, libssl's ephemeral ones included).
#
#   SERVERS="nginx haproxy"   limits the servers tried
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/provider.sh"
. "$(dirname "$0")/../lib/tls-servers.sh"

command -v curl >/dev/null || tap_bail "no curl (scripts/deps.sh installs it)"
[ "$(id -u)" = 0 ] || tap_bail "needs root: the servers drop privileges to www-data"
tls_setup
OSSL_CNF_SHIPPED=$OSSL_CNF
OSSL_CNF_FIRST=$TEST_TMP/openssl-certstore-first.cnf
sed -e '/^default = certstore_default_sect$/{h;d}' -e '/^machine-certstore = certstore_sect$/G' \
	"$OSSL_CNF_SHIPPED" >"$OSSL_CNF_FIRST"
grep -A2 '^\[certstore_providers\]' "$OSSL_CNF_FIRST" | tail -1 | grep -q '^default' ||
	tap_bail "cannot make the snippet that lists certstore first"

declare -A BIN=([nginx]=nginx [haproxy]=haproxy [apache2]=apache2 [stunnel4]=stunnel4 [lighttpd]=lighttpd)
declare -A HOSTS=([Default]=leaf.test [WebRSA]=rsa.test)

for ORDER in shipped first; do
if [ "$ORDER" = first ]; then OSSL_CNF=$OSSL_CNF_FIRST; else OSSL_CNF=$OSSL_CNF_SHIPPED; fi
for name in ${SERVERS:-nginx haproxy apache2 stunnel4 lighttpd}; do
	if ! command -v "${BIN[$name]}" >/dev/null; then
		tap_skip "$name" "not installed (scripts/deps.sh installs it)"
		continue
	fi
	for USAGE in Default WebRSA; do
		kind=$([ "$USAGE" = Default ] && echo P-256 || echo RSA-2048)
		[ "$ORDER" = first ] && kind="$kind, certstore listed first"
		before=$(wc -l <"$TEST_TMP/agent.log")
		if ! tls_start "$name"; then
			tap_fail "$name ($kind): starts with the key reference" "$(tls_server_log)"
			tls_stop
			continue
		fi
		tls_curl "${HOSTS[$USAGE]}"
		if [ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q "served by $name\|served by stunnel"; then
			tap_pass "$name ($kind): curl verifies the chain and gets the page"
		else
			tap_fail "$name ($kind): curl verifies the chain and gets the page" \
				"curl exit $RC: $OUT
$(tls_server_log)"
		fi
		tls_curl "${HOSTS[$USAGE]}" # a second handshake, maybe another worker
		# Key exchange on P-256 only: libssl's ephemeral keys and TLS groups
		# must stay with the default provider (its EC key management), not
		# reach certstore's.  stunnel once refused P-256 (design notes).
		out=$(timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -servername "${HOSTS[$USAGE]}" \
			-groups P-256 -CAfile "$ROOTS" -verify_return_error </dev/null 2>&1)
		tap_like "$out" "Server Temp Key: ECDH, prime256v1" \
			"$name ($kind): ECDHE on P-256 (the provider leaves ephemeral keys to default)"
		if [ "$name" = nginx ] && [ "$USAGE" = WebRSA ]; then
			# TLS 1.2 with RSA key exchange: the worker decrypts the
			# premaster secret with the token's key, through the agent.
			out=$(timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -servername rsa.test \
				-tls1_2 -cipher AES128-GCM-SHA256 -CAfile "$ROOTS" -verify_return_error \
				</dev/null 2>&1)
			tap_like "$out" "Cipher is AES128-GCM-SHA256" \
				"nginx (RSA-2048): a TLS 1.2 handshake with RSA key exchange"
		fi
		tls_stop
		signed=$(tail -n +"$((before + 1))" "$TEST_TMP/agent.log" | grep ' ok$')
		tap_like "$signed" "uid 33 gid 33 sign" \
			"$name ($kind): the handshakes were signed for www-data, through the agent"
		# One www-data line proves one handshake: the others could have been
		# signed elsewhere (a root master, a process with the token open).
		# Three TLS 1.3 handshakes (two curls, one s_client) sign three times.
		tap_is "$(grep ' sign ' <<<"$signed" | grep -Ev '^certstore-agent: (pid [0-9]+ )?uid 33 gid ')" "" \
			"$name ($kind): no signature through the agent for any uid but www-data's (33)"
		tap_ok "$name ($kind): every TLS 1.3 handshake (3) was signed through the agent" \
			test "$(grep -c 'uid 33 gid 33 sign' <<<"$signed")" -ge 3
		if [ "$name" = nginx ] && [ "$USAGE" = WebRSA ]; then
			tap_like "$signed" "uid 33 gid 33 decrypt" \
				"nginx (RSA-2048): the premaster secret was decrypted for www-data, through the agent"
		fi
	done
done
done

tap_done
