#!/usr/bin/env bash
# schedcast live runs in bounded memory: its tables keyed by task keep the
# most frequent entries and count the rest, so a run watching a machine
# that starts new tasks all the time (a fork loop: a new pid every fork)
# stops growing once they are full.  A 14 s run samples its own RSS twice a
# second; over the second half the least-squares slope must stay under
# 128 KiB/s and the largest sample within 4 MiB of the half-way one.
# Before the tables were bounded this run grew 18 MiB in its second half
# (3 MiB/s).
#
# A live run behind the kernel grows its queues with the backlog, which
# would hide the tables: live runs on the second CPU under SCHED_FIFO (ahead
# of every other task there, the machine's load included) with --max-lag
# 100ms (it skips decisions rather than fall further behind), while the fork
# loop runs apart on the first CPU at normal priority.  live watches the
# whole machine, so other work can still burst: up to three runs, one must
# be flat.
. "$(dirname "$0")/lib.sh"

desc='live under a fork loop: RSS flat over the second half of the run'
if ! why=$(has_tracefs); then
	test_skip "$desc" "$why"
	test_done
	exit
fi
if [ -n "${ASAN_OPTIONS:-}" ]; then
	test_skip "$desc" "AddressSanitizer's quarantine holds freed memory: the RSS is its, not ours"
	test_done
	exit
fi
if ! command -v chrt >/dev/null || ! chrt -f 1 true 2>/dev/null; then
	test_skip "$desc" "cannot run a SCHED_FIFO task here (chrt)"
	test_done
	exit
fi

test_lock bpf	# not while t5300's BPF program slows every switch of the machine
ncpu=$(nproc)
live_cpu=$(( ncpu > 1 ? 1 : 0 ))

cd "$TRASH"
# the fork loop, a new pid every fork, about a thousand a second
taskset -c 0 sh -c 'while :; do /bin/true; sleep 0.001; done' &
loop=$!
trap 'kill $loop 2>/dev/null; cd /; rm -rf "$TRASH"' EXIT

# run_live N: a 14 s run, its RSS sampled into rssN (seconds KiB) by a
# SCHED_FIFO loop too, its verdict into checkN.out: exit 0 flat, 1 not
run_live() {
	local pid n=$1
	chrt -f 10 taskset -c $live_cpu schedcast live -m general -d 14s --max-lag 100ms --json \
		>live$n.json 2>live$n.err &
	pid=$!
	: >rss$n
	chrt -f 5 sh -c 'while kill -0 $1 2>/dev/null; do
		echo "$(date +%s.%N) $(awk "/^VmRSS/ { print \$2 }" /proc/$1/status 2>/dev/null)"
		sleep 0.5
	done' sh $pid >rss$n
	wait $pid || { cat live$n.err >check$n.out; return 1; }
	python3 - $n >check$n.out 2>&1 <<-\EOF
	import json, sys
	n = sys.argv[1]
	rows = [l.split() for l in open("rss" + n)]
	pts = [(float(r[0]), int(r[1])) for r in rows if len(r) == 2]
	live = json.load(open("live%s.json" % n))["live"]
	k = len(pts)
	t0 = pts[0][0] if pts else 0
	tail = [(t - t0, y) for t, y in pts if t - t0 >= 7]	# the second half of the 14 s
	m = len(tail)
	xm, ym = sum(t for t, _ in tail) / max(m, 1), sum(y for _, y in tail) / max(m, 1)
	den = sum((t - xm) ** 2 for t, _ in tail) or 1
	slope = sum((t - xm) * (y - ym) for t, y in tail) / den	# KiB a second
	half, last = (tail[0][1], max(y for _, y in tail)) if tail else (0, 0)
	lag = live["max_lag_ns"] / 1e6
	print("run %s: %d decisions, largest lag %.0f ms, fell behind %d times; RSS at start %d KiB, "
	      "half-way %d KiB, largest after %d KiB, slope over the second half %.1f KiB/s"
	      % (n, live["decisions"], lag, live["fell_behind"], pts[0][1] if pts else 0, half,
		 last, slope))
	assert m >= 8, "only %d RSS samples in the second half" % m
	assert live["decisions"] >= 10000, "too few decisions to fill the tables"
	assert slope < 128, "live grew %.1f KiB/s over the second half" % slope
	assert last - half <= 4096, "live grew %d KiB in the second half" % (last - half)
	EOF
}

# Up to three runs until one is flat: live watches the whole machine,
# whatever else runs on it, and a burst of other work can grow its queues
# for a while (--max-lag 100ms bounds that backlog: it skips decisions
# rather than fall further behind).  Unbounded tables grew 0.6 to 2.6 MiB/s
# here, in steps as their hash tables double.
ok=
for n in 1 2 3; do
	if run_live $n; then
		ok=$n
		break
	fi
done
kill $loop 2>/dev/null
wait $loop 2>/dev/null
cat check*.out | sed 's/^/# /'

test_expect_success "$desc" '
	cat check*.out >&2
	test -n "$ok"
'

test_done
