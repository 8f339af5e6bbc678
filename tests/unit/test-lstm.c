// SPDX-License-Identifier: GPL-2.0
/*
 * The model: finite-difference gradient check of the double reference,
 * fixed point against double (outputs and gradients, stated tolerances,
 * max differences printed), training that learns a known rule, bit-exact
 * determinism and resume, the model file round trip and lstm_predict().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/modelfile.h"
#include "model/model-local.h"
#include "tests/unit/lstm-synth.h"
#include "tests/unit/unit-test.h"

static void cand_net(struct lstm_net *net, int H, int K, int E, int S, int M)
{
	struct lstm_shape sh = { .mode = DS_WIN_CANDIDATES, .H = H, .K = K, .E = E, .S = S, .M = M };

	assert_int_equal(lstm_net_init(net, &sh), 0);
}

static void seq_net(struct lstm_net *net, int H, int W, int V, int D)
{
	struct lstm_shape sh = { .mode = DS_WIN_SEQUENCE, .H = H, .W = W, .V = V, .D = D };

	assert_int_equal(lstm_net_init(net, &sh), 0);
}

/* random Q3.12 inputs in [-2, 2) */
static void random_q12(q3_12_t *x, size_t n, uint64_t *rng)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (q3_12_t)((int)(synth_rand(rng) % 16384) - 8192);
}

/* ---- finite differences on the double reference ------------------------------ */

static double loss_at(struct lstm_scratch *s, const struct lstm_net *net, const double *w,
		      const q3_12_t *x, const q3_12_t *st, const int32_t *ids, int ncand, int label)
{
	double *g = xcalloc(net->P, sizeof(double));
	double l;

	if (net->sh.mode == DS_WIN_SEQUENCE)
		l = fl_sequence(s, g, w, net, ids, x, label);
	else
		l = fl_decision(s, g, w, net, x, st, ncand, label);
	free(g);
	return l;
}

static void gradcheck(const struct lstm_net *net, int ncand, int label, const char *what)
{
	struct lstm_scratch s;
	uint64_t rng = 42;
	size_t nx = (size_t)ncand * net->steps * net->I + net->steps;
	q3_12_t *x = xcalloc(nx, sizeof(*x)), *st = xcalloc((size_t)ncand * (net->sh.S + 1), 2);
	q3_12_t *wq = xcalloc(net->P, sizeof(*wq));
	double *w = xcalloc(net->P, sizeof(*w)), *g = xcalloc(net->P, sizeof(*g));
	int32_t ids[64];
	double max_rel = 0, max_abs = 0;

	lstm_scratch_init(&s, net, ncand);
	random_q12(x, nx, &rng);
	random_q12(st, (size_t)ncand * (net->sh.S + 1), &rng);
	for (int t = 0; t < 64; t++)
		ids[t] = t % 5 == 4 ? -1 : (int)(synth_rand(&rng) % (uint64_t)SC_MAX(net->sh.V, 1));
	lstm_net_init_q12(net, wq, 7);
	for (size_t i = 0; i < net->P; i++)
		w[i] = wq[i] / 4096.0 * 2;	/* larger weights: livelier gradients */
	if (net->sh.mode == DS_WIN_SEQUENCE)
		fl_sequence(&s, g, w, net, ids, x, label);
	else
		fl_decision(&s, g, w, net, x, st, ncand, label);
	for (size_t i = 0; i < net->P; i++) {
		const double h = 1e-6;
		double keep = w[i], lp, lm, num, den;

		w[i] = keep + h;
		lp = loss_at(&s, net, w, x, st, ids, ncand, label);
		w[i] = keep - h;
		lm = loss_at(&s, net, w, x, st, ids, ncand, label);
		w[i] = keep;
		num = (lp - lm) / (2 * h);
		den = fmax(fabs(num) + fabs(g[i]), 1e-7);
		max_abs = fmax(max_abs, fabs(num - g[i]));
		max_rel = fmax(max_rel, fabs(num - g[i]) / den);
	}
	printf("# gradient check (%s, %zu parameters): max abs diff %.3g, max rel diff %.3g\n", what,
	       net->P, max_abs, max_rel);
	assert_true(max_abs < 1e-7);
	assert_true(max_rel < 1e-4);
	lstm_scratch_release(&s);
	free(x), free(st), free(wq), free(w), free(g);
}

static void test_gradcheck_candidates(void **state)
{
	struct lstm_net net;

	cand_net(&net, 5, 4, 3, 2, 4);
	gradcheck(&net, 3, 1, "candidates");
}

static void test_gradcheck_sequence(void **state)
{
	struct lstm_net net;

	seq_net(&net, 4, 6, 7, 3);
	gradcheck(&net, 1, 2, "sequence");
}

/* ---- fixed point against double ---------------------------------------------- */

/*
 * Tolerances: scores within 0.002 (8 Q3.12 steps after K LSTM steps,
 * each rounding to 2.4e-4); each gradient within 0.5% of the largest gradient.
 */
#define TOL_SCORE 0.002
#define TOL_GRAD 0.005

static void fixed_vs_float(const struct lstm_net *net, int ncand, int label, const char *what)
{
	struct lstm_scratch s;
	uint64_t rng = 9;
	size_t nx = (size_t)ncand * net->steps * net->I + net->steps;
	q3_12_t *x = xcalloc(nx, sizeof(*x)), *st = xcalloc((size_t)ncand * (net->sh.S + 1), 2);
	q3_12_t *wq = xcalloc(net->P, sizeof(*wq));
	double *w = xcalloc(net->P, sizeof(*w)), *gf = xcalloc(net->P, sizeof(*gf));
	int64_t *gq = xcalloc(net->P, sizeof(*gq));
	int32_t ids[256];
	double max_s = 0, max_g = 0, gscale = 0, lf;
	int32_t lq;
	int n = net->sh.mode == DS_WIN_SEQUENCE ? net->sh.V : ncand;

	lstm_scratch_init(&s, net, ncand);
	random_q12(x, nx, &rng);
	random_q12(st, (size_t)ncand * (net->sh.S + 1), &rng);
	for (int t = 0; t < 256; t++)
		ids[t] = (int)(synth_rand(&rng) % (uint64_t)SC_MAX(net->sh.V, 1));
	lstm_net_init_q12(net, wq, 3);
	for (size_t i = 0; i < net->P; i++)
		w[i] = wq[i] / 4096.0;
	if (net->sh.mode == DS_WIN_SEQUENCE) {
		lq = fx_sequence(&s, gq, wq, net, ids, x, label);
		lf = fl_sequence(&s, gf, w, net, ids, x, label);
	} else {
		lq = fx_decision(&s, gq, wq, net, x, st, ncand, label);
		lf = fl_decision(&s, gf, w, net, x, st, ncand, label);
	}
	for (int i = 0; i < n; i++)
		max_s = fmax(max_s, fabs(s.logit[i] / 4096.0 - s.fl_logit[i]));
	for (size_t i = 0; i < net->P; i++)
		gscale = fmax(gscale, fabs(gf[i]));
	for (size_t i = 0; i < net->P; i++)
		max_g = fmax(max_g, fabs(gq[i] / 68719476736.0 - gf[i]));
	printf("# fixed vs float (%s): max score diff %.4g (tol %.2g), loss %.4f vs %.4f, "
	       "max gradient diff %.3g of max |g| %.3g = %.2f%% (tol %.1f%%)\n", what, max_s,
	       TOL_SCORE, lq / 4096.0, lf, max_g, gscale, 100 * max_g / gscale, 100 * TOL_GRAD);
	assert_true(max_s < TOL_SCORE);
	assert_true(fabs(lq / 4096.0 - lf) < TOL_SCORE);
	assert_true(max_g < TOL_GRAD * gscale);
	lstm_scratch_release(&s);
	free(x), free(st), free(wq), free(w), free(gf), free(gq);
}

