// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the features engine: one hand-written event sequence with a
 * known answer per runqueue rule, the fixed-point log scale, the vocabulary,
 * the split, and the no-leak property (changing what happens at or after a
 * decision never changes its features), through the engine and through
 * whole trace files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "data/trace.h"
#include "data/windows.h"
#include "features/features.h"
#include "tests/helpers/event-line.h"
#include "tests/unit/unit-test.h"

#define TK 4		/* episodes in these tests */
#define TW 4		/* sequence length */
#define MAXC 8
#define ONE 256

struct dec_rec {
	uint64_t ts;
	int cpu, prev_pid, next_pid, label, ncand;
	struct ds_candidate cand[MAXC];
	int16_t state[MAXC][FEAT_S];
	int16_t window[MAXC][TK * FEAT_E];
	int32_t ids[TW];
	int16_t gaps[TW];
};

static int g_set = FEAT_SET_WAIT;	/* the state set run_events() computes */

struct run {
	struct dec_rec d[64];
	int n;
	struct ds_coverage cov;
	uint64_t tasks;
};

/* ---- event sequences in the mktrace line format -------------------------- */

/* parse - events of text into *evs (caller frees); @cpus and @events set the rest */
static int parse(const char *text, struct ds_event **evs, int *nr_cpus, uint32_t *recorded)
{
	char *copy = xstrdup(text), *save = NULL, *line;
	int n = 0, alloc = 0;

	*evs = NULL;
	*nr_cpus = 4;
	*recorded = DS_EV_ALL_SCHED;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = line, *tok, *s2 = NULL;
		const char *bad;
		struct ds_event ev;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (!strncmp(p, "@cpus ", 6)) {
			*nr_cpus = atoi(p + 6);
			continue;
		}
		if (!strncmp(p, "@events ", 8)) {
			*recorded = 0;
			for (tok = strtok_r(p + 8, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2))
				*recorded |= DS_EV_BIT(ds_event_type_from_name(tok));
			continue;
		}
		assert_int_equal(evline_parse(p, &ev, &bad), 0);
		ALLOC_GROW(*evs, n + 1, alloc);
		(*evs)[n++] = ev;
	}
	free(copy);
	return n;
}

static void record(struct run *r, const struct feat_decision_out *o)
{
	struct dec_rec *d;

	if (r->n >= 64) {	/* counted, not kept */
		r->n++;
		return;
	}
	d = &r->d[r->n++];
	assert_true(o->ncand <= MAXC);
	memset(d, 0, sizeof(*d));
	d->ts = o->ts;
	d->cpu = o->cpu;
	d->prev_pid = o->prev_pid;
	d->next_pid = o->next_pid;
	d->label = o->label;
	d->ncand = o->ncand;
	if (o->ncand)
		assert_int_equal(o->S, feat_set_size(g_set));
	for (int i = 0; i < o->ncand; i++) {
		d->cand[i] = o->cand[i];
		memcpy(d->state[i], o->state + i * o->S, (size_t)o->S * sizeof(int16_t));
		memcpy(d->window[i], o->window + i * TK * FEAT_E, sizeof(d->window[i]));
	}
	if (o->seq_ids) {
		memcpy(d->ids, o->seq_ids, sizeof(d->ids));
		memcpy(d->gaps, o->seq_gaps, sizeof(d->gaps));
	}
}

static void run_events(const struct ds_event *evs, int n, int nr_cpus, uint32_t recorded,
		       int mode, const struct feat_vocab *v, struct run *r)
{
	struct feat_opts o = { .mode = mode, .state_set = g_set, .K = TK, .W = TW,
			       .events_recorded = recorded, .vocab = v };
	struct feat_state *st = feat_state_new(&o, nr_cpus);
	struct feat_decision_out out;

	assert_non_null(st);
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < n; i++) {
		if (feat_decision(st, &evs[i], &out) == 1)
			record(r, &out);
		assert_int_equal(feat_apply(st, &evs[i]), 0);
	}
	r->cov = *feat_coverage(st);
	r->tasks = feat_nr_tasks(st);
	feat_state_free(st);
}

static void run_text(const char *text, struct run *r)
{
	struct ds_event *evs;
	int nr_cpus;
	uint32_t rec;
	int n = parse(text, &evs, &nr_cpus, &rec);

	run_events(evs, n, nr_cpus, rec, DS_WIN_CANDIDATES, NULL, r);
	free(evs);
}

static int cand_index(const struct dec_rec *d, int pid)
{
	for (int i = 0; i < d->ncand; i++)
		if (d->cand[i].pid == pid)
			return i;
	return -1;
}

#define SW(ts, cpu, p, st, n) \
	#ts " " #cpu " switch pid=" #p " prio=120 state=" #st " next_pid=" #n \
	" next_prio=120 comm=t" #p " next_comm=t" #n " common_pid=" #p "\n"
#define WAKE(ts, cpu, p, target, waker) \
	#ts " " #cpu " wakeup pid=" #p " prio=120 target_cpu=" #target " comm=t" #p \
	" common_pid=" #waker "\n"

/* ---- the fixed-point log scale ----------------------------------------------- */

static void test_log2us(void **state)
{
	assert_int_equal(feat_log2us(0), 0);
	assert_int_equal(feat_log2us(1000), 256);
	assert_int_equal(feat_log2us(3000), 512);
	assert_int_equal(feat_log2us(1023000), 10 * 256);
	assert_true(feat_log2us(UINT64_MAX) > 0);
	for (uint64_t ns = 1; ns < (1ull << 50); ns = ns * 3 + 7) {
		double want = log2(1.0 + (double)ns / 1000.0) * 256.0;

		assert_true(fabs(feat_log2us(ns) - want) <= 1.0);
	}
	/* monotonic */
	for (uint64_t ns = 0, prev = 0; ns < 5000000; ns += 997) {
		assert_true((uint64_t)feat_log2us(ns) >= prev);
		prev = (uint64_t)feat_log2us(ns);
	}
}

/* ---- one rule per test --------------------------------------------------------- */

/* A wakeup queues the task on its target CPU; it is the only candidate. */
static void test_wakeup(void **state)
{
	struct run r;

	run_text("@cpus 2\n"
		 SW(1000, 0, 0, 0, 10)
		 WAKE(2000, 0, 11, 0, 10)
		 SW(5000, 0, 10, 1, 11), &r);
	assert_int_equal(r.n, 2);
	/* the first pick (t10) was never queued: uncovered */
	assert_int_equal(r.d[0].ncand, 0);
	assert_int_equal(r.d[0].label, -1);
	/* the second: t11 woken at 2000 by t10, which is switching out */
	assert_int_equal(r.d[1].ncand, 1);
	assert_int_equal(r.d[1].label, 0);
	assert_int_equal(r.d[1].prev_pid, 10);
	assert_int_equal(r.d[1].cand[0].pid, 11);
	assert_true(r.d[1].cand[0].queued_ns == 3000);
	assert_true(r.d[1].cand[0].since_ran_ns == UINT64_MAX);
	assert_string_equal(r.d[1].cand[0].comm, "t11");
	assert_int_equal(r.d[1].state[0][FEAT_ST_QUEUED], feat_log2us(3000));
	assert_int_equal(r.d[1].state[0][FEAT_ST_WAIT_WOKEN], ONE);
	assert_int_equal(r.d[1].state[0][FEAT_ST_WAIT_PREEMPTED], 0);
	assert_int_equal(r.d[1].state[0][FEAT_ST_WOKEN_BY_PREV], ONE);
	assert_int_equal(r.d[1].state[0][FEAT_ST_NEVER_RAN], ONE);
	assert_int_equal(r.d[1].state[0][FEAT_ST_OLDEST], ONE);
	assert_int_equal(r.d[1].state[0][FEAT_ST_PRIO], 0);
	/* no episode yet: the window is all padding */
	for (int i = 0; i < TK * FEAT_E; i++)
		assert_int_equal(r.d[1].window[0][i], 0);
	assert_true(r.cov.decisions == 2 && r.cov.covered == 1 && r.cov.contested == 0);
	assert_true(r.cov.cand_hist[0] == 1 && r.cov.cand_hist[1] == 1);
}

/*
 * Preemption: a task switched out as R+ is queued where it ran (not a
 * candidate of the switch that preempts it), and comes back with an episode
 * in its window.
 */
