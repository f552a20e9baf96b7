#!/bin/bash
# The Cockpit page in a real browser: cockpit-ws on 127.0.0.1 (--no-tls), a
# test user who is a sudoer (Cockpit's administrative access), headless
# chromium driven by puppeteer-core (npm, installed into the test's temp dir),
# the page installed by `make install` (install-cockpitDATA) into the user's
# ~/.local/share/cockpit and pointed at a temp store by Cockpit's own override
# file (~/.config/cockpit/certstore.override.json).  The walk and its checks
# are in cockpit-walk.js; this script sets the scene, turns the walk's lines
# into TAP, checks the store with the CLI, and removes the user, its sudoers
# entry and cockpit-ws afterwards.  Screenshots of every page and dialog are
# kept in $CS_ARTIFACTS (default: BUILD/tests/heavy/cockpit-artifacts).
#
# A heavy test: not in `make check`; .ci/run runs it as its own leg.
#   top_builddir=build tests/heavy/cockpit.sh
HEAVY_DIR=$(cd "$(dirname "$0")" && pwd)
: "${top_builddir:=$HEAVY_DIR/../../build}"
top_builddir=$(cd "$top_builddir" && pwd)
# The page runs the libtool wrapper: it finds the uninstalled library itself,
# in the environment Cockpit's privileged bridge gives it.
CS_WRAPPER=$top_builddir/certstore
. "$HEAVY_DIR/../lib/common.sh"
. "$HEAVY_DIR/../lib/certsrv.sh"

CS_ARTIFACTS=${CS_ARTIFACTS:-$top_builddir/tests/heavy/cockpit-artifacts}
COCKPIT_WS=/usr/lib/cockpit/cockpit-ws
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
PUPPETEER_VERSION=24

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (makes a test user and a sudoers entry)"
	exit 0
fi
for need in "$COCKPIT_WS" /usr/bin/cockpit-bridge "$CHROMIUM" /usr/bin/sudo; do
	[ -x "$need" ] || tap_bail "$need is missing: run scripts/deps.sh"
done
command -v npm >/dev/null && command -v node >/dev/null || tap_bail "node and npm are needed"

# ---- the test user and its administrative access --------------------------------
CS_USER=cstest$$
SUDOERS=/etc/sudoers.d/certstore-cockpit-test-$$
WS_PID=
heavy_cleanup() {
	local pid
	[ -z "$WS_PID" ] || { kill "$WS_PID" 2>/dev/null; wait "$WS_PID" 2>/dev/null; }
	# The user's session (cockpit-session, bridges, sudo) ends with cockpit-ws;
	# whatever is left of it is this test's, stopped by PID.
	if id "$CS_USER" >/dev/null 2>&1; then
		for pid in $(pgrep -u "$CS_USER"); do
			kill "$pid" 2>/dev/null
		done
		sleep 1
		for pid in $(pgrep -u "$CS_USER"); do
			kill -9 "$pid" 2>/dev/null
		done
		userdel -r "$CS_USER" 2>/dev/null
	fi
	rm -f "$SUDOERS"
	test_cleanup
}
trap heavy_cleanup EXIT

useradd -m -s /bin/bash "$CS_USER" || tap_bail "cannot make user $CS_USER"
CS_PASSWORD=$(openssl rand -hex 16)
printf '%s:%s\n' "$CS_USER" "$CS_PASSWORD" | chpasswd || tap_bail "cannot set the password"
printf '%s ALL=(ALL:ALL) ALL\n' "$CS_USER" >"$SUDOERS.tmp" && chmod 0440 "$SUDOERS.tmp" &&
	mv "$SUDOERS.tmp" "$SUDOERS" || tap_bail "cannot write $SUDOERS"
USER_HOME=$(getent passwd "$CS_USER" | cut -d: -f6)

# ---- the page, installed by make, configured by Cockpit's override --------------
make -s -C "$top_builddir" install-cockpitDATA DESTDIR="$TEST_TMP/inst" >/dev/null ||
	tap_bail "make install-cockpitDATA failed"
installed=$(dirname "$(find "$TEST_TMP/inst" -path '*/cockpit/certstore/manifest.json')")
[ -f "$installed/index.html" ] || tap_bail "make install put no page under */cockpit/certstore"
tap_pass "make install puts the page in \$(datadir)/cockpit/certstore"
mkdir -p "$USER_HOME/.local/share/cockpit" "$USER_HOME/.config/cockpit"
cp -r "$installed" "$USER_HOME/.local/share/cockpit/certstore"
printf '{ "config": { "certstore": "%s", "store_dir": "%s" } }\n' "$CS_WRAPPER" "$STORE" \
	>"$USER_HOME/.config/cockpit/certstore.override.json"
chown -R "$CS_USER:" "$USER_HOME/.local" "$USER_HOME/.config"

# ---- the store: a local CA, a PFX, a corrupt file, a certificate not Valid ----------
FILES=$TEST_TMP/files
mkdir -p "$FILES" && chmod 0755 "$FILES"
cs init >/dev/null || tap_bail "certstore init failed"
cs ca create-local lab >/dev/null || tap_bail "ca create-local failed"
# The local CA's certificate as the file an admin would have been given.
sqlite3 "$STORE/store.db" "SELECT hex(der) FROM local_cas WHERE name = 'lab'" | xxd -r -p \
	>"$FILES/lab-root.cer"
