// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the evaluator and its baselines on hand-built decisions
 * whose answers are worked out in the comments: the exact random
 * expectation, the candidate-fact baselines and the tie rule, the online
 * Markov baselines (per CPU, learning only after scoring), model scoring,
 * sequence mode and the Wilson interval.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "analyze/analyze-local.h"
#include "common/common.h"

#define EPS 1e-9

static struct ds_candidate cand(int pid, uint64_t queued, uint64_t since_ran, uint64_t cpu,
				const char *comm)
{
	struct ds_candidate c = { .pid = pid, .prio = 120, .queued_ns = queued,
				  .since_ran_ns = since_ran, .cpu_recent_ns = cpu };

	snprintf(c.comm, sizeof(c.comm), "%s", comm);
	return c;
}

static struct ana_decision decision(int cpu, const struct ds_candidate *c, int n, int label)
{
	struct ana_decision d = { .cpu = cpu, .ncand = n, .label = label, .cand = c };

	d.next_pid = label >= 0 ? c[label].pid : 999;
	return d;
}

/* Random is the exact expectation: 1/n top-1, min(3, n)/n top-3. */
static void test_random_expectation(void **state)
{
	struct ds_candidate c[4] = { cand(1, 0, 0, 0, "a"), cand(2, 0, 0, 0, "b"),
				     cand(3, 0, 0, 0, "c"), cand(4, 0, 0, 0, "d") };
	struct ana_decision d;
	struct ana_eval e;

	ana_eval_init(&e, DS_WIN_CANDIDATES, NULL, NULL, "all");
	d = decision(0, c, 1, 0);
	ana_eval_add(&e, &d, NULL, 1);
	d = decision(0, c, 2, 1);
	ana_eval_add(&e, &d, NULL, 1);
	d = decision(0, c, 4, 3);
	ana_eval_add(&e, &d, NULL, 1);
	d = decision(0, c, 3, -1);	/* uncovered: a miss for everyone */
	ana_eval_add(&e, &d, NULL, 1);
	ana_eval_finish(&e);

	assert_int_equal(e.decisions, 4);
	assert_int_equal(e.contested, 3);
	assert_int_equal(e.covered, 3);
	assert_true(fabs(e.bl[ANA_BL_RANDOM].top1 - 1.75) < EPS);	/* 1 + 1/2 + 1/4 + 0 */
	assert_true(fabs(e.bl[ANA_BL_RANDOM].top3 - 2.75) < EPS);	/* 1 + 1 + 3/4 + 0 */
	assert_true(fabs(e.bl[ANA_BL_RANDOM].top1_c - 0.75) < EPS);
	assert_true(fabs(e.chance - (1 + 0.5 + 0.25 + 1.0 / 3)) < EPS);
	assert_true(fabs(e.chance_c - (0.5 + 0.25 + 1.0 / 3)) < EPS);
	ana_eval_release(&e);
}

static void expect_rank(struct ana_online *o, int bl, const struct ana_decision *d, int a, int b,
			int c)
{
	int top[3];

	ana_online_rank(o, bl, d, top);
	if (top[0] != a || top[1] != b || top[2] != c)
		fail_msg("baseline %s: ranked %d %d %d, want %d %d %d", ana_baseline_names[bl],
			 top[0], top[1], top[2], a, b, c);
}

