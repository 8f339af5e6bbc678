// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of collect/decode.c without a kernel: the sched event formats
 * captured from this kernel (tests/data/formats/) are parsed with
 * tep_parse_event(), and records built here byte by byte, at the offsets the
 * format files give, are decoded and compared field by field (the method of
 * libtraceevent's own unit tests).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <traceevent/event-parse.h>

#include "common/common.h"
#include "collect/collect.h"

/* Tracepoint ids as in the captured formats ("ID:" lines). */
#define ID_MIGRATE 371
#define ID_SWITCH 372
#define ID_WAKEUP_NEW 373
#define ID_WAKEUP 374
#define ID_WAKING 375
#define ID_FORK 366
#define ID_EXIT 369

static const char *const format_names[] = {
	"sched_switch", "sched_wakeup", "sched_wakeup_new", "sched_waking",
	"sched_migrate_task", "sched_process_fork", "sched_process_exit",
};

static char *read_format(const char *name, size_t *size)
{
	const char *top = getenv("TEST_TOP");
	char *path = xstrfmt("%s/tests/data/formats/%s.format", top ? top : ".", name);
	struct strbuf sb = STRBUF_INIT;
	FILE *fp = fopen(path, "r");
	char buf[4096];
	size_t n;

	if (!fp)
		fail_msg("cannot open %s (run from the top of the tree)", path);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(fp);
	free(path);
	return strbuf_detach(&sb, size);
}

/* A tep holding the formats named in mask (bits = index in format_names). */
static struct tep_handle *make_tep(unsigned int mask, int big_endian)
{
	struct tep_handle *tep = tep_alloc();

	tep_set_file_bigendian(tep, big_endian ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(tep, TEP_LITTLE_ENDIAN);
	tep_set_long_size(tep, 8);
	for (size_t i = 0; i < ARRAY_SIZE(format_names); i++) {
		size_t size;
		char *buf;

		if (!(mask & (1u << i)))
			continue;
		buf = read_format(format_names[i], &size);
		assert_int_equal(tep_parse_event(tep, buf, size, "sched"), 0);
		free(buf);
	}
	return tep;
}

/* ---- building records ------------------------------------------------------ */

struct rec {
	unsigned char b[256];
	int size;
	int big;
};

static void put(struct rec *r, int off, int size, uint64_t v)
{
	for (int i = 0; i < size; i++) {
		int shift = r->big ? (size - 1 - i) * 8 : i * 8;

		r->b[off + i] = (unsigned char)(v >> shift);
	}
	if (off + size > r->size)
		r->size = off + size;
}

static void put_str(struct rec *r, int off, int size, const char *s)
{
	memset(r->b + off, 0, (size_t)size);
	memcpy(r->b + off, s, SC_MIN(strlen(s), (size_t)size));
	if (off + size > r->size)
		r->size = off + size;
}

/* A __data_loc string at the end of the record; its descriptor at desc_off. */
static void put_loc(struct rec *r, int desc_off, int data_off, const char *s)
{
	int len = (int)strlen(s) + 1;

	put(r, desc_off, 4, (uint64_t)len << 16 | (uint64_t)data_off);
	memcpy(r->b + data_off, s, (size_t)len);
	if (data_off + len > r->size)
		r->size = data_off + len;
}

static void common(struct rec *r, int id, int pid, int big)
{
	memset(r, 0, sizeof(*r));
	r->big = big;
	put(r, 0, 2, (uint64_t)id);	/* common_type */
	put(r, 2, 1, 1);		/* common_flags */
	put(r, 3, 1, 0);		/* common_preempt_count */
	put(r, 4, 4, (uint32_t)pid);	/* common_pid */
}

static int decode(struct col_decoder *d, struct rec *r, uint64_t ts, int cpu,
		  struct ds_event *ev)
{
	struct tep_record tr = { .ts = ts, .cpu = cpu, .data = r->b, .size = r->size };

	return col_decode(d, &tr, ev);
}

static void build_switch(struct rec *r, int big)
{
	common(r, ID_SWITCH, 1234, big);
	put_str(r, 8, 16, "bash");
	put(r, 24, 4, 1234);
	put(r, 28, 4, 120);
	put(r, 32, 8, DS_STATE_PREEMPTED);
	put_str(r, 40, 16, "exactly16chars!!");	/* no NUL in the record */
	put(r, 56, 4, 77);
	put(r, 60, 4, 98);
}

/* ---- tests -------------------------------------------------------------------- */

static void test_switch(void **state)
{
	struct tep_handle *tep = make_tep(0x7f, 0);
	struct col_decoder *d = col_decoder_new(tep);
	struct ds_event ev;
	struct rec r;

	assert_non_null(d);
	assert_int_equal(col_decoder_events(d), DS_EV_ALL_SCHED);
	assert_int_equal(col_decoder_event_id(d, DS_EV_SWITCH), ID_SWITCH);
	assert_int_equal(col_decoder_event_id(d, DS_EV_FORK), ID_FORK);
	assert_int_equal(col_decoder_event_id(d, DS_EV_LOST), -1);

	build_switch(&r, 0);
	assert_int_equal(decode(d, &r, 5000, 1, &ev), 1);
	assert_int_equal(ev.type, DS_EV_SWITCH);
	assert_int_equal(ev.ts, 5000);
	assert_int_equal(ev.cpu, 1);
	assert_int_equal(ev.common_pid, 1234);
	assert_int_equal(ev.pid, 1234);
	assert_int_equal(ev.prio, 120);
	assert_int_equal(ev.state, DS_STATE_PREEMPTED);
	assert_true(ds_state_runnable(ev.state));
	assert_int_equal(ev.next_pid, 77);
	assert_int_equal(ev.next_prio, 98);
	assert_string_equal(ev.comm, "bash");
	assert_string_equal(ev.next_comm, "exactly16chars!");	/* 15 kept */
	assert_int_equal(ev.target_cpu, -1);
	assert_int_equal(ev.orig_cpu, -1);
	assert_int_equal(ev.dest_cpu, -1);

	/* prev_state D (uninterruptible) is stored raw */
	put(&r, 32, 8, DS_STATE_UNINTERRUPTIBLE);
	assert_int_equal(decode(d, &r, 5001, 0, &ev), 1);
	assert_int_equal(ev.state, DS_STATE_UNINTERRUPTIBLE);
	assert_false(ds_state_runnable(ev.state));

	col_decoder_free(d);
	tep_free(tep);
}

static void test_wakeups(void **state)
{
	static const struct { int id, type; } w[] = {
		{ ID_WAKEUP, DS_EV_WAKEUP }, { ID_WAKEUP_NEW, DS_EV_WAKEUP_NEW },
		{ ID_WAKING, DS_EV_WAKING },
	};
	struct tep_handle *tep = make_tep(0x7f, 0);
	struct col_decoder *d = col_decoder_new(tep);
	struct ds_event ev;
	struct rec r;

	for (size_t i = 0; i < ARRAY_SIZE(w); i++) {
		common(&r, w[i].id, 0, 0);	/* woken from the idle task */
		put_str(&r, 8, 16, "sleeper");
		put(&r, 24, 4, 4321);
		put(&r, 28, 4, 139);
		put(&r, 32, 4, 1);
		assert_int_equal(decode(d, &r, 42, 0, &ev), 1);
		assert_int_equal(ev.type, w[i].type);
		assert_int_equal(ev.common_pid, 0);
		assert_int_equal(ev.pid, 4321);
		assert_int_equal(ev.prio, 139);
		assert_int_equal(ev.target_cpu, 1);
		assert_int_equal(ev.state, -1);
		assert_int_equal(ev.next_pid, -1);
		assert_string_equal(ev.comm, "sleeper");
		assert_string_equal(ev.next_comm, "");
	}
	col_decoder_free(d);
	tep_free(tep);
}

static void test_migrate_data_loc(void **state)
{
	struct tep_handle *tep = make_tep(0x7f, 0);
	struct col_decoder *d = col_decoder_new(tep);
	struct ds_event ev;
	struct rec r;

	common(&r, ID_MIGRATE, 17, 0);
	put(&r, 12, 4, 555);	/* pid */
	put(&r, 16, 4, 120);	/* prio */
	put(&r, 20, 4, 0);	/* orig_cpu */
	put(&r, 24, 4, 1);	/* dest_cpu */
	put_loc(&r, 8, 28, "kworker/0:1H");
	assert_int_equal(decode(d, &r, 7, 0, &ev), 1);
	assert_int_equal(ev.type, DS_EV_MIGRATE);
	assert_int_equal(ev.common_pid, 17);
	assert_int_equal(ev.pid, 555);
	assert_int_equal(ev.prio, 120);
	assert_int_equal(ev.orig_cpu, 0);
	assert_int_equal(ev.dest_cpu, 1);
	assert_string_equal(ev.comm, "kworker/0:1H");

	/* a string longer than a comm is cut to 15 characters */
	put_loc(&r, 8, 28, "a-name-far-longer-than-sixteen");
	assert_int_equal(decode(d, &r, 8, 0, &ev), 1);
	assert_string_equal(ev.comm, "a-name-far-long");

	col_decoder_free(d);
	tep_free(tep);
}

static void test_fork_exit(void **state)
{
	struct tep_handle *tep = make_tep(0x7f, 0);
	struct col_decoder *d = col_decoder_new(tep);
	struct ds_event ev;
	struct rec r;

	common(&r, ID_FORK, 900, 0);
	put(&r, 12, 4, 900);	/* parent_pid */
	put(&r, 20, 4, 901);	/* child_pid */
	put_loc(&r, 8, 24, "parent");
	put_loc(&r, 16, 31, "parent");	/* the child inherits the comm */
	assert_int_equal(decode(d, &r, 100, 1, &ev), 1);
	assert_int_equal(ev.type, DS_EV_FORK);
	assert_int_equal(ev.pid, 900);
	assert_int_equal(ev.next_pid, 901);
	assert_int_equal(ev.prio, -1);
	assert_int_equal(ev.state, -1);
	assert_string_equal(ev.comm, "parent");
	assert_string_equal(ev.next_comm, "parent");

	common(&r, ID_EXIT, 901, 0);
	put_str(&r, 8, 16, "child");
	put(&r, 24, 4, 901);
	put(&r, 28, 4, 120);
	put(&r, 32, 1, 1);	/* group_dead */
	assert_int_equal(decode(d, &r, 200, 1, &ev), 1);
	assert_int_equal(ev.type, DS_EV_EXIT);
	assert_int_equal(ev.pid, 901);
	assert_int_equal(ev.prio, 120);
	assert_int_equal(ev.state, 1);
	assert_string_equal(ev.comm, "child");
	put(&r, 32, 1, 0);
	assert_int_equal(decode(d, &r, 201, 1, &ev), 1);
	assert_int_equal(ev.state, 0);

	col_decoder_free(d);
	tep_free(tep);
}

static void test_other_and_bad_records(void **state)
{
	struct tep_handle *tep = make_tep(0x7f, 0);
	struct col_decoder *d = col_decoder_new(tep);
	struct ds_event ev, keep;
	struct rec r;

	memset(&keep, 0x5a, sizeof(keep));
	ev = keep;

	/* another event: 0, ev untouched */
	common(&r, 9999, 1, 0);
	put(&r, 8, 8, 0);
	assert_int_equal(decode(d, &r, 1, 0, &ev), 0);
	assert_memory_equal(&ev, &keep, sizeof(ev));

	/* a sched_switch cut short: -1 */
	build_switch(&r, 0);
	r.size = 50;
	assert_int_equal(decode(d, &r, 1, 0, &ev), -1);
	assert_memory_equal(&ev, &keep, sizeof(ev));

	/* shorter than the common header */
	r.size = 1;
	assert_int_equal(decode(d, &r, 1, 0, &ev), -1);

	/* a __data_loc pointing past the end */
	common(&r, ID_MIGRATE, 17, 0);
	put(&r, 12, 4, 555);
	put(&r, 16, 4, 120);
	put(&r, 20, 4, 0);
	put(&r, 24, 4, 1);
	put_loc(&r, 8, 28, "abc");
	put(&r, 8, 4, (uint64_t)200 << 16 | 28);
	assert_int_equal(decode(d, &r, 1, 0, &ev), -1);
	assert_memory_equal(&ev, &keep, sizeof(ev));

	col_decoder_free(d);
	tep_free(tep);
}

static void test_subset_and_empty(void **state)
{
	/* only sched_switch and sched_process_exit known */
	struct tep_handle *tep = make_tep(1u << 0 | 1u << 6, 0);
	struct col_decoder *d = col_decoder_new(tep);
	struct ds_event ev;
	struct rec r;

	assert_non_null(d);
	assert_int_equal(col_decoder_events(d), DS_EV_BIT(DS_EV_SWITCH) | DS_EV_BIT(DS_EV_EXIT));
	assert_int_equal(col_decoder_event_id(d, DS_EV_WAKING), -1);
	common(&r, ID_WAKING, 0, 0);
	r.size = 36;
	assert_int_equal(decode(d, &r, 1, 0, &ev), 0);
	col_decoder_free(d);
	tep_free(tep);

	/* no sched events at all: NULL with a message */
	tep = tep_alloc();
	sc_set_quiet(1);
	assert_null(col_decoder_new(tep));
	sc_set_quiet(0);
	tep_free(tep);
}

/* Any tep: a big-endian file (as a trace.dat from another machine) decodes the same. */
static void test_big_endian(void **state)
{
	struct tep_handle *tep = make_tep(0x7f, 1);
	struct col_decoder *d = col_decoder_new(tep);
	struct ds_event ev;
	struct rec r;

	build_switch(&r, 1);
	assert_int_equal(decode(d, &r, 9, 0, &ev), 1);
	assert_int_equal(ev.type, DS_EV_SWITCH);
	assert_int_equal(ev.pid, 1234);
	assert_int_equal(ev.state, DS_STATE_PREEMPTED);
	assert_int_equal(ev.next_pid, 77);
	assert_int_equal(ev.next_prio, 98);

	common(&r, ID_FORK, 900, 1);
	put(&r, 12, 4, 900);
	put(&r, 20, 4, 901);
	put_loc(&r, 8, 24, "p");
	put_loc(&r, 16, 26, "c");
	assert_int_equal(decode(d, &r, 10, 0, &ev), 1);
	assert_int_equal(ev.next_pid, 901);
	assert_string_equal(ev.comm, "p");
	assert_string_equal(ev.next_comm, "c");
	col_decoder_free(d);
	tep_free(tep);
}

/* Negative numbers (a prio of -1 for deadline tasks, say) are sign-extended. */
static void test_signed(void **state)
{
	struct tep_handle *tep = make_tep(0x7f, 0);
	struct col_decoder *d = col_decoder_new(tep);
	struct ds_event ev;
	struct rec r;

	build_switch(&r, 0);
	put(&r, 28, 4, (uint32_t)-1);
	assert_int_equal(decode(d, &r, 1, 0, &ev), 1);
	assert_int_equal(ev.prio, -1);
	col_decoder_free(d);
	tep_free(tep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_wakeups),
		cmocka_unit_test(test_migrate_data_loc),
		cmocka_unit_test(test_fork_exit),
		cmocka_unit_test(test_other_and_bad_records),
		cmocka_unit_test(test_subset_and_empty),
		cmocka_unit_test(test_big_endian),
		cmocka_unit_test(test_signed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
