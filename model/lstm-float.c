// SPDX-License-Identifier: GPL-2.0
/*
 * The double reference of the same networks, layer by layer as in
 * lstm-fixed.c, with libm's exp/tanh and no rounding.  Tests compare the
 * two; `schedcast train --arith float` trains with it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model-local.h"

#define W(net, w, t) ((w) + (net)->off[t])

static inline double sigm(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

/* one step, as lstm-fixed.c's: only h[0..R-1] is read (W_h's other columns are zero) */
static void lstm_cell_forward(double *hn, double *cn, double *gate, double *tc, const double *x,
			      const double *hp, const double *cp, const double *wx,
			      const double *wh, const double *b, int I, int H, int R)
{
	for (int r = 0; r < 4 * H; r++) {
		const double *wxr = wx + (size_t)r * I, *whr = wh + (size_t)r * H;
		double acc = b[r];

		for (int k = 0; k < I; k++)
			acc += wxr[k] * x[k];
		for (int k = 0; k < R; k++)
			acc += whr[k] * hp[k];
		gate[r] = (r >= 2 * H && r < 3 * H) ? tanh(acc) : sigm(acc);
	}
	for (int j = 0; j < H; j++) {
		double i = gate[j], f = gate[H + j], g = gate[2 * H + j], o = gate[3 * H + j];

		cn[j] = f * cp[j] + i * g;
		tc[j] = tanh(cn[j]);
		hn[j] = o * tc[j];
	}
}

void fl_lstm_forward(struct fl_act *a, const double *w, const struct lstm_net *net, int T)
{
	memset(a->h, 0, sizeof(*a->h) * net->sh.H);
	memset(a->c, 0, sizeof(*a->c) * net->sh.H);
	fl_lstm_forward_from(a, w, net, T);
}

void fl_lstm_forward_from(struct fl_act *a, const double *w, const struct lstm_net *net, int T)
{
	int H = net->sh.H, I = net->I;

	for (int t = 0; t < T; t++)
		lstm_cell_forward(a->h + (size_t)(t + 1) * H, a->c + (size_t)(t + 1) * H,
				  a->gate + (size_t)t * 4 * H, a->tc + (size_t)t * H,
				  a->x + (size_t)t * I, a->h + (size_t)t * H, a->c + (size_t)t * H,
				  W(net, w, LT_WX), W(net, w, LT_WH), W(net, w, LT_B), I, H,
				  net->sh.R);
}

void fl_lstm_backward(double *g, double *dx, double *dh, const struct fl_act *a,
		      const double *w, const struct lstm_net *net, int T)
{
	int H = net->sh.H, I = net->I, R = net->sh.R;
	const double *wx = W(net, w, LT_WX), *wh = W(net, w, LT_WH);
	double *gwx = g + net->off[LT_WX], *gwh = g + net->off[LT_WH], *gb = g + net->off[LT_B];
	double dc[LSTM_MAX_HIDDEN] = { 0 }, da[4 * LSTM_MAX_HIDDEN];
	double acc[LSTM_MAX_HIDDEN > LSTM_MAX_IN ? LSTM_MAX_HIDDEN : LSTM_MAX_IN];

	for (int t = T - 1; t >= 0; t--) {
		const double *gate = a->gate + (size_t)t * 4 * H, *tc = a->tc + (size_t)t * H;
		const double *cp = a->c + (size_t)t * H, *hp = a->h + (size_t)t * H;
		const double *x = a->x + (size_t)t * I;

		for (int j = 0; j < H; j++) {
			double i = gate[j], f = gate[H + j], gg = gate[2 * H + j], o = gate[3 * H + j];
			double dcj;

			da[3 * H + j] = dh[j] * tc[j] * o * (1 - o);
			dcj = dc[j] + dh[j] * o * (1 - tc[j] * tc[j]);
			da[j] = dcj * gg * i * (1 - i);
			da[2 * H + j] = dcj * i * (1 - gg * gg);
			da[H + j] = dcj * cp[j] * f * (1 - f);
			dc[j] = dcj * f;
		}
		for (int r = 0; r < 4 * H; r++) {
			double d = da[r], *gxr = gwx + (size_t)r * I, *ghr = gwh + (size_t)r * H;

			gb[r] += d;
			for (int k = 0; k < I; k++)
				gxr[k] += d * x[k];
			for (int k = 0; k < R; k++)
				ghr[k] += d * hp[k];
		}
		/* dh = W_h^T da: 0 beyond the recurrent width */
		memset(acc, 0, sizeof(acc[0]) * H);
		for (int r = 0; r < 4 * H; r++)
			for (int k = 0; k < R; k++)
				acc[k] += da[r] * wh[(size_t)r * H + k];
		memcpy(dh, acc, sizeof(*dh) * H);
		if (dx) {
			memset(acc, 0, sizeof(acc[0]) * I);
			for (int r = 0; r < 4 * H; r++)
				for (int k = 0; k < I; k++)
					acc[k] += da[r] * wx[(size_t)r * I + k];
			memcpy(dx + (size_t)t * I, acc, sizeof(*dx) * I);
		}
	}
}

