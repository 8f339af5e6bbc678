#!/usr/bin/env bash
# The stateful encoder (model file version 3, encoder = "stateful"): a
# windowed model turned stateful by its attribute and version scores with one
# step per completed episode; eval of the windows file and report's features
# straight from the trace agree on it exactly; what cannot carry a task's
# whole history (a version 1 windows file) and inconsistent files are
# refused with one line.  The arithmetic itself is checked by the unit tests
# (test-lstm: test_stateful_*).
. "$(dirname "$0")/lib.sh"

SAMPLE=$TEST_TOP/data/samples/mixed.h5
test_skip_rest_unless_h5py 'the stateful encoder end to end'

# set_attrs IN OUT ENCODER VERSION: a copy of model IN with those root attributes
set_attrs() {
	cp "$1" "$2" &&
	"$PY" - "$2" "$3" "$4" <<-'EOP'
	import sys, h5py, numpy as np
	f = h5py.File(sys.argv[1], "r+")
	f.attrs["encoder"] = np.bytes_(sys.argv[2].encode())
	f.attrs["version"] = np.int64(int(sys.argv[3]))
	f.close()
	EOP
}

test_expect_success 'setup: windows of a sample, a windowed model, the same turned stateful' '
	schedcast features -o w.h5 "$SAMPLE" >/dev/null &&
	schedcast features --windows-version 1 -o w1.h5 "$SAMPLE" >/dev/null &&
	schedcast train -q -o win.h5 --hidden 8 --epochs 1 --threads 2 --seed 1 w.h5 \
		>/dev/null 2>&1 &&
	set_attrs win.h5 st.h5 stateful 3 &&
	schedcast info st.h5 >info &&
	grep -q "^kind: .*version 3" info &&
	grep -q "^encoder: *stateful" info &&
	schedcast info win.h5 | grep -q "^encoder: *window" &&
	schedcast info --json st.h5 | grep -q "\"encoder\": *\"stateful\""
'

test_expect_success 'eval of a stateful model: deterministic, and the same from the trace' '
	schedcast eval --json -m st.h5 w.h5 >e1.json &&
	schedcast eval --json -m st.h5 w.h5 >e2.json &&
	test_cmp e1.json e2.json &&
	schedcast eval --json -m win.h5 w.h5 >ew.json &&
	schedcast report --format json -m st.h5 "$SAMPLE" >r.json &&
	python3 - <<-EOP
	import json
	e = json.load(open("e1.json"))["model"]
	r = json.load(open("r.json"))["prediction"]["model"]
	w = json.load(open("ew.json"))["model"]
	# the windows file replayed episode by episode, and the features engine
	# live on the trace: the same decisions scored alike
	for k in ("top1", "top3", "top1_contested", "top3_contested"):
	    assert e[k] == r[k], (k, e[k], r[k])
	print("# stateful %.4f, windowed %.4f (contested top-1)" %
	      (e["top1_contested"], w["top1_contested"]))
	EOP
'

test_expect_success 'eval --online adapts a stateful model too' '
	schedcast eval --online --json -m st.h5 w.h5 >o.json &&
	grep -q "\"arith\": *\"fixed, online\"" o.json
'

# version 3 stores no episodes: its replay gives them, block by block
test_expect_success 'windows versions 2 and 3 give a stateful model the same eval' '
	schedcast features --windows-version 2 -o w2.h5 "$SAMPLE" >/dev/null &&
	schedcast eval --json -m st.h5 w2.h5 >e2.json &&
	test_cmp e1.json e2.json &&
	schedcast eval --online --json -m st.h5 w2.h5 >o2.json &&
	test_cmp o.json o2.json &&
	schedcast features -C 1 -o c1.h5 "$SAMPLE" >/dev/null &&
	schedcast features -C 1 --windows-version 2 -o c1v2.h5 "$SAMPLE" >/dev/null &&
	schedcast eval --json --split all -m st.h5 c1.h5 >c3.json &&
	schedcast eval --json --split all -m st.h5 c1v2.h5 >c2.json &&
	test_cmp c2.json c3.json
'

test_expect_success 'a version 1 windows file cannot feed a stateful model: one line' '
	test_must_fail schedcast eval -m st.h5 w1.h5 2>err &&
	test_one_line_error err "version 1 windows file" &&
	grep -q "w1.h5" err &&
	schedcast eval -m win.h5 w1.h5 >/dev/null
'

test_expect_success 'a stateful encoder in a version 2 file, an unknown encoder: refused' '
	set_attrs win.h5 bad2.h5 stateful 2 &&
	test_must_fail schedcast info bad2.h5 2>err &&
	test_one_line_error err "bad2.h5" &&
	test_must_fail schedcast eval -m bad2.h5 w.h5 2>err &&
	test_one_line_error err "needs version 3" &&
	set_attrs win.h5 bad3.h5 lstm 3 &&
	test_must_fail schedcast eval -m bad3.h5 w.h5 2>err &&
	test_one_line_error err "unknown encoder" &&
	set_attrs win.h5 win3.h5 window 3 &&
	schedcast eval --json -m win3.h5 w.h5 >e3.json &&
	python3 -c "import json; a=json.load(open(\"ew.json\"))[\"model\"]; b=json.load(open(\"e3.json\"))[\"model\"]; assert a[\"top1\"]==b[\"top1\"]"
