// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the capture session's merge (collect/session.c) and of the
 * capture driver around it (collect/capture.c) without a
 * kernel: a scripted backend fills the per-CPU queues as the tracefs and perf
 * backends do, and the events that come out of col_session_poll() are
 * checked for order, for what is held back, and for lost-event accounting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "collect/capture.h"
#include "collect/collect-local.h"

/* One read of the scripted backend: per CPU, events to push and whether the ring emptied. */
struct script_cpu {
	uint64_t ts[8];
	int n;
	int drained;
};

static struct script_cpu script[8][2];	/* [read][cpu] */
static int nr_reads, reads_done, stops;
/* or generated: gen_per_read switches per CPU and read until gen_total each */
static int gen_per_read, gen_total, gen_done;
static uint64_t gen_lost_at, gen_lost_n, gen_stop_lost0;

static int fake_open(struct col_session *s)
{
	return 0;
}

static int fake_start(struct col_session *s)
{
	return 0;
}

static int fake_wait(struct col_session *s, int timeout_ms)
{
	return 0;
}

static int gen_read(struct col_session *s)
{
	int n = SC_MIN(gen_per_read, gen_total - gen_done);

	for (int i = 0; i < n; i++, gen_done++) {
		for (int c = 0; c < s->nr_cpus; c++) {
			struct ds_event ev;
			uint64_t ts = 1000 + 10 * (uint64_t)gen_done + (uint64_t)c;

			if (c == 1 && (uint64_t)gen_done == gen_lost_at && gen_lost_n)
				col_cpu_lost(s, c, ts, gen_lost_n);
			ds_event_init(&ev, DS_EV_SWITCH, ts, c);
			ev.pid = 1000 + c;
			ev.next_pid = 2000 + c;
			ev.state = 1;
			strcpy(ev.comm, "a");
			strcpy(ev.next_comm, "b");
			col_cpu_push(s, c, &ev);
		}
	}
	for (int c = 0; c < s->nr_cpus; c++)
		s->cpus[c].drained = gen_done == gen_total;
	return n * s->nr_cpus;
}

static int fake_read(struct col_session *s)
{
	int total = 0;

	if (gen_total)
		return gen_read(s);

	if (reads_done >= nr_reads) {
		for (int c = 0; c < s->nr_cpus; c++)
			s->cpus[c].drained = 1;
		return 0;
	}
	for (int c = 0; c < s->nr_cpus; c++) {
		const struct script_cpu *sc = &script[reads_done][c];

		for (int i = 0; i < sc->n; i++) {
			struct ds_event ev;

			ds_event_init(&ev, DS_EV_SWITCH, sc->ts[i], c);
			ev.pid = (int32_t)(100 * c + i);
			col_cpu_push(s, c, &ev);
			total++;
		}
		s->cpus[c].drained = sc->drained;
	}
	reads_done++;
	return total;
}

static int fake_stop(struct col_session *s)
{
	stops++;
	if (gen_stop_lost0)
		col_cpu_set_lost(s, 0, gen_stop_lost0);
	return 0;
}

static int fake_close(struct col_session *s)
{
	return 0;
}

static const struct col_backend_ops fake_ops = {
	.source = "fake", .open = fake_open, .start = fake_start, .wait = fake_wait,
	.read = fake_read, .stop = fake_stop, .close = fake_close,
};

static struct col_session *fake_session_new(int nr_cpus)
{
	struct col_session *s = xcalloc(1, sizeof(*s));

	s->ops = &fake_ops;
	s->nr_cpus = nr_cpus;
	s->cpus = xcalloc((size_t)nr_cpus, sizeof(*s->cpus));
	for (int c = 0; c < nr_cpus; c++) {
		s->cpus[c].cpu = c;
		s->cpus[c].active = 1;
	}
	memset(script, 0, sizeof(script));
	nr_reads = reads_done = stops = 0;
	gen_per_read = gen_total = gen_done = 0;
	gen_lost_at = gen_lost_n = gen_stop_lost0 = 0;
	return s;
}

static struct col_session *fake_session(int nr_cpus)
{
	struct col_session *s = fake_session_new(nr_cpus);

	assert_int_equal(col_session_start(s), 0);
	return s;
}

