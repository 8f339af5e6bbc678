#!/usr/bin/env bash
# schedcast report: task filters, --by process|comm, wakeup latency apart
# from preemption delay, max-delay times and migrations by CPU pair, on the
# hand-computed trace of t4200 (tests/data/script/threads.events): threads
# 11 and 12 of process 10 on cpu0, task 20 on cpu1.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	mktrace t.h5 <"$TEST_DATA/script/threads.events" &&
	cat >mig.txt <<-EOT &&
	@cpus 3
	1000 0 switch pid=0 prio=120 state=0 next_pid=5 next_prio=120 comm=swapper/0 next_comm=m
	2000 0 sched_migrate_task pid=6 prio=120 orig_cpu=0 dest_cpu=1 comm=m common_pid=5
	3000 0 sched_migrate_task pid=6 prio=120 orig_cpu=0 dest_cpu=1 comm=m common_pid=5
	4000 1 sched_migrate_task pid=6 prio=120 orig_cpu=1 dest_cpu=2 comm=m common_pid=0
	5000 2 sched_migrate_task pid=5 prio=120 orig_cpu=2 dest_cpu=0 comm=m common_pid=0
	EOT
	mktrace m.h5 <mig.txt
'

test_expect_success 'wakeup latency and preemption delay apart (by hand: 1, 2.5, 3 ms woken; 1 ms preempted)' '
	schedcast report -f json t.h5 >r.json &&
	python3 - <<-EOP
	import json
	r = json.load(open("r.json"))
	w, p = r["wakeup_latency"], r["preemption_delay"]
	assert (w["n"], w["total_ns"], w["min_ns"], w["max_ns"]) == (3, 6500000, 1000000, 3000000), w
	assert (p["n"], p["total_ns"], p["max_ns"]) == (1, 1000000, 1000000), p
	t = {x["pid"]: x for x in r["tasks"]}
	# a-t1: woken at 6 ms, ran at 9 ms; a-t2: woken at 2.5, ran at 5
	assert (t[11]["max_delay_start_ns"], t[11]["max_delay_end_ns"]) == (6000000, 9000000), t[11]
	assert (t[12]["max_delay_start_ns"], t[12]["max_delay_end_ns"]) == (2500000, 5000000), t[12]
	assert t[12]["preemption_delay"]["n"] == 1 and t[12]["wakeup_latency"]["n"] == 1
	assert t[11]["tgid"] == 10 and t[12]["tgid"] == 10 and "tgid" not in t[20]
	EOP
	schedcast report t.h5 >r.txt &&
	grep -q "^  wakeup latency  *3     2.167 .*3.000$" r.txt &&
	grep -q "^  preemption delay  *1     1.000 " r.txt &&
	grep -q "^ *11 a-t1 .* 3.000  *0.006000$" r.txt
'

test_expect_success '--by process sums the thread group, --by comm the comm' '
	schedcast report --by process t.h5 >p.txt &&
	grep -q "^ *10 a-t2:(2 threads) *10.000  *4  *4  *1.875 .*3.000  *0  *1$" p.txt &&
	grep -q "^ *20 b:(1 thread) *4.000  *1  *0 " p.txt &&
	schedcast report --by comm t.h5 >c.txt &&
	grep -q "^ *a-t1:(1 thread) *4.000  *2  *2 " c.txt &&
	test_usage_error schedcast report --by cpu t.h5 2>err &&
	grep -q "bad --by" err
'

test_expect_success '--pid, --tid and --comm choose the tasks listed' '
	schedcast report -f json --pid 10 t.h5 | python3 -c "
import json, sys
assert sorted(t[\"pid\"] for t in json.load(sys.stdin)[\"tasks\"]) == [11, 12]" &&
	schedcast report -f json --tid 20 t.h5 | python3 -c "
import json, sys
assert [t[\"pid\"] for t in json.load(sys.stdin)[\"tasks\"]] == [20]" &&
	schedcast report -f csv --comm "a-*" --comm b t.h5 >all.csv &&
	test $(wc -l <all.csv) = 4 &&
	schedcast report --comm "zz*" t.h5 >none.txt &&
	! grep -q "a-t1" none.txt
'

test_expect_success 'migrations by CPU pair (by hand: 0->1 twice, 1->2, 2->0)' '
	schedcast report -f json m.h5 | python3 -c "
import json, sys
m = json.load(sys.stdin)[\"migrations_by_cpu_pair\"]
assert m == [{\"from\": 0, \"to\": 1, \"count\": 2}, {\"from\": 1, \"to\": 2, \"count\": 1},
             {\"from\": 2, \"to\": 0, \"count\": 1}], m" &&
	schedcast report m.h5 | grep -q "^  cpu0 -> cpu1        2  cpu1 -> cpu2        1  cpu2 -> cpu0        1$"
'

test_expect_success 'the default table says how many tasks it left out' '
	schedcast report --top 1 t.h5 >out &&
	grep -q "(2 tasks left out: --all shows every task, --top N the first N)" out &&
	schedcast report --all t.h5 >out &&
	! grep -q "left out" out
'

test_done
