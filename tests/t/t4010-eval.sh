#!/usr/bin/env bash
# schedcast eval end to end: a synthetic trace whose answers are known
# (tests/data/report/rr-trace.py: on cpu0 four tasks take turns, each
# preempted after its burst, so the kernel always picks the longest-queued
# of the three queued; cpu1 runs a ping-pong pair, one candidate each time),
# golden outputs, the model path and every refusal.
. "$(dirname "$0")/lib.sh"

D=$TEST_DATA/report

test_expect_success 'setup: trace and windows' '
	rr_trace windows &&
	schedcast features --mode sequence -o seq.h5 rr.h5 >/dev/null
'

test_expect_success 'the known answers: longest-queued always right, random exactly 1/3' '
	schedcast eval --split all --json w.h5 >all.json &&
	python3 - <<-EOP
	import json
	r = json.load(open("all.json"))
	bl = {b["name"]: b for b in r["baselines"]}
	# 201 decisions per CPU; the first pick on each CPU (from idle) was never queued
	assert (r["decisions"], r["contested"], r["covered"]) == (402, 201, 400), r
	assert r["model"] is None
	assert abs(r["chance_top1_contested"] - 1 / 3) < 1e-6
	assert abs(bl["longest-queued"]["top1_contested"] - 200 / 201) < 1e-6, bl["longest-queued"]
	assert abs(bl["random"]["top1_contested"] - 200 / 3 / 201) < 1e-6, bl["random"]
	assert abs(bl["random"]["top3_contested"] - 200 / 201) < 1e-6
	assert r["best_baseline"] == "longest-queued"
	assert list(bl) == ["random", "longest-queued", "least-recently-run", "least-recent-cpu",
	                    "most-frequent", "markov1", "markov2"]
	lo, hi = bl["longest-queued"]["ci95"]["top1_contested"]
	assert lo < 200 / 201 < hi <= 1
	assert [c["cpu"] for c in r["per_cpu"]] == [0, 1]
	assert r["per_cpu"][1]["contested"] == 0
	assert {"actual", "predicted", "count"} <= set(r["mispredictions"][0])
	# mispredictions name the task by pid too (rr-b is pid 11 in rr-trace.py)
	m = r["mispredictions"][0]
	assert (m["predicted"], m["predicted_pid"]) == ("rr-b", 11) and "actual_pid" not in m, m
	assert len(r["over_time"]) > 0 and len(r["by_candidates"]) > 0
	EOP
'

test_expect_success 'golden outputs (text and JSON) of eval' '
	schedcast eval --split all w.h5 | sed 1d >out.txt &&
	test_cmp "$D/rr-eval.txt" out.txt &&
	schedcast eval --split all --json w.h5 >out.json &&
	test_cmp "$D/rr-eval.json" out.json
'

test_expect_success 'sequence mode: the same metrics over the vocabulary' '
	schedcast eval --split all --json seq.h5 >seq.json &&
	python3 - <<-EOP
	import json
	r = json.load(open("seq.json"))
	names = [b["name"] for b in r["baselines"]]
	assert r["mode"] == "sequence" and names == ["random", "most-frequent", "markov1", "markov2"], names
	assert r["decisions"] == r["contested"] == 402
	# the vocabulary: <unknown> and six comms
	assert abs(r["chance_top1"] - 1 / 7) < 1e-6, r["chance_top1"]
	bl = {b["name"]: b for b in r["baselines"]}
	assert bl["markov1"]["top1"] > 0.95 and bl["markov1"]["top1"] > bl["most-frequent"]["top1"]
	EOP
'

test_expect_success 'the default split is test, and split val works' '
	schedcast eval --json w.h5 | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"split\"]==\"test\" and 0 < d[\"decisions\"] < 402, d[\"decisions\"]" &&
	schedcast eval --split val --json w.h5 | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"split\"]==\"val\" and 0 < d[\"decisions\"] < 402"
'

test_expect_success 'with a model: scored beside the baselines, marked when not better' '
	schedcast train -o m.h5 --epochs 1 --hidden 8 w.h5 >/dev/null 2>&1 &&
	schedcast eval -m m.h5 --json w.h5 >m.json &&
	python3 - <<-EOP
	import json
	r = json.load(open("m.json"))
	m = r["model"]
	assert m["name"] == "m.h5" and m["arith"] == "fixed", m
	for k in ("top1", "top3", "top1_contested", "ci95", "beats_best_baseline"):
	    assert k in m, k
	best = [b for b in r["baselines"] if b["name"] == r["best_baseline"]][0]
	assert m["beats_best_baseline"] == (m["top1_contested"] > best["top1_contested"])
	EOP
	schedcast eval -m m.h5 w.h5 >m.txt &&
	if python3 -c "import json; exit(0 if json.load(open(\"m.json\"))[\"model\"][\"beats_best_baseline\"] else 1)"
	then ! grep -q "^!!" m.txt
	else grep -q "^!!model" m.txt && grep -q "^!! the model does not beat the best baseline" m.txt
	fi
'

