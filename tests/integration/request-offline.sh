#!/bin/bash
# Delayed enrollment: the request goes to a file for an offline CA (here
# `openssl x509 -req` and `openssl ca`), stays pending in the Request store
# with its key, and the CA's response — PEM, DER .cer, Base64 .cer or .p7b —
# is bound to that key on import; an INF file gives the same request as options.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"

make_token || tap_bail "cannot make the store's token"
PKI=$TEST_TMP/pki
pki_make_all "$PKI" || tap_bail "cannot make the test PKI"

sign_request() { # CSR OUT: the test root signs like an offline CA would
	openssl x509 -req -in "$1" -CA "$PKI/root.crt" -CAkey "$PKI/root.key" -CAcreateserial \
		-days 30 -sha256 -copy_extensions copy -out "$2" 2>/dev/null
}

# --- the request file ---------------------------------------------------------
run_cs request --subject "CN=offline.example, O=Example\\, Inc, C=GB" --san dns:offline.example \
	--key ec:p256 --template WebServer --out "$TEST_TMP/req.pem"
tap_is "$RC" 0 "request --out: exit 0"
tap_like "$OUT" "request [0-9]+ pending" "request --out: pending, with its ID"
tap_ok "openssl req -verify accepts the request" \
	openssl req -in "$TEST_TMP/req.pem" -verify -noout
tap_like "$(openssl req -in "$TEST_TMP/req.pem" -noout -subject)" "O = \"Example, Inc\"" \
	"request: the escaped comma stays in O"
tap_like "$(openssl asn1parse -in "$TEST_TMP/req.pem")" "1.3.6.1.4.1.311.20.2" \
	"request: carries the certificate template extension"
run_cs requests
tap_like "$OUT" "ec:p256 +\\(file\\) .*/CN=offline.example" "requests: lists it, for a file CA"

# --- the response: bound to the key, pending removed -----------------------------------
sign_request "$TEST_TMP/req.pem" "$TEST_TMP/resp.pem" || tap_bail "the test CA cannot sign"
openssl x509 -in "$TEST_TMP/resp.pem" -outform DER -out "$TEST_TMP/resp.cer"
run_cs import "$TEST_TMP/resp.cer"
tap_is "$RC" 0 "import of the DER response: exit 0"
tap_is "$(cs requests --json | grep -c '"id"')" 0 "import: the pending request is removed"
SHA1=$(pki_sha1 "$TEST_TMP/resp.pem")
run_cs show "$SHA1" --json
tap_like "$OUT" "\"key_uri\": \"pkcs11:" "import: the certificate is bound to the token key"
run_cs verify "$SHA1"
tap_like "$OUT" "^Untrusted root$" "import: Untrusted root until the root is trusted"
cs import "$PKI/root.crt" --store Root >/dev/null
run_cs verify "$SHA1"
tap_is "$RC" 0 "with the root in Root: Valid"

# --- openssl ca, and a .p7b response through accept ------------------------------------
run_cs request --cn ca.example --san dns:ca.example --out "$TEST_TMP/req2.pem"
tap_is "$RC" 0 "second request: exit 0"
pki_ca_config "$PKI" root >"$TEST_TMP/ca.cnf"
printf '[ext]\nbasicConstraints = CA:FALSE\nsubjectAltName = DNS:ca.example\n' >>"$TEST_TMP/ca.cnf"
openssl ca -batch -config "$TEST_TMP/ca.cnf" -extensions ext -notext -days 30 \
	-in "$TEST_TMP/req2.pem" -out "$TEST_TMP/resp2.pem" 2>/dev/null
tap_ok "openssl ca accepts the request" test -s "$TEST_TMP/resp2.pem"
openssl crl2pkcs7 -nocrl -certfile "$TEST_TMP/resp2.pem" -certfile "$PKI/root.crt" \
	-outform DER -out "$TEST_TMP/resp2.p7b"
run_cs accept "$TEST_TMP/resp2.p7b"
tap_is "$RC" 0 "accept of a .p7b response: exit 0"
tap_like "$OUT" "Status: +Valid" "accept: reports Valid"

# --- the same request from a certreq INF file -------------------------------------------
printf '[Version]\r\nSignature="$Windows NT$"\r\n[NewRequest]\r\nSubject = "CN=inf.example, O=Contoso"\r\nKeyAlgorithm = RSA\r\nKeyLength = 3072\r\nFriendlyName = "inf web"\r\nHashAlgorithm = sha384\r\n[Extensions]\r\n2.5.29.17 = "{text}"\r\n_continue_ = "dns=inf.example&"\r\n_continue_ = "dns=www.inf.example&"\r\n' >"$TEST_TMP/req.inf"
run_cs request --inf "$TEST_TMP/req.inf" --dry-run
tap_like "$OUT" "rsa:3072" "INF: KeyLength 3072"
tap_like "$OUT" "dns:www.inf.example" "INF: SANs from _continue_ lines"
run_cs request --inf "$TEST_TMP/req.inf" --out "$TEST_TMP/req3.pem"
tap_is "$RC" 0 "INF request: exit 0"
tap_like "$(openssl req -in "$TEST_TMP/req3.pem" -noout -text)" "sha384WithRSAEncryption" \
	"INF: HashAlgorithm sha384"
tap_like "$(openssl req -in "$TEST_TMP/req3.pem" -noout -text)" "Public-Key: \\(3072 bit\\)" \
	"INF: a 3072-bit key"

# --- the subject built from its fields, and the v2 template extension -----------------
run_cs request --cn fields.example --org "Example Org" --ou "Web Team" --country GB \
	--state "Greater London" --city London --email admin@fields.example \
	--template-oid 1.3.6.1.4.1.311.21.8.1234.5678:100:3 --out "$TEST_TMP/req4.pem"
tap_is "$RC" 0 "request with every subject field and --template-oid: exit 0"
subject=$(openssl req -in "$TEST_TMP/req4.pem" -noout -subject -nameopt multiline)
tap_like "$subject" "organizationName += Example Org" "--org: O"
tap_like "$subject" "organizationalUnitName += Web Team" "--ou: OU"
tap_like "$subject" "countryName += GB" "--country: C"
tap_like "$subject" "stateOrProvinceName += Greater London" "--state: ST"
tap_like "$subject" "localityName += London" "--city: L"
tap_like "$subject" "emailAddress += admin@fields.example" "--email: emailAddress"
parsed=$(openssl asn1parse -in "$TEST_TMP/req4.pem")
tap_like "$parsed" "1.3.6.1.4.1.311.21.7" "--template-oid: the certificate template (v2) extension"
# the extension's value (an OCTET STRING): SEQUENCE { OID, major, minor }
off=$(grep -A1 "311.21.7$" <<<"$parsed" | tail -1 | cut -d: -f1 | tr -d ' ')
template=$(openssl asn1parse -in "$TEST_TMP/req4.pem" -strparse "$off" 2>&1)
tap_like "$template" "OBJECT +:1.3.6.1.4.1.311.21.8.1234.5678" "--template-oid: names the template's OID"
tap_is "$(grep INTEGER <<<"$template" | sed 's/.*://' | tr '\n' ' ')" "64 03 " \
	"--template-oid: major version 100, minor 3"

# --- cancelling removes the request and its key -----------------------------------------
before=$(token_count)
id=$(cs requests --json | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | tail -1)
run_cs requests --cancel "$id"
tap_is "$RC" 0 "requests --cancel: exit 0"
tap_is "$(token_count)" $((before - 2)) "requests --cancel: its key pair left the token"
run_cs requests --cancel "$id"
tap_is "$RC" 3 "cancelling it again: exit 3"
tap_done
