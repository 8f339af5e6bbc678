// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the trace file format: round trips and every bad-file case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "data/ds.h"
#include "data/trace.h"
#include "tests/unit/unit-test.h"

/* event_equal - all fields equal (comms compared as strings) */
static int event_equal(const struct ds_event *a, const struct ds_event *b)
{
	return a->ts == b->ts && a->state == b->state && a->cpu == b->cpu &&
	       a->common_pid == b->common_pid && a->pid == b->pid && a->prio == b->prio &&
	       a->next_pid == b->next_pid && a->next_prio == b->next_prio &&
	       a->target_cpu == b->target_cpu && a->orig_cpu == b->orig_cpu &&
	       a->dest_cpu == b->dest_cpu && a->type == b->type &&
	       !strncmp(a->comm, b->comm, DS_COMM_LEN) &&
	       !strncmp(a->next_comm, b->next_comm, DS_COMM_LEN);
}

/* Event i of a deterministic stream covering every type and field. */
static void make_event(struct ds_event *ev, uint64_t i)
{
	int type = (int)(i % DS_EV_MAX);

	ds_event_init(ev, type, 1000 + i * 17, (int)(i % 4));
	ev->common_pid = (int32_t)(100 + i % 13);
	switch (type) {
	case DS_EV_SWITCH:
		ev->pid = (int32_t)(100 + i % 13);
		ev->prio = 120;
		ev->state = (i % 3 == 0) ? DS_STATE_PREEMPTED : DS_STATE_INTERRUPTIBLE;
		ev->next_pid = (int32_t)(200 + i % 7);
		ev->next_prio = 139 - (int)(i % 40);
		snprintf(ev->comm, DS_COMM_LEN, "task-%d", (int)(i % 13));
		snprintf(ev->next_comm, DS_COMM_LEN, "longname-exactly");	/* truncated to 15 */
		break;
	case DS_EV_MIGRATE:
		ev->pid = 300;
		ev->prio = 100;
		ev->orig_cpu = 1;
		ev->dest_cpu = 3;
		snprintf(ev->comm, DS_COMM_LEN, "mig");
		break;
	case DS_EV_FORK:
		ev->pid = 1;
		ev->next_pid = (int32_t)(5000 + i);
		snprintf(ev->comm, DS_COMM_LEN, "init");
		snprintf(ev->next_comm, DS_COMM_LEN, "child");
		break;
	case DS_EV_EXIT:
		ev->pid = (int32_t)(5000 + i);
		ev->prio = 120;
		ev->state = 1;
		snprintf(ev->comm, DS_COMM_LEN, "child");
		break;
	case DS_EV_LOST:
		ev->state = 5;
		break;
	default:	/* wakeups */
		ev->pid = (int32_t)(100 + i % 13);
		ev->prio = 120;
		ev->target_cpu = (int32_t)((i + 1) % 4);
		snprintf(ev->comm, DS_COMM_LEN, "task-%d", (int)(i % 13));
	}
}

static struct ds_trace_meta test_meta(void)
{
	struct ds_trace_meta m = { .nr_cpus = 4, .events_recorded = DS_EV_ALL_SCHED };

	snprintf(m.source, sizeof(m.source), "synthetic");
	snprintf(m.kernel_release, sizeof(m.kernel_release), "6.1.0-test");
	snprintf(m.clock, sizeof(m.clock), "local");
	snprintf(m.command_line, sizeof(m.command_line), "test-trace");
	return m;
}

static void write_trace(const char *path, uint64_t n)
{
	struct ds_trace_meta m = test_meta();
	struct ds_trace_writer *w = ds_trace_create(path, &m);
	struct ds_event ev;

	assert_non_null(w);
	for (uint64_t i = 0; i < n; i++) {
		make_event(&ev, i);
		assert_int_equal(ds_trace_write(w, &ev), 0);
	}
	ds_trace_add_lost(w, 2, 7);
	ds_trace_set_tgid(w, 300, 299);
	assert_int_equal(ds_trace_writer_close(w, NULL), 0);
}