static void test_preemption(void **state)
{
	struct run r;
	const struct dec_rec *d;
	const int16_t *ep;

	run_text("@cpus 1\n"
		 WAKE(1000, 0, 10, 0, 0)
		 SW(2000, 0, 0, 0, 10)
		 WAKE(3000, 0, 11, 0, 10)
		 WAKE(3500, 0, 12, 0, 10)
		 SW(10000, 0, 10, 0x100, 11)
		 SW(18000, 0, 11, 2, 12)
		 SW(30000, 0, 12, 1, 10), &r);
	assert_int_equal(r.n, 4);
	/* at 10000: t11 and t12 queued, t10 (switching out) is not a candidate */
	d = &r.d[1];
	assert_int_equal(d->ncand, 2);
	assert_int_equal(d->cand[0].pid, 11);	/* oldest first */
	assert_int_equal(d->cand[1].pid, 12);
	assert_int_equal(d->label, 0);
	assert_int_equal(d->state[0][FEAT_ST_OLDEST], ONE);
	assert_int_equal(d->state[1][FEAT_ST_OLDEST], 0);
	/* at 18000: t12 and the preempted t10 */
	d = &r.d[2];
	assert_int_equal(d->ncand, 2);
	assert_int_equal(cand_index(d, 10), 1);
	assert_int_equal(d->label, cand_index(d, 12));
	/* at 30000: t10 alone; its wait began with a preemption at 10000 */
	d = &r.d[3];
	assert_int_equal(d->ncand, 1);
	assert_int_equal(d->cand[0].pid, 10);
	assert_int_equal(d->label, 0);
	assert_true(d->cand[0].queued_ns == 20000);
	assert_true(d->cand[0].since_ran_ns == 20000);
	assert_true(d->cand[0].cpu_recent_ns == 8000);	/* ran 2000..10000 */
	assert_int_equal(d->state[0][FEAT_ST_WAIT_PREEMPTED], ONE);
	assert_int_equal(d->state[0][FEAT_ST_WAIT_WOKEN], 0);
	assert_int_equal(d->state[0][FEAT_ST_LAST_HERE], ONE);
	assert_int_equal(d->state[0][FEAT_ST_NEVER_RAN], 0);
	assert_int_equal(d->state[0][FEAT_ST_SINCE_RAN], feat_log2us(20000));
	assert_int_equal(d->state[0][FEAT_ST_WOKEN_BY_PREV], 0);
	/* 8 us in the last 10 ms */
	assert_int_equal(d->state[0][FEAT_ST_CPU_SHORT], 8000 * ONE / 10000000);
	/* its one episode: woken at 1000, ran 2000..10000, ended preempted */
	ep = d->window[0] + (TK - 1) * FEAT_E;
	assert_int_equal(ep[FEAT_EP_PRESENT], ONE);
	assert_int_equal(ep[FEAT_EP_BURST], feat_log2us(8000));
	assert_int_equal(ep[FEAT_EP_WAIT], feat_log2us(1000));
	assert_int_equal(ep[FEAT_EP_WOKEN], ONE);
	assert_int_equal(ep[FEAT_EP_PREEMPTED], 0);
	assert_int_equal(ep[FEAT_EP_OUT_RUNNABLE], ONE);
	assert_int_equal(ep[FEAT_EP_OUT_BLOCKED], 0);
	assert_int_equal(ep[FEAT_EP_CPU_CHANGED], 0);
	for (int i = 0; i < (TK - 1) * FEAT_E; i++)
		assert_int_equal(d->window[0][i], 0);	/* older slots: padding */
	assert_true(r.cov.contested == 2 && r.cov.contested_covered == 2);
}

/* Episode ring: more than K episodes keep the last K, oldest first, with sleeps. */
static void test_episode_ring(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct run r;
	const struct dec_rec *d;
	uint64_t t = 1000;

	strbuf_addstr(&sb, "@cpus 1\n");
	/* t10 runs bursts of i us (i = 1..6) and sleeps 100 us between them */
	for (int i = 1; i <= 6; i++) {
		strbuf_addf(&sb,
			    "%llu 0 wakeup pid=10 prio=120 target_cpu=0 comm=t10 common_pid=0\n",
			    (unsigned long long)t);
		strbuf_addf(&sb,
			    "%llu 0 switch pid=0 prio=120 state=0 next_pid=10 next_prio=120 "
			    "comm=swapper next_comm=t10 common_pid=0\n",
			    (unsigned long long)t + 50);
		strbuf_addf(&sb, "%llu 0 switch pid=10 prio=120 state=1 next_pid=0 next_prio=120 "
			    "comm=t10 next_comm=swapper common_pid=10\n",
			    (unsigned long long)(t + 50 + i * 1000));
		t += 50 + i * 1000 + 100000;
	}
	strbuf_addf(&sb, "%llu 0 wakeup pid=10 prio=120 target_cpu=0 comm=t10 common_pid=0\n",
		    (unsigned long long)t);
	strbuf_addf(&sb, "%llu 0 switch pid=0 prio=120 state=0 next_pid=10 next_prio=120 "
		    "comm=swapper next_comm=t10 common_pid=0\n", (unsigned long long)t + 70);
	run_text(sb.buf, &r);
	strbuf_release(&sb);
	assert_int_equal(r.n, 7);
	d = &r.d[6];
	assert_int_equal(d->ncand, 1);
	for (int k = 0; k < TK; k++) {
		const int16_t *ep = d->window[0] + k * FEAT_E;
		int burst_us = 6 - TK + 1 + k;	/* 3, 4, 5, 6 */

		assert_int_equal(ep[FEAT_EP_PRESENT], ONE);
		assert_int_equal(ep[FEAT_EP_BURST], feat_log2us((uint64_t)burst_us * 1000));
		assert_int_equal(ep[FEAT_EP_WAIT], feat_log2us(50));
		assert_int_equal(ep[FEAT_EP_SLEEP], feat_log2us(100000));
		assert_int_equal(ep[FEAT_EP_OUT_RUNNABLE], 0);
	}
	assert_int_equal(d->state[0][FEAT_ST_SLEEP], feat_log2us(100000));
	assert_int_equal(d->state[0][FEAT_ST_QUEUED], feat_log2us(70));
}

/* sched_migrate_task moves a queued task to another CPU's queue. */
static void test_migration(void **state)
{
	struct run r;

	run_text("@cpus 2\n" SW(1000, 0, 0, 0, 10) SW(1100, 1, 0, 0, 20) WAKE(2000, 0, 11, 0, 10)
		     WAKE(2100, 0, 12, 0, 10) "3000 1 sched_migrate_task pid=11 prio=120 "
					      "orig_cpu=0 dest_cpu=1 comm=t11 common_pid=20\n" SW(
						  4000, 0, 10, 1, 12) SW(5000, 1, 20, 1, 11),
		 &r);
	assert_int_equal(r.n, 4);
	/* cpu0 at 4000: only t12 (t11 left) */
	assert_int_equal(r.d[2].cpu, 0);
	assert_int_equal(r.d[2].ncand, 1);
	assert_int_equal(r.d[2].cand[0].pid, 12);
	/* cpu1 at 5000: t11, queued there since the migration */
	assert_int_equal(r.d[3].cpu, 1);
	assert_int_equal(r.d[3].ncand, 1);
	assert_int_equal(r.d[3].cand[0].pid, 11);
	assert_int_equal(r.d[3].label, 0);
	assert_true(r.d[3].cand[0].queued_ns == 2000);
}

/* An exiting task leaves for good and its record is freed. */
static void test_exit(void **state)
{
	struct run r;

	run_text("@cpus 1\n"
		 SW(1000, 0, 0, 0, 10)
		 WAKE(1500, 0, 11, 0, 10)
		 "2000 0 sched_process_exit pid=10 prio=120 comm=t10 common_pid=10\n"
		 SW(2100, 0, 10, 0x10, 11)
		 WAKE(2500, 0, 12, 0, 11)
		 SW(3000, 0, 11, 0x100, 12)
		 SW(4000, 0, 12, 1, 11), &r);
	assert_int_equal(r.n, 4);
	for (int i = 0; i < r.n; i++)
		assert_int_equal(cand_index(&r.d[i], 10), -1);
	assert_int_equal(r.d[2].ncand, 1);	/* t12 only: t11 is switching out */
	assert_int_equal(r.d[3].ncand, 1);	/* t11 preempted; t10 gone */
	assert_int_equal(r.d[3].cand[0].pid, 11);
	assert_true(r.tasks == 2);		/* t11 and t12; t10 was freed */
}

