#!/bin/bash
# The key agent is a root daemon that any local user can connect to: what a
# hostile or broken peer can do to it.  Malformed and oversized requests
# (the protocol-1 request whose lengths overflowed a 32-bit sum and crashed
# the agent; the same lengths in protocol 2; another protocol version;
# random bytes) are refused and the agent keeps serving.  1,000 idle and 200
# half-sent connections from nobody do not stop www-data's signatures, the
# half-sent ones are closed at the request deadline, and the agent's threads
# stay bounded.  A client facing an agent that never answers fails within
# its timeout, with an error that says so.  A refusal or a token failure
# reaches the peer without the key's PKCS#11 URI.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB_DIR/provider.sh"
. "$TESTS_LIB_DIR/tls-servers.sh"

[ "$(id -u)" = 0 ] || tap_bail "needs root: peers run as www-data and nobody"
CS_SIGN=${top_builddir:-.}/tests/helpers/cs-sign
[ -x "$CS_SIGN" ] || tap_bail "no tests/helpers/cs-sign (run make check)"
# Python is a peer here, not code under test: no sanitizer runtimes in it.
peer() { env -u LD_PRELOAD timeout 120 python3 "$top_srcdir/tests/helpers/agent-peer.py" "$@"; }

PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
needs_keys
cs import "$PKI/root.crt" --store Root >/dev/null &&
	cs import "$PKI/inter.crt" >/dev/null &&
	cs import "$PKI/leaf.crt" --friendly-name web >/dev/null || tap_bail "cannot fill the store"
bind_key web "$PKI/leaf.key" || tap_bail "cannot put the key in the token"
SHA1=$(pki_sha1 "$PKI/leaf.crt")
KEYREF=$TEST_TMP/key.pem
cs export web --format keyref -o "$KEYREF" || tap_bail "cannot export the key reference"
# An RSA certificate and key too: protocol 1's overflow crashed in C_Decrypt.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_TMP/rsa.key" -out "$TEST_TMP/rsa.crt" \
	-subj /CN=rsa.test -days 30 2>/dev/null &&
	echo "rsa $$" >"$TEST_TMP/rsa.pass" &&
	openssl pkcs12 -export -in "$TEST_TMP/rsa.crt" -inkey "$TEST_TMP/rsa.key" -name rsa \
		-passout "file:$TEST_TMP/rsa.pass" -out "$TEST_TMP/rsa.pfx" &&
	cs import "$TEST_TMP/rsa.pfx" --password-file "$TEST_TMP/rsa.pass" >/dev/null ||
	tap_bail "cannot import the RSA key"
RSA_SHA1=$(pki_sha1 "$TEST_TMP/rsa.crt")
printf '\n[usage.Default]\ngroup = www-data\n' >>"$STORE/certstore.conf"
cs assign web --usage Default >/dev/null || tap_bail "cannot assign Default"

tls_agent_setup # the agent (traced to $TEST_TMP/agent.log) and $OSSL_CNF naming it
SOCK=$AGENT_SOCK
AGENT=$AGENT_PID
STORE_REAL=$(cd "$STORE" && pwd -P)

# worker_sign [COUNT]: cs-sign as www-data through the agent; $OUT, $RC.
worker_sign() {
	OUT=$(OPENSSL_CONF=$OSSL_CNF CERTSTORE_PROVIDER_DIR= timeout 60 "$CS_SIGN" \
		--pem --drop-to www-data --count "${1:-1}" "$KEYREF" 2>&1)
	RC=$?
}
alive() { kill -0 "$AGENT" 2>/dev/null; }
# alive_after OUTPUT: the peer ran (it printed something) and the agent lives.
alive_after() { [ -n "$1" ] && alive; }

worker_sign 2
tap_is "$RC:$OUT" "0:signed 2" "www-data signs through the agent"

# --- malformed requests ------------------------------------------------------------------
OUT=$(peer v1-overflow "$SOCK" "$STORE_REAL" "$RSA_SHA1")
tap_like "$OUT" "^answered [0-9]+ bytes$" \
	"a protocol-1 RSA decryption with inlen 0xFFFFFFFF and label_len 1 is refused at once, not run"
tap_ok "the agent lives" alive
worker_sign
tap_is "$RC:$OUT" "0:signed 1" "after it, www-data still signs"
OUT=$(peer v2-overflow "$SOCK" "$STORE_REAL" "$RSA_SHA1")
tap_like "$OUT" "rv 5: input length 4294967295 out of range" \
	"the same lengths in protocol 2 are refused, naming the field"
tap_ok "the agent lives" alive
OUT=$(peer --as-nobody version "$SOCK" "$STORE_REAL" "$SHA1")
tap_like "$OUT" "protocol version 3; this end speaks version 2" \
	"a request of another protocol version is refused, naming both versions"
OUT=$(peer --as-nobody garbage "$SOCK" 200)
tap_ok "200 connections of random bytes from nobody: the agent lives ($OUT)" alive_after "$OUT"
worker_sign
tap_is "$RC:$OUT" "0:signed 1" "after them, www-data still signs"

