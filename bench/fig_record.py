# SPDX-License-Identifier: GPL-2.0
"""Recording: the highest event rate recorded with zero loss, and the
recorder's own CPU per million events, for `schedcast record` (both
backends) against `perf record` and a tracefs instance + `trace-cmd extract`.

Protocol, per workload level: the workload (bench/workloads/) runs in the
background; after a warm-up every recorder records system-wide for the same
D seconds, alternately, REPS times each.  Two sets of recorders: with their
own defaults (schedcast record sizes its rings from the rate, perf record
maps its default 512 KiB + a page), which is what a user gets, and with the
same ring buffer per CPU for all, the harder comparison.  The recorder's CPU is user + sys of its process tree from
wait4(2) (perf record's `-- sleep D` child costs nothing); the kernel's own
cost of writing the ring buffer falls on the workload alike for all.
"""
import os
import time

import benchlib as B

WORKLOADS = ["hackbench", "sysbench"]
RT_PRIO = 10


def workload_cmd(name, level):
    r = B.run([os.path.join(B.TOP, "bench", "workloads", name), str(level), "-n"])
    return r.out.strip()


def recorders(buf_kb, D):
    return [
        # Each recorder with its own defaults: no ring size given.
        {"name": "schedcast record -b tracefs (defaults)", "ours": True, "kind": "sc",
         "backend": "tracefs", "default": True,
         "cmd": "schedcast record -b tracefs -d %gs -o trace.h5" % D},
        {"name": "schedcast record -b perf (defaults)", "ours": True, "kind": "sc",
         "backend": "perf", "default": True,
         "cmd": "schedcast record -b perf -d %gs -o trace.h5" % D},
        {"name": "perf record (defaults)", "ours": False, "kind": "perf", "default": True,
         "cmd": "perf record -q -a -e %s -o perf.data -- sleep %g" % (B.PERF_EVENTS, D)},
        # The same ring for every recorder.
        {"name": "schedcast record -b tracefs", "ours": True, "kind": "sc", "backend": "tracefs",
         "cmd": "schedcast record -b tracefs --buffer-size %dK -d %gs -o trace.h5" % (buf_kb, D)},
        {"name": "schedcast record -b perf", "ours": True, "kind": "sc", "backend": "perf",
         "cmd": "schedcast record -b perf --buffer-size %dK -d %gs -o trace.h5" % (buf_kb, D)},
        {"name": "perf record", "ours": False, "kind": "perf",
         "cmd": "perf record -q -a -m %dK -e %s -o perf.data -- sleep %g" % (buf_kb, B.PERF_EVENTS,
                                                                           D)},
        # Uncompressed events: the recorder's CPU without deflate, files of about
        # 88 bytes an event (perf.data: about 125).
        {"name": "schedcast record -b tracefs -z 0", "ours": True, "kind": "sc",
         "backend": "tracefs", "z": 0,
         "cmd": "schedcast record -b tracefs -z 0 --buffer-size %dK -d %gs -o trace.h5" % (
             buf_kb, D)},
        {"name": "tracefs + trace-cmd extract", "ours": False, "kind": "extract",
         "cmd": "a tracefs instance with buffer_size_kb=%d and the 7 events on for %g s; "
                "trace-cmd extract -B NAME -o trace.dat" % (buf_kb, D)},
        # Reading the rings at real-time priority, ours and perf's alike; only at
        # the two highest levels, where an overloaded machine starves a recorder.
        {"name": "schedcast record -b tracefs -r %d" % RT_PRIO, "ours": True, "kind": "sc",
         "backend": "tracefs", "rt": RT_PRIO, "high_only": True,
         "cmd": "schedcast record -b tracefs -r %d --buffer-size %dK -d %gs -o trace.h5" % (
             RT_PRIO, buf_kb, D)},
        {"name": "perf record -r %d" % RT_PRIO, "ours": False, "kind": "perf", "rt": RT_PRIO,
         "high_only": True,
         "cmd": "perf record -q -r %d -a -m %dK -e %s -o perf.data -- sleep %g" % (
             RT_PRIO, buf_kb, B.PERF_EVENTS, D)},
    ]


