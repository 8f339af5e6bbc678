#!/usr/bin/env bash
# schedcast import reads perf.data itself: no perf on PATH, the same events
# field by field as the `perf script` path (--perf) on every perf.data
# fixture, the pipe format (perf record -o -, also on standard input), and
# truncated or crafted files refused with one line.
. "$(dirname "$0")/lib.sh"
D=$TEST_DATA/import

FIXTURES="$D/sched.perf.data $D/sched-sched.perf.data $D/lost.perf.data $D/sched.pipe.perf.data
	$TEST_DATA/report/perf-sched.data"

# fails IN: import of IN must fail with one line naming it and write nothing
fails() {
	test_must_fail schedcast import -o out.h5 "$1" 2>err &&
	test_one_line_error err "$1" &&
	test ! -e out.h5 &&
	! ls .out.h5* 2>/dev/null | grep -q .
}

# info_of H5: the metadata of a trace, without what names the files
info_of() {
	schedcast info --json "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in ("file", "command_line"):
    d.pop(k, None)
print(json.dumps(d, sort_keys=True, indent=1))'
}

test_expect_success 'import works with no perf on PATH' '
	mkdir nobin && ln -s "$(command -v schedcast)" nobin/schedcast &&
	! PATH=$PWD/nobin command -v perf &&
	PATH=$PWD/nobin schedcast import -o p.h5 $D/sched.perf.data 2>err &&
	grep -q "imported 998 events (perf.data, 2 CPUs, 0 lost)" err &&
	schedcast info --json p.h5 | python3 -c "
