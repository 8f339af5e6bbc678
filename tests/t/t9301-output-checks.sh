#!/usr/bin/env bash
# Every command checks its output before any work: an output that is the same
# file as an input (device and inode, so hard links, symbolic links and ./
# count) is refused with one line, exit 1, the input untouched; so is an
# output that is a directory or in a directory that cannot be written.  And
# the commands record and live run hold none of our descriptors.
. "$(dirname "$0")/lib.sh"

D=$TEST_DATA/report

test_expect_success 'setup: a trace, its text form, windows and a model' '
	mktrace t.h5 <"$D/basic.events" &&
	cat >t.txt <<-EOT &&
	# tracer: nop
	          <idle>-0       [000] d..2.   100.000001: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=a next_pid=10 next_prio=120
	               a-10      [000] d..2.   100.000002: sched_switch: prev_comm=a prev_pid=10 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120
	EOT
	mkwindows -n 400 w.h5 &&
	schedcast train -q -o m.h5 --hidden 8 --epochs 1 w.h5 >/dev/null &&
	for f in t.h5 t.txt w.h5 m.h5; do cp $f $f.orig; done &&
	mkdir sub && ln t.h5 hard.h5 && ln -s t.h5 sym.h5
'

# refused CMD... : exit 1, one line naming "also the input", inputs untouched
refused() {
	test_must_fail "$@" 2>err &&
	test_one_line_error err "it is also the input" &&
	for f in t.h5 t.txt w.h5 m.h5; do cmp $f $f.orig || return 1; done &&
	test -z "$(ls -a | grep "\.tmp\.")"
}

test_expect_success 'import: output = input refused (same name, hard link)' '
	refused schedcast import -o t.txt t.txt &&
	ln t.txt hard.txt && refused schedcast import -o hard.txt t.txt
'

test_expect_success 'features: output = input refused (./, symbolic link, any of several)' '
	refused schedcast features -o t.h5 t.h5 &&
	refused schedcast features -o ./t.h5 t.h5 &&
	refused schedcast features -o sym.h5 t.h5 &&
	mktrace u.h5 <"$D/basic.events" &&
	refused schedcast features -o hard.h5 u.h5 t.h5
'

test_expect_success 'train: output = input refused (the windows file, through ../)' '
	refused schedcast train -o w.h5 w.h5 &&
	(cd sub && refused_sub() { test_must_fail "$@" 2>err && grep -q "also the input" err; } &&
	 refused_sub schedcast train -o ../w.h5 ../sub/../w.h5) &&
	cmp w.h5 w.h5.orig
'

test_expect_success 'report: output = any input refused (trace, windows, model)' '
	refused schedcast report -o t.h5 t.h5 &&
	refused schedcast report -f json -o sym.h5 hard.h5 &&
	refused schedcast report -o w.h5 t.h5 --windows w.h5 &&
	refused schedcast report -o m.h5 t.h5 --model m.h5
'

test_expect_success 'live: -o the model refused before any capture' '
	refused schedcast live -m m.h5 -o ./m.h5 -d 1s
'

test_expect_success 'run: a given trace that a stage would overwrite is refused' '
	mkdir rd && cp t.h5 rd/model.h5 && cp t.h5 rd/keep &&
	test_must_fail schedcast run --trace rd/model.h5 -o rd --epochs 1 >out 2>err &&
	grep -q "cannot write .rd/model.h5.: it is also the input" err &&
	cmp rd/model.h5 rd/keep
'

test_expect_success 'an output that is a directory is refused by every command' '
	for c in "record -d 1s -o sub" "import -o sub t.txt" "features -o sub t.h5" \
		 "train -o sub w.h5" "report -o sub t.h5" "live -m m.h5 -d 1s -o sub"; do
		test_must_fail schedcast $c 2>err &&
		test_one_line_error err "cannot write '\''sub'\'': it is a directory" || return 1
	done
'

test_expect_success 'a missing output directory is refused by every command' '
	for c in "record -d 1s -o nodir/x.h5" "import -o nodir/x.h5 t.txt" \
		 "features -o nodir/x.h5 t.h5" "train -o nodir/x.h5 w.h5" \
		 "report -o nodir/x.txt t.h5" "live -m m.h5 -d 1s -o nodir/x.h5"; do
		test_must_fail schedcast $c 2>err &&
		test_one_line_error err "nodir/x." || return 1
	done
'

if [ "$(id -u)" = 0 ] && mkdir -p "$TRASH/ro" && mount -t tmpfs -o ro,size=64k tmpfs "$TRASH/ro" 2>/dev/null; then
	trap 'umount "$TRASH/ro" 2>/dev/null; cd /; rm -rf "$TRASH"' EXIT
	test_expect_success 'a read-only directory is refused at once, before any work' '
		mkwindows -n 20000 big.h5 &&
		for c in "record -d 1s -o ro/x.h5" "import -o ro/x.h5 t.txt" \
			 "features -o ro/x.h5 t.h5" "train -o ro/x.h5 big.h5" \
			 "report -o ro/x.txt t.h5" "live -m m.h5 -d 1s -o ro/x.h5"; do
			test_must_fail schedcast $c >out 2>err &&
			test_one_line_error err "ro/x." &&
			grep -q "Read-only file system" err &&
			test ! -s out || return 1
		done
	'
else
	test_skip 'a read-only directory is refused at once' 'cannot mount a read-only tmpfs here (needs root)'
fi

if ! why=$(has_tracefs); then
	test_skip 'the command of record and live holds none of our files' "$why"
else
	# A command that held the trace rings kept the tracefs instance busy (it could
	# not be removed after a write error) and held the temporary output open.
	test_expect_success 'the command of record and live holds none of our files' '
		schedcast record -q -o fd.h5 -d 5s -- sh -c "ls -l /proc/\$\$/fd/ >rec.fds" &&
		grep -q "pipe:" rec.fds && ! grep -E "tracing|\.h5|m\.h5" rec.fds &&
		schedcast features -q -o lw.h5 --split 10,5,85 "$TEST_TOP/data/samples/mixed.h5" &&
		schedcast train -q -o lm.h5 --epochs 1 --hidden 8 lw.h5 >/dev/null &&
		schedcast live -m lm.h5 -o l.h5 -d 5s -- sh -c "ls -l /proc/\$\$/fd/ >live.fds" >/dev/null &&
		grep -q "pipe:" live.fds && ! grep -E "tracing|\.h5" live.fds
	'
fi

test_done
