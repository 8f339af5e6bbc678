#!/usr/bin/env bash
# schedcast report -C and --time, --wakers and CPU utilisation over time, on
# the hand-computed trace of t4200 (tests/data/script/threads.events).
#
# cpu0: idle to 2 ms, a-t1 (11) 2-5, a-t2 (12) 5-9 (preempted at 9), a-t1
# 9-10, a-t2 10-12.  cpu1: b (20) 3-7.  Wakeups: a-t1 at 1 ms (on cpu0, by
# <idle>) and at 6 ms (on cpu1, by b); a-t2 at 2.5 ms (on cpu0, by a-t1).
#
# The window 4..10 ms keeps, by hand:
#   cpu0 busy 6 ms, switches at 5, 9, 10 ms: 3; cpu1 busy 4-7 = 3 ms, idle 3.
#   a-t1: bursts 2-5 (cut to 4-5) and 9-10: run 2 ms, 2 switch-outs; its
#         delay 6 -> 9 ms (3 ms, woken); woken once (at 6 ms, by b), slept 5-6.
#   a-t2: burst 5-9: run 4 ms, 1 switch-out, 1 preemption; delays 2.5 -> 5
#         (2.5 ms, woken) and 9 -> 10 (1 ms, preempted); 10-12 ends outside.
#   b:    burst 3-7 cut to 4-7: run 3 ms, 1 switch-out.
# With -C 0 too, what cpu1 recorded drops out: b, a-t1's wakeup and sleep.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	mktrace t.h5 <"$TEST_DATA/script/threads.events"
'

test_expect_success '--time 0.004,0.010: times cut to the window, events inside counted' '
	schedcast report -f json --time 0.004,0.010 t.h5 >w.json &&
	python3 - <<-EOP
	import json
	r = json.load(open("w.json"))
	assert (r["windowed"], r["start_ns"], r["end_ns"], r["span_ns"]) == (True, 4000000, 10000000, 6000000), r
	assert (r["switches"], r["events"]) == (4, 5), (r["switches"], r["events"])
	c = {x["cpu"]: x for x in r["cpus"]}
	assert (c[0]["busy_ns"], c[0]["idle_ns"], c[0]["switches"]) == (6000000, 0, 3), c[0]
	assert (c[1]["busy_ns"], c[1]["idle_ns"], c[1]["switches"]) == (3000000, 3000000, 1), c[1]
	t = {x["pid"]: x for x in r["tasks"]}
	assert sorted(t) == [11, 12, 20], sorted(t)
	assert (t[11]["run_ns"], t[11]["switches"], t[11]["wakeups"], t[11]["sleep_ns"]) == (2000000, 2, 1, 1000000), t[11]
	assert (t[12]["run_ns"], t[12]["switches"], t[12]["preemptions"]) == (4000000, 1, 1), t[12]
	assert (t[20]["run_ns"], t[20]["switches"], t[20]["run_burst"]["max_ns"]) == (3000000, 1, 3000000), t[20]
	assert (r["delay"]["n"], r["delay"]["total_ns"]) == (3, 6500000), r["delay"]
	assert (r["wakeup_latency"]["n"], r["wakeup_latency"]["total_ns"]) == (2, 5500000)
	assert (r["preemption_delay"]["n"], r["preemption_delay"]["total_ns"]) == (1, 1000000)
	assert t[11]["wakers"] == [{"pid": 20, "comm": "b", "count": 1}], t[11]["wakers"]
	EOP
'

test_expect_success '-C 0 with --time: only what cpu0 recorded' '
	schedcast report -f json -C 0 --time 0.004,0.010 t.h5 >c.json &&
	python3 - <<-EOP
	import json
	r = json.load(open("c.json"))
	assert [x["cpu"] for x in r["cpus"]] == [0], r["cpus"]
	assert (r["switches"], r["events"]) == (3, 3), (r["switches"], r["events"])
	t = {x["pid"]: x for x in r["tasks"]}
	assert sorted(t) == [11, 12], sorted(t)
	assert (t[11]["run_ns"], t[11]["wakeups"], t[11]["sleep_ns"]) == (2000000, 0, 0), t[11]
	assert (r["delay"]["n"], r["delay"]["total_ns"]) == (3, 6500000), r["delay"]
	EOP
