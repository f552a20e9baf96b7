#!/bin/bash
# The offline flow as a Windows admin walks it (certreq -new, -submit, -accept)
# against the local CA: request IDs never reused, one view of the Request
# store, one verb (accept) for a response, `ca sign` for a request file, every
# certificate of a response reported (and a repeat said to be one), unique
# generated friendly names, the requested hash honoured; and the trust
# safeguards around it: Root takes only self-signed certificates, a root met
# again is "already trusted", `ca roots -o` saves without installing.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"

make_token || tap_bail "cannot make the store's token"
PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"
cs ca create-local lab >/dev/null || tap_bail "cannot create the local CA"

request_id() { # OUT of `request --out`: the ID it reports
	printf '%s' "$1" | sed -n 's/^request \([0-9]*\) pending.*/\1/p'
}

# --- certreq -new: request IDs name one request for the life of the store ------
run_cs request --cn fe01.example --san dns:fe01.example --out "$TEST_TMP/fe01.req"
id1=$(request_id "$OUT")
tap_like "$OUT" "then run \`certstore accept RESPONSE\`" "request --out: names the accept verb"
run_cs request --cn fe02.example --san dns:fe02.example --out "$TEST_TMP/fe02.req"
id2=$(request_id "$OUT")
cs requests --cancel "$id2" >/dev/null
run_cs request --cn fe03.example --san dns:fe03.example --out "$TEST_TMP/fe03.req"
id3=$(request_id "$OUT")
tap_ok "a cancelled request's ID is not given again ($id1 $id2 $id3)" \
	test -n "$id3" -a "$id3" -gt "$id2" -a "$id2" -gt "$id1"
tap_is "$(cs log --action request | grep -cE " request +pending $id2 ")" 1 \
	"the log names one request $id2"
tap_like "$(cs log --action request | grep " pending $id3 ")" \
	"key [0-9A-F]{40} rsa:2048 hash sha256 exportable no" \
	"the request's log entry records key type and size, hash, exportable"

# --- one view of the Request store ------------------------------------------------
run_cs list Request
tap_is "$RC" 0 "list Request: exit 0"
tap_like "$OUT" "^$id1 +rsa:2048 +\\(file\\) .*/CN=fe01.example" "list Request: shows the pending requests"
tap_unlike "$OUT" "no certificates" "list Request: not 'no certificates'"
tap_is "$(cs list Request --json | grep -c '"id"')" 2 "list Request --json: both pending requests"
tap_like "$(cs list)" "Request: 2 pending requests" "list: mentions the pending requests"

# --- unique generated friendly names -------------------------------------------------
cs request --cn twin.example --san dns:twin.example --out "$TEST_TMP/twin1.req" >/dev/null
cs request --cn twin.example --san dns:twin.example --out "$TEST_TMP/twin2.req" >/dev/null
names=$(cs requests --json | sed -n 's/.*"friendly_name": "\(twin[^"]*\)".*/\1/p')
tap_is "$(printf '%s\n' "$names" | sort -u | wc -l)" 2 "two requests for one CN on one day: two names"

# --- certreq -submit against the local CA: ca sign --------------------------------
run_cs ca sign lab "$TEST_TMP/fe01.req" -o "$TEST_TMP/fe01.pem"
tap_is "$RC" 0 "ca sign: exit 0"
tap_like "$OUT" "certstore accept $TEST_TMP/fe01.pem" "ca sign: says how to install it"
tap_is "$(grep -c 'BEGIN CERTIFICATE' "$TEST_TMP/fe01.pem")" 2 "ca sign: the certificate and the CA's"
tap_like "$(openssl x509 -in "$TEST_TMP/fe01.pem" -noout -subject -ext subjectAltName)" \
	"DNS:fe01.example" "ca sign: the request's SAN is in the certificate"
run_cs ca sign lab "$PKI/leaf.crt" -o "$TEST_TMP/bad.pem"
tap_is "$RC" 5 "ca sign of a certificate, not a request: exit 5"
tap_like "$ERR" "not a PKCS#10 certificate request" "ca sign of a non-request: says so"