struct got {
	struct ds_event ev[64];
	int n;
	int stop_after;		/* return -5 once n reaches it (0: never) */
};

static int collect_cb(const struct ds_event *ev, void *ctx)
{
	struct got *g = ctx;

	assert_true(g->n < 64);
	g->ev[g->n++] = *ev;
	if (g->stop_after && g->n == g->stop_after)
		return -5;
	return 0;
}

static void assert_ts(const struct got *g, const uint64_t *want, int n)
{
	assert_int_equal(g->n, n);
	for (int i = 0; i < n; i++)
		assert_int_equal(g->ev[i].ts, want[i]);
}

/* Only what no CPU can still undercut comes out, in order across CPUs. */
static void test_watermark(void **state)
{
	struct col_session *s = fake_session(2);
	struct got g = { .n = 0 };
	static const uint64_t want[] = { 10, 20, 30, 35, 40, 50, 60, 70 };

	/* read 1: neither ring emptied; the minimum of the newest is 20 */
	script[0][0] = (struct script_cpu){ { 10, 30 }, 2, 0 };
	script[0][1] = (struct script_cpu){ { 20 }, 1, 0 };
	/* read 2: cpu0 nothing new but not emptied (still at 30): only 30 may go */
	script[1][0] = (struct script_cpu){ { 0 }, 0, 0 };
	script[1][1] = (struct script_cpu){ { 35, 40, 50 }, 3, 0 };
	/* read 3: cpu0 emptied (it has reached "now"): cpu1's 50 bounds */
	script[2][0] = (struct script_cpu){ { 0 }, 0, 1 };
	script[2][1] = (struct script_cpu){ { 0 }, 0, 0 };
	/* read 4: more from both, cpu1 emptied; cpu0 at 70 not emptied */
	script[3][0] = (struct script_cpu){ { 60, 70 }, 2, 0 };
	script[3][1] = (struct script_cpu){ { 0 }, 0, 1 };
	nr_reads = 4;

	assert_int_equal(col_session_poll(s, 0, collect_cb, &g), 2);
	assert_int_equal(g.ev[0].cpu, 0);
	assert_int_equal(g.ev[1].cpu, 1);
	assert_int_equal(col_session_poll(s, 0, collect_cb, &g), 1);
	assert_int_equal(col_session_poll(s, 0, collect_cb, &g), 3);
	assert_int_equal(col_session_poll(s, 0, collect_cb, &g), 2);
	assert_ts(&g, want, 8);

	/* after stop everything left comes out (nothing is left here) */
	script[4][0] = (struct script_cpu){ { 80 }, 1, 0 };
	nr_reads = 5;
	assert_int_equal(col_session_stop(s), 0);
	assert_int_equal(stops, 1);
	assert_int_equal(col_session_poll(s, 0, collect_cb, &g), 1);
	assert_int_equal(g.ev[8].ts, 80);
	assert_int_equal(col_session_poll(s, 0, collect_cb, &g), 0);
	col_session_close(s);
	assert_int_equal(stops, 1);	/* not stopped twice */
}

/* A CPU that has delivered nothing and was not emptied holds everything back. */
static void test_silent_cpu_holds_back(void **state)
{
	struct col_session *s = fake_session(2);
	struct got g = { .n = 0 };
	static const uint64_t all[] = { 3, 5, 7, 9 };

	script[0][0] = (struct script_cpu){ { 5, 9 }, 2, 1 };
	script[0][1] = (struct script_cpu){ { 0 }, 0, 0 };
	script[1][0] = (struct script_cpu){ { 0 }, 0, 1 };
	script[1][1] = (struct script_cpu){ { 3, 7 }, 2, 0 };
	nr_reads = 2;
	assert_int_equal(col_session_poll(s, 0, collect_cb, &g), 0);
	/* cpu1 now at 7 (not emptied): 3, 5, 7 may go, 9 waits */
	assert_int_equal(col_session_poll(s, 0, collect_cb, &g), 3);
	col_session_stop(s);
	assert_int_equal(col_session_poll(s, 0, collect_cb, &g), 1);
	assert_ts(&g, all, 4);
	col_session_close(s);
}

