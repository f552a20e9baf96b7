#!/bin/bash
# The layering of store/ and pkcs11/ (issue 14, part A), drawn again from the
# code by scripts/check-structure: no circle between store/'s folders (core
# <- db, keys <- certs <- usages <- requests <- store <- agent), and none
# between the files of pkcs11/.  structure.sh only reports both for the whole
# tree (other folders still have them); for these two they are failures, so
# a call that ties the layers again is seen at once, with the edge that
# does it.
src=${top_srcdir:-$(dirname "$0")/../..}
. "$src/tests/lib/tap.sh"

out=$(python3 "$src/scripts/check-structure" --root "$src" --strict -v store pkcs11)
tap_diag "$(sed -n '/^== circles/,/^== no folder/p' <<<"$out")"

tap_like "$out" '^== circles between folders \(reported only\): none$' \
	"no circle between the folders of store/ (core, db, certs, keys, usages, requests, agent)"
tap_like "$out" '^== circles inside one folder: none$' \
	"no circle between the files of one folder of store/ or pkcs11/"
tap_done
