#!/bin/bash
# Renewal: `renew` asks the CA that issued a certificate again (same key or a
# new one), the new certificate takes over every usage at once (hooks run),
# the old one is archived; `tick` does it by itself near expiry; an offline
# renewal completes when the CA's response is imported.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"

make_token || tap_bail "cannot make the store's token"
cs ca create-local lab >/dev/null && cs ca roots lab --trust >/dev/null ||
	tap_bail "cannot make the local CA"
cat >>"$STORE/certstore.conf" <<CONF

[usage.Default]
on-assign = '/bin/sh -c "echo \$CERTSTORE_THUMBPRINT >> $TEST_TMP/hook.log"'
CONF
cs request --cn web.example --san dns:web.example --ca lab --friendly-name web \
	--usage Default,Web >/dev/null || tap_bail "cannot get the first certificate"
OLD=$(cs usages --json | sed -n 's/.*"thumbprint": "\([0-9A-F]*\)".*/\1/p' | head -1)

usage_sha1() { # NAME
	cs usages --json | tr -d '\n ' | grep -o "\"usage\":\"$1\"[^}]*" |
		sed -n 's/.*"thumbprint":"\([0-9A-F]*\)".*/\1/p'
}
key_of() { cs show "$1" --json | sed -n 's/.*"key_uri": "\(.*\)",$/\1/p'; }

# --- renew with the same key --------------------------------------------------
run_cs renew web
tap_is "$RC" 0 "renew: exit 0"
tap_like "$OUT" "Status: +Valid" "renew: the new certificate is Valid"
NEW=$(usage_sha1 Default)
tap_unlike "$NEW" "^$OLD$" "renew: Default serves the new certificate"
tap_is "$(usage_sha1 Web)" "$NEW" "renew: Web moved too"
tap_is "$(key_of "$NEW")" "$(key_of "$OLD")" "renew: the same key by default"
tap_is "$(cs list My --json | count_listed)" 1 "renew: the old certificate is hidden"
tap_is "$(cs list My --all --json | count_listed)" 2 "renew: ... and archived (list --all)"
tap_like "$(cat "$TEST_TMP/hook.log" 2>/dev/null)" "$NEW" "renew: Default's hook ran for the new one"
tap_like "$(openssl x509 -in "$STORE/usages/Default/cert.pem" -noout -fingerprint -sha1 | tr -d :)" \
	"$NEW" "renew: usages/Default/cert.pem is the new certificate"

# --- renew with a new key ----------------------------------------------------------
before=$(token_count)
run_cs renew "$NEW" --new-key
tap_is "$RC" 0 "renew --new-key: exit 0"
NEWER=$(usage_sha1 Default)
tap_unlike "$(key_of "$NEWER")" "^$(key_of "$NEW")\$" "renew --new-key: another key"
tap_is "$(token_count)" $((before + 2)) "renew --new-key: the new key pair is in the token"

# --- tick renews what is close to expiry ----------------------------------------------
notafter=$(openssl x509 -in "$STORE/usages/Default/cert.pem" -noout -enddate | sed 's/notAfter=//')
run_cs tick
tap_is "$RC" 0 "tick far from expiry: exit 0"
tap_is "$(usage_sha1 Default)" "$NEWER" "tick far from expiry: nothing renewed"
soon=$(($(date -d "$notafter" +%s) - 10 * 86400))
OUT=$(CERTSTORE_NOW=$soon cs tick 2>&1)
RC=$?
tap_is "$RC" 0 "tick 10 days before expiry: exit 0"
tap_like "$OUT" "renewing CN=web.example" "tick: says what it renews"
tap_unlike "$(usage_sha1 Default)" "^$NEWER$" "tick: Default moved to the renewal"
TICKED=$(usage_sha1 Default)
tap_is "$(key_of "$TICKED")" "$(key_of "$NEWER")" "tick without [renew] new-key: the same key"

# --- [renew] renew-before and new-key decide what tick does -----------------------------
notafter=$(openssl x509 -in "$STORE/usages/Default/cert.pem" -noout -enddate | sed 's/notAfter=//')
early=$(($(date -d "$notafter" +%s) - 45 * 86400))
OUT=$(CERTSTORE_NOW=$early cs tick 2>&1)
tap_is "$(usage_sha1 Default)" "$TICKED" "45 days before expiry, renew-before 30 (default): nothing renewed"
printf '\n[renew]\nrenew-before = 60\nnew-key = yes\n' >>"$STORE/certstore.conf"
OUT=$(CERTSTORE_NOW=$early cs tick 2>&1)
RC=$?
tap_is "$RC" 0 "tick with renew-before = 60, 45 days before expiry: exit 0"
tap_like "$OUT" "renewing CN=web.example .*expires in less than 60 days" "tick: renews by renew-before"
LAST=$(usage_sha1 Default)
tap_unlike "$LAST" "^$TICKED$" "renew-before = 60: Default moved to the renewal"
tap_unlike "$(key_of "$LAST")" "^$(key_of "$TICKED")\$" "new-key = yes: the renewal has a new key"

# --- an offline renewal completes on import ------------------------------------------------
PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
cs import "$PKI/root.crt" --store Root >/dev/null
cs import "$PKI/inter.crt" >/dev/null
openssl pkcs12 -export -in "$PKI/leaf.crt" -inkey "$PKI/leaf.key" -passout pass:pw \
	-out "$TEST_TMP/leaf.pfx" 2>/dev/null
printf 'pw' >"$TEST_TMP/pw"
cs import "$TEST_TMP/leaf.pfx" --password-file "$TEST_TMP/pw" --friendly-name offline >/dev/null ||
	tap_bail "cannot import the PFX"
LEAF=$(pki_sha1 "$PKI/leaf.crt")
cs assign "$LEAF" --usage Mail >/dev/null || tap_bail "cannot assign Mail"
run_cs renew "$LEAF"
tap_is "$RC" 2 "renew without a recorded CA and without --ca/--out: exit 2"
run_cs renew "$LEAF" --out "$TEST_TMP/renew.pem"
tap_is "$RC" 0 "renew --out: exit 0"
openssl x509 -req -in "$TEST_TMP/renew.pem" -CA "$PKI/inter.crt" -CAkey "$PKI/inter.key" \
	-CAcreateserial -days 30 -copy_extensions copy -out "$TEST_TMP/renewed.pem" 2>/dev/null
run_cs import "$TEST_TMP/renewed.pem"
tap_is "$RC" 0 "import of the renewal: exit 0"
tap_is "$(usage_sha1 Mail)" "$(pki_sha1 "$TEST_TMP/renewed.pem")" "offline renewal: Mail moved"
tap_like "$(cs show "$LEAF" --json)" "\"archived\": true" "offline renewal: the old one is archived"
tap_done
