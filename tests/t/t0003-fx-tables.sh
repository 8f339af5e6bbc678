#!/usr/bin/env bash
# model/fx-tables.c is what model/gen-fx-tables.py writes: the committed
# constant tables of the fixed-point maths were not edited by hand, and the
# generator still produces them.
. "$(dirname "$0")/lib.sh"

test_expect_success 'model/fx-tables.c matches model/gen-fx-tables.py' '
	python3 "$TEST_TOP/model/gen-fx-tables.py" fx-tables.c &&
	cmp fx-tables.c "$TEST_TOP/model/fx-tables.c"
'

test_done
