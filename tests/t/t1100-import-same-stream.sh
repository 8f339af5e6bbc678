#!/usr/bin/env bash
# schedcast import: one recording (tests/data/import/README) read from its
# trace.dat (v7 and v6), its trace-cmd report -N text and its raw ftrace
# text gives the same event stream, with the counts trace-cmd reports.
. "$(dirname "$0")/lib.sh"
D=$TEST_DATA/import

# us FILE: a --dump with times rounded to microseconds, as the texts print them
us() {
	awk '{ $1 = sprintf("%.0f", int(($1 + 500) / 1000) * 1000); print }' "$1"
}

# count TYPE DUMP: events of TYPE in a dump
count() {
	awk -v t="$1" '$3 == t' "$2" | wc -l
}

test_expect_success 'trace.dat (v7, zstd) imports with the README counts' '
	schedcast import -o dat.h5 --dump $D/sched.dat >dat.txt 2>err &&
	grep -q "imported 1181 events (trace.dat, 2 CPUs, 0 lost)" err &&
	test $(count sched_switch dat.txt) = 467 &&
	test $(count sched_wakeup dat.txt) = 239 &&
	test $(count sched_wakeup_new dat.txt) = 66 &&
	test $(count sched_waking dat.txt) = 239 &&
	test $(count sched_migrate_task dat.txt) = 38 &&
	test $(count sched_process_fork dat.txt) = 66 &&
	test $(count sched_process_exit dat.txt) = 66 &&
	schedcast info --json dat.h5 >info.json &&
	python3 -c "
import json; d = json.load(open(\"info.json\"))
assert d[\"events\"] == 1181, d
assert d[\"nr_cpus\"] == 2, d
assert d[\"source\"] == \"trace.dat\", d
assert d[\"kernel_release\"] == \"6.18.44-fc-v669\", d
assert d[\"clock\"] == \"local\", d
"
'

if command -v trace-cmd >/dev/null 2>&1; then
	test_expect_success 'counts per event type match trace-cmd report on the file' '
		trace-cmd report -N -i $D/sched.dat 2>/dev/null |
			grep -oE " sched_[a-z_]+:" | tr -d " :" | sort | uniq -c |
			awk "{print \$2, \$1}" >peer &&
		awk "{print \$3}" dat.txt | sort | uniq -c | awk "{print \$2, \$1}" >ours &&
		test_cmp peer ours
	'

	test_expect_success 'trace-cmd report -N -l (latency format) too' '
		trace-cmd report -N -l -i $D/sched.dat 2>/dev/null >nl.txt &&
		schedcast import -q -o nl.h5 --dump nl.txt >nl-dump.txt &&
		us dat.txt >dat-us0.txt && test_cmp dat-us0.txt nl-dump.txt
	'

	test_expect_success 'trace-cmd report -N -t (nanoseconds) is the same stream exactly' '
		trace-cmd report -N -t -i $D/sched.dat 2>/dev/null >nt.txt &&
		schedcast import -q -o nt.h5 --dump nt.txt >nt-dump.txt &&
		test_cmp dat.txt nt-dump.txt
	'
else
	test_skip 'counts match trace-cmd report' 'trace-cmd is not installed'
fi

test_expect_success 'the v6 (uncompressed) file is the same stream, nanosecond for nanosecond' '
	gunzip -c $D/sched-v6.dat.gz >v6.dat &&
	schedcast import -q -o v6.h5 --dump v6.dat >v6.txt &&
	test_cmp dat.txt v6.txt
'

test_expect_success 'trace-cmd report -N text: the same stream at microseconds' '
	us dat.txt >dat-us.txt &&
	schedcast import -q -o n.h5 --dump $D/sched.report-N.txt >n.txt &&
	test_cmp dat-us.txt n.txt
'

test_expect_success 'raw ftrace text, with and without irq-info: the same stream' '
	schedcast import -q -o f.h5 --dump $D/sched.ftrace.txt >f.txt &&
	test_cmp dat-us.txt f.txt &&
	schedcast import -q -o f2.h5 --dump $D/sched.ftrace-noirq.txt >f2.txt &&
	test_cmp dat-us.txt f2.txt
'

test_expect_success 'sources are named; text says nothing of the kernel' '
	schedcast info --json n.h5 f.h5 >i.json &&
	python3 -c "
import json; a, b = json.load(open(\"i.json\"))
assert a[\"source\"] == \"trace-cmd-text\" and b[\"source\"] == \"ftrace-text\", (a, b)
assert a[\"kernel_release\"] == \"\" and a[\"nr_cpus\"] == 2, a
"
'

test_expect_success 'trace-cmd plugin text: exact but for R+, which it prints as R' '
	schedcast import -o p.h5 --dump $D/sched.report.txt >p.txt 2>err &&
	grep -q "467 sched_switch lines are in trace-cmd.s plugin form" err &&
	# the only differences: the 15 preempted switches (state 0x100) read as 0x0
	diff dat-us.txt p.txt | grep "^<" | grep -c "state=0x100 " >n &&
	test "$(cat n)" = 15 &&
	sed "s/state=0x100 /state=0x0 /" dat-us.txt >dat-us-r.txt &&
	test_cmp dat-us-r.txt p.txt
'

test_expect_success 'standard input: text and trace.dat' '
	schedcast import -q -o s1.h5 --dump - <$D/sched.report-N.txt >s1.txt &&
	test_cmp n.txt s1.txt &&
	cat $D/sched.dat | schedcast import -q -o s2.h5 --dump - >s2.txt &&
	test_cmp dat.txt s2.txt
'

test_expect_success 'default output is trace.h5; --format text on a trace.dat is refused' '
	mkdir d && (cd d && schedcast import -q $D/sched.ftrace.txt && test -f trace.h5) &&
	test_must_fail schedcast import -f text -o x.h5 $D/sched.dat 2>err &&
	test_one_line_error err sched.dat && test ! -e x.h5
'

test_done
