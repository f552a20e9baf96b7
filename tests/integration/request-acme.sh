#!/bin/bash
# ACME (RFC 8555) against Debian's pebble: the account key made in the token
# on first use and kept (acme/NAME.account), the root from pebble's management
# interface trusted on purpose, a request ending Valid in My — once with
# PEBBLE_VA_ALWAYS_VALID=1, once with pebble really fetching the http-01
# challenge from our responder while rejecting 40% of good nonces (badNonce
# retries) — and the faults: validation failing, the responder's port taken,
# pebble's TLS certificate not trusted, pebble gone; a name pebble's policy
# refuses (rejectedIdentifier, RFC 8555 6.7) is final: neither the request nor
# its key is kept, also when the refusal comes on --retrieve.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"
. "$(dirname "$0")/../lib/certsrv.sh"
. "$(dirname "$0")/../lib/pebble.sh"

command -v pebble >/dev/null || { tap_skip "ACME tests" "pebble is not installed"; tap_done; }
make_token || tap_bail "cannot make the store's token"
PKI=$TEST_TMP/pki
my_count() { cs list My --json | count_listed; }
pending_count() { cs requests --json | grep -c '"id"'; }
last_id() { printf '%s' "$ERR" | sed -n 's/.*--retrieve \([0-9]*\).*/\1/p' | tail -1; }

# --- always valid: the account, the root, a Valid certificate ---------------------
start_pebble acme always-valid 0 blocked.example
before=$(token_count)
run_cs request --cn acme.example --san dns:acme.example --ca acme
tap_is "$RC" 0 "request --ca acme: exit 0"
tap_like "$OUT" "Status: +Untrusted root" "before ca roots: Untrusted root"
tap_like "$ERR" "made the ACME account key for acme in the token" "the account key is made"
tap_is "$(token_count)" $((before + 4)) "account key pair and request key pair in the token"
tap_is "$(stat -c %a "$STORE/acme/acme.account")" 600 "acme/acme.account is 0600"
tap_like "$(cat "$STORE/acme/acme.account")" "^key = pkcs11:" "the account file names the key"
tap_like "$(cat "$STORE/acme/acme.account")" "account = https://127.0.0.1:$PEBBLE_PORT/" \
	"the account file has the account URL"
run_cs ca roots acme
tap_like "$OUT" "root +CN=Pebble Root CA" "ca roots acme: pebble's root from /roots/0"
fp=$(printf '%s' "$OUT" | sed -n 's/.*SHA-256 \([0-9A-F]\{64\}\).*/\1/p' | head -1)
run_cs ca roots acme --trust --expect-fingerprint "$fp"
tap_is "$RC" 0 "ca roots acme --trust: exit 0"
before=$(token_count)
run_cs request --cn www.acme.example --san dns:www.acme.example --key ec:p256 --ca acme \
	--usage Default
tap_is "$RC" 0 "second request: exit 0"
tap_like "$OUT" "Status: +Valid" "second request: Valid"
tap_unlike "$ERR" "made the ACME account key" "second request: the account key is reused"
tap_is "$(token_count)" $((before + 2)) "second request: only the request's key is new"
tap_like "$(openssl x509 -in "$STORE/usages/Default/cert.pem" -noout -ext subjectAltName)" \
	"DNS:www.acme.example" "the certificate has the requested name"
tap_like "$(grep -c 'BEGIN CERTIFICATE' "$STORE/usages/Default/chain.pem")" "^[1-9]" \
	"the chain pebble sent is published with it"
tap_is "$(pending_count)" 0 "nothing left pending"

# --- a name the CA's policy refuses: final -----------------------------------------------
# A new order from the same request names the same names: kept, the request
# could only be refused again, and each retry left a key pair in the token.
before=$(token_count)
run_cs request --cn www.blocked.example --san dns:www.blocked.example --ca acme
tap_is "$RC" 12 "rejectedIdentifier: exit 12"
tap_like "$ERR" "rejectedIdentifier .*issuance is forbidden by policy" "rejectedIdentifier: pebble's words"
tap_like "$ERR" "nothing kept: request [0-9]+ and its new key were removed" \
	"rejectedIdentifier: says what was removed"
tap_is "$(pending_count)" 0 "rejectedIdentifier: the request is not kept"
tap_is "$(token_count)" "$before" "rejectedIdentifier: nor its key"
# Kept while the CA cannot be reached; --retrieve then starts the order and
# meets the refusal.
cp "$STORE/certstore.conf" "$TEST_TMP/conf.acme"
sed -i "s|^url = https://127.0.0.1:$PEBBLE_PORT/dir|url = https://127.0.0.1:$(free_port)/dir|" \
	"$STORE/certstore.conf"
run_cs request --cn blocked.example --san dns:blocked.example --ca acme
tap_is "$RC" 17 "CA unreachable: exit 17, the request kept"
id=$(last_id)
tap_is "$(token_count)" $((before + 2)) "CA unreachable: its key waits in the token"
cp "$TEST_TMP/conf.acme" "$STORE/certstore.conf"
run_cs request --retrieve "$id"
tap_is "$RC" 12 "rejectedIdentifier on --retrieve: exit 12"
tap_like "$ERR" "nothing kept: request $id and its new key were removed" \
	"rejectedIdentifier on --retrieve: says what was removed"
tap_is "$(pending_count)" 0 "rejectedIdentifier on --retrieve: the request is not kept"
tap_is "$(token_count)" "$before" "rejectedIdentifier on --retrieve: nor its key"

