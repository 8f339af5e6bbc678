#!/usr/bin/env bash
# -m NAME (and train --init NAME): a bare name is a shipped model, found in
# $SCHEDCAST_MODELS, beside the binary in a build tree (data/models/), in an
# installation (../share/schedcast/models/); a path is used as given.
. "$(dirname "$0")/lib.sh"

D=$TEST_DATA/report

test_expect_success 'setup: windows and a model' '
	rr_trace windows &&
	schedcast train -q -o mine.h5 --hidden 8 --epochs 1 w.h5 >/dev/null
'

test_expect_success '$SCHEDCAST_MODELS: -m NAME in eval and report, --init NAME in train' '
	mkdir models && cp mine.h5 models/mine.h5 &&
	SCHEDCAST_MODELS=$TRASH/models schedcast eval -m mine w.h5 >out &&
	grep -q "^eval w.h5 with model $TRASH/models/mine.h5" out &&
	SCHEDCAST_MODELS=$TRASH/models schedcast report -w w.h5 -m mine rr.h5 >rep &&
	grep -q "mine.h5" rep &&
	SCHEDCAST_MODELS=$TRASH/models schedcast train -q --init mine --epochs 1 -o t.h5 w.h5 >/dev/null &&
	schedcast info t.h5 | grep -q "^initial model: *$TRASH/models/mine.h5"
'

test_expect_success 'a file of that name here wins over a shipped model' '
	cp mine.h5 mine &&
	SCHEDCAST_MODELS=$TRASH/models schedcast eval -m mine w.h5 >out &&
	grep -q "^eval w.h5 with model mine$" out
'

test_expect_success 'beside the binary in a build tree, and in an installed tree' '
	mkdir -p tree/data/models inst/bin inst/share/schedcast/models &&
	cp "$SCHEDCAST" tree/schedcast && cp mine.h5 tree/data/models/other.h5 &&
	env -u SCHEDCAST_MODELS tree/schedcast eval -m other w.h5 >out &&
	grep -q "with model .*tree/data/models/other.h5" out &&
	cp "$SCHEDCAST" inst/bin/schedcast && cp mine.h5 inst/share/schedcast/models/third.h5 &&
	env -u SCHEDCAST_MODELS inst/bin/schedcast eval -m third w.h5 >out &&
	grep -q "with model .*inst/bin/../share/schedcast/models/third.h5" out
'

test_expect_success 'an unknown name: one line saying where it looked, exit 1' '
	test_must_fail env SCHEDCAST_MODELS=$TRASH/models schedcast eval -m nosuch w.h5 2>err &&
	test_one_line_error err "cannot find the model" &&
	grep -q "no nosuch.h5 in $TRASH/models, " err &&
	test_must_fail schedcast train --init nosuch -o x.h5 w.h5 2>err &&
	test_one_line_error err "nosuch.h5" &&
	test ! -e x.h5
'

test_expect_success 'the shipped general model is a candidates model trained on every sample trace' '
	test -f "$TEST_TOP/data/models/general.h5" &&
	schedcast info --json "$TEST_TOP/data/models/general.h5" >g.json &&
	(cd "$TEST_TOP" && ls data/samples/*.h5) >samples &&
	python3 - <<-EOP
	import json
	d = json.load(open("g.json"))
	assert d["mode"] == "candidates"
	got = sorted(t["trace"] for t in d["trained_on"])
	want = sorted(open("samples").read().split())
	assert got == want, (got, want)
	assert all(t["train_decisions"] > 0 for t in d["trained_on"]), d["trained_on"]
	EOP
'

test_done
