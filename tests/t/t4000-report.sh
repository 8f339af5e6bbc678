#!/usr/bin/env bash
# schedcast report on a hand-made trace whose every figure is worked out
# below, golden outputs for each format, and the bad-input cases.
. "$(dirname "$0")/lib.sh"

D=$TEST_DATA/report

test_expect_success 'setup: the hand-made trace' '
	mktrace basic.h5 <"$D/basic.events"
'

# The trace (tests/data/report/basic.events), by hand:
#   a(10): runs 1000-5000 (preempted R+), waits 5000-9000, runs 9000-15000 (R),
#          waits 15000-20000: run 10000 in 2 bursts, delays 4000 and 5000, 2 preemptions
#   b(20): runs 1000-6000, sleeps 6000-10000, woken onto idle cpu1 at 10000; its
#          switch-in is not recorded, its event at 12000 reveals it: dated 10000,
#          runs to 16000: run 11000, 1 inferred, 1 unmeasured wait, sleep 4000
#   c(11): woken 2000, runs 5000-9000 (delay 3000), sleeps 9000-12000, woken
#          onto cpu1, migrated to cpu0 at 13000, runs 15000-20000 (delay 3000)
#   cpu0 busy all 19000 ns; queue 1 for 3000+4000+2000+5000 ns -> rq_avg 14/19
#   cpu1 busy 5000+6000, idle 8000, of which 6000-9000 and 16000-20000 with a
#   task queued on cpu0 -> 7000; its queue: c for 1000 ns -> rq_avg 1/19
test_expect_success 'every figure as worked out by hand (JSON)' '
	schedcast report --format json basic.h5 >r.json &&
	python3 - <<-EOP
	import json
	r = json.load(open("r.json"))
	t = {x["pid"]: x for x in r["tasks"]}
	def chk(what, got, want):
	    assert got == want, f"{what}: got {got}, want {want}"
	chk("order", [x["pid"] for x in r["tasks"]], [20, 10, 11])
	for pid, run, sw, inf, dn, dsum, woken, pre, unm, sleep, wk, mig, preempt in (
	        (10, 10000, 2, 0, 2, 9000, 0, 2, 0, 0, 0, 0, 2),
	        (20, 11000, 2, 1, 0, 0, 0, 0, 1, 4000, 1, 0, 0),
	        (11, 9000, 2, 0, 2, 6000, 2, 0, 0, 3000, 2, 1, 0)):
	    x = t[pid]
	    chk(f"{pid} run", x["run_ns"], run); chk(f"{pid} switches", x["switches"], sw)
	    chk(f"{pid} inferred", x["inferred_switch_ins"], inf)
	    chk(f"{pid} delays", x["delay"]["n"], dn); chk(f"{pid} delay total", x["delay"]["total_ns"], dsum)
	    chk(f"{pid} woken", x["delay_woken"], woken); chk(f"{pid} preempted", x["delay_preempted"], pre)
	    chk(f"{pid} unmeasured", x["delay_unmeasured"], unm); chk(f"{pid} sleep", x["sleep_ns"], sleep)
	    chk(f"{pid} wakeups", x["wakeups"], wk); chk(f"{pid} migrations", x["migrations"], mig)
	    chk(f"{pid} preemptions", x["preemptions"], preempt)
	chk("b bursts", (t[20]["run_burst"]["min_ns"], t[20]["run_burst"]["max_ns"]), (5000, 6000))
	chk("a delays", (t[10]["delay"]["min_ns"], t[10]["delay"]["max_ns"]), (4000, 5000))
	chk("whole delay", {k: r["delay"][k] for k in ("n", "min_ns", "p50_ns", "p90_ns", "p99_ns", "max_ns", "avg_ns")},
	    {"n": 4, "min_ns": 3000, "p50_ns": 3000, "p90_ns": 5000, "p99_ns": 5000, "max_ns": 5000, "avg_ns": 3750})
	chk("unmeasured", r["delay_unmeasured"], 1)
	chk("span", r["span_ns"], 19000); chk("switches", r["switches"], 8)
	c0, c1 = r["cpus"]
	chk("cpu0", (c0["busy_ns"], c0["idle_ns"], c0["idle_while_queued_ns"], c0["switches"], c0["inferred_switch_ins"], c0["rq_max"]), (19000, 0, 0, 5, 0, 1))
	chk("cpu1", (c1["busy_ns"], c1["idle_ns"], c1["idle_while_queued_ns"], c1["switches"], c1["inferred_switch_ins"], c1["rq_max"]), (11000, 8000, 7000, 3, 1, 1))
	assert abs(c0["rq_avg"] - 14 / 19) < 1e-5 and abs(c1["rq_avg"] - 1 / 19) < 1e-5, (c0["rq_avg"], c1["rq_avg"])
	assert abs(c1["util"] - 11 / 19) < 1e-5 and len(c0["rq_series"]) == 120
	EOP