# --- resources held by another uid -----------------------------------------------------------
: >"$TEST_TMP/held" && chmod 0666 "$TEST_TMP/held"
peer --as-nobody hold "$SOCK" 1000 200 9 "$TEST_TMP/held" >"$TEST_TMP/hold.out" &
HOLDER=$!
bg "$HOLDER"
for _ in $(seq 300); do [ -s "$TEST_TMP/held" ] && break; sleep 0.1; done
tap_ok "nobody holds its connections open" test -s "$TEST_TMP/held"
read -r half_open idle_open <"$TEST_TMP/held"
threads=$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$AGENT/status")
rss=$(sed -n 's/^VmRSS:[[:space:]]*//p' "/proc/$AGENT/status")
fds=$(ls "/proc/$AGENT/fd" | wc -l)
tap_diag "agent while held: $threads threads, $fds descriptors, RSS $rss"
start=$(date +%s%N)
worker_sign 20
ms=$((($(date +%s%N) - start) / 1000000))
tap_is "$RC:$OUT" "0:signed 20" "while nobody holds 1,000 idle and 200 half-sent connections, www-data signs 20 times (${ms} ms)"
tap_ok "the agent's threads stay bounded ($threads: workers and the event loop)" test "${threads:-999}" -le 20
tap_is "$half_open" 200 "the 200 half-sent requests are open at first (under the per-uid cap)"
tap_is "$((half_open + idle_open))" 256 "nobody gets exactly the per-uid cap of 256 connections"
tap_ok "the agent holds no more descriptors than the cap and its own ($fds)" test "$fds" -le 300
wait "$HOLDER"
OUT=$(cat "$TEST_TMP/hold.out")
tap_like "$OUT" "after 10 s: 0 half-sent open" "every half-sent request was closed at the request deadline ($OUT)"
worker_sign
tap_is "$RC:$OUT" "0:signed 1" "afterwards, www-data still signs"

# --- what a peer is told -------------------------------------------------------------------
OUT=$(OPENSSL_CONF=$OSSL_CNF CERTSTORE_PROVIDER_DIR= timeout 60 "$CS_SIGN" \
	--pem --drop-to nobody "$KEYREF" 2>&1)
tap_like "$OUT" "uid 65534 may not use the key of $SHA1" "nobody is refused, by certificate"
tap_unlike "$OUT" "pkcs11:" "the refusal carries no PKCS#11 URI"
# A certificate whose key URI names nothing in the token: the agent's error
# names the URI; the peer's names the certificate only.
ORIG_URI=$(sqlite3 "$STORE/store.db" "SELECT key_uri FROM certs WHERE sha1 = '$SHA1' AND key_uri IS NOT NULL")
sqlite3 "$STORE/store.db" "UPDATE certs SET key_uri = 'pkcs11:token=gone;serial=0123456789abcdef;id=%01' WHERE sha1 = '$SHA1'" ||
	tap_bail "cannot point the key URI elsewhere"
worker_sign
tap_ok "a key the token does not have: the worker's signature fails (exit $RC)" test "$RC" != 0
tap_like "$OUT" "the key agent could not sign with the key of $SHA1" "the peer is told which certificate failed"
tap_unlike "$OUT" "pkcs11:|0123456789abcdef|serial" "the peer is not told the token's serial or the key's URI"
tap_like "$(cat "$TEST_TMP/agent.log")" "pkcs11:token=gone" "the agent's own log has the whole message"

# --- the agent as the token's owner for every process ----------------------------------------
# certstore.conf [token] agent = SOCK: a process with no agent in its
# openssl.cnf (here root, through CERTSTORE_PROVIDER_DIR) signs through it.
sqlite3 "$STORE/store.db" "UPDATE certs SET key_uri = '$ORIG_URI' WHERE sha1 = '$SHA1' AND key_uri IS NOT NULL"
cp "$STORE/certstore.conf" "$TEST_TMP/certstore.conf.orig"
sed -i "/^\[token\]/a agent = $SOCK" "$STORE/certstore.conf"
before=$(grep -c "uid 0 gid 0 sign $SHA1: ok" "$TEST_TMP/agent.log")
OUT=$(CERTSTORE_DIR=$STORE CERTSTORE_PROVIDER_DIR=$PROVIDER_DIR timeout 60 "$CS_SIGN" --pem --count 3 "$KEYREF" 2>&1)
tap_is "$OUT" "signed 3" "with [token] agent = in certstore.conf, a process signs without opening the token"
after=$(grep -c "uid 0 gid 0 sign $SHA1: ok" "$TEST_TMP/agent.log")
tap_is "$((after - before))" 3 "its three signatures went through the agent"
cp "$TEST_TMP/certstore.conf.orig" "$STORE/certstore.conf"

# --- an agent that never answers --------------------------------------------------------------
SILENT=$TEST_TMP/run/silent.sock
peer silent "$SILENT" 60 &
bg $!
for _ in $(seq 100); do [ -S "$SILENT" ] && break; sleep 0.1; done
sed -i "s|^agent = .*|agent = $SILENT|" "$OSSL_CNF"
start=$(date +%s)
OUT=$(OPENSSL_CONF=$OSSL_CNF CERTSTORE_PROVIDER_DIR= CERTSTORE_AGENT_TIMEOUT=2 \
	timeout 50 "$CS_SIGN" --pem --drop-to www-data "$KEYREF" 2>&1)
RC=$?
took=$(($(date +%s) - start))
tap_ok "a silent agent: the signature fails instead of hanging (exit $RC after ${took} s)" \
	test "$RC" = 1 -a "$took" -lt 30
tap_like "$OUT" "did not answer within 2 s" "the error says the agent did not answer in time"

tap_done
