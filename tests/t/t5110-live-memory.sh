#!/usr/bin/env bash
# schedcast live runs in bounded memory: its tables keyed by task keep the
# most frequent entries and count the rest, so a run watching a machine
# that starts new tasks all the time (a fork loop: a new pid every fork)
# stops growing once they are full.  A 12 s run samples its own RSS; the
# second half may add 4 MiB at most (the capture's queues keep their
# high-water mark, the allocator its own).  Before the tables were bounded
# this run grew 18 MiB in its second half.  A run that fell behind the
# kernel is not measured (its queues grow with the backlog): tried again,
# up to three times.
. "$(dirname "$0")/lib.sh"

if ! why=$(has_tracefs); then
	test_skip 'live under a fork loop: RSS flat over the second half of the run' "$why"
	test_done
	exit
fi
if [ -n "${ASAN_OPTIONS:-}" ]; then
	test_skip 'live under a fork loop: RSS flat over the second half of the run' \
		"AddressSanitizer's quarantine holds freed memory: the RSS is its, not ours"
	test_done
	exit
fi

test_lock bpf	# not while t5300's BPF program slows every switch of the machine
live_cpu=$(( $(nproc) > 1 ? 1 : 0 ))	# apart from the fork loop: falling behind grows its queues

# run_live N: a 12 s run under the fork loop, its RSS sampled into rssN
run_live() {
	taskset -c $live_cpu schedcast live -m general -d 12s --json -- \
		taskset -c 0 sh -c "while :; do /bin/true; sleep 0.001; done" >live$1.json 2>live$1.err &
	pid=$!
	: >rss$1
	while kill -0 $pid 2>/dev/null; do
		awk "/^VmRSS/ { print \$2 }" /proc/$pid/status >>rss$1 2>/dev/null
		sleep 0.5
	done
	wait $pid
}

# a run that fell behind the kernel grew the capture's queues: try again
cd "$TRASH"
kept_up=
for n in 1 2 3; do
	run_live $n || { cat live$n.err; break; }
	if python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["live"]["fell_behind"] > 0)' \
		live$n.json; then
		kept_up=$n
		break
	fi
done

if [ -z "$kept_up" ]; then
	test_skip 'live under a fork loop: RSS flat over the second half of the run' \
		"live fell behind the kernel in every run (a busy machine): the backlog would hide the tables"
	test_done
	exit
fi

test_expect_success 'live under a fork loop: RSS flat over the second half of the run' '
	python3 - $kept_up <<-\EOF
	import json, sys
	n = sys.argv[1]
	rss = [int(x) for x in open("rss" + n).read().split()]
	live = json.load(open("live%s.json" % n))
	k = len(rss)
	assert k >= 16, "only %d RSS samples" % k
	half, last = rss[k // 2], max(rss[k // 2:])
	print("# %d decisions, run %s; RSS at start %d KiB, half-way %d KiB, largest after %d KiB"
	      % (live["live"]["decisions"], n, rss[0], half, last))
	assert live["live"]["decisions"] >= 10000, "too few decisions to fill the tables"
	assert last - half <= 4096, "live grew %d KiB in the second half" % (last - half)
	EOF
'

test_done