test_expect_success 'report --windows/--model adds the prediction section' '
	schedcast report rr.h5 -w w.h5 -m m.h5 >rep.txt &&
	grep -q "^prediction (m.h5)" rep.txt &&
	schedcast report -f json rr.h5 -w w.h5 >rep.json &&
	python3 -c "import json; d=json.load(open(\"rep.json\")); assert d[\"prediction\"][\"decisions\"] > 0 and d[\"prediction\"][\"model\"] is None"
'

test_expect_success 'report TRACE --model scores the same as eval on its windows' '
	schedcast report -f json rr.h5 --model m.h5 >tm.json &&
	schedcast eval -m m.h5 --json w.h5 >em.json &&
	python3 -c "
import json
a = json.load(open(\"tm.json\"))[\"prediction\"]
b = json.load(open(\"em.json\"))
assert a == b, (a, b)"
'

test_expect_success 'a model for another feature set or mode is refused' '
	schedcast features -K 4 -o k4.h5 rr.h5 >/dev/null &&
	test_must_fail schedcast eval -m m.h5 k4.h5 2>err && test_one_line_error err k4.h5 &&
	test_must_fail schedcast eval -m m.h5 seq.h5 2>err && test_one_line_error err seq.h5
'

# Comms are arbitrary bytes (cut at 15 by the kernel, splitting UTF-8):
# rr-a is a spreadsheet formula, rr-b a cut UTF-8 character, rr-c an ESC
# sequence.  The eval JSON stays valid UTF-8, the text shows no control byte.
test_expect_success 'hostile comms: eval JSON is valid UTF-8, text has no control bytes' '
	sed -e "s/=rr-a /==HYPERLINK(\"x\") /g" -e "s/=rr-b /=caf\\\\xc3 /g" \
	    -e "s/=rr-c /=\\\\x1b[2J@c /g" rr.events >h.events &&
	grep -q "HYPERLINK" h.events && grep -q "xc3" h.events &&
	mktrace h.h5 <h.events &&
	schedcast features -o hw.h5 h.h5 >/dev/null &&
	schedcast eval --split all --json hw.h5 >h.json &&
	schedcast eval --split all hw.h5 >h.txt &&
	python3 - <<-EOP
	import json
	r = json.loads(open("h.json", "rb").read().decode("utf-8"))
	names = {g["comm"] for g in r["per_comm"]}
	assert {"=HYPERLINK(\"x\")", "caf\ufffd", "\x1b[2J@c", "rr-d"} <= names, ascii(names)
	for m in r["mispredictions"]:
	    m["actual"].encode("utf-8"), m["predicted"].encode("utf-8")
	s = open("h.txt", "rb").read().decode("utf-8")
	bad = [c for c in s if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) < 0xa0]
	assert not bad, ascii(bad)
	assert "\\\\x1b[2J@c" in s and "caf\ufffd" in s, s
	EOP
'

test_expect_success '--online: the model follows a rule that flips in the test split' '
	mkwindows -d -n 3000 drift.h5 &&
	schedcast train -q -o drift-model.h5 --hidden 8 --epochs 1 drift.h5 >/dev/null &&
	schedcast eval -m drift-model.h5 --online --online-lr 0.01 drift.h5 >on &&
	grep -q "^  model (fixed, online)" on &&
	frozen=$(sed -n "s/^  model, frozen *\([0-9.]*\)%.*/\1/p" on) &&
	online=$(sed -n "s/^  model, online *\([0-9.]*\)%.*/\1/p" on) &&
	best=$(sed -n "s/^  best baseline *\([0-9.]*\)%.*/\1/p" on) &&
	echo "frozen $frozen online $online best baseline $best" &&
	awk -v f="$frozen" -v o="$online" -v b="$best" "BEGIN { exit !(f < 5 && o > 80 && o > b) }" &&
	schedcast eval -m drift-model.h5 --online --json drift.h5 >on.json &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert \"online\" in json.dumps(d)" on.json &&
	test_usage_error schedcast eval --online drift.h5 2>/dev/null &&
	test_usage_error schedcast eval -m drift-model.h5 --online-lr 2 drift.h5 2>/dev/null
'

test_expect_success 'bad inputs: one line naming the file, exit 1' '
	test_must_fail schedcast eval "$D/windows-newer.h5" 2>err &&
	test_one_line_error err windows-newer.h5 && grep -q newer err &&
	test_must_fail schedcast eval rr.h5 2>err && test_one_line_error err rr.h5 &&
	test_must_fail schedcast eval nope.h5 2>err && test_one_line_error err nope.h5 &&
	test_must_fail schedcast eval -m rr.h5 w.h5 2>err && test_one_line_error err rr.h5 &&
	head -c 3000 w.h5 >trunc.h5 &&
	test_must_fail schedcast eval trunc.h5 2>err && test_one_line_error err trunc.h5
'

test_expect_success 'usage errors exit 2' '
	test_usage_error schedcast eval 2>/dev/null &&
	test_usage_error schedcast eval --split train w.h5 2>/dev/null &&
	test_usage_error schedcast eval --bogus w.h5 2>/dev/null &&
	test_usage_error schedcast eval w.h5 w.h5 2>/dev/null &&
	schedcast eval -h | grep -q "^usage: schedcast eval"
'

test_done