static void test_fixed_vs_float_candidates(void **state)
{
	struct lstm_net net;

	cand_net(&net, 32, 8, 10, 12, 16);
	fixed_vs_float(&net, 4, 2, "candidates H=32 K=8 E=10 S=12, 4 candidates");
}

static void test_fixed_vs_float_sequence(void **state)
{
	struct lstm_net net;

	seq_net(&net, 32, 32, 50, 8);
	fixed_vs_float(&net, 1, 7, "sequence H=32 W=32 V=50 D=8");
}

/* ---- training ------------------------------------------------------------------- */

static struct lstm_train_opts train_opts(const char *out, int arith, int threads, int epochs)
{
	return (struct lstm_train_opts){
		.out = out, .windows_path = "synthetic", .hidden = 16, .head = 8, .embed = 4,
		.epochs = epochs, .batch = 32, .threads = threads, .patience = 10, .arith = arith,
		.seed = 5, .lr = 0.01,
	};
}

/* the weights of a model file, as bytes */
static void *weights_of(const char *path, size_t *len)
{
	struct ds_model *m = ds_model_load(path);
	size_t n = 0, off = 0;
	char *buf;

	assert_non_null(m);
	for (int i = 0; i < m->n_tensors; i++)
		n += m->tensors[i].rows * m->tensors[i].cols * ds_type_size(m->tensors[i].type);
	n += m->n_params * (m->ckpt_master ? ds_type_size(strcmp(m->arith, "fixed") ? DS_F64 : DS_I32) : 0);
	buf = xmalloc(n + 1);
	for (int i = 0; i < m->n_tensors; i++) {
		size_t b = m->tensors[i].rows * m->tensors[i].cols * ds_type_size(m->tensors[i].type);

		memcpy(buf + off, m->tensors[i].data, b);
		off += b;
	}
	if (m->ckpt_master) {
		memcpy(buf + off, m->ckpt_master, n - off);
		off = n;
	}
	*len = off;
	ds_model_free(m);
	return buf;
}

static void test_learns_longest_queued_fixed(void **state)
{
	struct ds_windows *w = synth_candidates(3000, 4, 3, 3, 11);
	char *out = unit_path("learn.h5");
	struct lstm_train_opts o = train_opts(out, LSTM_FIXED, 2, 4);
	struct lstm_train_result r;

	assert_int_equal(lstm_train(w, &o, &r), 0);
	printf("# fixed point, longest-queued rule: val top-1 %.2f%% after %d epochs "
	       "(%llu train, %llu val decisions)\n", 100 * r.best_val_top1, r.epochs_run,
	       (unsigned long long)r.train_decisions, (unsigned long long)r.val_decisions);
	assert_true(r.best_val_top1 >= 0.99);
	synth_free(w);
	free(out);
}

/*
 * Few validation decisions: every training decision is trained on, none is
 * moved to validation (the in-memory path; t3000 runs the streaming one).
 */
static void test_few_val(void **state)
{
	struct ds_windows *w = synth_candidates(1000, 4, 3, 3, 11);
	char *out = unit_path("fewval.h5");
	struct lstm_train_opts o = train_opts(out, LSTM_FIXED, 2, 1);
	struct lstm_train_result r;
	struct ds_model *m;

	/* 700 train and 150 validation decisions */
	assert_int_equal(lstm_train(w, &o, &r), 0);
	assert_int_equal(r.train_decisions, 700);
	assert_int_equal(r.val_decisions, 150);
	m = ds_model_load(out);
	assert_non_null(m);
	assert_int_equal(m->train_decisions, 700);
	assert_int_equal(m->val_decisions, 150);
	ds_model_free(m);
	synth_free(w);
	free(out);
}

static void test_learns_longest_queued_float(void **state)
{
	struct ds_windows *w = synth_candidates(3000, 4, 3, 3, 11);
	char *out = unit_path("learnf.h5");
	struct lstm_train_opts o = train_opts(out, LSTM_FLOAT, 2, 4);
	struct lstm_train_result r;

	assert_int_equal(lstm_train(w, &o, &r), 0);
	printf("# float, longest-queued rule: val top-1 %.2f%% after %d epochs\n",
	       100 * r.best_val_top1, r.epochs_run);
	assert_true(r.best_val_top1 >= 0.99);
	synth_free(w);
	free(out);
}

static void test_learns_sequence_cycle(void **state)
{
	struct ds_windows *w = synth_sequence(2000, 6, 8, 3);
	char *out = unit_path("seq.h5");
	struct lstm_train_opts o = train_opts(out, LSTM_FIXED, 2, 6);
	struct lstm_train_result r;

	assert_int_equal(lstm_train(w, &o, &r), 0);
	printf("# fixed point, sequence cycle rule: val top-1 %.2f%% after %d epochs\n",
	       100 * r.best_val_top1, r.epochs_run);
	assert_true(r.best_val_top1 >= 0.99);
	/* lstm_predict_seq on the saved model == the training forward, bit for bit */
	{
		struct lstm_model *m = lstm_model_load(out);
		struct lstm_scratch s;
		int32_t scores[8];
		q3_12_t gaps[6];
		int right = 0;

		assert_non_null(m);
		assert_int_equal(lstm_model_check_windows(m, w, "synthetic"), 0);
		assert_int_equal(lstm_model_shape(m)->V, 8);
		assert_string_equal(m->vocab[3], "task3");
		lstm_scratch_init(&s, &m->net, 1);
		for (uint64_t i = 0; i < w->n_dec; i++) {
			int best;

			for (int t = 0; t < 6; t++)
				gaps[t] = lstm_norm_apply(&m->norm, 0, w->seq_gaps[i * 6 + t]);
			fx_sequence(&s, NULL, m->wq, &m->net, w->seq_ids + i * 6, gaps, -1);
			best = lstm_predict_seq(m, w->seq_ids + i * 6, w->seq_gaps + i * 6, scores);
			assert_memory_equal(scores, s.logit, sizeof(scores));
			right += best == w->dec[i].label;
		}
		printf("# lstm_predict_seq: bit-identical to training's forward, top-1 %.1f%% on all "
		       "%llu decisions\n", 100.0 * right / w->n_dec, (unsigned long long)w->n_dec);
		assert_int_equal(lstm_predict(m, NULL, NULL, NULL, 1, scores), -1);
		lstm_scratch_release(&s);
		lstm_model_free(m);
	}
	synth_free(w);
	free(out);
}

/*
 * share_windows - decisions in groups of 4 consecutive ones: a candidate's
 * window is that of the same candidate of the group's first decision, as a
 * task waiting through several decisions keeps its window
 */
static void share_windows(struct ds_windows *w)
{
	size_t KE = (size_t)w->K * w->E;

	for (uint64_t i = 0; i < w->n_dec; i++) {
		const struct ds_decision *d = &w->dec[i], *f = &w->dec[i - i % 4];

		for (int j = 0; j < d->ncand && j < f->ncand && f != d; j++)
			memcpy(w->window + (d->cand_off + j) * KE, w->window + (f->cand_off + j) * KE,
			       KE * sizeof(int16_t));
	}
}

/*
 * The encoder cache of a batch against one decision at a time: the same
 * scores bit for bit; the same fixed gradients bit for bit, windows shared
 * or not (the recursion per use, the weight gradients of the summed gate
 * gradients); float gradients within 1e-9 relative (the order of the sums).
 */
