// SPDX-License-Identifier: GPL-2.0
/*
 * Golden test against PyTorch: tests/data/model/golden-*.txt, written by
 * scripts/torch-golden.py (torch.nn.LSTM, Linear, Embedding in float64),
 * hold inputs, weights, scores, loss and gradients (golden-candidates-full.txt:
 * a real decision's inputs, every feature the engine computes).  The double reference
 * must match to 1e-9; the fixed-point path within the tolerances of
 * test-lstm.c.  No PyTorch needed here.
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

#include "features/features.h"
#include "model/model-local.h"

#define TOL_REF 1e-9
#define TOL_SCORE 0.002
#define TOL_GRAD 0.005

struct golden {
	int n;
	char *name[40];
	int len[40];
	double *v[40];
};

static void golden_load(struct golden *g, const char *file)
{
	char *path = xstrfmt("%s/tests/data/model/%s", getenv("TEST_TOP") ? getenv("TEST_TOP") : ".",
			     file);
	FILE *fp = fopen(path, "r");
	char name[64];
	int len;

	if (!fp)
		fail_msg("cannot open %s", path);
	memset(g, 0, sizeof(*g));
	while (fscanf(fp, "%63s", name) == 1) {
		if (name[0] == '#') {
			while (fgetc(fp) != '\n' && !feof(fp))
				;
			continue;
		}
		assert_int_equal(fscanf(fp, "%d", &len), 1);
		assert_true(g->n < 40 && len > 0 && len < 100000);
		g->name[g->n] = xstrdup(name);
		g->len[g->n] = len;
		g->v[g->n] = xcalloc((size_t)len, sizeof(double));
		for (int i = 0; i < len; i++)
			assert_int_equal(fscanf(fp, "%lf", &g->v[g->n][i]), 1);
		g->n++;
	}
	fclose(fp);
	free(path);
}

static const double *golden_get(const struct golden *g, const char *name, int len)
{
	for (int i = 0; i < g->n; i++)
		if (!strcmp(g->name[i], name)) {
			if (len >= 0 && g->len[i] != len)
				fail_msg("golden '%s' has %d values, expected %d", name, g->len[i], len);
			return g->v[i];
		}
	fail_msg("golden file lacks '%s'", name);
	return NULL;
}

static void golden_free(struct golden *g)
{
	for (int i = 0; i < g->n; i++)
		free(g->name[i]), free(g->v[i]);
}

static void load_weights(const struct golden *g, const struct lstm_net *net, double *w,
			 q3_12_t *wq)
{
	for (int t = 0; t < LT_NR; t++) {
		size_t n = net->rows[t] * net->cols[t];
		const double *v;

		if (!n)
			continue;
		v = golden_get(g, lstm_tensor_names[t], (int)n);
		for (size_t i = 0; i < n; i++) {
			w[net->off[t] + i] = v[i];
			wq[net->off[t] + i] = (q3_12_t)lround(v[i] * 4096);
			assert_true(wq[net->off[t] + i] == v[i] * 4096);	/* exact in Q3.12 */
		}
	}
}

/* compare outputs and gradients with the golden ones, in both arithmetics */
static void compare(const struct golden *g, const struct lstm_net *net, int n, double lf,
		    int32_t lq, const double *sf, const int32_t *sq, const double *gf,
		    const int64_t *gq, const char *what)
{
	const double *score = golden_get(g, "scores", n), *loss = golden_get(g, "loss", 1);
	double ms_f = 0, ms_q = 0, mg_f = 0, mg_q = 0, gscale = 0;

	for (int i = 0; i < n; i++) {
		ms_f = fmax(ms_f, fabs(sf[i] - score[i]));
		ms_q = fmax(ms_q, fabs(sq[i] / 4096.0 - score[i]));
	}
	for (int t = 0; t < LT_NR; t++) {
		size_t cnt = net->rows[t] * net->cols[t];
		char *name;
		const double *want;

		if (!cnt)
			continue;
		name = xstrfmt("grad/%s", lstm_tensor_names[t]);
		want = golden_get(g, name, (int)cnt);
		free(name);
		for (size_t i = 0; i < cnt; i++) {
			double f = gf[net->off[t] + i], q = gq[net->off[t] + i] / 68719476736.0;

			gscale = fmax(gscale, fabs(want[i]));
			mg_f = fmax(mg_f, fabs(f - want[i]));
			mg_q = fmax(mg_q, fabs(q - want[i]));
		}
	}
	printf("# golden %s: float ref vs PyTorch: scores %.3g, loss %.3g, gradients %.3g "
	       "(tol %.0g)\n", what, ms_f, fabs(lf - loss[0]), mg_f, TOL_REF);
	printf("# golden %s: fixed vs PyTorch: scores %.3g (tol %.3g), loss %.3g, gradients %.3g "
	       "= %.2f%% of max |g| (tol %.1f%%)\n", what, ms_q, TOL_SCORE,
	       fabs(lq / 4096.0 - loss[0]), mg_q, 100 * mg_q / gscale, 100 * TOL_GRAD);
	assert_true(ms_f < TOL_REF && fabs(lf - loss[0]) < TOL_REF && mg_f < TOL_REF);
	assert_true(ms_q < TOL_SCORE && fabs(lq / 4096.0 - loss[0]) < TOL_SCORE);
	assert_true(mg_q < TOL_GRAD * gscale);
}

