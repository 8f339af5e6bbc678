#!/usr/bin/env bash
# schedcast import on bad input: truncated, empty, binary garbage, wrong
# format, corrupt scheduler lines.  Each fails with one line naming the
# file, exit 1, and no output file.
. "$(dirname "$0")/lib.sh"
D=$TEST_DATA/import

# fails IN: import of IN must fail with one line naming it and write nothing
fails() {
	test_must_fail schedcast import -o out.h5 "$1" 2>err &&
	test_one_line_error err "$1" &&
	test ! -e out.h5 &&
	! ls .out.h5* 2>/dev/null | grep -q .
}

test_expect_success 'empty file and missing file' '
	: >empty.dat && fails empty.dat && grep -q "empty" err &&
	fails nosuch.dat
'

test_expect_success 'empty standard input' '
	test_must_fail schedcast import -o out.h5 - </dev/null 2>err &&
	test_one_line_error err "'"'"'-'"'"'" && test ! -e out.h5
'

test_expect_success 'truncated trace.dat (v7 and v6) at many lengths' '
	size=$(wc -c <$D/sched.dat) &&
	for n in 9 64 500 4096 40000 100000 $((size - 2000)); do
		head -c $n $D/sched.dat >cut.dat && fails cut.dat || return 1
	done &&
	gunzip -c $D/sched-v6.dat.gz >v6.dat && size=$(wc -c <v6.dat) &&
	for n in 100 300000 2060200 $((size - 4096)) $((size - 1)); do
		head -c $n v6.dat >cut6.dat && fails cut6.dat || return 1
	done
'

test_expect_success 'truncated perf.data' '
	for n in 3000 150000 200000; do
		head -c $n $D/sched.perf.data >cut.perf && fails cut.perf || return 1
	done
'

test_expect_success 'truncated text: a last line cut mid-event' '
	head -c 5000 $D/sched.ftrace.txt >cut.txt && fails cut.txt &&
	grep -q "truncated" err
'

test_expect_success 'binary garbage, an HDF5 file and a gzip file are refused' '
	head -c 4096 /dev/urandom >garbage.bin && fails garbage.bin &&
	mktrace t.h5 </dev/null && fails t.h5 &&
	fails $D/sched-v6.dat.gz
'

test_expect_success 'text with no scheduler events (wrong format)' '
	printf "a,b,c\n1,2,3\n" >x.csv && fails x.csv &&
	grep -q "no scheduler events" err &&
	fails $D/README
'

test_expect_success 'a corrupt sched_switch line is an error naming the line' '
	n=$(grep -n sched_switch $D/sched.ftrace.txt | sed -n "5s/:.*//p") &&
	sed "${n}s/prev_pid=[0-9]*/prev_pid=x1/" $D/sched.ftrace.txt >bad.txt &&
	fails bad.txt && grep -q "line $n: malformed sched_switch" err &&
	n=$(grep -n sched_switch $D/sched.report-N.txt | sed -n "9s/:.*//p") &&
	sed "${n}s/prev_state=[A-Z+]*/prev_state=Q/" $D/sched.report-N.txt >bad2.txt &&
	grep -q prev_state=Q bad2.txt && fails bad2.txt &&
	n=$(grep -n sched_waking $D/sched.report-N.txt | sed -n "3s/:.*//p") &&
	sed "${n}s/target_cpu=[0-9]*/target_cpu=/" $D/sched.report-N.txt >bad3.txt &&
	fails bad3.txt && grep -q "line $n: malformed sched_waking" err
'

test_expect_success 'lines that are not sched events are counted, not fatal' '
	{ head -20 $D/sched.ftrace.txt &&
	  echo "          <idle>-0       [000] d.h2.  2945.039700: irq_handler_entry: irq=1 name=x" &&
	  echo "not a trace line at all" &&
	  echo "          <idle>-0       [000] d.h2.  2945.039701: sched_stat_runtime: comm=a pid=1" &&
	  tail -n +21 $D/sched.ftrace.txt; } >mixed.txt &&
	schedcast import -o mixed.h5 mixed.txt 2>err &&
	grep -q "skipped 3 lines that are not scheduler events" err
'

test_expect_success 'usage errors exit 2' '
	test_usage_error schedcast import 2>/dev/null &&
	test_usage_error schedcast import a b 2>/dev/null &&
	test_usage_error schedcast import -f bogus $D/sched.dat 2>/dev/null &&
	test_usage_error schedcast import --nosuch $D/sched.dat 2>/dev/null &&
	schedcast import -h | grep -q "^usage: schedcast import"
'

test_expect_success 'the man page synopsis matches the usage line' '
	schedcast import -h | sed -n "s/^usage: //p" >u &&
	sed -n "/^\.SH SYNOPSIS/,/^\.SH/p" $TEST_TOP/man/schedcast-import.1 |
		grep "^schedcast" | sed "s/\\\\-/-/g" >m &&
	test_cmp u m &&
	groff -man -ww -z $TEST_TOP/man/schedcast-import.1 2>g && test ! -s g
'

test_done
