#!/usr/bin/env python3
"""Validate a `schedcast export` file against the Trace Event Format and its trace.

    check-perfetto.py TRACE.json [TRACE.h5]

The format's documented fields ("Trace Event Format", Google): the file is
{"traceEvents": [...]} with optional displayTimeUnit; every event has ph,
name, pid, tid; complete events ("X") a ts and a dur >= 0 in microseconds;
metadata ("M") one of process_name, thread_name, process_sort_index,
thread_sort_index with its args; flow events ("s" start, "f" finish) an id
and a ts, the start inside a slice of its thread, the finish with bp "e"
inside one too, one start and one finish per id, finish not before start.

With TRACE.h5 (read with h5py, not with schedcast), every running slice on
the CPU tracks must be one stretch between two sched_switch events of that
CPU: the one at its start switched its task in, the one at its end switched
it out, with nothing in between.  One line per problem; exit 1 on any.
"""
import bisect, collections, json, sys

CPUS_PID = 1073741824
bad = []


def problem(msg):
    if len(bad) < 30:
        print(msg)
    bad.append(msg)


def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


doc = json.load(open(sys.argv[1]))
if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
    problem("not an object with a traceEvents array")
    sys.exit(1)
if doc.get("displayTimeUnit", "ms") not in ("ms", "ns"):
    problem("displayTimeUnit must be ms or ns")

slices = collections.defaultdict(list)      # (pid, tid) -> [(start, end, event)]
flows = collections.defaultdict(dict)       # id -> {ph: event}
names = set()
for i, ev in enumerate(doc["traceEvents"]):
    where = f"event {i}"
    for k, t in (("ph", str), ("name", str), ("pid", int), ("tid", int)):
        if not isinstance(ev.get(k), t):
            problem(f"{where}: {k} missing or not {t.__name__}: {ev}")
    ph = ev.get("ph")
    if ph == "X":
        if not num(ev.get("ts")) or not num(ev.get("dur")) or ev["dur"] < 0 or ev["ts"] < 0:
            problem(f"{where}: X needs ts and dur >= 0: {ev}")
            continue
        slices[(ev["pid"], ev["tid"])].append((ev["ts"], ev["ts"] + ev["dur"], ev))
    elif ph == "M":
        if ev["name"] in ("process_name", "thread_name"):
            if not isinstance(ev.get("args", {}).get("name"), str):
                problem(f"{where}: {ev['name']} without args.name")
            names.add((ev["name"], ev["pid"], ev["tid"] if ev["name"] == "thread_name" else None))
        elif ev["name"] in ("process_sort_index", "thread_sort_index"):
            if not isinstance(ev.get("args", {}).get("sort_index"), int):
                problem(f"{where}: {ev['name']} without args.sort_index")
        else:
            problem(f"{where}: unknown metadata {ev['name']}")
    elif ph in ("s", "f"):
        if not num(ev.get("ts")) or "id" not in ev:
            problem(f"{where}: flow event needs id and ts: {ev}")
            continue
        if ph in flows[ev["id"]]:
            problem(f"{where}: a second '{ph}' for flow id {ev['id']}")
        flows[ev["id"]][ph] = ev
        if ph == "f" and ev.get("bp") != "e":
            problem(f"{where}: finish without bp 'e'")
    else:
        problem(f"{where}: unexpected ph {ph!r}")

for track in slices:
    slices[track].sort(key=lambda s: s[0])
    if ("thread_name", track[0], track[1]) not in names:
        problem(f"track {track} has no thread_name")
    if ("process_name", track[0], None) not in names:
        problem(f"track {track} has no process_name")
    last = None
    for s in slices[track]:
        if last and s[0] < last[1] - 1e-6:
            problem(f"track {track}: slices overlap: {last[2]} and {s[2]}")
        last = s


starts = {k: [s[0] for s in v] for k, v in slices.items()}


def inside(ev):
    track = (ev["pid"], ev["tid"])
    j = bisect.bisect_right(starts.get(track, []), ev["ts"]) - 1
    return j >= 0 and slices[track][j][0] <= ev["ts"] <= slices[track][j][1]


for fid, pair in flows.items():
    if set(pair) != {"s", "f"}:
        problem(f"flow {fid}: only {sorted(pair)}")
        continue
    if pair["f"]["ts"] < pair["s"]["ts"]:
        problem(f"flow {fid}: finishes before it starts")
    for ph in "sf":
        if not inside(pair[ph]):
            problem(f"flow {fid}: '{ph}' at {pair[ph]['ts']} is in no slice of its track")

cpu_slices = [(tid, s) for (pid, tid), ss in slices.items() if pid == CPUS_PID for s in ss]
checked = 0
if len(sys.argv) > 2:
    import h5py
    ev = h5py.File(sys.argv[2], "r")["events"][:]
    sw = ev[ev["type"] == 0]
    per_cpu = collections.defaultdict(list)
    for e in sw:
        per_cpu[int(e["cpu"])].append((int(e["ts"]), int(e["pid"]), int(e["next_pid"])))
    for c in per_cpu:
        per_cpu[c].sort()
    for cpu, (start, end, x) in cpu_slices:
        t0, t1 = round(start * 1000), round(end * 1000)
        tid = x["args"]["tid"]
        lst = per_cpu.get(cpu, [])
        i = bisect.bisect_left(lst, (t0, -(1 << 40), -(1 << 40)))
        # the switch that put tid on the CPU, then the next switch there took it off
        while i < len(lst) and lst[i][0] == t0 and lst[i][2] != tid:
            i += 1
        if i >= len(lst) or lst[i][0] != t0 or lst[i][2] != tid:
            problem(f"cpu {cpu}: slice of {tid} at {t0} ns: no switch to it there")
            continue
        if i + 1 >= len(lst) or lst[i + 1][0] != t1 or lst[i + 1][1] != tid:
            problem(f"cpu {cpu}: slice of {tid} {t0}..{t1} ns: the next switch is "
                    f"{lst[i + 1] if i + 1 < len(lst) else None}")
            continue
        checked += 1
print(f"{len(doc['traceEvents'])} events, {len(cpu_slices)} CPU slices "
      f"({checked} matched to their switches), {len(flows)} flows, {len(bad)} problems")
sys.exit(1 if bad else 0)