/*
 * Retired task ids (opts.retired): a task that exits is retired once, after
 * its last episode, and no episode or candidate names it again;
 * feat_state_reset() retires every task the engine held; without
 * opts.retired nothing is kept.
 */
static void test_retired(void **state)
{
	static const char *const text =
		"@cpus 2\n"
		SW(1000, 0, 0, 0, 10)
		WAKE(1500, 0, 11, 0, 10)
		"2000 0 sched_process_exit pid=10 prio=120 comm=t10 common_pid=10\n"
		SW(2100, 0, 10, 0x10, 11)
		WAKE(2500, 0, 12, 0, 11)
		SW(3000, 0, 11, 0x100, 12)
		SW(4000, 0, 12, 1, 11)
		WAKE(4100, 1, 13, 1, 11)
		SW(6000, 0, 11, 1, 12);
	struct ds_event *evs;
	int n, nr_cpus;
	uint32_t recorded;

	n = parse(text, &evs, &nr_cpus, &recorded);
	for (int with = 0; with <= 1; with++) {
		struct feat_opts o = { .mode = DS_WIN_CANDIDATES, .state_set = g_set, .K = TK,
				       .events_recorded = recorded, .episodes = 1, .retired = with };
		struct feat_state *st = feat_state_new(&o, nr_cpus);
		int gone[64] = { 0 }, eps[64] = { 0 }, n_gone = 0;
		struct feat_decision_out out;

		assert_non_null(st);
		for (int i = 0; i < n; i++) {
			const uint32_t *id;
			const int16_t *rows;
			size_t k;

			if (feat_decision(st, &evs[i], &out) == 1)
				for (int j = 0; j < out.ncand; j++)
					assert_false(gone[out.cand[j].task]);
			assert_int_equal(feat_apply(st, &evs[i]), 0);
			k = feat_take_episodes(st, &id, &rows);
			for (size_t j = 0; j < k; j++) {
				assert_true(id[j] < 64);
				assert_false(gone[id[j]]);
				eps[id[j]]++;
			}
			k = feat_take_retired(st, &id);
			if (!with)
				assert_int_equal(k, 0);
			for (size_t j = 0; j < k; j++) {
				assert_true(id[j] < 64);
				assert_false(gone[id[j]]);	/* once */
				gone[id[j]] = 1;
				n_gone++;
			}
		}
		assert_int_equal(feat_nr_tasks(st), 3);	/* t11, t12, t13 */
		if (with) {
			const uint32_t *id;
			size_t k;

			/* t10 (id 0) exited and was retired, alone; t11 (id 1) has episodes */
			assert_true(eps[1] >= 1);
			assert_int_equal(n_gone, 1);
			assert_true(gone[0]);
			/* a reset retires the other three, once each */
			feat_state_reset(st, nr_cpus, recorded);
			k = feat_take_retired(st, &id);
			assert_int_equal(k, 3);
			for (size_t j = 0; j < k; j++) {
				assert_true(id[j] >= 1 && id[j] <= 3);
				assert_false(gone[id[j]]);
				gone[id[j]] = 1;
			}
			assert_int_equal(feat_take_retired(st, &id), 0);
		}
		feat_state_free(st);
	}
	free(evs);
}

/* Switches to idle are not decisions, and idle (pid 0) is never queued. */
static void test_idle(void **state)
{
	struct run r;

	run_text("@cpus 1\n"
		 SW(1000, 0, 0, 0, 10)
		 SW(2000, 0, 10, 1, 0)
		 WAKE(3000, 0, 10, 0, 0)
		 SW(3100, 0, 0, 0, 10)
		 SW(4000, 0, 10, 1, 0), &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.d[1].ncand, 1);
	assert_int_equal(r.d[1].cand[0].pid, 10);
	assert_int_equal(r.d[1].prev_pid, 0);
	assert_int_equal(r.d[1].label, 0);
	assert_int_equal(r.d[1].state[0][FEAT_ST_SLEEP], feat_log2us(1000));
	assert_true(r.cov.inferred_switches == 0);
}

/* A pick that was never queued is an uncovered decision (label -1). */
static void test_pick_never_queued(void **state)
{
	struct run r;

	run_text("@cpus 1\n"
		 SW(1000, 0, 0, 0, 10)
		 WAKE(1500, 0, 11, 0, 10)
		 WAKE(1600, 0, 12, 0, 10)
		 SW(2000, 0, 10, 1, 13), &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.d[1].ncand, 2);
	assert_int_equal(r.d[1].label, -1);
	assert_true(r.cov.covered == 0 && r.cov.contested == 1 && r.cov.contested_covered == 0);
}

/*
 * The switch out of idle on cpu1 is not recorded; the next event there says,
 * through common_pid, who runs.  The inferred switch is counted, dated at the
 * wakeup (the CPU was idle), and not a decision; the next real switch is.
 */
static void test_inferred_idle_switch(void **state)
{
	struct run r;
	const int16_t *ep;

	run_text("@cpus 2\n"
		 SW(1000, 0, 0, 0, 10)
		 SW(1000, 1, 0, 0, 20)
		 SW(2000, 1, 20, 1, 0)
		 WAKE(3000, 0, 21, 1, 10)
		 /* cpu1: swapper -> t21 at ~3000, not recorded */
		 WAKE(5000, 1, 22, 1, 21)
		 SW(9000, 1, 21, 1, 22)
		 WAKE(9500, 0, 21, 1, 10)
		 SW(12000, 1, 22, 0x100, 21), &r);
	assert_true(r.cov.inferred_switches == 1);
	/* decisions: 0->10, 0->20 (initial), 21->22, 22->21; not the inferred 0->21 */
	assert_int_equal(r.n, 4);
	assert_int_equal(r.d[2].prev_pid, 21);
	assert_int_equal(r.d[2].ncand, 1);
	assert_int_equal(r.d[2].cand[0].pid, 22);
	assert_int_equal(r.d[2].label, 0);
	assert_int_equal(r.d[2].state[0][FEAT_ST_WOKEN_BY_PREV], ONE);
	/* t21's episode: wait 0 (ran at the wakeup), burst 3000..9000 */
	assert_int_equal(r.d[3].cand[0].pid, 21);
	ep = r.d[3].window[0] + (TK - 1) * FEAT_E;
	assert_int_equal(ep[FEAT_EP_BURST], feat_log2us(6000));
	assert_int_equal(ep[FEAT_EP_WAIT], 0);
	assert_int_equal(r.d[3].state[0][FEAT_ST_QUEUED], feat_log2us(2500));
}

/*
 * The first event on a CPU only says who runs there (not an inferred switch);
 * a burst whose start was not seen makes no episode.
 */
static void test_first_event_learns(void **state)
{
	struct run r;

	run_text("@cpus 2\n"
		 WAKE(500, 1, 5, 0, 7)		/* t5 queued on cpu0; cpu1 runs t7 */
		 WAKE(1000, 0, 10, 0, 5)	/* cpu0's first event: t5 runs there */
		 SW(2000, 0, 5, 0x100, 10)
		 SW(3000, 0, 10, 1, 5), &r);
	assert_true(r.cov.inferred_switches == 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.d[0].prev_pid, 5);
	assert_int_equal(r.d[0].label, 0);
	assert_int_equal(r.d[1].cand[0].pid, 5);
	assert_int_equal(r.d[1].label, 0);
	assert_int_equal(r.d[1].state[0][FEAT_ST_NEVER_RAN], 0);
	assert_true(r.d[1].cand[0].since_ran_ns == 1000);
	for (int i = 0; i < TK * FEAT_E; i++)
		assert_int_equal(r.d[1].window[0][i], 0);
}

/* Lost events reset the queue of their CPU instead of guessing. */
static void test_lost_reset(void **state)
{
	struct run r;

	run_text("@cpus 2\n"
		 SW(1000, 0, 0, 0, 10)
		 WAKE(1500, 0, 11, 0, 10)
		 WAKE(1600, 0, 12, 1, 10)
		 "2000 0 lost state=17\n"
		 WAKE(2500, 0, 13, 0, 10)
		 SW(3000, 0, 10, 1, 11)
		 SW(3100, 1, 0, 0, 12), &r);
	assert_true(r.cov.lost_resets == 1);
	assert_int_equal(r.n, 3);
	/* cpu0 forgot t11; t13 came after the gap; t10 known again from the switch */
	assert_int_equal(r.d[1].ncand, 1);
	assert_int_equal(r.d[1].cand[0].pid, 13);
	assert_int_equal(r.d[1].label, -1);
	assert_true(r.cov.inferred_switches == 0);
	/* cpu1 untouched */
	assert_int_equal(r.d[2].ncand, 1);
	assert_int_equal(r.d[2].cand[0].pid, 12);
}