static void test_round_trip(void **state)
{
	char *path = unit_path("rt.h5");
	const uint64_t n = 100003;	/* several blocks, not a multiple of any */
	struct ds_trace_reader *r;
	const struct ds_trace_meta *m;
	const struct ds_task *tasks;
	struct ds_event ev, want;
	uint64_t i = 0, nt;
	int found_mig = 0;

	write_trace(path, n);
	r = ds_trace_open(path);
	assert_non_null(r);
	m = ds_trace_meta(r);
	assert_true(m->nr_events == n);
	assert_int_equal(m->nr_cpus, 4);
	assert_string_equal(m->source, "synthetic");
	assert_string_equal(m->kernel_release, "6.1.0-test");
	assert_true(m->events_recorded == DS_EV_ALL_SCHED);
	for (int t = 0; t < DS_EV_MAX; t++)
		assert_true(m->count_by_type[t] == n / DS_EV_MAX + (t < (int)(n % DS_EV_MAX)));
	/* lost: markers of 5 on the LOST events' CPUs plus 7 on cpu 2 */
	assert_true(m->lost_total == 5 * m->count_by_type[DS_EV_LOST] + 7);
	while (ds_trace_next(r, &ev) == 1) {
		make_event(&want, i);
		want.comm[DS_COMM_LEN - 1] = want.next_comm[DS_COMM_LEN - 1] = '\0';
		assert_true(event_equal(&ev, &want));
		i++;
	}
	assert_true(i == n);
	ds_trace_close(r);	/* a second reader starts at the first event */
	r = ds_trace_open(path);
	assert_non_null(r);
	assert_int_equal(ds_trace_next(r, &ev), 1);
	assert_true(ev.ts == 1000);
	tasks = ds_trace_tasks(r, &nt);
	assert_true(nt > 13);
	for (uint64_t k = 0; k < nt; k++) {
		if (tasks[k].pid == 300) {
			assert_int_equal(tasks[k].tgid, 299);
			assert_string_equal(tasks[k].comm, "mig");
			found_mig = 1;
		}
	}
	assert_true(found_mig);
	ds_trace_close(r);
	free(path);
}

/* Level 0 (no deflate) and level 9 read back the same events as the default. */
static void test_compression_levels(void **state)
{
	int levels[] = { 0, 9 };

	for (size_t k = 0; k < ARRAY_SIZE(levels); k++) {
		char *path = xstrfmt("%s/level%d.h5", unit_dir, levels[k]);
		struct ds_trace_meta m = test_meta();
		struct ds_trace_writer *w = ds_trace_create(path, &m);
		struct ds_trace_reader *r;
		struct ds_event ev, want;
		uint64_t i = 0;

		assert_non_null(w);
		ds_trace_set_compression(w, levels[k]);
		for (uint64_t j = 0; j < 20000; j++) {
			make_event(&ev, j);
			assert_int_equal(ds_trace_write(w, &ev), 0);
		}
		assert_int_equal(ds_trace_writer_close(w, NULL), 0);
		r = ds_trace_open(path);
		assert_non_null(r);
		while (ds_trace_next(r, &ev) == 1) {
			make_event(&want, i++);
			want.comm[DS_COMM_LEN - 1] = want.next_comm[DS_COMM_LEN - 1] = '\0';
			assert_true(event_equal(&ev, &want));
		}
		assert_true(i == 20000);
		ds_trace_close(r);
		free(path);
	}
}

/*
 * The background writer's spool: the default (0) holds 16 batches and the
 * writer never queues more; a spool larger than the whole stream never makes
 * the caller wait, whatever the thread's speed.  Both write the same events.
 */
