# pki.sh - a small test PKI made with the openssl command (source it).
#
#   pki_make_all DIR   makes in DIR (each NAME.crt PEM + NAME.key):
#     root     self-signed CA "Test Root CA"
#     inter    "Test Intermediate CA", signed by root (pathlen 0)
#     leaf     server certificate "leaf.test" with DNS and IP SANs, signed by inter
#     expired  "expired.test", valid 2020-01-01 .. 2021-01-01, signed by inter
#     other    a second self-signed root, unrelated to the others
#
# The functions it uses are usable alone:
#   pki_root DIR NAME CN
#   pki_issue DIR NAME CN ISSUER KIND [START END]   KIND: ca | server
# START/END (YYYYMMDDHHMMSSZ) need `openssl ca`, which OpenSSL 3.0's
# `openssl x509 -req` cannot do: it only knows -days from now.

pki_key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

pki_root() {
	local dir=$1 name=$2 cn=$3
	pki_key "$dir/$name.key" &&
	openssl req -x509 -new -key "$dir/$name.key" -out "$dir/$name.crt" -days 3650 \
		-subj "/O=certstore tests/CN=$cn" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" 2>/dev/null
}

pki_extensions() {
	local kind=$1 cn=$2
	echo "[ext]"
	echo "authorityKeyIdentifier = keyid"
	echo "subjectKeyIdentifier = hash"
	if [ "$kind" = ca ]; then
		echo "basicConstraints = critical,CA:TRUE,pathlen:0"
		echo "keyUsage = critical,keyCertSign,cRLSign"
	else
		echo "basicConstraints = critical,CA:FALSE"
		echo "keyUsage = critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage = serverAuth,clientAuth"
		echo "subjectAltName = DNS:$cn,DNS:www.$cn,IP:127.0.0.1"
	fi
}

# A minimal `openssl ca` setup in DIR/ca-ISSUER, for explicit validity dates.
pki_ca_config() {
	local dir=$1 issuer=$2 cadir=$1/ca-$2
	mkdir -p "$cadir/new"
	[ -f "$cadir/index.txt" ] || : >"$cadir/index.txt"
	[ -f "$cadir/serial" ] || openssl rand -hex 8 >"$cadir/serial"
	cat <<CONF
[ca]
default_ca = test_ca
[test_ca]
dir = $cadir
database = $cadir/index.txt
new_certs_dir = $cadir/new
serial = $cadir/serial
certificate = $dir/$issuer.crt
private_key = $dir/$issuer.key
default_md = sha256
policy = any
unique_subject = no
[any]
organizationName = optional
commonName = supplied
CONF
}

pki_issue() {
	local dir=$1 name=$2 cn=$3 issuer=$4 kind=$5 start=${6:-} end=${7:-}
	pki_key "$dir/$name.key" || return 1
	openssl req -new -key "$dir/$name.key" -out "$dir/$name.csr" \
		-subj "/O=certstore tests/CN=$cn" 2>/dev/null || return 1
	pki_extensions "$kind" "$cn" >"$dir/$name.ext"
	if [ -n "$start" ]; then
		pki_ca_config "$dir" "$issuer" >"$dir/$name.ca.cnf"
		cat "$dir/$name.ext" >>"$dir/$name.ca.cnf"
		openssl ca -batch -config "$dir/$name.ca.cnf" -extensions ext -notext \
			-startdate "$start" -enddate "$end" \
			-in "$dir/$name.csr" -out "$dir/$name.crt" 2>/dev/null
	else
		openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$issuer.crt" \
			-CAkey "$dir/$issuer.key" -CAcreateserial -days 825 -sha256 \
			-extfile "$dir/$name.ext" -extensions ext -out "$dir/$name.crt" 2>/dev/null
	fi
}

pki_make_all() {
	local dir=$1
	mkdir -p "$dir" &&
	pki_root "$dir" root "Test Root CA" &&
	pki_issue "$dir" inter "Test Intermediate CA" root ca &&
	pki_issue "$dir" leaf leaf.test inter server &&
	pki_issue "$dir" expired expired.test inter server 20200101000000Z 20210101000000Z &&
	pki_root "$dir" other "Other Root CA"
}

# The SHA-1 thumbprint of a PEM certificate file, upper-case hex without colons.
pki_sha1() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'
}

pki_sha256() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g'
}
