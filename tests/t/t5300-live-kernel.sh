#!/usr/bin/env bash
# schedcast live --in-kernel: the features and the model as a BPF program,
# checked decision by decision against the userspace engine on the very
# events the program handled.
. "$(dirname "$0")/lib.sh"

SAMPLE=$TEST_TOP/data/samples/mixed.h5

test_expect_success 'usage errors exit 2' '
	test_usage_error schedcast live -m m.h5 --check 2>err &&
	grep -q "give --in-kernel" err &&
	test_usage_error schedcast live -m m.h5 --time-parts 2>err &&
	grep -q "give --in-kernel" err &&
	test_usage_error schedcast live --in-kernel -m m.h5 -o t.h5 2>/dev/null &&
	test_usage_error schedcast live --in-kernel -m m.h5 -b perf 2>/dev/null &&
	schedcast live -h | grep -q "^   or: schedcast live --in-kernel"
'

test_expect_success 'models to run (trained on a sliver of the sample trace)' '
	schedcast features --state basic -o w.h5 --split 2,1,97 "$SAMPLE" >/dev/null &&
	schedcast features -o full.h5 --split 2,1,97 "$SAMPLE" >/dev/null &&
	schedcast train -q -o mfull.h5 --epochs 1 --hidden 8 full.h5 >/dev/null &&
	# an odd hidden size: the paired encoder takes two units at a time
	schedcast train -q -o m.h5 --epochs 1 --hidden 7 w.h5 >/dev/null &&
	schedcast train -q -o big.h5 --epochs 1 --hidden 65 --head 2 w.h5 >/dev/null &&
	schedcast train -q -o float.h5 --epochs 1 --hidden 4 --head 2 --arith float w.h5 >/dev/null
'

test_expect_success 'a model the program cannot hold: one line with the limit, exit 1' '
	test_must_fail schedcast live --in-kernel -m big.h5 -d 1s 2>err &&
	test_one_line_error err big.h5 && grep -q "in-kernel limit of 64" err &&
	test_must_fail schedcast live --in-kernel -m float.h5 -d 1s 2>err &&
	test_one_line_error err float.h5
'

test_expect_success 'a build without BPF links without libbpf and says why --in-kernel is unavailable' '
	nobpf=$(command -v schedcast-nobpf) &&
	! ldd "$nobpf" | grep -q libbpf &&
	test_must_fail schedcast-nobpf live --in-kernel -m m.h5 -d 1s 2>err &&
	test_one_line_error err "built without BPF support" &&
	grep -q "needs clang, bpftool, libbpf-dev" err
'

test_expect_success 'a model of the full state set: one line naming --state basic, exit 1' '
	test_must_fail schedcast live --in-kernel -m mfull.h5 -d 1s 2>err &&
	test_one_line_error err mfull.h5 && grep -q "state basic" err
'

# has_bpf - root, BTF, and a schedcast built with the BPF program
has_bpf() {
	[ "$(id -u)" = 0 ] || { echo "not root"; return 1; }
	[ -r /sys/kernel/btf/vmlinux ] || { echo "the kernel has no BTF"; return 1; }
	if schedcast live --in-kernel -m m.h5 -d 10ms 2>&1 >/dev/null | grep -q "without BPF"; then
		echo "schedcast was built without BPF support"
		return 1
	fi
	return 0
}

test_lock bpf	# not beside t1004 (kallsyms changes) or t5100 (every switch slower)
if ! why=$(cd "$TRASH" && has_bpf); then
	test_skip 'a verifier refusal: its last lines in one line, the whole log in a file' "$why"
	test_skip 'in-kernel predictions equal userspace on the same events' "$why"
	test_skip 'head rows with a zero output weight left out (none: no encoder); gate and head rows paired when they fit' "$why"
	test_skip 'a stateful model: one step per completed episode, predictions equal userspace' "$why"
	test_skip 'a recurrent width under H: the same predictions as userspace, paired or not' "$why"
	test_skip 'the text summary: counters, cost, baselines' "$why"
	test_done
	exit
fi

test_expect_success 'a verifier refusal: its last lines in one line, the whole log in a file' '
	(export TMPDIR="$TRASH" SCHEDCAST_BPF_FAULT=verifier &&
	 test_must_fail schedcast live --in-kernel -m m.h5 -d 1s 2>err) &&
	test_one_line_error err "the kernel refused the in-kernel predictor" &&
	grep -q "invalid mem access" err &&
	grep -q "full log in $TRASH/schedcast-bpf-verifier.log" err &&
	grep -q "invalid mem access" schedcast-bpf-verifier.log &&
	grep -q "on_exit" schedcast-bpf-verifier.log
'

