#!/usr/bin/env bash
# The trace reader on data/ds.c's table API reads every committed trace
# exactly as the reader before it did: events, task table and the header
# that info prints (digests in tests/data/roundtrip/trace-v1.digests).
. "$(dirname "$0")/lib.sh"

digest() {
	"$@" 2>&1 | sha256sum | cut -c1-16
}

while read -r file ev tasks info; do
	case $file in '#'*|'') continue ;; esac
	test_expect_success "$file reads as before" '
		cd "$TEST_TOP" &&
		got="$(digest tracedump "$file") $(digest tracedump -t "$file") $(digest schedcast info --json "$file")" &&
		if [ "$got" != "$ev $tasks $info" ]; then
			echo "expected $ev $tasks $info" && echo "got      $got" && false
		fi
	'
done <"$TEST_DATA/roundtrip/trace-v1.digests"

test_done
