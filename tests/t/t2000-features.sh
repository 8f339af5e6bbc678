#!/usr/bin/env bash
# schedcast features on hand-written traces: every rule's effect as seen by
# `schedcast info`, several traces, the split, sequence mode, bad inputs.
# (The exact features of each rule are checked in tests/unit/test-features.c.)
. "$(dirname "$0")/lib.sh"

# jq-free JSON checks: jget FILE EXPR prints the value of python EXPR on d
jget() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# sw TS CPU PREV STATE NEXT: a sched_switch line (common_pid = prev)
sw() {
	echo "$1 $2 switch pid=$3 prio=120 state=$4 next_pid=$5 next_prio=120 comm=t$3 next_comm=t$5 common_pid=$3"
}
# wk TS CPU PID TARGET WAKER: a sched_wakeup line
wk() {
	echo "$1 $2 wakeup pid=$3 prio=120 target_cpu=$4 comm=t$3 common_pid=$5"
}

test_expect_success 'wakeups and preemption: decisions, coverage, histogram' '
	{
		echo "@cpus 1"
		wk 1000 0 10 0 0
		sw 2000 0 0 0 10
		wk 3000 0 11 0 10
		wk 3500 0 12 0 10
		sw 10000 0 10 0x100 11
		sw 18000 0 11 2 12
		sw 30000 0 12 1 10
		sw 31000 0 10 1 13
	} >ev.txt &&
	mktrace t.h5 <ev.txt &&
	schedcast features -o w.h5 t.h5 >out &&
	grep -q "^w.h5: 5 decisions" out &&
	schedcast info --json w.h5 >w.json &&
	test "$(jget w.json "d[\"decisions\"], d[\"covered\"], d[\"contested\"], d[\"contested_covered\"]")" = "5 4 2 2" &&
	test "$(jget w.json "d[\"cand_hist\"][:4]")" = "[1, 2, 2, 0]" &&
	test "$(jget w.json "d[\"mode\"], d[\"K\"], d[\"E\"], d[\"S\"]")" = "candidates 8 10 26" &&
	test "$(jget w.json "d[\"state_features\"][12][\"name\"], d[\"state_features\"][-1][\"name\"]")" = "m1_pid rank_due" &&
	schedcast features --state full -o wf.h5 t.h5 >out &&
	schedcast info --json wf.h5 >wf.json &&
	test "$(jget wf.json "d[\"S\"], d[\"state_features\"][-1][\"name\"], d[\"decisions\"]")" = "23 woke_prev 5" &&
	schedcast features --state basic -o wb.h5 t.h5 >out &&
	schedcast info --json wb.h5 >wb.json &&
	test "$(jget wb.json "d[\"S\"], d[\"state_features\"][-1][\"name\"], d[\"decisions\"]")" = "12 oldest 5" &&
	test_usage_error schedcast features --state all -o wx.h5 t.h5 2>err &&
	grep -q "invalid --state .all.: wait, full or basic" err &&
	test "$(jget w.json "d[\"inferred_switches\"], d[\"lost_resets\"]")" = "0 0" &&
	test "$(jget w.json "d[\"episode_features\"][1][\"name\"], d[\"episode_features\"][1][\"format\"]")" = "ep_burst Q7.8"
'

test_expect_success 'info shows decisions, coverage, histogram and split as text' '
	schedcast info w.h5 >info &&
	grep -q "^decisions: *5$" info &&
	grep -q "^coverage: *80.0% (4 of 5" info &&
	grep -q "^contested: *40.0% (2 with >= 2 candidates), coverage 100.0%" info &&
	grep -q "^split: *train" info &&
	grep -q "^ *2 *2 *40.0%" info &&
	grep -q "^  queued *Q7.8" info &&
	grep -q "^command line:.*features -o w.h5 t.h5" info
'