def record_once(v, D, buf_kb, work):
    """One recording of D seconds; returns events, lost, cpu, wall, bytes."""
    if v["kind"] == "sc":
        out = os.path.join(work, "rec.h5")
        rt = ["-r", str(v["rt"])] if v.get("rt") else []
        rt += ["-z", str(v["z"])] if "z" in v else []
        ring = [] if v.get("default") else ["--buffer-size", "%dK" % buf_kb]
        r = B.run([B.SCHEDCAST, "record", "-b", v["backend"]] + rt + ring +
                  ["-d", "%gs" % D, "-o", out], timeout=D * 10 + 60)
        r.check()
        info = B.schedcast_info(out)
        if not info:
            raise RuntimeError("schedcast info cannot read %s" % out)
        by = info.get("events_by_type", {})
        events = sum(n for k, n in by.items() if k != "lost")
        lost = info.get("lost_total", 0)
        size = os.path.getsize(out)
        os.unlink(out)
    elif v["kind"] == "perf":
        if not B.have("perf"):
            raise B.NotAvailable("perf missing (Debian linux-perf)")
        out = os.path.join(work, "rec.perf.data")
        rt = ["-r", str(v["rt"])] if v.get("rt") else []
        ring = [] if v.get("default") else ["-m", "%dK" % buf_kb]
        r = B.run(["perf", "record", "-q"] + rt + ["-a"] + ring + ["-e", B.PERF_EVENTS,
                   "-o", out, "--", "sleep", str(D)], timeout=D * 10 + 60)
        r.check()
        events, lost = B.perf_data_counts(out)
        size = os.path.getsize(out)
        os.unlink(out)
    else:
        if not B.have("trace-cmd"):
            raise B.NotAvailable("trace-cmd missing (Debian trace-cmd)")
        name = "schedcast-bench-%d" % os.getpid()
        out = os.path.join(work, "rec.dat")
        inst = B.Instance(name, buf_kb)
        try:
            inst.on()
            time.sleep(D)
            inst.off()
            st = inst.stats()
            r = B.run(["trace-cmd", "extract", "-B", name, "-o", out], timeout=D * 10 + 60)
            r.check()
        finally:
            inst.remove()
        events = st["entries"]
        lost = st["overrun"] + st["dropped"]
        size = os.path.getsize(out)
        os.unlink(out)
    return {"events": events, "lost": lost, "cpu": r.cpu, "wall": r.wall, "bytes": size,
            "rate": (events + lost) / D,
            "cpu_per_mev": r.cpu / (events / 1e6) if events else None}


