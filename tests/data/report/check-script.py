#!/usr/bin/env python3
"""Compare `schedcast script` with `perf sched timehist` on the same perf.data.

    check-script.py OURS PERFS [--loose]

Every line must agree: time, CPU, the three durations, and the task.  Task
names may differ in one way only, where perf is the odd one out: perf names
a kworker by its /proc comm, which the kernel extends with the workqueue
("kworker/0:1H-kb"), while the sched events carry the bare comm; so perf's
comm may extend ours after a '-'.  With --loose (wakeup and migration lines),
perf's own placeholders for tasks it never saw a comm for (":70") and for
the idle task as a waker ("swapper") are accepted too, and so is another comm
for the same tid in the waker column: perf learns of an exec() from its COMM
records, the sched events only at the task's next switch.  One line per
disagreement; exit 1 on any.
"""
import re, sys

line_re = re.compile(r"^\s*(\d+\.\d{6}) \[(\d{4})\]  (\S+)\s+(.*?)\s*$")
name_re = re.compile(r"^(.*)\[(\d+(?:/\d+)?)\]$")


def body(path):
    return [l.rstrip("\n") for l in open(path, encoding="utf-8", errors="replace")][3:]


def same_task(ours, perfs, loose):
    if ours == perfs:
        return True
    if loose and perfs == "swapper" and ours == "<idle>":
        return True
    mo, mp = name_re.match(ours), name_re.match(perfs)
    if not mo or not mp:
        return False
    if mo.group(2) != mp.group(2):
        return False
    return mp.group(1).startswith(mo.group(1) + "-") or mp.group(1) == mo.group(1)


def same_rest(ours, perfs, loose):
    if ours == perfs:
        return True
    # "awakened: X" / "migrated: X cpu a => b": compare the named task the same way
    mo = re.match(r"^(awakened|migrated): (\S+)(.*)$", ours)
    mp = re.match(r"^(awakened|migrated): (\S+)(.*)$", perfs)
    if not mo or not mp or mo.group(1) != mp.group(1) or mo.group(3) != mp.group(3):
        return False
    if loose and mp.group(2).startswith(":"):
        return mo.group(2).endswith("[" + mp.group(2)[1:] + "]")
    return same_task(mo.group(2), mp.group(2), loose)


def main():
    ours, perfs = body(sys.argv[1]), body(sys.argv[2])
    loose = "--loose" in sys.argv[3:]
    bad = 0
    if len(ours) != len(perfs):
        print(f"line count: ours {len(ours)}, perf {len(perfs)}")
        bad += 1
    for i, (o, p) in enumerate(zip(ours, perfs)):
        mo, mp = line_re.match(o), line_re.match(p)
        if not mo or not mp:
            print(f"line {i + 4}: cannot parse: {o!r} / {p!r}")
            bad += 1
            continue
        if mo.group(1, 2) != mp.group(1, 2):
            print(f"line {i + 4}: time/cpu {mo.group(1, 2)} != perf {mp.group(1, 2)}")
            bad += 1
        elif not same_task(mo.group(3), mp.group(3), loose) and not (
                loose and mo.group(4).startswith(("awakened", "migrated")) and
                name_re.match(mo.group(3)) and name_re.match(mp.group(3)) and
                name_re.match(mo.group(3)).group(2) == name_re.match(mp.group(3)).group(2)):
            print(f"line {i + 4}: task {mo.group(3)} != perf {mp.group(3)}")
            bad += 1
        elif not same_rest(mo.group(4), mp.group(4), loose):
            print(f"line {i + 4}: {mo.group(4)!r} != perf {mp.group(4)!r}")
            bad += 1
        if bad > 20:
            break
    print(f"{len(ours)} lines, {bad} disagreements")
    return 1 if bad else 0


sys.exit(main())