/* A consumer that says stop gets the rest on the next poll, nothing lost or repeated. */
static void test_callback_stops(void **state)
{
	struct col_session *s = fake_session(1);
	struct got g = { .stop_after = 2 };
	static const uint64_t all[] = { 1, 2, 3, 4 };

	script[0][0] = (struct script_cpu){ { 1, 2, 3, 4 }, 4, 1 };
	nr_reads = 1;
	col_session_stop(s);
	assert_int_equal(col_session_poll(s, 0, collect_cb, &g), -5);
	assert_int_equal(g.n, 2);
	g.stop_after = 0;
	assert_int_equal(col_session_poll(s, 0, collect_cb, &g), 2);
	assert_ts(&g, all, 4);
	col_session_close(s);
}

/* Lost markers go in the stream at the gap and in the counts; stats never lower them. */
static void test_lost(void **state)
{
	struct col_session *s = fake_session(2);
	struct got g = { .n = 0 };
	struct ds_event ev;

	ds_event_init(&ev, DS_EV_SWITCH, 100, 1);
	col_cpu_push(s, 1, &ev);
	col_cpu_lost(s, 1, 50, 7);	/* stamped before the last event: moved after it */
	col_cpu_lost(s, 0, 200, 0);	/* a gap of unknown size */
	assert_int_equal(col_session_lost(s, 1), 7);
	assert_int_equal(col_session_lost(s, 0), 0);
	col_cpu_set_lost(s, 1, 10);	/* the kernel's total is higher */
	assert_int_equal(col_session_lost(s, 1), 10);
	col_cpu_set_lost(s, 1, 3);	/* never lowered */
	assert_int_equal(col_session_lost(s, 1), 10);
	assert_int_equal(col_session_lost(s, 5), 0);	/* out of range */

	col_session_stop(s);
	assert_int_equal(col_session_poll(s, 0, collect_cb, &g), 3);
	assert_int_equal(g.ev[0].type, DS_EV_SWITCH);
	assert_int_equal(g.ev[1].type, DS_EV_LOST);
	assert_int_equal(g.ev[1].ts, 100);
	assert_int_equal(g.ev[1].cpu, 1);
	assert_int_equal(g.ev[1].state, 7);
	assert_int_equal(g.ev[2].type, DS_EV_LOST);
	assert_int_equal(g.ev[2].ts, 200);
	assert_int_equal(g.ev[2].state, 0);
	col_session_close(s);
}

/* The per-CPU queue grows past its first allocation and keeps FIFO order. */
static void test_queue_growth(void **state)
{
	struct col_session *s = fake_session(1);
	uint64_t n = 5000, prev = 0, seen = 0;
	struct ds_event ev;

	for (uint64_t i = 0; i < n; i++) {
		ds_event_init(&ev, DS_EV_WAKEUP, 1000 + i, 0);
		col_cpu_push(s, 0, &ev);
	}
	col_session_stop(s);
	for (;;) {
		struct got g = { .stop_after = 64 };
		int r = col_session_poll(s, 0, collect_cb, &g);

		for (int i = 0; i < g.n; i++) {
			assert_true(g.ev[i].ts > prev);
			prev = g.ev[i].ts;
			seen++;
		}
		if (r == 0)
			break;
	}
	assert_int_equal(seen, n);
	col_session_close(s);
}

static void test_polled_before_start(void **state)
{
	struct col_session *s = xcalloc(1, sizeof(*s));
	struct got g = { .n = 0 };

	s->ops = &fake_ops;
	sc_set_quiet(1);
	assert_int_equal(col_session_poll(s, 0, collect_cb, &g), -1);
	sc_set_quiet(0);
	col_session_close(s);
}

static int count_cb(const struct ds_event *ev, void *ctx)
{
	(*(uint64_t *)ctx)++;
	return 0;
}

/*
 * The driver writes what the session delivers, in order and unchanged,
 * through its writer thread (more events than its queue holds), with the lost
 * counts of the markers and of the kernel's stats, and hands every event to
 * the callback.  Its spool is bounded as asked (1 byte: the least, 16
 * batches) and its use reported; an unbounded one never makes the reader
 * wait.
 */
