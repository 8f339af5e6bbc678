#!/usr/bin/env bash
# The kept fuzz inputs (seeds in fuzz/corpus/<target>/, past findings in
# fuzz/crashes/<target>/) replayed through each fuzz target's code, built
# with the suite's own compiler (and sanitizers under make check-asan).
# Fuzzing itself is `make fuzz`, not part of the suite.
. "$(dirname "$0")/lib.sh"

if ! command -v fuzz-replay >/dev/null; then
	test_skip 'fuzz corpus replays' 'fuzz-replay not built (make tests)'
	test_done
	exit
fi

for t in $(fuzz-replay --list); do
	test_expect_success "fuzz target $t: corpus and crash inputs replay cleanly" "
		dirs=\$(ls -d '$TEST_TOP/fuzz/corpus/$t' '$TEST_TOP/fuzz/crashes/$t' 2>/dev/null || :) &&
		test -n \"\$dirs\" &&
		fuzz-replay $t \$dirs >out &&
		grep -q '^$t: [1-9][0-9]* inputs replayed' out
	"
done

test_expect_success 'every fuzz target has seeds' '
	for t in $(fuzz-replay --list); do
		ls "$TEST_TOP/fuzz/corpus/$t" | grep -q . || { echo "no seeds for $t"; exit 1; }
	done
'

test_expect_success 'the replayer counts its inputs and refuses missing ones and unknown targets' '
	printf "x" >one &&
	fuzz-replay text one >out && grep -q "^text: 1 inputs replayed" out &&
	test_must_fail fuzz-replay text no-such-input 2>err && grep -q no-such-input err &&
	test_usage_error fuzz-replay no-such-target one 2>/dev/null
'

test_done