# --- an order the CA no longer knows: a new order for the same request ---------------------
# A CA purges expired orders (pebble forgets all of them on restart); the
# store's record of the order URL is set by hand to one pebble never made.
sed -i "s|^url = https://127.0.0.1:$PEBBLE_PORT/dir|url = https://127.0.0.1:$(free_port)/dir|" \
	"$STORE/certstore.conf"
run_cs request --cn forgotten.example --san dns:forgotten.example --ca acme
tap_is "$RC" 17 "forgotten order: kept while the CA is unreachable"
id=$(last_id)
cp "$TEST_TMP/conf.acme" "$STORE/certstore.conf"
sqlite3 "$STORE/store.db" "UPDATE requests SET ca_request_id =
	'https://127.0.0.1:$PEBBLE_PORT/my-order/never-made' WHERE id = $id"
key=$(cs requests --json | sed -n 's/.*"key_uri": "\([^"]*\)".*/\1/p' | head -1)
tokens=$(token_count)
run_cs request --retrieve "$id"
tap_is "$RC" 0 "forgotten order: --retrieve issues (exit 0)"
tap_like "$ERR" "no longer knows order https://127.0.0.1:$PEBBLE_PORT/my-order/never-made; starting a new order" \
	"forgotten order: says it starts a new order"
tap_like "$OUT" "Status: +Valid" "forgotten order: Valid"
tap_is "$(pending_count)" 0 "forgotten order: nothing left pending"
tap_is "$(token_count)" "$tokens" "forgotten order: no new key, the request's own"
tap_like "$(cs show forgotten.example --json)" "\"key_uri\": \"$key\"" \
	"forgotten order: the certificate is bound to the request's key"
stop_pebble

# --- real http-01 validation, with badNonce ---------------------------------------------
start_pebble real http01 40
cs ca roots real --trust >/dev/null 2>&1
run_cs request --cn real.example --san dns:real.example --san dns:www.real.example --ca real
tap_is "$RC" 0 "http-01 validated by pebble: exit 0"
tap_like "$OUT" "Status: +Valid" "http-01: Valid"
tap_like "$(cat "$TEST_TMP/pebble-real/log")" \
	"Attempting to validate w/ HTTP: http://www.real.example:$HTTP01_PORT/" \
	"http-01: pebble fetched the challenge from our responder"
tap_like "$ERR" "rejected the nonce; trying again" "badNonce: retried"
tap_unlike "$(grep -i 'PEBBLE_VA_ALWAYS_VALID is enabled' "$TEST_TMP/pebble-real/log")" . \
	"http-01: validation was not skipped"

# --- faults ------------------------------------------------------------------------------
# expect_fault DESC CODE ERE PROFILE: nothing in My, the request and its key kept.
expect_fault() {
	local desc=$1 code=$2 ere=$3 profile=$4 my tokens id before
	my=$(my_count)
	tokens=$(token_count)
	run_cs request --cn fault.example --san dns:fault.example --ca "$profile"
	tap_is "$RC" "$code" "$desc: exit $code"
	tap_like "$ERR" "$ere" "$desc: says what is wrong"
	tap_is "$(my_count)" "$my" "$desc: nothing installed in My"
	tap_is "$(pending_count)" 1 "$desc: the request is kept"
	tap_is "$(token_count)" $((tokens + 2)) "$desc: its key is kept"
	id=$(cs requests --json | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | head -1)
	before=$(store_snapshot)
	tokens=$(token_objects)
	run_cs request --retrieve "$id"
	tap_is "$RC" "$code" "$desc, asked again: exit $code"
	tap_is "$(store_snapshot)" "$before" "$desc, asked again: store unchanged"
	tap_is "$(token_objects)" "$tokens" "$desc, asked again: token unchanged"
	cs requests --cancel "$id" >/dev/null
}

# the responder listens where pebble does not look: validation fails
sed -n '/^\[ca.real\]/,/^$/p' "$STORE/certstore.conf" | sed 's/^\[ca.real\]/[ca.elsewhere]/' |
	sed "s/^listen = .*/listen = 127.0.0.1:$(free_port)/" >>"$STORE/certstore.conf"
cs request --cn warmup.example --ca elsewhere >/dev/null 2>&1 # the account file, first
cs requests --cancel "$(cs requests --json | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | head -1)" \
	>/dev/null
expect_fault "http-01 not answered" 12 "CA elsewhere could not validate fault.example" elsewhere
# The squatter says when it listens: a fixed pause was too short for a
# Python started with the sanitizer runtimes preloaded.
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", '"$HTTP01_PORT"')); s.listen(); open(sys.argv[1], "w").close(); time.sleep(60)' \
	"$TEST_TMP/squatting" &
squatter=$!
bg $squatter
for _ in $(seq 300); do [ -e "$TEST_TMP/squatting" ] && break; sleep 0.1; done
[ -e "$TEST_TMP/squatting" ] || tap_bail "the port squatter did not start"
expect_fault "the responder's port is taken" 2 "cannot listen on 127.0.0.1:$HTTP01_PORT" real
kill "$squatter"
sed -n '/^\[ca.real\]/,/^$/p' "$STORE/certstore.conf" | sed 's/^\[ca.real\]/[ca.untrusted]/' |
	grep -v '^ca-file' >>"$STORE/certstore.conf"
expect_fault "pebble's TLS certificate not in Root" 18 "TLS certificate of CA untrusted .* is not trusted" untrusted
stop_pebble
expect_fault "pebble gone" 17 "cannot reach CA real" real
tap_done