test_expect_success 'in-kernel predictions equal userspace on the same events' '
	schedcast live --in-kernel --check --json -m m.h5 -- \
		schedcast workload -p pingpong,forks -d 1s --rounds 2000 --work 50 \
		>k.json 2>k.err || { cat k.err; false; } &&
	python3 - <<-\EOF
	import json
	k = json.load(open("k.json"))
	c, L = k["check"], k["live"]
	assert L["backend"] == "bpf", L
	assert c["ring_drops"] == 0, c
	assert c["different"] == 0, c
	assert c["decisions"] >= 1000 and c["same"] + c["uncovered"] == c["decisions"], c
	# uncovered: decisions that raced with a change of their queue from
	# the other CPU, or saw a stale queue entry (the program says so and
	# they are not compared): rare
	assert c["uncovered"] <= c["decisions"] // 100, c
	assert c["uncovered"] == k["kernel"]["uncovered"], (c, k["kernel"])
	assert k["kernel"]["uncovered_ring"] == 0, k["kernel"]
	assert k["decisions"] == c["decisions"], (k["decisions"], c)
	assert k["kernel_ns_per_decision"] > 0, k
	progs = {p["name"]: p for p in k["kernel"]["programs"]}
	assert progs["on_switch"]["run_cnt"] >= k["decisions"], progs
	assert 0 < k["covered"] <= k["decisions"], k
	names = [b["name"] for b in k["baselines"]]
	assert names == ["random", "longest-queued", "least-recently-run"], names
	print("kernel == userspace on", c["same"], "decisions")
	EOF
'

# head_w2 MODEL W2 OUT: MODEL with head/w2 set by the python expression W2
# (of i and M) written to OUT: the same network with other output weights
head_w2() {
	cp "$1" "$3" &&
	"$PY" - "$3" "$2" <<-\EOF
	import sys, h5py, numpy as np
	with h5py.File(sys.argv[1], "r+") as f:
	    w2 = f["weights/head/w2"]
	    M = w2.size
	    w2[...] = np.array([eval(sys.argv[2]) for i in range(M)],
	                       dtype=w2.dtype).reshape(w2.shape)
	EOF
}

PY=$(h5py_python)
if [ -n "$PY" ]; then
# wide_wx MODEL OUT: MODEL with one input weight row of the LSTM at 20000
# (Q3.12): its sums may leave 32 bits, the encoder must not pair the rows
wide_wx() {
	cp "$1" "$2" &&
	"$PY" - "$2" <<-\EOF
	import sys, h5py
	with h5py.File(sys.argv[1], "r+") as f:
	    w = f["weights/lstm/w_x"]
	    a = w[...]
	    a[3, :] = 20000
	    w[...] = a
	EOF
}

# wide_w1 MODEL OUT: MODEL with the head's first row at 30000 (Q3.12) on
# every input: its sum may leave 32 bits, the head must not pair its rows
wide_w1() {
	cp "$1" "$2" &&
	"$PY" - "$2" <<-\EOF
	import sys, h5py
	with h5py.File(sys.argv[1], "r+") as f:
	    w = f["weights/head/w1"]
	    a = w[...]
	    a[0, :] = 30000
	    w[...] = a
	EOF
}

