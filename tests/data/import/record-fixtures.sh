#!/bin/bash
# Re-record the import fixtures in this directory (root, tracefs, trace-cmd,
# perf).  `trace-cmd record` fails on the machine these were made on, so the
# events are enabled in a private tracefs instance and `trace-cmd extract`
# writes the trace.dat.  See README for what each file is.
#
#   tests/data/import/record-fixtures.sh [OUTDIR]
set -eu
out=${1:-$(cd "$(dirname "$0")" && pwd)}
T=/sys/kernel/tracing
[ -e $T/events/sched ] || mount -t tracefs nodev $T
EVENTS="sched_switch sched_wakeup sched_wakeup_new sched_waking sched_migrate_task
sched_process_fork sched_process_exit"
cd "$out"

# A small workload: forks, exits, pipes (wakeups) and a little spinning so
# both CPUs switch and tasks migrate.
workload() {
	for r in 1 2 3 4 5 6; do
		for i in 1 2 3; do
			(dd if=/dev/zero bs=4k count=32 2>/dev/null | cat >/dev/null) &
		done
		(i=0; while [ $i -lt 2000 ]; do i=$((i + 1)); done) &
		sleep 0.01
		wait
	done
}

# extract INSTANCE... -o FILE: trace-cmd extract with an empty /proc/kallsyms
# (a private bind mount) so that the file is not 1 MiB of kernel symbols
# that sched events never use.
: >/tmp/sc-empty-kallsyms.$$
extract() {
	unshare -m sh -c "mount --bind /tmp/sc-empty-kallsyms.$$ /proc/kallsyms &&
		trace-cmd extract $*" >/dev/null 2>&1
}

# mkinst NAME KB: a fresh instance with the sched events on, not yet tracing
mkinst() {
	local d=$T/instances/$1
	rmdir "$d" 2>/dev/null || true
	mkdir "$d"
	# the instance's files appear a moment after mkdir returns
	for i in $(seq 50); do [ -e "$d/tracing_on" ] && break; sleep 0.1; done
	echo 0 >"$d/tracing_on"
	echo "$2" >"$d/buffer_size_kb"
	for e in $EVENTS; do echo 1 >"$d/events/sched/$e/enable"; done
}

# rminst NAME: trace-cmd extract -B removes the instance itself; others not
rminst() {
	[ -d "$T/instances/$1" ] || return 0
	echo 0 >"$T/instances/$1/tracing_on"
	rmdir "$T/instances/$1"
}

# 1. main recording: trace.dat (v6) + its report texts + the raw ftrace text
inst=sc_import_$$
mkinst $inst 1024
echo 1 >$T/instances/$inst/tracing_on
workload
echo 0 >$T/instances/$inst/tracing_on
grep -h overrun $T/instances/$inst/per_cpu/cpu*/stats | grep -qv 'overrun: 0' &&
	{ echo "overrun: make the workload smaller" >&2; rminst $inst; exit 1; }
cat $T/instances/$inst/trace >sched.ftrace.txt
echo 0 >$T/instances/$inst/options/irq-info
cat $T/instances/$inst/trace >sched.ftrace-noirq.txt
echo 1 >$T/instances/$inst/options/irq-info
extract -B $inst -o sched.dat
rminst $inst
trace-cmd report -i sched.dat >sched.report.txt 2>/dev/null
trace-cmd report -N -i sched.dat >sched.report-N.txt 2>/dev/null
# trace-cmd 3.1.6 writes version 7, zstd-compressed; the same recording as a
# version 6 file (uncompressed; gzip'ed here only to stay under 2 MiB)
trace-cmd convert --file-version 6 --compression none -i sched.dat -o sched-v6.dat >/dev/null 2>&1
gzip -9nf sched-v6.dat

# 2. two instances in one file: A has sched_switch only, B the wakeups
a=sc_import_a_$$ b=sc_import_b_$$
mkinst $a 512
mkinst $b 512
for e in $EVENTS; do
	case $e in sched_switch) echo 0 >$T/instances/$b/events/sched/$e/enable ;;
	*) echo 0 >$T/instances/$a/events/sched/$e/enable ;; esac
done
echo 1 >$T/instances/$a/tracing_on; echo 1 >$T/instances/$b/tracing_on
workload
echo 0 >$T/instances/$a/tracing_on; echo 0 >$T/instances/$b/tracing_on
extract -B $a -B $b -o multi.dat
rminst $a; rminst $b
trace-cmd report -N -i multi.dat >multi.report-N.txt 2>/dev/null

# 2b. two instances with the same events: every event is in both buffers
a=sc_import_c_$$ b=sc_import_d_$$
mkinst $a 512
mkinst $b 512
for e in $EVENTS; do
	[ $e = sched_switch ] || { echo 0 >$T/instances/$a/events/sched/$e/enable;
				   echo 0 >$T/instances/$b/events/sched/$e/enable; }
done
echo 1 >$T/instances/$a/tracing_on; echo 1 >$T/instances/$b/tracing_on
sleep 0.05
echo 0 >$T/instances/$a/tracing_on; echo 0 >$T/instances/$b/tracing_on
extract -B $a -B $b -o dup.dat
rminst $a; rminst $b

# 3. dropped events: a tiny buffer that overflows (overwrite mode), read
#    once through trace_pipe (ftrace "[LOST N EVENTS]" lines) and once, from
#    a second identical run, with trace-cmd extract ("EVENTS DROPPED").
inst=sc_import_lost_$$
mkinst $inst 8
echo 1 >$T/instances/$inst/tracing_on
workload
echo 0 >$T/instances/$inst/tracing_on
timeout 1 cat $T/instances/$inst/trace_pipe >lost.ftrace-pipe.txt || true
rminst $inst
mkinst $inst 8
echo 1 >$T/instances/$inst/tracing_on
workload
echo 0 >$T/instances/$inst/tracing_on
extract -B $inst -o lost.dat
rminst $inst
trace-cmd report -N -i lost.dat >lost.report-N.txt 2>/dev/null

# 4. perf: perf 6.1 records sched_waking (not sched_wakeup)
perf record -q -o sched.perf.data -e 'sched:sched_switch' -e 'sched:sched_waking' \
	-e 'sched:sched_wakeup' -e 'sched:sched_wakeup_new' -e 'sched:sched_migrate_task' \
	-e 'sched:sched_process_fork' -e 'sched:sched_process_exit' -a -- \
	sh -c "$(declare -f workload); workload" 2>/dev/null
perf script -i sched.perf.data >sched.perf-script.txt 2>/dev/null
perf sched record -q -o sched-sched.perf.data -- sleep 0.05 >/dev/null 2>&1
# a one-page ring per CPU that overflows: PERF_RECORD_LOST records
perf record -q -m 1 -o lost.perf.data -e sched:sched_switch -e sched:sched_waking -a -- \
	perf bench sched pipe -l 20000 >/dev/null 2>&1
perf script -i lost.perf.data --show-lost-events >lost.perf-script.txt 2>/dev/null
rm -f /tmp/sc-empty-kallsyms.$$
chmod 644 ./*.dat ./*.gz ./*.perf.data ./*.txt
ls -l
