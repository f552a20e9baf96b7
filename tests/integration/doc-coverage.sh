#!/bin/bash
# Every subcommand, option and configuration key documented in certstore(1)
# and certstore.conf(5) is mentioned by some test (scripts/doc-coverage.sh):
# a documented behaviour nobody tests fails the suite here.
exec "${top_srcdir:-$(dirname "$0")/../..}/scripts/doc-coverage.sh" "${top_srcdir:-$(dirname "$0")/../..}"