/* The candidate-fact baselines and the tie rule. */
static void test_fact_baselines_and_ties(void **state)
{
	struct ds_candidate c[3] = {
		cand(1, 5000, 10, 7, "a"),		/* queued 5 us, ran 10 ns ago, 7 ns CPU */
		cand(2, 9000, 3, 2, "b"),		/* longest queued, least CPU */
		cand(3, 1000, UINT64_MAX, 5, "c"),	/* never seen running */
	};
	struct ds_candidate tie[3] = {	/* every key equal but the pid */
		cand(7, 100, 50, 9, "x"), cand(3, 100, 50, 9, "y"), cand(5, 100, 50, 9, "z"),
	};
	struct ds_candidate tq[3] = {	/* equal CPU time, different queued time */
		cand(1, 100, 50, 9, "x"), cand(2, 300, 50, 9, "y"), cand(3, 200, 50, 9, "z"),
	};
	struct ana_online *o = ana_online_new();
	struct ana_decision d = decision(0, c, 3, 0);

	expect_rank(o, ANA_BL_LONGEST_QUEUED, &d, 1, 0, 2);
	expect_rank(o, ANA_BL_LEAST_RECENT, &d, 2, 0, 1);
	expect_rank(o, ANA_BL_LEAST_CPU, &d, 1, 2, 0);
	/* no history yet: the online baselines fall to the tie rule = longest queued */
	expect_rank(o, ANA_BL_MOST_FREQUENT, &d, 1, 0, 2);
	expect_rank(o, ANA_BL_MARKOV2, &d, 1, 0, 2);

	d = decision(0, tie, 3, 0);
	for (int b = ANA_BL_LONGEST_QUEUED; b < ANA_NR_BASELINES; b++)
		expect_rank(o, b, &d, 1, 2, 0);	/* lowest pid first: 3, 5, 7 */
	d = decision(0, tq, 3, 0);
	expect_rank(o, ANA_BL_LEAST_CPU, &d, 1, 2, 0);	/* then longest queued */
	expect_rank(o, ANA_BL_LEAST_RECENT, &d, 1, 2, 0);
	ana_online_free(o);
}

/* Feed picks (indices into c) on cpu; return each baseline's top-1 hits. */
static void run_picks(struct ana_eval *e, int cpu, const struct ds_candidate *c, int n,
		      const int *picks, int npicks)
{
	for (int i = 0; i < npicks; i++) {
		struct ana_decision d = decision(cpu, c, n, picks[i]);

		ana_eval_add(e, &d, NULL, 1);
	}
}

/*
 * A B A B A B on one CPU, candidates {A, B} always, equal queued times.
 *   markov1: d1 no history -> tie rule -> A (hit); d2 after A: no A->x yet,
 *   falls to frequency A=1 -> A (miss); d3 after B: nothing, A=B=1 -> A
 *   (hit); d4.. the pairs are known: hits.  5 of 6.
 *   most-frequent: A (hit), A (miss), tie A (hit), A=2 (miss), tie (hit),
 *   A=3 (miss): 3 of 6.
 */
static void test_markov1_alternation(void **state)
{
	struct ds_candidate c[2] = { cand(1, 100, 0, 0, "A"), cand(2, 100, 0, 0, "B") };
	static const int picks[] = { 0, 1, 0, 1, 0, 1 };
	struct ana_eval e;

	ana_eval_init(&e, DS_WIN_CANDIDATES, NULL, NULL, "all");
	run_picks(&e, 0, c, 2, picks, 6);
	ana_eval_finish(&e);
	assert_true(fabs(e.bl[ANA_BL_MARKOV1].top1 - 5) < EPS);
	assert_true(fabs(e.bl[ANA_BL_MOST_FREQUENT].top1 - 3) < EPS);
	assert_true(fabs(e.bl[ANA_BL_LONGEST_QUEUED].top1 - 3) < EPS);	/* always A */
	assert_int_equal(e.best, ANA_BL_MARKOV1);
	ana_eval_release(&e);
}

/*
 * A A B, repeated three times.
 *   markov2: A(tie) hit, A(freq) hit, B: AA unseen, A->A=1 -> A miss, A:
 *   AB unseen, B unseen, freq A -> hit, A: BA unseen, A->A = A->B = 1, freq
 *   A -> hit, then AA->B, AB->A, BA->A, AA->B all known: 8 of 9.
 *   markov1: A hit, A hit, B miss (A->A=1), A hit, A hit (tie, freq), B miss
 *   (A->A=2 > A->B=1), A hit (B->A), A hit (A->A = A->B = 2, freq), B miss
 *   (A->A=3 > 2): 6 of 9.
 */
static void test_markov2_period3(void **state)
{
	struct ds_candidate c[2] = { cand(1, 100, 0, 0, "A"), cand(2, 100, 0, 0, "B") };
	static const int picks[] = { 0, 0, 1, 0, 0, 1, 0, 0, 1 };
	struct ana_eval e;

	ana_eval_init(&e, DS_WIN_CANDIDATES, NULL, NULL, "all");
	run_picks(&e, 0, c, 2, picks, 9);
	ana_eval_finish(&e);
	assert_true(fabs(e.bl[ANA_BL_MARKOV2].top1 - 8) < EPS);
	assert_true(fabs(e.bl[ANA_BL_MARKOV1].top1 - 6) < EPS);
	assert_int_equal(e.best, ANA_BL_MARKOV2);
	ana_eval_release(&e);
}

