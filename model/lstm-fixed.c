// SPDX-License-Identifier: GPL-2.0
/*
 * The fixed-point network: LSTM forward and backward through time, the
 * candidate head, the sequence output layer, softmax + cross-entropy and
 * Adam, all in integers (built with -mgeneral-regs-only).
 *
 * Products of two Q3.12 values are Q6.24 and are summed in int64, then
 * rounded back to Q3.12 with saturation.  Gradients of activations are
 * Q7.24 int32; weight gradients are summed over a batch in int64 at Q.36
 * (Q7.24 gradient * Q3.12 activation), which is exact: the sum does not
 * depend on the order, so the threads' shards add up to the same bits.
 */
#include <string.h>

#include "model/model-local.h"

#define W(net, w, t) ((w) + (net)->off[t])

/*
 * One step: gate pre-activations a = W_x x + W_h h + b (4H, Q6.24 summed
 * in int64, rounded to Q3.12), then i f o = sigmoid, g = tanh,
 * c' = f c + i g, h' = o tanh(c').  W_h's columns R..H-1 are zero (the
 * recurrent width, sh.R): only h[0..R-1] is read.
 */
static void lstm_cell_forward(q3_12_t *hn, q3_12_t *cn, q3_12_t *gate, q3_12_t *tc,
			      const q3_12_t *x, const q3_12_t *hp, const q3_12_t *cp,
			      const q3_12_t *wx, const q3_12_t *wh, const q3_12_t *b, int I, int H,
			      int R)
{
	for (int r = 0; r < 4 * H; r++) {
		const q3_12_t *wxr = wx + (size_t)r * I, *whr = wh + (size_t)r * H;
		int64_t acc = (int64_t)b[r] * 4096;

		for (int k = 0; k < I; k++)
			acc += (int32_t)wxr[k] * x[k];
		for (int k = 0; k < R; k++)
			acc += (int32_t)whr[k] * hp[k];
		gate[r] = fx_sat16(fx_rshift_round(acc, 12));
	}
	fx_cell_update(hn, cn, gate, tc, cp, H);
}

/* the forward pass of a's T inputs, keeping what the backward pass needs */
static void fx_lstm_forward(struct fx_act *a, const q3_12_t *w, const struct lstm_net *net,
			    int T)
{
	int H = net->sh.H, I = net->I;

	memset(a->h, 0, sizeof(*a->h) * H);
	memset(a->c, 0, sizeof(*a->c) * H);
	for (int t = 0; t < T; t++)
		lstm_cell_forward(a->h + (size_t)(t + 1) * H, a->c + (size_t)(t + 1) * H,
				  a->gate + (size_t)t * 4 * H, a->tc + (size_t)t * H,
				  a->x + (size_t)t * I, a->h + (size_t)t * H, a->c + (size_t)t * H,
				  W(net, w, LT_WX), W(net, w, LT_WH), W(net, w, LT_B), I, H,
				  net->sh.R);
}

/* s(1 - s) for a sigmoid output s, Q3.12 */
static inline q3_12_t dsig_q12(q3_12_t s)
{
	return fx_mul_q12(s, (q3_12_t)(FX_ONE_Q12 - s));
}

/* 1 - t^2 for a tanh output t, Q3.12 */
static inline q3_12_t dtanh_q12(q3_12_t t)
{
	return (q3_12_t)(FX_ONE_Q12 - fx_mul_q12(t, t));
}

void fx_cell_backward(q7_24_t *da, q7_24_t *dc, const q7_24_t *dh, const q3_12_t *gate,
		      const q3_12_t *tc, const q3_12_t *cp, int H)
{
	for (int j = 0; j < H; j++) {
		q3_12_t i = gate[j], f = gate[H + j], gg = gate[2 * H + j], o = gate[3 * H + j];
		q7_24_t dcj;

		da[3 * H + j] = fx_mul_q24_q12(fx_mul_q24_q12(dh[j], tc[j]), dsig_q12(o));
		dcj = fx_sat32((int64_t)dc[j] +
			       fx_mul_q24_q12(fx_mul_q24_q12(dh[j], o), dtanh_q12(tc[j])));
		da[j] = fx_mul_q24_q12(fx_mul_q24_q12(dcj, gg), dsig_q12(i));
		da[2 * H + j] = fx_mul_q24_q12(fx_mul_q24_q12(dcj, i), dtanh_q12(gg));
		da[H + j] = fx_mul_q24_q12(fx_mul_q24_q12(dcj, cp[j]), dsig_q12(f));
		dc[j] = fx_mul_q24_q12(dcj, f);
	}
}

