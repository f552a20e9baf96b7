#!/bin/bash
# ad-domain.sh - `certstore ca discover` against a real Active Directory:
# Samba 4.17 provisioned as an AD DC in a private network namespace, with an
# enterprise CA published into its Configuration partition the way AD CS
# does it (a pKIEnrollmentService object with dNSHostName, cACertificate and
# certificateTemplates; pKICertificateTemplate objects).  Discover as a user
# (kinit with a password file) and as the machine (keytab exported from the
# DC), add the profile, trust the CA certificate by fingerprint; a wrong
# password, an expired ticket, an unknown template and the DC down each give
# their message and exit code with the store unchanged.  Then AD CS web
# enrollment behind Apache with mod_auth_gssapi (the keytab of HTTP/ca1
# exported from the DC) in front of the certsrv fixture: `request` with
# auth = negotiate as a user (kinit with a password file) and as the machine
# (KRB5_CLIENT_KTNAME), Apache's log naming the principal; no ticket, an
# expired ticket, a template the CA denies and the CA host down each give
# their message and exit code, the store and token unchanged.  Then
# auth = ntlm through Squid (accelerator mode, ca1:4443) in front of the same
# fixture, Squid handing each NTLM message to Samba's ntlm_auth, which has
# the DC's winbindd check it: as CS18\alice and as alice@domain (Squid's
# log naming CS18\alice), a wrong password (twice: nothing piles up), a user
# whose backslash certstore.conf's syntax ate.  Prints TAP.
#
# Heavy (root, samba, apache, squid, a minute of provisioning): not part of
# `make check`; .ci/run runs it as a leg of its own.
#
#   top_builddir=build tests/heavy/ad-domain.sh
#
# Why Squid and not Apache for NTLM: Apache offers NTLM only through
# gss-ntlmssp, and gss-ntlmssp 1.2.0 (and its master) rejects the 32-byte
# NEGOTIATE_MESSAGE libcurl 7.88 sends ("Failed to decode data": it wants
# the 8-byte Version field too); Debian 12 has no other Apache NTLM module.
# Samba's DC keeps winbindd's public pipe at the built-in /run/samba/winbindd
# (no option moves it for clients): two runs at once share it.
top_builddir=${top_builddir:-build}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
export top_builddir top_srcdir
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/token.sh"

[ "$(id -u)" = 0 ] || tap_bail "needs root (ip netns)"
command -v samba-tool >/dev/null && [ -d /usr/share/samba/setup/ad-schema ] ||
	tap_bail "no Samba AD DC (apt-get install samba samba-ad-dc samba-ad-provision krb5-user ldb-tools; scripts/deps.sh does)"
[ -x /usr/sbin/apache2 ] && [ -f /usr/lib/apache2/modules/mod_auth_gssapi.so ] ||
	tap_bail "no Apache with mod_auth_gssapi (apt-get install apache2 libapache2-mod-auth-gssapi gss-ntlmssp; .ci/run leg 8 does)"
command -v squid >/dev/null && [ -x /usr/bin/ntlm_auth ] ||
	tap_bail "no Squid and Samba's ntlm_auth (apt-get install squid winbind; .ci/run leg 8 does)"

NS=cs18ad$$
REALM=CORP.CS18.TEST
DOMAIN=corp.cs18.test
DC_IP=10.53.18.1 # inside the namespace only
CA_IP=10.53.18.2 # ca1, the AD CS web enrollment host (Apache)
BASE="CN=Public Key Services,CN=Services,CN=Configuration,DC=corp,DC=cs18,DC=test"
ad_cleanup() {
	[ -n "${SQUID_PID:-}" ] && kill "$SQUID_PID" 2>/dev/null && wait "$SQUID_PID" 2>/dev/null
	[ -n "${SQUID_DIR:-}" ] && rm -rf "$SQUID_DIR"
	[ -n "${HTTPD_PID:-}" ] && kill "$HTTPD_PID" 2>/dev/null && wait "$HTTPD_PID" 2>/dev/null
	[ -n "${SAMBA_PID:-}" ] && kill "$SAMBA_PID" 2>/dev/null && wait "$SAMBA_PID" 2>/dev/null
	[ -n "${HTTPD_DIR:-}" ] && rm -rf "$HTTPD_DIR"
	ip netns del "$NS" 2>/dev/null
	rm -rf "/etc/netns/$NS"
}
trap 'ad_cleanup; test_cleanup' EXIT

