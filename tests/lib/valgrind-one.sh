#!/bin/bash
# valgrind-one.sh TEST - `make check-valgrind` runs each unit test under
# memcheck through this, several at once (xargs -P): the test must pass and
# valgrind must report nothing (no error, no definite leak but
# tests/valgrind.supp's).  Forked children are not checked: by design a child
# abandons its parent's SQLite connection and PKCS#11 state without freeing
# them (they must not cross fork()).  Exit 255 stops xargs at the first
# failure, after printing the test's log.
# Environment: LIBTOOL, VALGRIND_SUPP (from the Makefile).
t=$1
if CMOCKA_MESSAGE_OUTPUT=TAP $LIBTOOL --mode=execute valgrind -q --leak-check=full \
	--errors-for-leak-kinds=definite --child-silent-after-fork=yes \
	--suppressions="$VALGRIND_SUPP" "./$t" >"$t.valgrind.log" 2>&1 &&
	! grep -q '^==[0-9]*==' "$t.valgrind.log"; then
	echo "valgrind: $t clean"
	exit 0
fi
cat "$t.valgrind.log"
echo "valgrind: $t FAILED"
exit 255
