# SPDX-License-Identifier: GPL-2.0
"""Import: events/s from trace.dat and perf.data to trace.h5, against
`trace-cmd report >/dev/null` and `perf script >/dev/null` on the same files."""
import os

import benchlib as B
import inputs


def measure_pairs(ctx, pairs, reps):
    """pairs: [(label, events, [variants])]; each variant {"name", "argv", "ours"}.
    Returns table rows and raw results."""
    rows = []
    data = {}
    failed = {}
    for label, events, variants in pairs:
        def one(v, rep):
            r = B.run(v["argv"], stdout="null", timeout=900)
            r.check(v["name"])
            if v.get("cleanup") and os.path.exists(v["cleanup"]):
                os.unlink(v["cleanup"])
            return {"wall": r.wall, "cpu": r.cpu, "rss": r.maxrss,
                    "evps": events / r.wall if r.wall > 0 else None}
        res, fail = B.alternate(variants, reps, one)
        failed.update(fail)
        data[label] = res
        anchor_names = [v["name"] for v in variants if not v["ours"]]
        for v in variants:
            ms = res.get(v["name"], [])
            if not ms:
                rows.append([label, v["name"], fail.get(v["name"], "-"), "", "", "", ""])
                continue
            evps = B.summary([m["evps"] for m in ms])
            rat = []
            if v["ours"]:
                for a in anchor_names:
                    am = res.get(a, [])
                    ae = B.median([m["evps"] for m in am]) if am else None
                    rat.append("%s vs %s" % (B.fmt_ratio(B.ratio(evps["median"], ae)), a))
            rows.append([label, "`%s`" % v["shown"], B.fmt_stat(evps),
                         B.fmt_stat(B.summary([m["wall"] for m in ms]), "s"),
                         B.fmt_stat(B.summary([m["cpu"] for m in ms]), "s"),
                         B.fmt_rss(ms),
                         "; ".join(rat)])
    return rows, data, failed


def flatness(ctx, what, runs, reps):
    """Peak RSS (and events/s) of our commands on a trace and on one ten times
    longer.  runs: [(name, events_1x, argv_1x, events_10x, argv_10x, cleanup)].
    Returns markdown lines, summary lines and the raw data."""
    variants = []
    for name, e1, a1, e10, a10, cleanup in runs:
        variants.append({"name": name + " 1x", "events": e1, "argv": a1, "cleanup": cleanup})
        variants.append({"name": name + " 10x", "events": e10, "argv": a10, "cleanup": cleanup})

    def one(v, rep):
        r = B.run(v["argv"], stdout="null", timeout=900)
        r.check(v["name"])
        if v.get("cleanup") and os.path.exists(v["cleanup"]):
            os.unlink(v["cleanup"])
        return {"wall": r.wall, "cpu": r.cpu, "rss": r.maxrss,
                "evps": v["events"] / r.wall if r.wall > 0 else None}
    res, failed = B.alternate(variants, reps, one)
    rows, summ = [], []
    for name, e1, _, e10, _, _ in runs:
        m = {}
        for k, e in (("1x", e1), ("10x", e10)):
            ms = res.get("%s %s" % (name, k), [])
            if not ms:
                rows.append([name, k, B.fmt(e), failed.get("%s %s" % (name, k), "-"), "", ""])
                continue
            evps = B.summary([x["evps"] for x in ms])
            rss = B.summary([x["rss"] / 1024 for x in ms if x["rss"]])
            m[k] = (evps["median"], rss["median"] if rss else None)
            rows.append([name, k, B.fmt(e), B.fmt_stat(evps), B.fmt_stat(rss, "MiB"),
                         B.fmt_stat(B.summary([x["cpu"] for x in ms]), "s")])
        if "1x" in m and "10x" in m:
            summ.append("%s: peak RSS %s -> %s MiB (%s) from %s to %s events" % (
                name, B.fmt(m["1x"][1]), B.fmt(m["10x"][1]),
                B.fmt_ratio(B.ratio(m["10x"][1], m["1x"][1])), B.fmt(e1), B.fmt(e10)))
    md = ["", "**Memory against trace length** (%s): the same commands on an input of the "
          "same workload ten times shorter; peak RSS must stay flat (10x / 1x within 1.2x)."
          % what, "",
          B.md_table(["command", "input", "events", "events/s", "peak RSS", "CPU"], rows)]
    if summ:
        md += ["", "10x / 1x: " + "; ".join(summ) + "."]
    return md, summ, res, failed


