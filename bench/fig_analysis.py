# SPDX-License-Identifier: GPL-2.0
"""Analysis: `schedcast report` on the trace.h5 imported from a perf.data,
against `perf sched latency` and `perf sched timehist` on that perf.data."""
import os

import benchlib as B
import fig_import
import inputs


def figure(ctx):
    cfg = ctx.cfg
    B.need_command("import", "report")
    if not B.have("perf"):
        raise B.NotAvailable("perf missing (Debian linux-perf)")
    pd = inputs.perf_data(ctx, cfg["import_events"])
    h5 = inputs.imported(ctx, pd, "analysis")
    tmp = os.path.join(ctx.workdir("analysis"), "t.h5")
    variants = [
        {"name": "schedcast report", "ours": True,
         "argv": [B.SCHEDCAST, "report", h5["path"]],
         "shown": "schedcast report trace.h5 >/dev/null"},
        {"name": "schedcast import + report", "ours": True, "cleanup": tmp,
         "argv": ["/bin/sh", "-c", '"$0" import -o "$1" "$2" && "$0" report "$1"',
                  B.SCHEDCAST, tmp, pd["path"]],
         "shown": "schedcast import -o t.h5 perf.data && schedcast report t.h5 >/dev/null"},
        {"name": "perf sched latency", "ours": False,
         "argv": ["perf", "sched", "latency", "-i", pd["path"]],
         "shown": "perf sched latency -i perf.data >/dev/null"},
        {"name": "perf sched timehist", "ours": False,
         "argv": ["perf", "sched", "timehist", "-i", pd["path"]],
         "shown": "perf sched timehist -i perf.data >/dev/null"},
    ]
    rows, data, failed = fig_import.measure_pairs(
        ctx, [("perf.data, %s events" % B.fmt(pd["events"]), pd["events"], variants)],
        cfg["reps"])
    md = ["Input: the perf.data of the import figure (%s samples, %s lost; %s), and the "
          "trace.h5 `schedcast import` made of it (%s events)." % (
              B.fmt(pd["events"]), pd["lost"], pd["command"], h5["events"]), "",
          "%d alternated repetitions.  events/s = perf.data samples / wall time; ratio: ours / "
          "anchor of events/s (above 1: ours is faster).  `schedcast report` reads the "
          "imported file; the import + report row is the whole way from perf.data, as the "
          "perf sched commands go." % cfg["reps"], "",
          B.md_table(["input", "command", "events/s", "wall", "CPU", "peak RSS",
                      "ratio ours/anchor"], rows)]
    # memory against length: report on the import of a perf.data ten times shorter
    pd1 = inputs.perf_data(ctx, cfg["import_events"] // 10)
    h51 = inputs.imported(ctx, pd1, "analysis-short")
    fmd, fsumm, fdata, ffailed = fig_import.flatness(ctx, "schedcast report", [
        ("`schedcast report`", h51["events"], [B.SCHEDCAST, "report", h51["path"]],
         h5["events"], [B.SCHEDCAST, "report", h5["path"]], None)], cfg["reps"])
    md += fmd
    failed.update(ffailed)
    label = next(iter(data)) if data else None
    w = {v["name"]: fig_import.med(data, label, v["name"], "wall") for v in variants}
    summ = ["on a perf.data of %s events: schedcast report %s (import + report %s), perf sched "
            "latency %s, perf sched timehist %s" % (
                B.fmt(pd["events"]), B.fmt(w["schedcast report"], "s"),
                B.fmt(w["schedcast import + report"], "s"), B.fmt(w["perf sched latency"], "s"),
                B.fmt(w["perf sched timehist"], "s"))]
    summ += ["memory against length (report): " + s for s in fsumm]
    data["flatness"] = fdata
    return {"md": "\n".join(md), "data": data, "failed": failed, "summary": summ}
