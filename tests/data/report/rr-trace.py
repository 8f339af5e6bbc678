#!/usr/bin/env python3
# rr-trace.py [N] - mktrace input for tests/t/t4010-eval.sh.
# Round robin of four tasks on cpu0, each preempted after its burst: the
# kernel always picks the longest-queued task.  cpu1 runs a ping-pong pair.
import sys
n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
print("@cpus 2")
print("@events sched_switch,sched_wakeup,sched_waking,sched_migrate_task,sched_process_fork,sched_process_exit,sched_wakeup_new")
names = {10: "rr-a", 11: "rr-b", 12: "rr-c", 13: "rr-d", 20: "ping", 21: "pong"}
t = 1000
for pid in (11, 12, 13):
    print(f"{t} 0 wakeup pid={pid} prio=120 target_cpu=0 comm={names[pid]} common_pid=0"); t += 10
print(f"{t} 0 switch pid=0 prio=120 state=0 next_pid=10 next_prio=120 comm=swapper/0 next_comm=rr-a common_pid=0")
print(f"{t} 1 switch pid=0 prio=120 state=0 next_pid=20 next_prio=120 comm=swapper/1 next_comm=ping common_pid=0")
order = [10, 11, 12, 13]
cur, pp = 0, 20
for i in range(n):
    burst = 3000000 if order[cur] == 10 else 1000000
    t += burst
    prev, nxt = order[cur], order[(cur + 1) % 4]
    print(f"{t} 0 switch pid={prev} prio=120 state=0x100 next_pid={nxt} next_prio=120 comm={names[prev]} next_comm={names[nxt]} common_pid={prev}")
    cur = (cur + 1) % 4
    other = 41 - pp
    print(f"{t + 100} 1 wakeup pid={other} prio=120 target_cpu=1 comm={names[other]} common_pid={pp}")
    print(f"{t + 200} 1 switch pid={pp} prio=120 state=1 next_pid={other} next_prio=120 comm={names[pp]} next_comm={names[other]} common_pid={pp}")
    pp = other