/* fl_linear_sum - the linear path: sum of wl[k] st[k] over the S state features */
static double fl_linear_sum(const double *st, const double *wl, int S)
{
	double acc = 0;

	for (int k = 0; k < S; k++)
		acc += wl[k] * st[k];
	return acc;
}

double fl_head_forward(double *u, const double *z, const double *w, const struct lstm_net *net)
{
	const double *w1 = W(net, w, LT_W1), *b1 = W(net, w, LT_B1), *w2 = W(net, w, LT_W2);
	int Z = net->Z, M = net->sh.M;
	double score = 0;

	for (int m = 0; m < M; m++) {
		double acc = b1[m];

		for (int k = 0; k < Z; k++)
			acc += w1[(size_t)m * Z + k] * z[k];
		u[m] = acc > 0 ? acc : 0;
		score += w2[m] * u[m];
	}
	return score + fl_linear_sum(z + net->sh.H, W(net, w, LT_WL), net->sh.S);
}

void fl_head_backward(double *g, double *dz, double dscore, const double *u, const double *z,
		      const double *w, const struct lstm_net *net)
{
	const double *w1 = W(net, w, LT_W1), *w2 = W(net, w, LT_W2);
	double *gw1 = g + net->off[LT_W1], *gb1 = g + net->off[LT_B1], *gw2 = g + net->off[LT_W2];
	int Z = net->Z, M = net->sh.M;

	memset(dz, 0, sizeof(*dz) * Z);
	for (int m = 0; m < M; m++) {
		double du;

		gw2[m] += dscore * u[m];
		if (u[m] <= 0)
			continue;
		du = dscore * w2[m];
		gb1[m] += du;
		for (int k = 0; k < Z; k++) {
			gw1[(size_t)m * Z + k] += du * z[k];
			dz[k] += du * w1[(size_t)m * Z + k];
		}
	}
	for (int k = 0; k < net->sh.S; k++)
		g[net->off[LT_WL] + k] += dscore * z[net->sh.H + k];
}

static void fl_out_forward(double *logit, const double *h, const double *w,
			   const struct lstm_net *net)
{
	const double *wo = W(net, w, LT_WO), *bo = W(net, w, LT_BO);
	int H = net->sh.H, V = net->sh.V;

	for (int v = 0; v < V; v++) {
		double acc = bo[v];

		for (int k = 0; k < H; k++)
			acc += wo[(size_t)v * H + k] * h[k];
		logit[v] = acc;
	}
}

