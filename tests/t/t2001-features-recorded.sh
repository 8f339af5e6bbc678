#!/usr/bin/env bash
# schedcast features on real recordings: the import fixtures (recorded on
# this kernel: idle switches off cpu0 missing, perf's waking-only stream,
# lost events) and, with tracefs, a fresh recording of hackbench.
. "$(dirname "$0")/lib.sh"

IMP=$TEST_DATA/import

jget() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

test_expect_success 'trace.dat: every sched_switch to a task is a decision, coverage near 100%' '
	schedcast import -o sched.h5 "$IMP/sched.dat" >/dev/null &&
	schedcast features -q -o w.h5 sched.h5 &&
	schedcast info --json w.h5 >j &&
	want=$(grep -c "sched_switch:.*next_pid=[1-9]" "$IMP/sched.ftrace.txt") &&
	test "$(jget j "d[\"decisions\"]")" = "$want" &&
	jget j "d[\"coverage\"] >= 0.99 and d[\"contested\"] > 100" | grep -q True &&
	jget j "d[\"inferred_switches\"] > 0 and d[\"lost_resets\"] == 0" | grep -q True
'

test_expect_success 'the same recording as ftrace text gives the same decisions' '
	schedcast import -o text.h5 "$IMP/sched.ftrace.txt" >/dev/null &&
	schedcast features -q -o wt.h5 text.h5 &&
	schedcast info --json wt.h5 >jt &&
	for k in decisions covered contested contested_covered inferred_switches cand_hist; do
		test "$(jget j "d[\"$k\"]")" = "$(jget jt "d[\"$k\"]")" || { echo "$k differs"; exit 1; }
	done
'

test_expect_success 'lost events in a recording reset CPUs' '
	schedcast import -o lost.h5 "$IMP/lost.dat" >/dev/null &&
	schedcast features -q -o wl.h5 lost.h5 &&
	schedcast info --json wl.h5 >j &&
	jget j "d[\"lost_resets\"] > 0 and d[\"coverage\"] > 0.9" | grep -q True
'

test_expect_success 'windows versions 2 and 3 read back exactly what version 1 stores' '
	for t in sched lost; do
		schedcast features -q --windows-version 1 -o $t-v1.h5 $t.h5 &&
		schedcast features -q --windows-version 2 -o $t-v2.h5 $t.h5 &&
		schedcast features -q -o $t-v3.h5 $t.h5 &&
		schedcast info --json $t-v2.h5 >j2 &&
		jget j2 "d[\"version\"] == 2 and d[\"episodes\"] > 0" | grep -q True &&
		schedcast info --json $t-v3.h5 >j3 &&
		jget j3 "d[\"version\"] == 3 and d[\"events\"] > 0" | grep -q True &&
		wincmp -b 97 $t-v1.h5 $t-v2.h5 >cmp &&
		grep -q "^identical: [1-9]" cmp &&
		wincmp -b 97 $t-v1.h5 $t-v3.h5 >cmp &&
		grep -q "^identical: [1-9]" cmp || exit 1
	done
'

test_expect_success 'version 3 trains the model version 2 trains; eval --json the same' '
	for v in 2 3; do
		schedcast train -q -o m$v.h5 --hidden 8 --epochs 2 --seed 3 sched-v$v.h5 >/dev/null &&
		schedcast info m$v.h5 | grep "^digest" >d$v &&
		schedcast eval --json -m m2.h5 sched-v$v.h5 >e$v.json || exit 1
	done &&
	test_cmp d2 d3 &&
	test_cmp e2.json e3.json
'

if command -v perf >/dev/null 2>&1; then
	test_expect_success 'perf.data (sched_waking, no sched_wakeup): candidates mode works' '
		schedcast import -o perf.h5 "$IMP/sched-sched.perf.data" >/dev/null 2>&1 &&
		schedcast info --json perf.h5 >jp &&
		jget jp "\"sched_wakeup\" not in d[\"events_recorded\"]" | grep -q True &&
		schedcast features -q -o wp.h5 perf.h5 &&
		schedcast info --json wp.h5 >j &&
		jget j "d[\"decisions\"] > 20 and d[\"coverage\"] > 0.9" | grep -q True
	'
else
	test_skip 'perf.data in candidates mode' 'perf is not installed'
fi

PINGPONG=$TEST_DATA/record/pingpong.h5
test_expect_success 'the committed pingpong recording: both modes' '
	schedcast features -q -o pp.h5 "$PINGPONG" &&
	schedcast info --json pp.h5 >j &&
	jget j "d[\"decisions\"] > 0 and d[\"coverage\"] > 0.9" | grep -q True &&
	schedcast features -q --mode sequence -o pps.h5 "$PINGPONG"
'

if reason=$(has_tracefs); then
	test_expect_success 'a fresh recording of hackbench: high coverage, many contested' '
		command -v hackbench >/dev/null || { echo "hackbench (rt-tests) missing"; exit 1; }
		schedcast record -q -d 5s -o hb.h5 -- hackbench -g 2 -l 200 -s 128 >/dev/null 2>&1 &&
		schedcast features -q -o hbw.h5 hb.h5 &&
		schedcast info --json hbw.h5 >j &&
		jget j "d[\"decisions\"], d[\"coverage\"], d[\"contested_share\"]" &&
		jget j "d[\"decisions\"] > 500 and d[\"coverage\"] > 0.9 and d[\"contested_share\"] > 0.5" | grep -q True &&
		schedcast features -q --mode sequence --vocab pid -o hbs.h5 hb.h5 &&
		schedcast info --json hbs.h5 >js &&
		test "$(jget js "d[\"decisions\"]")" = "$(jget j "d[\"decisions\"]")" &&
		schedcast features -q --windows-version 1 -o hbw1.h5 hb.h5 &&
		schedcast features -q --windows-version 2 -o hbw2.h5 hb.h5 &&
		wincmp -b 1000 hbw1.h5 hbw.h5 | grep -q "^identical" &&
		wincmp -b 1000 hbw1.h5 hbw2.h5 | grep -q "^identical" &&
		test $(stat -c %s hbw.h5) -lt $(stat -c %s hbw2.h5) &&
		test $(stat -c %s hbw2.h5) -lt $(stat -c %s hbw1.h5)
	'
else
	test_skip 'a fresh recording of hackbench' "$reason"
fi

test_done