'

test_expect_success 'golden outputs: text, json, csv, html' '
	schedcast report basic.h5 >out.txt &&
	test_cmp "$D/basic.txt" out.txt &&
	schedcast report -f json basic.h5 >out.json &&
	test_cmp "$D/basic.json" out.json &&
	schedcast report -f csv basic.h5 >out.csv &&
	test_cmp "$D/basic.csv" out.csv &&
	schedcast report -f html basic.h5 >out.html &&
	test_cmp "$D/basic.html" out.html
'

test_expect_success 'CSV parses, one row per task, same numbers as JSON' '
	python3 - <<-EOP
	import csv, json
	rows = list(csv.DictReader(open("out.csv")))
	tasks = json.load(open("out.json"))["tasks"]
	assert len(rows) == len(tasks) == 3
	for row, t in zip(rows, tasks):
	    assert int(row["pid"]) == t["pid"] and int(row["run_ns"]) == t["run_ns"]
	    assert int(row["delay_p90_ns"]) == t["delay"]["p90_ns"]
	    assert int(row["bursts_lt_10us"]) == t["run_burst_hist"]["<10us"]
	EOP
'

test_expect_success 'a comm with a comma is quoted in CSV' '
	sed "s/comm=c /comm=x,y /; s/next_comm=c /next_comm=x,y /" "$D/basic.events" >comma.events &&
	mktrace comma.h5 <comma.events &&
	schedcast report -f csv comma.h5 >comma.csv &&
	grep -q "^11,\"x,y\"," comma.csv &&
	python3 -c "import csv; r=list(csv.DictReader(open(\"comma.csv\"))); assert r[2][\"comm\"]==\"x,y\", r"
'

# Comms are arbitrary bytes: the kernel cuts them at 15 bytes (splitting a
# UTF-8 character), and a task may name itself a formula or an escape
# sequence.  a = "=1+2;cmd", b = a euro sign then a cut one, c = ESC[31m@x.
test_expect_success 'setup: a trace with hostile comms' '
	sed -e "s/comm=a /comm==1+2;cmd /; s/next_comm=a /next_comm==1+2;cmd /" \
	    -e "s/comm=b /comm=\\\\xe2\\\\x82\\\\xacb\\\\xe2\\\\x82 /; s/next_comm=b /next_comm=\\\\xe2\\\\x82\\\\xacb\\\\xe2\\\\x82 /" \
	    -e "s/comm=c /comm=\\\\x1b[31m@x /; s/next_comm=c /next_comm=\\\\x1b[31m@x /" \
	    "$D/basic.events" >hostile.events &&
	grep -q "comm=.xe2" hostile.events &&
	mktrace hostile.h5 <hostile.events
'

test_expect_success 'JSON of hostile comms is valid UTF-8 (U+FFFD per bad byte), ESC escaped' '
	schedcast report -f json hostile.h5 >h.json &&
	! grep -q "$(printf "\033")" h.json &&
	python3 - <<-EOP
	import json
	r = json.loads(open("h.json", "rb").read().decode("utf-8"))
	t = {x["pid"]: x["comm"] for x in r["tasks"]}
	assert t[10] == "=1+2;cmd", t
	assert t[20] == "\u20acb\ufffd\ufffd", ascii(t[20])
	assert t[11] == "\x1b[31m@x", ascii(t[11])
	EOP
'

test_expect_success 'CSV of hostile comms: formulas quoted (OWASP), valid UTF-8, no ESC' '
	schedcast report -f csv hostile.h5 >h.csv &&
	! grep -q "$(printf "\033")" h.csv &&
	python3 - <<-EOP
	import csv, io
	rows = list(csv.DictReader(io.StringIO(open("h.csv", "rb").read().decode("utf-8"))))
	t = {int(r["pid"]): r["comm"] for r in rows}
	assert t[10] == "\x27=1+2;cmd", ascii(t[10])
	assert t[20] == "\u20acb\ufffd\ufffd", ascii(t[20])
	assert t[11] == "\\\\x1b[31m@x", ascii(t[11])
	for c in t.values():
	    assert c[0] not in "=+-@\t\r", ascii(c)
	EOP