static void fl_out_backward(double *g, double *dh, const double *dlogit, const double *h,
			    const double *w, const struct lstm_net *net)
{
	const double *wo = W(net, w, LT_WO);
	double *gwo = g + net->off[LT_WO], *gbo = g + net->off[LT_BO];
	int H = net->sh.H, V = net->sh.V;

	memset(dh, 0, sizeof(*dh) * H);
	for (int v = 0; v < V; v++) {
		double d = dlogit[v];

		gbo[v] += d;
		for (int k = 0; k < H; k++) {
			gwo[(size_t)v * H + k] += d * h[k];
			dh[k] += d * wo[(size_t)v * H + k];
		}
	}
}

double fl_softmax_xent(double *dlogit, const double *logit, int n, int label)
{
	double max = -INFINITY, sum = 0;

	for (int i = 0; i < n; i++)
		if (logit[i] > max)
			max = logit[i];
	for (int i = 0; i < n; i++)
		sum += exp(logit[i] - max);
	if (dlogit)
		for (int i = 0; i < n; i++)
			dlogit[i] = exp(logit[i] - max) / sum - (i == label ? 1.0 : 0.0);
	if (label < 0 || label >= n)
		return 0;
	return max + log(sum) - logit[label];
}

double fl_decision(struct lstm_scratch *s, double *g, const double *w,
		   const struct lstm_net *net, const q3_12_t *x, const q3_12_t *st, int ncand,
		   int label)
{
	int K = net->sh.K, H = net->sh.H, S = net->sh.S, I = net->I, Z = net->Z, M = net->sh.M;
	double loss;

	if (s->linear_only) {
		const double *wl = W(net, w, LT_WL);

		for (int j = 0; j < ncand; j++) {
			double *z = s->fl_z + (size_t)j * Z;

			for (int k = 0; k < S; k++)
				z[H + k] = st[(size_t)j * S + k] / 4096.0;
			s->fl_logit[j] = fl_linear_sum(z + H, wl, S);
		}
		if (!g || label < 0 || label >= ncand)
			return 0;
		loss = fl_softmax_xent(s->fl_dlogit, s->fl_logit, ncand, label);
		for (int j = 0; j < ncand; j++)
			for (int k = 0; k < S; k++)
				g[net->off[LT_WL] + k] += s->fl_dlogit[j] * s->fl_z[(size_t)j * Z + H + k];
		return loss;
	}
	for (int j = 0; j < ncand; j++) {
		struct fl_act *a = &s->la[j];
		double *z = s->fl_z + (size_t)j * Z, *xd = s->fl_x + (size_t)j * K * I;

		for (int k = 0; k < K * I; k++)
			xd[k] = x[(size_t)j * K * I + k] / 4096.0;
		a->x = xd;
		fl_lstm_forward(a, w, net, K);
		memcpy(z, a->h + (size_t)K * H, sizeof(*z) * H);
		for (int k = 0; k < S; k++)
			z[H + k] = st[(size_t)j * S + k] / 4096.0;
		s->fl_logit[j] = fl_head_forward(s->fl_u + (size_t)j * M, z, w, net);
	}
	if (!g || label < 0 || label >= ncand)
		return 0;
	loss = fl_softmax_xent(s->fl_dlogit, s->fl_logit, ncand, label);
	for (int j = 0; j < ncand; j++) {
		fl_head_backward(g, s->fl_dz, s->fl_dlogit[j], s->fl_u + (size_t)j * M,
				 s->fl_z + (size_t)j * Z, w, net);
		fl_lstm_backward(g, NULL, s->fl_dz, &s->la[j], w, net, K);
	}
	return loss;
}