/* dh_prev - dh (H) = W_h^T da, rounded to Q7.24 (0 beyond the recurrent width R) */
static void dh_prev(q7_24_t *dh, const q7_24_t *da, const q3_12_t *wh, int H, int R)
{
	int64_t acc[LSTM_MAX_HIDDEN] = { 0 };

	for (int r = 0; r < 4 * H; r++) {
		const q3_12_t *whr = wh + (size_t)r * H;
		int64_t d = da[r];

		if (!d)
			continue;
		for (int k = 0; k < R; k++)
			acc[k] += d * whr[k];
	}
	for (int k = 0; k < H; k++)
		dh[k] = fx_sat32(fx_rshift_round(acc[k], 12));
}

/*
 * step_grad - one step's weight gradients, Q7.24 * Q3.12 = Q.36: exact; W_h's
 * columns R..H-1 get none (they stay zero)
 */
static void step_grad(int64_t *gwx, int64_t *gwh, int64_t *gb, const int64_t *da,
		      const q3_12_t *x, const q3_12_t *hp, int I, int H, int R)
{
	for (int r = 0; r < 4 * H; r++) {
		int64_t d = da[r];
		int64_t *gxr = gwx + (size_t)r * I, *ghr = gwh + (size_t)r * H;

		if (!d)
			continue;
		gb[r] += d * 4096;
		for (int k = 0; k < I; k++)
			gxr[k] += d * x[k];
		for (int k = 0; k < R; k++)
			ghr[k] += d * hp[k];
	}
}

/*
 * BPTT.  dh: (H) Q7.24 gradient of the last hidden state (clobbered); dx:
 * (T, I) Q7.24 input gradients or NULL; g: (P) Q.36 accumulators.
 */
static void fx_lstm_backward(int64_t *g, q7_24_t *dx, q7_24_t *dh, const struct fx_act *a,
			     const q3_12_t *w, const struct lstm_net *net, int T)
{
	int H = net->sh.H, I = net->I;
	const q3_12_t *wx = W(net, w, LT_WX), *wh = W(net, w, LT_WH);
	int64_t *gwx = g + net->off[LT_WX], *gwh = g + net->off[LT_WH], *gb = g + net->off[LT_B];
	q7_24_t dc[LSTM_MAX_HIDDEN] = { 0 }, da[4 * LSTM_MAX_HIDDEN];
	int64_t da64[4 * LSTM_MAX_HIDDEN], acc[LSTM_MAX_IN];

	for (int t = T - 1; t >= 0; t--) {
		const q3_12_t *x = a->x + (size_t)t * I;

		fx_cell_backward(da, dc, dh, a->gate + (size_t)t * 4 * H, a->tc + (size_t)t * H,
			      a->c + (size_t)t * H, H);
		for (int r = 0; r < 4 * H; r++)
			da64[r] = da[r];
		step_grad(gwx, gwh, gb, da64, x, a->h + (size_t)t * H, I, H, net->sh.R);
		dh_prev(dh, da, wh, H, net->sh.R);
		if (dx) {
			memset(acc, 0, sizeof(acc[0]) * I);
			for (int r = 0; r < 4 * H; r++) {
				const q3_12_t *wxr = wx + (size_t)r * I;
				int64_t d = da[r];

				for (int k = 0; k < I; k++)
					acc[k] += d * wxr[k];
			}
			for (int k = 0; k < I; k++)
				dx[(size_t)t * I + k] = fx_sat32(fx_rshift_round(acc[k], 12));
		}
	}
}

