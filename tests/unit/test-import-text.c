// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the text trace parser (collect/import-text.c): one line of
 * each form and tool, comms with spaces and dashes, state letters, lost
 * lines, and lines that must be refused rather than guessed.  The lines
 * are copied from the fixtures in tests/data/import (see its README).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/import.h"
#include "common/common.h"
#include "data/trace.h"
#include "tests/unit/unit-test.h"

static int parse(struct col_text_parser *p, const char *text, struct ds_event *ev)
{
	char *line = xstrdup(text);
	int r = col_text_parse_line(p, line, ev);

	free(line);
	return r;
}

static int parse1(const char *text, struct ds_event *ev)
{
	struct col_text_parser p;

	col_text_parser_init(&p, "test");
	return parse(&p, text, ev);
}

static void test_ftrace_switch(void **state)
{
	struct ds_event ev;

	assert_int_equal(parse1(" record-fixtures-12200   [001] d..2.  2945.039875: sched_switch: "
				"prev_comm=record-fixtures prev_pid=12200 prev_prio=120 prev_state=R+ "
				"==> next_comm=record-fixtures next_pid=12204 next_prio=120", &ev), 1);
	assert_int_equal(ev.type, DS_EV_SWITCH);
	assert_int_equal(ev.ts, 2945039875000ULL);
	assert_int_equal(ev.cpu, 1);
	assert_int_equal(ev.common_pid, 12200);
	assert_int_equal(ev.pid, 12200);
	assert_int_equal(ev.prio, 120);
	assert_int_equal(ev.state, DS_STATE_PREEMPTED);
	assert_string_equal(ev.comm, "record-fixtures");
	assert_string_equal(ev.next_comm, "record-fixtures");
	assert_int_equal(ev.next_pid, 12204);
	assert_int_equal(ev.next_prio, 120);
	assert_int_equal(ev.target_cpu, -1);
}

/* comms with spaces, '-', ':' and brackets; no irq-info column; tgid column */
static void test_awkward_comms(void **state)
{
	struct ds_event ev;

	assert_int_equal(parse1("   Web Content-4242  (  4200) [003]  12.500000001: sched_switch: "
				"prev_comm=Web Content prev_pid=4242 prev_prio=120 prev_state=S|D "
				"==> next_comm=kw/1:0-e [x] next_pid=7 next_prio=100", &ev), 1);
	assert_int_equal(ev.ts, 12500000001ULL);
	assert_int_equal(ev.cpu, 3);
	assert_int_equal(ev.common_pid, 4242);
	assert_string_equal(ev.comm, "Web Content");
	assert_int_equal(ev.state, DS_STATE_INTERRUPTIBLE | DS_STATE_UNINTERRUPTIBLE);
	assert_string_equal(ev.next_comm, "kw/1:0-e [x]");
	assert_int_equal(ev.next_pid, 7);
}

/*
 * comms are any bytes but NUL, up to 15: '=', a key of the layout, " ==> ",
 * control bytes, a newline (an event over two lines, joined by the importer)
 */