test_expect_success 'migration, exit and a pick that was never queued' '
	{
		echo "@cpus 2"
		sw 1000 0 0 0 10
		sw 1100 1 0 0 20
		wk 2000 0 11 0 10
		wk 2100 0 12 0 10
		echo "2500 1 sched_migrate_task pid=11 prio=120 orig_cpu=0 dest_cpu=1 comm=t11 common_pid=20"
		echo "2600 1 sched_process_exit pid=20 prio=120 comm=t20 common_pid=20"
		sw 2700 1 20 0x10 11
		sw 3000 0 10 1 12
		sw 3500 0 12 1 13
		wk 3600 0 10 1 13
		sw 3700 1 11 0x100 10
	} >mig.txt &&
	mktrace mig.h5 <mig.txt &&
	schedcast features -q -o mig-w.h5 mig.h5 &&
	schedcast info --json mig-w.h5 >j &&
	test "$(jget j "d[\"decisions\"], d[\"covered\"], d[\"cand_hist\"][:3]")" = "6 3 [3, 3, 0]"
'

test_expect_success 'an idle switch off cpu0 is inferred from common_pid, not scored' '
	{
		echo "@cpus 2"
		sw 1000 0 0 0 10
		sw 1000 1 0 0 20
		sw 2000 1 20 1 0
		wk 3000 0 21 1 10
		wk 5000 1 22 1 21
		sw 9000 1 21 1 22
	} >idle.txt &&
	mktrace idle.h5 <idle.txt &&
	schedcast features -q -o idle-w.h5 idle.h5 &&
	schedcast info --json idle-w.h5 >j &&
	test "$(jget j "d[\"inferred_switches\"], d[\"decisions\"], d[\"covered\"]")" = "1 3 1" &&
	schedcast info idle-w.h5 | grep -q "^inferred switches: 1 "
'

test_expect_success 'a lost-events marker resets its CPU' '
	{
		echo "@cpus 2"
		sw 1000 0 0 0 10
		wk 1500 0 11 0 10
		echo "2000 0 lost state=17"
		sw 3000 0 10 1 11
	} >lost.txt &&
	mktrace lost.h5 <lost.txt &&
	schedcast features -q -o lost-w.h5 lost.h5 &&
	schedcast info --json lost-w.h5 >j &&
	test "$(jget j "d[\"lost_resets\"], d[\"decisions\"], d[\"covered\"]")" = "1 2 0"
'

