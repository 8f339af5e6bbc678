#!/usr/bin/env bash
# schedcast record stopped by signals leaves a valid file and no instance;
# events the kernel drops are counted, marked and reported (root + tracefs).
. "$(dirname "$0")/lib.sh"

if ! why=$(has_tracefs); then
	test_skip 'signals and lost events while recording' "$why"
	test_done
	exit
fi

# wait_for_tracing PID: the recorder says it records (give up after 20 s).
# (Its instance appears earlier, while it is still being set up.)
wait_for_tracing() {
	local i
	for i in $(seq 200); do
		grep -q "^recording with" sum && return 0
		sleep 0.1
	done
	echo "recorder $1 never started"
	kill -INT $1 2>/dev/null
	return 1
}

for sig in INT TERM HUP; do
	test_expect_success "SIG$sig mid-recording: a valid file, the instance gone" '
		rm -f sum	# an earlier "recording with" line is not this start
		schedcast record -o sig.h5 >/dev/null 2>sum &
		pid=$! &&
		wait_for_tracing $pid &&
		{ recload forks 5 10 >/dev/null || { kill -KILL $pid; false; }; } &&
		kill -'$sig' $pid &&
		wait $pid &&
		! test -e /sys/kernel/tracing/instances/schedcast-$pid &&
		schedcast info sig.h5 >info &&
		grep -q "^source: *live-tracefs" info &&
		test $(tracedump -c sig.h5 sched_process_fork) -ge 5 &&
		grep -q "^wrote sig.h5 " sum &&
		grep -q "^stopped by " sum &&
		{ ls -A; ! ls -A | grep -q tmp; }
	'
done

test_expect_success 'perf: SIGINT mid-recording leaves a valid file' '
	rm -f sum	# an earlier "recording with" line is not this start
	schedcast record -b perf -o psig.h5 >/dev/null 2>sum &
	pid=$! &&
	wait_for_tracing $pid &&
	{ recload forks 5 10 >/dev/null || { kill -KILL $pid; false; }; } &&
	kill -INT $pid &&
	wait $pid &&
	schedcast info psig.h5 | grep -q "^source: *live-perf" &&
	test $(tracedump -c psig.h5 sched_process_fork) -ge 5
'

test_expect_success 'SIGINT during a workload: the workload is ended, the file valid' '
	rm -f sum	# an earlier "recording with" line is not this start
	schedcast record -o w.h5 -- sleep 60 >/dev/null 2>sum &
	pid=$! &&
	wait_for_tracing $pid &&
	sleep 0.2 &&
	kill -INT $pid &&
	wait $pid &&
	grep -q "command .sleep. was killed by signal 15" sum &&
	schedcast info w.h5 >/dev/null
'

# A recorder that is not scheduled cannot read: with a small ring, a burst of
# events while it is stopped must overflow the ring, and the loss must show.
for b in tracefs perf; do
	test_expect_success "$b: events dropped while the reader is stopped are reported" '
		rm -f sum	# an earlier "recording with" line is not this start
		schedcast record -b '$b' --buffer-size 64k -o lost.h5 >/dev/null 2>sum &
		pid=$! &&
		wait_for_tracing $pid &&
		kill -STOP $pid &&
		{ recload pingpong 20000 >/dev/null; rc=$?; kill -CONT $pid; test $rc = 0; } &&
		sleep 0.3 &&
		kill -INT $pid &&
		wait $pid &&
		cat sum &&
		grep -q "^lost [1-9][0-9]* events on cpu0$" sum &&
		schedcast info --json lost.h5 >info.json &&
		python3 -c "import json; d = json.load(open(\"info.json\")); assert d[\"lost_total\"] > 0 and d[\"lost_per_cpu\"][0] > 0, d" &&
		test $(tracedump -c lost.h5 lost cpu=0) -ge 1
	'
done

test_done
