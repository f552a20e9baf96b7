# tap.sh - TAP output for shell tests (source it).
#
#   tap_plan N              leading plan (or call tap_done at the end instead)
#   tap_ok DESC CMD...      ok when CMD exits 0
#   tap_is GOT WANT DESC    ok when the strings are equal
#   tap_like TEXT ERE DESC  ok when TEXT matches the extended regexp ERE
#   tap_unlike TEXT ERE DESC
#   tap_pass DESC / tap_fail DESC [WHY]
#   tap_skip DESC REASON
#   tap_diag TEXT...        a "# " comment on stdout
#   tap_bail REASON         "Bail out!" and exit 1
#   tap_done                trailing plan, then exit 0
#
# Failures print the details as TAP comments.  A script that dies before
# tap_done prints no plan, which the TAP driver reports as an error.

TAP_N=0
TAP_PLANNED=

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
	echo "not ok $TAP_N - $1"
	[ $# -lt 2 ] || tap_diag "$2"
}

tap_skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
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
	exit 0
}
