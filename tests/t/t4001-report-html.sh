#!/usr/bin/env bash
# The HTML report renders in headless Chromium: one self-contained page,
# every SVG plot well-formed, no console errors, a non-empty screenshot.
. "$(dirname "$0")/lib.sh"

D=$TEST_DATA/report

test_skip_rest_unless_command chromium 'the HTML report renders in Chromium' \
	'chromium is not installed (Debian chromium)'

chrome() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run \
		--user-data-dir="$TRASH/profile" --enable-logging=stderr --v=0 "$@"
}

test_expect_success 'setup: a report with a prediction section' '
	rr_trace windows &&
	schedcast report -f html -o r.html rr.h5 -w w.h5 --split all
'

test_expect_success 'self-contained: no scripts, nothing fetched' '
	! grep -Eiq "<script|<link|src=|@import|url\\(" r.html
'

test_expect_success 'every SVG plot is well-formed XML with its title' '
	python3 - <<-EOP
	import re, xml.etree.ElementTree as ET
	html = open("r.html").read()
	svgs = re.findall(r"<svg.*?</svg>", html, re.S)
	assert len(svgs) == 8, len(svgs)
	titles = [ET.fromstring(s).find("{http://www.w3.org/2000/svg}title").text for s in svgs]
	assert titles[:5] == ["Per-CPU timeline", "Wakeup latency and preemption delay (bins from the value shown)",
	                      "Scheduling delay CDF per task class", "CPU utilisation over time",
	                      "Runqueue length over time (mean per interval)"], titles
	assert any("over time" in t for t in titles[5:]) and any("candidates" in t for t in titles)
	EOP
'

# tests/data/script/threads.events, by hand: cpu0 idle to 2 ms, a-t1 (11)
# 2-5, a-t2 (12) 5-9, a-t1 9-10, a-t2 10-12; cpu1 b (20) 3-7; a-t1 and a-t2
# are process 10.  The span, 1 to 12 ms, is shorter than a second: the
# timeline is the whole trace, a column 11/800 ms.
test_expect_success 'the timeline: who ran where, by hand' '
	mktrace t.h5 <"$TEST_DATA/script/threads.events" &&
	schedcast report -f html -o t.html t.h5 &&
	python3 - <<-EOP
	import re
	h = open("t.html").read()
	assert "from 0.001000 to 0.012000 s (the trace\x27s clock): the whole trace" in h, re.findall("Who ran[^<]*", h)
	tl = re.search(r"<svg class=\"tl\".*?</svg>", h, re.S).group(0)
	rects = re.findall(r"<rect x=\"(\d+)\" y=\"(\d+)\" width=\"(\d+)\"[^>]*><title>(\d+) ([^ ]+) on cpu(\d)", tl)
	rows = {}
	for x, y, w, pid, comm, cpu in rects:
	    rows.setdefault(int(cpu), []).append((int(pid), int(x), int(w)))
	def runs(r):
	    out = []
	    for pid, x, w in r:
	        if out and out[-1][0] == pid:
	            out[-1][2] += w
	        else:
	            out.append([pid, x, w])
	    return out
	col = 800 / 11.0    # columns per ms
	r0, r1 = runs(rows[0]), runs(rows[1])
	assert [p for p, _, _ in r0] == [11, 12, 11, 12] and [p for p, _, _ in r1] == [20], (r0, r1)
	# each run starts where its task began (ms after 1) and lasts as long, to a column
	for (pid, x, w), (a, b) in zip(r0 + r1, [(2, 5), (5, 9), (9, 10), (10, 12), (3, 7)]):
	    assert abs(x - 56 - (a - 1) * col) <= 1.5 and abs(w - (b - a) * col) <= 2, (pid, x, w, a, b)
	lg = re.search(r"<p class=\"lg\">(.*?)</p>", h).group(1)
	assert re.findall(r"</i>([^<]*)</span>", lg) == ["a-t1 (10) 10.000 ms", "b (20) 4.000 ms"], lg
	EOP
'

test_expect_success 'the timeline window: the busiest second, or --time' '
	cat >long.events <<-EOT &&
	@cpus 1
	100000000 0 switch pid=0 prio=120 state=0 next_pid=5 next_prio=120 comm=swapper/0 next_comm=five
	300000000 0 switch pid=5 prio=120 state=1 next_pid=0 next_prio=120 comm=five next_comm=swapper/0
	1200000000 0 switch pid=0 prio=120 state=0 next_pid=6 next_prio=120 comm=swapper/0 next_comm=six
	1900000000 0 switch pid=6 prio=120 state=1 next_pid=0 next_prio=120 comm=six next_comm=swapper/0
	2500000000 0 switch pid=0 prio=120 state=0 next_pid=5 next_prio=120 comm=swapper/0 next_comm=five
	EOT
	mktrace long.h5 <long.events &&
	schedcast report -f html -o l.html long.h5 &&
	grep -q "from 1.100000 to 2.100000 s (the trace.s clock): the second with the most busy time" l.html &&
	grep -q "<title>6 six on cpu0, 1.200000 to 1.900000 s</title>" l.html &&
	schedcast report -f html --time 0.1,0.5 -o l2.html long.h5 &&
	grep -q "from 0.100000 to 0.500000 s (the trace.s clock): the <code>--time</code> window" l2.html &&
	grep -q "<title>5 five on cpu0, 0.100000 to 0.300000 s</title>" l2.html
