#!/usr/bin/env bash
# schedcast train: learning a known rule end to end, model.h5 contents,
# determinism, resume, Ctrl-C, refusing mismatched windows, bad input.
. "$(dirname "$0")/lib.sh"

MKWINDOWS=$HELPER_DIR/mkwindows

# json_get FILE EXPR: evaluate a Python expression on the JSON in FILE (as d)
json_get() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

test_expect_success 'fixed point learns "the longest-queued candidate wins" (>= 99%)' '
	"$MKWINDOWS" -n 3000 w.h5 &&
	schedcast train -q -o model.h5 --hidden 16 --epochs 4 --linear-epochs 0 --threads 2 w.h5 >out &&
	grep -q "^model.h5: " out &&
	schedcast info --json model.h5 >m.json &&
	test "$(json_get m.json "d[\"arith\"]")" = fixed &&
	test "$(json_get m.json "d[\"mode\"]")" = candidates &&
	test "$(json_get m.json "max(d[\"val_top1\"]) >= 0.99")" = True &&
	test "$(json_get m.json "d[\"tensors\"][\"lstm/w_x\"][\"q\"]")" = Q3.12 &&
	test "$(json_get m.json "d[\"tensors\"][\"lstm/w_x\"][\"shape\"]")" = "[64, 3]" &&
	test "$(json_get m.json "len(d[\"train_loss\"])")" = 4 &&
	test "$(json_get m.json "d[\"state_features\"][0]")" = queued
'

test_expect_success 'info describes the model in text' '
	schedcast info model.h5 >info &&
	grep -q "^kind: *model (schedcast-model version 2)" info &&
	grep -q "^arithmetic: *fixed" info &&
	grep -q "lstm/w_h .* Q3.12" info &&
	grep -q "^best epoch:" info &&
	grep -q "^checkpoint: *after epoch 4" info
'

test_expect_success 'the linear stage learns the rule alone, and the LSTM must beat it' '
	schedcast train -o lin.h5 --hidden 8 --epochs 2 w.h5 >out 2>err &&
	grep -q "^linear 1/5  val top-1" err &&
	grep -q "linear path 100.00% (kept alone: the LSTM did not beat it)" out &&
	schedcast info --json lin.h5 >l.json &&
	test "$(json_get l.json "d[\"best_epoch\"]")" = 0 &&
	test "$(json_get l.json "d[\"linear_val_top1\"]")" = 1 &&
	test "$(json_get l.json "d[\"tensors\"][\"head/w_lin\"][\"shape\"]")" = "[3, 1]" &&
	schedcast info lin.h5 | grep -q "^best epoch: *0 (the linear stage" &&
	schedcast eval -m lin.h5 w.h5 >ev &&
	grep -E -q "^  model \(fixed\) +100\.0%" ev
'

test_expect_success '--linear-output writes the linear stage alone, a model eval scores' '
	schedcast train -q -o res.h5 --linear-output linear.h5 --hidden 8 --epochs 1 w.h5 >out &&
	schedcast info --json linear.h5 >lo.json &&
	test "$(json_get lo.json "d[\"best_epoch\"]")" = 0 &&
	test "$(json_get lo.json "d[\"linear_val_top1\"]")" = 1 &&
	test "$(json_get lo.json "d[\"checkpoint_epoch\"]")" = 0 &&
	schedcast eval -m linear.h5 w.h5 >ev &&
	grep -E -q "^  model \(fixed\) +100\.0%" ev &&
	test_usage_error schedcast train -q -o res.h5 --linear-output res.h5 w.h5 2>err &&
	grep -q "name the same file" err &&
	test_usage_error schedcast train -q -o res.h5 --linear-output l.h5 --resume w.h5 2>err &&
	grep -q "needs the linear stage" err &&
	test_usage_error schedcast train -q -o x.h5 --linear-output l.h5 --linear-epochs 0 w.h5 2>err &&
	! test -e l.h5 && ! test -e x.h5
'

test_expect_success 'few validation decisions: all of training trained on, a warning with the interval' '
	"$MKWINDOWS" -n 1000 small.h5 &&
	schedcast train -q -o small-model.h5 --hidden 8 --epochs 1 small.h5 >out 2>err &&
	grep -q "validation top-1 .* on 150 decisions," out &&
	grep -q ", 700 training decisions" out &&
	grep -q "warning: only 150 validation decisions (fewer than 300): the weights kept are those of the lowest log-loss; their top-1 is a noisy figure, .* 95% interval of \[" err &&
	schedcast info small-model.h5 | grep -q "^trained on: *700 training + 150 validation decisions" &&
	schedcast train -q -o model3k.h5 --hidden 8 --epochs 1 w.h5 >out 2>err &&
	! grep -q "validation decisions (fewer than" err
'

test_expect_success 'few validation decisions: the lowest validation log-loss is kept, resumably' '
	schedcast train -q -o sl.h5 --hidden 8 --epochs 3 --patience 9 small.h5 >out &&
	sed -n "s/.*best epoch \([0-9]*\),.*(.*chosen by validation log-loss, the linear path.s \([0-9.]*\) against the LSTM.s \([0-9.]*\) at epoch \([0-9]*\)).*/\1 \2 \3 \4/p" out >sel &&
	read best lin lstm at <sel &&
	if awk "BEGIN { exit !($lstm < $lin) }"
	then test "$best" -ge "$at"
	else test "$best" = 0 && grep -q "(kept alone: chosen by" out
	fi &&
	schedcast train -q -o sl2.h5 --hidden 8 --epochs 1 --patience 9 small.h5 >/dev/null &&
	schedcast train -q -o sl2.h5 --hidden 8 --epochs 3 --patience 9 --resume small.h5 >/dev/null &&
	schedcast info sl.h5 | grep "^digest" >d1 &&
	schedcast info sl2.h5 | grep "^digest" >d2 &&
	test_cmp d1 d2
'

test_expect_success '--arith float trains the double reference' '
	schedcast train -q -o float.h5 --arith float --hidden 16 --epochs 4 w.h5 >/dev/null &&
	schedcast info --json float.h5 >f.json &&
	test "$(json_get f.json "d[\"arith\"]")" = float &&
	test "$(json_get f.json "d[\"tensors\"][\"head/w1\"][\"q\"]")" = f64 &&
	test "$(json_get f.json "max(d[\"val_top1\"]) >= 0.99")" = True
'

test_expect_success 'same seed and threads: the same model, bit for bit' '
	mkdir a b &&
	(cd a && schedcast train -q -o m.h5 --hidden 8 --epochs 2 --seed 7 ../w.h5 >/dev/null) &&
	(cd b && schedcast train -q -o m.h5 --hidden 8 --epochs 2 --seed 7 ../w.h5 >/dev/null) &&
	schedcast info a/m.h5 | grep "^digest" >da &&
	schedcast info b/m.h5 | grep "^digest" >db &&
	test_cmp da db &&
	(cd b && schedcast train -q -o m.h5 --hidden 8 --epochs 2 --seed 8 ../w.h5 >/dev/null) &&
	schedcast info b/m.h5 | grep "^digest" >db &&
	! test_cmp da db >/dev/null
'

test_expect_success 'fixed point: the same model, bit for bit, for 1, 2 and 3 threads' '
	mkdir t1 t2 t3 &&
	for n in 1 2 3; do
		(cd t$n && schedcast train -q -o m.h5 --hidden 8 --epochs 2 --threads $n \
			../w.h5 >/dev/null) &&
		schedcast info t$n/m.h5 | grep "^digest" >d$n || exit 1
	done &&
	test_cmp d1 d2 &&
	test_cmp d1 d3
'

test_expect_success 'streaming: a file longer than the shuffle buffer trains in flat memory' '
	mkwindows -n 60000 -K 4 long.h5 &&
	/usr/bin/time -f "%M" -o rss schedcast train -q -o long-m.h5 --hidden 8 --epochs 1 \
		--shuffle-buffer 256k long.h5 >/dev/null &&
	mkwindows -n 6000 -K 4 short.h5 &&
	/usr/bin/time -f "%M" -o rss1 schedcast train -q -o short-m.h5 --hidden 8 --epochs 1 \
		--shuffle-buffer 256k short.h5 >/dev/null &&
	echo "peak RSS $(cat rss1) KB on 6000 decisions, $(cat rss) KB on 60000" &&
	test $(cat rss) -lt $(( $(cat rss1) * 12 / 10 ))
'

test_expect_success 'streaming: a shuffle buffer never holds more bytes than it is given' '
	schedcast train -o long-m.h5 --hidden 8 --epochs 1 --shuffle-buffer 256k \
		long.h5 2>err >/dev/null &&
	sed -n "s/^shuffle buffer: \([0-9]*\) regions an epoch, at most \([0-9]*\) of \([0-9]*\) bytes$/\1 \2 \3/p" \
		err >got &&
	read n most budget <got &&
	echo "$n buffers an epoch, at most $most of $budget bytes" &&
	test "$budget" = 262144 && test "$n" -gt 1 && test "$most" -le "$budget" &&
	test "$most" -gt $((budget / 2)) &&
	schedcast train -o long-m.h5 --hidden 8 --epochs 1 long.h5 2>err >/dev/null &&
	grep "^shuffle buffer: 1 region an epoch, at most [0-9]* of 67108864 bytes$" err &&
	test_usage_error schedcast train --shuffle-buffer 1k long.h5 2>/dev/null &&
	test_usage_error schedcast train --shuffle-buffer 12q long.h5 2>/dev/null
'

test_expect_success '--resume continues to the same model as one run' '
	schedcast train -q -o one.h5 --hidden 8 --epochs 4 --patience 9 w.h5 >/dev/null &&
	schedcast train -q -o two.h5 --hidden 8 --epochs 2 --patience 9 w.h5 >/dev/null &&
	schedcast train -q -o two.h5 --hidden 8 --epochs 4 --patience 9 --resume w.h5 >/dev/null &&
	schedcast info two.h5 | grep -q "^checkpoint: *after epoch 4" &&
	schedcast info one.h5 | grep "^digest" >d1 &&
	schedcast info two.h5 | grep "^digest" >d2 &&
	test_cmp d1 d2
'

test_expect_success '--resume takes the --batch-run the file records, and refuses another' '
	schedcast train -q -o r3.h5 --hidden 8 --epochs 4 --patience 9 --batch-run 3 w.h5 >/dev/null &&
	schedcast train -q -o r3b.h5 --hidden 8 --epochs 2 --patience 9 --batch-run 3 w.h5 >/dev/null &&
	schedcast train -q -o r3b.h5 --hidden 8 --epochs 4 --patience 9 --resume w.h5 >/dev/null &&
	schedcast info r3.h5 | grep "^digest" >d1 &&
	schedcast info r3b.h5 | grep "^digest" >d2 &&
	test_cmp d1 d2 &&
	schedcast info one.h5 | grep "^digest" >d0 &&
	! test_cmp d0 d1 >/dev/null &&
	test_must_fail schedcast train -q -o r3b.h5 --hidden 8 --epochs 6 --patience 9 --batch-run 8 --resume w.h5 2>err &&
	test_one_line_error err r3b.h5 &&
	grep -q "batch-run" err
'

test_expect_success 'a windows file with other features is refused in one line' '
	"$MKWINDOWS" -n 300 -x renamed other.h5 &&
	test_must_fail schedcast train -q -o two.h5 --hidden 8 --epochs 6 --patience 9 --resume other.h5 2>err &&
	test_one_line_error err other.h5 &&
	grep -q "renamed" err &&
	"$MKWINDOWS" -n 300 -K 5 k5.h5 &&
	test_must_fail schedcast train -q -o two.h5 --hidden 8 --epochs 6 --patience 9 --resume k5.h5 2>err &&
	test_one_line_error err k5.h5
'

test_expect_success 'resume with other settings is refused' '
	test_must_fail schedcast train -q -o two.h5 --hidden 16 --epochs 6 --resume w.h5 2>err &&
	test_one_line_error err two.h5 &&
	test_must_fail schedcast train -q -o nothere.h5 --resume w.h5 2>err &&
	test_one_line_error err nothere.h5
'

test_expect_success '--init fine-tunes: starts where the model is, records what it came from' '
	"$MKWINDOWS" -n 1000 -r 5 more.h5 &&
	schedcast train -o tuned.h5 --init model.h5 --epochs 2 --patience 9 more.h5 >out 2>err &&
	grep -q "^tuned.h5: 2 epochs, best epoch [0-2] (initial model [0-9.]*%" out &&
	grep -q "^initial model model.h5: val top-1 " err &&
	schedcast info --json tuned.h5 >t.json &&
	test "$(json_get t.json "d[\"init\"][\"model\"]")" = model.h5 &&
	test "$(json_get t.json "d[\"init\"][\"windows\"]")" = w.h5 &&
	test "$(json_get t.json "d[\"init\"][\"val_top1\"] >= 0.99")" = True &&
	test "$(json_get t.json "d[\"windows\"]")" = more.h5 &&
	test "$(json_get t.json "d[\"H\"]")" = 16 &&
	test "$(json_get t.json "d[\"trained_on\"][0][\"train_decisions\"] == d[\"train_decisions\"] > 0")" = True &&
	schedcast info tuned.h5 | grep -q "^initial model: *model.h5 (trained on w.h5), validation top-1" &&
	schedcast info tuned.h5 | grep -q "^trained on: *[0-9]* training + [0-9]* validation decisions from 1 trace"
'

test_expect_success '--init: no epoch better than the initial model keeps its weights' '
	schedcast train -q -o kept.h5 --init model.h5 --epochs 1 --lr 0.9 w.h5 >out &&
	grep -q "best epoch 0 (initial model [0-9.]*%, kept: no epoch beat it)" out &&
	schedcast info --json kept.h5 >k.json &&
	test "$(json_get k.json "d[\"best_epoch\"]")" = 0 &&
	schedcast info kept.h5 | grep -q "^best epoch: *none: no epoch beat the initial model"
'

test_expect_success '--init refuses other inputs, another shape, and --resume, in one line' '
	test_must_fail schedcast train -q -o x.h5 --init model.h5 other.h5 2>err &&
	test_one_line_error err other.h5 &&
	grep -q "cannot fine-tune .model.h5. on .other.h5.: state feature 1 is renamed" err &&
	test_must_fail schedcast train -q -o x.h5 --init model.h5 k5.h5 2>err &&
	test_one_line_error err "window length K=5" &&
	test_must_fail schedcast train -q -o x.h5 --init model.h5 --hidden 8 w.h5 2>err &&
	test_one_line_error err "hidden size is 16, not 8" &&
	test_must_fail schedcast train -q -o x.h5 --init model.h5 --arith float w.h5 2>err &&
	test_one_line_error err "fixed model, not float" &&
	test_must_fail schedcast train -q -o x.h5 --init nothere.h5 w.h5 2>err &&
	test_one_line_error err nothere.h5 &&
	test_usage_error schedcast train -o x.h5 --init model.h5 --resume w.h5 2>/dev/null &&
	test ! -e x.h5
'

test_expect_success 'sequence mode learns a cycle' '
	"$MKWINDOWS" -s -n 2000 seq.h5 &&
	schedcast train -q -o seqm.h5 --hidden 16 --epochs 5 seq.h5 >/dev/null &&
	schedcast info --json seqm.h5 >s.json &&
	test "$(json_get s.json "d[\"mode\"]")" = sequence &&
	test "$(json_get s.json "max(d[\"val_top1\"]) >= 0.99")" = True
'

test_expect_success 'Ctrl-C keeps the last complete epoch and no temporary' '
	mkdir int && cd int &&
	"$MKWINDOWS" -n 20000 big.h5 &&
	{ schedcast train -q -o m.h5 --hidden 16 --epochs 1000 --patience 1000 big.h5 >out 2>err & } &&
	pid=$! &&
	for i in $(seq 600); do test -e m.h5 && break; sleep 0.1; done &&
	test -e m.h5 &&
	kill -INT $pid &&
	rc=0 && wait $pid || rc=$? &&
	test $rc = 130 &&
	grep -q "interrupted: .m.h5. holds the checkpoint of epoch" err &&
	schedcast info m.h5 | grep -q "^checkpoint: *after epoch" &&
	test -z "$(ls -A | grep -v "^big.h5$" | grep -v "^m.h5$" | grep -v "^out$" | grep -v "^err$")"
'

test_expect_success 'SIGHUP (terminal closed) stops as Ctrl-C does, with a message' '
	mkdir hup && cd hup &&
	"$MKWINDOWS" -n 20000 big.h5 &&
	{ schedcast train -q -o m.h5 --hidden 16 --epochs 1000 --patience 1000 big.h5 >out 2>err & } &&
	pid=$! &&
	for i in $(seq 600); do test -e m.h5 && break; sleep 0.1; done &&
	test -e m.h5 &&
	kill -HUP $pid &&
	rc=0 && wait $pid || rc=$? &&
	test $rc = 130 &&
	test_one_line_error err m.h5 &&
	grep -q "interrupted: .m.h5. holds the checkpoint of epoch" err &&
	schedcast info m.h5 | grep -q "^checkpoint: *after epoch" &&
	test -z "$(ls -A | grep -v "^big.h5$" | grep -v "^m.h5$" | grep -v "^out$" | grep -v "^err$")"
'

test_expect_success 'bad input: one line naming the file, exit 1' '
	test_must_fail schedcast train -o x.h5 nope.h5 2>err && test_one_line_error err nope.h5 &&
	echo junk >junk.h5 &&
	test_must_fail schedcast train -o x.h5 junk.h5 2>err && test_one_line_error err junk.h5 &&
	test_must_fail schedcast train -o x.h5 model.h5 2>err && test_one_line_error err model.h5 &&
	test_must_fail schedcast train -o /nonexistent/dir/x.h5 w.h5 2>err &&
	test_one_line_error err /nonexistent/dir &&
	test ! -e x.h5
'

test_expect_success 'usage errors exit 2; -h matches the man page' '
	test_usage_error schedcast train 2>/dev/null &&
	test_usage_error schedcast train --arith double w.h5 2>/dev/null &&
	test_usage_error schedcast train --lr 0 w.h5 2>/dev/null &&
	test_usage_error schedcast train --hidden 0 w.h5 2>/dev/null &&
	test_usage_error schedcast train --bogus w.h5 2>/dev/null &&
	test_usage_error schedcast train w.h5 w.h5 2>/dev/null &&
	schedcast train -h >help &&
	grep -q "^usage: schedcast train" help &&
	grep -q "^EXAMPLES" help
'

test_done
