#!/usr/bin/env python3
"""Compare `schedcast report --format json` with `perf sched timehist -s` and
with the kernel's own run-time accounting (sched_stat_runtime sums).

  check-timehist.py REPORT.json TIMEHIST.txt RUNTIME.txt

Per pid in timehist's summary:
  - switches == timehist's sched-in count, always;
  - where none of the task's switch-ins was inferred, run time and min/avg/max
    run equal timehist's, which truncates to the microsecond (0 <= ours - perf
    < 1 us);
  - elsewhere ours is at most timehist's (timehist counts the idle time before
    an unrecorded switch out of idle as run time).
Over all pids with sched_stat_runtime, our run times are closer to the
kernel's sums than timehist's.  At least 10 pids must be exact.
"""
import json, re, sys
rep = json.load(open(sys.argv[1]))
th = {}
for line in open(sys.argv[2]):
    m = re.match(r"\s*(.+)\[(\d+)\]\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", line)
    if m:
        th[int(m.group(2))] = dict(count=int(m.group(4)), run=float(m.group(5)), min=float(m.group(6)), avg=float(m.group(7)), max=float(m.group(8)))
kern = {int(l.split()[0]): int(l.split()[1]) for l in open(sys.argv[3])}
tasks = {t["pid"]: t for t in rep["tasks"]}
exact = bounded = 0
bad = []
err_ours = err_perf = 0
for pid, p in sorted(th.items()):
    t = tasks.get(pid)
    if not t:
        bad.append(f"pid {pid}: in timehist, not in report"); continue
    if t["switches"] != p["count"]:
        bad.append(f"pid {pid}: switches {t['switches']} != timehist sched-in {p['count']}")
    run = t["run_ns"] / 1e6
    b = t["run_burst"]
    if t["inferred_switch_ins"] == 0:
        exact += 1
        for k, v in (("run", run), ("min", b["min_ns"]/1e6), ("avg", b["avg_ns"]/1e6), ("max", b["max_ns"]/1e6)):
            # timehist truncates to the microsecond
            if not (-1e-9 <= v - p[k] < 0.001):
                bad.append(f"pid {pid}: {k} {v:.4f} != timehist {p[k]:.3f}")
    else:
        bounded += 1
        if run >= p["run"] + 0.001:
            bad.append(f"pid {pid}: run {run:.4f} > timehist {p['run']:.3f} (ours is a lower bound)")
    if pid in kern:
        err_ours += abs(run - kern[pid]/1e6); err_perf += abs(p["run"] - kern[pid]/1e6)
print(f"tasks exact {exact}, bounded {bounded}; |ours-kernel| {err_ours:.3f} ms, |timehist-kernel| {err_perf:.3f} ms")
for b in bad: print(b)
sys.exit(1 if bad or exact < 10 or err_ours >= err_perf else 0)
