#!/usr/bin/env bash
# schedcast script: perf sched timehist's columns on a hand-computed trace,
# every filter, --json, and line for line against perf sched timehist on
# the perf.data fixture (tests/data/report/perf-sched.timehist-events and
# -wM are perf 6.1's `perf sched timehist` and `timehist -w -M` of it).
. "$(dirname "$0")/lib.sh"

D=$TEST_DATA/report

test_expect_success 'setup: the hand-computed trace' '
	mktrace t.h5 <"$TEST_DATA/script/threads.events"
'

# By hand: run = since the previous switch on the CPU, delay = first wakeup
# to that switch, wait = own last switch-out to that switch (ms).
cat >"$TRASH/expect.all" <<'EOT'
       0.002000 [0000]  <idle>                              0.000      0.000      0.000 
       0.003000 [0001]  <idle>                              0.000      0.000      0.000 
       0.005000 [0000]  a-t1[11/10]                         0.000      1.000      3.000 
       0.007000 [0001]  b[20]                               0.000      0.000      4.000 
       0.009000 [0000]  a-t2[12/10]                         0.000      2.500      4.000 
       0.010000 [0000]  a-t1[11/10]                         4.000      3.000      1.000 
       0.012000 [0000]  a-t2[12/10]                         1.000      0.000      2.000 
EOT

test_expect_success 'the columns: wait, delay and run as computed by hand' '
	schedcast script t.h5 >out &&
	head -1 out | grep -q "time *cpu *task name *wait time *sch delay *run time" &&
	sed 1,3d out >body &&
	test_cmp expect.all body
'

test_expect_success '--pid takes the thread group, --tid one thread' '
	schedcast script t.h5 --pid 10 | sed 1,3d >out &&
	grep -v "<idle>\|b\[20\]" expect.all >expect &&
	test_cmp expect out &&
	schedcast script --tid 12 t.h5 | sed 1,3d >out &&
	grep "a-t2" expect.all >expect &&
	test_cmp expect out
'

test_expect_success '--comm GLOB, -C and --time' '
	schedcast script --comm "a-*" t.h5 | sed 1,3d >out &&
	test $(wc -l <out) = 4 &&
	schedcast script --comm b --comm "a-t2" t.h5 | sed 1,3d >out &&
	test $(wc -l <out) = 3 &&
	schedcast script -C 1 t.h5 | sed 1,3d >out &&
	grep "\[0001\]" expect.all >expect &&
	test_cmp expect out &&
	schedcast script --time 0.006,0.010 t.h5 | sed 1,3d >out &&
	sed -n 4,6p expect.all >expect &&
	test_cmp expect out &&
	schedcast script --time ,0.003 t.h5 | sed 1,3d >out &&
	test $(wc -l <out) = 2
'

test_expect_success '-w shows who woke whom, -n the next task' '
	schedcast script -w -n --tid 11 t.h5 >out &&
	grep -q "0.006000 \[0001\]  b\[20\] .*awakened: a-t1\[11/10\]" out &&
	grep -q "0.005000 \[0000\]  a-t1\[11/10\] .*next: a-t2\[12\]" out
'

test_expect_success '--json: one valid object per line with the same figures' '
	schedcast script --json -w t.h5 >out.json &&
	python3 - <<-EOP
	import json
	rows = [json.loads(l) for l in open("out.json")]
	sw = [r for r in rows if r["event"] == "sched_switch"]
	assert len(sw) == 7 and len(rows) == 10, len(rows)
	r = sw[5]
	assert (r["ts"], r["cpu"], r["pid"], r["tgid"], r["comm"]) == (10000000, 0, 11, 10, "a-t1"), r
	assert (r["wait_ns"], r["delay_ns"], r["run_ns"], r["state"]) == (4000000, 3000000, 1000000, "S"), r
	assert sw[4]["state"] == "R+" and sw[4]["next_pid"] == 11
	w = [r for r in rows if r["event"] == "sched_waking"]
	assert (w[2]["pid"], w[2]["waker_pid"], w[2]["waker_comm"]) == (11, 20, "b"), w[2]
	EOP
'

test_expect_success 'bad filters and files: one line, exit 2 / 1' '
	test_usage_error schedcast script --pid x t.h5 2>err &&
	grep -q "bad --pid" err &&
	test_usage_error schedcast script --time 5 t.h5 2>err &&
	grep -q "bad --time" err &&
	test_usage_error schedcast script -C 0-99999 t.h5 2>err &&
	test_usage_error schedcast script 2>err &&
	echo nope >bad.h5 &&
	test_must_fail schedcast script bad.h5 2>err &&
	test_one_line_error err bad.h5
'

test_skip_rest_unless_command perf 'script agrees with perf sched timehist' \
	'perf is not installed (Debian linux-perf): import cannot read perf.data'

test_expect_success 'script agrees with perf sched timehist line for line' '
	schedcast import -o p.h5 "$D/perf-sched.data" >/dev/null 2>&1 &&
	schedcast script p.h5 >s.txt &&
	python3 "$D/check-script.py" s.txt "$D/perf-sched.timehist-events"
'

test_expect_success 'and with wakeups and migrations (-w -M)' '
	schedcast script -w -M p.h5 >s.txt &&
	python3 "$D/check-script.py" s.txt "$D/perf-sched.timehist-wM" --loose
'

test_expect_success 'the checker fails on a disagreement' '
	schedcast script p.h5 | sed "10s/ 0\.\([0-9]\)/ 1.\1/" >bad.txt &&
	! python3 "$D/check-script.py" bad.txt "$D/perf-sched.timehist-events" >out &&
	grep -q "1 disagreements" out
'

case "$(perf --version 2>/dev/null)" in
"perf version 6.1."*)
	test_expect_success 'the saved timehist outputs are what this perf prints' '
		perf sched timehist -i "$D/perf-sched.data" 2>/dev/null >th.txt &&
		test_cmp "$D/perf-sched.timehist-events" th.txt
	'
	;;
*)
	test_skip 'the saved timehist outputs are what this perf prints' \
		"they were saved from perf 6.1, this is $(perf --version 2>/dev/null)"
	;;
esac

test_done