static void test_layout_comms(void **state)
{
	struct ds_event ev;

	assert_int_equal(parse1("  x-1 [000] .....  1.000001: sched_process_fork: comm=a pid=1 b=c "
				"pid=3 child_comm=x=y child_pid=4", &ev), 1);
	assert_string_equal(ev.comm, "a pid=1 b=c");
	assert_int_equal(ev.pid, 3);
	assert_string_equal(ev.next_comm, "x=y");
	assert_int_equal(ev.next_pid, 4);
	assert_int_equal(parse1("  x-1 [000] d..2.  1.000002: sched_switch: prev_comm=x ==> y "
				"prev_pid=5 prev_prio=120 prev_state=S ==> next_comm= ==> next_comm= "
				"next_pid=6 next_prio=120", &ev), 1);
	assert_string_equal(ev.comm, "x ==> y");
	assert_string_equal(ev.next_comm, " ==> next_comm=");
	assert_int_equal(ev.next_pid, 6);
	assert_int_equal(parse1("  x-1 [000] d..2.  1.000003: sched_wakeup: comm=a\033[31mX\nb=c "
				"pid=7 prio=120 target_cpu=001", &ev), 1);
	assert_string_equal(ev.comm, "a\033[31mX\nb=c");
	assert_int_equal(ev.pid, 7);
	/* an empty comm, and one of 15 bytes that all look like a key */
	assert_int_equal(parse1("  x-1 [000] d..2.  1.000004: sched_waking: comm= pid=8 prio=120 "
				"target_cpu=000", &ev), 1);
	assert_string_equal(ev.comm, "");
	assert_int_equal(parse1("  x-1 [000] d..2.  1.000005: sched_waking: comm= pid=1 prio=2 pid=9 "
				"prio=120 target_cpu=000", &ev), 1);
	assert_string_equal(ev.comm, " pid=1 prio=2");
	assert_int_equal(ev.pid, 9);
	/* 16 bytes cannot be a comm */
	assert_int_equal(parse1("  x-1 [000] d..2.  1.000006: sched_waking: comm=0123456789abcdef "
				"pid=8 prio=120 target_cpu=000", &ev), -1);
	/* a value that is not the layout's is still refused */
	assert_int_equal(parse1("  x-1 [000] d..2.  1.000007: sched_waking: comm=a pid=8 x prio=120 "
				"target_cpu=000", &ev), -1);
}

static void test_wakeup_forms(void **state)
{
	struct ds_event ev;

	/* ftrace, target_cpu printed %03d: decimal, not octal */
	assert_int_equal(parse1("  <idle>-0 [000] d.s3.  1.000010: sched_waking: comm=rcu_preempt "
				"pid=15 prio=120 target_cpu=010", &ev), 1);
	assert_int_equal(ev.type, DS_EV_WAKING);
	assert_int_equal(ev.common_pid, 0);
	assert_int_equal(ev.target_cpu, 10);
	/* trace-cmd's plugin form, with an instance prefix */
	assert_int_equal(parse1("inst:  record-fixtures-14518 [001]  2996.601097: sched_wakeup_new:"
				"     record-fixtures:14522 [120] CPU:001", &ev), 1);
	assert_int_equal(ev.type, DS_EV_WAKEUP_NEW);
	assert_int_equal(ev.pid, 14522);
	assert_int_equal(ev.prio, 120);
	assert_int_equal(ev.target_cpu, 1);
	assert_string_equal(ev.comm, "record-fixtures");
	/* perf script, pid/tid */
	assert_int_equal(parse1("            perf 14821/14822 [000]  2998.131858412:       "
				"sched:sched_wakeup: comm=migration/0 pid=18 prio=0 target_cpu=000",
				&ev), 1);
	assert_int_equal(ev.type, DS_EV_WAKEUP);
	assert_int_equal(ev.common_pid, 14822);
	assert_int_equal(ev.ts, 2998131858412ULL);
}

static void test_plugin_switch_letters(void **state)
{
	struct col_text_parser p;
	struct ds_event ev;

	col_text_parser_init(&p, "test");
	/* the plugin prints X for Z (0x20) and W for I (0x80) */
	assert_int_equal(parse(&p, "  sh-1 [000]  1.000001: sched_switch: sh:1 [120] X ==> "
			       "kworker/0:1:9 [120]", &ev), 1);
	assert_int_equal(ev.state, DS_STATE_ZOMBIE);
	assert_string_equal(ev.next_comm, "kworker/0:1");
	assert_int_equal(ev.next_pid, 9);
	assert_int_equal(parse(&p, "  sh-1 [000]  1.000002: sched_switch: sh:1 [120] W ==> "
			       "a:2 [120]", &ev), 1);
	assert_int_equal(ev.state, DS_STATE_IDLE);
	assert_int_equal(p.plugin_switches, 2);
	assert_int_equal(p.kind, COL_TEXT_TRACE_CMD);
}