/* Each CPU has its own pick sequence: interleaving another CPU changes nothing. */
static void test_markov_per_cpu(void **state)
{
	struct ds_candidate ab[2] = { cand(1, 100, 0, 0, "A"), cand(2, 100, 0, 0, "B") };
	struct ds_candidate cd[2] = { cand(3, 100, 0, 0, "C"), cand(4, 100, 0, 0, "D") };
	static const int picks[] = { 0, 1, 0, 1, 0, 1 };
	struct ana_eval e;

	ana_eval_init(&e, DS_WIN_CANDIDATES, NULL, NULL, "all");
	for (int i = 0; i < 6; i++) {
		run_picks(&e, 0, ab, 2, &picks[i], 1);
		run_picks(&e, 1, cd, 2, &picks[0], 1);	/* cpu1 always picks C */
	}
	ana_eval_finish(&e);
	/* cpu0 as alone (5 of 6), cpu1 always right (C is also the lowest pid) */
	assert_true(fabs(e.bl[ANA_BL_MARKOV1].top1 - 11) < EPS);
	assert_int_equal(e.nr_cpu_groups, 2);
	assert_string_equal(e.cpu_groups[0].name, "cpu0");
	assert_true(fabs(e.cpu_groups[0].best_top1 - 5) < EPS);
	assert_true(fabs(e.cpu_groups[1].best_top1 - 6) < EPS);
	ana_eval_release(&e);
}

/* Decisions not scored still teach the online baselines, and are not counted. */
static void test_unscored_teach(void **state)
{
	struct ds_candidate c[2] = { cand(1, 100, 0, 0, "A"), cand(2, 100, 0, 0, "B") };
	struct ana_eval e;

	ana_eval_init(&e, DS_WIN_CANDIDATES, NULL, NULL, "test");
	for (int i = 0; i < 5; i++) {
		struct ana_decision d = decision(0, c, 2, 1);	/* B, B, B, ... */

		ana_eval_add(&e, &d, NULL, i >= 3);
	}
	ana_eval_finish(&e);
	assert_int_equal(e.decisions, 2);
	assert_int_equal(e.observed, 5);
	/* learnt B from the unscored ones: both scored are hits; the tie rule alone says A */
	assert_true(fabs(e.bl[ANA_BL_MOST_FREQUENT].top1 - 2) < EPS);
	assert_true(fabs(e.bl[ANA_BL_LONGEST_QUEUED].top1 - 0) < EPS);
	ana_eval_release(&e);
}

/* Model scoring, the "does not beat the best baseline" flag, mispredictions. */
static void test_model_scoring(void **state)
{
	struct ds_candidate c[3] = { cand(1, 300, 0, 0, "a"), cand(2, 200, 0, 0, "b"),
				     cand(3, 100, 0, 0, "c") };
	static const int labels[4] = { 1, 1, 2, 0 };
	static const int tops[4][3] = { { 1, 0, 2 }, { 0, 2, 1 }, { 0, 1, 2 }, { 0, 1, 2 } };
	struct ana_eval e;

	ana_eval_init(&e, DS_WIN_CANDIDATES, "m.h5", "fixed", "all");
	for (int i = 0; i < 4; i++) {
		struct ana_decision d = decision(0, c, 3, labels[i]);

		ana_eval_add(&e, &d, tops[i], 1);
	}
	ana_eval_finish(&e);
	assert_true(fabs(e.model.top1 - 2) < EPS);	/* decisions 1 and 4 */
	assert_true(fabs(e.model.top3 - 4) < EPS);
	/*
	 * Every deterministic baseline gets 1 (longest-queued always says a;
	 * the online ones learn b and keep saying it); random 4 * 1/3 is best,
	 * and the model's 2 beats it.
	 */
	assert_true(fabs(e.bl[ANA_BL_LONGEST_QUEUED].top1 - 1) < EPS);
	assert_true(fabs(e.bl[ANA_BL_MOST_FREQUENT].top1 - 1) < EPS);
	assert_int_equal(e.best, ANA_BL_RANDOM);
	assert_int_equal(e.model_beats_best, 1);
	assert_int_equal(e.nr_mispred, 2);	/* b <- a, c <- a */
	assert_int_equal(e.mispred[0].n, 1);
	assert_string_equal(e.mispred[0].predicted, "a");
	assert_string_equal(e.mispred[0].actual, "b");
	assert_string_equal(e.mispred[1].actual, "c");
	ana_eval_release(&e);

	/* a model no better than a baseline is flagged */
	ana_eval_init(&e, DS_WIN_CANDIDATES, "m.h5", "fixed", "all");
	for (int i = 0; i < 4; i++) {
		struct ana_decision d = decision(0, c, 3, 0);
		static const int wrong[3] = { 2, 1, 0 };

		ana_eval_add(&e, &d, wrong, 1);
	}
	ana_eval_finish(&e);
	assert_int_equal(e.model_beats_best, 0);
	assert_true(fabs(e.bl[e.best].top1_c - 4) < EPS);
	ana_eval_release(&e);
}