static void test_background_spool(void **state)
{
	const uint64_t n = 300000;	/* about 74 batches of 4096 */
	uint64_t spools[] = { 0, 1ULL << 30 };

	for (size_t k = 0; k < ARRAY_SIZE(spools); k++) {
		char *path = xstrfmt("%s/spool%zu.h5", unit_dir, k);
		struct ds_trace_meta m = test_meta();
		struct ds_trace_writer *w = ds_trace_create(path, &m);
		struct ds_trace_spool_stats st;
		struct ds_trace_reader *r;
		struct ds_event ev, want;
		uint64_t i = 0;

		assert_non_null(w);
		ds_trace_spool_stats(w, &st);
		assert_true(st.limit_bytes == 0 && st.peak_bytes == 0);	/* not yet */
		ds_trace_set_background(w, spools[k]);
		for (uint64_t j = 0; j < n; j++) {
			make_event(&ev, j);
			assert_int_equal(ds_trace_write(w, &ev), 0);
		}
		ds_trace_spool_stats(w, &st);
		if (!spools[k]) {
			/* 16 batches of 4096 events */
			assert_true(st.limit_bytes >= 16 * 4096 * sizeof(struct ds_event));
			assert_true(st.limit_bytes < 17 * 4096 * sizeof(struct ds_event));
		} else {
			assert_true(st.limit_bytes <= spools[k]);
			assert_true(st.limit_bytes > spools[k] - 4097 * sizeof(struct ds_event));
			assert_true(st.waits == 0 && st.wait_ns == 0);
		}
		assert_true(st.peak_bytes > 0 && st.peak_bytes <= st.limit_bytes);
		assert_int_equal(ds_trace_writer_close(w, NULL), 0);
		r = ds_trace_open(path);
		assert_non_null(r);
		while (ds_trace_next(r, &ev) == 1) {
			make_event(&want, i++);
			want.comm[DS_COMM_LEN - 1] = want.next_comm[DS_COMM_LEN - 1] = '\0';
			assert_true(event_equal(&ev, &want));
		}
		assert_true(i == n);
		ds_trace_close(r);
		unlink(path);
		free(path);
	}
}

static void test_reorder_window(void **state)
{
	char *path = unit_path("reorder.h5");
	struct ds_trace_meta m = test_meta();
	struct ds_trace_writer *w = ds_trace_create(path, &m);
	struct ds_trace_reader *r;
	struct ds_event ev;
	uint64_t last = 0, n = 0;

	/* two per-CPU streams interleaved in blocks of 1000, out of order */
	for (int blk = 0; blk < 20; blk++) {
		for (int cpu = 0; cpu < 2; cpu++) {
			for (int k = 0; k < 1000; k++) {
				ds_event_init(&ev, DS_EV_WAKING, (uint64_t)(blk * 1000 + k) * 10 + cpu, cpu);
				ev.pid = k;
				assert_int_equal(ds_trace_write(w, &ev), 0);
			}
		}
	}
	assert_int_equal(ds_trace_writer_close(w, NULL), 0);
	r = ds_trace_open(path);
	assert_non_null(r);
	while (ds_trace_next(r, &ev) == 1) {
		assert_true(ev.ts >= last);
		last = ev.ts;
		n++;
	}
	assert_true(n == 40000);
	ds_trace_close(r);
	free(path);
}

static void test_too_far_out_of_order(void **state)
{
	char *path = unit_path("ooo.h5");
	struct ds_trace_meta m = test_meta();
	struct ds_trace_writer *w = ds_trace_create(path, &m);
	struct ds_event ev;
	int ret = 0;

	sc_set_quiet(1);
	for (uint64_t i = 0; i < DS_REORDER_WINDOW + 10 && !ret; i++) {
		ds_event_init(&ev, DS_EV_WAKING, 1000000 + i, 0);
		ret = ds_trace_write(w, &ev);
	}
	ds_event_init(&ev, DS_EV_WAKING, 5, 0);	/* older than what was flushed */
	ds_trace_write(w, &ev);
	for (uint64_t i = 0; i < DS_REORDER_WINDOW && !ret; i++) {
		ds_event_init(&ev, DS_EV_WAKING, 2000000 + i, 0);
		ret = ds_trace_write(w, &ev);
	}
	assert_int_equal(ret, -1);
	assert_int_equal(ds_trace_writer_close(w, NULL), -1);
	sc_set_quiet(0);
	assert_int_equal(access(path, F_OK), -1);	/* no half file */
	free(path);
}

static void test_empty_trace(void **state)
{
	char *path = unit_path("empty.h5");
	struct ds_trace_meta m = test_meta();
	struct ds_trace_writer *w = ds_trace_create(path, &m);
	struct ds_trace_reader *r;
	struct ds_event ev;

	assert_int_equal(ds_trace_writer_close(w, NULL), 0);
	r = ds_trace_open(path);
	assert_non_null(r);
	assert_int_equal(ds_trace_next(r, &ev), 0);
	ds_trace_close(r);
	free(path);
}