/* trace-cmd report -l: "comm8-pid  CPUflags ts:" without brackets */
static void test_latency_format(void **state)
{
	struct ds_event ev;

	assert_int_equal(parse1("inst: record-f-14518  11dN.2.  2996.601097: sched_wakeup_new: "
				"comm=record-fixtures pid=14522 prio=120 target_cpu=001", &ev), 1);
	assert_int_equal(ev.cpu, 11);
	assert_int_equal(ev.common_pid, 14518);
	assert_int_equal(ev.ts, 2996601097000ULL);
	assert_int_equal(ev.pid, 14522);
	/* digits glued to something that is not a flags column: not an event */
	assert_int_equal(parse1("x-1 12345678901: 1.0: sched_waking: comm=a pid=1 prio=1", &ev), 0);
}

static void test_fork_exit_migrate(void **state)
{
	struct ds_event ev;

	assert_int_equal(parse1(" sh-5 [001] .....  3.000000: sched_process_fork: comm=sh pid=5 "
				"child_comm=sh child_pid=6", &ev), 1);
	assert_int_equal(ev.pid, 5);
	assert_int_equal(ev.next_pid, 6);
	assert_int_equal(ev.prio, -1);
	assert_int_equal(parse1(" sh-6 [001] .....  3.000001: sched_process_exit: comm=sh pid=6 "
				"prio=120 group_dead=true", &ev), 1);
	assert_int_equal(ev.state, 1);
	assert_int_equal(parse1(" m-18 [000] d..5.  3.000002: sched_migrate_task: comm=sh pid=6 "
				"prio=120 orig_cpu=0 dest_cpu=1", &ev), 1);
	assert_int_equal(ev.orig_cpu, 0);
	assert_int_equal(ev.dest_cpu, 1);
}

static void test_lost_and_headers(void **state)
{
	struct col_text_parser p;
	struct ds_event ev;

	col_text_parser_init(&p, "test");
	assert_int_equal(parse(&p, "# entries-in-buffer/entries-written: 200/200   #P:4", &ev), 0);
	assert_int_equal(p.header_cpus, 4);
	assert_int_equal(parse(&p, "CPU:1 [LOST 463 EVENTS]", &ev), 1);
	assert_int_equal(ev.type, DS_EV_LOST);
	assert_int_equal(ev.cpu, 1);
	assert_int_equal(ev.state, 463);
	assert_int_equal(ev.ts, 0);
	assert_int_equal(parse(&p, "inst: CPU:0 [236 EVENTS DROPPED]", &ev), 1);
	assert_int_equal(ev.state, 236);
	assert_int_equal(parse(&p, "CPU:0 [EVENTS DROPPED]", &ev), 1);
	assert_int_equal(ev.state, -1);
	assert_int_equal(parse(&p, "cpus=8", &ev), 0);
	assert_int_equal(p.header_cpus, 8);
	assert_int_equal(p.skipped, 0);
	assert_int_equal(parse(&p, " a-1 [000] d.h2. 1.000000: irq_handler_entry: irq=1 name=x", &ev),
			 0);
	assert_int_equal(parse(&p, "hello world", &ev), 0);
	assert_int_equal(p.skipped, 2);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		/* pid not a number */
		" a-1 [000] 1.0: sched_switch: prev_comm=a prev_pid=1x prev_prio=1 prev_state=S "
		"==> next_comm=b next_pid=2 next_prio=1",
		/* unknown state letter */
		" a-1 [000] 1.0: sched_switch: prev_comm=a prev_pid=1 prev_prio=1 prev_state=K "
		"==> next_comm=b next_pid=2 next_prio=1",
		/* a field missing */
		" a-1 [000] 1.0: sched_switch: prev_comm=a prev_pid=1 prev_state=S "
		"==> next_comm=b next_pid=2 next_prio=1",
		/* comm longer than the kernel allows */
		" a-1 [000] 1.0: sched_waking: comm=abcdefghijklmnopq pid=1 prio=1 target_cpu=0",
		/* group_dead neither true nor false */
		" a-1 [000] 1.0: sched_process_exit: comm=a pid=1 prio=1 group_dead=maybe",
	};
	struct ds_event ev;

	sc_set_quiet(1);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(parse1(bad[i], &ev), -1);
	sc_set_quiet(0);
}

