#!/usr/bin/env bash
# No escape sequence from a file reaches the terminal: comms recorded from
# this kernel (escapes, control bytes, newlines) and the strings of a
# crafted trace.h5, windows.h5 and model.h5 (hostname, kernel, clock,
# source, command line, trace names, feature names) come out of info,
# report (text and CSV), script, eval (text and JSON) and every error message with each
# control byte written as \xNN.  The check: no byte of C0 (but newline and
# tab), DEL or C1 in the output.
. "$(dirname "$0")/lib.sh"
D=$TEST_DATA/import

# clean FILE: FILE holds no control character but newline and tab
clean() {
	if LC_ALL=C tr -d '\n\t' <"$1" | LC_ALL=C grep -q '[[:cntrl:]]' ||
	   LC_ALL=C grep -q "$(printf '\302[\200-\237]')" "$1"; then
		echo "raw control bytes in $1:" >&2
		cat -A "$1" | LC_ALL=C grep -n '\^\[\|\^G\|\^M\|M-BM-' | head -5 >&2
		return 1
	fi
}

test_expect_success 'setup: the hostile-comms trace, its windows and a model' '
	schedcast import -q -o c.h5 $D/comms.ftrace.txt &&
	schedcast features -o w.h5 c.h5 2>/dev/null &&
	schedcast train -o m.h5 --epochs 1 --linear-epochs 1 w.h5 2>/dev/null
'

test_expect_success 'comms: report text and CSV, script, import --dump' '
	schedcast report -a --by comm --wakers c.h5 >r.txt && clean r.txt &&
	schedcast report -f csv c.h5 >r.csv && clean r.csv &&
	schedcast script c.h5 >s.txt && clean s.txt &&
	schedcast import -q -o d.h5 --dump $D/comms.ftrace.txt >dump && clean dump &&
	grep -q "x1b" r.txt && grep -q "x1b" r.csv
'

test_skip_rest_unless_h5py 'a crafted file: info, report, eval and errors'

test_expect_success 'setup: the same files with escape sequences in every string' '
	cp c.h5 evil.h5 && cp w.h5 evilw.h5 && cp m.h5 evilm.h5 &&
	"$PY" - <<-EOP
	import h5py
	bad = b"x\x1b[31mRED\x1b]0;title\x07\r\nY\xc2\x9b2J\x7f"
	with h5py.File("evil.h5", "r+") as f:
	    for k in ["clock", "command_line", "hostname", "kernel_release", "source"]:
	        f.attrs[k] = bad
	with h5py.File("evilw.h5", "r+") as f:
	    f.attrs["command_line"] = bad
	    v = f["traces"][...]; v[0] = bad; f["traces"][...] = v
	with h5py.File("evilm.h5", "r+") as f:
	    for k in ["command_line", "windows"]:
	        f.attrs[k] = bad
	    v = f["trained_on/traces"][...]; v[0] = bad; f["trained_on/traces"][...] = v
	EOP
	cp evilm.h5 badname.h5 &&
	"$PY" - <<-EOP
	import h5py
	with h5py.File("badname.h5", "r+") as f:
	    v = f["input/ep_names"][...]; v[0] = b"\x1b[2J" + v[0]; f["input/ep_names"][...] = v
	EOP
'

test_expect_success 'info of a crafted trace, windows and model file' '
	for f in evil.h5 evilw.h5 evilm.h5 badname.h5; do
		schedcast info $f >i.$f 2>&1 && clean i.$f || return 1
	done &&
	grep -q "^host: *x\\\\x1b\[31mRED" i.evil.h5 &&
	grep -q "^command line: *x\\\\x1b" i.evilm.h5
'

test_expect_success 'report and eval with the crafted files' '
	schedcast report evil.h5 >r1 2>&1 && clean r1 &&
	schedcast report -f csv evil.h5 >r2 2>&1 && clean r2 &&
	schedcast eval -m evilm.h5 evilw.h5 >e1 2>&1 && clean e1 &&
	schedcast eval --json -m evilm.h5 evilw.h5 >e2 2>&1 && clean e2
'

test_expect_success 'an error quoting a crafted name is one clean line' '
	test_must_fail schedcast eval -m badname.h5 w.h5 2>err &&
	test_one_line_error err w.h5 && clean err
'

test_done