static void test_abort_leaves_nothing(void **state)
{
	char *path = unit_path("aborted.h5");
	struct ds_trace_meta m = test_meta();
	struct ds_trace_writer *w = ds_trace_create(path, &m);
	struct ds_event ev;

	make_event(&ev, 0);
	ds_trace_write(w, &ev);
	ds_trace_writer_abort(w);
	assert_int_equal(access(path, F_OK), -1);
	free(path);
}

static void write_bytes(const char *path, const void *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_true(write(fd, buf, n) == (ssize_t)n);
	close(fd);
}

static void expect_open_fails(const char *path)
{
	sc_set_quiet(1);
	assert_null(ds_trace_open(path));
	sc_set_quiet(0);
}

static void test_bad_files(void **state)
{
	char *good = unit_path("good.h5"), *p;
	struct stat st;
	char *buf;
	int fd;

	write_trace(good, 5000);
	/* missing */
	p = unit_path("missing.h5");
	expect_open_fails(p);
	free(p);
	/* empty */
	p = unit_path("zero.h5");
	write_bytes(p, "", 0);
	expect_open_fails(p);
	free(p);
	/* garbage */
	p = unit_path("garbage.h5");
	write_bytes(p, "this is not hdf5 at all\n", 24);
	expect_open_fails(p);
	free(p);
	/* directory */
	expect_open_fails(unit_dir);
	/* truncated at several points */
	assert_int_equal(stat(good, &st), 0);
	buf = xmalloc((size_t)st.st_size);
	fd = open(good, O_RDONLY);
	assert_true(read(fd, buf, (size_t)st.st_size) == st.st_size);
	close(fd);
	for (int k = 1; k < 8; k++) {
		struct ds_trace_reader *r;
		struct ds_event ev;
		int ret = 1;

		p = unit_path("trunc.h5");
		write_bytes(p, buf, (size_t)st.st_size * (size_t)k / 8);
		sc_set_quiet(1);
		r = ds_trace_open(p);
		if (r) {	/* metadata intact: reading the events must fail, not crash */
			while ((ret = ds_trace_next(r, &ev)) == 1)
				;
			ds_trace_close(r);
		}
		sc_set_quiet(0);
		assert_true(!r || ret == -1);
		free(p);
	}
	free(buf);
	free(good);
}

static void test_wrong_format_and_version(void **state)
{
	char *p = unit_path("other.h5");
	struct ds_file *f = ds_create(p, "schedcast-windows", 1);
	int v;

	assert_non_null(f);
	assert_int_equal(ds_commit(f), 0);
	expect_open_fails(p);
	free(p);
	p = unit_path("newer.h5");
	f = ds_create(p, DS_TRACE_FORMAT, DS_TRACE_VERSION + 1);
	assert_int_equal(ds_commit(f), 0);
	expect_open_fails(p);
	assert_int_equal(ds_identify(p, (char[64]){ 0 }, 64, &v), 0);
	assert_int_equal(v, DS_TRACE_VERSION + 1);
	free(p);
}