/* Scores are kept within +-2^20 in Q.12 (+-256): exp() of a difference still fits. */
#define FX_SCORE_MAX (1 << 20)

static int32_t clamp_score(int64_t acc24)
{
	int64_t s = fx_rshift_round(acc24, 12);

	return (int32_t)(s > FX_SCORE_MAX ? FX_SCORE_MAX : s < -FX_SCORE_MAX ? -FX_SCORE_MAX : s);
}

int32_t fx_head_forward(q3_12_t *u, const q3_12_t *z, const q3_12_t *w,
			const struct lstm_net *net)
{
	const q3_12_t *w1 = W(net, w, LT_W1), *b1 = W(net, w, LT_B1), *w2 = W(net, w, LT_W2);
	int Z = net->Z, M = net->sh.M;
	int64_t score = 0;

	for (int m = 0; m < M; m++) {
		const q3_12_t *w1r = w1 + (size_t)m * Z;
		int64_t acc = (int64_t)b1[m] * 4096;
		q3_12_t pre;

		for (int k = 0; k < Z; k++)
			acc += (int32_t)w1r[k] * z[k];
		pre = fx_sat16(fx_rshift_round(acc, 12));
		u[m] = pre > 0 ? pre : 0;
		score += (int32_t)w2[m] * u[m];
	}
	return clamp_score(score + fx_linear_sum(z + net->sh.H, W(net, w, LT_WL), net->sh.S));
}

void fx_head_backward(int64_t *g, q7_24_t *dz, q7_24_t dscore, const q3_12_t *u,
		      const q3_12_t *z, const q3_12_t *w, const struct lstm_net *net)
{
	const q3_12_t *w1 = W(net, w, LT_W1), *w2 = W(net, w, LT_W2);
	int64_t *gw1 = g + net->off[LT_W1], *gb1 = g + net->off[LT_B1], *gw2 = g + net->off[LT_W2];
	int Z = net->Z, M = net->sh.M;
	int64_t acc[LSTM_MAX_HIDDEN + LSTM_MAX_STATE] = { 0 };

	for (int m = 0; m < M; m++) {
		const q3_12_t *w1r = w1 + (size_t)m * Z;
		int64_t *gw1r = gw1 + (size_t)m * Z;
		int64_t du;

		gw2[m] += (int64_t)dscore * u[m];
		if (u[m] <= 0)
			continue;
		du = fx_mul_q24_q12(dscore, w2[m]);
		if (!du)
			continue;
		gb1[m] += du * 4096;
		for (int k = 0; k < Z; k++) {
			gw1r[k] += du * z[k];
			acc[k] += du * w1r[k];
		}
	}
	for (int k = 0; k < Z; k++)
		dz[k] = fx_sat32(fx_rshift_round(acc[k], 12));
	fx_linear_backward(g + net->off[LT_WL], dscore, z + net->sh.H, net->sh.S);
}

/* fx_out_forward - sequence output layer: logits (V) Q.12 in int32 from h (H) */
static void fx_out_forward(int32_t *logit, const q3_12_t *h, const q3_12_t *w,
			   const struct lstm_net *net)
{
	const q3_12_t *wo = W(net, w, LT_WO), *bo = W(net, w, LT_BO);
	int H = net->sh.H, V = net->sh.V;

	for (int v = 0; v < V; v++) {
		const q3_12_t *wr = wo + (size_t)v * H;
		int64_t acc = (int64_t)bo[v] * 4096;

		for (int k = 0; k < H; k++)
			acc += (int32_t)wr[k] * h[k];
		logit[v] = clamp_score(acc);
	}
}