cs request --cn tpl.example --san dns:tpl.example --template WebServer --out "$TEST_TMP/tpl.req" >/dev/null
run_cs ca sign lab "$TEST_TMP/tpl.req" -o "$TEST_TMP/tpl.pem"
tap_is "$RC" 2 "ca sign of a request naming a template: exit 2, not silently ignored"
tap_like "$ERR" "names a certificate template, and the local CA lab has none" "ca sign of a template request: says why"

# --- certreq -accept: every certificate of the response reported ---------------------
run_cs accept "$TEST_TMP/fe01.pem"
tap_is "$RC" 0 "accept: exit 0"
tap_like "$OUT" "Certificate issued and installed in My" "accept: the certificate installed"
tap_like "$OUT" "not trusted: self-signed root CN=certstore lab CA" "accept: says the root was not trusted"
tap_like "$OUT" "--store Root" "accept: says how to trust the root"
run_cs accept "$TEST_TMP/fe01.pem"
tap_is "$RC" 0 "accept again: exit 0"
tap_like "$OUT" "already installed in My: CN=fe01.example" "accept again: already installed"
run_cs accept "$TEST_TMP/fe01.pem" --json
tap_like "$(printf '%s' "$OUT" | tr -d ' \n')" '"outcome":"duplicate","store":"My"' \
	"accept again --json: the certificate is a duplicate"
fp=$(cs ca roots lab | sed -n 's/.*SHA-256 \([0-9A-F]\{64\}\).*/\1/p' | head -1)
cs ca roots lab --trust --expect-fingerprint "$fp" >/dev/null
run_cs accept "$TEST_TMP/fe01.pem"
tap_like "$OUT" "already trusted \\(in Root\\): CN=certstore lab CA" "accept with the root trusted: already trusted"
FE01=$(pki_sha1 "$TEST_TMP/fe01.pem")
name=$(cs show "$FE01" --json | sed -n 's/.*"friendly_name": "\([^"]*\)".*/\1/p')
run_cs show "$name"
tap_is "$RC" 0 "the generated friendly name works as an ID"

# --- the local CA signs with the hash the request asked for ----------------------------
cs request --cn sha384.example --san dns:sha384.example --hash sha384 \
	--out "$TEST_TMP/sha384.req" >/dev/null
cs ca sign lab "$TEST_TMP/sha384.req" -o "$TEST_TMP/sha384.pem" >/dev/null
tap_like "$(openssl x509 -in "$TEST_TMP/sha384.pem" -noout -text)" \
	"Signature Algorithm: ecdsa-with-SHA384" "local CA: signs with the request's SHA-384"

# --- the summary tells the truth: a dry run refuses what the real run refuses -------------
for bad in "--key rsa:1024" "--hash sha1" "--country USA"; do
	# shellcheck disable=SC2086 # two words on purpose
	run_cs request --cn dry.example --san dns:dry.example $bad --out "$TEST_TMP/dry.req"
	real_rc=$RC real_err=$ERR
	# shellcheck disable=SC2086
	run_cs request --cn dry.example --san dns:dry.example $bad --out "$TEST_TMP/dry.req" --dry-run
	tap_is "$RC:$ERR" "$real_rc:$real_err" "dry run $bad: the real run's exit status and message"
done
tap_is "$real_rc" 2 "--country USA: exit 2"
tap_like "$real_err" "two-letter ISO 3166" "--country USA: says C is two letters (ISO 3166)"
run_cs request --cn dry.example --san dns:dry.example --key ec:p384 --hash sha384 \
	--out "$TEST_TMP/dry.req" --dry-run --json
tap_is "$RC" 0 "dry run --json: exit 0"
tap_like "$(printf '%s' "$OUT" | tr -d ' \n')" '"dry_run":true,"subject":"/CN=dry.example","sans":\["dns:dry.example"\],"key":"ec:p384","hash":"sha384"' \
	"dry run --json: the summary as JSON"

run_cs request --cn nosan.example --out "$TEST_TMP/nosan.req" --dry-run
tap_like "$ERR" "no subject alternative name; browsers ignore the CN" "a request without a SAN: warned"

