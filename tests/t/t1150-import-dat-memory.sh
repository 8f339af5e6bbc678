#!/usr/bin/env bash
# schedcast import of a compressed trace.dat (version 7, what trace-cmd 3.1
# writes) holds one inflated chunk per CPU, not the whole trace: libtracecmd
# 1.3 keeps every chunk it inflates until the file is closed, so the
# importer reads the CPU data itself (collect/import-dat7.c).  Two recordings
# of the same ping-pong, one ten times longer: the peak RSS of their imports
# within 1.2x; the long one draws a progress line when asked (root + tracefs
# + trace-cmd).
. "$(dirname "$0")/lib.sh"

if ! why=$(has_tracefs); then
	test_skip 'import memory of a compressed trace.dat' "$why"
	test_done
	exit
fi
if ! command -v trace-cmd >/dev/null; then
	test_skip 'import memory of a compressed trace.dat' 'trace-cmd is not installed'
	test_done
	exit
fi
if [ -n "${ASAN_OPTIONS:-}" ]; then
	test_skip 'import memory of a compressed trace.dat' \
		"AddressSanitizer's quarantine holds freed memory: the peak is its, not ours"
	test_done
	exit
fi

test_lock bpf	# trace-cmd extract reads /proc/kallsyms: not while t5300 loads BPF
inst=sc-t1150-$$
idir=/sys/kernel/tracing/instances/$inst
trap 'rmdir "$idir" 2>/dev/null; cd /; rm -rf "$TRASH"' EXIT

# maxrss_kb CMD...: the peak RSS of CMD in KiB (getrusage of the one child)
maxrss_kb() {
	python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}

# record OUT K: the sched events of K ping-pong round trips, extracted
record() {
	mkdir "$idir" &&
	echo 0 >"$idir/tracing_on" &&
	echo mono >"$idir/trace_clock" &&
	echo 65536 >"$idir/buffer_size_kb" &&
	echo "sched:sched_switch sched:sched_waking sched:sched_wakeup sched:sched_wakeup_new sched:sched_migrate_task sched:sched_process_fork sched:sched_process_exit" >"$idir/set_event" &&
	echo 1 >"$idir/tracing_on" &&
	recload pingpong $2 >/dev/null &&
	echo 0 >"$idir/tracing_on" || return 1
	for try in 1 2 3; do
		trace-cmd extract -B $inst -o "$1" >extract.out 2>&1 && break
		grep -q "error in size of file" extract.out || break
		sleep 1
	done
	rmdir "$idir" 2>/dev/null || :	# trace-cmd extract removes it
	test -s "$1" || { tail -3 extract.out; return 1; }
}

test_expect_success 'setup: 8000 and 80000 round trips, recorded' '
	record short.dat 8000 &&
	record long.dat 80000
'

# a compressed version 7 file: "7" after the magic, then not "none"
hdr=$(head -c 32 "$TRASH/short.dat" | tr "\0" " ")
if ! printf '%s' "$hdr" | grep -q "tracing7 " || printf '%s' "$hdr" | grep -q "tracing7 .*none"; then
	test_skip 'peak RSS of the 10x longer import within 1.2x' \
		'this trace-cmd does not write compressed version 7 files'
	test_done
	exit
fi

test_expect_success 'peak RSS of the 10x longer import within 1.2x' '
	schedcast import -o s.h5 short.dat 2>s.err && grep " 0 lost" s.err &&
	schedcast import -o l.h5 long.dat 2>l.err && grep " 0 lost" l.err &&
	a=$(tracedump s.h5 | wc -l) && b=$(tracedump l.h5 | wc -l) &&
	echo "events: short $a, long $b" && test $b -ge $((a * 8)) &&
	a=$(maxrss_kb schedcast import -o s2.h5 short.dat) &&
	b=$(maxrss_kb schedcast import -o l2.h5 long.dat) &&
	echo "peak RSS: short $a KiB, long $b KiB" &&
	test $((b * 10)) -le $((a * 12))
'

test_expect_success 'a progress line when forced, none off a terminal' '
	SCHEDCAST_PROGRESS=1 schedcast import -o p1.h5 long.dat 2>err1 &&
	grep -q "import: [0-9]*, done in" err1 &&
	schedcast import -q -o p0.h5 long.dat 2>err0 &&
	! test -s err0
'

test_done