# The namespace: one address for the DC; its own hosts and resolv.conf
# (ip netns exec binds /etc/netns/NS/* over /etc), DNS answered by the DC.
ip netns add "$NS" && ip netns exec "$NS" ip link set lo up &&
	ip netns exec "$NS" ip link add v0 type veth peer name v1 &&
	ip netns exec "$NS" ip addr add "$DC_IP/24" dev v0 &&
	ip netns exec "$NS" ip link set v0 up && ip netns exec "$NS" ip link set v1 up ||
	tap_bail "cannot make the network namespace"
mkdir -p "/etc/netns/$NS"
# The domain's own name resolves to its DCs, as in AD (the DC's DNS says so
# too, but answers slowly while it starts on a loaded machine).
printf '127.0.0.1 localhost\n%s dc1.%s dc1 %s\n%s ca1.%s ca1\n' "$DC_IP" "$DOMAIN" "$DOMAIN" "$CA_IP" "$DOMAIN" \
	>"/etc/netns/$NS/hosts"
printf 'nameserver %s\nsearch %s\n' "$DC_IP" "$DOMAIN" >"/etc/netns/$NS/resolv.conf"
in_ns() { ip netns exec "$NS" "$@"; }

# The domain.  samba-tool takes the administrator's password only on its
# command line: a throwaway password of a domain that lives for this test.
ADMIN_PW=Cs18-$$-$RANDOM-pw
printf '%s\n' "$ADMIN_PW" >"$TEST_TMP/admin.pw"
chmod 600 "$TEST_TMP/admin.pw"
in_ns samba-tool domain provision --realm="$REALM" --domain=CS18 --server-role=dc \
	--dns-backend=SAMBA_INTERNAL --adminpass="$ADMIN_PW" --host-name=dc1 --host-ip="$DC_IP" \
	--targetdir="$TEST_TMP/samba" --option="interfaces=v0" --option="bind interfaces only=yes" \
	>"$TEST_TMP/provision.log" 2>&1 || tap_bail "samba-tool domain provision failed: $(tail -3 "$TEST_TMP/provision.log")"

# An enterprise CA as AD CS registers it (offline, into sam.ldb).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TEST_TMP/ca.key" \
	-out "$TEST_TMP/ca.crt" -days 30 -subj "/DC=test/DC=cs18/DC=corp/CN=CS18 Issuing CA" \
	-addext basicConstraints=critical,CA:TRUE 2>/dev/null &&
	openssl x509 -in "$TEST_TMP/ca.crt" -outform DER -out "$TEST_TMP/ca.der" || tap_bail "cannot make the CA"
cat >"$TEST_TMP/pki.ldif" <<LDIF
dn: CN=CS18 Issuing CA,CN=Enrollment Services,$BASE
objectClass: pKIEnrollmentService
cn: CS18 Issuing CA
dNSHostName: ca1.$DOMAIN
cACertificate:< file://$TEST_TMP/ca.der
certificateTemplates: WebServer
certificateTemplates: Machine
flags: 10

dn: CN=WebServer,CN=Certificate Templates,$BASE
objectClass: pKICertificateTemplate
cn: WebServer
displayName: Web Server
msPKI-Minimal-Key-Size: 2048
msPKI-Certificate-Name-Flag: 1
flags: 66113

dn: CN=Machine,CN=Certificate Templates,$BASE
objectClass: pKICertificateTemplate
cn: Machine
displayName: Computer
msPKI-Minimal-Key-Size: 2048
msPKI-Certificate-Name-Flag: 402653184
flags: 66145
LDIF
ldbadd -H "$TEST_TMP/samba/private/sam.ldb" "$TEST_TMP/pki.ldif" >/dev/null 2>&1 ||
	tap_bail "cannot publish the enrollment service"
# A user of the domain and the web server's service account, with its SPN
# HTTP/ca1 and AES keys (as an admin sets msDS-SupportedEncryptionTypes for an
# IIS application pool account).  Offline, like the enrollment service.
ALICE_PW=Cs18-$$-$RANDOM-alice
printf '%s\n' "$ALICE_PW" >"$TEST_TMP/alice.pw"
chmod 600 "$TEST_TMP/alice.pw"
SAM=$TEST_TMP/samba/private/sam.ldb
in_ns samba-tool user create alice "$ALICE_PW" -H "$SAM" >/dev/null 2>&1 &&
	in_ns samba-tool user create svc-ca1 "Svc-$ALICE_PW" -H "$SAM" >/dev/null 2>&1 &&
	in_ns samba-tool spn add "HTTP/ca1.$DOMAIN" svc-ca1 -H "$SAM" >/dev/null 2>&1 ||
	tap_bail "cannot create the user and the web server's account"
printf 'dn: CN=svc-ca1,CN=Users,DC=corp,DC=cs18,DC=test\nchangetype: modify\nreplace: msDS-SupportedEncryptionTypes\nmsDS-SupportedEncryptionTypes: 24\n' |
	ldbmodify -H "$SAM" >/dev/null 2>&1 || tap_bail "cannot set the web server's enctypes"