static void test_ds_arrays(void **state)
{
	char *p = unit_path("arrays.h5");
	struct ds_file *f = ds_create(p, "schedcast-test", 1);
	int16_t a[3][5];
	uint64_t dims[2] = { 3, 5 }, got[4];
	const char *names[] = { "alpha", "beta", "" };
	char **rn, *s;
	uint64_t nn;
	int16_t *back;
	static const struct ds_table_spec rows_spec = {
		.type = DS_I32, .rank = 2, .inner = { 4 }, .deflate = 4,
	};
	struct ds_table *tb;
	int32_t row[4], rows[4];
	int64_t iv;

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 5; j++)
			a[i][j] = (int16_t)(i * 100 - j);
	assert_int_equal(ds_write_array(f, "params/w", DS_I16, 2, dims, a), 0);
	assert_int_equal(ds_attr_set_str(f, "params/w", "qformat", "Q3.12"), 0);
	assert_int_equal(ds_attr_set_int(f, NULL, "hidden", 32), 0);
	assert_int_equal(ds_write_strings(f, "names", names, 3), 0);
	tb = ds_table_create(f, "rows", &rows_spec);
	assert_non_null(tb);
	for (int i = 0; i < 100000; i++) {
		for (int j = 0; j < 4; j++)
			row[j] = i * 4 + j;
		assert_int_equal(ds_table_append(tb, row, 1), 0);
	}
	assert_int_equal(ds_table_rows(tb), 100000);
	assert_int_equal(ds_table_close(tb), 0);
	assert_int_equal(ds_commit(f), 0);

	f = ds_open(p, "schedcast-test", 1, NULL);
	assert_non_null(f);
	assert_int_equal(ds_read_array(f, "params/w", DS_I16, 2, got, (void **)&back, 1000), 0);
	assert_true(got[0] == 3 && got[1] == 5);
	assert_memory_equal(back, a, sizeof(a));
	free(back);
	sc_set_quiet(1);
	assert_int_equal(ds_read_array(f, "params/w", DS_I16, 2, got, (void **)&back, 10), -1);
	assert_int_equal(ds_read_array(f, "params/w", DS_I16, 1, got, (void **)&back, 1000), -1);
	assert_int_equal(ds_attr_get_int(f, NULL, "nope", &iv), -1);
	sc_set_quiet(0);
	assert_int_equal(ds_attr_get_str(f, "params/w", "qformat", &s), 0);
	assert_string_equal(s, "Q3.12");
	free(s);
	assert_int_equal(ds_attr_get_int(f, NULL, "hidden", &iv), 0);
	assert_int_equal(iv, 32);
	assert_int_equal(ds_read_strings(f, "names", &rn, &nn, 10), 0);
	assert_true(nn == 3);
	assert_string_equal(rn[1], "beta");
	assert_string_equal(rn[2], "");
	ds_free_strings(rn, nn);
	assert_int_equal(ds_array_dims(f, "rows", got, 2), 2);
	assert_true(got[0] == 100000 && got[1] == 4);
	tb = ds_table_open(f, "rows", &rows_spec, 100000);
	assert_non_null(tb);
	assert_int_equal(ds_table_read(tb, 54321, 1, rows), 0);
	assert_int_equal(rows[3], 54321 * 4 + 3);
	sc_set_quiet(1);
	assert_int_equal(ds_table_read(tb, 99999, 2, rows), -1);
	sc_set_quiet(0);
	ds_table_close(tb);
	ds_close(f);
	free(p);
}

/* A row with every kind of column: numbers, an enum, a string, an array. */
struct trow {
	uint64_t ts;
	uint8_t kind;
	char name[6];
	int16_t v[3];
	double x;
};

static const char *const kind_names[] = { "zero", "one", "two", NULL };
static const char *const ts_attrs[] = { "units", "ns", NULL };

static const struct ds_column trow_cols[] = {
	{ .name = "ts", .type = DS_U64, .offset = offsetof(struct trow, ts), .attrs = ts_attrs },
	{ .name = "kind", .type = DS_U8, .offset = offsetof(struct trow, kind),
	  .enum_names = kind_names },
	DS_COLUMN_N(struct trow, name, DS_STR, 6),
	DS_COLUMN_N(struct trow, v, DS_I16, 3),
	DS_COLUMN(struct trow, x, DS_F64),
};

/* a reader that wants two of the columns, in another order, into its own struct */
struct trow_part {
	double x;
	uint64_t ts;
};

static const struct ds_column part_cols[] = {
	DS_COLUMN(struct trow_part, x, DS_F64),
	DS_COLUMN(struct trow_part, ts, DS_U64),
};

static void make_trow(struct trow *r, uint64_t i)
{
	memset(r, 0, sizeof(*r));
	r->ts = 1000 + i;
	r->kind = (uint8_t)(i % 3);
	snprintf(r->name, sizeof(r->name), "r%llu", (unsigned long long)(i % 1000));
	for (int j = 0; j < 3; j++)
		r->v[j] = (int16_t)(i * 3 + j);
	r->x = (double)i / 4;
}

