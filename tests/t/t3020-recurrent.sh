#!/usr/bin/env bash
# train --recurrent R: only the first R hidden units feed the gates back.
# The columns R..H-1 of lstm/w_h start at zero and stay zero (fixed and
# float: no gradient reaches them), the model file says R (attribute
# recurrent, shown by info), R = H is today's model bit for bit, the fixed
# trainer stays bit-identical for any number of threads, and a file whose
# zero columns are not zero, or whose R is out of range, is refused with
# one line.
. "$(dirname "$0")/lib.sh"

SAMPLE=$TEST_TOP/data/samples/mixed.h5
test_skip_rest_unless_h5py 'train --recurrent'

# train_r OUT ARGS...: a small stateful model of the windows w.h5
train_r() {
	local out=$1
	shift
	schedcast train -q --encoder stateful --hidden 8 --head 8 --epochs 1 --linear-epochs 1 \
		--seed 3 -o "$out" "$@" w.h5 >/dev/null 2>&1
}

# zero_beyond MODEL R: lstm/w_h's columns R.. are all zero, the others not
zero_beyond() {
	"$PY" - "$1" "$2" <<-'EOP'
	import sys, h5py, numpy as np
	f = h5py.File(sys.argv[1], "r")
	R = int(sys.argv[2])
	wh = np.asarray(f["weights/lstm/w_h"])
	assert wh.shape == (32, 8), wh.shape
	assert not wh[:, R:].any(), wh[:, R:]
	assert wh[:, :R].any(), "the recurrent columns are all zero"
	print("# %s: %d of %d columns zero" % (sys.argv[1], wh.shape[1] - R, wh.shape[1]))
	EOP
}

test_expect_success 'setup: windows of a sample' '
	schedcast features --state basic -o w.h5 "$SAMPLE" >/dev/null
'

test_expect_success 'R = H is the model without the option, bit for bit, and says nothing' '
	train_r full.h5 --threads 2 &&
	train_r r8.h5 --threads 2 --recurrent 8 &&
	schedcast info full.h5 | grep "^digest" >d.full &&
	schedcast info r8.h5 | grep "^digest" >d.r8 &&
	test_cmp d.full d.r8 &&
	! schedcast info r8.h5 | grep -q "^recurrent" &&
	schedcast info --json r8.h5 | grep -q "\"R\": *8" &&
	"$PY" -c "import h5py,sys; sys.exit(\"recurrent\" in h5py.File(\"r8.h5\").attrs)"
'

test_expect_success 'fixed, R = 3: the columns beyond R stay zero; 1, 2, 3 threads alike' '
	train_r r3t1.h5 --threads 1 --recurrent 3 &&
	train_r r3t2.h5 --threads 2 --recurrent 3 &&
	train_r r3t3.h5 --threads 3 --recurrent 3 &&
	zero_beyond r3t1.h5 3 &&
	for t in 1 2 3; do schedcast info r3t$t.h5 | grep "^digest" >d$t || return 1; done &&
	test_cmp d1 d2 && test_cmp d1 d3 &&
	! test_cmp d1 d.full >/dev/null &&
	schedcast info r3t1.h5 | grep -q "^recurrent: *the first 3 of the 8 hidden units" &&
	schedcast info --json r3t1.h5 | grep -q "\"R\": *3" &&
	schedcast eval -m r3t1.h5 w.h5 >/dev/null
'

test_expect_success 'float, R = 3: the columns beyond R stay zero' '
	train_r r3f.h5 --threads 2 --recurrent 3 --arith float &&
	zero_beyond r3f.h5 3 &&
	schedcast eval -m r3f.h5 w.h5 >/dev/null
'

test_expect_success 'resume and init keep R; a contradiction is refused in one line' '
	cp r3t2.h5 res.h5 &&
	schedcast train -q --resume --encoder stateful --hidden 8 --head 8 --epochs 2 \
		--linear-epochs 1 --seed 3 --threads 2 -o res.h5 w.h5 >/dev/null 2>&1 &&
	zero_beyond res.h5 3 &&
	schedcast train -q --init r3t2.h5 --epochs 1 --threads 2 -o ft.h5 w.h5 \
		>/dev/null 2>&1 &&
	zero_beyond ft.h5 3 &&
	test_must_fail schedcast train -q --init r3t2.h5 --recurrent 4 -o ft2.h5 w.h5 2>err &&
	test_one_line_error err "recurrent width is 3, not 4" &&
	test_usage_error schedcast train --hidden 8 --recurrent 9 w.h5 2>/dev/null &&
	test_usage_error schedcast train --recurrent 0 w.h5 2>/dev/null
'

# crafted: a weight beyond R made non-zero; R out of range
test_expect_success 'a non-zero column beyond R, or R out of range: refused in one line' '
	cp r3t1.h5 bad.h5 &&
	"$PY" -c "import h5py; f = h5py.File(\"bad.h5\", \"r+\"); f[\"weights/lstm/w_h\"][5, 6] = 1; f.close()" &&
	test_must_fail schedcast eval -m bad.h5 w.h5 2>err &&
	test_one_line_error err "bad.h5" &&
	grep -q "lstm/w_h\[5\]\[6\] is not zero, but the recurrent width is 3" err &&
	cp r3t1.h5 bad9.h5 &&
	"$PY" -c "import h5py, numpy as np; f = h5py.File(\"bad9.h5\", \"r+\"); f.attrs[\"recurrent\"] = np.int64(9); f.close()" &&
	test_must_fail schedcast info bad9.h5 2>err &&
	test_one_line_error err "recurrent = 9 out of range 1..8"
'

# crafted: the checkpoint's optimizer state beyond R made non-zero (the flat
# parameter vector starts with w_x, then w_h): resuming would move those
# weights and write a model that cannot be read
test_expect_success 'a checkpoint not zero beyond R: --resume refused in one line, file kept' '
	cp r3t2.h5 badck.h5 &&
	"$PY" - badck.h5 <<-\EOP &&
	import sys, h5py, numpy as np
	f = h5py.File(sys.argv[1], "r+")
	o = f["weights/lstm/w_x"].size + 2 * 8 + 5	# w_h[2][5]
	m = f["ckpt/adam_m"]
	a = np.asarray(m)
	a[o] = 1 << 20
	m[...] = a
	f.close()
	EOP
	cp badck.h5 badck.orig &&
	test_must_fail schedcast train -q --resume --encoder stateful --hidden 8 --head 8 \
		--epochs 2 --linear-epochs 1 --seed 3 --threads 2 -o badck.h5 w.h5 2>err &&
	test_one_line_error err "its checkpoint is not zero in lstm/w_h" &&
	grep -q "badck.h5.*columns past the recurrent width 3" err &&
	cmp badck.h5 badck.orig
'

test_done
