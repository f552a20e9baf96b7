#!/bin/bash
# The Windows procedures, step by step as an admin walks them, against the
# store's local CA, one test point per step:
#   - the Lync Certificate Wizard, offline (request file, the CA signs it,
#     accept) for the Front End, and online (sent at once) for the Edge:
#     CA, template, friendly name, key size, exportable, organisation and
#     geography, SANs with the SIP domain, summary, View Log, install,
#     status, assign, and the OAuthTokenIssuer roll;
#   - the Exchange UM procedure: download and trust the CA root, a
#     certificate for the machine's FQDN, assign, restart (the usage's hook),
#     check which certificate the service was given.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/token.sh"

make_token || tap_bail "cannot make the store's token"
mkdir -p "$TEST_TMP/files"
F=$TEST_TMP/files

# ==== Lync: the CA ===========================================================
run_cs ca create-local contoso --cn "Contoso Issuing CA"
tap_is "$RC" 0 "Lync: the CA (a local CA in the store, its key in the token)"
run_cs ca roots contoso -o "$F/contoso-root.pem"
tap_is "$RC" 0 "Lync: the CA's root saved to a file to inspect it"
FP=$(pki_sha256 "$F/contoso-root.pem")
run_cs ca roots contoso --trust --expect-fingerprint "$FP"
tap_is "$RC" 0 "Lync: the CA's root trusted after checking its fingerprint"

# ==== Lync Front End, offline: Request -> delayed request ======================
FE=(--cn fe01.contoso.test --san dns:fe01.contoso.test --san dns:sip.contoso.test
	--san dns:lyncdiscoverinternal.contoso.test --san dns:pool01.contoso.test
	--org Contoso --ou IT --country GB --state London --city London
	--key rsa:2048 --exportable --friendly-name "Lync FE Default")
run_cs request "${FE[@]}" --template WebServer --ca contoso --dry-run
tap_is "$RC" 2 "Lync: a template against the local CA is refused before any key is made"
tap_like "$ERR" "no certificate templates" "Lync: ... and it says why"
run_cs request "${FE[@]}" --out "$F/fe01.req" --dry-run
tap_is "$RC" 0 "Lync: Summary (dry run)"
tap_like "$OUT" "Subject: +/C=GB/ST=London/L=London/O=Contoso/OU=IT/CN=fe01.contoso.test" \
	"Lync: Summary: organisation and geography"
tap_like "$OUT" "dns:sip.contoso.test" "Lync: Summary: the SIP domain among the SANs"
tap_like "$OUT" "Key: +rsa:2048" "Lync: Summary: the key size"
tap_like "$OUT" "Exportable: +yes" "Lync: Summary: exportable"
tap_like "$OUT" "Friendly name: +Lync FE Default" "Lync: Summary: the friendly name"
run_cs request "${FE[@]}" --out "$F/fe01.req"
tap_is "$RC" 0 "Lync: the offline request is written"
FE_ID=$(printf '%s' "$OUT" | sed -n 's/^request \([0-9]*\) pending.*/\1/p')
tap_like "$OUT" "certstore accept RESPONSE" "Lync: says what to do with the response"
tap_like "$(cs log --action request)" "pending $FE_ID /C=GB/ST=London/L=London/O=Contoso/OU=IT/CN=fe01.contoso.test key [0-9A-F]{40} rsa:2048 hash sha256 exportable yes" \
	"Lync: View Log: the request with its key, hash and exportable"
tap_like "$(cs list Request)" "^$FE_ID .*fe01.contoso.test" "Lync: the request waits in the Request store"

# ==== the CA signs the request file (certreq -submit) ========================
run_cs ca sign contoso "$F/fe01.req" -o "$F/fe01.cer"
tap_is "$RC" 0 "Lync: the CA signs the request file"

# ==== Lync: install (Import Certificate -> accept) =============================
run_cs accept "$F/fe01.cer"
tap_is "$RC" 0 "Lync: the response is installed"
tap_like "$OUT" "Status: +Valid" "Lync: Status: Valid"
tap_like "$OUT" "already trusted \\(in Root\\): CN=Contoso Issuing CA" "Lync: the CA's root in the response: already trusted"
FE_SHA1=$(pki_sha1 "$F/fe01.cer")
tap_is "$(cs list Request --json | grep -c '"id"')" 0 "Lync: the request left the Request store"
run_cs show "Lync FE Default" --json
tap_like "$OUT" "\"exportable\": true" "Lync: the key is exportable, as asked"
run_cs export "fe01.contoso.test" -o "$F/fe01-again.pem"
tap_is "$RC" 0 "Lync: the certificate found by its subject CN"

