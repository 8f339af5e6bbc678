#!/usr/bin/env bash
# schedcast record -b perf, and both backends against each other: the same
# workload gives the same counts of its own events (root + tracefs).
. "$(dirname "$0")/lib.sh"

rec() {
	schedcast record "$@" &
	rec_pid=$!
	wait $rec_pid
}
count() {
	tracedump -c "$@"
}

if ! why=$(has_tracefs); then
	test_skip 'recording with perf_event_open' "$why"
	test_done
	exit
fi

N=16 K=400

# The workload's own events, one "name count" per line: forks of the parent,
# wakeup_new/exits/sleeps of its children; switches between the ping-pong pair.
forks_counts() {
	local f=$1 parent kids
	read -r _ parent kids <"$f.wl"
	kids=$(echo $kids | tr " " ,)
	echo "fork $(count $f sched_process_fork pid=$parent next_pid~$kids)"
	echo "wakeup_new $(count $f sched_wakeup_new pid~$kids)"
	echo "exit $(count $f sched_process_exit pid~$kids)"
	echo "exit_group_dead $(count $f sched_process_exit pid~$kids state=1)"
}
pingpong_counts() {
	local f=$1 a b mode
	read -r _ a b mode <"$f.wl"
	echo "mode $mode"
	echo "ping_to_pong $(count $f sched_switch pid=$a next_pid=$b)"
	echo "pong_to_ping $(count $f sched_switch pid=$b next_pid=$a)"
	echo "ping_sleeps $(count $f sched_switch pid=$a next_pid=$b state=1)"
}

for b in perf tracefs; do
	test_expect_success "$b: N=$N forks and K=$K round trips recorded" '
		rec -b '$b' -q -o forks-'$b'.h5 -- recload forks '$N' 20 >forks-'$b'.h5.wl &&
		! test -e /sys/kernel/tracing/instances/schedcast-$rec_pid &&
		rec -b '$b' -q -o pp-'$b'.h5 -- recload pingpong '$K' >pp-'$b'.h5.wl &&
		forks_counts forks-'$b'.h5 >forks-'$b'.counts &&
		pingpong_counts pp-'$b'.h5 >pp-'$b'.counts &&
		cat forks-'$b'.counts pp-'$b'.counts &&
		grep -qx "fork '$N'" forks-'$b'.counts &&
		grep -qx "exit '$N'" forks-'$b'.counts &&
		test $(awk "/_to_/ { s += \$2 } END { print s }" pp-'$b'.counts) -ge $((2 * '$K'))
	'
done

test_expect_success 'both backends see the same counts of the workload events' '
	test_cmp forks-tracefs.counts forks-perf.counts &&
	if grep -qx "mode fifo" pp-perf.counts pp-tracefs.counts; then
		# SCHED_FIFO on one CPU: each round trip is exactly two switches
		test_cmp pp-tracefs.counts pp-perf.counts
	else
		echo "not SCHED_FIFO: ping-pong switch counts may differ"
	fi
'

test_expect_success 'perf: the file says live-perf and mono, decodes every field' '
	schedcast info --json forks-perf.h5 >info.json &&
	python3 -c "import json; d = json.load(open(\"info.json\")); assert d[\"source\"] == \"live-perf\" and d[\"clock\"] == \"mono\", d" &&
	read -r _ a b mode <pp-perf.h5.wl &&
	tracedump pp-perf.h5 sched_switch pid=$a next_pid=$b | sed -n 2p >line &&
	grep -q " common_pid=$a pid=$a prio=[0-9]* next_pid=$b next_prio=[0-9]* state=1 comm=rl-ping next_comm=rl-pong$" line
'

test_expect_success 'both backends stamp with CLOCK_MONOTONIC: the workload lies in the span' '
	for b in tracefs perf; do
		schedcast info --json pp-$b.h5 >info.json &&
		read -r _ a b2 mode <pp-$b.h5.wl &&
		tracedump pp-$b.h5 any common_pid~$a,$b2 | cut -d" " -f1 >ts &&
		test -s ts &&
		python3 - $b <<-EOF
		import json, sys
		d = json.load(open("info.json"))
		ts = [int(l) for l in open("ts")]
		# start_ns/end_ns are CLOCK_MONOTONIC readings taken by the recorder
		assert d["start_ns"] <= min(ts) and max(ts) <= d["end_ns"], (sys.argv[1], d["start_ns"], min(ts), max(ts), d["end_ns"])
		EOF
	done
'

# A small perf ring that wraps many times (records split at its end, the
# space given back every 64 KiB decoded): every switch of the pair decodes
# whole, with its comms, and each of the pair's sleeps is recorded or counted
# as lost.
test_expect_success 'perf: a 256 KiB ring wrapping 15 times keeps every record whole' '
	rec -b perf -r 2 --buffer-size 256k -o wrap.h5 -- recload pingpong 20000 >wrap.wl 2>sum &&
	read -r _ a b mode <wrap.wl &&
	# (ping is "schedcast" until it execs, both "recload" until they name themselves)
	tracedump wrap.h5 sched_switch pid~$a,$b >out.a &&
	tracedump wrap.h5 sched_switch next_pid~$a,$b >out.b &&
	! grep -Ev " comm=(rl-ping|rl-pong|recload|schedcast) " out.a &&
	! grep -Ev " next_comm=(rl-ping|rl-pong|recload|schedcast)$" out.b &&
	sa=$(count wrap.h5 sched_switch pid=$a state=1) &&
	sb=$(count wrap.h5 sched_switch pid=$b state=1) &&
	lost=$(schedcast info --json wrap.h5 | python3 -c "import json, sys; print(json.load(sys.stdin)[\"lost_total\"])") &&
	echo "ping sleeps $sa, pong sleeps $sb, lost $lost ($mode)" &&
	# SCHED_FIFO on one CPU: ping sleeps K times waiting for the reply, pong
	# K - 1 (the first byte is there when it first runs); recorded or lost
	{ test "$mode" != fifo || test $((sa + sb + lost)) -ge 39999; }
'

test_done
