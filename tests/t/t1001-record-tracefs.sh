#!/usr/bin/env bash
# schedcast record with the tracefs backend on known workloads (root + tracefs).
. "$(dirname "$0")/lib.sh"

# rec ARGS...: schedcast record ARGS, run in the background so that its pid
# (rec_pid, the name of its tracefs instance) is known, and waited for
rec() {
	schedcast record "$@" &
	rec_pid=$!
	wait $rec_pid
}
instance_gone() {
	! test -e /sys/kernel/tracing/instances/schedcast-$1
}
# count FILE TYPE COND...: number of matching events (see tests/helpers/tracedump.c)
count() {
	tracedump -c "$@"
}

if ! why=$(has_tracefs); then
	test_skip 'recording with tracefs' "$why"
	test_done
	exit
fi

N=20 K=500

test_expect_success "N=$N forks that sleep and exit: every fork, wakeup_new and exit" '
	rec -o forks.h5 -- recload forks '$N' 20 >wl 2>sum &&
	instance_gone $rec_pid &&
	read -r word parent kids <wl && test "$word" = forks &&
	kids=$(echo $kids | tr " " ,) &&
	# -ge: under ASan, LeakSanitizer clones one more task from the parent at exit
	test $(count forks.h5 sched_process_fork pid=$parent) -ge '$N' &&
	test $(count forks.h5 sched_process_fork pid=$parent next_pid~$kids) -eq '$N' &&
	test $(count forks.h5 sched_wakeup_new pid~$kids) -eq '$N' &&
	test $(count forks.h5 sched_process_exit pid~$kids) -eq '$N' &&
	test $(count forks.h5 sched_process_exit pid~$kids state=1) -eq '$N' &&
	grep -q "command .* exited with status 0" sum
'

test_expect_success 'the children went to sleep: switches out of them in state S' '
	read -r word parent kids <wl &&
	test $(count forks.h5 sched_switch pid~$(echo $kids | tr " " ,) state=1) -ge '$N'
'

test_expect_success 'events are in timestamp order and the trace says how it was made' '
	tracedump forks.h5 >d &&
	awk "\$1 < prev { print \"out of order at line \" NR; bad = 1 } { prev = \$1 } END { exit bad }" d &&
	schedcast info --json forks.h5 >info.json &&
	python3 - <<-EOF
	import json
	d = json.load(open("info.json"))
	assert d["source"] == "live-tracefs", d
	assert d["clock"] == "mono", d
	assert d["lost_total"] == 0, d
	assert d["events"] > 0 and d["nr_cpus"] >= 1, d
	assert "record -o forks.h5" in d["command_line"], d
	assert d["events_by_type"]["sched_process_fork"] >= $N, d
	EOF
'

test_expect_success 'thread groups of tasks alive at the start or the end are in the task table' '
	rec -q -d 300ms -o tg.h5 &&
	tracedump -t tg.h5 >tasks &&
	grep -q "^$rec_pid $rec_pid [0-9]* schedcast$" tasks &&
	awk "\$2 != -1 { n++ } END { exit !(n > 0) }" tasks
'

test_expect_success 'the summary: duration, events by type, rate, lost, size, status' '
	grep -q "^recorded .* with tracefs on [0-9]* cpus*: [0-9]* events ([0-9]* events/s)$" sum &&
	grep -q "^  sched_process_fork *[0-9][0-9]*$" sum &&
	grep -q "^lost: none$" sum &&
	grep -q "^wrote forks.h5 (" sum
'

test_expect_success "ping-pong of K=$K round trips: 2K switches between the two pids" '
	rec -o pp.h5 -- recload pingpong '$K' >wl 2>sum &&
	instance_gone $rec_pid &&
	read -r word a b mode <wl && test "$word" = pingpong &&
	n=$(count pp.h5 sched_switch pid~$a,$b next_pid~$a,$b) &&
	echo "switches between $a and $b: $n ($mode)" &&
	test $n -ge $((2 * '$K')) &&
	test $(count pp.h5 sched_switch pid=$a next_pid=$b state=1) -ge '$K' &&
	test $(count pp.h5 sched_switch pid=$b next_pid=$a) -ge '$K' &&
	test $(count pp.h5 sched_switch pid=$a comm=rl-ping) -ge '$K'
'

# Without --buffer-size the instance traces for 100 ms before recording, and
# the rings hold 2 s of what the busiest CPU wrote (struct col_ring_choice):
# a pipe ping-pong (SCHED_OTHER, unpinned: the other tests' SCHED_FIFO
# ping-pongs on CPU 0 keep their schedule) at a few hundred thousand events
# a second grows them past the least.  The probe's events are emptied out:
# none is older than the recording's start.
test_expect_success 'rings sized from the rate before recording; the probe is not recorded' '
	cat >pp.py <<-\EOF &&
	import os, sys, time
	r1, w1 = os.pipe(); r2, w2 = os.pipe()
	end = time.monotonic() + float(sys.argv[1])
	if os.fork() == 0:
	    os.close(w1); os.close(r2)
	    while os.read(r1, 1):
	        os.write(w2, b"x")
	    os._exit(0)
	os.close(r1); os.close(w2)
	while time.monotonic() < end:
	    os.write(w1, b"x"); os.read(r2, 1)
	os.close(w1); os.wait()
	EOF
	python3 pp.py 1.5 &
	bg=$! &&
	sleep 0.3 &&
	rec -d 300ms -o rate.h5 2>sum &&
	wait $bg &&
	head -1 sum &&
	# the size is what the rate it reports asks for (the rate is rounded to a
	# tenth of its unit: a MiB either way); on a machine too busy to give the
	# ping-pong its rate, the least
	python3 - <<-\EOF &&
	import math, re
	line = open("sum").readline()
	m = re.match(r"recording with tracefs on \d+ cpus? \(([\d.]+) MiB rings(, the least)?: 2 s at "
	             r"the busiest cpu.s ([\d.]+) (KiB|MiB|B)/s \(\d+ events/s, \d+ ms before "
	             r"recording\)(; free memory allows ([\d.]+) MiB| take less)\) into rate.h5", line)
	assert m, line
	size, least, rate, unit, bound = float(m[1]), m[2], float(m[3]), m[4], m[6]
	rate *= {"B": 1, "KiB": 1024, "MiB": 1 << 20}[unit]
	want = math.ceil(2 * rate / (1 << 20))
	print("rings %g MiB for %g MiB/s: %s" % (size, rate / (1 << 20), "the least" if least else "the rate"))
	if least:
	    assert size == 4 and want <= 5, line
	else:
	    assert size > 4 and abs(size - want) <= 1 and size <= float(bound), line
	EOF
	grep -q "^lost: none$" sum &&
	start=$(schedcast info --json rate.h5 | python3 -c "import json, sys; print(json.load(sys.stdin)[\"start_ns\"])") &&
	first=$(tracedump rate.h5 | sed -n 2p | cut -d" " -f1) &&
	echo "start $start, first event $first" &&
	test "$first" -ge "$start"