/* Sequence mode: the choice is the whole vocabulary. */
static void test_sequence_mode(void **state)
{
	static char *vocab[4] = { "<unknown>", "x", "y", "z" };
	static const int labels[] = { 1, 2, 1, 2, 1, 2, 0 };
	struct ana_eval e;

	ana_eval_init(&e, DS_WIN_SEQUENCE, NULL, NULL, "all");
	for (size_t i = 0; i < ARRAY_SIZE(labels); i++) {
		struct ana_decision d = { .cpu = 0, .label = labels[i], .vocab = vocab,
					  .n_vocab = 4 };

		ana_eval_add(&e, &d, NULL, 1);
	}
	ana_eval_finish(&e);
	assert_int_equal(e.decisions, 7);
	assert_int_equal(e.contested, 7);
	assert_int_equal(e.covered, 6);	/* the unknown class is not covered */
	assert_false(e.bl_available[ANA_BL_LONGEST_QUEUED]);
	assert_true(e.bl_available[ANA_BL_MARKOV1]);
	assert_true(fabs(e.bl[ANA_BL_RANDOM].top1 - 7 * 0.25) < EPS);
	assert_true(fabs(e.chance - 7 * 0.25) < EPS);
	/*
	 * markov1: no history -> lowest id 0 (miss); after x: nothing -> freq
	 * x (miss); after y: nothing, x=y=1 -> x (hit); then x->y, y->x known
	 * (hits: y, x, y); after y: y->x=2 -> x, but the pick is 0 (miss).  4.
	 */
	assert_true(fabs(e.bl[ANA_BL_MARKOV1].top1 - 4) < EPS);
	ana_eval_release(&e);
}

/*
 * Accuracy over time in bounded memory: 5000 contested decisions (more than
 * the bins hold), the model wrong in the first 2000 and right after.  Each
 * slice holds about 5000 / 40 = 125 decisions (within one bin width, 16),
 * the slices before 2000 have model top-1 0 and those after it 1.
 */
static void test_over_time_bins(void **state)
{
	struct ds_candidate c[2] = { cand(1, 100, 0, 0, "A"), cand(2, 100, 0, 0, "B") };
	static const int right[3] = { 0, 1, -1 }, wrong[3] = { 1, 0, -1 };
	uint64_t total = 0, at = 0;
	struct ana_eval e;

	ana_eval_init(&e, DS_WIN_CANDIDATES, "m.h5", "fixed", "all");
	for (int i = 0; i < 5000; i++) {
		struct ana_decision d = decision(0, c, 2, 0);

		ana_eval_add(&e, &d, i < 2000 ? wrong : right, 1);
	}
	ana_eval_finish(&e);
	for (int k = 0; k < ANA_TIME_SLICES; k++) {
		double rate = ana_rate(e.slice_model[k], e.slice_n[k]);

		total += e.slice_n[k];
		if (e.slice_n[k] < 125 - 16 || e.slice_n[k] > 125 + 16)
			fail_msg("slice %d holds %llu decisions", k, (unsigned long long)e.slice_n[k]);
		if (at + e.slice_n[k] <= 2000 && rate != 0)
			fail_msg("slice %d: model top-1 %f before the change", k, rate);
		if (at >= 2000 && rate != 1)
			fail_msg("slice %d: model top-1 %f after the change", k, rate);
		at += e.slice_n[k];
	}
	assert_int_equal(total, 5000);
	assert_true(fabs(e.model.top1 - 3000) < EPS);
	assert_int_equal(e.ncand_n[2], 5000);
	assert_true(fabs(e.ncand_model[2] - 3000) < EPS);
	ana_eval_release(&e);
}