'

test_expect_success '-C 1 alone: cpu1 over the whole trace' '
	schedcast report -f json --cpu 1 t.h5 >c1.json &&
	python3 - <<-EOP
	import json
	r = json.load(open("c1.json"))
	assert [x["cpu"] for x in r["cpus"]] == [1] and r["switches"] == 2, r["cpus"]
	t = {x["pid"]: x for x in r["tasks"]}
	assert sorted(t) == [11, 20], sorted(t)
	assert (t[20]["run_ns"], t[11]["run_ns"], t[11]["wakeups"], t[11]["sleep_ns"]) == (4000000, 0, 1, 1000000)
	assert r["delay"]["n"] == 0 and r["windowed"] is False
	EOP
'

test_expect_success '--wakers: each task its wakers, most first (by hand: a-t1 by <idle> and b)' '
	schedcast report --wakers t.h5 >wk.txt &&
	grep -q "^       11 a-t1                  2        0 <idle>                1$" wk.txt &&
	grep -q "^                                        20 b                     1$" wk.txt &&
	grep -q "^       12 a-t2                  1       11 a-t1                  1$" wk.txt &&
	grep -q "^       20 b                     0$" wk.txt &&
	schedcast report t.h5 >plain.txt &&
	! grep -q "^wakers per task" plain.txt &&
	schedcast report -f html --wakers t.h5 >wk.html &&
	grep -q "<td class=\"l\">11</td><td class=\"l\">a-t1</td><td>2</td><td class=\"l\">0 &lt;idle&gt;: 1, 20 b: 1</td>" wk.html &&
	schedcast report -f json t.h5 | python3 -c "
import json, sys
t = {x[\"pid\"]: x for x in json.load(sys.stdin)[\"tasks\"]}
assert t[11][\"wakers\"] == [{\"pid\": 0, \"comm\": \"<idle>\", \"count\": 1}, {\"pid\": 20, \"comm\": \"b\", \"count\": 1}]
assert t[12][\"wakers\"] == [{\"pid\": 11, \"comm\": \"a-t1\", \"count\": 1}] and t[20][\"wakers\"] == []"
'

test_expect_success 'html: when the longest delay of each task began and ended (a-t1: 6 to 9 ms)' '
	schedcast report -f html t.h5 | grep -q "<td>3.000</td><td>0.006000</td><td>0.009000</td>"
'

test_expect_success 'CPU utilisation over time: per CPU, one digit per 1/60 of the window' '
	schedcast report --time 0.004,0.010 t.h5 >u.txt &&
	grep -q "^  cpu0   |9\{60\}|$" u.txt &&
	grep -q "^  cpu1   |9\{30\} \{30\}|$" u.txt &&
	schedcast report -f json t.h5 | python3 -c "
import json, sys
r = json.load(sys.stdin)
for c in r[\"cpus\"]:
    s = c[\"util_series\"]
    assert len(s) == 120 and all(0 <= x <= 1 + 1e-9 for x in s), s
    # the series average is the CPU utilisation
    assert abs(sum(s) / len(s) - c[\"util\"]) < 0.01, (sum(s) / len(s), c[\"util\"])"
'

test_expect_success 'a --time window outside the trace is said, not silently empty' '
	schedcast report --time 100,200 t.h5 >out 2>err &&
	grep -q "warning: --time 100.000000,200.000000 is outside the trace" err &&
	schedcast report --time 0.004,0.010 t.h5 >out 2>err &&
	! grep -q "outside the trace" err
'

test_expect_success 'bad filters are usage errors naming the option' '
	test_usage_error schedcast report --time 5,3 t.h5 2>e1 && grep -q "bad --time" e1 &&
	test_usage_error schedcast report -C x t.h5 2>e2 && grep -q "bad --cpu" e2 &&
	test_usage_error schedcast report --time abc t.h5 2>e3 && grep -q "bad --time" e3
'

test_done
