# common.sh - setup shared by the integration tests (source it from bash).
#
# Gives each test a temp dir ($TEST_TMP, removed on exit), a store dir in it
# ($STORE, not created yet), the binary under test ($CERTSTORE: set by
# `make check`, else $top_builddir/certstore, else ./certstore), and:
#
#   cs ARGS...       runs certstore on $STORE
#   run_cs ARGS...   the same, capturing $OUT, $ERR and the exit code $RC
#   store_snapshot   prints everything a change could touch, for before/after diffs
#   bg PID           registers a background process to stop (by PID) on exit

TESTS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$TESTS_LIB_DIR/tap.sh"
. "$TESTS_LIB_DIR/pki.sh"

: "${CERTSTORE:=${top_builddir:-.}/certstore}"
export LC_ALL=C
unset CERTSTORE_DIR CERTSTORE_NOW

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/certstore-test.XXXXXX")
STORE=$TEST_TMP/store
TEST_BG_PIDS=()

test_cleanup() {
	local pid
	for pid in "${TEST_BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$TEST_TMP"
}
trap test_cleanup EXIT

bg() {
	TEST_BG_PIDS+=("$1")
}

[ -x "$CERTSTORE" ] || tap_bail "no certstore binary at $CERTSTORE (set \$CERTSTORE)"
# In the build tree libtool's wrapper script stands for the program; it runs
# sed, which under the preloaded sanitizer runtimes and the tool's own
# ASAN_OPTIONS reports sed's leaks.  Run the real binary instead.
if grep -q 'libtool wrapper' "$CERTSTORE" 2>/dev/null &&
	[ -x "$(dirname "$CERTSTORE")/.libs/certstore" ]; then
	export LD_LIBRARY_PATH="$(dirname "$CERTSTORE")/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	CERTSTORE=$(dirname "$CERTSTORE")/.libs/certstore
fi

# A sanitizer build (--enable-sanitizers): our modules are loaded into programs
# that were not built with ASan (openssl, pkcs11-tool, trust, certutil, nginx),
# so the ASan and UBSan runtimes are preloaded into every program the test
# runs.  Leaks are reported for our own binaries (cs, unit tests), not for
# those programs.  Programs that cannot run under a preloaded ASan (the JVM)
# are run by tests through no_sanitizer_preload.
if [ "${CS_SANITIZERS:-no}" = yes ]; then
	CS_ASAN_RUNTIME=$(gcc -print-file-name=libasan.so)
	CS_UBSAN_RUNTIME=$(gcc -print-file-name=libubsan.so)
	export LD_PRELOAD="$CS_ASAN_RUNTIME $CS_UBSAN_RUNTIME"
	CS_OWN_ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
	export ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0"
fi

# Runs a program that must not get the sanitizer runtimes (e.g. java); in a
# sanitizer build it cannot load our modules, so callers skip what needs them.
no_sanitizer_preload() {
	env -u LD_PRELOAD "$@"
}

sanitizer_build() {
	[ "${CS_SANITIZERS:-no}" = yes ]
}

# curl under the preloaded ASan runtime deadlocks in its first setlocale()
# (Debian 12's curl 7.88.1, every time), and no test loads our modules into
# curl: it runs without the runtimes.
if sanitizer_build; then
	curl() { env -u LD_PRELOAD curl "$@"; }
fi

# What a program started with a clean environment (a hook) needs to load our
# modules, as NAME=VALUE words for env(1): nothing outside a sanitizer build.
sanitizer_env_words() {
	sanitizer_build || return 0
	printf 'LD_PRELOAD=%s:%s ASAN_OPTIONS=%s' "$CS_ASAN_RUNTIME" "$CS_UBSAN_RUNTIME" "$ASAN_OPTIONS"
}

cs() {
	ASAN_OPTIONS=${CS_OWN_ASAN_OPTIONS:-$ASAN_OPTIONS} "$CERTSTORE" --store-dir "$STORE" "$@"
}

run_cs() {
	OUT=$(cs "$@" 2>"$TEST_TMP/.stderr")
	RC=$?
	ERR=$(cat "$TEST_TMP/.stderr")
}

# Certificates as JSON objects in `list --json` output: one "thumbprint" key each.
count_listed() {
	grep -c '"thumbprint"'
}

# The store's content, independent of the audit log: the schema version and
# every other table as SQL, plus the files in the store dir.  sqlite3 reads
# through the WAL, so uncheckpointed changes show too.
store_snapshot() {
	local db=$STORE/store.db table
	echo "files: $(cd "$STORE" && ls -A | grep -v -e '-wal$' -e '-shm$' | tr '\n' ' ')"
	echo "user_version: $(sqlite3 "$db" 'PRAGMA user_version')"
	for table in $(sqlite3 "$db" "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'audit' ORDER BY name"); do
		sqlite3 "$db" ".dump $table"
	done
}