static void capture_writes_trace(uint64_t spool_bytes)
{
	struct col_session *s = fake_session_new(2);
	struct col_capture_opts o = { .duration_ns = 20 * NSEC_PER_MSEC, .compress = 1,
				      .command_line = "schedcast test", .on_event = count_cb };
	const struct col_capture_result *r;
	struct ds_trace_reader *rd;
	struct col_capture *c;
	struct ds_event ev;
	uint64_t seen = 0, n = 0, prev = 0;
	char path[256];

	snprintf(path, sizeof(path), "%s/capture-%d.h5",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	gen_per_read = 1000;
	gen_total = 40000;		/* 80,000 switches: about 20 batches */
	gen_lost_at = 12345;
	gen_lost_n = 7;
	gen_stop_lost0 = 3;
	o.output = path;
	o.ctx = &seen;
	o.opened = s;
	o.spool_bytes = spool_bytes;
	c = col_capture_open(&o);
	assert_non_null(c);
	assert_int_equal(col_capture_run(c), 0);
	r = col_capture_result(c);
	assert_int_equal(r->nr_cpus, 2);
	assert_int_equal(r->lost[0], 3);
	assert_int_equal(r->lost[1], 7);
	assert_int_equal(r->lost_total, 10);
	assert_false(r->trace_failed);
	assert_int_equal(r->meta.nr_events, 80001);	/* and the LOST marker */
	assert_int_equal(seen, 80001);
	assert_true(r->spool.peak_bytes > 0 && r->spool.peak_bytes <= r->spool.limit_bytes);
	if (spool_bytes == 1)
		assert_true(r->spool.limit_bytes < 17 * 4096 * sizeof(struct ds_event));
	else
		assert_true(r->spool.limit_bytes > 25 * 4096 * sizeof(struct ds_event) &&
			    !r->spool.waits);
	assert_int_equal(col_capture_close(c), 0);

	rd = ds_trace_open(path);
	assert_non_null(rd);
	assert_string_equal(ds_trace_meta(rd)->source, "fake");
	assert_string_equal(ds_trace_meta(rd)->command_line, "schedcast test");
	assert_int_equal(ds_trace_lost(rd)[0], 3);
	assert_int_equal(ds_trace_lost(rd)[1], 7);
	while (ds_trace_next(rd, &ev) == 1) {
		assert_true(ev.ts >= prev);
		prev = ev.ts;
		n++;
		if (ev.type == DS_EV_LOST) {
			assert_int_equal(ev.cpu, 1);
			assert_int_equal(ev.state, 7);
			continue;
		}
		/* as gen_read() made it */
		assert_int_equal(ev.type, DS_EV_SWITCH);
		assert_int_equal(ev.ts % 10, ev.cpu);
		assert_int_equal(ev.pid, 1000 + ev.cpu);
		assert_int_equal(ev.next_pid, 2000 + ev.cpu);
		assert_int_equal(ev.state, 1);
		assert_string_equal(ev.comm, "a");
		assert_string_equal(ev.next_comm, "b");
	}
	assert_int_equal(n, 80001);
	ds_trace_close(rd);
	unlink(path);
}

static void test_capture_writes_trace(void **state)
{
	capture_writes_trace(1);		/* the least spool */
	capture_writes_trace(64ULL << 20);	/* all of it fits: the reader never waits */
}

/* A workload that exits ends the capture; its status is kept; nothing is written. */
static void test_capture_workload_ends_it(void **state)
{
	struct col_session *s = fake_session_new(1);
	char *argv[] = { "sh", "-c", "exit 3", NULL };
	struct col_capture_opts o = { .command = argv, .opened = s };
	const struct col_capture_result *r;
	struct col_capture *c;

	c = col_capture_open(&o);
	assert_non_null(c);
	assert_int_equal(col_capture_run(c), 0);
	r = col_capture_result(c);
	assert_true(r->workload_started);
	assert_true(r->workload_exited);
	assert_true(WIFEXITED(r->workload_status));
	assert_int_equal(WEXITSTATUS(r->workload_status), 3);
	assert_int_equal(stops, 1);
	assert_int_equal(col_capture_close(c), 0);
}

/* choose - size s's rings from bytes written by its cpu1 in 100 ms, avail free */
static const struct col_ring_choice *choose(struct col_session *s, uint64_t bytes1,
					    uint64_t avail, int follows)
{
	uint64_t bytes[2] = { bytes1 / 6, bytes1 }, events[2] = { 5000, 9000 };

	s->ring.why = COL_RING_PENDING;
	s->mem_available = avail;
	s->opts.workload_follows = follows;
	col_session_choose_ring(s, bytes, events, 100 * NSEC_PER_MSEC);
	/* what the backend maps or writes to buffer_size_kb */
	assert_int_equal(s->opts.buffer_size, s->ring.size);
	return col_session_ring_choice(s);
}

/*
 * The ring sizing policy (collect.h, struct col_ring_choice), through the
 * session the backends call after their probe: 2 s of the busiest CPU's
 * rate in whole MiB, at least COL_RING_MIN, at most the memory's share;
 * the floor when a workload follows; a given size left alone.
 */
static void test_ring_choice(void **state)
{
	const uint64_t mib = 1ULL << 20, gib = 1ULL << 30;
	struct col_session *s = fake_session_new(2);
	const struct col_ring_choice *r;

	/* idle: the least; 16 GiB over 2 CPUs bounds each ring at 16G/64/2 */
	r = choose(s, 0, 16 * gib, 0);
	assert_int_equal(r->size, COL_RING_MIN);
	assert_int_equal(r->why, COL_RING_LEAST);
	assert_int_equal(r->bound, 128 * mib);
	/* 1 MB in 100 ms on cpu1 (the busiest): 10 MB/s, 20 MB, 20 MiB */
	r = choose(s, 1000000, 16 * gib, 0);
	assert_int_equal(r->size, 20 * mib);
	assert_int_equal(r->why, COL_RING_RATE);
	assert_int_equal(r->bytes_per_s, 10000000);
	assert_int_equal(r->events_per_s, 90000);	/* cpu1's, not the sum */
	assert_int_equal(r->window_ns, 100 * NSEC_PER_MSEC);
	/* exactly 2 s of 2 MiB/s is 4 MiB: still the least */
	r = choose(s, 2 * mib / 10 + 1, 16 * gib, 0);
	assert_int_equal(r->size, COL_RING_MIN);
	/* 100 MB/s: the memory bound */
	r = choose(s, 10000000, 16 * gib, 0);
	assert_int_equal(r->size, 128 * mib);
	assert_int_equal(r->why, COL_RING_MEMORY);
	/* little memory: never below the least */
	r = choose(s, 1000000, 100 * mib, 0);
	assert_int_equal(r->size, COL_RING_MIN);
	assert_int_equal(r->why, COL_RING_MEMORY);
	assert_int_equal(r->bound, COL_RING_MIN);

	/* a workload follows: at least 1/256 of the memory, 4 to 64 MiB */
	r = choose(s, 0, 16 * gib, 1);
	assert_int_equal(r->size, 32 * mib);
	assert_int_equal(r->why, COL_RING_FLOOR);
	r = choose(s, 0, 64 * gib, 1);
	assert_int_equal(r->size, 64 * mib);
	r = choose(s, 1000000, 16 * gib, 1);	/* the rate asks for less than the floor */
	assert_int_equal(r->size, 32 * mib);
	r = choose(s, 3000000, 16 * gib, 1);	/* ... for more: 60 MB, 58 MiB */
	assert_int_equal(r->size, 58 * mib);
	assert_int_equal(r->why, COL_RING_RATE);
	r = choose(s, 0, 1 * gib, 1);
	assert_int_equal(r->size, COL_RING_MIN);

	/* given: left alone */
	s->ring.why = COL_RING_GIVEN;
	s->opts.buffer_size = s->ring.size = mib;
	col_session_choose_ring(s, (uint64_t[2]){ 0, 1000000 }, (uint64_t[2]){ 0, 1 },
				100 * NSEC_PER_MSEC);
	assert_int_equal(s->opts.buffer_size, mib);
	assert_int_equal(r->why, COL_RING_GIVEN);
	assert_int_equal(col_session_close(s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watermark),
		cmocka_unit_test(test_silent_cpu_holds_back),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_lost),
		cmocka_unit_test(test_queue_growth),
		cmocka_unit_test(test_polled_before_start),
		cmocka_unit_test(test_capture_writes_trace),
		cmocka_unit_test(test_capture_workload_ends_it),
		cmocka_unit_test(test_ring_choice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
