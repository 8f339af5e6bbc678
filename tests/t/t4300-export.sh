#!/usr/bin/env bash
# schedcast export --format perfetto: the Trace Event Format's documented
# fields, exact slices and arrows on a hand-computed trace, and every CPU
# slice of a recorded sample matched to the two switches it came from (read
# with h5py, not with schedcast: tests/data/report/check-perfetto.py).
. "$(dirname "$0")/lib.sh"

D=$TEST_DATA/report
PY_H5=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import h5py' 2>/dev/null; then PY_H5=$p; break; fi
done

test_expect_success 'setup: the hand-computed trace' '
	mktrace t.h5 <"$TEST_DATA/script/threads.events"
'

test_expect_success 'the slices and arrows of the hand-computed trace' '
	schedcast export -o t.json t.h5 2>err &&
	grep -q "t.json: 14 slices, 2 wakeup arrows" err &&
	python3 "$D/check-perfetto.py" t.json &&
	python3 - <<-EOP
	import json
	ev = json.load(open("t.json"))["traceEvents"]
	CPUS = 1073741824
	cpu = sorted((e["tid"], e["ts"], e["dur"], e["args"]["tid"]) for e in ev
	             if e["ph"] == "X" and e["pid"] == CPUS)
	assert cpu == [(0, 2000, 3000, 11), (0, 5000, 4000, 12), (0, 9000, 1000, 11),
	               (0, 10000, 2000, 12), (1, 3000, 4000, 20)], cpu
	task = sorted((e["pid"], e["tid"], e["name"], e["ts"], e["dur"]) for e in ev
	              if e["ph"] == "X" and e["pid"] != CPUS)
	# a-t2 preempted at 9 ms is runnable until 10 ms; woken tasks from their wakeup
	assert (10, 12, "Runnable", 9000, 1000) in task, task
	assert (10, 11, "Runnable", 6000, 3000) in task and (10, 12, "Runnable", 2500, 2500) in task
	assert len([t for t in task if t[2] == "Running"]) == 5
	fl = sorted((e["id"], e["ph"], e["tid"], e["ts"]) for e in ev if e["ph"] in "sf")
	# a-t1 wakes a-t2 at 2.5 ms on cpu0, b wakes a-t1 at 6 ms on cpu1 (the wakeup
	# from idle at 1 ms has no waker slice); each ends 1 ns into the next slice
	assert fl == [(1, "f", 0, 5000.001), (1, "s", 0, 2500), (2, "f", 0, 9000.001),
	              (2, "s", 1, 6000)], fl
	names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e["name"] == "thread_name"}
	assert names[(CPUS, 0)] == "CPU 0" and names[(10, 12)] == "a-t2 12", names
	EOP
'

test_expect_success 'filters: -C, --tid and --time keep the file valid' '
	schedcast export -C 1 -o c1.json t.h5 2>/dev/null &&
	python3 "$D/check-perfetto.py" c1.json &&
	test $(grep -c "\"cat\":\"cpu\"" c1.json) = 1 &&
	schedcast export --tid 12 -o t12.json t.h5 2>/dev/null &&
	python3 "$D/check-perfetto.py" t12.json &&
	test $(grep -c "\"cat\":\"cpu\"" t12.json) = 2 &&
	schedcast export --time 0.006,0.0095 -o tw.json t.h5 2>/dev/null &&
	python3 "$D/check-perfetto.py" tw.json &&
	python3 -c "