static void test_tables(void **state)
{
	char *p = unit_path("tables.h5");
	struct ds_table_spec spec = {
		.cols = trow_cols, .ncols = ARRAY_SIZE(trow_cols), .row_size = sizeof(struct trow),
		.deflate = 1, .chunk_rows = 1000,
	};
	const struct ds_table_spec part = {
		.cols = part_cols, .ncols = ARRAY_SIZE(part_cols),
		.row_size = sizeof(struct trow_part),
	};
	const struct ds_table_spec cube = { .type = DS_I16, .rank = 3, .inner = { 2, 3 } };
	const uint64_t n = 2500;
	struct ds_file *f = ds_create(p, "schedcast-test", 1);
	struct ds_table *t;
	struct trow r, back[3], *all;
	struct trow_part pr[2];
	int16_t c[2][2][3], cb[2][3];
	uint64_t got;
	char *s;

	for (int layout = 0; layout < 2; layout++) {
		spec.layout = layout ? DS_LAYOUT_NATIVE : DS_LAYOUT_PACKED;
		t = ds_table_create(f, layout ? "native/rows" : "packed/rows", &spec);
		assert_non_null(t);
		for (uint64_t i = 0; i < n; i++) {
			make_trow(&r, i);
			assert_int_equal(ds_table_append(t, &r, 1), 0);
		}
		assert_int_equal(ds_table_close(t), 0);
	}
	for (int i = 0; i < 2 * 2 * 3; i++)
		((int16_t *)c)[i] = (int16_t)(i - 5);
	assert_int_equal(ds_table_write(f, "cube", &cube, c, 2), 0);
	assert_int_equal(ds_table_write(f, "empty", &spec, NULL, 0), 0);
	assert_int_equal(ds_commit(f), 0);
	assert_int_equal(unit_h5_open_objects(), 0);

	f = ds_open(p, "schedcast-test", 1, NULL);
	assert_non_null(f);
	for (int layout = 0; layout < 2; layout++) {
		const char *name = layout ? "native/rows" : "packed/rows";

		t = ds_table_open(f, name, &spec, n);
		assert_non_null(t);
		assert_int_equal(ds_table_rows(t), n);
		/* the reader fills the columns, not the struct's padding */
		memset(back, 0, sizeof(back));
		assert_int_equal(ds_table_read(t, 1998, 3, back), 0);
		for (int i = 0; i < 3; i++) {
			make_trow(&r, 1998 + (uint64_t)i);
			assert_memory_equal(&back[i], &r, sizeof(r));
		}
		ds_table_close(t);
		/* a subset of the columns, in another order and struct */
		t = ds_table_open(f, name, &part, n);
		assert_non_null(t);
		assert_int_equal(ds_table_read(t, n - 2, 2, pr), 0);
		assert_true(pr[1].ts == 1000 + n - 1 && pr[1].x == (double)(n - 1) / 4);
		ds_table_close(t);
		assert_int_equal(ds_table_read_all(f, name, &spec, (void **)&all, &got, n), 0);
		assert_int_equal(got, n);
		make_trow(&r, 7);
		assert_memory_equal(&all[7], &r, sizeof(r));
		free(all);
		assert_int_equal(ds_attr_get_str(f, name, "ts.units", &s), 0);
		assert_string_equal(s, "ns");
		free(s);
	}
	assert_int_equal(ds_table_read_all(f, "cube", &cube, (void **)&all, &got, 10), 0);
	assert_int_equal(got, 2);
	assert_memory_equal(all, c, sizeof(c));
	free(all);
	t = ds_table_open(f, "cube", &cube, 10);
	assert_int_equal(ds_table_read(t, 1, 1, cb), 0);
	assert_memory_equal(cb, c[1], sizeof(cb));
	ds_table_close(t);
	assert_int_equal(ds_table_read_all(f, "empty", &spec, (void **)&all, &got, 10), 0);
	assert_int_equal(got, 0);
	free(all);

	/* what a reader refuses, each with one error */
	sc_set_quiet(1);
	assert_null(ds_table_open(f, "packed/rows", &spec, n - 1));	/* too many rows */
	assert_null(ds_table_open(f, "cube", &spec, 10));		/* numbers, not rows */
	assert_null(ds_table_open(f, "packed/rows", &cube, n));		/* rows, not numbers */
	{
		const struct ds_table_spec flat = { .type = DS_I16, .rank = 3, .inner = { 3, 2 } };
		const struct ds_column missing[] = { DS_COLUMN(struct trow_part, x, DS_F64),
						     { .name = "nope", .type = DS_U64 } };
		const struct ds_column retyped[] = { DS_COLUMN_N(struct trow, name, DS_I16, 3) };
		struct ds_table_spec m = part;

		assert_null(ds_table_open(f, "cube", &flat, 10));		/* inner dims */
		m.cols = missing;
		assert_null(ds_table_open(f, "packed/rows", &m, n));
		m.cols = retyped;
		m.ncols = 1;
		assert_null(ds_table_open(f, "packed/rows", &m, n));
		assert_null(ds_table_open(f, "no/such", &part, n));
	}
	sc_set_quiet(0);
	ds_close(f);
	assert_int_equal(unit_h5_open_objects(), 0);
	free(p);
}

