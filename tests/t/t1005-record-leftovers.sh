#!/usr/bin/env bash
# What a recorder leaves behind (root + tracefs): nothing for its workload to
# inherit, no instance when the workload outlives it, and the leftovers of a
# recorder killed with SIGKILL are removed by the next one, which says so.
. "$(dirname "$0")/lib.sh"

if ! why=$(has_tracefs); then
	test_skip 'what record leaves behind' "$why"
	test_done
	exit
fi

test_expect_success 'a workload that outlives the duration: no fd of ours, no instance left' '
	schedcast record -q -d 500ms -o w.h5 -- sh -c "ls -l /proc/\$\$/fd >fds; sleep 30" &
	pid=$! &&
	wait $pid &&
	test -s fds &&
	! grep -e trace_pipe_raw -e "\.tmp\." -e perf_event fds &&
	! test -e /sys/kernel/tracing/instances/schedcast-$pid &&
	schedcast info w.h5 >/dev/null
'

test_expect_success 'record -o DIR fails at once, before recording' '
	mkdir d &&
	start=$(date +%s%N) &&
	test_must_fail schedcast record -d 5s -o d 2>err &&
	end=$(date +%s%N) &&
	test $(( (end - start) / 1000000 )) -lt 1000 &&
	test_one_line_error err d
'

# Any recorder removes the instance of a dead one, and the suite runs two
# test files at a time: when another file's recorder removed it first (it is
# gone, our recorder did not name it), the scenario runs again, at most three
# times.
for backend in tracefs perf; do
	test_expect_success "SIGKILL, then a $backend recorder removes the leftovers and says so" '
		for try in 1 2 3; do
			rm -f sum	# an earlier "recording with" line is not this start
			schedcast record -o k.h5 >/dev/null 2>sum &
			pid=$! &&
			for i in $(seq 100); do grep -q "^recording with" sum && break; sleep 0.1; done &&
			kill -KILL $pid &&
			{ wait $pid || :; } &&
			test -e .k.h5.tmp.$pid || exit 1
			if test -e /sys/kernel/tracing/instances/schedcast-$pid; then
				schedcast record -q -b '$backend' -d 200ms -o k.h5 2>err &&
				! test -e /sys/kernel/tracing/instances/schedcast-$pid &&
				! test -e .k.h5.tmp.$pid &&
				grep -q "k.h5.tmp.$pid" err &&
				schedcast info k.h5 >/dev/null || exit 1
				grep -q "schedcast-$pid" err && break
			else
				rm -f .k.h5.tmp.$pid
			fi
			test $try -lt 3 || exit 1
		done
	'
done

test_done