in_ns samba-tool domain exportkeytab "$TEST_TMP/machine.keytab" --principal='DC1$' \
	-s "$TEST_TMP/samba/etc/smb.conf" >/dev/null 2>&1 || tap_bail "cannot export the machine keytab"

# Not through in_ns: $! must be samba's own PID (ip netns exec execs it).
ip netns exec "$NS" samba -s "$TEST_TMP/samba/etc/smb.conf" --foreground --no-process-group \
	-M single >"$TEST_TMP/samba.log" 2>&1 &
SAMBA_PID=$!
# No reverse DNS in the namespace: the ldap/ service name as written.
sed 's/dns_lookup_kdc = true/dns_lookup_kdc = true\n\trdns = false\n\tdns_canonicalize_hostname = false/' \
	"$TEST_TMP/samba/private/krb5.conf" >"$TEST_TMP/krb5.conf"
export KRB5_CONFIG=$TEST_TMP/krb5.conf KRB5CCNAME=FILE:$TEST_TMP/ccache
ready=
for i in $(seq 120); do
	in_ns kinit "Administrator@$REALM" <"$TEST_TMP/admin.pw" >/dev/null 2>&1 && { ready=1; break; }
	sleep 1
done
[ -n "$ready" ] || tap_bail "the DC did not come up: $(tail -3 "$TEST_TMP/samba.log")"

make_token || tap_bail "cannot make the store's token"
ncs() { in_ns env ASAN_OPTIONS="${CS_OWN_ASAN_OPTIONS:-${ASAN_OPTIONS:-}}" "$CERTSTORE" --store-dir "$STORE" "$@"; }
run_ncs() {
	OUT=$(ncs "$@" 2>"$TEST_TMP/.stderr")
	RC=$?
	ERR=$(cat "$TEST_TMP/.stderr")
}
FP=$(pki_sha256 "$TEST_TMP/ca.crt")

# --- as a user (kinit with a password file): domain from krb5.conf, DC from SRV ----
run_ncs ca discover
tap_is "$RC" 0 "discover as a user: exit 0"
tap_like "$OUT" "domain $DOMAIN, directory dc1.$DOMAIN:389" "discover: domain from krb5.conf, DC from DNS SRV"
tap_like "$OUT" "CS18 Issuing CA on ca1.$DOMAIN" "discover: the enrollment service and its host"
tap_like "$OUT" "SHA-256 $FP" "discover: the cACertificate's fingerprint"
tap_like "$OUT" "template WebServer +Web Server, keys of 2048 bits or more, subject from the request" \
	"discover: a template whose subject comes from the request"
tap_like "$OUT" "template Machine +Computer, .*subject from the directory" "discover: one whose subject comes from AD"
run_ncs ca discover --domain "$DOMAIN" --json
tap_like "$OUT" '"url": "https://ca1.corp.cs18.test/certsrv"' "discover --json: the certsrv URL"

# --- add the profile; trust only by fingerprint -----------------------------------------
before=$(store_snapshot)
run_ncs ca discover --add adcs --template Nope
tap_is "$RC" 3 "--add with an unknown template: exit 3"
tap_like "$ERR" "offers no template Nope" "unknown template: says so"
tap_is "$(store_snapshot)" "$before" "unknown template: store unchanged"
run_ncs ca discover --add adcs
tap_is "$RC" 0 "--add: exit 0"
tap_like "$OUT" "expect-fingerprint $FP" "--add: offers the CA certificate by fingerprint"
tap_like "$(cat "$STORE/certstore.conf")" "auth = negotiate" "--add: the profile authenticates with Kerberos"
tap_is "$(cs list Root --json | count_listed)" 0 "--add: nothing trusted"
run_ncs ca discover --add adcs
tap_is "$RC" 7 "--add of an existing profile: exit 7"
run_cs ca roots adcs --trust --expect-fingerprint "00$FP"
tap_is "$RC" 6 "ca roots with another fingerprint: exit 6"
run_cs ca roots adcs --trust --expect-fingerprint "$FP"
tap_is "$RC" 0 "ca roots --trust --expect-fingerprint: exit 0"
tap_is "$(cs list Root --json | count_listed)" 1 "the CA certificate from AD is in Root"

# --- as the machine: its keytab --------------------------------------------------------
in_ns kdestroy >/dev/null 2>&1
in_ns kinit -k -t "$TEST_TMP/machine.keytab" "DC1\$@$REALM" >/dev/null 2>&1
run_ncs ca discover --domain "$DOMAIN"
tap_is "$RC" 0 "discover as the machine (keytab): exit 0"