/*
 * Numbers tables written through the direct chunk path (filtered by
 * data/ds.c: shuffle, deflate) read back through HDF5's own pipeline: column
 * chunks of a rank-3 table, whole-row chunks, 8-byte and 2-byte elements,
 * each with a partial last chunk.
 */
static void test_tables_filtered(void **state)
{
	char *p = unit_path("filtered.h5");
	const struct ds_table_spec specs[] = {
		{ .type = DS_I16, .rank = 3, .inner = { 2, 3 }, .deflate = 4, .chunk_rows = 100,
		  .column_chunks = 1 },
		{ .type = DS_U64, .rank = 2, .inner = { 5 }, .deflate = 1, .chunk_rows = 64 },
		{ .type = DS_I16, .rank = 2, .inner = { 7 }, .deflate = 9, .chunk_rows = 32,
		  .column_chunks = 1, .no_shuffle = 1 },
		/* deflated on the tables' threads: more chunks in flight than jobs */
		{ .type = DS_I16, .rank = 3, .inner = { 2, 3 }, .deflate = 4, .chunk_rows = 100,
		  .column_chunks = 1, .background = 1 },
		{ .type = DS_U64, .rank = 2, .inner = { 5 }, .deflate = 1, .chunk_rows = 16,
		  .background = 1 },
	};
	const char *names[] = { "cube", "wide", "plain", "cube-bg", "wide-bg" };
	const uint64_t n = 250;
	struct ds_file *f = ds_create(p, "schedcast-test", 1);

	(void)state;
	assert_non_null(f);
	for (size_t k = 0; k < ARRAY_SIZE(specs); k++) {
		struct ds_table *t = ds_table_create(f, names[k], &specs[k]);
		size_t rb = ds_table_row_bytes(&specs[k]);
		unsigned char *row = xmalloc(rb);

		assert_non_null(t);
		for (uint64_t i = 0; i < n; i++) {
			for (size_t b = 0; b < rb; b++)
				row[b] = (unsigned char)(i * 7 + b * 13 + (i >> 3));
			assert_int_equal(ds_table_append(t, row, 1), 0);
		}
		assert_int_equal(ds_table_close(t), 0);
		free(row);
	}
	assert_int_equal(ds_commit(f), 0);

	f = ds_open(p, "schedcast-test", 1, NULL);
	assert_non_null(f);
	for (size_t k = 0; k < ARRAY_SIZE(specs); k++) {
		size_t rb = ds_table_row_bytes(&specs[k]);
		unsigned char *all;
		uint64_t got;

		assert_int_equal(ds_table_read_all(f, names[k], &specs[k], (void **)&all, &got, n), 0);
		assert_int_equal(got, n);
		for (uint64_t i = 0; i < n; i++)
			for (size_t b = 0; b < rb; b++)
				assert_int_equal(all[i * rb + b],
						 (unsigned char)(i * 7 + b * 13 + (i >> 3)));
		free(all);
	}
	ds_close(f);
	assert_int_equal(unit_h5_open_objects(), 0);
	free(p);
}