test_expect_success 'head rows with a zero output weight left out (none: no encoder); gate and head rows paired when they fit' '
	head_w2 m.h5 "0 if i % 2 else 300" half.h5 &&
	head_w2 m.h5 "0" lin.h5 &&
	wide_wx half.h5 wide.h5 &&
	wide_w1 half.h5 whead.h5 &&
	for mm in half lin wide whead; do
		schedcast live --in-kernel --check --json -m $mm.h5 -- \
			schedcast workload -p pingpong,forks -d 1s --rounds 1000 --work 50 \
			>$mm.json 2>$mm.err || { cat $mm.err; return 1; }
	done &&
	"$PY" - <<-\EOF
	import json, h5py
	M = h5py.File("m.h5", "r")["weights/head/w2"].size
	for name, rows, paired, hpaired in (("half", (M + 1) // 2, True, True),
	                                    ("lin", 0, True, False),
	                                    ("wide", (M + 1) // 2, False, True),
	                                    ("whead", (M + 1) // 2, True, False)):
	    k = json.load(open(name + ".json"))
	    c, kk = k["check"], k["kernel"]
	    assert c["different"] == 0 and c["ring_drops"] == 0, (name, c)
	    assert c["same"] >= 500, (name, c)
	    assert kk["head_rows"] == rows, (name, kk["head_rows"], rows)
	    assert (kk["encodes"] == 0) == (rows == 0), (name, kk["encodes"])
	    assert kk["paired_rows"] == paired, (name, kk["paired_rows"])
	    assert kk["paired_head_rows"] == hpaired, (name, kk["paired_head_rows"])
	EOF
	# the encoder line needs contested decisions: an idle machine has none
	schedcast live --in-kernel -m wide.h5 -- \
		schedcast workload -p pingpong,forks -d 1s --rounds 1000 --work 50 \
		>out 2>/dev/null &&
	grep -q "one gate row per multiply (the weights are too large to pair)" out &&
	schedcast live --in-kernel -m lin.h5 -d 200ms >out 2>/dev/null &&
	grep -q "encoder: never run (the model kept its linear path alone" out
'

# stateful MODEL OUT: MODEL turned stateful (encoder attribute, version 3):
# the same tensors, one encoder step per completed episode
stateful() {
	cp "$1" "$2" &&
	"$PY" - "$2" <<-\EOF
	import sys, h5py, numpy as np
	with h5py.File(sys.argv[1], "r+") as f:
	    f.attrs["encoder"] = np.bytes_(b"stateful")
	    f.attrs["version"] = np.int64(3)
	EOF
}

test_expect_success 'a stateful model: one step per completed episode, predictions equal userspace' '
	stateful half.h5 st.h5 &&
	stateful wide.h5 stwide.h5 &&
	for mm in st stwide; do
		schedcast live --in-kernel --check --json -m $mm.h5 -- \
			schedcast workload -p pingpong,forks -d 1s --rounds 2000 --work 50 \
			>$mm.json 2>$mm.err || { cat $mm.err; return 1; }
	done &&
	"$PY" - <<-\EOF
	import json
	for name, paired in (("st", True), ("stwide", False)):
	    k = json.load(open(name + ".json"))
	    c, kk = k["check"], k["kernel"]
	    assert kk["encoder"] == "stateful" and kk["head_rows"] > 0, (name, kk)
	    assert kk["paired_rows"] == paired, (name, kk)
	    assert c["different"] == 0 and c["ring_drops"] == 0, (name, c)
	    assert c["same"] >= 1000 and c["uncovered"] <= c["decisions"] // 100, (name, c)
	    # a step at every completed episode: about one a switch here
	    assert kk["steps"] >= c["decisions"] // 4, (name, kk["steps"], c)
	    # no --time-parts: the parts are not clocked
	    assert kk["parts_timed"] is False and kk["step_ns"] is None, (name, kk)
	EOF
	schedcast live --in-kernel -m st.h5 -d 300ms >out 2>/dev/null &&
	grep -q "encoder (stateful): [0-9]* steps (one per completed episode)" out
'

# train --recurrent R: the step reads the columns of W_h in groups of four up
# to R (R = 3: one group, its last column zero; R = 21: six groups, three
# zero columns); a windowed model with a wide input row takes the unpaired
# step, which reads them the same way
test_expect_success 'a recurrent width under H: the same predictions as userspace, paired or not' '
	schedcast train -q -o r3.h5 --epochs 1 --hidden 7 --recurrent 3 --encoder stateful \
		--linear-epochs 0 w.h5 >/dev/null &&
	schedcast train -q -o r21.h5 --epochs 1 --hidden 24 --head 4 --recurrent 21 \
		--linear-epochs 0 w.h5 >/dev/null &&
	wide_wx r21.h5 r21wide.h5 &&
	for mm in r3 r21 r21wide; do
		schedcast live --in-kernel --check --json -m $mm.h5 -- \
			schedcast workload -p pingpong,forks -d 1s --rounds 2000 --work 50 \
			>$mm.json 2>$mm.err || { cat $mm.err; return 1; }
	done &&
	"$PY" - <<-\EOF
	import json
	for name, enc, H, R, paired in (("r3", "stateful", 7, 3, True),
	                                ("r21", "window", 24, 21, True),
	                                ("r21wide", "window", 24, 21, False)):
	    k = json.load(open(name + ".json"))
	    c, kk = k["check"], k["kernel"]
	    assert kk["encoder"] == enc and kk["head_rows"] > 0, (name, kk)
	    assert (kk["hidden"], kk["recurrent"]) == (H, R), (name, kk)
	    assert kk["paired_rows"] == paired, (name, kk)
	    assert c["different"] == 0 and c["ring_drops"] == 0, (name, c)
	    assert c["same"] >= 1000 and c["uncovered"] <= c["decisions"] // 100, (name, c)
	    assert kk["encodes"] > 0, (name, kk)
	    print("# %s: %d same, %d uncovered" % (name, c["same"], c["uncovered"]))
	EOF
	schedcast live --in-kernel -m r3.h5 -- \
		schedcast workload -p pingpong,forks -d 1s --rounds 1000 --work 50 \
		>out 2>/dev/null &&
	grep -q "h\[0..2\] of 7 units fed back (recurrent width 3)" out
'
else
	test_skip 'head rows with a zero output weight left out (none: no encoder); gate and head rows paired when they fit' \
		'python3-h5py is not installed'
	test_skip 'a stateful model: one step per completed episode, predictions equal userspace' \
		'python3-h5py is not installed'
	test_skip 'a recurrent width under H: the same predictions as userspace, paired or not' \
		'python3-h5py is not installed'
fi

test_expect_success 'the text summary: counters, cost, baselines' '
	schedcast live --in-kernel -m m.h5 -d 1s -w >out 2>err || { cat err; false; } &&
	{
		grep -q "in the kernel (BPF) on" out &&
		grep -q "^kernel: [0-9]* ns of CPU per decision" out &&
		grep -E -q "^(  |!!)model \(fixed\)" out &&
		grep -q "longest-queued" out && grep -q "least-recently-run" out &&
		! grep -q "per task" out || { cat out err; false; }
	} &&
	# the parts are clocked only when asked: the clock costs time of its own
	! grep -q "ns each" out &&
	schedcast live --in-kernel --time-parts -m m.h5 -d 1s -w >out 2>err || { cat err; false; } &&
	grep -q "^  decisions: [0-9]* ns each" out
'

test_done