static void fx_out_backward(int64_t *g, q7_24_t *dh, const q7_24_t *dlogit, const q3_12_t *h,
			    const q3_12_t *w, const struct lstm_net *net)
{
	const q3_12_t *wo = W(net, w, LT_WO);
	int64_t *gwo = g + net->off[LT_WO], *gbo = g + net->off[LT_BO];
	int H = net->sh.H, V = net->sh.V;
	int64_t acc[LSTM_MAX_HIDDEN] = { 0 };

	for (int v = 0; v < V; v++) {
		const q3_12_t *wr = wo + (size_t)v * H;
		int64_t *gr = gwo + (size_t)v * H;
		int64_t d = dlogit[v];

		if (!d)
			continue;
		gbo[v] += d * 4096;
		for (int k = 0; k < H; k++) {
			gr[k] += d * h[k];
			acc[k] += d * wr[k];
		}
	}
	for (int k = 0; k < H; k++)
		dh[k] = fx_sat32(fx_rshift_round(acc[k], 12));
}

/*
 * Softmax by exp of the differences to the maximum (Q1.30 each, summed in
 * uint64: n <= 2^32 terms cannot overflow); loss = max + ln(sum) - l_label,
 * the log-sum-exp in integers.
 */
int32_t fx_softmax_xent(q7_24_t *dlogit, const int32_t *logit, int n, int label)
{
	int32_t max = INT32_MIN;
	uint64_t sum = 0;

	for (int i = 0; i < n; i++)
		if (logit[i] > max)
			max = logit[i];
	for (int i = 0; i < n; i++)
		sum += (uint32_t)fx_exp_neg_q30(logit[i] - max);
	if (dlogit) {
		for (int i = 0; i < n; i++) {
			uint64_t e = (uint32_t)fx_exp_neg_q30(logit[i] - max);
			int64_t p30 = (int64_t)(((e << 30) + sum / 2) / sum);	/* Q1.30 */

			dlogit[i] = (q7_24_t)fx_rshift_round(p30, 6) - (i == label ? FX_ONE_Q24 : 0);
		}
	}
	if (label < 0 || label >= n)
		return 0;
	return fx_sat32((int64_t)max + fx_log_q12(sum) - logit[label]);
}

int32_t fx_decision(struct lstm_scratch *s, int64_t *g, const q3_12_t *w,
		    const struct lstm_net *net, const q3_12_t *x, const q3_12_t *st, int ncand,
		    int label)
{
	int K = net->sh.K, H = net->sh.H, S = net->sh.S, I = net->I, Z = net->Z, M = net->sh.M;
	int32_t loss;

	if (s->linear_only) {
		const q3_12_t *wl = W(net, w, LT_WL);

		for (int j = 0; j < ncand; j++)
			s->logit[j] = clamp_score(fx_linear_sum(st + (size_t)j * S, wl, S));
		if (!g || label < 0 || label >= ncand)
			return 0;
		loss = fx_softmax_xent(s->dlogit, s->logit, ncand, label);
		for (int j = 0; j < ncand; j++)
			fx_linear_backward(g + net->off[LT_WL], s->dlogit[j], st + (size_t)j * S, S);
		return loss;
	}
	for (int j = 0; j < ncand; j++) {
		struct fx_act *a = &s->fa[j];
		q3_12_t *z = s->fx_z + (size_t)j * Z;

		a->x = x + (size_t)j * K * I;
		fx_lstm_forward(a, w, net, K);
		memcpy(z, a->h + (size_t)K * H, sizeof(*z) * H);
		memcpy(z + H, st + (size_t)j * S, sizeof(*z) * S);
		s->logit[j] = fx_head_forward(s->fx_u + (size_t)j * M, z, w, net);
	}
	if (!g || label < 0 || label >= ncand)
		return 0;
	loss = fx_softmax_xent(s->dlogit, s->logit, ncand, label);
	for (int j = 0; j < ncand; j++) {
		fx_head_backward(g, s->fx_dz, s->dlogit[j], s->fx_u + (size_t)j * M,
				 s->fx_z + (size_t)j * Z, w, net);
		fx_lstm_backward(g, NULL, s->fx_dz, &s->fa[j], w, net, K);
	}
	return loss;
}

