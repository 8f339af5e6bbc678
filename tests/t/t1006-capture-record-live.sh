#!/usr/bin/env bash
# record and live -o share one capture driver (collect/capture.c): the same
# metadata in their trace files, and the thread groups of a workload's
# threads in both (live -o had none before).
. "$(dirname "$0")/lib.sh"

if ! why=$(has_tracefs); then
	test_skip 'record and live -o write the same metadata' "$why"
	test_done
	exit
fi

# a workload with two threads alive from before the end of the capture to after it
threads='import threading, time
ts = [threading.Thread(target=time.sleep, args=(4,)) for _ in range(2)]
[t.start() for t in ts]
[t.join() for t in ts]'

PY=$(h5py_python)

test_expect_success 'record and live -o, each with the same workload' '
	schedcast record -q -d 1500ms -o r.h5 -- /usr/bin/python3 -c "$threads" &&
	schedcast live -m "$TEST_TOP/data/models/general.h5" -d 1500ms -o l.h5 -- /usr/bin/python3 -c "$threads" >/dev/null
'

test_expect_success 'the same metadata but for times, counts and the command line' '
	for f in r l; do
		schedcast info --json $f.h5 >$f.json || return 1
	done &&
	python3 - <<-EOP
	import json
	r, l = (json.load(open(f + ".json")) for f in ("r", "l"))
	for k in ("start_ns", "end_ns", "duration_ns", "events", "tasks", "events_by_type",
	          "lost_per_cpu", "lost_total", "command_line", "file"):
	    r.pop(k), l.pop(k)
	assert r == l, (r, l)
	EOP
'

if [ -z "$PY" ]; then
	test_skip 'thread groups of the workload in both files' 'python3-h5py is not installed'
else
	test_expect_success 'thread groups of the workload in both files' '
		for f in r l; do
			"$PY" - $f.h5 <<-EOP || return 1
			import sys, h5py
			t = h5py.File(sys.argv[1], "r")["tasks"][:]
			py = [x for x in t if x["comm"] == b"python3"]
			groups = {}
			for x in py:
			    groups.setdefault(x["tgid"], set()).add(x["pid"])
			# the workload: a leader and its two threads under one tgid
			assert any(g >= 0 and len(p) >= 3 for g, p in groups.items()), groups
			EOP
		done
	'
fi

test_done
