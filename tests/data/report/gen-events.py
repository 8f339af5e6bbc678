#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""gen-events.py N [SEED] - N scheduler events for mktrace(1) on stdout: 4 CPUs,
200 tasks that run, sleep, wake and get preempted with durations spread over
1 us to 100 ms (log-uniform), so that a trace ten times longer has the same
tasks and the same range of values, only more of them."""
import random
import sys

n = int(sys.argv[1])
rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
CPUS, TASKS = 4, 200
out = sys.stdout
out.write("@cpus %d\n@events sched_switch,sched_waking,sched_migrate_task\n" % CPUS)
curr = [0] * CPUS
queued = [[] for _ in range(CPUS)]
sleeping = list(range(100, 100 + TASKS))
ts = 1000
lines = []
for i in range(n):
    ts += int(10 ** rnd.uniform(3, 8)) // 64
    cpu = rnd.randrange(CPUS)
    r = rnd.random()
    if r < 0.45 and sleeping:
        pid = sleeping.pop(rnd.randrange(len(sleeping)))
        queued[cpu].append(pid)
        out.write("%d %d waking pid=%d prio=120 target_cpu=%d comm=t%d common_pid=%d\n"
                  % (ts, cpu, pid, cpu, pid, curr[cpu]))
    elif r < 0.5 and queued[cpu]:
        pid = queued[cpu].pop(0)
        dest = (cpu + 1) % CPUS
        queued[dest].append(pid)
        out.write("%d %d sched_migrate_task pid=%d prio=120 orig_cpu=%d dest_cpu=%d comm=t%d "
                  "common_pid=%d\n" % (ts, cpu, pid, cpu, dest, pid, curr[cpu]))
    else:
        prev = curr[cpu]
        nxt = queued[cpu].pop(0) if queued[cpu] else 0
        if prev:
            if rnd.random() < 0.3:
                state = 0x100
                queued[cpu].append(prev)
            else:
                state = 1
                sleeping.append(prev)
        else:
            state = 0
        out.write("%d %d switch pid=%d prio=120 state=%#x next_pid=%d next_prio=120 comm=t%d "
                  "next_comm=t%d common_pid=%d\n" % (ts, cpu, prev, state, nxt, prev, nxt, prev))
        curr[cpu] = nxt