/* Without sched_wakeup, sched_waking (and migrate) stand in for it. */
static void test_waking_only(void **state)
{
	const char *ev = "@cpus 2\n" SW(
	    1000, 0, 0, 0,
	    10) "2000 0 sched_waking pid=11 prio=120 target_cpu=0 comm=t11 common_pid=10\n"
		"2000 0 sched_migrate_task pid=11 prio=120 orig_cpu=0 dest_cpu=1 comm=t11 "
		"common_pid=10\n" SW(3000, 1, 0, 0, 11);
	struct strbuf sb = STRBUF_INIT;
	struct run r;

	strbuf_addf(&sb, "@events sched_switch,sched_waking,sched_migrate_task\n%s", ev);
	run_text(sb.buf, &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.d[1].ncand, 1);
	assert_int_equal(r.d[1].label, 0);
	assert_int_equal(r.d[1].state[0][FEAT_ST_WAIT_WOKEN], ONE);
	/* with sched_wakeup recorded, a waking alone queues nothing */
	run_text(ev, &r);
	assert_int_equal(r.d[1].ncand, 0);
	assert_int_equal(r.d[1].label, -1);
	strbuf_release(&sb);
}

/* Without sched_wakeup_new, a fork queues the child on the fork's CPU. */
static void test_fork(void **state)
{
	const char *ev =
	    SW(1000, 0, 0, 0, 10) "1500 0 sched_process_fork pid=10 next_pid=30 comm=t10 "
				  "next_comm=child common_pid=10\n" SW(2000, 0, 10, 1, 30);
	struct strbuf sb = STRBUF_INIT;
	struct run r;

	strbuf_addf(&sb, "@events sched_switch,sched_waking,sched_process_fork\n%s", ev);
	run_text(sb.buf, &r);
	assert_int_equal(r.d[1].ncand, 1);
	assert_int_equal(r.d[1].label, 0);
	assert_string_equal(r.d[1].cand[0].comm, "child");
	run_text(ev, &r);
	assert_int_equal(r.d[1].ncand, 0);	/* wakeup_new recorded: wait for it */
	strbuf_release(&sb);
}

/* ---- sequence mode ------------------------------------------------------------- */

static void test_sequence(void **state)
{
	struct feat_vocab *v = feat_vocab_new(0);
	struct ds_event *evs;
	struct run r;
	uint64_t nv;
	const char *const *names;
	int nr_cpus, n;
	uint32_t rec;

	/* picks on cpu0: 10 11 10 12 10 ; vocabulary of 3 = unknown, t10, t11 (first seen) */
	n = parse("@cpus 1\n@events sched_switch\n"
		  SW(1000, 0, 0, 0, 10)
		  SW(2000, 0, 10, 0x100, 11)
		  SW(4000, 0, 11, 1, 10)
		  SW(8000, 0, 10, 1, 12)
		  SW(9000, 0, 12, 1, 10), &evs, &nr_cpus, &rec);
	for (int i = 0; i < n; i++)
		feat_vocab_count(v, evs[i].next_pid, evs[i].next_comm);
	feat_vocab_freeze(v, 3);
	names = feat_vocab_names(v, &nv);
	assert_true(nv == 3);
	assert_string_equal(names[0], FEAT_VOCAB_UNKNOWN);
	assert_string_equal(names[1], "t10");
	assert_string_equal(names[2], "t11");
	run_events(evs, n, nr_cpus, rec, DS_WIN_SEQUENCE, v, &r);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.d[0].label, 1);
	assert_int_equal(r.d[3].label, 0);	/* t12: unknown class */
	assert_true(r.cov.covered == 4);
	/* at 9000: history 10 11 10 12 -> ids 1 2 1 0, gaps to the next pick */
	assert_int_equal(r.d[4].ids[0], 1);
	assert_int_equal(r.d[4].ids[1], 2);
	assert_int_equal(r.d[4].ids[2], 1);
	assert_int_equal(r.d[4].ids[3], 0);
	assert_int_equal(r.d[4].gaps[0], feat_log2us(1000));
	assert_int_equal(r.d[4].gaps[1], feat_log2us(2000));
	assert_int_equal(r.d[4].gaps[2], feat_log2us(4000));
	assert_int_equal(r.d[4].gaps[3], feat_log2us(1000));
	/* at 2000: one pick so far, padded in front */
	assert_int_equal(r.d[1].ids[0], -1);
	assert_int_equal(r.d[1].ids[2], -1);
	assert_int_equal(r.d[1].ids[3], 1);
	assert_int_equal(r.d[1].gaps[3], feat_log2us(1000));
	assert_int_equal(r.d[1].ncand, 0);
	free(evs);
	feat_vocab_free(v);
}

/* Frequency order with a cap; ties keep first-seen order. */
static void test_vocab_freq(void **state)
{
	struct feat_vocab *v = feat_vocab_new(0);
	const char *const *names;
	uint64_t n;

	feat_vocab_count(v, 1, "a");
	feat_vocab_count(v, 2, "b");
	feat_vocab_count(v, 3, "c");
	feat_vocab_count(v, 3, "c");
	feat_vocab_count(v, 4, "");	/* no identity: not counted */
	feat_vocab_freeze(v, 3);
	names = feat_vocab_names(v, &n);
	assert_true(n == 3);
	assert_string_equal(names[1], "c");
	assert_string_equal(names[2], "a");
	assert_int_equal(feat_vocab_id(v, 9, "b"), 0);
	assert_int_equal(feat_vocab_id(v, 9, "c"), 1);
	feat_vocab_free(v);
}

/* ---- split ----------------------------------------------------------------------- */

static void test_split(void **state)
{
	int s[3] = { 70, 15, 15 }, all[3] = { 100, 0, 0 }, nv[3] = { 80, 0, 20 };

	assert_int_equal(feat_split_of(1000, 1000, 2000, s), DS_SPLIT_TRAIN);
	assert_int_equal(feat_split_of(1699, 1000, 2000, s), DS_SPLIT_TRAIN);
	assert_int_equal(feat_split_of(1700, 1000, 2000, s), DS_SPLIT_VAL);
	assert_int_equal(feat_split_of(1849, 1000, 2000, s), DS_SPLIT_VAL);
	assert_int_equal(feat_split_of(1850, 1000, 2000, s), DS_SPLIT_TEST);
	assert_int_equal(feat_split_of(2000, 1000, 2000, s), DS_SPLIT_TEST);
	assert_int_equal(feat_split_of(2000, 1000, 2000, all), DS_SPLIT_TRAIN);
	assert_int_equal(feat_split_of(1850, 1000, 2000, nv), DS_SPLIT_TEST);
	assert_int_equal(feat_split_of(1799, 1000, 2000, nv), DS_SPLIT_TRAIN);
	assert_int_equal(feat_split_of(5, 5, 5, s), DS_SPLIT_TRAIN);
	/* no overflow on huge spans */
	assert_int_equal(feat_split_of(UINT64_MAX - 1, 0, UINT64_MAX, s), DS_SPLIT_TEST);
}

/* ---- a random, roughly plausible event stream --------------------------------------- */

struct sim {
	uint64_t rng, ts;
	int nr_cpus, nr_tasks;
	int curr[8];
	int where[64];		/* -1 asleep, else cpu (running or queued) */
};

static uint32_t rnd(struct sim *s)
{
	s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(s->rng >> 33);
}

/*
 * One event of a 4-CPU, 20-task system.  Switches out of idle on CPUs other
 * than 0 are dropped, as the kernels here do; a few events are lost.
 */