'

test_expect_success 'wakeup-latency and preemption-delay histograms, by hand (1, 2.5, 3 ms; 1 ms)' '
	grep -q "<title>wakeup latency (3), 1ms: 33.3%</title>" t.html &&
	grep -q "<title>wakeup latency (3), 2ms: 66.7%</title>" t.html &&
	grep -q "<title>preemption delay (1), 1ms: 100.0%</title>" t.html &&
	grep -q "<title>preemption delay (1), 2ms: 0.0%</title>" t.html
'

test_expect_success 'the reader fixes: round y ticks, candidate counts shown, a glossary' '
	cat >q.events <<-EOT &&
	@cpus 1
	1000 0 switch pid=0 prio=120 state=0 next_pid=1 next_prio=120 comm=swapper/0 next_comm=run
	2000 0 sched_waking pid=2 prio=120 target_cpu=0 comm=q common_pid=1
	2000 0 sched_waking pid=3 prio=120 target_cpu=0 comm=q common_pid=1
	2000 0 sched_waking pid=4 prio=120 target_cpu=0 comm=q common_pid=1
	100000 0 switch pid=1 prio=120 state=1 next_pid=2 next_prio=120 comm=run next_comm=q
	EOT
	mktrace q.h5 <q.events &&
	schedcast report -f html -o q.html q.h5 &&
	grep -q "<title>Runqueue length over time (mean per interval)</title>.*>4</text>" q.html &&
	python3 - <<-EOP
	import re, xml.etree.ElementTree as ET
	NS = "{http://www.w3.org/2000/svg}"
	for f in ("r.html", "t.html", "q.html"):
	    for s in re.findall(r"<svg.*?</svg>", open(f).read(), re.S):
	        svg = ET.fromstring(s)
	        ticks = [t.text for t in svg.iter(NS + "text") if t.get("text-anchor") == "end" and t.get("class") == "a"]
	        # (the timeline and the baselines bars have no value axis)
	        if not ticks or "class" in svg.attrib or svg.find(NS + "title").text.startswith("Model"):
	            continue
	        v = [float(t.replace("k", "e3").replace("M", "e6")) for t in ticks]
	        step = v[1] - v[0]
	        m = step / 10 ** __import__("math").floor(__import__("math").log10(step))
	        assert any(abs(m - x) < 1e-9 for x in (1, 2, 2.5, 5)), (svg.find(NS + "title").text, ticks)
	h = open("r.html").read()
	cand = re.search(r"<svg[^>]*><title>Top-1 accuracy by number of candidates.*?</svg>", h, re.S).group(0)
	cats = re.findall(r"text-anchor=\"middle\">(\d+\+?)</text>", cand)
	counts = re.findall(r">n=(\d+)</text>", cand)
	assert cats and len(cats) == len(counts), (cats, counts)
	# a faint bar wherever fewer than 30 decisions stand behind it
	bars = re.findall(r"<rect [^>]*?(fill-opacity=\"0.3\")?><title>[^<]*, (\d+\+?): ", cand)
	for faint, c in bars:
	    assert bool(faint) == (int(counts[cats.index(c)]) < 30), (c, faint)
	pre = re.search(r"<div class=\"pred\"><pre>(.*?)</pre>", h, re.S).group(1)
	assert "x0a" not in pre and pre.count("\n") > 10, pre[:200]
	gl = re.search(r"<dl class=\"gl\">(.*?)</dl>", h).group(1)
	for term in ("contested", "coverage", "chance", "top-1, top-3 (top-k)"):
	    assert "<dt>%s</dt>" % term in gl, term
	EOP
'

test_expect_success 'Chromium loads it: the DOM holds the plots, no console errors' '
	chrome --dump-dom "file://$TRASH/r.html" >dom.html 2>chrome.err &&
	test "$(grep -o "<svg" dom.html | wc -l)" = 8 &&
	grep -q "<h1>schedcast report: rr.h5</h1>" dom.html &&
	grep -q "<svg class=\"tl\"" dom.html &&
	test "$(grep -o "<title>[0-9]* [^<]* on cpu[0-9]*, [0-9.]* to [0-9.]* s</title>" dom.html | wc -l)" -gt 10 &&
	! grep -E "CONSOLE|Uncaught|Failed to load" chrome.err
'

test_expect_success 'Chromium screenshots it: a PNG with much more drawn than a blank page' '
	echo "<!DOCTYPE html><html><body></body></html>" >blank.html &&
	chrome --hide-scrollbars --window-size=1000,1400 --screenshot="$TRASH/blank.png" \
		"file://$TRASH/blank.html" >/dev/null 2>&1 &&
	chrome --hide-scrollbars --window-size=1000,1400 --screenshot="$TRASH/shot.png" \
		"file://$TRASH/r.html" >/dev/null 2>&1 &&
	python3 - <<-EOP
	import struct
	data = open("shot.png", "rb").read()
	assert data[:8] == b"\x89PNG\r\n\x1a\n"
	assert struct.unpack(">II", data[16:24]) == (1000, 1400)
	blank = len(open("blank.png", "rb").read())
	# a white page compresses to almost nothing; text and plots do not
	assert len(data) > 10 * blank, (len(data), blank)
	EOP
'

test_done
