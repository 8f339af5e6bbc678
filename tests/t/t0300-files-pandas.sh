#!/usr/bin/env bash
# trace.h5 for other tools: type is an HDF5 enum (h5py and pandas see the
# event names), timestamps carry units attributes, and the five-line pandas
# example of schedcast-files(5) runs as printed.
. "$(dirname "$0")/lib.sh"

PY=$(h5py_python)
if [ -z "$PY" ]; then
	test_skip 'type is an enum, times have units' 'python3-h5py is not installed'
	test_skip 'the pandas example of schedcast-files(5) runs' 'python3-h5py is not installed'
	test_skip 'events deflated by schedcast read in h5py, and back' 'python3-h5py is not installed'
	test_skip 'a damaged events chunk: one line naming its first row' 'python3-h5py is not installed'
	test_skip 'windows tables filtered by schedcast read in h5py, and back' 'python3-h5py is not installed'
	test_skip 'a version 3 windows file rewritten by HDF5 replays the same' 'python3-h5py is not installed'
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

# schedcast deflates and inflates the events chunks itself (libdeflate, direct
# chunk I/O): what it writes must be what HDF5's pipeline reads, and the other
# way, partial last chunk included
test_expect_success 'events deflated by schedcast read in h5py, and back' '
	awk "BEGIN { print \"@cpus 2\"; for (i = 0; i < 10000; i++)
		printf \"%d %d switch pid=%d next_pid=%d prio=120 next_prio=120 state=%d comm=a%d next_comm=b%d\\n\",
			1000 + i * 7, i % 2, i % 97, i % 89, i % 3, i % 13, i % 11 }" >big.events &&
	mktrace big.h5 <big.events &&
	"$PY" - <<-EOP &&
	import h5py
	src = h5py.File("big.h5", "r")
	ev = src["events"]
	assert ev.compression == "gzip" and ev.shuffle is False, (ev.compression, ev.shuffle)
	rows = ev[:]
	assert len(rows) == 10000, len(rows)
	assert list(rows["ts"]) == [1000 + i * 7 for i in range(10000)]
	assert list(rows["next_pid"][:200]) == [i % 89 for i in range(200)]
	# the same file with the events deflated by HDF5 itself
	dst = h5py.File("pipe.h5", "w", libver="latest")
	for k, v in src.attrs.items():
	    dst.attrs[k] = v
	for name in src:
	    if name != "events":
	        src.copy(name, dst)
	d = dst.create_dataset("events", data=rows, maxshape=(None,), chunks=ev.chunks,
	                       compression="gzip", compression_opts=6)
	for k, v in ev.attrs.items():
	    d.attrs[k] = v
	dst.close()
	EOP
	tracedump big.h5 >want &&
	test $(wc -l <want) = 10000 &&
	tracedump pipe.h5 >got &&
	test_cmp want got
'

test_expect_success 'a damaged events chunk: one line naming its first row' '
	cp big.h5 bad.h5 &&
	"$PY" - <<-EOP &&
	import h5py
	f = h5py.File("bad.h5", "r")
	ci = f["events"].id.get_chunk_info(1)
	f.close()
	with open("bad.h5", "r+b") as fp:
	    fp.seek(ci.byte_offset + ci.size // 2)
	    fp.write(b"\\xff" * 64)
	EOP
	test_must_fail schedcast report bad.h5 >out 2>err &&
	test_one_line_error err "is damaged near row 4096" &&
	grep -q "table .events." err &&
	grep -q bad.h5 err
'

# every table of a windows file is shuffled and deflated by schedcast itself
# (packed rows, column chunks): h5py must read what it wrote, and schedcast
# what HDF5's pipeline writes (two chunks of candidates and of state, the
# last ones partial)
test_expect_success 'windows tables filtered by schedcast read in h5py, and back' '
	schedcast features -q --windows-version 2 --time ,560.2 -o w.h5 \
		"$TEST_TOP/data/samples/hackbench.h5" &&
	"$PY" - <<-EOP &&
	import h5py
	src = h5py.File("w.h5", "r")
	assert src["cand"].shape[0] > src["cand"].chunks[0] > 0, src["cand"].chunks
	assert src["state"].shape[0] > src["state"].chunks[0] > 0, src["state"].chunks
	dst = h5py.File("pipe.h5", "w", libver="latest")
	for k, v in src.attrs.items():
	    dst.attrs[k] = v
	for name in src:
	    d = src[name]
	    if d.compression != "gzip":
	        src.copy(name, dst)
	        continue
	    assert d.shuffle, name
	    n = dst.create_dataset(name, data=d[()], maxshape=(None,) + d.shape[1:],
	                           chunks=d.chunks, shuffle=True, compression="gzip",
	                           compression_opts=6)
	    for k, v in d.attrs.items():
	        n.attrs[k] = v
	dst.close()
	EOP
	windump w.h5 | sha256sum >want &&
	windump pipe.h5 | sha256sum >got &&
	test_cmp want got &&
	windump -b 100 pipe.h5 | sha256sum >got &&
	test_cmp want got
'

# version 3: the events deflated by schedcast, rewritten by HDF5's pipeline,
# replay to the same candidates
test_expect_success 'a version 3 windows file rewritten by HDF5 replays the same' '
	schedcast features -q --time ,560.2 -o w3.h5 "$TEST_TOP/data/samples/hackbench.h5" &&
	"$PY" - <<-EOP &&
	import h5py
	src = h5py.File("w3.h5", "r")
	assert src.attrs["version"] == 3 and "cand" not in src, list(src)
	assert src["events"].shape[0] > src["events"].chunks[0] > 0, src["events"].chunks
	dst = h5py.File("pipe3.h5", "w", libver="latest")
	for k, v in src.attrs.items():
	    dst.attrs[k] = v
	for name in src:
	    d = src[name]
	    if d.compression != "gzip":
	        src.copy(name, dst)
	        continue
	    n = dst.create_dataset(name, data=d[()], maxshape=(None,) + d.shape[1:],
	                           chunks=d.chunks, shuffle=d.shuffle, compression="gzip",
	                           compression_opts=6)
	    for k, v in d.attrs.items():
	        n.attrs[k] = v
	dst.close()
	EOP
	windump w.h5 | sed -e "/^version /d" -e "/^n_dec /d" -e "s/ ep_off [0-9]*//" |
		sha256sum >want &&
	windump pipe3.h5 | sed -e "/^version /d" -e "/^n_dec /d" -e "s/ ep_off [0-9]*//" |
		sha256sum >got &&
	test_cmp want got
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