static int sim_event(struct sim *s, struct ds_event *ev)
{
	int cpu = (int)(rnd(s) % (uint32_t)s->nr_cpus), k = (int)(rnd(s) % 100);
	int pid = 100 + (int)(rnd(s) % (uint32_t)s->nr_tasks);

	s->ts += 1 + rnd(s) % 20000;
	if (k < 35) {
		if (s->where[pid - 100] >= 0 || pid == s->curr[cpu])
			return 0;
		ds_event_init(ev, DS_EV_WAKEUP, s->ts, cpu);
		ev->pid = pid;
		ev->prio = 100 + pid % 30;
		ev->target_cpu = (int)(rnd(s) % (uint32_t)s->nr_cpus);
		ev->common_pid = s->curr[cpu];
		snprintf(ev->comm, DS_COMM_LEN, "w%d", pid % 7);
		s->where[pid - 100] = ev->target_cpu;
		return 1;
	}
	if (k < 85) {
		int prev = s->curr[cpu], next = 0, runnable = rnd(s) % 3 == 0;

		for (int i = 0; i < s->nr_tasks; i++) {
			int p = 100 + (int)((uint32_t)i + rnd(s)) % s->nr_tasks;

			if (s->where[p - 100] == cpu && p != prev) {
				next = p;
				break;
			}
		}
		if (rnd(s) % 10 == 0)
			next = 100 + (int)(rnd(s) % (uint32_t)s->nr_tasks); /* never queued */
		if (next == prev)
			return 0;
		ds_event_init(ev, DS_EV_SWITCH, s->ts, cpu);
		ev->pid = prev;
		ev->prio = prev ? 100 + prev % 30 : 120;
		ev->state = prev && runnable ? DS_STATE_PREEMPTED : DS_STATE_INTERRUPTIBLE;
		if (!prev)
			ev->state = 0;
		ev->next_pid = next;
		ev->next_prio = next ? 100 + next % 30 : 120;
		ev->common_pid = prev;
		snprintf(ev->comm, DS_COMM_LEN, "w%d", prev % 7);
		snprintf(ev->next_comm, DS_COMM_LEN, "w%d", next % 7);
		if (prev)
			s->where[prev - 100] = runnable ? cpu : -1;
		if (next) {
			for (int c = 0; c < s->nr_cpus; c++)
				if (s->curr[c] == next)
					s->curr[c] = 0;
			s->where[next - 100] = cpu;
		}
		s->curr[cpu] = next;
		return !(prev == 0 && cpu != 0);	/* idle-out not recorded off cpu0 */
	}
	if (k < 95) {
		int dest = (int)(rnd(s) % (uint32_t)s->nr_cpus);

		if (s->where[pid - 100] < 0 || s->curr[s->where[pid - 100]] == pid)
			return 0;
		ds_event_init(ev, DS_EV_MIGRATE, s->ts, cpu);
		ev->pid = pid;
		ev->prio = 100 + pid % 30;
		ev->orig_cpu = s->where[pid - 100];
		ev->dest_cpu = dest;
		ev->common_pid = s->curr[cpu];
		s->where[pid - 100] = dest;
		return 1;
	}
	if (k < 99) {
		ds_event_init(ev, DS_EV_WAKING, s->ts, cpu);
		ev->pid = pid;
		ev->prio = 120;
		ev->target_cpu = cpu;
		ev->common_pid = s->curr[cpu];
		return 1;
	}
	ds_event_init(ev, DS_EV_LOST, s->ts, cpu);
	ev->state = 3;
	return 1;
}

static int sim_stream(uint64_t seed, int n, struct ds_event **out)
{
	struct sim s = { .rng = seed, .ts = 1000, .nr_cpus = 4, .nr_tasks = 20 };
	struct ds_event *evs = xcalloc((size_t)n, sizeof(*evs));
	int i = 0;

	for (int t = 0; t < 64; t++)
		s.where[t] = -1;
	while (i < n)
		i += sim_event(&s, &evs[i]);
	*out = evs;
	return n;
}

static int dec_equal(const struct dec_rec *a, const struct dec_rec *b)
{
	if (a->ts != b->ts || a->cpu != b->cpu || a->ncand != b->ncand ||
	    a->prev_pid != b->prev_pid)
		return 0;
	for (int i = 0; i < a->ncand; i++)
		if (memcmp(&a->cand[i], &b->cand[i], sizeof(a->cand[i])) ||
		    memcmp(a->state[i], b->state[i], sizeof(a->state[i])) ||
		    memcmp(a->window[i], b->window[i], sizeof(a->window[i])))
			return 0;
	return !memcmp(a->ids, b->ids, sizeof(a->ids)) &&
	       !memcmp(a->gaps, b->gaps, sizeof(a->gaps));
}

/* Change what a decision decides (its pick and prev_state) and everything after it. */
static void mutate_from(struct ds_event *evs, int n, int i, uint64_t seed)
{
	struct sim s = { .rng = seed, .ts = evs[i].ts, .nr_cpus = 4, .nr_tasks = 20 };

	evs[i].next_pid = 100 + (int)(rnd(&s) % 20);
	snprintf(evs[i].next_comm, DS_COMM_LEN, "other");
	evs[i].next_prio = 99;
	evs[i].state = evs[i].state == DS_STATE_PREEMPTED ? DS_STATE_INTERRUPTIBLE
							  : DS_STATE_PREEMPTED;
	for (int t = 0; t < 64; t++)
		s.where[t] = -1;
	for (int j = i + 1; j < n;)
		j += sim_event(&s, &evs[j]);
}

/* No feature of a decision depends on its own outcome or on later events. */
static void test_no_leak_engine(void **state)
{
	const int n = 3000;
	struct ds_event *evs, *alt = xcalloc((size_t)n, sizeof(*alt));
	struct feat_vocab *v = feat_vocab_new(0);
	int checked = 0;

	sim_stream(42, n, &evs);
	for (int i = 0; i < 7; i++) {
		char name[8];

		snprintf(name, sizeof(name), "w%d", i);
		feat_vocab_count(v, 0, name);
	}
	feat_vocab_freeze(v, 5);
	for (int mode = DS_WIN_CANDIDATES; mode <= DS_WIN_SEQUENCE; mode++) {
		struct feat_opts o = { .mode = mode, .state_set = g_set, .K = TK, .W = TW,
				       .vocab = v };
		struct feat_state *a = feat_state_new(&o, 4);
		struct feat_decision_out out;
		struct run *ra = xcalloc(1, sizeof(*ra)), *rb = xcalloc(1, sizeof(*rb));

		for (int i = 0; i < n; i++) {
			if (feat_decision(a, &evs[i], &out) == 1 && i % 17 == 0) {
				struct feat_state *b = feat_state_new(&o, 4);

				ra->n = rb->n = 0;
				record(ra, &out);
				memcpy(alt, evs, (size_t)n * sizeof(*alt));
				mutate_from(alt, n, i, (uint64_t)i * 7919);
				for (int j = 0; j < i; j++) {
					feat_decision(b, &alt[j], &out);
					feat_apply(b, &alt[j]);
				}
				assert_int_equal(feat_decision(b, &alt[i], &out), 1);
				record(rb, &out);
				assert_true(dec_equal(&ra->d[0], &rb->d[0]));
				feat_state_free(b);
				checked++;
			}
			feat_apply(a, &evs[i]);
		}
		assert_true(feat_coverage(a)->inferred_switches > 0);
		assert_true(feat_coverage(a)->lost_resets > 0);
		if (mode == DS_WIN_CANDIDATES)
			assert_true(feat_coverage(a)->contested > 0);
		feat_state_free(a);
		free(ra);
		free(rb);
	}
	assert_true(checked > 20);
	feat_vocab_free(v);
	free(evs);
	free(alt);
}

/* ---- whole files: trace.h5 -> windows.h5 ------------------------------------------ */

static char *write_trace(const char *name, const struct ds_event *evs, int n, uint32_t recorded)
{
	struct ds_trace_meta m = { .nr_cpus = 4, .events_recorded = recorded };
	char *path = unit_path(name);
	struct ds_trace_writer *w;

	snprintf(m.source, sizeof(m.source), "synthetic");
	w = ds_trace_create(path, &m);
	assert_non_null(w);
	for (int i = 0; i < n; i++)
		assert_int_equal(ds_trace_write(w, &evs[i]), 0);
	assert_int_equal(ds_trace_writer_close(w, NULL), 0);
	return path;
}

static struct feat_extract_opts xopts(int mode)
{
	return (struct feat_extract_opts){ .mode = mode, .K = TK, .W = TW,
					   .split = { 70, 15, 15 }, .vocab_size = 5,
					   .state_set = FEAT_SET_WAIT };
}

/*
 * The same no-leak property through the files: a trace whose events from
 * decision i on are different yields the same rows for decisions 0..i.
 */
