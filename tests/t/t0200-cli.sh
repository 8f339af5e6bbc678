#!/usr/bin/env bash
# The command line behaves like perf's and git's: options after operands,
# short usage errors, getopt messages naming the command, help without man
# pages, make install PREFIX= and make uninstall.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a small trace' '
	cat >ev.txt <<-EOT &&
	@cpus 2
	@events sched_switch,sched_wakeup
	1000 0 wakeup pid=10 prio=120 target_cpu=0 comm=a
	2000 0 switch pid=0 prio=120 state=0 next_pid=10 next_prio=120 comm=swapper/0 next_comm=a
	3000 1 switch pid=0 prio=120 state=0 next_pid=11 next_prio=120 comm=swapper/1 next_comm=b
	EOT
	mktrace t.h5 <ev.txt
'

test_expect_success 'options may follow the operand (info, features, eval)' '
	schedcast info t.h5 --json >a.json &&
	schedcast info --json t.h5 >b.json &&
	test_cmp a.json b.json &&
	schedcast features "$TEST_TOP/data/samples/periodic-hogs.h5" -o w.h5 -q &&
	test -s w.h5 &&
	schedcast eval w.h5 --json >e1.json &&
	schedcast eval --json w.h5 >e2.json &&
	test_cmp e1.json e2.json
'

test_expect_success 'a usage error: the usage line and where to look, exit 2' '
	test_usage_error schedcast eval 2>err &&
	grep -q "^usage: schedcast eval " err &&
	grep -q "^see .schedcast eval -h." err &&
	test $(wc -l <err) -le 4
'

test_expect_success 'getopt messages name the command' '
	test_usage_error schedcast info --bogus t.h5 2>err &&
	grep -q "^schedcast info: unrecognized option" err &&
	test_usage_error schedcast eval -x w.h5 2>err &&
	grep -q "^schedcast eval: invalid option" err
'

test_expect_success 'record keeps the options after -- for the command' '
	test_usage_error schedcast record sleep 1 2>err &&
	grep -q "use -- COMMAND" err
'

test_expect_success 'help CMD without a man page falls back to CMD -h' '
	MANPATH=/nonexistent schedcast help eval >out &&
	grep -q "^usage: schedcast eval" out &&
	grep -q "^EXAMPLES" out
'

test_expect_success 'help of an unknown command: exit 2' '
	test_usage_error schedcast help nosuch 2>err &&
	grep -q "unknown command .nosuch." err
'

if [ -w "$TEST_TOP" ] && command -v make >/dev/null; then
	test_expect_success 'make install PREFIX=... and make uninstall' '
		make -s -C "$TEST_TOP" install PREFIX="$TRASH/inst" >/dev/null &&
		test -x inst/bin/schedcast &&
		test -f inst/share/man/man1/schedcast-report.1 &&
		test -f inst/share/schedcast/samples/mixed.h5 &&
		make -s -C "$TEST_TOP" uninstall PREFIX="$TRASH/inst" >/dev/null &&
		! test -e inst/bin/schedcast &&
		! test -e inst/share/man/man1/schedcast-report.1 &&
		! test -e inst/share/schedcast
	'
else
	test_skip 'make install PREFIX=... and make uninstall' 'the source tree is not writable'
fi

test_done