# --- AD CS web enrollment behind IIS-like authentication ---------------------------
# Apache (mod_auth_gssapi) on ca1's address in the namespace: Kerberos with the
# keytab of HTTP/ca1 exported from the DC, and NTLM through gss-ntlmssp, which
# would check NTLM answers against a user file (NTLM_USER_FILE) holding
# alice's password -- not against the DC (that needs winbind) -- had it not
# refused libcurl's first NTLM message (see the head of this file).  It proxies to the
# certsrv fixture on the namespace's 127.0.0.1, which issues with the CA
# published in AD and denies templates it does not offer.  Apache's workers
# run as www-data: its files live in a directory of their own.
HTTPD_DIR=$(mktemp -d /tmp/cs18-httpd.XXXXXX) && chmod 711 "$HTTPD_DIR" || tap_bail "no httpd dir"
in_ns samba-tool domain exportkeytab "$HTTPD_DIR/http.keytab" --principal="HTTP/ca1.$DOMAIN" \
	-s "$TEST_TMP/samba/etc/smb.conf" >/dev/null 2>&1 || tap_bail "cannot export HTTP/ca1's keytab"
printf 'CS18:alice:%s\n' "$ALICE_PW" >"$HTTPD_DIR/ntlm.users"
chgrp www-data "$HTTPD_DIR/http.keytab" "$HTTPD_DIR/ntlm.users" &&
	chmod 640 "$HTTPD_DIR/http.keytab" "$HTTPD_DIR/ntlm.users" || tap_bail "cannot hand the keytab to www-data"
in_ns ip addr add "$CA_IP/32" dev lo || tap_bail "no address for ca1"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$HTTPD_DIR/tls.key" \
	-subj "/CN=ca1.$DOMAIN" -out "$TEST_TMP/tls.csr" 2>/dev/null &&
	printf 'subjectAltName=DNS:ca1.%s,DNS:localhost\nextendedKeyUsage=serverAuth\n' "$DOMAIN" >"$TEST_TMP/tls.ext" &&
	openssl x509 -req -in "$TEST_TMP/tls.csr" -CA "$TEST_TMP/ca.crt" -CAkey "$TEST_TMP/ca.key" \
		-set_serial 7 -days 30 -extfile "$TEST_TMP/tls.ext" -out "$HTTPD_DIR/tls.crt" 2>/dev/null ||
	tap_bail "cannot make ca1's TLS certificate"
ip netns exec "$NS" python3 "$top_srcdir/tests/fixtures/certsrv_fixture.py" --cert "$HTTPD_DIR/tls.crt" \
	--key "$HTTPD_DIR/tls.key" --ca-cert "$TEST_TMP/ca.crt" --ca-key "$TEST_TMP/ca.key" \
	--workdir "$TEST_TMP/certsrv" --port-file "$TEST_TMP/certsrv.port" --templates WebServer,Machine \
	2>"$TEST_TMP/certsrv.log" &
bg $!
for i in $(seq 100); do [ -s "$TEST_TMP/certsrv.port" ] && break; sleep 0.1; done
[ -s "$TEST_TMP/certsrv.port" ] || tap_bail "the certsrv fixture did not start"
M=/usr/lib/apache2/modules
cat >"$HTTPD_DIR/httpd.conf" <<CONF
ServerName ca1.$DOMAIN
Listen $CA_IP:443
PidFile $HTTPD_DIR/httpd.pid
DefaultRuntimeDir $HTTPD_DIR
Mutex file:$HTTPD_DIR default
User www-data
Group www-data
ErrorLog $HTTPD_DIR/error.log
LogLevel warn auth_gssapi:debug
LogFormat "%h user=%u \"%r\" %>s" auth
CustomLog $HTTPD_DIR/access.log auth
KeepAlive On
LoadModule mpm_event_module $M/mod_mpm_event.so
LoadModule authn_core_module $M/mod_authn_core.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule authz_user_module $M/mod_authz_user.so
LoadModule auth_gssapi_module $M/mod_auth_gssapi.so
LoadModule socache_shmcb_module $M/mod_socache_shmcb.so
LoadModule ssl_module $M/mod_ssl.so
LoadModule proxy_module $M/mod_proxy.so
LoadModule proxy_http_module $M/mod_proxy_http.so
SSLEngine on
SSLCertificateFile $HTTPD_DIR/tls.crt
SSLCertificateKeyFile $HTTPD_DIR/tls.key
SSLProxyEngine on
SSLProxyCACertificateFile $TEST_TMP/ca.crt
ProxyPass /certsrv https://localhost:$(cat "$TEST_TMP/certsrv.port")/certsrv
<Location /certsrv>
	AuthType GSSAPI
	AuthName "CS18 certsrv"
	GssapiAllowedMech krb5
	GssapiAllowedMech ntlmssp
	GssapiConnectionBound On
	GssapiLocalName Off
	Require valid-user