static void test_no_leak_files(void **state)
{
	const int n = 2000;
	struct ds_event *evs, *alt = xcalloc((size_t)n, sizeof(*alt));
	struct feat_extract_opts o = xopts(DS_WIN_CANDIDATES);
	char *ta, *tb, *wa = unit_path("a.h5"), *wb = unit_path("b.h5");
	struct ds_windows *A, *B;
	const char *in[1];
	int cut = -1, seen = 0;
	uint64_t d;

	sim_stream(7, n, &evs);
	/* the 40th switch that the engine will take as a decision (not from idle off cpu0) */
	for (int i = 0; i < n && cut < 0; i++)
		if (evs[i].type == DS_EV_SWITCH && evs[i].next_pid > 0 && ++seen == 40)
			cut = i;
	assert_true(cut > 0);
	memcpy(alt, evs, (size_t)n * sizeof(*alt));
	mutate_from(alt, n, cut, 99);
	ta = write_trace("ta.h5", evs, n, DS_EV_ALL_SCHED);
	tb = write_trace("tb.h5", alt, n, DS_EV_ALL_SCHED);
	in[0] = ta;
	assert_int_equal(feat_extract(wa, in, 1, &o, NULL), 0);
	in[0] = tb;
	assert_int_equal(feat_extract(wb, in, 1, &o, NULL), 0);
	A = feat_windows_load(wa);
	B = feat_windows_load(wb);
	assert_non_null(A);
	assert_non_null(B);
	for (d = 0; d < A->n_dec && A->dec[d].ts <= evs[cut].ts; d++) {
		const struct ds_decision *x = &A->dec[d], *y = &B->dec[d];

		assert_true(d < B->n_dec);
		assert_true(x->ts == y->ts && x->cpu == y->cpu && x->ncand == y->ncand &&
			    x->cand_off == y->cand_off);
		assert_memory_equal(&A->cand[x->cand_off], &B->cand[y->cand_off],
				    (size_t)x->ncand * sizeof(*A->cand));
		assert_memory_equal(&A->window[x->cand_off * TK * FEAT_E],
				    &B->window[y->cand_off * TK * FEAT_E],
				    (size_t)x->ncand * TK * FEAT_E * sizeof(int16_t));
		assert_memory_equal(&A->state[x->cand_off * FEAT_S],
				    &B->state[y->cand_off * FEAT_S],
				    (size_t)x->ncand * FEAT_S * sizeof(int16_t));
		if (A->dec[d].ts < evs[cut].ts)
			assert_int_equal(x->label, y->label);
	}
	assert_true(d >= 30);
	ds_windows_free(A);
	ds_windows_free(B);
	free(ta);
	free(tb);
	free(wa);
	free(wb);
	free(evs);
	free(alt);
}

/*
 * The offline driver agrees with the engine, keeps traces apart (each starts
 * from an empty state), splits each trace by its own time, and writes
 * everything the loader checks.
 */
static void test_extract_round_trip(void **state)
{
	const int n = 3000;
	struct ds_event *evs;
	struct feat_extract_opts o = xopts(DS_WIN_CANDIDATES);
	struct feat_extract_stats stats;
	char *t1, *t2, *out = unit_path("w.h5");
	const char *in[2];
	struct ds_windows *w;
	struct run *r = xcalloc(1, sizeof(*r));
	uint64_t per[2] = { 0 }, split_n[2][3] = { { 0 } };

	sim_stream(3, n, &evs);
	t1 = write_trace("t1.h5", evs, n, DS_EV_ALL_SCHED);
	t2 = write_trace("t2.h5", evs, n / 2, DS_EV_ALL_SCHED);
	in[0] = t1;
	in[1] = t2;
	assert_int_equal(feat_extract(out, in, 2, &o, &stats), 0);
	assert_true(stats.events == (uint64_t)(n + n / 2));
	w = feat_windows_load(out);
	assert_non_null(w);
	assert_int_equal(w->mode, DS_WIN_CANDIDATES);
	assert_int_equal(w->K, TK);
	assert_int_equal(w->E, FEAT_E);
	assert_int_equal(w->S, FEAT_S);
	assert_int_equal(w->nr_traces, 2);
	assert_string_equal(w->traces[1], t2);
	assert_string_equal(w->ep_names[FEAT_EP_BURST], "ep_burst");
	assert_string_equal(w->state_names[FEAT_ST_QUEUED], "queued");
	assert_int_equal(w->state_frac[FEAT_ST_QUEUED], FEAT_FRAC);
	assert_true(w->cov.decisions == w->n_dec);
	assert_true(w->cov.decisions == stats.cov.decisions);
	for (uint64_t i = 0; i < w->n_dec; i++) {
		per[w->dec[i].trace]++;
		split_n[w->dec[i].trace][w->dec[i].split]++;
		if (i)	/* time order within a trace */
			assert_true(w->dec[i].trace != w->dec[i - 1].trace ||
				    w->dec[i].ts >= w->dec[i - 1].ts);
		if (i && w->dec[i].trace == w->dec[i - 1].trace)
			assert_true(w->dec[i].split >= w->dec[i - 1].split);
	}
	/* trace 2 is the first half of trace 1: the same decisions, from a fresh state */
	run_events(evs, n / 2, 4, DS_EV_ALL_SCHED, DS_WIN_CANDIDATES, NULL, r);
	assert_true(per[1] == w->cov.decisions - per[0]);
	for (uint64_t i = per[0], k = 0; i < w->n_dec && k < 64 && k < (uint64_t)r->n; i++, k++) {
		const struct ds_decision *d = &w->dec[i];

		assert_true(d->ts == r->d[k].ts);
		assert_int_equal(d->ncand, r->d[k].ncand);
		assert_int_equal(d->label, r->d[k].label);
		for (int c = 0; c < d->ncand; c++) {
			struct ds_candidate want = r->d[k].cand[c];

			/* task ids go on from the first trace's (n_ep starts afresh) */
			assert_true(w->cand[d->cand_off + c].task >= want.task);
			want.task = w->cand[d->cand_off + c].task;
			assert_memory_equal(&w->cand[d->cand_off + c], &want,
					    sizeof(struct ds_candidate));
			assert_memory_equal(&w->state[(d->cand_off + c) * FEAT_S], r->d[k].state[c],
					    FEAT_S * sizeof(int16_t));
			assert_memory_equal(&w->window[(d->cand_off + c) * TK * FEAT_E],
					    r->d[k].window[c], TK * FEAT_E * sizeof(int16_t));
		}
	}
	/* each trace is split by its own span: all three splits appear in both */
	for (int t = 0; t < 2; t++)
		for (int s = 0; s < 3; s++)
			assert_true(split_n[t][s] > 0);
	assert_true(split_n[0][0] > split_n[0][1] && split_n[0][0] > split_n[0][2]);
	ds_windows_free(w);

	/* the basic state set: the same rows, the first FEAT_S_BASIC state features */
	{
		struct ds_windows *full = feat_windows_load(out);
		char *bout = unit_path("w-basic.h5");

		assert_non_null(full);
		o.state_set = FEAT_SET_BASIC;
		assert_int_equal(feat_extract(bout, in, 2, &o, NULL), 0);
		w = feat_windows_load(bout);
		assert_non_null(w);
		assert_int_equal(w->S, FEAT_S_BASIC);
		assert_int_equal(feat_set_of(w->state_names, w->state_frac, w->S),
				 FEAT_SET_BASIC);
		assert_int_equal(feat_set_of(full->state_names, full->state_frac, full->S),
				 FEAT_SET_WAIT);
		assert_string_equal(full->state_names[FEAT_ST_M1_PID], "m1_pid");
		assert_true(w->n_cand == full->n_cand);
		for (uint64_t i = 0; i < w->n_cand; i++)
			assert_memory_equal(&w->state[i * FEAT_S_BASIC], &full->state[i * FEAT_S],
					    FEAT_S_BASIC * sizeof(int16_t));
		ds_windows_free(w);
		ds_windows_free(full);
		free(bout);
	}

	/* sequence mode from the same traces */
	o = xopts(DS_WIN_SEQUENCE);
	assert_int_equal(feat_extract(out, in, 2, &o, &stats), 0);
	w = feat_windows_load(out);
	assert_non_null(w);
	assert_int_equal(w->mode, DS_WIN_SEQUENCE);
	assert_int_equal(w->W, TW);
	assert_true(w->n_vocab == 5);
	assert_string_equal(w->vocab[0], FEAT_VOCAB_UNKNOWN);
	assert_true(w->n_cand == 0);
	assert_int_equal(w->seq_gap_frac, FEAT_SEQ_GAP_FRAC);
	for (uint64_t i = 0; i < w->n_dec; i++)
		assert_true(w->dec[i].label >= 0 && (uint64_t)w->dec[i].label < w->n_vocab);
	ds_windows_free(w);
	free(r);
	free(evs);
	free(t1);
	free(t2);
	free(out);
}

