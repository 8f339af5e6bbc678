#!/usr/bin/env bash
# schedcast import: multi-buffer trace.dat files, dropped events (trace.dat,
# trace-cmd text, ftrace trace_pipe text) and perf.data / perf script text.
# Expected numbers: tests/data/import/README.
. "$(dirname "$0")/lib.sh"
D=$TEST_DATA/import

us() {
	awk '{ $1 = sprintf("%.0f", int(($1 + 500) / 1000) * 1000); print }' "$1"
}
# perf script prints microseconds truncated, not rounded
us_trunc() {
	awk '{ $1 = sprintf("%.0f", int($1 / 1000) * 1000); print }' "$1"
}
count() {
	awk -v t="$1" '$3 == t' "$2" | wc -l
}

test_expect_success 'two instances are merged in time order' '
	schedcast import -o m.h5 --dump $D/multi.dat >m.txt 2>err &&
	grep -q "imported 1231 events" err &&
	test $(count sched_switch m.txt) = 490 &&
	test $(count sched_waking m.txt) = 249 &&
	sort -s -n -k1,1 m.txt | cmp - m.txt &&
	schedcast import -q -o mt.h5 --dump $D/multi.report-N.txt >mt.txt &&
	us m.txt >m-us.txt && test_cmp m-us.txt mt.txt
'

test_expect_success '--buffer imports one instance; an unknown one is an error' '
	schedcast import -q -B sc_import_a_14518 -o a.h5 --dump $D/multi.dat >a.txt &&
	test $(wc -l <a.txt) = 490 && test $(count sched_switch a.txt) = 490 &&
	schedcast info --json a.h5 | python3 -c "
import json, sys; d = json.load(sys.stdin)
assert d[\"events_recorded\"] == [\"sched_switch\"], d
" &&
	test_must_fail schedcast import -B nosuch -o b.h5 $D/multi.dat 2>err &&
	test_one_line_error err multi.dat && test ! -e b.h5
'

test_expect_success 'the same event in two buffers is refused unless --buffer chooses' '
	test_must_fail schedcast import -o dup.h5 $D/dup.dat 2>err &&
	test_one_line_error err dup.dat && grep -q "choose one with --buffer" err &&
	test ! -e dup.h5 &&
	schedcast import -q -B sc_import_c_6855 -o dup.h5 --dump $D/dup.dat >dup.txt &&
	test $(count sched_switch dup.txt) = 83
'

test_expect_success 'dropped events in a trace.dat become lost markers with counts' '
	schedcast import -o l.h5 --dump $D/lost.dat >l.txt 2>err &&
	grep -q "imported 415 events (trace.dat, 2 CPUs, 623 lost)" err &&
	test $(count lost l.txt) = 2 &&
	schedcast info --json l.h5 | python3 -c "
import json, sys; d = json.load(sys.stdin)
assert d[\"lost_per_cpu\"] == [387, 236], d
assert d[\"lost_total\"] == 623, d
"
'

test_expect_success 'the same markers from trace-cmd report -N text' '
	schedcast import -q -o lt.h5 --dump $D/lost.report-N.txt >lt.txt &&
	us l.txt >l-us.txt && test_cmp l-us.txt lt.txt
'

test_expect_success 'ftrace trace_pipe text: [LOST N EVENTS] lines' '
	schedcast import -o lp.h5 --dump $D/lost.ftrace-pipe.txt >lp.txt 2>err &&
	grep -q "imported 356 events (ftrace-text, 2 CPUs, 1003 lost)" err &&
	grep -q "^[0-9]* 1 lost state=463$" lp.txt &&
	grep -q "^[0-9]* 0 lost state=540$" lp.txt
'

if command -v perf >/dev/null 2>&1; then
	test_expect_success 'perf.data: counts as perf script reports, kernel and host' '
		schedcast import -o p.h5 --dump $D/sched.perf.data >p.txt 2>err &&
		grep -q "imported 998 events (perf.data, 2 CPUs, 0 lost)" err &&
		perf script -i $D/sched.perf.data 2>/dev/null |
			grep -oE "sched:sched_[a-z_]+:" | sed "s/^sched://; s/:$//" |
			sort | uniq -c | awk "{print \$2, \$1}" >peer &&
		awk "{print \$3}" p.txt | sort | uniq -c | awk "{print \$2, \$1}" >ours &&
		test_cmp peer ours &&
		test $(count sched_waking p.txt) = 193 &&
		schedcast info --json p.h5 | python3 -c "
import json, sys; d = json.load(sys.stdin)
assert d[\"kernel_release\"] == \"6.18.44-fc-v669\", d
assert d[\"hostname\"] == \"vm\", d
assert len(d[\"events_recorded\"]) == 7, d
"
	'

	test_expect_success 'perf script text is the same stream at microseconds' '
		us_trunc p.txt >p-us.txt &&
		schedcast import -q -o ps.h5 --dump $D/sched.perf-script.txt >ps.txt &&
		test_cmp p-us.txt ps.txt
	'

	test_expect_success 'perf sched record: other events are skipped and reported' '
		schedcast import -o ss.h5 --dump $D/sched-sched.perf.data >ss.txt 2>err &&
		grep -q "imported 138 events" err &&
		grep -q "skipped 96 lines that are not scheduler events" err &&
		test $(count sched_waking ss.txt) = 39 && test $(count sched_wakeup ss.txt) = 0 &&
		schedcast info --json ss.h5 | python3 -c "
import json, sys; d = json.load(sys.stdin)
assert \"sched_wakeup\" not in d[\"events_recorded\"], d
assert \"sched_waking\" in d[\"events_recorded\"], d
"
	'

	test_expect_success 'perf lost records: markers with counts, same in perf script text' '
		schedcast import -o lq.h5 --dump $D/lost.perf.data >lq.txt 2>err &&
		grep -q "imported 7419 events (perf.data, 2 CPUs, 11864 lost)" err &&
		test $(count lost lq.txt) = 24 &&
		schedcast info --json lq.h5 | python3 -c "
import json, sys; d = json.load(sys.stdin)
assert d[\"lost_per_cpu\"] == [22, 11842], d
" &&
		us_trunc lq.txt >lq-us.txt &&
		schedcast import -q -o lt2.h5 --dump $D/lost.perf-script.txt >lt2.txt &&
		test_cmp lq-us.txt lt2.txt
	'
else
	test_skip 'perf.data import' 'perf is not installed'
fi

test_expect_success 'perf.data without perf: the error says so' '
	test_must_fail schedcast import --perf /nonexistent/perf -o np.h5 $D/sched.perf.data 2>err &&
	test_one_line_error err sched.perf.data &&
	grep -q "needs .*/nonexistent/perf.*not installed" err && test ! -e np.h5
'

test_done
