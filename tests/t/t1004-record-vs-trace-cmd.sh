#!/usr/bin/env bash
# Cross-check with a peer (bcc's "check that the numbers match"): a second
# tracefs instance, set up by hand and read with `trace-cmd extract`, records
# the same workloads at the same time as schedcast record; the workloads' own
# events must count the same in both (root + tracefs + trace-cmd).
. "$(dirname "$0")/lib.sh"

if ! why=$(has_tracefs); then
	test_skip 'schedcast record against trace-cmd' "$why"
	test_done
	exit
fi
if ! command -v trace-cmd >/dev/null; then
	test_skip 'schedcast record against trace-cmd' 'trace-cmd is not installed'
	test_done
	exit
fi

test_lock bpf	# not while t5300 loads BPF programs
peer=sc-t1004-$$
pdir=/sys/kernel/tracing/instances/$peer
trap 'rmdir "$pdir" 2>/dev/null; cd /; rm -rf "$TRASH"' EXIT

test_expect_success 'both record the same fork and ping-pong workloads at once' '
	mkdir "$pdir" &&
	echo 0 >"$pdir/tracing_on" &&
	echo mono >"$pdir/trace_clock" &&
	echo 16384 >"$pdir/buffer_size_kb" &&
	echo "sched:sched_switch sched:sched_process_fork sched:sched_process_exit sched:sched_wakeup_new" >"$pdir/set_event" &&
	echo 1 >"$pdir/tracing_on" || exit 1
	rm -f sum	# an earlier "recording with" line is not this start
	schedcast record -o ours.h5 >/dev/null 2>sum &
	pid=$! &&
	# a step failing before the kill below must not leave it recording
	trap "kill -INT $pid 2>/dev/null || :" EXIT &&
	for i in $(seq 200); do grep -q "^recording" sum && break; sleep 0.1; done &&
	recload forks 12 10 >forks.wl &&
	recload pingpong 300 >pp.wl &&
	kill -INT $pid && wait $pid &&
	echo 0 >"$pdir/tracing_on" &&
	# trace-cmd reads /proc/kallsyms whole; it fails when the file changes
	# size meanwhile (a BPF program loaded by another test): try again
	for try in 1 2 3; do
		trace-cmd extract -B $peer -o peer.dat >extract.out 2>&1 && break
		grep -q "error in size of file" extract.out || break
		sleep 1
	done &&
	test -s peer.dat || { tail -3 extract.out; exit 1; }
	trace-cmd report -i peer.dat >peer.txt 2>/dev/null &&
	grep -q "sched_switch:" peer.txt &&
	{ ! grep "^lost [0-9]" sum; }
'

# peer_count REGEX: lines of the trace-cmd report that match
peer_count() {
	grep -cE -- "$1" peer.txt || :
}

test_expect_success 'the same forks and exits of the fork workload' '
	read -r _ parent kids <forks.wl &&
	a=$(tracedump -c ours.h5 sched_process_fork pid=$parent) &&
	b=$(peer_count "sched_process_fork: +comm=[^ ]* pid=$parent child_comm") &&
	echo "forks: ours $a, trace-cmd $b" && test "$a" = "$b" &&
	# of the workload'"'"'s own children exactly 12 (under ASan, LeakSanitizer
	# clones one more task from the parent at exit: in both traces alike)
	test $(tracedump -c ours.h5 sched_process_fork pid=$parent next_pid~$(echo $kids | tr " " ,)) -eq 12 &&
	a=$(tracedump -c ours.h5 sched_process_exit pid~$(echo $kids | tr " " ,)) &&
	b=0 &&
	for k in $kids; do b=$((b + $(peer_count "sched_process_exit: +comm=[^ ]* pid=$k "))); done &&
	echo "exits: ours $a, trace-cmd $b" && test "$a" = "$b" &&
	a=$(tracedump -c ours.h5 sched_wakeup_new pid~$(echo $kids | tr " " ,)) &&
	b=0 &&
	for k in $kids; do b=$((b + $(peer_count "sched_wakeup_new: +[^ ]*:$k "))); done &&
	echo "wakeup_new: ours $a, trace-cmd $b" && test "$a" = "$b"
'

test_expect_success 'the same switches between the ping-pong pair' '
	read -r _ a b mode <pp.wl &&
	for dir in "$a $b" "$b $a"; do
		set -- $dir &&
		ours=$(tracedump -c ours.h5 sched_switch pid=$1 next_pid=$2) &&
		theirs=$(peer_count "sched_switch: +[^ ]*:$1 \[[0-9]+\] [^ ]+ ==> [^ ]*:$2 \[") &&
		echo "$1 -> $2: ours $ours, trace-cmd $theirs" &&
		test "$ours" = "$theirs" && test "$ours" -ge 299 || exit 1
	done
'

test_done
