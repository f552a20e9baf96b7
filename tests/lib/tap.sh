# tap.sh - TAP output for shell tests (source it).
#
#   tap_plan N              leading plan (or call tap_done at the end instead)
#   tap_ok DESC CMD...      ok when CMD exits 0
#   tap_is GOT WANT DESC    ok when the strings are equal
#   tap_like TEXT ERE DESC  ok when TEXT matches the extended regexp ERE
#   tap_unlike TEXT ERE DESC
#   tap_pass DESC / tap_fail DESC [WHY]
#   tap_skip DESC REASON
#   tap_skip_prereq DESC REASON   a missing prerequisite: a skip, but a
#                           failure under CI=true (CI installs everything)
#   tap_diag TEXT...        a "# " comment on stdout
#   tap_bail REASON         "Bail out!" and exit 1
#   tap_done                trailing plan, then exit 0, or 1 after a "not ok"
#
# Failures print the details as TAP comments.  A script that dies before
# tap_done prints no plan, which the TAP driver reports as an error.  The
# exit status matters where no TAP driver reads the output (the soak run
# by hand): a run with a failed point must not end in success.

TAP_N=0
TAP_PLANNED=
TAP_FAILED=0

tap_plan() {
	TAP_PLANNED=$1
	echo "1..$1"
}

tap_diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

tap_pass() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1"
}

tap_fail() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $1"
	[ $# -lt 2 ] || tap_diag "$2"
}

tap_skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

# A CI job installs every prerequisite (scripts/deps.sh), so there a
# missing one means the job is broken, not that the test does not apply.
tap_skip_prereq() {
	if [ "${CI:-}" = true ]; then
		tap_fail "$1" "missing prerequisite under CI=true: $2"
	else
		tap_skip "$1" "$2"
	fi
}

tap_ok() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_pass "$desc"
	else
		tap_fail "$desc" "command failed ($?): $* $(printf '\n%s' "$out")"
	fi
}

tap_is() {
	if [ "$1" = "$2" ]; then
		tap_pass "$3"
	else
		tap_fail "$3" "$(printf 'got:  %s\nwant: %s' "$1" "$2")"
	fi
}

tap_like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		tap_pass "$3"
	else
		tap_fail "$3" "$(printf 'text:  %s\nwants: /%s/' "$1" "$2")"
	fi
}

tap_unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		tap_fail "$3" "$(printf 'text:  %s\nmust not match: /%s/' "$1" "$2")"
	else
		tap_pass "$3"
	fi
}

tap_bail() {
	echo "Bail out! $*"
	exit 1
}

tap_done() {
	[ -n "$TAP_PLANNED" ] || echo "1..$TAP_N"
	[ "$TAP_FAILED" = 0 ] || exit 1
	exit 0
}
