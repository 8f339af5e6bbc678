#!/usr/bin/env bash
# schedcast report agrees with perf sched timehist -s on the same perf.data
# (tests/data/report/perf-sched.data, recorded here with `perf sched record`;
# perf-sched.timehist is perf 6.1's `perf sched timehist -s` of it and
# perf-sched.runtime the per-pid sums of its sched_stat_runtime events).
. "$(dirname "$0")/lib.sh"

D=$TEST_DATA/report

test_skip_rest_unless_command perf 'report agrees with perf sched timehist' \
	'perf is not installed (Debian linux-perf): import cannot read perf.data'

test_expect_success 'import the perf.data fixture' '
	schedcast import -o p.h5 "$D/perf-sched.data" >/dev/null 2>&1 &&
	schedcast report -f json -o p.json p.h5
'

test_expect_success 'sched-in counts, run times and min/avg/max run agree with timehist' '
	python3 "$D/check-timehist.py" p.json "$D/perf-sched.timehist" "$D/perf-sched.runtime"
'

case "$(perf --version 2>/dev/null)" in
"perf version 6.1."*)
	test_expect_success 'the saved timehist output is what this perf prints' '
		perf sched timehist -i "$D/perf-sched.data" -s 2>/dev/null >th.txt &&
		test_cmp "$D/perf-sched.timehist" th.txt
	'
	;;
*)
	test_skip 'the saved timehist output is what this perf prints' \
		"it was saved from perf 6.1, this is $(perf --version 2>/dev/null)"
	;;
esac

test_expect_success 'the checker fails on a disagreement' '
	python3 -c "
import json; r = json.load(open(\"p.json\"))
r[\"tasks\"][0][\"switches\"] += 1
json.dump(r, open(\"bad.json\", \"w\"))" &&
	! python3 "$D/check-timehist.py" bad.json "$D/perf-sched.timehist" "$D/perf-sched.runtime" >out &&
	grep -q "switches" out
'

test_done