/* Candidates mode refuses a trace without wakeups and says to use sequence mode. */
static void test_no_wakeups(void **state)
{
	struct ds_event evs[3];
	struct feat_extract_opts o = xopts(DS_WIN_CANDIDATES);
	char *t, *out = unit_path("nw.h5");
	const char *in[1];

	for (int i = 0; i < 3; i++) {
		ds_event_init(&evs[i], DS_EV_SWITCH, 1000 + i * 1000, 0);
		evs[i].pid = i ? 10 + i - 1 : 0;
		evs[i].next_pid = 10 + i;
		evs[i].state = DS_STATE_PREEMPTED;
		evs[i].common_pid = evs[i].pid;
	}
	t = write_trace("nw-trace.h5", evs, 3, DS_EV_BIT(DS_EV_SWITCH));
	in[0] = t;
	sc_set_quiet(1);
	assert_int_equal(feat_extract(out, in, 1, &o, NULL), -1);
	sc_set_quiet(0);
	assert_int_not_equal(access(out, F_OK), 0);	/* nothing written */
	o = xopts(DS_WIN_SEQUENCE);
	assert_int_equal(feat_extract(out, in, 1, &o, NULL), 0);
	assert_int_equal(access(out, F_OK), 0);
	free(t);
	free(out);
}

/* ---- the full state set: transitions, frequency, ranks, woke_prev ----------- */

/*
 * Three tasks always runnable on one CPU, picked in the cycle 10, 11, 12:
 * after one cycle the transition shares name the next one, the frequency
 * counts the picks, and the basic set is the full set's first features.
 */
static const char cycle_text[] =
	"@cpus 1\n"
	WAKE(100, 0, 10, 0, 0)
	WAKE(200, 0, 11, 0, 0)
	WAKE(300, 0, 12, 0, 0)
	SW(1000, 0, 0, 0, 10)
	SW(2000, 0, 10, 0, 11)
	SW(3000, 0, 11, 0, 12)
	SW(4000, 0, 12, 0, 10)
	SW(5000, 0, 10, 0, 11)
	SW(6000, 0, 11, 0, 12)
	SW(7000, 0, 12, 0, 10);

static void test_transitions(void **state)
{
	struct run *r = xcalloc(2, sizeof(*r));
	const struct dec_rec *d;
	int a, b;

	run_text(cycle_text, &r[0]);
	assert_int_equal(r[0].n, 7);
	/* the first decision: nothing learnt yet */
	d = &r[0].d[0];
	for (int i = 0; i < d->ncand; i++) {
		assert_int_equal(d->state[i][FEAT_ST_M1_PID], 0);
		assert_int_equal(d->state[i][FEAT_ST_FREQ], 0);
		assert_int_equal(d->state[i][FEAT_ST_FREQ_N], 0);
	}
	/* at 5000 (after 10, 11, 12, 10): 11 followed 10 once, 12 never */
	d = &r[0].d[4];
	a = cand_index(d, 11);
	b = cand_index(d, 12);
	assert_true(a >= 0 && b >= 0 && d->ncand == 2);
	assert_int_equal(d->state[a][FEAT_ST_M1_PID], ONE);
	assert_int_equal(d->state[b][FEAT_ST_M1_PID], 0);
	assert_int_equal(d->state[a][FEAT_ST_M1_PID_N], ONE);	/* log2(1 + 1) */
	assert_int_equal(d->state[a][FEAT_ST_M1_COMM], ONE);
	assert_int_equal(d->state[b][FEAT_ST_M1_COMM], 0);
	/* (12, 10) was never seen: no order-2 evidence */
	assert_int_equal(d->state[a][FEAT_ST_M2_PID], 0);
	assert_int_equal(d->state[a][FEAT_ST_M2_COMM], 0);
	/* four picks so far, one of each candidate */
	assert_int_equal(d->state[a][FEAT_ST_FREQ], ONE / 4);
	assert_int_equal(d->state[b][FEAT_ST_FREQ], ONE / 4);
	assert_int_equal(d->state[a][FEAT_ST_FREQ_N], ONE);
	/* at 6000 (p2 = 10, p1 = 11): (10, 11) -> 12 once */
	d = &r[0].d[5];
	a = cand_index(d, 12);
	b = cand_index(d, 10);
	assert_int_equal(d->state[a][FEAT_ST_M2_PID], ONE);
	assert_int_equal(d->state[b][FEAT_ST_M2_PID], 0);
	assert_int_equal(d->state[a][FEAT_ST_M2_COMM], ONE);
	assert_int_equal(d->state[a][FEAT_ST_M1_PID], ONE);
	/* 10 was picked twice of five */
	assert_int_equal(d->state[b][FEAT_ST_FREQ], (2 * ONE + 2) / 5);

	/* the basic and full sets are the fair set's first features */
	for (int set = FEAT_SET_FULL; set <= FEAT_SET_BASIC; set++) {
		g_set = set;
		run_text(cycle_text, &r[1]);
		g_set = FEAT_SET_WAIT;
		assert_int_equal(r[1].n, r[0].n);
		for (int k = 0; k < r[0].n; k++) {
			assert_int_equal(r[1].d[k].ncand, r[0].d[k].ncand);
			for (int i = 0; i < r[0].d[k].ncand; i++)
				assert_memory_equal(r[1].d[k].state[i], r[0].d[k].state[i],
						    feat_set_size(set) * sizeof(int16_t));
		}
	}
	free(r);
}

/*
 * The wait set: each wait joins its task's moving average a quarter at a
 * time (the first one whole); wait_due is how far past it the task has
 * waited now, rank_due ranks the candidates by it.
 */
static const char wait_text[] =
	"@cpus 1\n"
	WAKE(100, 0, 10, 0, 0)
	WAKE(200, 0, 11, 0, 0)
	WAKE(300, 0, 12, 0, 0)
	SW(1000, 0, 0, 0, 10)
	SW(2000, 0, 10, 0, 11)
	SW(3000, 0, 11, 0, 12)
	SW(4000, 0, 12, 0, 10)
	SW(5000, 0, 10, 0, 11);

static void test_wait(void **state)
{
	struct run *r = xcalloc(1, sizeof(*r));
	const struct dec_rec *d;
	int a, b;

	run_text(wait_text, r);
	assert_int_equal(r->n, 5);
	/* at 4000: t10 waited 900 before, runnable 2000 now; t11 1800 and 1000 */
	d = &r->d[3];
	a = cand_index(d, 10);
	b = cand_index(d, 11);
	assert_true(a >= 0 && b >= 0);
	assert_int_equal(d->state[a][FEAT_ST_WAIT_USUAL], feat_log2us(900));
	assert_int_equal(d->state[b][FEAT_ST_WAIT_USUAL], feat_log2us(1800));
	assert_int_equal(d->state[a][FEAT_ST_WAIT_DUE], feat_log2us(1100));
	assert_int_equal(d->state[b][FEAT_ST_WAIT_DUE], -feat_log2us(800));
	assert_int_equal(d->state[a][FEAT_ST_RANK_DUE], ONE);
	assert_int_equal(d->state[b][FEAT_ST_RANK_DUE], ONE / 2);
	/* at 5000: t10's average took its 2000 (a quarter); t11 is 200 past, t12 1700 short */
	d = &r->d[4];
	a = cand_index(d, 11);
	b = cand_index(d, 12);
	assert_true(a >= 0 && b >= 0);
	assert_int_equal(d->state[a][FEAT_ST_WAIT_DUE], feat_log2us(200));
	assert_int_equal(d->state[b][FEAT_ST_WAIT_DUE], -feat_log2us(1700));
	assert_int_equal(d->state[a][FEAT_ST_RANK_DUE], ONE);
	assert_int_equal(r->d[4].prev_pid, 10);
	free(r);
}

/* A new pid of a known program inherits its comm's transitions, not its pid's. */
static void test_transitions_comm(void **state)
{
	struct run r;
	const struct dec_rec *d;
	int a;

	run_text("@cpus 1\n"
		 WAKE(100, 0, 10, 0, 0)
		 WAKE(200, 0, 11, 0, 0)
		 SW(1000, 0, 0, 0, 10)
		 SW(2000, 0, 10, 0, 11)
		 SW(3000, 0, 11, 0, 10)
		 /* 11 exits; 21, another t11, is woken */
		 "3500 0 exit pid=11 comm=t11 common_pid=10\n"
		 "3600 0 wakeup pid=21 prio=120 target_cpu=0 comm=t11 common_pid=10\n"
		 WAKE(3700, 0, 12, 0, 10)
		 SW(4000, 0, 10, 1, 21), &r);
	d = &r.d[r.n - 1];
	assert_int_equal(d->ncand, 2);
	a = cand_index(d, 21);
	assert_true(a >= 0);
	assert_int_equal(d->state[a][FEAT_ST_M1_PID], 0);	/* pid 21 never followed 10 */
	assert_int_equal(d->state[a][FEAT_ST_M1_COMM], ONE);	/* t11 always did */
	assert_int_equal(d->state[1 - a][FEAT_ST_M1_COMM], 0);
}