static void test_wilson_and_top3(void **state)
{
	double lo, hi;
	int32_t scores[5] = { 3, 7, 7, 1, 7 };
	int top[3];

	ana_wilson(8, 10, &lo, &hi);	/* the textbook case: 0.4902 .. 0.9433 */
	assert_true(fabs(lo - 0.4902) < 1e-4 && fabs(hi - 0.9433) < 1e-4);
	ana_wilson(0, 0, &lo, &hi);
	assert_true(lo == 0 && hi == 1);
	ana_wilson(50, 50, &lo, &hi);
	assert_true(hi == 1 && fabs(lo - 0.9287) < 1e-4);
	ana_top3(scores, 5, top);	/* ties to the lower index */
	assert_int_equal(top[0], 1);
	assert_int_equal(top[1], 2);
	assert_int_equal(top[2], 4);
	ana_top3(scores, 2, top);
	assert_int_equal(top[0], 1);
	assert_int_equal(top[1], 0);
	assert_int_equal(top[2], -1);
}

/* A capped map keeps the cap/2 largest values when full; the rest is counted. */
static void test_map_cap(void **state)
{
	struct ana_map *m = ana_map_new_capped(1, 8);
	double total = 0, kept = 0;
	size_t pos = 0;
	long slot;

	(void)state;
	for (int k = 1; k <= 100; k++) {
		int32_t key[ANA_KEY_WORDS] = { k };

		ana_map_get(m, key, 1)[0] = k;
		total += k;
		assert_true(m->used <= 8);
	}
	while ((slot = ana_map_next(m, &pos)) >= 0)
		kept += m->vals[slot];
	assert_int_equal(m->used + m->dropped, 100);
	assert_true(fabs(kept + m->rest[0] - total) < EPS);
	{
		int32_t key[ANA_KEY_WORDS] = { 100 };	/* the largest lives on */

		assert_non_null(ana_map_get(m, key, 0));
	}
	ana_map_free(m);
}

/*
 * A task seen once per decision, always new (a fork-heavy machine watched
 * for hours): the evaluator's tables stay under their caps, and every
 * decision is still counted in the per-comm groups ("(others)" last).
 */
static void test_eval_bounded(void **state)
{
	struct ana_eval e;
	uint64_t n = 0;
	int N = 3 * ANA_MAX_COMMS;

	(void)state;
	ana_eval_init(&e, DS_WIN_CANDIDATES, NULL, NULL, "all");
	for (int i = 0; i < N; i++) {
		char comm[16];
		struct ds_candidate c[2];
		struct ana_decision d;

		snprintf(comm, sizeof(comm), "t%d", i);
		c[0] = cand(10 * i + 1, 5, 5, 5, comm);
		c[1] = cand(10 * i + 2, 6, 6, 6, comm);
		d = decision(i % 2, c, 2, 1);
		ana_eval_add(&e, &d, NULL, 1);
		assert_true(e.comm_map->used <= ANA_MAX_COMMS);
		assert_true(e.mispred_map->used <= ANA_MAX_MISPRED);
	}
	ana_eval_finish(&e);
	assert_true(e.nr_comm_groups <= ANA_MAX_COMMS + 1);
	assert_string_equal(e.comm_groups[e.nr_comm_groups - 1].name, "(others)");
	for (size_t i = 0; i < e.nr_comm_groups; i++)
		n += e.comm_groups[i].n;
	assert_int_equal(n, (uint64_t)N);
	assert_int_equal(e.decisions, (uint64_t)N);
	ana_eval_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_expectation),
		cmocka_unit_test(test_fact_baselines_and_ties),
		cmocka_unit_test(test_markov1_alternation),
		cmocka_unit_test(test_markov2_period3),
		cmocka_unit_test(test_markov_per_cpu),
		cmocka_unit_test(test_unscored_teach),
		cmocka_unit_test(test_model_scoring),
		cmocka_unit_test(test_sequence_mode),
		cmocka_unit_test(test_over_time_bins),
		cmocka_unit_test(test_wilson_and_top3),
		cmocka_unit_test(test_map_cap),
		cmocka_unit_test(test_eval_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