static void test_batch_cache(void **state)
{
	struct lstm_net net;
	struct batch_cache c;
	struct lstm_scratch s;
	uint64_t rng = 21, n = 48, idx[48];
	int H = 16, K = 4, E = 3, S = 3, M = 8;
	struct ds_windows *w = synth_candidates(n, K, E, S, 31);
	q3_12_t *wq, *xw, *xs, *xd;
	uint32_t *win_of;
	double *wf;
	int64_t *g1, *g2, lq = 0;
	double *f1, *f2, lf = 0, maxrel = 0;
	uint64_t correct = 0, worst = 0;

	(void)state;
	cand_net(&net, H, K, E, S, M);
	wq = xcalloc(net.P, sizeof(*wq));
	wf = xcalloc(net.P, sizeof(*wf));
	lstm_net_init_q12(&net, wq, 3);
	for (size_t i = 0; i < net.P; i++) {
		wq[i] = (q3_12_t)(wq[i] * 4 + (int)(synth_rand(&rng) % 512) - 256);
		wf[i] = wq[i] / 4096.0;
	}
	g1 = xcalloc(net.P, sizeof(*g1)), g2 = xcalloc(net.P, sizeof(*g2));
	f1 = xcalloc(net.P, sizeof(*f1)), f2 = xcalloc(net.P, sizeof(*f2));
	xw = xcalloc(w->n_cand * K * E, sizeof(*xw));
	xs = xcalloc(w->n_cand * S, sizeof(*xs));
	xd = xcalloc(w->n_cand * K * E, sizeof(*xd));
	win_of = xcalloc(w->n_cand, sizeof(*win_of));
	/* pass 2: the windows as a store of distinct rows and each candidate's row */
	for (int pass = 0; pass < 3; pass++) {
		size_t KE = (size_t)K * E;
		uint32_t nd = 0;

		if (pass == 1)
			share_windows(w);
		for (uint64_t i = 0; i < w->n_cand * K * E; i++)
			xw[i] = (q3_12_t)(w->window[i] * 4 - 4096);
		for (uint64_t i = 0; pass == 2 && i < w->n_cand; i++) {
			uint32_t r = 0;

			while (r < nd && memcmp(xd + r * KE, xw + i * KE, KE * sizeof(*xd)))
				r++;
			if (r == nd)
				memcpy(xd + nd++ * KE, xw + i * KE, KE * sizeof(*xd));
			win_of[i] = r;
		}
		if (pass == 2)
			assert_true(nd < w->n_cand);
		for (uint64_t i = 0; i < w->n_cand * S; i++)
			xs[i] = (q3_12_t)(w->state[i] * 2 - 4096);
		for (uint64_t i = 0; i < n; i++)
			idx[i] = i;
		for (int fixed = 1; fixed >= 0; fixed--) {
			const void *wt = fixed ? (const void *)wq : (const void *)wf;
			void *g = fixed ? (void *)g2 : (void *)f2;

			lstm_scratch_init(&s, &net, 5);
			batch_cache_init(&c, &net, fixed, 5, 16, 64);	/* small: several chunks */
			memset(g1, 0, net.P * sizeof(*g1)), memset(g2, 0, net.P * sizeof(*g2));
			memset(f1, 0, net.P * sizeof(*f1)), memset(f2, 0, net.P * sizeof(*f2));
			for (uint64_t at = 0; at < n;) {
				uint64_t m = batch_cache_fill(&c, w->dec, idx + at, n - at,
							      pass == 2 ? xd : xw,
							      pass == 2 ? win_of : NULL, wt);

				assert_true(m >= 1 && c.n_win <= 16 && c.n_slot <= 64);
				for (uint32_t u = 0; u < c.n_win; u++)
					batch_cache_encode(&c, wt, u);
				/* the scores, one decision at a time */
				for (uint64_t i = 0; i < m; i++) {
					const struct ds_decision *d = &w->dec[idx[at + i]];
					int32_t lq_one[5];
					double lf_one[5];

					batch_cache_heads(&c, &s, NULL, wt, xs, i, i + 1, &lq, &lf,
							  &correct);
					memcpy(lq_one, s.logit, sizeof(lq_one));
					memcpy(lf_one, s.fl_logit, sizeof(lf_one));
					if (fixed) {
						fx_decision(&s, NULL, wq, &net, xw + d->cand_off * K * E,
							    xs + d->cand_off * S, d->ncand, -1);
						assert_memory_equal(lq_one, s.logit,
								    sizeof(int32_t) * d->ncand);
					} else {
						fl_decision(&s, NULL, wf, &net, xw + d->cand_off * K * E,
							    xs + d->cand_off * S, d->ncand, -1);
						assert_memory_equal(lf_one, s.fl_logit,
								    sizeof(double) * d->ncand);
					}
				}
				batch_cache_heads(&c, &s, g, wt, xs, 0, m, &lq, &lf, &correct);
				batch_cache_sum(&c);
				for (uint32_t u = 0; u < c.n_win; u++)
					batch_cache_backward(&c, &s, g, wt, u);
				at += m;
			}
			if (pass)
				assert_true(c.encoded < c.uses);
			for (uint64_t i = 0; i < n; i++) {
				const struct ds_decision *d = &w->dec[i];

				if (fixed)
					fx_decision(&s, g1, wq, &net, xw + d->cand_off * K * E,
						    xs + d->cand_off * S, d->ncand, d->label);
				else
					fl_decision(&s, f1, wf, &net, xw + d->cand_off * K * E,
						    xs + d->cand_off * S, d->ncand, d->label);
			}
			for (size_t i = 0; i < net.P; i++) {
				if (fixed) {
					uint64_t diff = (uint64_t)llabs(g1[i] - g2[i]);

					assert_true(g1[i] == g2[i]);
					worst = SC_MAX(worst, diff);
				} else {
					double r = fabs(f1[i] - f2[i]) / (fabs(f1[i]) + 1e-12);

					maxrel = SC_MAX(maxrel, r);
				}
			}
			if (pass && fixed)
				printf("# batch cache, shared windows%s: %llu of %llu candidates "
				       "encoded, fixed gradients equal bit for bit to per-decision "
				       "ones\n", pass == 2 ? " (a store of distinct rows)" : "",
				       (unsigned long long)c.encoded, (unsigned long long)c.uses);
			batch_cache_release(&c);
			lstm_scratch_release(&s);
		}
		printf("# batch cache, %s windows: float gradients within %.1e relative\n",
		       pass ? "shared" : "distinct", maxrel);
		assert_true(maxrel < 1e-9);
	}
	free(wq), free(wf), free(g1), free(g2), free(f1), free(f2), free(xw), free(xs);
	free(xd), free(win_of);
	synth_free(w);
}


/*
 * batch_cache_run - the chunked passes of the encoder cache over decisions
 * idx[0..n) of w with the store xd/win_of, as the trainer runs them: scores
 * of decision 0 into sc0, gradients into g (NULL: none), the loss returned
 */
static double batch_cache_run(struct batch_cache *c, struct lstm_scratch *s,
			      const struct ds_windows *w, const uint64_t *idx, uint64_t n,
			      const q3_12_t *xd, const uint32_t *win_of, const q3_12_t *xs,
			      const void *wt, void *g)
{
	int64_t lq = 0;
	double lf = 0;
	uint64_t correct = 0;

	for (uint64_t at = 0; at < n;) {
		uint64_t m = batch_cache_fill(c, w->dec, idx + at, n - at, xd, win_of, wt);

		for (uint32_t u = 0; u < c->n_win; u++)
			batch_cache_encode(c, wt, u);
		batch_cache_heads(c, s, g, wt, xs, 0, m, &lq, &lf, &correct);
		if (g) {
			batch_cache_sum(c);
			for (uint32_t u = 0; u < c->n_win; u++)
				batch_cache_backward(c, s, g, wt, u);
		}
		at += m;
	}
	return c->fixed ? lq / 4096.0 : lf;
}

/*
 * The encoder cache of a stateful encoder's training: each store row runs
 * its last steps[r] rows from its carried state init[r].  From zero states
 * its fixed scores are those of fx_decision() on a network of K = steps
 * over those rows alone; from random states, its float gradients agree with
 * finite differences of its own loss (the steps, the states in row 0 and
 * the heads reading row T all enter them).
 */