'

test_expect_success 'text and HTML of hostile comms: valid UTF-8, no raw control bytes' '
	schedcast report hostile.h5 >h.txt &&
	schedcast report -f html hostile.h5 >h.html &&
	python3 - <<-EOP
	for f in ("h.txt", "h.html"):
	    s = open(f, "rb").read().decode("utf-8")
	    bad = [c for c in s if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) < 0xa0]
	    assert not bad, (f, bad)
	    assert "\\\\x1b[31m@x" in s and "\u20acb\ufffd\ufffd" in s, f
	EOP
'

test_expect_success 'lost events on a CPU forget what ran and waited there' '
	cat >lost.events <<-EOT &&
	@cpus 1
	1000 0 switch pid=0 state=0 next_pid=10 comm=swapper/0 next_comm=a common_pid=0
	2000 0 waking pid=11 target_cpu=0 comm=c common_pid=10
	3000 0 lost state=7
	4000 0 switch pid=10 state=1 next_pid=11 comm=a next_comm=c common_pid=10
	EOT
	mktrace lost.h5 <lost.events &&
	schedcast report -f json lost.h5 >lost.json &&
	python3 - <<-EOP
	import json
	r = json.load(open("lost.json"))
	t = {x["pid"]: x for x in r["tasks"]}
	# a: its burst began before the gap, so it is inferred at 4000; c waited across it: no sample
	assert t[10]["inferred_switch_ins"] == 1 and t[10]["run_ns"] == 0, t[10]
	assert t[11]["delay"]["n"] == 0 and t[11]["delay_unmeasured"] == 0, t[11]
	EOP
'

test_expect_success 'a timestamp of 2^64-1 ends (the runqueue buckets overflowed for ever)' '
	cat >max.events <<-EOT &&
	@cpus 1
	1000 0 switch pid=0 state=0 next_pid=10 comm=swapper/0 next_comm=a common_pid=0
	2000 0 waking pid=11 target_cpu=0 comm=c common_pid=10
	18446744073709551615 0 switch pid=10 state=0x100 next_pid=11 comm=a next_comm=c common_pid=10
	EOT
	mktrace max.h5 <max.events &&
	timeout 20 schedcast report -f json max.h5 >max.json &&
	python3 -c "import json; r = json.load(open(\"max.json\")); assert r[\"end_ns\"] == 2**64 - 1, r[\"end_ns\"]; assert r[\"cpus\"][0][\"rq_max\"] == 1"
'

test_expect_success '-o writes the file atomically and nothing else' '
	schedcast report -f html -o rep.html basic.h5 &&
	test_cmp "$D/basic.html" rep.html &&
	test "$(ls -a | grep -c "rep.html")" = 1
'

test_expect_success 'bad inputs: one-line error naming the file, exit 1, no output' '
	echo junk >bad.h5 &&
	test_must_fail schedcast report -o o1.txt bad.h5 2>err && test_one_line_error err bad.h5 &&
	test ! -e o1.txt &&
	test_must_fail schedcast report nope.h5 2>err && test_one_line_error err nope.h5 &&
	head -c 2000 basic.h5 >trunc.h5 &&
	test_must_fail schedcast report trunc.h5 2>err && test_one_line_error err trunc.h5 &&
	test_must_fail schedcast report -o nodir/x.txt basic.h5 2>err && test_one_line_error err nodir &&
	test_must_fail schedcast report basic.h5 -w "$D/windows-newer.h5" 2>err &&
	test_one_line_error err windows-newer.h5 && grep -q newer err
'

test_expect_success 'usage errors exit 2' '
	test_usage_error schedcast report 2>/dev/null &&
	test_usage_error schedcast report --format pdf basic.h5 2>/dev/null &&
	test_usage_error schedcast report --bogus basic.h5 2>/dev/null &&
	test_usage_error schedcast report basic.h5 basic.h5 2>/dev/null &&
	test_usage_error schedcast report --top -1 basic.h5 2>/dev/null &&
	schedcast report -h | grep -q "^usage: schedcast report"
'

test_done