import json
ev = json.load(open(\"tw.json\"))[\"traceEvents\"]
x = [e for e in ev if e[\"ph\"] == \"X\"]
assert all(6000 <= e[\"ts\"] and e[\"ts\"] + e[\"dur\"] <= 9500 for e in x), x
assert not [e for e in ev if e[\"ph\"] in \"sf\"]"
'

test_expect_success 'standard output, and refusals: no -o, bad format, bad trace' '
	schedcast export -o - t.h5 | python3 -c "import json,sys; json.load(sys.stdin)" &&
	test_usage_error schedcast export t.h5 2>err &&
	grep -q "no output given" err &&
	test_usage_error schedcast export -f systrace -o x.json t.h5 2>err &&
	grep -q "unknown format" err &&
	echo nope >bad.h5 &&
	test_must_fail schedcast export -o x.json bad.h5 2>err &&
	test_one_line_error err bad.h5 &&
	! test -e x.json
'

if [ -n "$PY_H5" ]; then
	test_expect_success 'a recorded sample: every CPU slice is one switch-in to switch-out' '
		schedcast export -o s.json "$TEST_TOP/data/samples/periodic-hogs.h5" 2>/dev/null &&
		"$PY_H5" "$D/check-perfetto.py" s.json "$TEST_TOP/data/samples/periodic-hogs.h5" >out &&
		cat out &&
		grep -q "CPU slices ([1-9][0-9]* matched to their switches), [1-9][0-9]* flows, 0 problems" out
	'
	test_expect_success 'the checker fails on a slice that no switch made' '
		python3 -c "
import json
d = json.load(open(\"s.json\"))
x = [e for e in d[\"traceEvents\"] if e[\"ph\"] == \"X\" and e[\"cat\"] == \"cpu\"][5]
x[\"dur\"] += 0.5
json.dump(d, open(\"bad.json\", \"w\"))" &&
		! "$PY_H5" "$D/check-perfetto.py" bad.json "$TEST_TOP/data/samples/periodic-hogs.h5" >out &&
		grep -q "the next switch is" out
	'
else
	test_skip 'a recorded sample: every CPU slice is one switch-in to switch-out' 'python3-h5py is not installed'
	test_skip 'the checker fails on a slice that no switch made' 'python3-h5py is not installed'
fi

test_expect_success '--model: a track per CPU of the picks of the model, under the slices they began' '
	rr_trace &&
	schedcast export -m "$TEST_TOP/data/models/general.h5" -o m.json rr.h5 2>err &&
	grep -q "m.json: .* predictions (.* right)" err &&
	python3 "$D/check-perfetto.py" m.json &&
	schedcast report -m "$TEST_TOP/data/models/general.h5" --split all -f json rr.h5 >r.json &&
	python3 - <<-EOP
	import json
	ev = json.load(open("m.json"))["traceEvents"]
	CPUS, MODEL = 1073741824, 1073741825
	cpu = {(e["tid"], e["ts"], e["dur"]): e["args"]["tid"] for e in ev if e["ph"] == "X" and e["pid"] == CPUS}
	pred = [e for e in ev if e["ph"] == "X" and e["pid"] == MODEL]
	assert pred and len(pred) <= len(cpu), (len(pred), len(cpu))
	right = 0
	for e in pred:
	    a = e["args"]
	    # the same span as the CPU slice of the task the kernel picked
	    assert cpu.get((e["tid"], e["ts"], e["dur"])) == a["actual_pid"], e
	    hit = a["predicted_pid"] == a["actual_pid"]
	    assert a["right"] == hit and e["name"].startswith("right: " if hit else "wrong: "), e
	    assert e["cname"] == ("good" if hit else "terrible") and 1 <= a["candidates"], e
	    right += hit
	names = [e["args"]["name"] for e in ev if e["pid"] == MODEL and e["name"] in ("process_name", "thread_name")]
	assert names[0] == "Model general.h5" and "CPU 0" in names, names
	# the same scores as report --model on every decision: those not drawn (no
	# candidates, or still running at the end) can only be hits the export lacks
	p = json.load(open("r.json"))["prediction"]
	hits = round(p["model"]["top1"] * p["decisions"])
	assert right <= hits and len(pred) - right <= p["decisions"] - hits, (right, len(pred), hits, p["decisions"])
	assert p["decisions"] - len(pred) <= 4, (p["decisions"], len(pred))
	EOP
'

test_expect_success '--model with a model that cannot score the trace: one line, no output' '
	schedcast features -q --mode sequence -o seq.h5 rr.h5 &&
	schedcast train --epochs 1 --hidden 4 -o seq-model.h5 seq.h5 >/dev/null 2>&1 &&
	test_must_fail schedcast export -m seq-model.h5 -o refused.json rr.h5 2>err &&
	test_one_line_error err seq-model.h5 &&
	test ! -e refused.json &&
	test_must_fail schedcast export -m nosuch.h5 -o refused.json rr.h5 2>err2 &&
	test_one_line_error err2 nosuch.h5 &&
	test ! -e refused.json
'

test_done
