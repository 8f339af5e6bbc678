#!/usr/bin/env bash
# schedcast info on trace files: text, JSON, and every bad-file case.
. "$(dirname "$0")/lib.sh"

test_expect_success 'mktrace writes a trace that info describes' '
	cat >ev.txt <<-EOT &&
	@cpus 2
	@events sched_switch,sched_wakeup
	@lost 1 3
	1000 0 wakeup pid=10 prio=120 target_cpu=0 comm=a
	2000 0 switch pid=0 prio=120 state=0 next_pid=10 next_prio=120 comm=swapper/0 next_comm=a
	3000 1 switch pid=0 prio=120 state=0 next_pid=11 next_prio=120 comm=swapper/1 next_comm=b
	EOT
	mktrace t.h5 <ev.txt &&
	schedcast info t.h5 >out &&
	grep -q "^cpus: *2$" out &&
	grep -q "^events: *3 " out &&
	grep -q "sched_switch *2$" out &&
	grep -q "sched_waking *0  (not recorded)" out &&
	grep -q "^lost events: *3 (cpu1: 3)" out
'

test_expect_success 'info --json is valid JSON with the counts' '
	schedcast info --json t.h5 >out.json &&
	python3 -c "import json,sys; d=json.load(open(\"out.json\")); assert d[\"events\"]==3, d; assert d[\"events_by_type\"][\"sched_switch\"]==2; assert d[\"lost_per_cpu\"]==[0,3]; assert d[\"duration_ns\"]==2000"
'

test_expect_success 'info on several files in JSON is an array' '
	cp t.h5 u.h5 &&
	schedcast info --json t.h5 u.h5 | python3 -c "import json,sys; assert len(json.load(sys.stdin))==2"
'

test_expect_success 'not an HDF5 file: one line naming it, exit 1' '
	echo "hello" >bad.h5 &&
	test_must_fail schedcast info bad.h5 2>err &&
	test_one_line_error err bad.h5
'

test_expect_success 'truncated file: one line, exit 1' '
	head -c 3000 t.h5 >trunc.h5 &&
	test_must_fail schedcast info trunc.h5 2>err &&
	test_one_line_error err trunc.h5
'

test_expect_success 'missing file, empty file, directory: exit 1' '
	test_must_fail schedcast info nope.h5 2>err && test_one_line_error err nope.h5 &&
	: >empty.h5 && test_must_fail schedcast info empty.h5 2>err && test_one_line_error err empty.h5 &&
	mkdir d.h5 && test_must_fail schedcast info d.h5 2>err && test_one_line_error err d.h5
'

test_expect_success 'usage errors exit 2' '
	test_usage_error schedcast info 2>/dev/null &&
	test_usage_error schedcast info --bogus t.h5 2>/dev/null &&
	test_usage_error schedcast nosuchcommand 2>/dev/null
'

test_expect_success 'help and version' '
	schedcast help | grep -q info &&
	schedcast version | grep -q "schedcast version" &&
	schedcast info -h | grep -q "^usage: schedcast info"
'

test_done
