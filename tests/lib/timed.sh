#!/bin/bash
# timed.sh SCRIPT - runs one shell test (the automake SH_LOG_COMPILER): a
# test that hangs fails after 15 minutes instead of holding up the suite,
# and its wall time ends its log as a TAP comment, which run-tests.sh
# gathers into the slowest tests of the run (CI has a time budget).
start=$(date +%s%N)
timeout --kill-after=10 900 bash "$@"
rc=$?
echo "# duration: $((($(date +%s%N) - start) / 1000000)) ms"
exit $rc