def figure(ctx):
    cfg = ctx.cfg
    D, reps, buf_kb, levels = cfg["rec_seconds"], cfg["reps"], cfg["rec_buffer_kb"], cfg["levels"]
    work = ctx.workdir("record")
    B.need_command("record")
    B.need_root("recording")
    variants = recorders(buf_kb, D)
    for tool in ("hackbench", "sysbench"):
        if not B.have(tool):
            raise B.NotAvailable("%s missing (scripts/install-deps --bench)" % tool)

    results = {}
    failed = {}
    high = levels[-cfg.get("rt_levels", 2):]

    def at(level):
        return [v for v in variants if not v.get("high_only") or level in high]
    for wl in WORKLOADS:
        for level in levels:
            B.log("record: %s level %d" % (wl, level))
            bg = B.Background([os.path.join(B.TOP, "bench", "workloads", wl), str(level)])
            try:
                time.sleep(cfg["warmup"])
                res, fail = B.alternate(at(level), reps,
                                        lambda v, r: record_once(v, D, buf_kb, work))
            finally:
                bg.stop()
            failed.update(fail)
            results[(wl, level)] = res

    def stat(wl, level, name, key):
        return B.summary([m[key] for m in results[(wl, level)].get(name, [])])

    md = []
    md.append("Each recorder records system-wide for %g s while the workload runs; %d alternated "
              "repetitions per level.  The *(defaults)* rows give no ring size: schedcast record "
              "sizes its rings from the rate of the 100 ms before recording (2 s of the busiest "
              "CPU's rate, 4 MiB to 1/64 of the free memory, said in its first line), perf record "
              "maps its default (512 KiB + a page per CPU for root); this is what the issue's "
              "\"default `schedcast record` loses nothing wherever `perf record` loses nothing\" "
              "is read from.  Every other row gives every recorder the same %d KiB of ring buffer "
              "per CPU (the harder comparison).  *rate* is events "
              "offered per second (recorded + lost), *CPU/Mev* the recorder's user+sys CPU "
              "seconds per million recorded events.  Ratios are ours / anchor of CPU/Mev "
              "(below 1: ours costs less).  perf record is given the same seven sched events "
              "schedcast records rather than `sched:*` (every sched tracepoint, among them the "
              "frequent sched_stat_runtime), so that all recorders do the same work.  The `-r %d` "
              "rows read the rings at SCHED_FIFO priority %d (schedcast record -r, perf record "
              "-r alike) and run only at the highest level(s), where a recorder gets starved."
              % (D, reps, buf_kb, RT_PRIO, RT_PRIO))
    md.append("")
    md.append("Recorders:")
    md.append("")
    for v in variants:
        md.append("- %s: `%s`" % (v["name"], v["cmd"]))
    md.append("")
    anchors = [v["name"] for v in variants if not v["ours"]]
    ours = [v["name"] for v in variants if v["ours"]]
    best = {}
    for wl in WORKLOADS:
        md.append("**%s**" % wl)
        md.append("")
        hdr = ["level", "recorder", "rate ev/s", "recorded", "lost (median, max)", "CPU s/Mev",
               "file B/ev"] + ["ratio vs %s" % a for a in anchors]
        trows = []
        for level in levels:
            for v in at(level):
                n = v["name"]
                ms = results[(wl, level)].get(n, [])
                if not ms:
                    trows.append(["%d" % level, n, failed.get(n, "-")] + [""] * (len(hdr) - 3))
                    continue
                lost = B.summary([m["lost"] for m in ms])
                cpm = stat(wl, level, n, "cpu_per_mev")
                ev = stat(wl, level, n, "events")
                row = ["%d: `%s`" % (level, workload_cmd(wl, level)) if v is variants[0]
                       else "", n, B.fmt_stat(stat(wl, level, n, "rate")), B.fmt(ev["median"]),
                       "%s, %s" % (B.fmt(lost["median"]), B.fmt(lost["max"])),
                       B.fmt_stat(cpm),
                       B.fmt(B.median([m["bytes"] / max(m["events"], 1) for m in ms]))]
                for a in anchors:
                    if v["ours"]:
                        ac = stat(wl, level, a, "cpu_per_mev")
                        row.append(B.fmt_ratio(B.ratio(cpm and cpm["median"],
                                                       ac and ac["median"])))
                    else:
                        row.append("")
                trows.append(row)
                if lost["max"] == 0:
                    r = stat(wl, level, n, "rate")["median"]
                    if r > best.get((wl, n), 0):
                        best[(wl, n)] = r
        md.append(B.md_table(hdr, trows))
        md.append("")
    md.append("Highest rate recorded with zero loss in every repetition (events/s; \"none\": "
              "lost events at every level tried; levels go up to the machine's limit):")
    md.append("")
    srows = []

    def none(v):
        if v["name"] in failed:
            return failed[v["name"]]
        if v.get("high_only"):
            return "none at levels %s (run only there)" % ", ".join(str(x) for x in high)
        return "none"
    for v in variants:
        srows.append([v["name"]] + [B.fmt(best[(wl, v["name"])]) if (wl, v["name"]) in best
                                    else none(v) for wl in WORKLOADS])
    md.append(B.md_table(["recorder"] + WORKLOADS, srows))
    data = {"%s/%d" % k: v for k, v in results.items()}
    summ = []
    lv = levels[1] if len(levels) > 1 else levels[0]
    for wl in WORKLOADS:
        parts, cpus = [], []
        for v in variants:
            parts.append("%s %s" % (v["name"], B.fmt(best[(wl, v["name"])])
                                    if (wl, v["name"]) in best else none(v)))
            if v.get("high_only") and lv not in high:
                continue
            cpm = stat(wl, lv, v["name"], "cpu_per_mev")
            cpus.append("%s %s" % (v["name"], B.fmt(cpm["median"]) if cpm else "-"))
        summ.append("%s: highest zero-loss rate (events/s): %s" % (wl, "; ".join(parts)))
        summ.append("%s level %d: recorder CPU s per million events: %s" % (
            wl, lv, "; ".join(cpus)))
    return {"md": "\n".join(md), "data": data, "failed": failed, "summary": summ,
            "headline": {"%s %s" % (wl, n): best.get((wl, n)) for wl in WORKLOADS
                         for n in ours + anchors}}
