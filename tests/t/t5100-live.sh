#!/usr/bin/env bash
# schedcast live: scoring the kernel's decisions as they happen, and agreeing
# with features + eval on the trace it writes.
. "$(dirname "$0")/lib.sh"

SAMPLE=$TEST_TOP/data/samples/mixed.h5

test_expect_success 'usage errors exit 2' '
	test_usage_error schedcast live 2>err && grep -q "no model" err &&
	test_usage_error schedcast live -m m.h5 --max-lag 1ms 2>/dev/null &&
	test_usage_error schedcast live -m m.h5 -d never 2>/dev/null &&
	test_usage_error schedcast live -m m.h5 -b nosuch 2>/dev/null &&
	test_usage_error schedcast live -m m.h5 -w -- true 2>/dev/null &&
	test_usage_error schedcast live -m m.h5 stray 2>/dev/null &&
	test_usage_error schedcast live --in-kernel --online -m m.h5 2>/dev/null &&
	schedcast live -h | grep -q "^usage: schedcast live"
'

test_expect_success 'a missing or foreign model: one line naming it, exit 1' '
	test_must_fail schedcast live -m nope.h5 -d 1s 2>err &&
	test_one_line_error err nope.h5 &&
	test_must_fail schedcast live -m "$SAMPLE" -d 1s 2>err &&
	test_one_line_error err mixed.h5
'

# A small model, quickly: train on a tenth of the sample's decisions.
test_expect_success 'a model to run (trained on the sample trace)' '
	schedcast features -o w.h5 --split 10,5,85 "$SAMPLE" >/dev/null &&
	schedcast train -q -o m.h5 --epochs 1 --hidden 8 w.h5 >/dev/null &&
	test -s m.h5
'

if ! why=$(has_tracefs); then
	test_skip 'live scoring of a pinned ping-pong matches eval on its trace (tracefs, perf)' "$why"
	test_skip 'the text summary and the written trace' "$why"
	test_skip 'live --online: the model row is the online model' "$why"
	test_done
	exit
fi

test_lock bpf	# not while t5300's BPF program slows every switch of the machine
cpu=$(( $(nproc) > 1 ? 1 : 0 ))
rounds=1000

for backend in tracefs perf; do
test_expect_success "live scoring of a pinned ping-pong matches eval on its trace ($backend)" '
	schedcast live -b $backend -m m.h5 --json --max-lag 60s -o pp.h5 -- \
		taskset -c $cpu schedcast workload -p pingpong --rounds $rounds --work 50 \
		>live.json 2>live.err || { cat live.err; false; } &&
	schedcast features -o ppw.h5 pp.h5 >/dev/null &&
	schedcast eval --json --split all -m m.h5 ppw.h5 >eval.json &&
	python3 - $rounds <<-\EOF
	import json, sys
	rounds = int(sys.argv[1])
	live, ev = json.load(open("live.json")), json.load(open("eval.json"))
	L = live.pop("live")
	assert L["skipped"] == 0, L
	assert live.pop("split") == "live" and ev.pop("split") == "all"
	# every figure: counts, accuracies, baselines, breakdowns, mispredictions
	assert live == ev, "live and eval differ:\n%s\n%s" % (live, ev)
	assert L["decisions"] == live["decisions"], (L, live["decisions"])
	comms = {c["comm"]: c for c in live["per_comm"]}
	for name in ("sc-ping", "sc-pong"):
	    c = comms[name]
	    # each pick of the pair is one decision (unless the kernel dropped
	    # events: a busy machine), and a simple baseline gets them
	    if L["lost"] == 0:
	        assert c["decisions"] >= rounds - 1, (c, L)
	    assert c["best_baseline_top1"] >= 0.8, (c, L)
	print("live == eval on", live["decisions"], "decisions")
	EOF
'
done

test_expect_success 'falling behind is said and counted, never hidden' '
	schedcast live -m m.h5 --json --max-lag 10ms -o lag.h5 -- \
		schedcast workload -p pingpong,forks -d 1s --rounds 3000 --work 20 >lag.json 2>lag.err &&
	schedcast features -o lagw.h5 lag.h5 >/dev/null &&
	schedcast eval --json --split all -m m.h5 lagw.h5 >lageval.json &&
	python3 - <<-\EOF
	import json
	live, ev = json.load(open("lag.json")), json.load(open("lageval.json"))
	L = live["live"]
	err = open("lag.err").read()
	# every decision is either scored or counted as skipped
	assert live["decisions"] + L["skipped"] == L["decisions"] == ev["decisions"], (L, live["decisions"], ev["decisions"])
	if L["skipped"]:
	    assert L["fell_behind"] >= 1, L
	    assert "fell behind the kernel" in err and "%d of %d decisions were not scored" % (L["skipped"], L["decisions"]) in err, err
	else:
	    assert "fell behind" not in err, err
	print("skipped", L["skipped"], "of", L["decisions"])
	EOF
'

test_expect_success 'the text summary and the written trace' '
	schedcast live -m m.h5 -d 300ms -o t.h5 >out 2>err || { cat err; false; } &&
	{ grep -q "^live: .* with tracefs on [0-9]* CPUs: [0-9]* events, [0-9]* decisions" out &&
	  grep -q "^..model (fixed) " out &&
	  grep -q "^wrote t.h5" out || { head -8 out; cat err; false; }; } &&
	schedcast info t.h5 >info &&
	grep -q "^source: *live-tracefs" info
'

test_expect_success 'live --online: the model row is the online model' '
	schedcast live -m m.h5 --online -d 300ms >out 2>err || { cat err; false; } &&
	{ grep -q "^..model (fixed, online) " out || { head -8 out; cat err; false; }; }
'

test_done
