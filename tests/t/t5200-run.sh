#!/usr/bin/env bash
# schedcast run: the whole pipeline on one command, on the sample trace.
. "$(dirname "$0")/lib.sh"

SAMPLE=$TEST_TOP/data/samples/mixed.h5
export SCHEDCAST_SAMPLES=$TEST_TOP/data/samples

test_expect_success 'usage errors exit 2' '
	test_usage_error schedcast run -d 1ms 2>/dev/null &&
	test_usage_error schedcast run -e 0 2>/dev/null &&
	test_usage_error schedcast run --hidden 0 2>/dev/null &&
	test_usage_error schedcast run -n 10 2>/dev/null &&
	test_usage_error schedcast run --trace x.h5 -- true 2>/dev/null &&
	test_usage_error schedcast run --bogus 2>/dev/null &&
	test_usage_error schedcast run stray 2>/dev/null &&
	schedcast run -h | grep -q "^usage: schedcast run"
'

test_expect_success 'run on the sample trace: every stage, every file, the summary' '
	schedcast run --trace "$SAMPLE" -o out -e 1 --hidden 8 -n 12000 >stdout 2>stderr &&
	schedcast info out/model.h5 | grep -q "LSTM hidden 8," &&
	for i in 1 2 3 4 5; do grep -q "^\[$i/5\] " stdout; done &&
	grep -q "learning from the first 12000 of its [0-9]* switches" stdout &&
	grep -q "^schedcast run: done in" stdout &&
	grep -q "^  report    out/report.html$" stdout &&
	grep -q "^..model (fixed) " stdout &&
	test -s out/learn.h5 && test -s out/windows.h5 && test -s out/model.h5 &&
	test -s out/eval.txt && test -s out/eval.json && test -s out/report.html &&
	test -s out/logs/train.log &&
	grep -q "<svg" out/report.html &&
	schedcast info --json out/learn.h5 | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d[\"events_by_type\"][\"sched_switch\"] == 12000, d
" &&
	python3 -c "
import json
d = json.load(open(\"out/eval.json\"))
assert d[\"model\"][\"name\"] == \"out/model.h5\", d[\"model\"]
assert d[\"decisions\"] > 1000 and len(d[\"baselines\"]) >= 7, d[\"decisions\"]
"
'

test_expect_success 'a stage that fails stops the run: exit 1, naming the stage' '
	echo "not a trace" >bad.txt &&
	test_must_fail schedcast run --trace bad.txt -o bad -e 1 >stdout 2>stderr &&
	grep -q "stage 1/5 failed: .schedcast import" stderr &&
	! grep -q "^\[2/5\]" stdout
'

if why=$(has_tracefs); then
test_expect_success 'run records the built-in workload when it can' '
	schedcast run -d 1s -e 1 -n 5000 -o rec >stdout 2>stderr &&
	grep -q "^\[1/5\] record: the scheduler under the built-in mixed workload" stdout &&
	grep -q "workload ran .* ping-pong round trips" stdout &&
	grep -q "^  trace     rec/trace.h5 (recorded (built-in workload))" stdout &&
	schedcast info rec/trace.h5 | grep -q "^source: *live-" &&
	test -s rec/report.html && test -s rec/logs/record.log
'
else
	test_skip 'run records the built-in workload when it can' "$why"
fi

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	test_skip 'without root it says so and uses the sample' 'needs root to drop to nobody'
	test_done
	exit
fi

test_expect_success 'without root it says so and uses the sample; a command it refuses' '
	chmod o+x "$TRASH" && mkdir -m 777 nr &&
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env SCHEDCAST_SAMPLES="$SCHEDCAST_SAMPLES" "$SCHEDCAST" run -o nr/out -e 1 -n 6000 \
		>nr/stdout 2>nr/stderr &&
	grep -q "cannot record here (not running as root): using the sample trace .*/mixed.h5" nr/stdout &&
	grep -q "^schedcast run: done in" nr/stdout &&
	test -s nr/out/report.html &&
	test_must_fail setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$SCHEDCAST" run -o nr/out2 -- true 2>nr/err &&
	grep -q "cannot record .true.: not running as root" nr/err
'

test_done