# ==== Lync: assign ===========================================================
run_cs assign "$FE_SHA1" --usage Default,WebServicesInternal,WebServicesExternal
tap_is "$RC" 0 "Lync: assigned to Default, WebServicesInternal, WebServicesExternal"
tap_like "$(cs show "$FE_SHA1")" "^Usages +Default, WebServicesExternal, WebServicesInternal$" \
	"Lync: show lists the usages it serves"
tap_is "$(openssl x509 -in "$STORE/usages/WebServicesExternal/cert.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')" \
	"$FE_SHA1" "Lync: WebServicesExternal serves it"

# ==== Lync Edge, online; the OAuthTokenIssuer roll ==============================
run_cs request --cn edge.contoso.test --san dns:edge.contoso.test --san dns:sip.contoso.test \
	--key rsa:3072 --hash sha384 --ca contoso --friendly-name "Lync Server 2013 OAuthTokenIssuer (contoso.test)"
tap_is "$RC" 0 "Lync online: the certificate is issued and installed at once"
tap_like "$OUT" "Status: +Valid" "Lync online: Status: Valid"
OAUTH=$(printf '%s' "$OUT" | sed -n 's/.*Thumbprint: *\([0-9A-F]\{40\}\).*/\1/p')
cs export "$OAUTH" -o "$F/oauth.pem" >/dev/null
tap_like "$(openssl x509 -in "$F/oauth.pem" -noout -text)" "Signature Algorithm: ecdsa-with-SHA384" \
	"Lync online: the CA signed with the hash the request asked for"
cs assign "$FE_SHA1" --usage OAuthTokenIssuer >/dev/null
AT=$(($(date +%s) + 3600))
AT_ISO=$(date -u -d "@$AT" +%Y-%m-%dT%H:%M:%SZ)
run_cs assign "$OAUTH" --usage OAuthTokenIssuer --at "$AT_ISO"
tap_is "$RC" 0 "Lync: OAuthTokenIssuer roll staged for its effective date"
tap_like "$(cs log --action stage)" "OAuthTokenIssuer $OAUTH at $AT_ISO" "Lync: View Log: the roll at its ISO 8601 time"
CERTSTORE_NOW=$AT run_cs tick
tap_is "$OUT" "applied staged OAuthTokenIssuer: $OAUTH" "Lync: at the effective date the roll is applied"
USAGES=$(cs usages)
tap_like "$USAGES" "^OAuthTokenIssuer +$OAUTH +Lync Server 2013 OAuthTokenIssuer \\(contoso.test\\) +[0-9-]{10} +Assigned" \
	"Lync: usages shows the new OAuthTokenIssuer with its friendly name"
header=$(printf '%s\n' "$USAGES" | head -1)
row=$(printf '%s\n' "$USAGES" | grep "^OAuthTokenIssuer")
col=${header%%EXPIRES*}
tap_like "${row:${#col}:10}" "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" \
	"Lync: usages: the expiry stands under EXPIRES, however long the friendly name"

# ==== Exchange UM: a certificate for the machine's FQDN =========================
HOOKED=$TEST_TMP/um-restarted
cat >>"$STORE/certstore.conf" <<CONF

[usage.UMCallRouter]
on-assign = /usr/bin/touch $HOOKED
CONF
run_cs request --ca contoso --key rsa:2048
tap_is "$RC" 0 "Exchange UM: a certificate for this server, no subject given"
FQDN=$(printf '%s' "$ERR" | sed -n 's/.*requesting for this machine, CN=\([^,]*\).*/\1/p')
tap_ok "Exchange UM: the machine's name became the subject ($FQDN)" test -n "$FQDN"
UM=$(printf '%s' "$OUT" | sed -n 's/.*Thumbprint: *\([0-9A-F]\{40\}\).*/\1/p')
cs export "$UM" -o "$F/um.pem" >/dev/null
tap_like "$(openssl x509 -in "$F/um.pem" -noout -ext subjectAltName)" "DNS:$FQDN" \
	"Exchange UM: its FQDN is in the SAN"
run_cs assign "$UM" --usage UMCallRouter
tap_is "$RC" 0 "Exchange UM: assigned to UMCallRouter"
tap_ok "Exchange UM: the service restarted (the usage's hook ran)" test -e "$HOOKED"
tap_is "$(openssl x509 -in "$STORE/usages/UMCallRouter/cert.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')" \
	"$UM" "Exchange UM: the service was given this certificate"
tap_like "$(cs usages)" "^UMCallRouter +$UM " "Exchange UM: usages says which certificate was picked"

# ==== distrusting the Front End certificate takes it out of service =============
run_cs move "$FE_SHA1" --to Disallowed
tap_is "$RC" 0 "move to Disallowed: exit 0"
tap_like "$ERR" "warning: usage WebServicesExternal was served by it" "move to Disallowed: warns about the usages it breaks"
tap_ok "move to Disallowed: usages/Default no longer offers it" test ! -e "$STORE/usages/Default/cert.pem"
tap_done
