#!/usr/bin/env bash
# trace.h5 for other tools: type is an HDF5 enum (h5py and pandas see the
# event names), timestamps carry units attributes, and the five-line pandas
# example of schedcast-files(5) runs as printed.
. "$(dirname "$0")/lib.sh"

PY=$(h5py_python)
if [ -z "$PY" ]; then
	test_skip 'type is an enum, times have units' 'python3-h5py is not installed'
	test_skip 'the pandas example of schedcast-files(5) runs' 'python3-h5py is not installed'
	test_done
	exit 0
fi

test_expect_success 'setup: a trace from the hand-computed events' '
	mktrace trace.h5 <"$TEST_DATA/script/threads.events"
'

test_expect_success 'type is an enum, times have units' '
	"$PY" - <<-EOP
	import h5py
	f = h5py.File("trace.h5", "r")
	d = f["events"]
	names = h5py.check_enum_dtype(d.dtype["type"])
	assert names == {"sched_switch": 0, "sched_wakeup": 1, "sched_wakeup_new": 2,
	                 "sched_waking": 3, "sched_migrate_task": 4, "sched_process_fork": 5,
	                 "sched_process_exit": 6, "lost": 7}, names
	assert d.attrs["ts.units"] in (b"ns", "ns"), dict(d.attrs)
	assert f["tasks"].attrs["first_ts.units"] in (b"ns", "ns")
	EOP
'

if "$PY" -c 'import pandas' 2>/dev/null; then
	test_expect_success 'the pandas example of schedcast-files(5) runs' '
		sed -n "/pandas-example-begin/,/pandas-example-end/p" "$TEST_TOP/man/schedcast-files.5" |
			sed "1d;\$d" | sed "s/\\\\-/-/g" >example.py &&
		test $(wc -l <example.py) = 5 &&
		"$PY" example.py >out &&
		cat out &&
		grep -q "^a-t1 *2$" out && grep -q "^a-t2 *2$" out
	'
else
	test_skip 'the pandas example of schedcast-files(5) runs' 'python3-pandas is not installed'
fi

test_done