/* An enum column reads from a file that stored it as a plain integer, and back. */
static void test_table_enum_compat(void **state)
{
	char *p = unit_path("enum.h5");
	const struct ds_column plain[] = { DS_COLUMN(struct trow, kind, DS_U8) };
	const struct ds_column named[] = { { .name = "kind", .type = DS_U8,
					     .offset = offsetof(struct trow, kind),
					     .enum_names = kind_names } };
	struct ds_table_spec ps = { .cols = plain, .ncols = 1, .row_size = sizeof(struct trow) };
	struct ds_table_spec es = ps;
	struct ds_file *f = ds_create(p, "schedcast-test", 1);
	struct trow rows[3], *back;
	uint64_t n;

	es.cols = named;
	memset(rows, 0, sizeof(rows));
	for (int i = 0; i < 3; i++)
		rows[i].kind = (uint8_t)(2 - i);
	assert_int_equal(ds_table_write(f, "plain", &ps, rows, 3), 0);
	assert_int_equal(ds_table_write(f, "named", &es, rows, 3), 0);
	assert_int_equal(ds_commit(f), 0);
	f = ds_open(p, "schedcast-test", 1, NULL);
	assert_int_equal(ds_table_read_all(f, "plain", &es, (void **)&back, &n, 3), 0);
	assert_true(n == 3 && back[0].kind == 2 && back[2].kind == 0);
	free(back);
	assert_int_equal(ds_table_read_all(f, "named", &es, (void **)&back, &n, 3), 0);
	assert_true(n == 3 && back[0].kind == 2 && back[1].kind == 1);
	free(back);
	/* an enum is not silently read as a number by a reader that does not name it */
	sc_set_quiet(1);
	assert_int_equal(ds_table_read_all(f, "named", &ps, (void **)&back, &n, 3), -1);
	sc_set_quiet(0);
	ds_close(f);
	assert_int_equal(unit_h5_open_objects(), 0);
	free(p);
}

/*
 * ds_trace_copy_prefix: the events up to the Nth switch, the thread groups,
 * counts of the copy's own, the span; 0 copies everything; a bad input
 * leaves no output.
 */
static void test_copy_prefix(void **state)
{
	char *in = unit_path("cp-in.h5"), *out = unit_path("cp-out.h5");
	char *missing = unit_path("cp-missing.h5");
	const uint64_t n = 1000;
	struct ds_trace_reader *r;
	const struct ds_task *tasks;
	struct ds_event ev, want;
	uint64_t span, i = 0, nt, switches = 0, last = 0;
	int found_tgid = 0;

	write_trace(in, n);
	assert_int_equal(ds_trace_copy_prefix(in, out, 10, &span), 0);
	r = ds_trace_open(out);
	assert_non_null(r);
	while (ds_trace_next(r, &ev) == 1) {
		make_event(&want, i);
		want.comm[DS_COMM_LEN - 1] = want.next_comm[DS_COMM_LEN - 1] = '\0';
		assert_true(event_equal(&ev, &want));
		switches += ev.type == DS_EV_SWITCH;
		last = ev.ts;
		i++;
	}
	/* it stops right after the tenth switch */
	assert_true(switches == 10);
	assert_int_equal(ev.type, DS_EV_SWITCH);
	assert_true(ds_trace_meta(r)->nr_events == i);
	assert_true(ds_trace_meta(r)->count_by_type[DS_EV_SWITCH] == 10);
	assert_true(ds_trace_meta(r)->start_ns == 1000);
	assert_true(span == last - 1000);
	tasks = ds_trace_tasks(r, &nt);
	for (uint64_t k = 0; k < nt; k++)
		if (tasks[k].pid == 300)
			found_tgid = tasks[k].tgid == 299;
	assert_true(found_tgid);
	ds_trace_close(r);

	assert_int_equal(ds_trace_copy_prefix(in, out, 0, &span), 0);
	r = ds_trace_open(out);
	assert_non_null(r);
	assert_true(ds_trace_meta(r)->nr_events == n);
	assert_true(span == 1000 + (n - 1) * 17 - 1000);
	ds_trace_close(r);

	unlink(out);
	assert_int_equal(ds_trace_copy_prefix(missing, out, 10, &span), -1);
	assert_int_equal(access(out, F_OK), -1);
	assert_int_equal(unit_h5_open_objects(), 0);
	free(in);
	free(out);
	free(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_compression_levels),
		cmocka_unit_test(test_background_spool),
		cmocka_unit_test(test_reorder_window),
		cmocka_unit_test(test_too_far_out_of_order),
		cmocka_unit_test(test_empty_trace),
		cmocka_unit_test(test_abort_leaves_nothing),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_wrong_format_and_version),
		cmocka_unit_test(test_ds_arrays),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_tables_filtered),
		cmocka_unit_test(test_table_enum_compat),
		cmocka_unit_test(test_copy_prefix),
	};
	return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