int32_t fx_sequence(struct lstm_scratch *s, int64_t *g, const q3_12_t *w,
		    const struct lstm_net *net, const int32_t *ids, const q3_12_t *gaps, int label)
{
	int Wn = net->sh.W, H = net->sh.H, D = net->sh.D, I = net->I, V = net->sh.V;
	const q3_12_t *emb = W(net, w, LT_EMB);
	struct fx_act *a = &s->fa[0];
	int32_t loss;

	for (int t = 0; t < Wn; t++) {
		q3_12_t *row = s->fx_seqx + (size_t)t * I;

		if (ids[t] >= 0 && ids[t] < V)
			memcpy(row, emb + (size_t)ids[t] * D, sizeof(*row) * D);
		else
			memset(row, 0, sizeof(*row) * D);
		row[D] = gaps[t];
	}
	a->x = s->fx_seqx;
	fx_lstm_forward(a, w, net, Wn);
	fx_out_forward(s->logit, a->h + (size_t)Wn * H, w, net);
	if (!g || label < 0 || label >= V)
		return 0;
	loss = fx_softmax_xent(s->dlogit, s->logit, V, label);
	fx_out_backward(g, s->fx_dz, s->dlogit, a->h + (size_t)Wn * H, w, net);
	fx_lstm_backward(g, s->fx_dx, s->fx_dz, a, w, net, Wn);
	for (int t = 0; t < Wn; t++) {
		int64_t *ge;

		if (ids[t] < 0 || ids[t] >= V)
			continue;
		ge = g + net->off[LT_EMB] + (size_t)ids[t] * D;
		for (int k = 0; k < D; k++)
			ge[k] += (int64_t)s->fx_dx[(size_t)t * I + k] * 4096;
	}
	return loss;
}

/* ---- Adam ----------------------------------------------------------------- */

/* b^t in Q0.30 by repeated squaring (b in Q0.30) */
static uint64_t pow_q30(uint64_t b, uint64_t t)
{
	uint64_t r = FX_ONE_Q30;

	while (t) {
		if (t & 1)
			r = (r * b + (FX_ONE_Q30 >> 1)) >> 30;
		b = (b * b + (FX_ONE_Q30 >> 1)) >> 30;
		t >>= 1;
	}
	return r;
}

void fx_master_from_q12(q3_28_t *master, const q3_12_t *w, size_t P)
{
	for (size_t i = 0; i < P; i++)
		master[i] = (q3_28_t)w[i] * 65536;
}

void fx_adam_step(struct fx_adam *opt, q3_12_t *w, const int64_t *g, size_t P, uint64_t n)
{
	uint64_t c1, c2, sc2, alpha;	/* Q0.30, Q0.30, Q0.30, Q0.32 */

	if (!n)
		return;
	opt->t++;
	c1 = FX_ONE_Q30 - pow_q30(FX_ONE_Q30 - (FX_ONE_Q30 >> 3), opt->t);
	c2 = FX_ONE_Q30 - pow_q30(FX_ONE_Q30 - (FX_ONE_Q30 >> 10), opt->t);
	sc2 = fx_isqrt64(c2 << 30);
	if (!c1)
		return;
	/* alpha_t = lr sqrt(1 - b2^t) / (1 - b1^t) <= lr */
	alpha = (opt->lr_q32 * sc2) / c1;
	for (size_t i = 0; i < P; i++) {
		int64_t gm = g[i] / (int64_t)n;		/* mean, Q.36 */
		q7_24_t g24 = fx_sat32(fx_rshift_round(gm, 12));
		int64_t m, v, ratio;
		__int128 delta;
		uint64_t den;

		m = opt->m[i] + fx_rshift_round((int64_t)g24 - opt->m[i], 3);
		v = opt->v[i] + fx_rshift_round((int64_t)g24 * g24 - opt->v[i], 10);
		if (v < 0)
			v = 0;
		opt->m[i] = (q7_24_t)m;
		opt->v[i] = v;
		den = (uint64_t)fx_isqrt64((uint64_t)v) + 1;	/* sqrt(v) + eps, Q.24 */
		ratio = (m * FX_ONE_Q24) / (int64_t)den;		/* Q.24 */
		delta = ((__int128)ratio * (int64_t)alpha + ((__int128)1 << 27)) >> 28;	/* Q3.28 */
		delta = opt->master[i] - delta;
		opt->master[i] = delta > INT32_MAX ? INT32_MAX : delta < INT32_MIN ? INT32_MIN :
										 (q3_28_t)delta;
		w[i] = fx_sat16(fx_rshift_round(opt->master[i], 16));
	}
}