pki_root "$TEST_TMP" other "Other Root CA" &&
	pki_issue "$TEST_TMP" leaf leaf.test other server &&
	pki_issue "$TEST_TMP" pfxleaf pfx.test other server || tap_bail "cannot make the test PKI"
cs import "$TEST_TMP/leaf.crt" --friendly-name untrusted >/dev/null || tap_bail "cannot import leaf"
printf 'pfx password\n' >"$TEST_TMP/pfx.pass"
make_pfx() { openssl pkcs12 -export -in "$1" -inkey "$2" -passout "file:$3" -out "$4"; }
make_pfx "$TEST_TMP/pfxleaf.crt" "$TEST_TMP/pfxleaf.key" "$TEST_TMP/pfx.pass" "$FILES/server.pfx" ||
	tap_bail "cannot make the PFX"
head -c 300 /dev/urandom | base64 | head -c 301 >"$FILES/corrupt.cer"

# What the CLI says to each bad input: the page must show the same words.
# (Paths differ: the page uploads into a temp dir; the walk compares without it.)
printf 'not the password\n' >"$TEST_TMP/wrong.pass"
run_cs import "$FILES/server.pfx" --password-file "$TEST_TMP/wrong.pass"
[ "$RC" = 10 ] || tap_bail "the CLI did not refuse the wrong PFX password (exit $RC: $ERR)"
export CS_MSG_PFX=${ERR//$FILES\//}
run_cs import "$FILES/corrupt.cer"
[ "$RC" = 5 ] || tap_bail "the CLI did not refuse the corrupt file (exit $RC: $ERR)"
export CS_MSG_CORRUPT=${ERR//$FILES\//}
run_cs assign untrusted --usage Default
[ "$RC" = 14 ] || tap_bail "the CLI did not refuse to assign a non-Valid certificate (exit $RC)"
export CS_MSG_ASSIGN=$ERR

# The walk sees the store through these two programs.
{
	echo '#!/bin/bash'
	echo "STORE=$STORE"
	declare -f store_snapshot
	echo 'store_snapshot'
	echo "ls -l \"\$STORE/usages\" 2>/dev/null | sed 's/.* -> //'"
} >"$TEST_TMP/snapshot"
printf '#!/bin/sh\nexec %s --store-dir %s "$@"\n' "$CS_WRAPPER" "$STORE" >"$TEST_TMP/cli"
chmod +x "$TEST_TMP/snapshot" "$TEST_TMP/cli"

# ---- puppeteer-core, cockpit-ws ---------------------------------------------------
mkdir -p "$TEST_TMP/node"
(cd "$TEST_TMP/node" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --silent \
	"puppeteer-core@$PUPPETEER_VERSION" >"$TEST_TMP/npm.log" 2>&1) ||
	{ cat "$TEST_TMP/npm.log"; tap_bail "npm install puppeteer-core failed"; }

PORT=$(free_port)
"$COCKPIT_WS" --no-tls --address 127.0.0.1 --port "$PORT" >"$TEST_TMP/ws.log" 2>&1 &
WS_PID=$!
for _ in $(seq 100); do
	curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
	sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$PORT/" || { cat "$TEST_TMP/ws.log"; tap_bail "cockpit-ws did not start"; }

# ---- the walk ---------------------------------------------------------------------
rm -rf "$CS_ARTIFACTS" && mkdir -p "$CS_ARTIFACTS"
CS_URL=http://127.0.0.1:$PORT CS_USER=$CS_USER CS_PASSWORD=$CS_PASSWORD CS_CHROMIUM=$CHROMIUM \
	CS_ARTIFACTS=$CS_ARTIFACTS CS_FILES=$FILES CS_SNAPSHOT=$TEST_TMP/snapshot CS_CLI=$TEST_TMP/cli \
	CS_STORE=$STORE NODE_PATH=$TEST_TMP/node/node_modules CS_WORK=$TEST_TMP \
	CS_SIGNER_CRT=$TEST_TMP/other.crt CS_SIGNER_KEY=$TEST_TMP/other.key CS_PFX_PASSWORD="pfx password" \
	node "$HEAVY_DIR/cockpit-walk.js" >"$TEST_TMP/walk.out" 2>"$TEST_TMP/walk.err"
walk_rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) tap_pass "${line#ok - }" ;;
	"not ok - "*) tap_fail "${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done <"$TEST_TMP/walk.out"
[ ! -s "$TEST_TMP/walk.err" ] || tap_diag "walk stderr: $(tail -n 20 "$TEST_TMP/walk.err")"
tap_is "$walk_rc" 0 "the walk exits 0"
tap_ok "screenshots saved in $CS_ARTIFACTS" test -s "$CS_ARTIFACTS/01-login.png"
[ "$walk_rc" = 0 ] || tap_diag "cockpit-ws: $(tail -n 20 "$TEST_TMP/ws.log")"
tap_done