def med(data, label, name, key):
    ms = data.get(label, {}).get(name, [])
    return B.median([m[key] for m in ms]) if ms else None


def figure(ctx):
    cfg = ctx.cfg
    B.need_command("import")
    work = ctx.workdir("import")
    n = cfg["import_events"]
    dat = inputs.trace_dat(ctx, n)
    pd = inputs.perf_data(ctx, n)
    out = os.path.join(work, "out.h5")
    pairs = [
        ("trace.dat, %s events" % B.fmt(dat["events"]), dat["events"], [
            {"name": "schedcast import", "ours": True, "cleanup": out,
             "argv": [B.SCHEDCAST, "import", "-o", out, dat["path"]],
             "shown": "schedcast import -o out.h5 trace.dat"},
            {"name": "trace-cmd report", "ours": False,
             "argv": ["trace-cmd", "report", "-i", dat["path"]],
             "shown": "trace-cmd report -i trace.dat >/dev/null"},
        ]),
        ("perf.data, %s events" % B.fmt(pd["events"]), pd["events"], [
            {"name": "schedcast import", "ours": True, "cleanup": out,
             "argv": [B.SCHEDCAST, "import", "-o", out, pd["path"]],
             "shown": "schedcast import -o out.h5 perf.data"},
            {"name": "perf script", "ours": False,
             "argv": ["perf", "script", "-i", pd["path"]],
             "shown": "perf script -i perf.data >/dev/null"},
        ]),
    ]
    # the imported event counts, to show nothing was dropped on the way
    got = {}
    for label, src in (("trace.dat", dat), ("perf.data", pd)):
        h5 = inputs.imported(ctx, src, "import-" + label.replace(".", "-"))
        got[label] = h5["events"]
    rows, data, failed = measure_pairs(ctx, pairs, cfg["reps"])
    md = ["Inputs (made by the suite from a hackbench workload):", "",
          "- trace.dat: %s sched events, %s lost; %s" % (B.fmt(dat["events"]), dat["lost"],
                                                         dat["command"]),
          "- perf.data: %s samples, %s lost; %s" % (B.fmt(pd["events"]), pd["lost"],
                                                    pd["command"]),
          "- events in the trace.h5 schedcast import wrote: %s from trace.dat, %s from perf.data"
          % (got["trace.dat"], got["perf.data"]), "",
          "%d alternated repetitions.  events/s = events in the input / wall time.  Ratio: "
          "ours / anchor of events/s (above 1: ours is faster)." % cfg["reps"], "",
          B.md_table(["input", "command", "events/s", "wall", "CPU", "peak RSS",
                      "ratio ours/anchor"], rows)]
    # memory against length: the same inputs, made ten times shorter
    dat1 = inputs.trace_dat(ctx, n // 10, tag="import-short")
    pd1 = inputs.perf_data(ctx, n // 10)
    fmd, fsumm, fdata, ffailed = flatness(ctx, "schedcast import", [
        ("`schedcast import` trace.dat", dat1["events"],
         [B.SCHEDCAST, "import", "-o", out, dat1["path"]], dat["events"],
         [B.SCHEDCAST, "import", "-o", out, dat["path"]], out),
        ("`schedcast import` perf.data", pd1["events"],
         [B.SCHEDCAST, "import", "-o", out, pd1["path"]], pd["events"],
         [B.SCHEDCAST, "import", "-o", out, pd["path"]], out)], cfg["reps"])
    md += fmd
    data["flatness"] = fdata
    failed.update(ffailed)
    summ = []
    for (label, _, vs), src in zip(pairs, ("trace.dat", "perf.data")):
        ours, anch = vs[0]["name"], vs[1]["name"]
        a, b = med(data, label, ours, "evps"), med(data, label, anch, "evps")
        summ.append("import of a %s of %s events: %s events/s against %s's %s (%s)" % (
            src, B.fmt(dat["events"] if src == "trace.dat" else pd["events"]), B.fmt(a), anch,
            B.fmt(b), B.fmt_ratio(B.ratio(a, b))))
    summ += ["memory against length (import): " + s for s in fsumm]
    return {"md": "\n".join(md), "data": data, "failed": failed, "summary": summ}