/* ---- inference: no history kept, buffers on the stack ----------------------- */

/* fx_lstm_encode - the last hidden state (H) of the LSTM over x (T, I) */
static void fx_lstm_encode(q3_12_t *h_out, const q3_12_t *x, const q3_12_t *w,
			   const struct lstm_net *net, int T)
{
	int H = net->sh.H, I = net->I;
	q3_12_t h[2][LSTM_MAX_HIDDEN], c[2][LSTM_MAX_HIDDEN];
	q3_12_t gate[4 * LSTM_MAX_HIDDEN], tc[LSTM_MAX_HIDDEN];
	int cur = 0;

	memset(h[0], 0, sizeof(h[0][0]) * H);
	memset(c[0], 0, sizeof(c[0][0]) * H);
	for (int t = 0; t < T; t++, cur ^= 1)
		lstm_cell_forward(h[cur ^ 1], c[cur ^ 1], gate, tc, x + (size_t)t * I, h[cur],
				  c[cur], W(net, w, LT_WX), W(net, w, LT_WH), W(net, w, LT_B), I, H,
				  net->sh.R);
	memcpy(h_out, h[cur], sizeof(*h_out) * H);
}

void fx_encode_raw(const struct lstm_model *m, const int16_t *window, q3_12_t *h)
{
	const struct lstm_net *net = &m->net;
	int K = net->sh.K, E = net->sh.E;
	q3_12_t x[LSTM_MAX_K * LSTM_MAX_IN];

	for (int t = 0; t < K; t++)
		for (int e = 0; e < E; e++)
			x[t * E + e] = lstm_norm_apply(&m->norm, e, window[t * E + e]);
	fx_lstm_encode(h, x, m->wq, net, K);
}

int32_t fx_score_raw(const struct lstm_model *m, const q3_12_t *h, const int16_t *state)
{
	const struct lstm_net *net = &m->net;
	int E = net->sh.E, S = net->sh.S, H = net->sh.H;
	q3_12_t z[LSTM_MAX_HIDDEN + LSTM_MAX_STATE], u[LSTM_MAX_HEAD];

	memcpy(z, h, sizeof(*z) * H);
	for (int k = 0; k < S; k++)
		z[H + k] = lstm_norm_apply(&m->norm, E + k, state[k]);
	return fx_head_forward(u, z, m->wq, net);
}

int fx_predict_seq(const struct lstm_model *m, const int32_t *ids, const int16_t *gaps,
		   int32_t *scores)
{
	const struct lstm_net *net = &m->net;
	int Wn = net->sh.W, D = net->sh.D, I = net->I, V = net->sh.V, best = 0;
	const q3_12_t *emb = W(net, m->wq, LT_EMB);
	q3_12_t x[LSTM_MAX_W * LSTM_MAX_IN], h[LSTM_MAX_HIDDEN];

	for (int t = 0; t < Wn; t++) {
		q3_12_t *row = x + (size_t)t * I;

		if (ids[t] >= 0 && ids[t] < V)
			memcpy(row, emb + (size_t)ids[t] * D, sizeof(*row) * D);
		else
			memset(row, 0, sizeof(*row) * D);
		row[D] = lstm_norm_apply(&m->norm, 0, gaps[t]);
	}
	fx_lstm_encode(h, x, m->wq, net, Wn);
	fx_out_forward(scores, h, m->wq, net);
	for (int v = 1; v < V; v++)
		if (scores[v] > scores[best])
			best = v;
	return best;
}
