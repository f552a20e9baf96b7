# est.sh - the EST fixture server for tests (source it after common.sh).
#
#   est_start               test PKI in $PKI, fixture in $EST_DIR on $EST_PORT
#                           (signs with the test root; TLS as leaf.test with
#                           inter; accepts client certificates under root)
#   est_profile NAME [KEYS] adds [ca.NAME] protocol = est, url = the fixture,
#                           plus KEYS (more "key = value" lines)
#   est_mode MODE           switches the fixture (see est_fixture.py)

EST_FIXTURE=$TESTS_LIB_DIR/../fixtures/est_fixture.py

est_start() {
	PKI=$TEST_TMP/pki
	EST_DIR=$TEST_TMP/est
	pki_make_all "$PKI" || return 1
	mkdir -p "$EST_DIR"
	cp "$PKI/root.crt" "$EST_DIR/ca.crt" && cp "$PKI/root.key" "$EST_DIR/ca.key" &&
		cp "$PKI/inter.crt" "$EST_DIR/chain.crt" &&
		cat "$PKI/leaf.crt" "$PKI/inter.crt" >"$EST_DIR/tls.crt" &&
		cp "$PKI/leaf.key" "$EST_DIR/tls.key" && cp "$PKI/root.crt" "$EST_DIR/client-ca.crt" &&
		cp "$PKI/leaf.crt" "$EST_DIR/wrong.crt" || return 1
	python3 "$EST_FIXTURE" "$EST_DIR" 2>"$EST_DIR/stderr.log" &
	EST_PID=$!
	bg "$EST_PID"
	local i
	for i in $(seq 100); do
		[ -s "$EST_DIR/port" ] && break
		sleep 0.1
	done
	EST_PORT=$(cat "$EST_DIR/port" 2>/dev/null)
	[ -n "$EST_PORT" ]
}

est_profile() {
	printf '\n[ca.%s]\nprotocol = est\nurl = https://127.0.0.1:%s\nconnect-timeout = 5\ntimeout = 20\n%s\n' \
		"$1" "$EST_PORT" "${2:-}" >>"$STORE/certstore.conf"
}

# est_trust_root NAME: the fixture's root in Root, bootstrapped by its
# fingerprint, for tests that start past the first contact.
est_trust_root() {
	cs ca roots "$1" --trust --expect-fingerprint "$(pki_sha256 "$PKI/root.crt")" >/dev/null ||
		tap_bail "cannot trust the EST CA"
}

est_mode() {
	echo "$1" >"$EST_DIR/mode"
}
