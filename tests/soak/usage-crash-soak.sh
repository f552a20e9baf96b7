#!/bin/bash
# Soak (not part of `make check`): the crash-safety test of assign with 1000
# kills.  Run it from the build directory, or set CERTSTORE:
#   CERTSTORE=build/certstore tests/soak/usage-crash-soak.sh
# Only failures and the summary are printed as TAP points (ITERATIONS > 100).
ITERATIONS=${ITERATIONS:-1000} exec "$(dirname "$0")/../integration/usage-crash-safety.sh"
