#!/usr/bin/env bash
# The HTML report renders in headless Chromium: one self-contained page,
# every SVG plot well-formed, no console errors, a non-empty screenshot.
. "$(dirname "$0")/lib.sh"

D=$TEST_DATA/report

if ! command -v chromium >/dev/null 2>&1; then
	test_skip 'the HTML report renders in Chromium' 'chromium is not installed (Debian chromium)'
	test_done
	exit 0
fi

chrome() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run \
		--user-data-dir="$TRASH/profile" --enable-logging=stderr --v=0 "$@"
}

test_expect_success 'setup: a report with a prediction section' '
	python3 "$D/rr-trace.py" 200 >rr.events &&
	mktrace rr.h5 <rr.events &&
	schedcast features -o w.h5 rr.h5 >/dev/null &&
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
	assert len(svgs) == 5, len(svgs)
	titles = [ET.fromstring(s).find("{http://www.w3.org/2000/svg}title").text for s in svgs]
	assert titles[0].startswith("Scheduling delay CDF") and titles[1].startswith("Runqueue"), titles
	assert any("over time" in t for t in titles) and any("candidates" in t for t in titles)
	EOP
'

test_expect_success 'Chromium loads it: the DOM holds the plots, no console errors' '
	chrome --dump-dom "file://$TRASH/r.html" >dom.html 2>chrome.err &&
	test "$(grep -o "<svg" dom.html | wc -l)" = 5 &&
	grep -q "<h1>schedcast report: rr.h5</h1>" dom.html &&
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
