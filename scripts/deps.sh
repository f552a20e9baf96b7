#!/bin/bash
# deps.sh - installs the Debian 12 packages certstore needs to build, test and
# run its demo.  The one list of packages: the demo, the tests and CI call this.
# Idempotent and quiet: does nothing when everything is installed already.
set -euo pipefail

PACKAGES=(
	build-essential autoconf automake libtool pkg-config
	libssl-dev openssl libp11-kit-dev p11-kit libcurl4-openssl-dev
	libsqlite3-dev sqlite3 libjson-c-dev libcmocka-dev
	softhsm2 opensc gnutls-bin libnss3-tools ca-certificates
	clang libclang-rt-14-dev clang-format valgrind xxd
	pebble python3
	scep iproute2
	# TLS servers the provider tests run with PEM key references, curl to
	# check them, and the libp11 engine bench/handshake compares against
	nginx-light haproxy apache2 stunnel4 lighttpd lighttpd-mod-openssl curl
	libengine-pkcs11-openssl
	# the Cockpit page and its browser test (tests/heavy/cockpit.sh): cockpit-ws
	# and its bridge, sudo for administrative access, headless chromium, npm
	# for puppeteer-core (installed by the test into its temp dir)
	cockpit-ws cockpit-bridge cockpit-system sudo chromium nodejs
	# Java's SunPKCS11 (keytool) as a consumer of the PKCS#11 module, and
	# systemd-analyze to verify the units in systemd/
	openjdk-17-jdk-headless systemd
	# the Debian packages (scripts/package-test.sh), the units' checks
	# (systemd-analyze verify, systemd-socket-activate)
	debhelper dh-autoreconf lintian systemd man-db
	# Python's own test_ssl and test_hashlib, run with the provider included
	# system-wide (tests/heavy/python-ssl.sh, its own CI leg)
	libpython3.11-testsuite
	# ca discover: Active Directory over LDAP, bound with Kerberos (SASL GSSAPI)
	libldap-dev libsasl2-dev libsasl2-modules-gssapi-mit
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
# npm: Debian's package, unless a nodejs from elsewhere (NodeSource) brings its own
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -gt 0 ] || exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
