// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the trace statistics helpers: nearest-rank percentiles,
 * task classes, and a whole trace written and summarised in memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "common/common.h"
#include "data/trace.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank on small values (below ANA_HIST_SUB, exact in the histogram). */
static void test_summarize(void **state)
{
	struct ana_hist h = { 0 };
	struct ana_summary s;

	for (uint64_t v = 10; v >= 1; v--)
		ana_hist_add(&h, v);
	ana_hist_summarize(&s, &h);
	ana_hist_release(&h);
	assert_int_equal(s.n, 10);
	assert_int_equal(s.min, 1);
	assert_int_equal(s.max, 10);
	assert_int_equal(s.total, 55);
	assert_int_equal(s.p50, 5);	/* rank ceil(0.5 * 10) = 5 */
	assert_int_equal(s.p90, 9);	/* rank 9 */
	assert_int_equal(s.p99, 10);	/* rank ceil(9.9) = 10 */
	assert_true(s.avg == 5.5);
	ana_hist_add(&h, 42);	/* one value above ANA_HIST_SUB: min and max clamp it */
	ana_hist_summarize(&s, &h);
	assert_true(s.p50 == 42 && s.p99 == 42 && s.min == 42);
	ana_hist_release(&h);
	ana_hist_summarize(&s, &h);
	assert_true(s.n == 0 && s.max == 0 && s.avg == 0);
}

/*
 * Histograms: exact below 32 ns, within 1/64 of the exact nearest-rank
 * percentile above; merging is adding; memory is rows, not samples.
 */
static void test_hist(void **state)
{
	enum { N = 20000 };
	static uint64_t v[N];
	struct ana_hist h = { 0 }, a = { 0 }, b = { 0 };
	struct ana_summary s;
	uint64_t total = 0;
	uint64_t x = 88172645463325252ULL;
	int rows = 0;

	for (uint64_t i = 0; i < 32; i++)
		ana_hist_add(&h, i);
	for (uint64_t r = 1; r <= 32; r++)
		assert_int_equal(ana_hist_rank(&h, r), r - 1);
	ana_hist_release(&h);

	for (int i = 0; i < N; i++) {
		/* xorshift64: values spread on a log scale, 0 to 2^53 */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		v[i] = (x >> 11) >> (x % 54);
		ana_hist_add(&h, v[i]);
		ana_hist_add(i % 3 ? &a : &b, v[i]);
	}
	ana_hist_summarize(&s, &h);
	qsort(v, N, sizeof(v[0]), cmp_u64);	/* the exact order statistics */
	for (int i = 0; i < N; i++)
		total += v[i];
	assert_int_equal(s.n, N);
	assert_int_equal(s.min, v[0]);
	assert_int_equal(s.max, v[N - 1]);
	assert_int_equal(s.total, total);
	for (int i = 1; i < 100; i++) {
		uint64_t rank = ((uint64_t)i * N + 99) / 100, got = ana_hist_rank(&h, rank);
		uint64_t want = v[rank - 1];
		double err = want ? ((double)got - (double)want) / (double)want : (double)got;

		if (err > 1.0 / 64 || err < -1.0 / 64)
			fail_msg("p%d: %llu, exact %llu", i, (unsigned long long)got,
				 (unsigned long long)want);
	}
	assert_int_equal(ana_hist_rank(&h, N / 2), s.p50);	/* rank ceil(0.5 * N) */
	ana_hist_merge(&a, &b);
	for (int r = 0; r < ANA_HIST_ROWS; r++) {
		rows += !!h.rows[r];
		for (int k = 0; h.rows[r] && k < ANA_HIST_SUB; k++)
			assert_int_equal(a.rows[r][k], h.rows[r][k]);
	}
	/* one row per power of two up to the largest value, however many values */
	assert_true(rows <= 63 - __builtin_clzll(s.max) - ANA_HIST_SUB_BITS + 2);
	assert_int_equal(a.n, h.n);
	assert_int_equal(a.min, h.min);
	assert_int_equal(a.total, h.total);
	ana_hist_release(&a);
	ana_hist_release(&b);
	ana_hist_release(&h);
	ana_hist_summarize(&s, &h);
	assert_true(s.n == 0 && s.p99 == 0 && ana_hist_rank(&h, 1) == 0);
}