# --- an INF's KeyUsage and [EnhancedKeyUsageExtension] are applied, not dropped ----------
printf '[NewRequest]\r\nSubject = "CN=inf-ku.example"\r\nKeyUsage = "CERT_DIGITAL_SIGNATURE_KEY_USAGE | CERT_KEY_ENCIPHERMENT_KEY_USAGE"\r\n[EnhancedKeyUsageExtension]\r\nOID = 1.3.6.1.5.5.7.3.2\r\n[Extensions]\r\n2.5.29.17 = "{text}dns=inf-ku.example"\r\n' >"$TEST_TMP/ku.inf"
run_cs request --inf "$TEST_TMP/ku.inf" --out "$TEST_TMP/ku.req"
tap_is "$RC" 0 "INF with KeyUsage and an EKU section: exit 0"
tap_like "$(openssl req -in "$TEST_TMP/ku.req" -noout -text)" "Digital Signature, Key Encipherment" \
	"INF: the request carries the KeyUsage"
cs ca sign lab "$TEST_TMP/ku.req" -o "$TEST_TMP/ku.pem" >/dev/null
tap_like "$(openssl x509 -in "$TEST_TMP/ku.pem" -noout -ext extendedKeyUsage)" \
	"TLS Web Client Authentication" "INF: the local CA issues the EKU the request asked for"

# --- ca roots -o: saved to inspect, nothing installed -------------------------------------
before=$(store_snapshot)
run_cs ca roots lab -o "$TEST_TMP/lab-roots.pem"
tap_is "$RC" 0 "ca roots -o: exit 0"
tap_is "$(pki_sha256 "$TEST_TMP/lab-roots.pem")" "$fp" "ca roots -o: the file holds the CA's root"
tap_is "$(store_snapshot)" "$before" "ca roots -o: the store is unchanged"

# --- Root takes only self-signed certificates --------------------------------------------
openssl crl2pkcs7 -nocrl -certfile "$PKI/leaf.crt" -certfile "$PKI/inter.crt" \
	-certfile "$PKI/root.crt" -outform DER -out "$TEST_TMP/chain.p7b"
run_cs import "$TEST_TMP/chain.p7b" --store Root
tap_is "$RC" 0 "import chain.p7b --store Root: exit 0"
tap_like "$OUT" "added to Root: CN=Test Root CA" "--store Root: the root went to Root"
tap_like "$OUT" "added to CA, not to Root .*CN=Test Intermediate CA" "--store Root: the intermediate went to CA, and it says so"
tap_like "$OUT" "added to My, not to Root .*CN=leaf.test" "--store Root: the server certificate went to My, and it says so"
tap_is "$(cs list Root --json | count_listed)" 2 "Root holds only the two self-signed roots"
run_cs import "$PKI/root.crt"
tap_like "$OUT" "already trusted \\(in Root\\): CN=Test Root CA" "a root already in Root: already trusted, not skipped"

# --- a PFX brings the key of a certificate already in My: the key is attached ----------
LEAF=$(pki_sha1 "$PKI/leaf.crt")
cs import "$PKI/leaf.crt" >/dev/null 2>&1 # already in My from chain.p7b: without a key
printf 'pfx pass\n' >"$TEST_TMP/pfx.pass"
openssl pkcs12 -export -in "$PKI/leaf.crt" -inkey "$PKI/leaf.key" -certfile "$PKI/root.crt" \
	-passout "file:$TEST_TMP/pfx.pass" -out "$TEST_TMP/leaf.pfx"
run_cs import "$TEST_TMP/leaf.pfx" --password-file "$TEST_TMP/pfx.pass"
tap_is "$RC" 0 "PFX for a certificate in My without a key: exit 0"
tap_like "$OUT" "key attached to the certificate already in My: CN=leaf.test" "PFX: says the key was attached"
tap_like "$OUT" "already trusted \\(in Root\\): CN=Test Root CA" "PFX: its root, already in Root, is already trusted"
tap_like "$(cs show "$LEAF" --json)" "\"key_uri\": \"pkcs11:" "PFX: the certificate is bound to the key"
run_cs import "$TEST_TMP/leaf.pfx" --password-file "$TEST_TMP/pfx.pass"
tap_is "$RC" 7 "the same PFX again: exit 7 (already in My with its key)"
tap_done
