#!/bin/bash
# doc-coverage.sh [SRCDIR] - every subcommand, option and configuration key
# that the man pages document is mentioned by some test.
#
# A documented behaviour that no test mentions is a promise nobody checks.
# This is a cross-reference, not proof: it reads
#   doc/certstore.1       subcommands (.SS NAME) and long options (\-\-NAME)
#   doc/certstore.conf.5  configuration keys (the .TP items: .B key / .BR a ", " b),
#   and those of certstore(1)'s CONFIGURATION and CA PROFILES sections
# (and, the other way round, every long option in the tools' longopts tables
# must be in certstore(1)), and looks for each in tests/ (integration scripts, their libraries, unit
# tests): a subcommand as `cs NAME`, `run_cs NAME` or `certstore NAME`, an
# option as `--NAME`, a key as `NAME =` (certstore.conf syntax) or
# `"NAME"` (C).  Prints one TAP point per item; exits 1 when one is missing.
set -uo pipefail

SRC=${1:-$(cd "$(dirname "$0")/.." && pwd)}
MAN1=$SRC/doc/certstore.1
MAN5=$SRC/doc/certstore.conf.5
TESTS=$SRC/tests

n=0 missing=0
point() { # ok|not-ok DESC
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		missing=$((missing + 1))
		echo "not ok $n - $2"
	fi
}

in_tests() { # ERE
	grep -rqE -- "$1" "$TESTS/integration" "$TESTS/heavy" "$TESTS/lib" "$TESTS/unit" 2>/dev/null
}

# Subcommands: the .SS headings of certstore(1).
subcommands=$(sed -n 's/^\.SS \([a-z][a-z-]*\)\b.*/\1/p' "$MAN1" | sort -u)
[ -n "$subcommands" ] || { echo "Bail out! no .SS subcommand sections in $MAN1"; exit 1; }
for sub in $subcommands; do
	if in_tests "(\\bcs|\\brun_cs|\\bcertstore|CERTSTORE\"?( (-d|--store-dir) [^ ]+)?) $sub\\b"; then
		point ok "subcommand $sub is run by a test"
	else
		point not-ok "subcommand $sub is run by a test"
	fi
done

# Long options: every \-\-name in certstore(1) (groff escapes the dashes).
options=$(grep -o '\\-\\-[a-z][a-z0-9-]*\(\\-[a-z0-9]\+\)*' "$MAN1" | sed 's/\\-/-/g' | sort -u)
for opt in $options; do
	if in_tests "(^|[^a-z0-9-])$opt\\b"; then
		point ok "option $opt is used by a test"
	else
		point not-ok "option $opt is used by a test"
	fi
done

# The other way round: every long option the tool takes (its longopts
# tables) is in certstore(1), so that an option cannot be added undocumented.
for opt in $(grep -ho '{"[a-z][a-z0-9-]*", *\(no\|required\|optional\)_argument' "$SRC"/tools/*/*.c |
	sed 's/{"\([^"]*\)".*/\1/' | sort -u); do
	if grep -qF -- "\\-\\-${opt//-/\\-}" "$MAN1"; then
		point ok "option --$opt of the tool is in certstore(1)"
	else
		point not-ok "option --$opt of the tool is in certstore(1)"
	fi
done

# Configuration keys: the items of certstore.conf(5)'s key lists, and of
# certstore(1)'s CONFIGURATION and CA PROFILES sections.
conf_keys() { # FILE SECTION-ERE
	awk -v want="$2" '
		/^\.SH/ { sect = $0 }
		/^\.TP/ { item = 1; next }
		item && /^\.BR? / && sect ~ want {
			line = $0
			sub(/^\.BR? /, "", line)
			gsub(/"[^"]*"/, " ", line)
			gsub(/\\-/, "-", line)
			n = split(line, w, /[ ,]+/)
			for (i = 1; i <= n; i++)
				if (w[i] ~ /^[a-z][a-z-]*$/) print w[i]
		}
		{ item = 0 }' "$1"
}
keys=$({ conf_keys "$MAN5" . && conf_keys "$MAN1" 'CONFIGURATION|CA PROFILES'; } | sort -u)
[ -n "$keys" ] || { echo "Bail out! no configuration keys found in $MAN5"; exit 1; }
for key in $keys; do
	# (a printf format may hold the key after a \n)
	if in_tests "(^|[^a-z-]|\\\\n)$key *=|\"$key\""; then
		point ok "configuration key $key is set by a test"
	else
		point not-ok "configuration key $key is set by a test"
	fi
done

echo "1..$n"
[ "$missing" = 0 ] || echo "# $missing documented items are mentioned by no test"
[ "$missing" = 0 ]