static void test_batch_cache_stateful(void **state)
{
	struct lstm_net net, netT;
	struct batch_cache c;
	struct lstm_scratch s;
	uint64_t rng = 5, n = 24, idx[24];
	int H = 8, K = 4, E = 3, S = 3, M = 4;
	struct ds_windows *w = synth_candidates(n, K, E, S, 41);
	q3_12_t *wq, *xd, *xs, *initq, xT[5 * 4 * 3];
	double *wf, *initf, *gf, *junk, maxrel = 0;
	uint8_t *steps;
	uint32_t *win_of;
	int checked = 0;

	(void)state;
	cand_net(&net, H, K, E, S, M);
	wq = xcalloc(net.P, sizeof(*wq));
	wf = xcalloc(net.P, sizeof(*wf));
	gf = xcalloc(net.P, sizeof(*gf));
	junk = xcalloc(net.P, sizeof(*junk));	/* the loss is summed only with gradients */
	lstm_net_init_q12(&net, wq, 7);
	for (size_t i = 0; i < net.P; i++) {
		wq[i] = (q3_12_t)(wq[i] * 4 + (int)(synth_rand(&rng) % 512) - 256);
		wf[i] = wq[i] / 4096.0;
	}
	xd = xcalloc(w->n_cand * K * E, sizeof(*xd));
	xs = xcalloc(w->n_cand * S, sizeof(*xs));
	win_of = xcalloc(w->n_cand, sizeof(*win_of));
	steps = xcalloc(w->n_cand, 1);
	initq = xcalloc(w->n_cand * 2 * H, sizeof(*initq));
	initf = xcalloc(w->n_cand * 2 * H, sizeof(*initf));
	for (uint64_t i = 0; i < w->n_cand; i++) {
		win_of[i] = (uint32_t)i;
		steps[i] = (uint8_t)(synth_rand(&rng) % (uint64_t)(K + 1));
	}
	for (uint64_t i = 0; i < w->n_cand * K * E; i++)
		xd[i] = (q3_12_t)(w->window[i] * 4 - 4096);
	for (uint64_t i = 0; i < w->n_cand * S; i++)
		xs[i] = (q3_12_t)(w->state[i] * 2 - 4096);
	for (uint64_t i = 0; i < n; i++)
		idx[i] = i;

	/* fixed, from zero states: fx_decision() over the last steps rows, K = steps */
	lstm_scratch_init(&s, &net, 5);
	batch_cache_init(&c, &net, 1, 5, 16, 64);
	c.steps = steps, c.init_q = initq;
	for (uint64_t i = 0; i < n; i++) {
		const struct ds_decision *d = &w->dec[i];
		int32_t got[5];
		int64_t lq = 0;
		double lf = 0;
		uint64_t correct = 0;

		batch_cache_fill(&c, w->dec, idx + i, 1, xd, win_of, wq);
		for (uint32_t u = 0; u < c.n_win; u++)
			batch_cache_encode(&c, wq, u);
		batch_cache_heads(&c, &s, NULL, wq, xs, 0, 1, &lq, &lf, &correct);
		memcpy(got, s.logit, sizeof(int32_t) * d->ncand);
		for (int j = 0; j < d->ncand; j++) {
			uint64_t r = d->cand_off + (uint64_t)j;
			int T = steps[r];
			struct lstm_scratch s1;

			if (!T)
				continue;	/* K = 0 is no network: zero h, checked below */
			cand_net(&netT, H, T, E, S, M);
			lstm_scratch_init(&s1, &netT, 1);
			memcpy(xT, xd + (r * K + (uint64_t)(K - T)) * E, sizeof(*xT) * T * E);
			fx_decision(&s1, NULL, wq, &netT, xT, xs + r * S, 1, -1);
			assert_int_equal(got[j], s1.logit[0]);
			lstm_scratch_release(&s1);
			checked++;
		}
	}
	batch_cache_release(&c);

	/* float, from random states: gradients against finite differences */
	for (uint64_t i = 0; i < w->n_cand * 2 * H; i++)
		initf[i] = ((double)(synth_rand(&rng) % 2001) - 1000) / 1500.0;
	batch_cache_init(&c, &net, 0, 5, 16, 64);
	c.steps = steps, c.init_f = initf;
	batch_cache_run(&c, &s, w, idx, n, xd, win_of, xs, wf, gf);
	for (int t = 0; t < 3; t++) {
		size_t lo = net.off[t == 0 ? LT_WX : t == 1 ? LT_WH : LT_B];

		for (size_t i = lo; i < lo + 6; i++) {
			double keep = wf[i], lp, lm, num, r;

			wf[i] = keep + 1e-6;
			lp = batch_cache_run(&c, &s, w, idx, n, xd, win_of, xs, wf, junk);
			wf[i] = keep - 1e-6;
			lm = batch_cache_run(&c, &s, w, idx, n, xd, win_of, xs, wf, junk);
			wf[i] = keep;
			num = (lp - lm) / 2e-6;
			r = fabs(num - gf[i]) / (fabs(num) + fabs(gf[i]) + 1e-6);
			maxrel = SC_MAX(maxrel, r);
		}
	}
	batch_cache_release(&c);
	lstm_scratch_release(&s);
	printf("# stateful batch cache: %d fixed scores equal the reference's over their "
	       "last steps; float gradients from carried states within %.1e of finite "
	       "differences\n", checked, maxrel);
	assert_true(checked > 20);
	assert_true(maxrel < 1e-4);
	free(wq), free(wf), free(gf), free(junk), free(xd), free(xs), free(win_of), free(steps);
	free(initq), free(initf);
	synth_free(w);
}