/* Ranks among the candidates; woke_prev names the task that woke prev. */
static void test_ranks_woke_prev(void **state)
{
	struct run r;
	const struct dec_rec *d;

	run_text("@cpus 1\n"
		 WAKE(100, 0, 10, 0, 0)
		 SW(1000, 0, 0, 0, 10)
		 SW(9000, 0, 10, 1, 0)		/* 10 ran 8 us, sleeps */
		 WAKE(9500, 0, 11, 0, 0)
		 SW(9600, 0, 0, 0, 11)
		 WAKE(9700, 0, 12, 0, 11)	/* 11 wakes 12 and 13 */
		 WAKE(9800, 0, 13, 0, 11)
		 WAKE(9900, 0, 10, 0, 11)	/* and 10 */
		 SW(10000, 0, 11, 0, 12)
		 SW(12000, 0, 12, 1, 10)
		 SW(13000, 0, 10, 1, 11), &r);
	/* at 12000: 13 (queued 9800), 10 (9900, ran 8 us), 11 (10000, ran 0.4 us) */
	d = &r.d[3];
	assert_int_equal(d->ncand, 3);
	assert_int_equal(d->cand[0].pid, 13);
	assert_int_equal(d->cand[1].pid, 10);
	assert_int_equal(d->cand[2].pid, 11);
	assert_int_equal(d->state[0][FEAT_ST_RANK_QUEUED], ONE);
	assert_int_equal(d->state[1][FEAT_ST_RANK_QUEUED], ONE / 2);
	assert_int_equal(d->state[2][FEAT_ST_RANK_QUEUED], ONE / 3);
	/* 13 never ran: the longest since it ran */
	assert_int_equal(d->state[0][FEAT_ST_RANK_SINCE_RAN], ONE);
	assert_int_equal(d->state[1][FEAT_ST_RANK_SINCE_RAN], ONE / 2);
	assert_int_equal(d->state[2][FEAT_ST_RANK_SINCE_RAN], ONE / 3);
	/* least CPU time first: 13 (none), 11 (0.4 us), 10 (8 us) */
	assert_int_equal(d->state[0][FEAT_ST_RANK_CPU], ONE);
	assert_int_equal(d->state[2][FEAT_ST_RANK_CPU], ONE / 2);
	assert_int_equal(d->state[1][FEAT_ST_RANK_CPU], ONE / 3);
	/* 12 (switching out) was woken by 11 */
	assert_int_equal(d->state[2][FEAT_ST_WOKE_PREV], ONE);
	assert_int_equal(d->state[0][FEAT_ST_WOKE_PREV], 0);
	assert_int_equal(d->state[1][FEAT_ST_WOKE_PREV], 0);
	/* at 13000: 10 switches out, woken by 11 too */
	d = &r.d[4];
	assert_int_equal(d->state[cand_index(d, 11)][FEAT_ST_WOKE_PREV], ONE);
	assert_int_equal(d->state[cand_index(d, 13)][FEAT_ST_WOKE_PREV], 0);
}

/*
 * Counts decay: two tasks alternating for many FEAT_DECAY_PICKS keep a share
 * of 1 and a log count bounded by log2(1 + 2 x FEAT_DECAY_PICKS).
 */
static void test_transitions_decay(void **state)
{
	struct feat_opts o = { .mode = DS_WIN_CANDIDATES, .K = TK };
	struct feat_state *st = feat_state_new(&o, 1);
	struct feat_decision_out out;
	struct ds_event ev;
	int16_t most = 0, last = 0;
	int n = 10 * FEAT_DECAY_PICKS;

	for (int p = 10; p <= 11; p++) {
		ds_event_init(&ev, DS_EV_WAKEUP, 100 + (uint64_t)p, 0);
		ev.pid = p;
		ev.target_cpu = 0;
		ev.common_pid = 0;
		assert_int_equal(feat_apply(st, &ev), 0);
	}
	for (int i = 0; i < n; i++) {
		ds_event_init(&ev, DS_EV_SWITCH, 1000 + (uint64_t)i * 1000, 0);
		ev.pid = i ? 10 + (i - 1) % 2 : 0;
		ev.next_pid = 10 + i % 2;
		ev.state = DS_STATE_PREEMPTED;
		ev.common_pid = ev.pid;
		snprintf(ev.comm, DS_COMM_LEN, "t%d", ev.pid);
		snprintf(ev.next_comm, DS_COMM_LEN, "t%d", ev.next_pid);
		if (feat_decision(st, &ev, &out) == 1 && out.ncand == 1 && i > 2) {
			assert_int_equal(out.state[FEAT_ST_M1_PID], ONE);
			assert_int_equal(out.state[FEAT_ST_M1_COMM], ONE);
			most = SC_MAX(most, out.state[FEAT_ST_M1_PID_N]);
			last = out.state[FEAT_ST_M1_PID_N];
		}
		assert_int_equal(feat_apply(st, &ev), 0);
	}
	assert_true(most <= log2(1.0 + 2 * FEAT_DECAY_PICKS) * ONE + 1);
	assert_true(last >= log2(1.0 + FEAT_DECAY_PICKS / 2) * ONE - 1);
	feat_state_free(st);
}

/* Memory follows the tasks alive, not the events. */
static void test_bounded_tasks(void **state)
{
	struct feat_opts o = { .mode = DS_WIN_CANDIDATES, .K = TK };
	struct feat_state *st = feat_state_new(&o, 2);
	struct ds_event ev;
	uint64_t ts = 1000, most = 0;

	/* 100000 short-lived tasks: fork, wakeup_new, run, exit, die */
	for (int i = 0; i < 100000; i++) {
		int pid = 1000 + i;

		ds_event_init(&ev, DS_EV_FORK, ts++, 0);
		ev.pid = 1;
		ev.next_pid = pid;
		ev.common_pid = 1;
		feat_apply(st, &ev);
		ds_event_init(&ev, DS_EV_WAKEUP_NEW, ts++, 0);
		ev.pid = pid;
		ev.target_cpu = i & 1;
		ev.common_pid = 1;
		feat_apply(st, &ev);
		ds_event_init(&ev, DS_EV_SWITCH, ts++, i & 1);
		ev.pid = 0;
		ev.state = 0;
		ev.next_pid = pid;
		ev.common_pid = 0;
		feat_apply(st, &ev);
		ds_event_init(&ev, DS_EV_EXIT, ts++, i & 1);
		ev.pid = pid;
		ev.common_pid = pid;
		feat_apply(st, &ev);
		ds_event_init(&ev, DS_EV_SWITCH, ts++, i & 1);
		ev.pid = pid;
		ev.state = DS_STATE_DEAD;
		ev.next_pid = 0;
		ev.common_pid = pid;
		feat_apply(st, &ev);
		most = SC_MAX(most, feat_nr_tasks(st));
	}
	assert_true(most <= 3);
	assert_true(feat_nr_tasks(st) <= 1);
	feat_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log2us),
		cmocka_unit_test(test_wakeup),
		cmocka_unit_test(test_preemption),
		cmocka_unit_test(test_episode_ring),
		cmocka_unit_test(test_migration),
		cmocka_unit_test(test_exit),
		cmocka_unit_test(test_retired),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_pick_never_queued),
		cmocka_unit_test(test_inferred_idle_switch),
		cmocka_unit_test(test_first_event_learns),
		cmocka_unit_test(test_lost_reset),
		cmocka_unit_test(test_waking_only),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_vocab_freq),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_no_leak_engine),
		cmocka_unit_test(test_no_leak_files),
		cmocka_unit_test(test_extract_round_trip),
		cmocka_unit_test(test_no_wakeups),
		cmocka_unit_test(test_bounded_tasks),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_transitions_comm),
		cmocka_unit_test(test_ranks_woke_prev),
		cmocka_unit_test(test_transitions_decay),
	};
	return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
