#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""gen-churn.py N [SEED] - N scheduler events for mktrace(1) on stdout: 2 CPUs
and tasks that come and go, as hackbench's do: about 40 live at a time, each
running, sleeping and waking a few times before it exits (a switch-out in
state X), and a new pid takes its place.  A trace ten times longer has ten
times the tasks, with the same life of each."""
import random
import sys

n = int(sys.argv[1])
rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
CPUS, LIVE = 2, 40
out = sys.stdout
out.write("@cpus %d\n@events sched_switch,sched_waking\n" % CPUS)
curr = [0] * CPUS
queued = [[] for _ in range(CPUS)]
next_pid = 1000
sleeping = []
life = {}
for _ in range(LIVE):
    sleeping.append(next_pid)
    life[next_pid] = rnd.randrange(2, 12)
    next_pid += 1
ts = 1000
for i in range(n):
    ts += int(10 ** rnd.uniform(3, 6)) // 16
    cpu = rnd.randrange(CPUS)
    if rnd.random() < 0.45 and sleeping:
        pid = sleeping.pop(rnd.randrange(len(sleeping)))
        queued[cpu].append(pid)
        out.write("%d %d waking pid=%d prio=120 target_cpu=%d comm=w%d common_pid=%d\n"
                  % (ts, cpu, pid, cpu, pid % 7, curr[cpu]))
        continue
    prev = curr[cpu]
    nxt = queued[cpu].pop(0) if queued[cpu] else 0
    state = 0
    if prev:
        life[prev] -= 1
        if life[prev] <= 0:
            state = 0x10
            del life[prev]
            sleeping.append(next_pid)	# a new task replaces it
            life[next_pid] = rnd.randrange(2, 12)
            next_pid += 1
        elif rnd.random() < 0.3:
            state = 0x100
            queued[cpu].append(prev)
        else:
            state = 1
            sleeping.append(prev)
    out.write("%d %d switch pid=%d prio=120 state=%#x next_pid=%d next_prio=120 comm=w%d "
              "next_comm=w%d common_pid=%d\n" % (ts, cpu, prev, state, nxt, prev % 7, nxt % 7, prev))
    curr[cpu] = nxt
