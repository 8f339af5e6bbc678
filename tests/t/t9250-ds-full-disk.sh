#!/usr/bin/env bash
# data/ds.c on a full disk: create and close fail with ENOSPC.  One line
# "No space left on device" naming the output, exit 1 (not a crash in
# HDF5's exit handlers), no temporary file left.  The t9300 family covers
# every command; this is the storage layer's own quick check.
. "$(dirname "$0")/lib.sh"

full=$TRASH/full
trap 'umount "$full" 2>/dev/null; cd /; rm -rf "$TRASH"' EXIT

# no_leftovers: nothing in $full but the filler
no_leftovers() {
	left=$(ls -A "$full" | grep -v "^fill$" || :)
	[ -z "$left" ] || { echo "left behind: $left" >&2; return 1; }
}

mkdir -p "$full"
if [ "$(id -u)" != 0 ]; then
	test_skip 'full-disk faults' 'not root (a small tmpfs is mounted)'
elif ! mount -t tmpfs -o size=1m tmpfs "$full" 2>/dev/null; then
	test_skip 'full-disk faults' 'cannot mount a tmpfs'
else
	test_expect_success 'no space at create: one line with the reason and the path' '
		fill_to 0 &&
		test_must_fail schedcast import -o "$full/t.h5" "$TEST_DATA/import/sched.dat" 2>err &&
		test_one_line_error err "$full/t.h5" &&
		grep -q "No space left on device" err &&
		no_leftovers
	'

	test_expect_success 'no space at close: exit 1, not SIGSEGV, no temporary left' '
		fill_to 8 &&
		test_must_fail schedcast import -o "$full/t.h5" "$TEST_DATA/import/sched.dat" 2>err &&
		test_one_line_error err "$full/t.h5" &&
		grep -q "No space left on device" err &&
		no_leftovers
	'

	test_expect_success 'the same output fits once there is room' '
		rm -f "$full/fill" &&
		schedcast import -o "$full/t.h5" "$TEST_DATA/import/sched.dat" >/dev/null &&
		schedcast info "$full/t.h5" >/dev/null
	'
fi

test_done