'

test_expect_success 'train --encoder stateful: version 3, any thread count alike, validation as eval scores it' '
	schedcast train -q --encoder stateful --linear-epochs 0 --hidden 8 --epochs 1 \
		--threads 1 -o s1.h5 w.h5 >/dev/null 2>&1 &&
	schedcast train -q --encoder stateful --linear-epochs 0 --hidden 8 --epochs 1 \
		--threads 2 -o s2.h5 w.h5 >out 2>&1 &&
	grep -q "stateful, 2 threads" out &&
	schedcast info --json s1.h5 >s1.json &&
	schedcast info --json s2.h5 >s2.json &&
	schedcast eval --split val --json -m s2.h5 w.h5 >sv.json &&
	python3 - <<-EOP
	import json
	a, b = json.load(open("s1.json")), json.load(open("s2.json"))
	assert a["digest"] == b["digest"], (a["digest"], b["digest"])
	assert b["version"] == 3 and b["encoder"] == "stateful", b
	assert b["best_epoch"] == 1, b["best_epoch"]
	# the epoch was chosen on the decisions eval scores, scored the same way
	v = json.load(open("sv.json"))
	right_train = round(b["val_top1"][0] * b["val_decisions"])
	right_eval = round(v["model"]["top1_contested"] * v["contested"])
	assert right_train == right_eval, (right_train, right_eval)
	EOP
'

test_expect_success 'train --encoder stateful: windows versions 2 and 3 train the same model' '
	schedcast train -q --encoder stateful --linear-epochs 0 --hidden 8 --epochs 1 \
		--threads 1 -o s1v2.h5 w2.h5 >/dev/null 2>&1 &&
	schedcast info s1.h5 | grep "^digest" >d3 &&
	schedcast info s1v2.h5 | grep "^digest" >d2 &&
	test_cmp d2 d3
'

test_expect_success 'train --encoder stateful: float, resume, init keep the encoder; refusals' '
	schedcast train -q --encoder stateful --arith float --hidden 8 --epochs 1 \
		--linear-epochs 1 -o sf.h5 w.h5 >/dev/null 2>&1 &&
	schedcast info sf.h5 | grep -q "^encoder: *stateful" &&
	schedcast eval -m sf.h5 w.h5 >/dev/null &&
	cp s2.h5 r.h5 &&
	schedcast train -q --resume --linear-epochs 0 --hidden 8 --epochs 2 --threads 2 \
		-o r.h5 w.h5 >/dev/null 2>&1 &&
	schedcast info r.h5 | grep -q "^encoder: *stateful" &&
	test_must_fail schedcast train -q --init s2.h5 --encoder window -o i.h5 w.h5 2>err &&
	test_one_line_error err "encoder is stateful" &&
	test_must_fail schedcast train -q --encoder stateful -o v1.h5 w1.h5 2>err &&
	test_one_line_error err "version 1 windows file" &&
	test_usage_error schedcast train --encoder lstm w.h5 2>/dev/null
'

if ! why=$(has_tracefs); then
	test_skip 'live with a stateful model matches eval on its trace (tracefs)' "$why"
	test_done
	exit
fi

test_lock bpf	# not while t5300's BPF program slows every switch of the machine
cpu=$(( $(nproc) > 1 ? 1 : 0 ))

test_expect_success 'live with a stateful model matches eval on its trace (tracefs)' '
	schedcast live -m s2.h5 --json --max-lag 60s -o pp.h5 -- \
		taskset -c $cpu schedcast workload -p pingpong --rounds 500 --work 50 \
		>live.json 2>live.err || { cat live.err; false; } &&
	schedcast features -o ppw.h5 pp.h5 >/dev/null &&
	schedcast eval --json --split all -m s2.h5 ppw.h5 >eval.json &&
	python3 - <<-\EOF
	import json
	live, ev = json.load(open("live.json")), json.load(open("eval.json"))
	L = live.pop("live")
	assert L["skipped"] == 0, L
	assert live.pop("split") == "live" and ev.pop("split") == "all"
	assert live == ev, "live and eval differ:\n%s\n%s" % (live, ev)
	print("live == eval on", live["decisions"], "decisions")
	EOF
'

# 1500 short-lived tasks, each completing an episode (its switch-out into
# nanosleep) before it exits: their states are given back as they exit
test_expect_success 'live with a stateful model holds states for the tasks alive only' '
	schedcast live -m s2.h5 --json --max-lag 60s -- \
		taskset -c $cpu sh -c "for i in \$(seq 1500); do sleep 0.001; done" \
		>many.json 2>many.err || { cat many.err; false; } &&
	python3 - <<-\EOF
	import json
	L = json.load(open("many.json"))["live"]
	print("tasks tracked", L["tasks_tracked"], "model states", L["model_states"],
	      "decisions", L["decisions"])
	assert L["decisions"] >= 3000, L
	assert L["model_states"] <= L["tasks_tracked"] < 1500, L
	EOF
'

test_done