static void test_task_class(void **state)
{
	static const char *const cases[][2] = {
		{ "kworker/1:0-ev", "kworker" }, { "worker12", "worker" }, { "md5sum", "md5sum" },
		{ "sh", "sh" }, { "memfd:sealed-91", "memfd" }, { "sc-hog1", "sc-hog" },
		{ "123", "1" }, { "", "?" }, { "/x", "/x" },
	};
	char out[DS_COMM_LEN];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ana_task_class(out, cases[i][0]);
		if (strcmp(out, cases[i][1]))
			fail_msg("class of '%s': '%s', want '%s'", cases[i][0], out, cases[i][1]);
	}
}

static void sw(struct ds_trace_writer *w, uint64_t ts, int cpu, int prev, int64_t state, int next)
{
	struct ds_event ev;

	ds_event_init(&ev, DS_EV_SWITCH, ts, cpu);
	ev.pid = prev;
	ev.common_pid = prev;
	ev.prio = ev.next_prio = 120;
	ev.state = state;
	ev.next_pid = next;
	snprintf(ev.comm, DS_COMM_LEN, "t%d", prev);
	snprintf(ev.next_comm, DS_COMM_LEN, "t%d", next);
	assert_int_equal(ds_trace_write(w, &ev), 0);
}

/*
 * One CPU, two tasks preempting each other every 1000 ns for 100 rounds:
 * every burst and every delay is 1000 ns, the queue holds one task all
 * the time, nothing is idle.
 */
static void test_round_robin(void **state)
{
	char path[] = "/tmp/sc-stats.XXXXXX";
	struct ds_trace_meta meta = { .nr_cpus = 1, .events_recorded = DS_EV_ALL_SCHED };
	struct ds_trace_writer *w;
	struct ana_trace_stats st;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	w = ds_trace_create(path, &meta);
	assert_non_null(w);
	sw(w, 1000, 0, 0, 0, 1);
	for (int i = 0; i < 100; i++)
		sw(w, 2000 + 1000 * (uint64_t)i, 0, 1 + i % 2, DS_STATE_PREEMPTED, 1 + (i + 1) % 2);
	assert_int_equal(ds_trace_writer_close(w, NULL), 0);

	assert_int_equal(ana_trace_stats_compute(path, NULL, &st), 0);
	assert_int_equal(st.nr_tasks, 2);
	assert_int_equal(st.nr_switches, 101);
	assert_int_equal(st.span_ns, 100000);
	assert_int_equal(st.cpus[0].busy_ns, 100000);
	assert_int_equal(st.cpus[0].idle_ns, 0);
	assert_int_equal(st.cpus[0].rq_max, 1);
	for (int i = 0; i < 2; i++) {
		const struct ana_task_stats *t = &st.tasks[i];

		assert_int_equal(t->switches, 50);
		assert_int_equal(t->run_ns, 50000);
		assert_int_equal(t->burst.max, 1000);
		assert_int_equal(t->burst.min, 1000);
		assert_int_equal(t->preemptions, 50);
		assert_int_equal(t->burst_hist[0], 50);
	}
	/* t1 waited 1000 ns before each of its 49 later runs, t2 before its 50 */
	assert_int_equal(st.delay.n, 99);
	assert_int_equal(st.delay.p99, 1000);
	/* the queue held one task from 2000 to the end */
	assert_true(st.cpus[0].rq_avg > 0.989 && st.cpus[0].rq_avg < 0.991);
	ana_trace_stats_release(&st);

	/* a file that is not a trace: -1, nothing leaked */
	sc_set_quiet(1);
	assert_int_equal(ana_trace_stats_compute("/nonexistent/x.h5", NULL, &st), -1);
	sc_set_quiet(0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summarize),
		cmocka_unit_test(test_hist),
		cmocka_unit_test(test_task_class),
		cmocka_unit_test(test_round_robin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
