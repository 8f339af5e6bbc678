#!/bin/bash
# Regenerate the bad-input corpus in this directory (see README).  Needs a
# built tree (make tests): schedcast, build/tests/{mktrace,mkwindows,mkbad},
# and /usr/bin/python3 with h5py for the one file from a foreign writer.
#
#   tests/data/bad/make-bad.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
B=$top/build/tests
SC=$top/schedcast
work=$(mktemp -d /tmp/schedcast-make-bad.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# ---- valid bases (not kept) --------------------------------------------------
cat >ev.txt <<'EOT'
@cpus 2
@lost 1 3
1000 0 waking pid=10 prio=120 target_cpu=0 comm=a
1100 0 wakeup pid=10 prio=120 target_cpu=0 comm=a
2000 0 switch pid=0 prio=120 state=0 next_pid=10 next_prio=120 comm=swapper/0 next_comm=a
3000 1 switch pid=0 prio=120 state=0 next_pid=11 next_prio=120 comm=swapper/1 next_comm=b
4000 0 switch pid=10 prio=120 state=1 next_pid=0 next_prio=120 comm=a next_comm=swapper/0
EOT
"$B/mktrace" trace.h5 <ev.txt
"$B/mkwindows" -n 40 windows.h5
"$SC" train -q -o model.h5 --epochs 1 --hidden 4 windows.h5
"$B/mkwindows" -s -n 40 seq.h5
"$SC" train -q -o fmodel.h5 --arith float --epochs 1 --hidden 4 windows.h5
cp "$top/tests/data/import/sched.dat" sched.dat

out=$here
mk() { "$B/mkbad" "$@"; }

# ---- any kind ------------------------------------------------------------------
: >"$out/empty.h5"
python3 -c "import random; random.seed(9); open('$out/random.bin','wb').write(bytes(random.getrandbits(8) for _ in range(4096)))"
printf 'hello, not a schedcast file\n' >"$out/hello.txt"
head -c 3000 trace.h5 >"$out/trace-truncated.h5"
# the HDF5 signature with one byte changed
{ printf '\x89HDG'; tail -c +5 trace.h5; } >"$out/trace-wrong-magic.h5"
# HDF5 from another writer (superblock 0: no metadata checksums) that claims to be a trace
/usr/bin/python3 - "$out/trace-no-checksums.h5" <<'EOT'
import sys, h5py
with h5py.File(sys.argv[1], "w", libver="earliest") as f:
    f.attrs["format"] = "schedcast-trace"
    f.attrs["version"] = 1
    f.create_dataset("events", data=[1, 2, 3])
EOT

# ---- trace.h5 (info, features, report) -----------------------------------------
mk trace.h5 "$out/trace-version-999.h5" set-int / version 999
mk trace.h5 "$out/trace-version-0.h5" set-int / version 0
mk trace.h5 "$out/trace-format-other.h5" set-str / format schedcast-frobs
mk trace.h5 "$out/trace-no-format.h5" del-attr / format
mk trace.h5 "$out/trace-nr-cpus-negative.h5" set-int / nr_cpus -4
mk trace.h5 "$out/trace-nr-events-negative.h5" set-int / nr_events -1
mk trace.h5 "$out/trace-count-negative.h5" set-int / count_sched_switch -5
mk trace.h5 "$out/trace-nr-events-huge.h5" set-int / nr_events 4611686018427387904
mk trace.h5 "$out/trace-events-huge.h5" extent events 1099511627776 \
	set-int / nr_events 1099511627776
mk trace.h5 "$out/trace-tasks-huge.h5" extent tasks 1048576
mk trace.h5 "$out/trace-lost-huge.h5" extent lost_per_cpu 1099511627776
mk trace.h5 "$out/trace-events-retyped.h5" retype events
mk trace.h5 "$out/trace-events-missing.h5" unlink events
mk trace.h5 "$out/trace-rows-bad-cpu.h5" poke events 2 cpu 5000
mk trace.h5 "$out/trace-rows-bad-type.h5" poke events 1 type 200
mk trace.h5 "$out/trace-rows-unordered.h5" poke events 3 ts 5

# ---- windows.h5 (train, eval, report --windows, info) ----------------------------
mk windows.h5 "$out/windows-version-999.h5" set-int / version 999
mk windows.h5 "$out/windows-K-negative.h5" set-int / K -1
mk windows.h5 "$out/windows-n-dec-negative.h5" set-int / n_dec -3
mk windows.h5 "$out/windows-table-cand-huge.h5" extent cand 1073741824 set-int / n_cand 1073741824
mk windows.h5 "$out/windows-table-window-huge.h5" extent window 1073741824
mk windows.h5 "$out/windows-table-decisions-retyped.h5" retype decisions
mk windows.h5 "$out/windows-rows-bad-label.h5" poke decisions 0 label 1000000
mk windows.h5 "$out/windows-table-no-window.h5" unlink window

# ---- model.h5 (eval -m, report --model, info) ------------------------------------
mk model.h5 "$out/model-version-999.h5" set-int / version 999
mk model.h5 "$out/model-H-negative.h5" set-int / H -8
mk model.h5 "$out/model-arith-other.h5" set-str / arith quantum
first=$(/usr/bin/python3 -c "import h5py; print(h5py.File('model.h5')['weights/names'][0].decode())")
mk model.h5 "$out/model-weights-huge.h5" extent "weights/$first" 67108864
mk model.h5 "$out/model-weights-retyped.h5" retype "weights/$first"
mk model.h5 "$out/model-no-curve.h5" unlink curve/train_loss

# ---- import inputs (trace.dat, perf.data, text) -------------------------------
head -c 2000 sched.dat >"$out/import-truncated.dat"
head -c 60000 sched.dat >"$out/import-truncated-mid.dat"
{ printf '\x17\x08Dtracinx'; tail -c +9 sched.dat; } | head -c 20000 >"$out/import-wrong-magic.dat"
{ printf 'PERFILE2'; head -c 200 /dev/zero; } >"$out/import-truncated.perf.data"
cat >"$out/import-corrupt.txt" <<'EOT'
# tracer: nop
#
          <idle>-0       [000] d..2.  3389.244446: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=a next_pid=10 next_prio=120
               a-10      [000] d..2.  3389.244449: sched_switch: prev_comm=a prev_pid=zz prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120
EOT
printf '          <idle>-0       [000] d..2.  3389.244446: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=a next_pid=10 next_pr' >"$out/import-cut-line.txt"
cat >"$out/import-huge-cpu.txt" <<'EOT'
          <idle>-0       [99999999] d..2.  3389.244446: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=a next_pid=10 next_prio=120
EOT
cat >"$out/import-negative-lost.txt" <<'EOT'
CPU:0 [LOST -5 EVENTS]
          <idle>-0       [000] d..2.  3389.244446: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=a next_pid=10 next_prio=120
EOT

cat >"$out/import-overflow-lost.txt" <<'EOT'
CPU:0 [LOST 99999999999999999999999 EVENTS]
          <idle>-0       [000] d..2.  3389.244446: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=a next_pid=10 next_prio=120
EOT
# ---- bad values in valid containers (their messages: expected-errors) ---------
/usr/bin/python3 - "$out" <<'EOT'
# Bad values in valid containers (issue 19 item 5-6): each file is a valid
# base with one value changed; the readers must refuse it with the message
# listed in tests/data/bad/expected-errors.
import shutil, sys
import numpy as np, h5py
out = sys.argv[1]

def copy(src, name):
    dst = f"{out}/{name}"
    shutil.copy(src, dst)
    return h5py.File(dst, "r+")

def replace(f, path, data):
    attrs = dict(f[path].attrs)
    del f[path]
    f.create_dataset(path, data=data)
    for k, v in attrs.items():
        f[path].attrs[k] = v

with copy("model.h5", "model-norm-mu-int32-min.h5") as f:
    f["input/norm_mu"][0] = -2**31
with copy("model.h5", "model-norm-inv-huge.h5") as f:
    f["input/norm_inv"][1] = 2**31 - 1
with copy("model.h5", "model-weights-int32-2p30.h5") as f:
    w = f["weights/lstm/w_x"][()].astype(np.int32)
    w[0, 0] = 2**30
    replace(f, "weights/lstm/w_x", w)
with copy("fmodel.h5", "model-float-weights-nan.h5") as f:
    f["weights/lstm/w_h"][1, 1] = float("nan")
with copy("trace.h5", "trace-start-after-end.h5") as f:
    f.attrs["start_ns"] = np.int64(5000)
    f.attrs["end_ns"] = np.int64(1000)
with copy("trace.h5", "trace-lost-nan.h5") as f:
    replace(f, "lost_per_cpu", np.array([float("nan"), 3.0]))
with copy("windows.h5", "windows-rows-cpu-2p30.h5") as f:
    d = f["decisions"][()]
    d["cpu"][3] = 2**30
    f["decisions"][...] = d
with copy("seq.h5", "windows-rows-seq-label-outside-vocab.h5") as f:
    f["seq_label"][2] = f.attrs["n_vocab"] + 5
with copy("seq.h5", "windows-seq-n-vocab-2p40.h5") as f:
    f.attrs["n_vocab"] = np.int64(2**40)
EOT
ls -l "$out"