/* the prev_state of one sched_switch line: 0 and *v set, or -1 when refused */
static int switch_state(const char *letters, int64_t *v)
{
	char *line = xstrfmt("  x-1 [000] d..2.  1.000002: sched_switch: prev_comm=x prev_pid=5 "
			     "prev_prio=120 prev_state=%s ==> next_comm=y next_pid=6 next_prio=120",
			     letters);
	struct ds_event ev;
	int r;

	sc_set_quiet(1);
	r = parse1(line, &ev);
	sc_set_quiet(0);
	free(line);
	if (r != 1)
		return -1;
	*v = ev.state;
	return 0;
}

static void test_state_letters(void **state)
{
	int64_t v;

	assert_int_equal(switch_state("R", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(switch_state("R+", &v), 0);
	assert_int_equal(v, DS_STATE_PREEMPTED);
	assert_int_equal(switch_state("I", &v), 0);
	assert_int_equal(v, DS_STATE_IDLE);
	assert_int_equal(switch_state("D|T", &v), 0);
	assert_int_equal(v, DS_STATE_UNINTERRUPTIBLE | DS_STATE_STOPPED);
	assert_int_equal(switch_state("", &v), -1);
	assert_int_equal(switch_state("S|", &v), -1);
	assert_int_equal(switch_state("SD", &v), -1);
	assert_int_equal(switch_state("W", &v), -1);
}

/*
 * The format col_import() finds in a file that starts with head: what it
 * stores in stats before the importer runs (garbage after a good magic
 * fails later), -1 when it refuses the file as of no known kind.
 */
static int detect(const void *head, size_t len)
{
	char *in = unit_path("head"), *out = unit_path("head.h5");
	struct col_import_opts o = { .format = COL_IMPORT_AUTO };
	struct col_import_stats st;
	FILE *f = fopen(in, "w");
	int r;

	assert_non_null(f);
	assert_int_equal(fwrite(head, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	sc_set_quiet(1);
	r = col_import(in, out, &o, &st);
	sc_set_quiet(0);
	if (!r)
		assert_int_equal(unlink(out), 0);
	free(in), free(out);
	return st.format == COL_IMPORT_AUTO ? -1 : (int)st.format;
}

static void test_detect(void **state)
{
	static const unsigned char dat[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g',
					     '7', 0 };
	static const unsigned char bin[] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };

	assert_int_equal(detect(dat, sizeof(dat)), COL_IMPORT_TRACE_DAT);
	assert_int_equal(detect("PERFILE2xxxx", 12), COL_IMPORT_PERF_DATA);
	assert_int_equal(detect("# tracer: nop\n", 14), COL_IMPORT_TEXT);
	assert_int_equal(detect(bin, sizeof(bin)), -1);
	assert_int_equal(detect(bin, 0), -1);
	/* a comm's escape sequence does not make a text binary; a NUL does */
	assert_int_equal(detect(" a\033[31m-1 [000]\n", 16), COL_IMPORT_TEXT);
	assert_int_equal(detect("# tracer\0", 9), -1);
	assert_int_equal(detect("\x1f\x8b\x08", 3), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ftrace_switch),
		cmocka_unit_test(test_awkward_comms),
		cmocka_unit_test(test_layout_comms),
		cmocka_unit_test(test_wakeup_forms),
		cmocka_unit_test(test_plugin_switch_letters),
		cmocka_unit_test(test_latency_format),
		cmocka_unit_test(test_fork_exit_migrate),
		cmocka_unit_test(test_lost_and_headers),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_state_letters),
		cmocka_unit_test(test_detect),
	};

	return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
