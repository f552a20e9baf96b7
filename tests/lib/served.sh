# served.sh - for the served-*.sh tests (source after common.sh, provider.sh,
# tls-servers.sh): a store with its local CA, two certificates web1 and web2
# for localhost, usage Default on web1 (group www-data, previous-grace 0, no
# on-assign hook), the key agent and $OSSL_CNF.
#
#   served_setup           the above; sets $WEB1, $WEB2, $ROOTS
#   handshake_sha1         the SHA-1 thumbprint the server on $PORT serves
#                          (verified against published/roots.pem), "" on failure
#   wait_handshake SHA1    until the server serves SHA1 (15 s at most)
#   usages_line            `certstore usages`'s line for Default
#   wait_gone PID...       until none of them runs (30 s at most)
#   children_of PID        the pids whose parent is PID, from /proc (pgrep
#                          hangs with the sanitizer runtimes preloaded)

served_setup() {
	needs_keys
	cs ca create-local lab --key ec:p256 --cn "served test CA" >/dev/null &&
		cs ca roots lab --trust >/dev/null || tap_bail "cannot make and trust the local CA"
	printf '\n[usage.Default]\ngroup = www-data\nprevious-grace = 0\n' >>"$STORE/certstore.conf"
	local n
	for n in 1 2; do
		cs request --cn localhost --san dns:localhost --san ip:127.0.0.1 --key ec:p256 \
			--ca lab --friendly-name "web$n" >/dev/null || tap_bail "cannot get certificate web$n"
	done
	WEB1=$(cs show web1 --json | sed -n 's/.*"thumbprint": "\([0-9A-F]*\)".*/\1/p' | head -1)
	WEB2=$(cs show web2 --json | sed -n 's/.*"thumbprint": "\([0-9A-F]*\)".*/\1/p' | head -1)
	cs assign "$WEB1" --usage Default >/dev/null || tap_bail "cannot assign web1"
	ROOTS=$STORE/published/roots.pem
	tls_agent_setup
	USAGE=Default
}

handshake_sha1() {
	local out
	out=$(timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
		-CAfile "$ROOTS" -verify_return_error </dev/null 2>&1) &&
		grep -q 'Verify return code: 0 (ok)' <<<"$out" &&
		openssl x509 -noout -fingerprint -sha1 <<<"$out" 2>/dev/null | sed 's/.*=//; s/://g'
}

wait_handshake() {
	local i got=
	for i in $(seq 75); do
		got=$(handshake_sha1)
		[ "$got" = "$1" ] && return 0
		sleep 0.2
	done
	echo "the server serves '$got'"
	return 1
}

usages_line() {
	cs usages | grep '^Default '
}

wait_gone() {
	local i pid alive
	for i in $(seq 150); do
		alive=
		for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ -z "$alive" ] && return 0
		sleep 0.2
	done
	echo "still running: $*"
	return 1
}

children_of() {
	local stat
	for stat in /proc/[0-9]*/stat; do
		# field 4 is the parent's pid; comm (field 2) may hold spaces: cut after ")"
		awk -v p="$1" '{ sub(/^.*\) /, ""); if ($2 == p) { split(FILENAME, f, "/"); print f[3] } }' \
			"$stat" 2>/dev/null
	done
}