'

test_expect_success 'a workload that follows gets at least 1/256 of the free memory; --buffer-size wins' '
	rec -o follow.h5 -- true 2>sum &&
	head -1 sum &&
	grep -q "^recording with tracefs on [0-9]* cpus* ([0-9.]* MiB rings.* ms before recording)" sum &&
	mib=$(sed -n "s/^recording with tracefs on [0-9]* cpus* (\([0-9]*\)\.[0-9]* MiB rings.*/\1/p" sum) &&
	avail=$(awk "/^MemAvailable:/ { print \$2 }" /proc/meminfo) &&
	cpus=$(nproc) &&
	floor=$((avail / 1024 / 256 / cpus)) &&
	if test $floor -gt 64; then floor=64; fi &&
	echo "rings $mib MiB, floor about $floor MiB" &&
	# MemAvailable moves between the two readings: a MiB of slack
	test $mib -ge $((floor - 1)) &&
	rec -d 100ms --buffer-size 8M -o given.h5 2>sum &&
	grep -q "^recording with tracefs on [0-9]* cpus* (8.00 MiB rings, as given) into given.h5" sum
'

test_expect_success '-e and -C restrict what is recorded' '
	rec -e switch,sched_waking -C 0 -d 300ms -o sub.h5 2>sum &&
	tracedump sub.h5 >d &&
	test $(wc -l <d) -gt 0 &&
	! grep -v " sched_switch \| sched_waking " d &&
	awk "\$2 != 0 { exit 1 }" d &&
	schedcast info sub.h5 >info &&
	grep -q "sched_wakeup .*(not recorded)" info &&
	! grep -q "sched_switch .*(not recorded)" info
'

test_expect_success 'a duration alone ends the recording' '
	rec -d 200ms -q -o dur.h5 2>sum &&
	test ! -s sum &&
	schedcast info dur.h5 >info &&
	grep -q "^source: *live-tracefs" info
'

test_expect_success 'a workload that cannot run: one line, exit 1, no file, no instance' '
	test_must_fail rec -o bad.h5 -- ./no-such-command 2>err &&
	instance_gone $rec_pid &&
	grep -q "cannot run .\./no-such-command." err &&
	test $(wc -l <err) -eq 1 &&
	! test -e bad.h5 &&
	! ls -A | grep -q "tmp"
'

test_expect_success 'the exit status of a failing workload is reported, the file still written' '
	rec -o st.h5 -- sh -c "exit 3" 2>sum &&
	grep -q "command .sh. exited with status 3" sum &&
	schedcast info st.h5 >/dev/null
'

# Any recorder removes the leftovers of a dead one, and the suite runs two
# test files at a time: when another file's recorder removed ours first, the
# scenario runs again (at most three times).
test_expect_success 'an instance left by a killed recorder is removed by the next one' '
	for try in 1 2 3; do
		sleep 30 & dead=$! && kill -9 $dead && { wait $dead || :; }
		mkdir /sys/kernel/tracing/instances/schedcast-$dead &&
		rec -d 100ms -q -o stale.h5 2>err &&
		! test -e /sys/kernel/tracing/instances/schedcast-$dead || exit 1
		grep -q "removed the tracefs instance .schedcast-$dead." err && break
		test $try -lt 3 || exit 1
	done
'

test_expect_success 'the top-level buffer is left as it was' '
	top=/sys/kernel/tracing &&
	before=$(cat $top/tracing_on $top/current_tracer $top/trace_clock $top/events/sched/sched_switch/enable) &&
	rec -d 100ms -q -o top.h5 &&
	after=$(cat $top/tracing_on $top/current_tracer $top/trace_clock $top/events/sched/sched_switch/enable) &&
	test "$before" = "$after"
'

test_expect_success '-z 0 writes the events uncompressed and they read the same' '
	rec -q -z 0 -o z0.h5 -- recload forks 5 5 >wl &&
	read -r word parent kids <wl &&
	test $(count z0.h5 sched_process_fork pid=$parent next_pid~$(echo $kids | tr " " ,)) -eq 5 &&
	ev=$(schedcast info --json z0.h5 | python3 -c "import json,sys; print(json.load(sys.stdin)[\"events\"])") &&
	size=$(stat -c %s z0.h5) &&
	test $((size / ev)) -ge 80
'

test_done