/* one candidates decision; full: its inputs are every one the features engine computes (the wait set) */
static void golden_candidates(const char *file, int full)
{
	struct golden g;
	const double *shape, *x, *st;
	struct lstm_shape sh = { .mode = DS_WIN_CANDIDATES };
	struct lstm_net net;
	struct lstm_scratch s;
	int N, label;
	q3_12_t *xq, *sq, *wq;
	double *w, *gf, lf;
	int64_t *gq;
	int32_t lq;

	golden_load(&g, file);
	shape = golden_get(&g, "shape", 7);
	sh.H = (int)shape[0], sh.K = (int)shape[1], sh.E = (int)shape[2], sh.S = (int)shape[3];
	sh.M = (int)shape[4], N = (int)shape[5], label = (int)shape[6];
	if (full) {
		/* regenerate with scripts/torch-golden.py when the feature set changes */
		assert_int_equal(sh.E, FEAT_E);
		assert_int_equal(sh.S, FEAT_S);
	}
	assert_int_equal(lstm_net_init(&net, &sh), 0);
	x = golden_get(&g, "x", N * sh.K * sh.E);
	st = golden_get(&g, "state", N * sh.S);
	xq = xcalloc((size_t)N * sh.K * sh.E, sizeof(*xq));
	sq = xcalloc((size_t)N * sh.S, sizeof(*sq));
	for (int i = 0; i < N * sh.K * sh.E; i++)
		xq[i] = (q3_12_t)lround(x[i] * 4096);
	for (int i = 0; i < N * sh.S; i++)
		sq[i] = (q3_12_t)lround(st[i] * 4096);
	w = xcalloc(net.P, sizeof(*w)), gf = xcalloc(net.P, sizeof(*gf));
	wq = xcalloc(net.P, sizeof(*wq)), gq = xcalloc(net.P, sizeof(*gq));
	load_weights(&g, &net, w, wq);
	lstm_scratch_init(&s, &net, N);
	lf = fl_decision(&s, gf, w, &net, xq, sq, N, label);
	lq = fx_decision(&s, gq, wq, &net, xq, sq, N, label);
	compare(&g, &net, N, lf, lq, s.fl_logit, s.logit, gf, gq,
		full ? "candidates, every feature (the wait set)" : "candidates");
	lstm_scratch_release(&s);
	free(xq), free(sq), free(w), free(gf), free(wq), free(gq);
	golden_free(&g);
}

static void test_golden_candidates(void **state)
{
	golden_candidates("golden-candidates.txt", 0);
}

/*
 * A decision of a real trace with every input the features engine computes
 * (E episode and the wait set's S state features), normalised as the trainer
 * does: the network's arithmetic on the inputs it is trained on.
 */
static void test_golden_candidates_full(void **state)
{
	golden_candidates("golden-candidates-full.txt", 1);
}

static void test_golden_sequence(void **state)
{
	struct golden g;
	const double *shape, *ids, *gaps;
	struct lstm_shape sh = { .mode = DS_WIN_SEQUENCE };
	struct lstm_net net;
	struct lstm_scratch s;
	int label;
	int32_t idv[64], lq;
	q3_12_t gq12[64], *wq;
	double *w, *gf, lf;
	int64_t *gq;

	golden_load(&g, "golden-sequence.txt");
	shape = golden_get(&g, "shape", 5);
	sh.H = (int)shape[0], sh.W = (int)shape[1], sh.V = (int)shape[2], sh.D = (int)shape[3];
	label = (int)shape[4];
	assert_int_equal(lstm_net_init(&net, &sh), 0);
	assert_true(sh.W <= 64);
	ids = golden_get(&g, "ids", sh.W);
	gaps = golden_get(&g, "gaps", sh.W);
	for (int t = 0; t < sh.W; t++) {
		idv[t] = (int32_t)ids[t];
		gq12[t] = (q3_12_t)lround(gaps[t] * 4096);
	}
	w = xcalloc(net.P, sizeof(*w)), gf = xcalloc(net.P, sizeof(*gf));
	wq = xcalloc(net.P, sizeof(*wq)), gq = xcalloc(net.P, sizeof(*gq));
	load_weights(&g, &net, w, wq);
	lstm_scratch_init(&s, &net, 1);
	lf = fl_sequence(&s, gf, w, &net, idv, gq12, label);
	lq = fx_sequence(&s, gq, wq, &net, idv, gq12, label);
	compare(&g, &net, sh.V, lf, lq, s.fl_logit, s.logit, gf, gq, "sequence");
	lstm_scratch_release(&s);
	free(w), free(gf), free(wq), free(gq);
	golden_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_candidates),
		cmocka_unit_test(test_golden_candidates_full),
		cmocka_unit_test(test_golden_sequence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