double fl_sequence(struct lstm_scratch *s, double *g, const double *w,
		   const struct lstm_net *net, const int32_t *ids, const q3_12_t *gaps, int label)
{
	int Wn = net->sh.W, H = net->sh.H, D = net->sh.D, I = net->I, V = net->sh.V;
	const double *emb = W(net, w, LT_EMB);
	struct fl_act *a = &s->la[0];
	double loss;

	for (int t = 0; t < Wn; t++) {
		double *row = s->fl_x + (size_t)t * I;

		if (ids[t] >= 0 && ids[t] < V)
			memcpy(row, emb + (size_t)ids[t] * D, sizeof(*row) * D);
		else
			memset(row, 0, sizeof(*row) * D);
		row[D] = gaps[t] / 4096.0;
	}
	a->x = s->fl_x;
	fl_lstm_forward(a, w, net, Wn);
	fl_out_forward(s->fl_logit, a->h + (size_t)Wn * H, w, net);
	if (!g || label < 0 || label >= V)
		return 0;
	loss = fl_softmax_xent(s->fl_dlogit, s->fl_logit, V, label);
	fl_out_backward(g, s->fl_dz, s->fl_dlogit, a->h + (size_t)Wn * H, w, net);
	fl_lstm_backward(g, s->fl_dx, s->fl_dz, a, w, net, Wn);
	for (int t = 0; t < Wn; t++) {
		double *ge;

		if (ids[t] < 0 || ids[t] >= V)
			continue;
		ge = g + net->off[LT_EMB] + (size_t)ids[t] * D;
		for (int k = 0; k < D; k++)
			ge[k] += s->fl_dx[(size_t)t * I + k];
	}
	return loss;
}

/* Adam with the fixed path's constants: beta1 = 1 - 2^-3, beta2 = 1 - 2^-10, eps = 2^-24 */
void fl_adam_step(struct fl_adam *opt, double *w, const double *g, size_t P, uint64_t n)
{
	const double b1 = 1.0 - 1.0 / 8, b2 = 1.0 - 1.0 / 1024, eps = 1.0 / (1 << 24);
	double alpha;

	if (!n)
		return;
	opt->t++;
	alpha = opt->lr * sqrt(1.0 - pow(b2, (double)opt->t)) / (1.0 - pow(b1, (double)opt->t));
	for (size_t i = 0; i < P; i++) {
		double gm = g[i] / (double)n;

		opt->m[i] += (gm - opt->m[i]) * (1.0 - b1);
		opt->v[i] += (gm * gm - opt->v[i]) * (1.0 - b2);
		w[i] -= alpha * opt->m[i] / (sqrt(opt->v[i]) + eps);
	}
}

/* ---- scratch arenas: one allocation per thread ----------------------------- */

