#!/usr/bin/env bash
# schedcast report streams: its peak memory does not grow with the trace's
# length (a trace and one ten times longer of the same tasks, and of tasks
# that come and go: ten times as many), it reads the
# trace in one pass, and it draws a progress line only when asked or on a
# terminal.
. "$(dirname "$0")/lib.sh"

D=$TEST_DATA/report

# maxrss_kb CMD...: the peak RSS of CMD in KiB (getrusage of the one child)
maxrss_kb() {
	python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}

test_expect_success 'setup: 50k and 500k events of the same 200 tasks' '
	python3 "$D/gen-events.py" 50000 | mktrace short.h5 &&
	python3 "$D/gen-events.py" 500000 | mktrace long.h5
'

if [ -n "${ASAN_OPTIONS:-}" ]; then
	test_skip 'peak RSS of the 10x longer trace within 1.2x' \
		"AddressSanitizer's quarantine holds freed memory: the peak is its, not ours"
else
test_expect_success 'peak RSS of the 10x longer trace within 1.2x' '
	a=$(maxrss_kb schedcast report short.h5) &&
	b=$(maxrss_kb schedcast report long.h5) &&
	echo "short $a KiB, long $b KiB" &&
	test $((b * 10)) -le $((a * 12))
'
fi

test_expect_success 'setup: 20k and 200k events of tasks that come and go (1.7k, 17k tasks)' '
	python3 "$D/gen-churn.py" 20000 | mktrace churn-short.h5 &&
	python3 "$D/gen-churn.py" 200000 | mktrace churn-long.h5
'

# the text table keeps 256 exited tasks in full and folds the others as the
# pass goes; a task filter keeps every task (--comm "*" chooses them all)
test_expect_success 'many tasks: the text report is the one that keeps every task' '
	for args in "" "--top 5" "-C 1" "--time 0.5,2"; do
		schedcast report $args churn-long.h5 >folded.txt &&
		schedcast report $args --comm "*" churn-long.h5 >every.txt &&
		test_cmp every.txt folded.txt || return 1
	done &&
	schedcast report churn-long.h5 | grep -q "top 25 of 17159)" &&
	schedcast report -f json churn-long.h5 >c.json &&
	python3 -c "import json; assert len(json.load(open(\"c.json\"))[\"tasks\"]) == 17159"
'

if [ -n "${ASAN_OPTIONS:-}" ]; then
	test_skip 'many tasks: peak RSS of the 10x longer trace within 1.2x' \
		"AddressSanitizer's quarantine holds freed memory: the peak is its, not ours"
else
test_expect_success 'many tasks: peak RSS of the 10x longer trace within 1.2x' '
	a=$(maxrss_kb schedcast report churn-short.h5) &&
	b=$(maxrss_kb schedcast report churn-long.h5) &&
	echo "short $a KiB, long $b KiB" &&
	test $((b * 10)) -le $((a * 12))
'
fi

test_expect_success 'one pass over every event; percentiles ordered within min..max' '
	schedcast report -f json long.h5 >l.json &&
	python3 - <<-EOP
	import json
	r = json.load(open("l.json"))
	assert r["events"] == 500000, r["events"]
	d = r["delay"]
	assert d["min_ns"] <= d["p50_ns"] <= d["p90_ns"] <= d["p99_ns"] <= d["max_ns"], d
	for t in r["tasks"]:
	    for k in ("delay", "run_burst"):
	        s = t[k]
	        if s["n"]:
	            assert s["min_ns"] <= s["p50_ns"] <= s["p90_ns"] <= s["p99_ns"] <= s["max_ns"], (t["pid"], k, s)
	EOP
'

test_expect_success 'a progress line when forced, none off a terminal' '
	SCHEDCAST_PROGRESS=1 schedcast report long.h5 >/dev/null 2>err1 &&
	grep -q "report: 100% (500000/500000), done in" err1 &&
	schedcast report long.h5 >/dev/null 2>err0 &&
	! test -s err0
'

test_done