import json, sys; d = json.load(sys.stdin)
assert d[\"kernel_release\"] == \"6.18.44-fc-v669\", d
assert d[\"hostname\"] == \"vm\", d
assert d[\"nr_cpus\"] == 2, d
assert len(d[\"events_recorded\"]) == 7, d
assert \"recorded by: \" in d[\"command_line\"] and \"perf record\" in d[\"command_line\"], d
"
'

if command -v perf >/dev/null 2>&1; then
	test_expect_success 'the same events and metadata as the perf script path, every fixture' '
		for f in $FIXTURES; do
			schedcast import -o n.h5 --dump "$f" >n.txt 2>n.err &&
			schedcast import --perf perf -o s.h5 --dump "$f" >s.txt 2>s.err &&
			test -s n.txt && test_cmp s.txt n.txt &&
			sed "s/ into .*//" n.err >n.msg && sed "s/ into .*//" s.err >s.msg &&
			test_cmp s.msg n.msg &&
			info_of n.h5 >n.info && info_of s.h5 >s.info && test_cmp s.info n.info ||
			{ echo "differs: $f"; return 1; }
		done
	'
else
	test_skip 'the same events as the perf script path' 'perf is not installed (Debian linux-perf)'
fi

test_expect_success 'the cross-check can fail: a changed event is seen' '
	schedcast import -q -o n.h5 --dump $D/sched.perf.data >n.txt &&
	sed "100s/prio=120/prio=121/" n.txt >m.txt &&
	! cmp -s n.txt m.txt
'

test_expect_success 'pipe format from a file and from standard input' '
	schedcast import -o a.h5 --dump $D/sched.pipe.perf.data >a.txt 2>err &&
	grep -q "imported 750 events (perf.data, 2 CPUs, 0 lost)" err &&
	schedcast import -q -o b.h5 --dump - <$D/sched.pipe.perf.data >b.txt &&
	test_cmp a.txt b.txt &&
	test $(awk "\$3 == \"sched_switch\"" a.txt | wc -l) = 293
'

test_expect_success 'lost records: markers with counts per CPU, LOST_SAMPLES not twice' '
	schedcast import -o l.h5 --dump $D/lost.perf.data >l.txt 2>err &&
	grep -q "imported 7419 events (perf.data, 2 CPUs, 11864 lost)" err &&
	test $(awk "\$3 == \"lost\"" l.txt | wc -l) = 24 &&
	schedcast info --json l.h5 | python3 -c "
import json, sys; d = json.load(sys.stdin)
assert d[\"lost_per_cpu\"] == [22, 11842], d
"
'

test_expect_success 'events come out in time order across rounds' '
	schedcast import -q -o o.h5 --dump $TEST_DATA/report/perf-sched.data >o.txt &&
	sort -s -n -k1,1 o.txt | cmp - o.txt
'

test_expect_success 'truncated file format at many lengths' '
	size=$(wc -c <$D/sched.perf.data) &&
	for n in 8 16 103 104 200 3000 150000 200000 $((size - 100)) $((size - 1)); do
		head -c $n $D/sched.perf.data >cut.perf && fails cut.perf || return 1
	done
'

test_expect_success 'truncated pipe format: inside the formats and mid-record' '
	for n in 20 4000 30000 $(( ($(wc -c <$D/sched.pipe.perf.data) / 8 - 3) * 8 + 4 )); do
		head -c $n $D/sched.pipe.perf.data >cut.perf && fails cut.perf || return 1
	done
'

# craft SRC OUT OFFSET FORMAT VALUE: OUT is SRC with struct.pack(FORMAT, VALUE) at OFFSET
# (OFFSET may be an expression of h, the header's eight u64: magic, size, attr_size,
# attrs offset/size, data offset/size, ...)
craft() {
	python3 - "$@" <<-EOP
	import struct, sys
	src, out, off, fmt, val = sys.argv[1:6]
	b = bytearray(open(src, "rb").read())
	h = struct.unpack_from("<8Q", b, 0)
	off = eval(off); val = eval(val)
	struct.pack_into(fmt, b, off, val)
	open(out, "wb").write(b)
	EOP
}

test_expect_success 'crafted headers: sizes and offsets outside the file' '
	P=$D/sched.perf.data &&
	craft $P c1.perf 48 "<Q" "1 << 62" && fails c1.perf && grep -q "data section" err &&
	craft $P c2.perf 24 "<Q" "1 << 40" && fails c2.perf &&
	craft $P c3.perf 16 "<Q" 0 && fails c3.perf && grep -q "attribute size" err &&
	craft $P c4.perf 32 "<Q" "h[2] * 1000000" && fails c4.perf &&
	craft $P c5.perf "h[5] + h[6]" "<Q" "1 << 50" && fails c5.perf &&
	craft $P c6.perf "h[5] + h[6] + 8" "<Q" "1 << 50" && fails c6.perf &&
	craft $P c7.perf 8 "<Q" 200 && fails c7.perf && grep -q "header size" err
'

test_expect_success 'crafted records: zero size, a sample cut before its raw data, compressed' '
	P=$D/sched.perf.data &&
	craft $P r1.perf "h[5] + 6" "<H" 0 && fails r1.perf && grep -q "shorter than itself" err &&
	python3 - $P <<-EOP &&
	import struct, sys
	b = bytearray(open(sys.argv[1], "rb").read())
	h = struct.unpack_from("<8Q", b, 0)
	at = h[5]
	while struct.unpack_from("<I", b, at)[0] != 9:   # the first sample
	    at += struct.unpack_from("<H", b, at + 6)[0]
	# a sample whose record ends before its raw data (the rest is skipped as a record)
	c = bytearray(b); struct.pack_into("<H", c, at + 6, 16)
	open("r2.perf", "wb").write(c)
	c = bytearray(b); struct.pack_into("<I", c, at, 81)
	open("r3.perf", "wb").write(c)
	EOP
	fails r2.perf && grep -q "cut short" err &&
	fails r3.perf && grep -q "compressed" err
'

test_expect_success 'crafted formats and magics: one line each' '
	P=$D/sched.perf.data &&
	python3 - $P <<-EOP &&
	import sys
	b = bytearray(open(sys.argv[1], "rb").read())
	i = b.find(b"\x17\x08Dtracing")
	c = bytearray(b); c[i + 3] = ord("X"); open("f1.perf", "wb").write(c)
	j = b.find(b"header_page", i)
	c = bytearray(b); c[j + 12:j + 20] = (1 << 40).to_bytes(8, "little"); open("f2.perf", "wb").write(c)
	open("f3.perf", "wb").write(b"PERFFILE" + b[8:])
	open("f4.perf", "wb").write(b"2ELIFREP" + b[8:])
	EOP
	fails f1.perf && grep -q "bad magic" err &&
	fails f2.perf && grep -q "tracing data" err &&
	fails f3.perf && grep -q "version 1" err &&
	fails f4.perf && grep -q "byte order" err
'

test_done