void lstm_scratch_init(struct lstm_scratch *s, const struct lstm_net *net, int maxcand)
{
	int H = net->sh.H, I = net->I, Z = net->Z, M = net->sh.M, T = net->steps;
	int nseq = net->sh.mode == DS_WIN_SEQUENCE ? 1 : maxcand;
	size_t nlog = (size_t)SC_MAX(maxcand, net->sh.mode == DS_WIN_SEQUENCE ? net->sh.V : 1);
	size_t per_seq_q = (size_t)(T + 1) * H * 2 + (size_t)T * 4 * H + (size_t)T * H;
	size_t bytes = 0;
	char *p;

	memset(s, 0, sizeof(*s));
	s->maxcand = maxcand;
#define ADD(n, type) (bytes += (((size_t)(n) * sizeof(type)) + 15) & ~(size_t)15)
	ADD(nseq, struct fx_act);
	ADD(nseq * per_seq_q, q3_12_t);
	ADD(T * I, q3_12_t);
	ADD(maxcand * Z, q3_12_t);
	ADD(maxcand * M, q3_12_t);
	ADD(nlog, int32_t);
	ADD(nlog, q7_24_t);
	ADD(Z + H, q7_24_t);
	ADD(T * I, q7_24_t);
	ADD((size_t)T * 4 * H, int64_t);
	ADD(nseq, struct fl_act);
	ADD(nseq * per_seq_q, double);
	ADD((size_t)nseq * T * I, double);
	ADD(maxcand * Z, double);
	ADD(maxcand * M, double);
	ADD(nlog, double);
	ADD(nlog, double);
	ADD(Z + H, double);
	ADD(T * I, double);
#undef ADD
	s->mem = p = xcalloc(1, bytes);
#define TAKE(dst, n, type) do { dst = (type *)(void *)p; \
	p += (((size_t)(n) * sizeof(type)) + 15) & ~(size_t)15; } while (0)
	TAKE(s->fa, nseq, struct fx_act);
	{
		q3_12_t *q;

		TAKE(q, nseq * per_seq_q, q3_12_t);
		for (int j = 0; j < nseq; j++) {
			s->fa[j].h = q, q += (size_t)(T + 1) * H;
			s->fa[j].c = q, q += (size_t)(T + 1) * H;
			s->fa[j].gate = q, q += (size_t)T * 4 * H;
			s->fa[j].tc = q, q += (size_t)T * H;
		}
	}
	TAKE(s->fx_seqx, T * I, q3_12_t);
	TAKE(s->fx_z, maxcand * Z, q3_12_t);
	TAKE(s->fx_u, maxcand * M, q3_12_t);
	TAKE(s->logit, nlog, int32_t);
	TAKE(s->dlogit, nlog, q7_24_t);
	TAKE(s->fx_dz, Z + H, q7_24_t);
	TAKE(s->fx_dx, T * I, q7_24_t);
	TAKE(s->fx_da, (size_t)T * 4 * H, int64_t);
	TAKE(s->la, nseq, struct fl_act);
	{
		double *d;

		TAKE(d, nseq * per_seq_q, double);
		for (int j = 0; j < nseq; j++) {
			s->la[j].h = d, d += (size_t)(T + 1) * H;
			s->la[j].c = d, d += (size_t)(T + 1) * H;
			s->la[j].gate = d, d += (size_t)T * 4 * H;
			s->la[j].tc = d, d += (size_t)T * H;
		}
	}
	TAKE(s->fl_x, (size_t)nseq * T * I, double);
	TAKE(s->fl_z, maxcand * Z, double);
	TAKE(s->fl_u, maxcand * M, double);
	TAKE(s->fl_logit, nlog, double);
	TAKE(s->fl_dlogit, nlog, double);
	TAKE(s->fl_dz, Z + H, double);
	TAKE(s->fl_dx, T * I, double);
#undef TAKE
}

void lstm_scratch_release(struct lstm_scratch *s)
{
	free(s->mem);
	memset(s, 0, sizeof(*s));
}

/* ---- inference ----------------------------------------------------------------- */

static void fl_lstm_encode(double *h_out, const double *x, const double *w,
			   const struct lstm_net *net, int T)
{
	int H = net->sh.H, I = net->I;
	double h[2][LSTM_MAX_HIDDEN], c[2][LSTM_MAX_HIDDEN];
	double gate[4 * LSTM_MAX_HIDDEN], tc[LSTM_MAX_HIDDEN];
	int cur = 0;

	memset(h[0], 0, sizeof(h[0][0]) * H);
	memset(c[0], 0, sizeof(c[0][0]) * H);
	for (int t = 0; t < T; t++, cur ^= 1)
		lstm_cell_forward(h[cur ^ 1], c[cur ^ 1], gate, tc, x + (size_t)t * I, h[cur],
				  c[cur], W(net, w, LT_WX), W(net, w, LT_WH), W(net, w, LT_B), I, H,
				  net->sh.R);
	memcpy(h_out, h[cur], sizeof(*h_out) * H);
}

/* Q3.12-unit scores, rounded, kept within int32 */
int32_t fl_to_q12(double s)
{
	s = nearbyint(s * 4096.0);
	return s > 1e9 ? 1000000000 : s < -1e9 ? -1000000000 : (int32_t)s;
}

