#!/usr/bin/env bash
# Fault injection for every writer, the way SQLite tests its I/O errors: a
# small tmpfs filled to 0 bytes free (the create or first write fails) and to
# a few KiB free (a later write or the final close fails).  record, import,
# features, train, report and live -o must each exit 1 (not a crash), print
# one line that says "No space left on device" and names the output, and
# leave no temporary file behind.  Inputs live outside the tmpfs.
. "$(dirname "$0")/lib.sh"

SAMPLE=$TEST_TOP/data/samples/mixed.h5
full=$TRASH/full
trap 'umount "$full" 2>/dev/null; cd /; rm -rf "$TRASH"' EXIT

# full_fails KIB OUT CMD...: with KIB KiB free, CMD exits 1 with one line that
# says "No space left on device" and names OUT, and leaves nothing behind
full_fails() {
	local kib=$1 out=$2 left
	shift 2
	fill_to "$kib" &&
	test_must_fail "$@" >stdout 2>err || return 1
	# live -o goes on without its trace after a failed write, and says so
	if [ -n "${full_allow:-}" ]; then grep -v -- "$full_allow" err >err.1 || :; mv err.1 err; fi
	if [ "$(grep -c "" err)" -ne 1 ] || ! grep -qF "No space left on device" err ||
	   ! grep -qF "$out" err; then
		echo "with $kib KiB free, '$*' said:" >&2
		cat err >&2
		return 1
	fi
	left=$(ls -A "$full" | grep -v "^fill$" || :)
	[ -z "$left" ] || { echo "left behind: $left" >&2; return 1; }
}

mkdir -p "$full"
if [ "$(id -u)" != 0 ]; then
	test_skip 'full-disk faults of every writer' 'not root (a small tmpfs is mounted)'
	test_done
	exit
fi
if ! mount -t tmpfs -o size=2m tmpfs "$full" 2>/dev/null; then
	test_skip 'full-disk faults of every writer' 'mount -t tmpfs is not permitted here'
	test_done
	exit
fi

test_expect_success 'setup: inputs outside the full disk' '
	schedcast features -q -o w.h5 --split 10,5,85 "$SAMPLE" &&
	schedcast train -q -o m.h5 --epochs 1 --hidden 8 w.h5 >/dev/null &&
	mkwindows -n 3000 syn.h5
'

for kib in 0 8; do
	test_expect_success "import, $kib KiB free" '
		full_fails $kib "$full/t.h5" \
			schedcast import -o "$full/t.h5" "$TEST_DATA/import/sched.dat"
	'
	test_expect_success "features, $kib KiB free" '
		full_fails $kib "$full/w.h5" schedcast features -q -o "$full/w.h5" "$SAMPLE"
	'
	test_expect_success "train, $kib KiB free" '
		full_fails $kib "$full/m.h5" \
			schedcast train -q -o "$full/m.h5" --epochs 1 --hidden 8 syn.h5
	'
	# the text report is 8 KiB, the html one 33 KiB
	test_expect_success "report, $kib KiB free" '
		{ [ $kib -gt 0 ] || full_fails 0 "$full/r.txt" schedcast report -o "$full/r.txt" "$SAMPLE"; } &&
		full_fails $kib "$full/r.html" schedcast report -f html -o "$full/r.html" "$SAMPLE"
	'
done

if ! why=$(has_tracefs); then
	test_skip 'record and live -o on a full disk' "$why"
else
	for kib in 0 8; do
		test_expect_success "record, $kib KiB free" '
			full_fails $kib "$full/r.h5" \
				schedcast record -q -o "$full/r.h5" -d 1s -- sh -c "sleep 0.5"
		'
		# 0 free: the create fails before any scoring; later: the summary is kept
		# (a chunk of events is written when full: the failure comes mid-run);
		# on a loaded machine live may also say it fell behind, which is not
		# about the disk
		test_expect_success "live -o, $kib KiB free" '
			full_allow="the trace .* is lost; going on without it\|fell behind the kernel" \
				full_fails $kib "$full/l.h5" \
				schedcast live -m m.h5 -o "$full/l.h5" -d 1s -- sh -c "sleep 0.5" &&
			{ [ $kib = 0 ] || grep -q "decisions" stdout; }
		'
	done
fi

test_expect_success 'with room again every output is written' '
	rm -f "$full/fill" &&
	schedcast import -q -o "$full/t.h5" "$TEST_DATA/import/sched.dat" &&
	schedcast report -o "$full/r.txt" "$full/t.h5" &&
	test -s "$full/r.txt"
'

test_done