/* same seed and threads -> the same bits; fixed point: any thread count */
static void test_determinism(void **state)
{
	struct ds_windows *w = synth_candidates(600, 4, 3, 3, 12);
	char *a = unit_path("a.h5"), *b = unit_path("b.h5"), *c = unit_path("c.h5");
	char *fa = unit_path("fa.h5"), *fb = unit_path("fb.h5");
	struct lstm_train_result r;
	struct lstm_train_opts o;
	size_t la, lb, lc;
	void *wa, *wb, *wc;

	o = train_opts(a, LSTM_FIXED, 2, 2);
	assert_int_equal(lstm_train(w, &o, &r), 0);
	o = train_opts(b, LSTM_FIXED, 2, 2);
	assert_int_equal(lstm_train(w, &o, &r), 0);
	o = train_opts(c, LSTM_FIXED, 1, 2);
	assert_int_equal(lstm_train(w, &o, &r), 0);
	wa = weights_of(a, &la), wb = weights_of(b, &lb), wc = weights_of(c, &lc);
	assert_int_equal(la, lb);
	assert_memory_equal(wa, wb, la);
	assert_memory_equal(wa, wc, la);	/* integer sums: order-free */
	free(wa), free(wb), free(wc);

	/* batches of runs sharing windows (the encoder cache summing dh): 1, 2, 3 threads */
	share_windows(w);
	for (int t = 1; t <= 3; t++) {
		o = train_opts(t == 1 ? a : t == 2 ? b : c, LSTM_FIXED, t, 2);
		o.run = 4;
		assert_int_equal(lstm_train(w, &o, &r), 0);
	}
	wa = weights_of(a, &la), wb = weights_of(b, &lb), wc = weights_of(c, &lc);
	assert_int_equal(la, lb);
	assert_memory_equal(wa, wb, la);
	assert_memory_equal(wa, wc, la);
	free(wa), free(wb), free(wc);

	o = train_opts(fa, LSTM_FLOAT, 2, 2);
	assert_int_equal(lstm_train(w, &o, &r), 0);
	o = train_opts(fb, LSTM_FLOAT, 2, 2);
	assert_int_equal(lstm_train(w, &o, &r), 0);
	wa = weights_of(fa, &la), wb = weights_of(fb, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(wa, wb, la);
	free(wa), free(wb);
	synth_free(w);
	free(a), free(b), free(c), free(fa), free(fb);
}

/* 2 epochs + resume to 4 == 4 epochs straight, bit for bit */
static void test_resume(void **state)
{
	struct ds_windows *w = synth_candidates(600, 4, 3, 3, 13);
	char *a = unit_path("ra.h5"), *b = unit_path("rb.h5");
	struct lstm_train_result r;
	struct lstm_train_opts o;
	size_t la, lb;
	void *wa, *wb;

	for (int arith = 0; arith < 2; arith++) {
		o = train_opts(a, arith, 2, 4);
		assert_int_equal(lstm_train(w, &o, &r), 0);
		o = train_opts(b, arith, 2, 2);
		assert_int_equal(lstm_train(w, &o, &r), 0);
		o = train_opts(b, arith, 2, 4);
		o.resume = 1;
		assert_int_equal(lstm_train(w, &o, &r), 0);
		assert_int_equal(r.epochs_run, 4);
		wa = weights_of(a, &la), wb = weights_of(b, &lb);
		assert_int_equal(la, lb);
		assert_memory_equal(wa, wb, la);
		free(wa), free(wb);
	}
	/* other settings: refused */
	o = train_opts(b, LSTM_FIXED, 2, 6);
	o.resume = 1;
	o.seed = 99;
	sc_set_quiet(1);
	assert_int_equal(lstm_train(w, &o, &r), -1);
	sc_set_quiet(0);
	synth_free(w);
	free(a), free(b);
}

/* lstm_predict on a loaded model == the training forward pass, bit for bit */
static void test_predict_matches_training(void **state)
{
	struct ds_windows *w = synth_candidates(600, 4, 3, 3, 14);
	char *out = unit_path("p.h5");
	struct lstm_train_opts o = train_opts(out, LSTM_FIXED, 1, 2);
	struct lstm_train_result r;
	struct lstm_model *m;
	struct lstm_scratch s;
	q3_12_t *x, *st;
	int agree = 0, n = 0;

	assert_int_equal(lstm_train(w, &o, &r), 0);
	m = lstm_model_load(out);
	assert_non_null(m);
	assert_int_equal(lstm_model_check_windows(m, w, "synthetic"), 0);
	lstm_scratch_init(&s, &m->net, 8);
	x = xcalloc(8 * 4 * 3, sizeof(*x));
	st = xcalloc(8 * 3, sizeof(*st));
	for (uint64_t i = 0; i < w->n_dec; i++) {
		const struct ds_decision *d = &w->dec[i];
		int32_t scores[8];
		int best;

		for (int k = 0; k < d->ncand * 4 * 3; k++)
			x[k] = lstm_norm_apply(&m->norm, k % 3, w->window[d->cand_off * 12 + k]);
		for (int k = 0; k < d->ncand * 3; k++)
			st[k] = lstm_norm_apply(&m->norm, 3 + k % 3, w->state[d->cand_off * 3 + k]);
		fx_decision(&s, NULL, m->wq, &m->net, x, st, d->ncand, -1);
		best = lstm_predict(m, NULL, w->window + d->cand_off * 12,
				    w->state + d->cand_off * 3, d->ncand, scores);
		assert_memory_equal(scores, s.logit, sizeof(int32_t) * d->ncand);
		agree += best == d->label;
		n++;
	}
	printf("# lstm_predict: bit-identical to training's forward on %d decisions, "
	       "top-1 %.1f%%\n", n, 100.0 * agree / n);
	/* through the encoder cache: the same scores, and hits the second time round */
	{
		struct lstm_cache *c = lstm_cache_new(m, 8192);
		uint64_t hits, misses;

		for (int pass = 0; pass < 2; pass++)
			for (uint64_t i = 0; i < 40; i++) {
				const struct ds_decision *d = &w->dec[i];
				int32_t a[8], b[8];

				lstm_predict(m, NULL, w->window + d->cand_off * 12,
					     w->state + d->cand_off * 3, d->ncand, a);
				lstm_predict(m, c, w->window + d->cand_off * 12,
					     w->state + d->cand_off * 3, d->ncand, b);
				assert_memory_equal(a, b, sizeof(int32_t) * d->ncand);
			}
		hits = c->hits;
		misses = c->misses;
		printf("# lstm_predict through the cache: identical scores, %llu hits, %llu misses\n",
		       (unsigned long long)hits, (unsigned long long)misses);
		assert_true(hits == misses);	/* the second pass: all hits */
		lstm_cache_free(c);
	}
	assert_int_equal(lstm_predict(m, NULL, w->window, w->state, 0, NULL), -1);
	assert_int_equal(lstm_predict_seq(m, NULL, NULL, NULL), -1);
	lstm_scratch_release(&s);
	free(x), free(st);
	lstm_model_free(m);
	synth_free(w);
	free(out);
}

/*
 * the vector encoder == the -mgeneral-regs-only one, bit for bit, with and
 * without overflow risk; and a model of recurrent width R < H (W_h read in
 * R columns) == the same weights read in all H columns
 */
static void test_vector_encoder_exact(void **state)
{
	static const int Hs[] = { 32, 12, 8 };
	uint64_t rng = 77;
	int checked = 0, slow_steps_possible = 0;

	for (size_t hi = 0; hi < ARRAY_SIZE(Hs); hi++)
		for (int scale = 1; scale <= 8; scale *= 8)
			for (int narrow = 0; narrow <= 1; narrow++) {
				struct lstm_model m, full;
				struct lstm_shape sh = { .mode = DS_WIN_CANDIDATES, .H = Hs[hi],
							 .K = 8, .E = 10, .S = 2, .M = 4,
							 .R = narrow ? 5 : 0 };
				int16_t win[80];

				memset(&m, 0, sizeof(m));
				assert_int_equal(lstm_net_init(&m.net, &sh), 0);
				m.wq = xcalloc(m.net.P, sizeof(*m.wq));
				lstm_net_init_q12(&m.net, m.wq, 9);
				for (size_t i = 0; i < m.net.P; i++)
					m.wq[i] = fx_sat16((int64_t)m.wq[i] * scale);
				lstm_net_zero_unrecurrent(&m.net, m.wq, sizeof(*m.wq));
				m.norm.n = 12;
				for (int f = 0; f < 12; f++)
					m.norm.mu[f] = 0, m.norm.inv[f] = 1 << 16;	/* x' = x */
				lstm_net_gate_bounds(&m.net, m.wq, &m.gate_lx, &m.gate_lh, &m.gate_lb);
				slow_steps_possible += m.gate_lx * 32768 + m.gate_lh * 4096 +
						       m.gate_lb >= INT32_MAX - 4096;
				fxv_pack(&m);
				full = m;
				full.net.sh.R = Hs[hi];
				fxv_pack(&full);
				for (int n = 0; n < 300; n++) {
					q3_12_t h1[32], h2[32], h3[32], h4[32];

					for (int k = 0; k < 80; k++)
						win[k] = (int16_t)(synth_rand(&rng) >> 48);
					fx_encode_raw(&m, win, h1);
					fxv_encode_raw(&m, win, h2);
					fx_encode_raw(&full, win, h3);
					fxv_encode_raw(&full, win, h4);
					assert_memory_equal(h1, h2, sizeof(q3_12_t) * Hs[hi]);
					assert_memory_equal(h1, h3, sizeof(q3_12_t) * Hs[hi]);
					assert_memory_equal(h1, h4, sizeof(q3_12_t) * Hs[hi]);
					checked++;
				}
				free(m.wq);
				free(m.wpack);
				free(full.wpack);
			}
	printf("# vector encoder: bit-identical on %d windows (H 32, 12, 8; recurrent width H "
	       "and 5, equal to all H columns read; %d weight sets that need the int64 "
	       "fallback)\n", checked, slow_steps_possible);
	assert_true(slow_steps_possible > 0);
}

/*
 * The training passes of the encoder cache with vector loops (train-vec.c)
 * against training decision by decision (fx_decision(), the scalar
 * reference), bit for bit: USES candidates with one window and their own
 * states, as a task waiting through several decisions is.  The forward
 * activations, and the weight gradients: the recursion per use, one
 * fxv_lstm_backward_grad() on the summed gate gradients, against
 * fx_decision()'s backward pass per candidate.  Weights scaled up until the
 * int32 gate sums could overflow (the int64 fallback) and the summed gate
 * gradients leave int32 (the scalar product).
 */
static void test_vector_training_exact(void **state)
{
	static const int Hs[] = { 32, 12, 8 };
	enum { K = 8, E = 10, S = 2, M = 4, USES = 6 };
	uint64_t rng = 78;
	int checked = 0, fallback = 0, wide = 0;

	(void)state;
	for (size_t hi = 0; hi < ARRAY_SIZE(Hs); hi++)
		for (int scale = 1; scale <= 64; scale *= 8)
		for (int narrow = 0; narrow <= 1; narrow++) {
			struct lstm_net net, full;
			struct lstm_scratch s, s2;
			int H = Hs[hi], Z = H + S;
			int64_t bound[3], *g1, *g2, *g3, *da = xcalloc((size_t)K * 4 * H, sizeof(*da));
			q3_12_t *w, x[USES * K * E], st[USES * S];
			struct fx_act *a1, *a2;

			cand_net(&full, H, K, E, S, M);
			net = full;
			net.sh.R = narrow ? 5 : H;	/* W_h read in R columns, the rest zero */
			w = xcalloc(net.P, sizeof(*w));
			lstm_net_init_q12(&net, w, 5 + scale);
			for (size_t i = 0; i < net.P; i++)
				w[i] = fx_sat16((int64_t)w[i] * scale);
			lstm_net_zero_unrecurrent(&net, w, sizeof(*w));
			lstm_net_gate_bounds(&net, w, &bound[0], &bound[1], &bound[2]);
			fallback += bound[0] * 8192 + bound[1] * 4096 + bound[2] >= INT32_MAX - 4096;
			lstm_scratch_init(&s, &net, USES);
			lstm_scratch_init(&s2, &net, 1);
			a1 = &s.fa[0], a2 = &s2.fa[0];
			g1 = xcalloc(net.P, sizeof(*g1)), g2 = xcalloc(net.P, sizeof(*g2));
			g3 = xcalloc(net.P, sizeof(*g3));
			for (int n = 0; n < 40; n++) {
				random_q12(x, K * E, &rng);
				for (int u = 1; u < USES; u++)
					memcpy(x + u * K * E, x, sizeof(*x) * K * E);
				random_q12(st, USES * S, &rng);
				memset(g1, 0, net.P * sizeof(*g1)), memset(g2, 0, net.P * sizeof(*g2));
				fx_decision(&s, g1, w, &net, x, st, USES, n % USES);
				a2->x = x;
				fxv_lstm_forward(a2, w, &net, K, bound);
				assert_memory_equal(a1->h, a2->h, sizeof(q3_12_t) * (K + 1) * H);
				assert_memory_equal(a1->c, a2->c, sizeof(q3_12_t) * (K + 1) * H);
				assert_memory_equal(a1->gate, a2->gate, sizeof(q3_12_t) * K * 4 * H);
				assert_memory_equal(a1->tc, a2->tc, sizeof(q3_12_t) * K * H);
				memset(da, 0, (size_t)K * 4 * H * sizeof(*da));
				for (int u = 0; u < USES; u++) {
					q7_24_t dz[32 + S];

					fx_head_backward(g2, dz, s.dlogit[u], s.fx_u + (size_t)u * M,
							 s.fx_z + (size_t)u * Z, w, &net);
					fxv_lstm_backward_da(da, dz, a2, w, &net, K);
				}
				for (int i = 0; i < K * 4 * H; i++)
					wide += da[i] > INT32_MAX || da[i] < INT32_MIN;
				fxv_lstm_backward_grad(g2, da, a2, &net, K);
				assert_memory_equal(g1, g2, net.P * sizeof(*g1));
				if (narrow) {
					/* all H columns read: the same, but for the zeroed gradient */
					memset(g3, 0, net.P * sizeof(*g3));
					fx_decision(&s, g3, w, &full, x, st, USES, n % USES);
					lstm_net_zero_unrecurrent(&net, g3, sizeof(*g3));
					assert_memory_equal(g1, g3, net.P * sizeof(*g1));
				}
				checked++;
			}
			free(g1), free(g2), free(g3), free(w), free(da);
			lstm_scratch_release(&s);
			lstm_scratch_release(&s2);
		}
	printf("# vector training passes: bit-identical to fx_decision on %d windows of %d uses "
	       "(H 32, 12, 8; recurrent width H and 5, the latter equal to all H columns read; "
	       "%d weight sets need the int64 gate sums, %d summed gate gradients "
	       "beyond int32)\n", checked, USES, fallback, wide);
	assert_true(fallback > 0 && wide > 0);
}

/* a windows file with other features is refused with one clear line */
static void test_refuses_other_features(void **state)
{
	struct ds_windows *w = synth_candidates(300, 4, 3, 3, 15);
	char *out = unit_path("f.h5");
	struct lstm_train_opts o = train_opts(out, LSTM_FIXED, 1, 1);
	struct lstm_train_result r;
	struct lstm_model *m;

	assert_int_equal(lstm_train(w, &o, &r), 0);
	m = lstm_model_load(out);
	assert_non_null(m);
	free(w->state_names[1]);
	w->state_names[1] = xstrdup("renamed");
	sc_set_quiet(1);
	assert_int_equal(lstm_model_check_windows(m, w, "other.h5"), -1);
	w->state_frac[1] = 4;
	assert_int_equal(lstm_model_check_windows(m, w, "other.h5"), -1);
	w->K = 5;
	assert_int_equal(lstm_model_check_windows(m, w, "other.h5"), -1);
	sc_set_quiet(0);
	lstm_model_free(m);
	synth_free(w);
	free(out);
}

/* damaged model files: one error, NULL, no crash */
/*
 * The linear path: with the head's last layer at zero the network is the
 * linear ranker, and the linear-only pass (the first training stage) gives
 * the same scores and the same linear gradients, in both arithmetics.
 */
static void test_linear_only(void **state)
{
	struct lstm_net net;
	struct lstm_scratch s;
	uint64_t rng = 5;
	int N = 5, label = 3;
	q3_12_t *x, *st, *wq;
	double *w, *gf, *gf2;
	int64_t *gq, *gq2;
	int32_t full_q[8];
	double full_f[8], lf, lf2;
	int32_t lq, lq2;

	cand_net(&net, 6, 4, 3, 5, 4);
	x = xcalloc((size_t)N * 4 * 3, sizeof(*x));
	st = xcalloc((size_t)N * 5, sizeof(*st));
	wq = xcalloc(net.P, sizeof(*wq));
	w = xcalloc(net.P, sizeof(*w)), gf = xcalloc(net.P, sizeof(*gf));
	gf2 = xcalloc(net.P, sizeof(*gf2));
	gq = xcalloc(net.P, sizeof(*gq)), gq2 = xcalloc(net.P, sizeof(*gq2));
	random_q12(x, (size_t)N * 4 * 3, &rng);
	random_q12(st, (size_t)N * 5, &rng);
	lstm_net_init_q12(&net, wq, 9);
	for (size_t i = 0; i < net.rows[LT_WL]; i++)
		assert_int_equal(wq[net.off[LT_WL] + i], 0);	/* starts at zero */
	random_q12(wq + net.off[LT_WL], net.rows[LT_WL], &rng);
	memset(wq + net.off[LT_W2], 0, net.rows[LT_W2] * sizeof(*wq));
	for (size_t i = 0; i < net.P; i++)
		w[i] = wq[i] / 4096.0;
	lstm_scratch_init(&s, &net, N);
	lq = fx_decision(&s, gq, wq, &net, x, st, N, label);
	lf = fl_decision(&s, gf, w, &net, x, st, N, label);
	memcpy(full_q, s.logit, sizeof(int32_t) * N);
	memcpy(full_f, s.fl_logit, sizeof(double) * N);
	s.linear_only = 1;
	lq2 = fx_decision(&s, gq2, wq, &net, x, st, N, label);
	lf2 = fl_decision(&s, gf2, w, &net, x, st, N, label);
	assert_memory_equal(full_q, s.logit, sizeof(int32_t) * N);
	assert_int_equal(lq, lq2);
	assert_memory_equal(gq + net.off[LT_WL], gq2 + net.off[LT_WL],
			    net.rows[LT_WL] * sizeof(*gq));
	assert_true(fabs(lf - lf2) < 1e-12);
	for (int j = 0; j < N; j++)
		assert_true(fabs(full_f[j] - s.fl_logit[j]) < 1e-12);
	for (size_t i = 0; i < net.rows[LT_WL]; i++)
		assert_true(fabs(gf[net.off[LT_WL] + i] - gf2[net.off[LT_WL] + i]) < 1e-12);
	for (size_t i = 0; i < net.P; i++)
		if (i < net.off[LT_WL] || i >= net.off[LT_WL] + net.rows[LT_WL])
			assert_true(gq2[i] == 0 && gf2[i] == 0);
	printf("# linear path: the linear-only pass == the whole network with head/w2 = 0 "
	       "(fixed bit for bit, float within 1e-12)\n");
	lstm_scratch_release(&s);
	free(x), free(st), free(wq), free(w), free(gf), free(gf2), free(gq), free(gq2);
}

/* a version 1 model (no linear path) is read with a zero one; a version 2 needs it */
static void test_model_version1(void **state)
{
	struct ds_windows *w = synth_candidates(300, 4, 3, 3, 15);
	char *out = unit_path("v1.h5");
	struct lstm_train_opts o = train_opts(out, LSTM_FIXED, 1, 2);
	struct lstm_train_result r;
	struct ds_model *f;
	struct lstm_model m;
	int wl = -1;

	assert_int_equal(lstm_train(w, &o, &r), 0);
	f = ds_model_load(out);
	assert_non_null(f);
	assert_int_equal(f->version, DS_MODEL_VERSION_WINDOW);
	for (int i = 0; i < f->n_tensors; i++)
		if (!strcmp(f->tensors[i].name, "head/w_lin"))
			wl = i;
	assert_true(wl >= 0);
	/* drop head/w_lin: what a version 1 writer wrote */
	free(f->tensors[wl].data);
	memmove(&f->tensors[wl], &f->tensors[wl + 1],
		(size_t)(f->n_tensors - wl - 1) * sizeof(f->tensors[0]));
	f->n_tensors--;
	sc_set_quiet(1);
	assert_int_equal(lstm_model_from_file(&m, f, "v2.h5"), -1);
	sc_set_quiet(0);
	lstm_model_release(&m);
	f->version = 1;
	assert_int_equal(lstm_model_from_file(&m, f, "v1.h5"), 0);
	for (size_t i = 0; i < m.net.rows[LT_WL]; i++)
		assert_int_equal(m.wq[m.net.off[LT_WL] + i], 0);
	lstm_model_release(&m);
	ds_model_free(f);
	synth_free(w);
	free(out);
}


/* a model in memory for the stateful tests: weights from seed, x' = x */
static void stateful_model(struct lstm_model *m, int H, int E, int S, int arith, uint64_t seed)
{
	struct lstm_shape sh = { .mode = DS_WIN_CANDIDATES, .arith = arith, .H = H, .K = 4,
				 .E = E, .S = S, .M = 4, .encoder = LSTM_ENC_STATEFUL };

	memset(m, 0, sizeof(*m));
	assert_int_equal(lstm_net_init(&m->net, &sh), 0);
	m->wq = xcalloc(m->net.P, sizeof(*m->wq));
	lstm_net_init_q12(&m->net, m->wq, seed);
	if (arith == LSTM_FLOAT) {
		m->wf = xcalloc(m->net.P, sizeof(*m->wf));
		for (size_t i = 0; i < m->net.P; i++)
			m->wf[i] = m->wq[i] / 4096.0;
		free(m->wq);
		m->wq = NULL;
	}
	m->norm.n = E + S;
	for (int f = 0; f < E + S; f++)
		m->norm.mu[f] = 0, m->norm.inv[f] = 1 << 16;	/* x' = x */
	if (arith == LSTM_FIXED) {
		lstm_net_gate_bounds(&m->net, m->wq, &m->gate_lx, &m->gate_lh, &m->gate_lb);
		m->head_i32 = lstm_net_head_i32_safe(&m->net, m->wq);
		fxv_pack(m);
	}
}

/*
 * The stateful encoder by hand: no input or recurrent weights, so every
 * gate is its bias's activation and c_n = f c_(n-1) + i g, h_n = o tanh(c_n)
 * in Q3.12: the state after n episodes is n steps of that (no padding
 * steps), whatever the rows, for H 8 (the vector step) and 3 (scalar).
 */
static void test_stateful_by_hand(void **state)
{
	static const int Hs[] = { 8, 3 };

	for (size_t hi = 0; hi < ARRAY_SIZE(Hs); hi++) {
		int H = Hs[hi];
		struct lstm_model m;
		struct lstm_tasks *t;
		q3_12_t *b, gi, gf, gg, go, c = 0, h = 0;
		int16_t row[2] = { 1234, -999 }, got[8];

		stateful_model(&m, H, 2, 1, LSTM_FIXED, 5);
		memset(m.wq + m.net.off[LT_WX], 0, m.net.rows[LT_WX] * m.net.cols[LT_WX] * 2);
		memset(m.wq + m.net.off[LT_WH], 0, m.net.rows[LT_WH] * m.net.cols[LT_WH] * 2);
		b = m.wq + m.net.off[LT_B];
		for (int j = 0; j < H; j++)
			b[j] = 2048, b[H + j] = 3000, b[2 * H + j] = 1500, b[3 * H + j] = 4096;
		lstm_net_gate_bounds(&m.net, m.wq, &m.gate_lx, &m.gate_lh, &m.gate_lb);
		free(m.wpack);
		fxv_pack(&m);
		gi = fx_sigmoid_q12(2048), gf = fx_sigmoid_q12(3000);
		gg = fx_tanh_q12(1500), go = fx_sigmoid_q12(4096);
		t = lstm_tasks_new(&m);
		assert_non_null(t);
		assert_int_equal(lstm_tasks_steps(t, 7), 0);
		lstm_tasks_hx(t, 7, got, NULL);
		for (int j = 0; j < H; j++)
			assert_int_equal(got[j], 0);
		for (int n = 1; n <= 12; n++) {
			c = fx_sat16(fx_rshift_round((int64_t)gf * c + (int64_t)gi * gg, 12));
			h = fx_mul_q12(go, fx_tanh_q12(c));
			lstm_tasks_step(t, 7, row);
			row[0] = (int16_t)(row[0] * 3 + n);	/* the rows do not matter here */
			assert_int_equal(lstm_tasks_steps(t, 7), n);
			lstm_tasks_hx(t, 7, got, NULL);
			for (int j = 0; j < H; j++)
				assert_int_equal(got[j], h);
			/* another task's state is untouched */
			assert_int_equal(lstm_tasks_steps(t, 3000), 0);
		}
		printf("# stateful by hand (H %d): h after 12 episodes %d (Q3.12), c %d\n", H, h, c);
		lstm_tasks_free(t);
		lstm_model_release(&m);
	}
}

/*
 * Forgetting tasks (lstm_tasks_forget): entries follow the tasks alive.
 * 200,000 task ids step and are forgotten in a random order with at most
 * 300 alive at a time: every task's steps and state match a reference kept
 * beside it (a forgotten id reads as never seen, one stepped again starts
 * from zero), and the entries held never exceed the tasks alive.
 */
static void test_stateful_forget(void **state)
{
	enum { N = 200000, ALIVE = 300, H = 8 };
	struct lstm_model m;
	struct lstm_tasks *t;
	uint32_t *alive = xcalloc(ALIVE, sizeof(*alive)), *steps = xcalloc(N, sizeof(*steps));
	int16_t row[3] = { 700, -300, 50 }, h1[H], got[H];
	uint64_t rng = 5;
	int n_alive = 0, most = 0;

	stateful_model(&m, H, 3, 1, LSTM_FIXED, 9);
	t = lstm_tasks_new(&m);
	assert_non_null(t);
	lstm_tasks_step(t, 0, row);
	lstm_tasks_hx(t, 0, h1, NULL);	/* the state after one step on row */
	lstm_tasks_forget(t, 0);
	assert_int_equal(lstm_tasks_steps(t, 0), 0);
	assert_int_equal(lstm_tasks_count(t), 0);
	lstm_tasks_forget(t, 12345);	/* a task never seen: nothing to do */
	for (uint32_t id = 1; id < N; id++) {
		lstm_tasks_step(t, id, row);
		steps[id] = 1;
		if (n_alive == ALIVE) {
			int k = (int)(synth_rand(&rng) % ALIVE);
			uint32_t old = alive[k];

			assert_int_equal(lstm_tasks_steps(t, old), steps[old]);
			lstm_tasks_forget(t, old);
			steps[old] = 0;
			assert_int_equal(lstm_tasks_steps(t, old), 0);
			alive[k] = id;
		} else {
			alive[n_alive++] = id;
		}
		/* a task alive steps again now and then */
		if (synth_rand(&rng) % 4 == 0) {
			uint32_t a = alive[synth_rand(&rng) % (uint64_t)n_alive];

			lstm_tasks_step(t, a, row);
			steps[a]++;
		}
		most = SC_MAX(most, (int)lstm_tasks_count(t));
	}
	assert_int_equal(lstm_tasks_count(t), ALIVE);
	assert_true(most <= ALIVE + 1);
	for (int k = 0; k < n_alive; k++) {
		assert_int_equal(lstm_tasks_steps(t, alive[k]), steps[alive[k]]);
		if (steps[alive[k]] == 1) {
			lstm_tasks_hx(t, alive[k], got, NULL);
			assert_memory_equal(got, h1, sizeof(got));
		}
	}
	for (uint32_t id = 1; id < N; id++)
		if (!steps[id])
			assert_int_equal(lstm_tasks_steps(t, id), 0);
	/* a forgotten id stepped again starts from zero: one step, the state of one */
	lstm_tasks_step(t, 0, row);
	lstm_tasks_hx(t, 0, got, NULL);
	assert_memory_equal(got, h1, sizeof(got));
	printf("# stateful forget: %d ids, at most %d entries held\n", N, most);
	lstm_tasks_free(t);
	lstm_model_release(&m);
	free(alive);
	free(steps);
}

/*
 * The stateful encoder against the windowed reference: a task's state
 * after n episodes is fx_encode_raw() (the scalar reference) / fl_encode_raw()
 * over exactly those n rows (K = n, no padding), bit for bit; its scores
 * are the windowed model's where the window holds exactly its history (n =
 * K), and differ from them where the history is longer than K; a
 * candidate whose episodes were not all stepped is refused.
 */
static void test_stateful_vs_window(void **state)
{
	static const int Hs[] = { 32, 12 };
	uint64_t rng = 99;
	int differ = 0;

	for (int arith = LSTM_FIXED; arith <= LSTM_FLOAT; arith++)
		for (size_t hi = 0; hi < ARRAY_SIZE(Hs); hi++) {
			int H = Hs[hi], E = 5, S = 3, K = 4, N = 20;
			struct lstm_model m;
			struct lstm_tasks *t;
			int16_t rows[20 * 5], st[2 * 3];
			struct ds_candidate cand[2];
			int32_t s1[2], s2[2];

			stateful_model(&m, H, E, S, arith, 11 + hi);
			t = lstm_tasks_new(&m);
			assert_non_null(t);
			for (int k = 0; k < N * E; k++)
				rows[k] = (int16_t)((int64_t)(synth_rand(&rng) >> 52) - 2048);
			for (int k = 0; k < 2 * S; k++)
				st[k] = (int16_t)((int64_t)(synth_rand(&rng) >> 52) - 2048);
			for (int n = 1; n <= N; n++) {
				q3_12_t hq[32], ref[32];
				double hf[32], reff[32];

				/* task 1 steps on every row, task 2 on none */
				lstm_tasks_step(t, 1, rows + (n - 1) * E);
				m.net.sh.K = n;
				if (arith == LSTM_FIXED) {
					fx_encode_raw(&m, rows, ref);
					lstm_tasks_hx(t, 1, hq, NULL);
					assert_memory_equal(hq, ref, sizeof(*hq) * H);
				} else {
					fl_encode_raw(&m, rows, reff);
					lstm_tasks_hx(t, 1, NULL, hf);
					assert_memory_equal(hf, reff, sizeof(*hf) * H);
				}
				m.net.sh.K = K;
				memset(cand, 0, sizeof(cand));
				cand[0].task = 1, cand[0].n_ep = (uint32_t)n;
				cand[1].task = 2, cand[1].n_ep = 0;
				assert_true(lstm_predict_tasks(&m, t, cand, st, 2, s1) >= 0);
				if (n < K)
					continue;
				/* the windowed model on the last K rows and an all-padding window */
				{
					int16_t win[2 * 4 * 5];

					memcpy(win, rows + (n - K) * E, sizeof(int16_t) * K * E);
					memset(win + K * E, 0, sizeof(int16_t) * K * E);
					assert_int_equal(lstm_predict(&m, NULL, win, st, 2, s2), -1);
					m.net.sh.encoder = LSTM_ENC_WINDOW;
					assert_true(lstm_predict(&m, NULL, win, st, 2, s2) >= 0);
					m.net.sh.encoder = LSTM_ENC_STATEFUL;
				}
				if (n == K)
					assert_int_equal(s1[0], s2[0]);
				else
					differ += s1[0] != s2[0];
			}
			/* a candidate claiming an episode the states never saw */
			cand[0].n_ep = (uint32_t)N + 1;
			assert_int_equal(lstm_predict_tasks(&m, t, cand, st, 2, s1), -2);
			lstm_tasks_reset(t);
			assert_int_equal(lstm_tasks_steps(t, 1), 0);
			lstm_tasks_free(t);
			lstm_model_release(&m);
		}
	printf("# stateful vs windowed: %d of 64 scores with a history longer than K differ\n",
	       differ);
	assert_true(differ > 32);
}

static void test_bad_model_files(void **state)
{
	char *p = unit_path("bad.h5");
	FILE *fp = fopen(p, "w");

	fputs("not a model\n", fp);
	fclose(fp);
	sc_set_quiet(1);
	assert_null(lstm_model_load(p));
	assert_null(lstm_model_load("/nonexistent/model.h5"));
	sc_set_quiet(0);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gradcheck_candidates),
		cmocka_unit_test(test_gradcheck_sequence),
		cmocka_unit_test(test_fixed_vs_float_candidates),
		cmocka_unit_test(test_fixed_vs_float_sequence),
		cmocka_unit_test(test_learns_longest_queued_fixed),
		cmocka_unit_test(test_learns_longest_queued_float),
		cmocka_unit_test(test_few_val),
		cmocka_unit_test(test_learns_sequence_cycle),
		cmocka_unit_test(test_batch_cache),
		cmocka_unit_test(test_batch_cache_stateful),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_predict_matches_training),
		cmocka_unit_test(test_vector_encoder_exact),
		cmocka_unit_test(test_vector_training_exact),
		cmocka_unit_test(test_refuses_other_features),
		cmocka_unit_test(test_linear_only),
		cmocka_unit_test(test_model_version1),
		cmocka_unit_test(test_bad_model_files),
		cmocka_unit_test(test_stateful_by_hand),
		cmocka_unit_test(test_stateful_forget),
		cmocka_unit_test(test_stateful_vs_window),
	};

	return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