</Location>
CONF
# The workers read krb5.conf too (TEST_TMP is root's alone).  The keytab
# comes from KRB5_KTNAME, not GssapiCredStore: a cred store holding only a
# keytab gives gss-ntlmssp no server credential ("Not a server credential
# type").
cp "$KRB5_CONFIG" "$HTTPD_DIR/krb5.conf"
chmod 644 "$HTTPD_DIR/httpd.conf" "$HTTPD_DIR/krb5.conf"
start_httpd() {
	# Not through in_ns: $! must be apache's own PID.
	ip netns exec "$NS" env NTLM_USER_FILE="$HTTPD_DIR/ntlm.users" KRB5_CONFIG="$HTTPD_DIR/krb5.conf" \
		KRB5_KTNAME="FILE:$HTTPD_DIR/http.keytab" /usr/sbin/apache2 -f "$HTTPD_DIR/httpd.conf" -DFOREGROUND 2>>"$HTTPD_DIR/error.log" &
	HTTPD_PID=$!
	for i in $(seq 100); do
		in_ns bash -c "exec 3<>/dev/tcp/$CA_IP/443" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
start_httpd || tap_bail "apache did not start: $(tail -3 "$HTTPD_DIR/error.log")"
in_ns kinit "alice@$REALM" <"$TEST_TMP/alice.pw" >/dev/null 2>&1 || tap_bail "kinit alice failed"
my_count() { cs list My --json | count_listed; }
access_log() { tail -n 5 "$HTTPD_DIR/access.log"; }

# --- Kerberos (Negotiate) as a user: kinit with a password file --------------------
run_ncs request --cn www1.$DOMAIN --san dns:www1.$DOMAIN --ca adcs
tap_is "$RC" 0 "negotiate as alice (kinit): exit 0"
tap_like "$OUT" "Certificate issued and installed in My" "negotiate as alice: the certificate is in My"
tap_like "$(access_log)" "user=alice@$REALM \"POST /certsrv/certfnsh.asp" "negotiate as alice: apache saw alice@$REALM"
tap_unlike "$ERR$OUT" "$ALICE_PW" "negotiate as alice: no password printed"

# --- Kerberos as the machine: its keytab, no kinit ----------------------------------
in_ns kdestroy >/dev/null 2>&1
KRB5_CLIENT_KTNAME=$TEST_TMP/machine.keytab run_ncs request --cn www2.$DOMAIN --san dns:www2.$DOMAIN --ca adcs
tap_is "$RC" 0 "negotiate as the machine (KRB5_CLIENT_KTNAME): exit 0"
tap_like "$OUT" "Certificate issued and installed in My" "negotiate as the machine: the certificate is in My"
tap_like "$(access_log)" "user=DC1\\\$@$REALM \"POST /certsrv/certfnsh.asp" "negotiate as the machine: apache saw DC1\$@$REALM"
tap_is "$(my_count)" 2 "two certificates in My"

# --- faults: each its exit code and message, the store and token unchanged ------------
# snap: the store without its ID counter (a refused request used an ID).
snap() { store_snapshot | grep -v sqlite_sequence; token_count; }
in_ns kdestroy >/dev/null 2>&1
printf 'not-the-password\n' >"$TEST_TMP/wrong.pw"
chmod 600 "$TEST_TMP/wrong.pw"
in_ns kinit "alice@$REALM" <"$TEST_TMP/wrong.pw" >/dev/null 2>&1
tap_ok "kinit alice with a wrong password fails" test $? != 0
before=$(snap)
run_ncs request --cn www3.$DOMAIN --san dns:www3.$DOMAIN --ca adcs
tap_is "$RC" 10 "negotiate without a ticket (kinit failed): exit 10"
tap_like "$ERR" "refused the Kerberos \(Negotiate\) credentials.*kinit" "no ticket: says to get one"
tap_like "$ERR" "nothing kept: request [0-9]+ and its new key were removed" "no ticket: says nothing is kept"
tap_is "$(snap)" "$before" "no ticket: store and token unchanged"

in_ns kinit -l 5s "alice@$REALM" <"$TEST_TMP/alice.pw" >/dev/null 2>&1
# Until klist itself says the ticket has expired (no fixed sleep).
for i in $(seq 60); do in_ns klist -s || break; sleep 1; done
tap_ok "the short ticket has expired (klist -s)" bash -c '! ip netns exec "$0" klist -s' "$NS"
run_ncs request --cn www3.$DOMAIN --san dns:www3.$DOMAIN --ca adcs
tap_is "$RC" 10 "expired ticket: exit 10"
tap_like "$ERR" "refused the Kerberos \(Negotiate\) credentials.*kinit" "expired ticket: says to get a new one"
tap_is "$(snap)" "$before" "expired ticket: store and token unchanged"

in_ns kinit "alice@$REALM" <"$TEST_TMP/alice.pw" >/dev/null 2>&1
sed -n '/^\[ca.adcs\]/,/^$/p' "$STORE/certstore.conf" | sed 's/^\[ca.adcs\]/[ca.nope]/; s/^template = .*/template = Nope/' \
	>>"$STORE/certstore.conf"
printf '\n' >>"$STORE/certstore.conf"
before=$(snap)
run_ncs request --cn www3.$DOMAIN --san dns:www3.$DOMAIN --ca nope
tap_is "$RC" 12 "unknown template: exit 12"
tap_like "$ERR" "CA nope denied the request \(its ID [0-9]+\).*policy: Nope" "unknown template: the CA's denial"
tap_like "$ERR" "nothing kept: request [0-9]+ and its new key were removed" "unknown template: says nothing is kept"
tap_is "$(snap)" "$before" "unknown template: store and token unchanged"
tap_like "$(access_log)" "user=alice@$REALM \"POST /certsrv/certfnsh.asp HTTP/1.1\" 200" \
	"unknown template: authenticated, then denied"

kill "$HTTPD_PID" && wait "$HTTPD_PID" 2>/dev/null
HTTPD_PID=
tokens=$(token_count)
run_ncs request --cn www4.$DOMAIN --san dns:www4.$DOMAIN --ca adcs
tap_is "$RC" 17 "CA host down: exit 17"
tap_like "$ERR" "cannot reach CA adcs at https://ca1.$DOMAIN/certsrv" "CA host down: says which"
tap_is "$(my_count)" 2 "CA host down: nothing in My"
# Not a refusal: the request and its key stay for --retrieve, as with any
# CA that cannot be reached (request-certsrv-faults.sh).
tap_like "$ERR" "pending request ([0-9]+) kept" "CA host down: the request is kept for a retry"
id=$(printf '%s' "$ERR" | sed -n 's/.*pending request \([0-9]*\) kept.*/\1/p')
start_httpd || tap_bail "apache did not start again"
run_ncs request --retrieve "$id"
tap_is "$RC" 0 "CA host back: request --retrieve $id issues it"
tap_is "$(my_count)" 3 "CA host back: the certificate is in My"
tap_is "$(token_count)" $((tokens + 2)) "CA host back: the kept key was used, no second one"

# --- NTLM: Squid in front of the same fixture, each answer checked by the DC ------------
# Squid in accelerator mode on ca1:4443 challenges with 401 + NTLM and hands
# every NTLM message to Samba's ntlm_auth, which has the DC's winbindd check
# it (not gss-ntlmssp: see the head of this file).  Squid runs its helpers
# as proxy: they must reach smb.conf and winbindd's privileged pipe under
# TEST_TMP (traversable, its secrets stay 0600) and the pipe's directory,
# whose owner and 0750 winbindd checks but not its group.  Squid's GnuTLS
# build reads no answer from the fixture over TLS 1.3 ("read failure: (0)
# No error", 502): TLS 1.2 to the peer.
NTLM_PORT=4443
SQUID_DIR=$(mktemp -d /tmp/cs18-squid.XXXXXX) || tap_bail "no squid dir"
cp "$HTTPD_DIR/tls.crt" "$HTTPD_DIR/tls.key" "$TEST_TMP/ca.crt" "$SQUID_DIR/" &&
	chown -R proxy:proxy "$SQUID_DIR" && chmod 700 "$SQUID_DIR" && chmod 711 "$TEST_TMP" ||
	tap_bail "cannot prepare squid's directory"
for i in $(seq 100); do [ -S "$TEST_TMP/samba/state/winbindd_privileged/pipe" ] && break; sleep 0.1; done
chgrp proxy "$TEST_TMP/samba/state/winbindd_privileged" || tap_bail "winbindd's privileged pipe is not there"
cat >"$SQUID_DIR/squid.conf" <<CONF
https_port $CA_IP:$NTLM_PORT accel defaultsite=ca1.$DOMAIN tls-cert=$SQUID_DIR/tls.crt tls-key=$SQUID_DIR/tls.key
cache_peer 127.0.0.1 parent $(cat "$TEST_TMP/certsrv.port") 0 no-query originserver name=certsrv tls tls-cafile=$SQUID_DIR/ca.crt tls-domain=localhost tls-min-version=1.2 tls-options=NORMAL:-VERS-TLS1.3
auth_param ntlm program /usr/bin/ntlm_auth --configfile=$TEST_TMP/samba/etc/smb.conf --helper-protocol=squid-2.5-ntlmssp
auth_param ntlm children 2 startup=1
acl authenticated proxy_auth REQUIRED
http_access allow authenticated
http_access deny all
cache deny all
cache_effective_user proxy
cache_effective_group proxy
pid_filename $SQUID_DIR/squid.pid
cache_log $SQUID_DIR/cache.log
logformat cs18 %>a user=%un "%rm %ru" %>Hs
access_log stdio:$SQUID_DIR/access.log cs18
coredump_dir none
pinger_enable off
shutdown_lifetime 0 seconds
CONF
# Not through in_ns: $! must be squid's own PID (-N: no daemon, no kid).
ip netns exec "$NS" squid -N -f "$SQUID_DIR/squid.conf" >"$SQUID_DIR/stdout" 2>&1 &
SQUID_PID=$!
ready=
for i in $(seq 100); do
	in_ns bash -c "exec 3<>/dev/tcp/$CA_IP/$NTLM_PORT" 2>/dev/null && { ready=1; break; }
	sleep 0.1
done
[ -n "$ready" ] || tap_bail "squid did not start: $(tail -3 "$SQUID_DIR/cache.log")"
ntlm_profile() { # NAME USER PASSWORD-FILE
	printf '\n[ca.%s]\nprotocol = certsrv\nurl = https://ca1.%s:%s/certsrv\nauth = ntlm\nuser = %s\npassword-file = %s\ntemplate = WebServer\n' \
		"$1" "$DOMAIN" "$NTLM_PORT" "$2" "$3" >>"$STORE/certstore.conf"
}
squid_log() { tail -n 5 "$SQUID_DIR/access.log"; }
# certstore.conf is NCONF: a backslash escapes, so DOMAIN\user is written DOMAIN\\user.
ntlm_profile ntlm 'CS18\\alice' "$TEST_TMP/alice.pw"
ntlm_profile ntlm-upn "alice@$DOMAIN" "$TEST_TMP/alice.pw"
ntlm_profile ntlm-wrong 'CS18\\alice' "$TEST_TMP/wrong.pw"
ntlm_profile ntlm-onebs 'CS18\alice' "$TEST_TMP/alice.pw"
in_ns kdestroy >/dev/null 2>&1 # NTLM needs no ticket: none is there to help

run_ncs request --cn www5.$DOMAIN --san dns:www5.$DOMAIN --ca ntlm
tap_is "$RC" 0 "ntlm as CS18\\alice: exit 0"
tap_like "$OUT" "Certificate issued and installed in My" "ntlm as CS18\\alice: the certificate is in My"
tap_like "$(squid_log)" 'user=CS18\\alice "POST https://ca1[^ ]*/certsrv/certfnsh.asp" 200' \
	"ntlm as CS18\\alice: squid saw CS18\\alice, checked by the DC"
tap_unlike "$ERR$OUT" "$ALICE_PW" "ntlm: no password printed"
run_ncs request --cn www6.$DOMAIN --san dns:www6.$DOMAIN --ca ntlm-upn
tap_is "$RC" 0 "ntlm as alice@$DOMAIN: exit 0"
tap_like "$(squid_log)" 'user=CS18\\alice "POST https://ca1[^ ]*/certsrv/certfnsh.asp" 200' \
	"ntlm as alice@$DOMAIN: the DC knew her as CS18\\alice"
tap_is "$(my_count)" 5 "ntlm: two more certificates in My"

before=$(snap)
run_ncs request --cn www7.$DOMAIN --san dns:www7.$DOMAIN --ca ntlm-wrong
tap_is "$RC" 10 "ntlm, wrong password: exit 10"
tap_like "$ERR" "CA ntlm-wrong refused the NTLM credentials of CS18\\\\alice \(HTTP 401 at https://ca1.$DOMAIN:$NTLM_PORT/certsrv/certfnsh.asp\): check user and password-file in \[ca.ntlm-wrong\]" \
	"ntlm, wrong password: names the profile and the user"
tap_like "$ERR" "nothing kept: request [0-9]+ and its new key were removed" "ntlm, wrong password: says nothing is kept"
tap_unlike "$ERR" "not-the-password" "ntlm, wrong password: no password in the message"
run_ncs request --cn www7.$DOMAIN --san dns:www7.$DOMAIN --ca ntlm-wrong
tap_is "$RC" 10 "ntlm, wrong password again: exit 10"
tap_is "$(snap)" "$before" "ntlm, wrong password twice: store and token unchanged, no request kept"
tap_like "$(squid_log)" 'user=- "POST https://ca1[^ ]*/certsrv/certfnsh.asp" 401' "ntlm, wrong password: squid refused it"
run_ncs request --cn www7.$DOMAIN --san dns:www7.$DOMAIN --ca ntlm-onebs
tap_is "$RC" 10 "ntlm, user = CS18\\alice (one backslash, NCONF ate it): exit 10"
tap_like "$ERR" "credentials of CS18alice .*a domain account is user@domain, or DOMAIN\\\\\\\\user in certstore.conf" \
	"ntlm, one backslash: shows the name as read and how to write it"
tap_is "$(snap)" "$before" "ntlm failures: store and token unchanged"
kill "$SQUID_PID" && wait "$SQUID_PID" 2>/dev/null
SQUID_PID=

# --- simple bind with a password file: inside StartTLS, the DC's own certificate -------
# Samba refuses a simple bind over plain LDAP (strong authentication
# required); it made its TLS certificate and CA under private/tls at start.
DC_CA=$TEST_TMP/samba/private/tls/ca.pem
in_ns kdestroy >/dev/null 2>&1
run_ncs ca discover --domain "$DOMAIN" --bind-user "alice@$DOMAIN" --password-file "$TEST_TMP/alice.pw" \
	--tls-ca "$DC_CA"
tap_is "$RC" 0 "simple bind (password file) with --tls-ca: exit 0"
tap_like "$OUT" "CS18 Issuing CA on ca1.$DOMAIN" "simple bind: the enrollment service"
OUT=$(LDAPTLS_CACERT=$DC_CA ncs ca discover --domain "$DOMAIN" --bind-user "alice@$DOMAIN" \
	--password-file "$TEST_TMP/alice.pw" 2>&1)
tap_is "$?" 0 "simple bind with the CA from LDAPTLS_CACERT: exit 0"
before=$(store_snapshot)
run_ncs ca discover --domain "$DOMAIN" --bind-user "alice@$DOMAIN" --password-file "$TEST_TMP/wrong.pw" \
	--tls-ca "$DC_CA" --add other
tap_is "$RC" 10 "simple bind, wrong password: exit 10"
tap_like "$ERR" "refused the bind as alice@$DOMAIN" "simple bind, wrong password: says so"
tap_unlike "$ERR" "not-the-password" "simple bind, wrong password: no password in the message"
run_ncs ca discover --domain "$DOMAIN" --bind-user "alice@$DOMAIN" --password-file "$TEST_TMP/alice.pw" \
	--tls-ca "$TEST_TMP/ca.crt" --add other
tap_is "$RC" 18 "simple bind, DC's certificate from another CA: exit 18"
tap_like "$ERR" "TLS certificate of the domain controller dc1.$DOMAIN:389 did not verify against $TEST_TMP/ca.crt" \
	"another CA: says which certificate and file"
tap_is "$(store_snapshot)" "$before" "simple bind failures: store unchanged"

# --- faults: no ticket after a wrong password, an expired ticket, the DC down -----------
in_ns kdestroy >/dev/null 2>&1
printf 'not-the-password\n' >"$TEST_TMP/wrong.pw"
in_ns kinit "Administrator@$REALM" <"$TEST_TMP/wrong.pw" >/dev/null 2>&1
tap_isnt_zero=$?
tap_ok "kinit with a wrong password fails" test "$tap_isnt_zero" != 0
before=$(store_snapshot)
run_ncs ca discover --add other
tap_is "$RC" 10 "no ticket (wrong password): exit 10"
tap_like "$ERR" "refused the Kerberos \(GSSAPI\) bind.*kinit" "no ticket: says to get one"
tap_unlike "$ERR" "not-the-password" "no ticket: no password in the message"
tap_is "$(store_snapshot)" "$before" "no ticket: store unchanged"
in_ns kinit -l 5s "Administrator@$REALM" <"$TEST_TMP/admin.pw" >/dev/null 2>&1
sleep 7 # the ticket's own lifetime, not a timing assertion
run_ncs ca discover --add other
tap_is "$RC" 10 "expired ticket: exit 10"
tap_is "$(store_snapshot)" "$before" "expired ticket: store unchanged"
kill "$SAMBA_PID" && wait "$SAMBA_PID" 2>/dev/null
SAMBA_PID=
in_ns kinit "Administrator@$REALM" <"$TEST_TMP/admin.pw" >/dev/null 2>&1
run_ncs ca discover --domain "$DOMAIN" --server "dc1.$DOMAIN" --add other
tap_is "$RC" 17 "DC down: exit 17"
tap_like "$ERR" "cannot reach the domain controller dc1.$DOMAIN" "DC down: says which"
tap_is "$(store_snapshot)" "$before" "DC down: store unchanged"
tap_done