void fl_encode_raw(const struct lstm_model *m, const int16_t *window, double *h)
{
	const struct lstm_net *net = &m->net;
	int K = net->sh.K, E = net->sh.E;
	double x[LSTM_MAX_K * LSTM_MAX_IN];

	for (int t = 0; t < K; t++)
		for (int e = 0; e < E; e++)
			x[t * E + e] = lstm_norm_apply(&m->norm, e, window[t * E + e]) / 4096.0;
	fl_lstm_encode(h, x, m->wf, net, K);
}

void fl_step_raw(const struct lstm_model *m, double *h, double *c, const int16_t *row)
{
	const struct lstm_net *net = &m->net;
	int E = net->sh.E, H = net->sh.H;
	double x[LSTM_MAX_IN], hn[LSTM_MAX_HIDDEN], cn[LSTM_MAX_HIDDEN];
	double gate[4 * LSTM_MAX_HIDDEN], tc[LSTM_MAX_HIDDEN];

	for (int e = 0; e < E; e++)
		x[e] = lstm_norm_apply(&m->norm, e, row[e]) / 4096.0;
	lstm_cell_forward(hn, cn, gate, tc, x, h, c, W(net, m->wf, LT_WX), W(net, m->wf, LT_WH),
			  W(net, m->wf, LT_B), E, H, net->sh.R);
	memcpy(h, hn, sizeof(*h) * H);
	memcpy(c, cn, sizeof(*c) * H);
}

double fl_score_raw(const struct lstm_model *m, const double *h, const int16_t *state)
{
	const struct lstm_net *net = &m->net;
	int E = net->sh.E, S = net->sh.S, H = net->sh.H;
	double z[LSTM_MAX_HIDDEN + LSTM_MAX_STATE], u[LSTM_MAX_HEAD];

	memcpy(z, h, sizeof(*z) * H);
	for (int k = 0; k < S; k++)
		z[H + k] = lstm_norm_apply(&m->norm, E + k, state[k]) / 4096.0;
	return fl_head_forward(u, z, m->wf, net);
}

int fl_predict(const struct lstm_model *m, const int16_t *window, const int16_t *state,
	       int ncand, int32_t *scores)
{
	const struct lstm_net *net = &m->net;
	int K = net->sh.K, E = net->sh.E, S = net->sh.S, best = 0;
	double h[LSTM_MAX_HIDDEN], sbest = 0;

	for (int j = 0; j < ncand; j++) {
		double sc;

		fl_encode_raw(m, window + (size_t)j * K * E, h);
		sc = fl_score_raw(m, h, state + (size_t)j * S);
		scores[j] = fl_to_q12(sc);
		if (j == 0 || sc > sbest)
			best = j, sbest = sc;
	}
	return best;
}

int fl_predict_seq(const struct lstm_model *m, const int32_t *ids, const int16_t *gaps,
		   int32_t *scores)
{
	const struct lstm_net *net = &m->net;
	int Wn = net->sh.W, D = net->sh.D, I = net->I, V = net->sh.V, best = 0;
	const double *emb = W(net, m->wf, LT_EMB);
	double x[LSTM_MAX_W * LSTM_MAX_IN], h[LSTM_MAX_HIDDEN];
	const double *wo = W(net, m->wf, LT_WO), *bo = W(net, m->wf, LT_BO);
	double sbest = 0;

	for (int t = 0; t < Wn; t++) {
		double *row = x + (size_t)t * I;

		if (ids[t] >= 0 && ids[t] < V)
			memcpy(row, emb + (size_t)ids[t] * D, sizeof(*row) * D);
		else
			memset(row, 0, sizeof(*row) * D);
		row[D] = lstm_norm_apply(&m->norm, 0, gaps[t]) / 4096.0;
	}
	fl_lstm_encode(h, x, m->wf, net, Wn);
	for (int v = 0; v < V; v++) {
		double acc = bo[v];

		for (int k = 0; k < net->sh.H; k++)
			acc += wo[(size_t)v * net->sh.H + k] * h[k];
		scores[v] = fl_to_q12(acc);
		if (v == 0 || acc > sbest)
			best = v, sbest = acc;
	}
	return best;
}