test_expect_success 'sched_waking stands in for sched_wakeup when that is not recorded' '
	{
		echo "@cpus 1"
		echo "@events sched_switch,sched_waking"
		sw 1000 0 0 0 10
		echo "2000 0 sched_waking pid=11 prio=120 target_cpu=0 comm=t11 common_pid=10"
		sw 3000 0 10 1 11
	} >wk.txt &&
	mktrace wk.h5 <wk.txt &&
	schedcast features -q -o wk-w.h5 wk.h5 &&
	test "$(schedcast info --json wk-w.h5 | python3 -c "import json,sys; d=json.load(sys.stdin); print(d[\"covered\"])")" = 1
'

# 100 decisions evenly spread over 0..99000 ns: the split follows the time span
make_even() {
	echo "@cpus 1"
	i=0
	while [ $i -lt 100 ]; do
		wk $((i * 1000)) 0 $((100 + i % 3)) 0 0
		sw $((i * 1000 + 500)) 0 0 0 $((100 + i % 3))
		sw $((i * 1000 + 900)) 0 $((100 + i % 3)) 1 0
		i=$((i + 1))
	done
}

test_expect_success 'the split cuts each trace by time: 70,15,15 and --split' '
	make_even >even.txt &&
	mktrace even.h5 <even.txt &&
	schedcast features -q -o even-w.h5 even.h5 &&
	schedcast info --json even-w.h5 >j &&
	test "$(jget j "d[\"split\"][\"train\"], d[\"split\"][\"val\"], d[\"split\"][\"test\"]")" = "70 15 15" &&
	schedcast features -q --split 50,0,50 -o even-w2.h5 even.h5 &&
	schedcast info --json even-w2.h5 >j &&
	test "$(jget j "d[\"split\"][\"train\"], d[\"split\"][\"val\"], d[\"split\"][\"test\"]")" = "50 0 50"
'

test_expect_success 'several traces keep their own time lines' '
	schedcast features -q -o two.h5 t.h5 even.h5 &&
	schedcast info --json two.h5 >j &&
	test "$(jget j "d[\"decisions\"], len(d[\"traces\"])")" = "105 2" &&
	test "$(jget j "d[\"split\"][\"train\"]")" = 73 &&
	schedcast info two.h5 | grep -q "^  1: even.h5$"
'

test_expect_success 'a trace without wakeups: candidates mode says to use sequence mode' '
	{
		echo "@cpus 1"
		echo "@events sched_switch"
		sw 1000 0 0 0 10
		sw 2000 0 10 0x100 11
		sw 3000 0 11 0x100 10
		sw 4000 0 10 1 11
	} >sw.txt &&
	mktrace sw.h5 <sw.txt &&
	test_must_fail schedcast features -o sw-w.h5 sw.h5 2>err &&
	test_one_line_error err sw.h5 &&
	grep -q -- "--mode sequence" err &&
	! test -e sw-w.h5 &&
	test -z "$(ls -A . | grep tmp)"
'

test_expect_success 'sequence mode works from sched_switch alone' '
	schedcast features --mode sequence -W 4 -o seq.h5 sw.h5 >out &&
	grep -q "known picks" out &&
	schedcast info --json seq.h5 >j &&
	test "$(jget j "d[\"mode\"], d[\"W\"], d[\"decisions\"], d[\"vocab\"]")" = "sequence 4 4 3" &&
	schedcast info seq.h5 | grep -q "^mode: *sequence (W=4, vocabulary 3 by comm, incl. unknown)" &&
	schedcast features --mode sequence --vocab pid --vocab-size 2 -q -o seq2.h5 sw.h5 &&
	test "$(schedcast info --json seq2.h5 | python3 -c "import json,sys; d=json.load(sys.stdin); print(d[\"vocab\"], d[\"covered\"], d[\"vocab_by\"])")" = "2 2 pid"
'

test_expect_success 'bad inputs: one line naming the file, exit 1, no output' '
	test_must_fail schedcast features -o o.h5 nope.h5 2>err && test_one_line_error err nope.h5 &&
	echo hello >bad.h5 &&
	test_must_fail schedcast features -o o.h5 bad.h5 2>err && test_one_line_error err bad.h5 &&
	head -c 3000 t.h5 >trunc.h5 &&
	test_must_fail schedcast features -o o.h5 trunc.h5 2>err && test_one_line_error err trunc.h5 &&
	test_must_fail schedcast features -o o.h5 t.h5 w.h5 2>err && test_one_line_error err w.h5 &&
	test_must_fail schedcast features -o nodir/o.h5 t.h5 2>err && test_one_line_error err nodir &&
	cp t.h5 same.h5 &&
	test_must_fail schedcast features -o same.h5 same.h5 2>err && test_one_line_error err same.h5 &&
	cmp t.h5 same.h5 &&
	! test -e o.h5
'

test_expect_success 'usage errors exit 2' '
	test_usage_error schedcast features 2>/dev/null &&
	test_usage_error schedcast features --mode foo t.h5 2>/dev/null &&
	test_usage_error schedcast features -K 0 t.h5 2>/dev/null &&
	test_usage_error schedcast features -K 257 t.h5 2>/dev/null &&
	test_usage_error schedcast features -W x t.h5 2>/dev/null &&
	test_usage_error schedcast features --split 50,50 t.h5 2>/dev/null &&
	test_usage_error schedcast features --split 0,50,50 t.h5 2>/dev/null &&
	test_usage_error schedcast features --split 70,15,16 t.h5 2>/dev/null &&
	test_usage_error schedcast features --vocab tid t.h5 2>/dev/null &&
	test_usage_error schedcast features --vocab-size 1 t.h5 2>/dev/null &&
	test_usage_error schedcast features --bogus t.h5 2>/dev/null &&
	schedcast features -h | grep -q "^usage: schedcast features" &&
	schedcast features -h | grep -q "^EXAMPLES"
'

test_expect_success 'an empty trace gives an empty windows file' '
	echo "@cpus 2" | mktrace empty.h5 &&
	schedcast features -o ew.h5 empty.h5 >out &&
	grep -q "^ew.h5: 0 decisions" out &&
	schedcast info --json ew.h5 >j &&
	test "$(jget j "d[\"decisions\"], d[\"candidates\"]")" = "0 0"
'

test_expect_success 'a damaged windows file is refused by info' '
	head -c 5000 w.h5 >wt.h5 &&
	test_must_fail schedcast info wt.h5 2>err && test_one_line_error err wt.h5
'

test_done
