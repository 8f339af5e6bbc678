#!/usr/bin/env bash
# schedcast import of text traces a hostile or unlucky machine writes:
# comms holding any byte but NUL (escape sequences, control bytes, '=',
# " ==> ", newlines that split an event over lines, UTF-8 cut at 15 bytes),
# recorded from this kernel (tests/data/import/comms.ftrace.txt); and a
# timestamp that goes back, which warns with the line and the count and
# keeps each CPU's events in the order the file gave them.
. "$(dirname "$0")/lib.sh"
D=$TEST_DATA/import

test_expect_success 'every event of the hostile-comms trace imports' '
	schedcast import -o c.h5 $D/comms.ftrace.txt 2>err &&
	grep -q "^imported 105 events" err &&
	schedcast info c.h5 >info &&
	grep -q "sched_switch  *45$" info && grep -q "sched_process_exit  *8$" info
'

test_expect_success '--dump and info print no raw control byte' '
	schedcast import -q -o d.h5 --dump $D/comms.ftrace.txt >dump &&
	test $(wc -l <dump) = 105 &&
	! LC_ALL=C grep -q "[[:cntrl:]]" dump &&
	grep -q "comm=a\\\\x1b\[31mX\\\\x0ab=c" dump &&
	LC_ALL=C tr -d "\n\t" <info >info.flat && ! LC_ALL=C grep -q "[[:cntrl:]]" info.flat
'

PY=$(h5py_python)
if [ -n "$PY" ]; then
	test_expect_success 'the comms are stored byte for byte' '
		"$PY" - c.h5 <<-EOP
		import sys, h5py
		ev = h5py.File(sys.argv[1], "r")["events"][:]
		seen = set(ev["comm"]) | set(ev["next_comm"])
		want = [b"a\x1b[31mX\nb=c", b"pid=5 x", b"a=b\x01", b"x ==> y", b"\x1b" * 15,
		        b"caf" + b"\xc3\xa9" * 5 + b"\xc3", b"\n\n", b"comm=x pid=1"]
		missing = [w for w in want if w not in seen]
		assert not missing, missing
		# the 8 renamed children: pid -> comm of their exit event
		ex = ev[ev["type"] == 6]
		assert sorted(set(ex["comm"]) & set(want)) == sorted(want), ex["comm"]
		EOP
	'
else
	test_skip 'the comms are stored byte for byte' 'python3-h5py is not installed'
fi

test_expect_success 'a comm with an escape sequence in the first 4 KiB is still text' '
	printf " a\033]0;x\007-1 [000] d..2. 1.000000: sched_switch: prev_comm=a\033]0;x\007 prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=b next_pid=2 next_prio=120\n" >esc.txt &&
	schedcast import -q -o esc.h5 esc.txt
'

test_expect_success 'a NUL byte still makes a file binary' '
	printf " a-1 [000] d..2. 1.000000: sched_switch: prev_comm=a\000 prev_pid=1\n" >nul.txt &&
	test_must_fail schedcast import -o nul.h5 nul.txt 2>err &&
	test_one_line_error err nul.txt && test ! -e nul.h5
'

test_expect_success 'a comm cut by a newline that never ends is an error naming its line' '
	head -n 14 $D/comms.ftrace.txt >cut.txt &&
	printf "  x-9 [000] d..2. 11135.800000: sched_switch: prev_comm=a\nb\nc\nd\n" >>cut.txt &&
	test_must_fail schedcast import -o cut.h5 cut.txt 2>err &&
	test_one_line_error err "line 15: malformed sched_switch" && test ! -e cut.h5
'

# back FILE LINE: FILE with the timestamp of line LINE set to 1.000000
back() {
	sed "$2s/ [0-9]*\.[0-9]*: sched_/ 1.000000: sched_/" "$1"
}

test_expect_success 'one timestamp going back: a warning with its line, the span kept' '
	n=$(grep -n "\[001\].*sched_switch" $D/sched.ftrace.txt | sed -n "100s/:.*//p") &&
	back $D/sched.ftrace.txt $n >back.txt &&
	! cmp -s back.txt $D/sched.ftrace.txt &&
	schedcast import -o back.h5 back.txt 2>err &&
	grep -q "warning: .*back.txt.*: 1 event older than the event before on the same CPU.* line $n, CPU 1" err &&
	schedcast import -q -o orig.h5 $D/sched.ftrace.txt &&
	schedcast info back.h5 | grep "^time span" >span.back &&
	schedcast info orig.h5 | grep "^time span" >span.orig &&
	test_cmp span.orig span.back
'

test_expect_success 'each CPU keeps the order the file gave it' '
	schedcast import -q -o back.h5 --dump back.txt 2>/dev/null >back.dump &&
	schedcast import -q -o orig.h5 --dump $D/sched.ftrace.txt >orig.dump &&
	for c in 0 1; do
		awk -v c=$c "\$2 == c { \$1 = \"\"; print }" back.dump >b.$c &&
		awk -v c=$c "\$2 == c { \$1 = \"\"; print }" orig.dump >o.$c &&
		test_cmp o.$c b.$c || return 1
	done
'

test_expect_success 'several timestamps going back are counted in one warning' '
	n=$(grep -n "\[000\].*sched_waking" $D/sched.ftrace.txt | sed -n "50s/:.*//p") &&
	m=$(grep -n "\[000\].*sched_waking" $D/sched.ftrace.txt | sed -n "60s/:.*//p") &&
	back $D/sched.ftrace.txt $n | back /dev/stdin $m >back2.txt &&
	schedcast import -o back2.h5 back2.txt 2>err &&
	test $(grep -c warning err) = 1 &&
	grep -q ": 2 events older .* line $n, CPU 0" err
'

test_done
