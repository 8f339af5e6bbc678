#!/usr/bin/env bash
# The filters of eval and features (--pid, --tid, --comm, -C, --time): by
# hand on the threads fixture of t4200, and on a generated trace against the
# unfiltered run's own per-CPU and per-task breakdowns.
#
# tests/data/script/threads.events has five decisions (switches to a task):
# 2 ms a-t1 (11) cpu0, 3 ms b (20) cpu1, 5 ms a-t2 (12) cpu0, 9 ms a-t1 cpu0,
# 10 ms a-t2 cpu0; 11 and 12 are threads of process 10.
. "$(dirname "$0")/lib.sh"

# decisions FILE.h5: the decision count of a windows file, as eval reads it
decisions() {
	schedcast eval --split all --json "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["decisions"])'
}

test_expect_success 'setup' '
	mktrace t.h5 <"$TEST_DATA/script/threads.events" &&
	schedcast features -q -o all.h5 t.h5 &&
	test $(decisions all.h5) = 5 &&
	python3 "$TEST_DATA/report/gen-events.py" 20000 | mktrace g.h5 &&
	schedcast features -q -o gall.h5 g.h5 &&
	schedcast eval --split all --json gall.h5 >gall.json
'

test_expect_success 'features: each filter keeps the decisions counted by hand' '
	schedcast features -q -C 0 -o c0.h5 t.h5 && test $(decisions c0.h5) = 4 &&
	schedcast features -q --pid 10 -o p.h5 t.h5 && test $(decisions p.h5) = 4 &&
	schedcast features -q --tid 20 -o tid.h5 t.h5 && test $(decisions tid.h5) = 1 &&
	schedcast features -q --comm "a-t1" -o comm.h5 t.h5 && test $(decisions comm.h5) = 2 &&
	schedcast features -q --time 0.004,0.0095 -o tw.h5 t.h5 && test $(decisions tw.h5) = 2 &&
	schedcast features -q --pid 10 -C 1 -o none.h5 t.h5 && test $(decisions none.h5) = 0
'

test_expect_success 'features --time: the split divides the window (by hand: 2..10 ms, 70% at 7.6 ms)' '
	schedcast features --time 0.002,0.010 -o w.h5 t.h5 >out &&
	grep -q "^w.h5: 5 of 5 decisions pass the filters (train 3, val 0, test 2) " out &&
	schedcast features -C 0 -o c0s.h5 t.h5 >out2 &&
	grep -q "^c0s.h5: 4 of 5 decisions pass the filters (train 2, val 2, test 0) " out2
'

test_expect_success 'eval: each filter scores the decisions counted by hand' '
	test $(schedcast eval --split all --json -C 0 all.h5 | python3 -c "import json, sys; print(json.load(sys.stdin)[\"decisions\"])") = 4 &&
	schedcast eval --split all --pid 10 all.h5 >p.txt &&
	grep -q "^decisions 4 " p.txt &&
	schedcast eval --split all --comm b all.h5 | grep -q "^decisions 1 " &&
	schedcast eval --split all --tid 11,20 all.h5 | grep -q "^decisions 3 " &&
	schedcast eval --split all --time ,0.004 all.h5 | grep -q "^decisions 2 " &&
	schedcast eval --split all --comm "zz*" all.h5 2>err | grep -q "^decisions 0 " &&
	grep -q "that pass the filters" err
'

test_expect_success 'eval -C N and --comm scores what the unfiltered breakdowns count' '
	for c in 0 1 2 3; do
		schedcast eval --split all --json -C $c gall.h5 >c$c.json || return 1
	done &&
	schedcast eval --split all --json --comm t150 gall.h5 >comm.json &&
	schedcast eval --split all --json --tid 150 gall.h5 >tid.json &&
	python3 - <<-EOP
	import json
	a = json.load(open("gall.json"))
	for g in a["per_cpu"]:
	    r = json.load(open("c%d.json" % g["cpu"]))
	    assert (r["decisions"], r["contested"]) == (g["decisions"], g["contested"]), (g, r["decisions"])
	g = [x for x in a["per_comm"] if x["comm"] == "t150"][0]
	for f in ("comm.json", "tid.json"):
	    r = json.load(open(f))
	    assert (r["decisions"], r["contested"]) == (g["decisions"], g["contested"]), (f, g)
	EOP
'

test_expect_success 'features -C 1 then eval equals eval -C 1 (candidate-fact baselines)' '
	schedcast features -q -C 1 -o c1.h5 g.h5 &&
	schedcast eval --split all --json c1.h5 >f.json &&
	python3 - <<-EOP
	import json
	f, e = json.load(open("f.json")), json.load(open("c1.json"))
	for k in ("decisions", "contested", "covered"):
	    assert f[k] == e[k], (k, f[k], e[k])
	# the baselines that read only the candidates facts do not depend on the other decisions
	fb = {b["name"]: b for b in f["baselines"]}
	for b in e["baselines"]:
	    if b["name"] in ("random", "longest-queued", "least-recently-run", "least-recent-cpu"):
	        assert abs(fb[b["name"]]["top1"] - b["top1"]) < 1e-12, b["name"]
	EOP
'

test_expect_success 'features -C 1: versions 2 and 3 rebuild the windows version 1 stores' '
	schedcast features -q -C 1 --windows-version 1 -o c1v1.h5 g.h5 &&
	schedcast features -q -C 1 --windows-version 2 -o c1v2.h5 g.h5 &&
	wincmp c1v1.h5 c1.h5 &&
	wincmp c1v1.h5 c1v2.h5
'

test_expect_success '--comm matches the comm a task had at the decision (exec renames it)' '
	cat >exec.events <<-EOT &&
	@cpus 1
	1000 0 sched_waking pid=30 prio=120 target_cpu=0 comm=old common_pid=0
	2000 0 switch pid=0 prio=120 state=0 next_pid=30 next_prio=120 comm=swapper/0 next_comm=old
	3000 0 switch pid=30 prio=120 state=1 next_pid=0 next_prio=120 comm=old next_comm=swapper/0
	4000 0 sched_waking pid=30 prio=120 target_cpu=0 comm=new common_pid=0
	5000 0 switch pid=0 prio=120 state=0 next_pid=30 next_prio=120 comm=swapper/0 next_comm=new
	6000 0 switch pid=30 prio=120 state=1 next_pid=0 next_prio=120 comm=new next_comm=swapper/0
	EOT
	mktrace exec.h5 <exec.events &&
	schedcast features -q -o ex.h5 exec.h5 && test $(decisions ex.h5) = 2 &&
	schedcast features -q --comm new -o exnew.h5 exec.h5 && test $(decisions exnew.h5) = 1 &&
	schedcast eval --split all --comm old ex.h5 | grep -q "^decisions 1 " &&
	schedcast eval --split all --comm "*" ex.h5 | grep -q "^decisions 2 "
'

test_expect_success 'eval --pid without the input trace: one line naming it, exit 1' '
	mkdir sub && cp all.h5 sub/ && cd sub &&
	test_must_fail schedcast eval --pid 10 all.h5 2>err &&
	test_one_line_error err t.h5 &&
	schedcast eval --split all --tid 20 all.h5 | grep -q "^decisions 1 "
'

test_expect_success 'bad filter values are usage errors' '
	test_usage_error schedcast eval --time x all.h5 2>e1 && grep -q "bad --time" e1 &&
	test_usage_error schedcast features --pid a -o x.h5 t.h5 2>e2 && grep -q "bad --pid" e2 &&
	test ! -e x.h5
'

test_done
