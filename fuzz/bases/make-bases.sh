#!/bin/sh
# Regenerate the valid files the structure-aware fuzz targets (tracemut,
# windows, model) start from.  Needs `make tests`.  Small on purpose: every
# fuzz run copies one.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
B=$top/build/tests
cd "$here"
cat <<'EOT' | "$B/mktrace" trace.h5
@cpus 2
@lost 1 3
@tgid 10 10
1000 0 waking pid=10 prio=120 target_cpu=0 comm=a
1100 0 wakeup pid=10 prio=120 target_cpu=0 comm=a
1500 1 wakeup_new pid=12 prio=120 target_cpu=1 comm=b
2000 0 switch pid=0 prio=120 state=0 next_pid=10 next_prio=120 comm=swapper/0 next_comm=a
3000 1 switch pid=0 prio=120 state=256 next_pid=11 next_prio=120 comm=swapper/1 next_comm=b
3500 1 fork pid=11 next_pid=12 comm=b next_comm=b
3600 0 migrate_task pid=12 prio=120 orig_cpu=1 dest_cpu=0 comm=b
3700 0 exit pid=12 prio=120 state=1 comm=b
3800 1 lost state=5
4000 0 switch pid=10 prio=120 state=1 next_pid=0 next_prio=120 comm=a next_comm=swapper/0
EOT
"$B/mkwindows" -n 24 windows.h5
"$B/mkwindows" -s -n 24 windows-seq.h5
"$top/schedcast" features -q -o windows-v3.h5 trace.h5
"$top/schedcast" train -q -o model.h5 --epochs 1 --hidden 4 windows.h5
"$top/schedcast" train -q -o model-float.h5 --epochs 1 --hidden 4 --arith float windows.h5
"$top/schedcast" train -q -o model-seq.h5 --epochs 1 --hidden 4 windows-seq.h5
ls -l "$here"
