// SPDX-License-Identifier: GPL-2.0
/*
 * The encoder cache's training passes (model/batch-cache.c) with loops the
 * compiler vectorises: the same integer arithmetic as fx_lstm_forward() and
 * fx_lstm_backward() (lstm-fixed.c), the backward split in two halves so
 * that uses of one window sum their gate gradients first, bit for bit, in
 * vector registers (so not one of the -mgeneral-regs-only files).
 *
 * - forward: the gate sums in int32 (16-bit multiply-adds) when the bounds
 *   of the weights (lstm_net_gate_bounds()) and of the step's inputs show
 *   no partial sum can overflow, in int64 otherwise (fxv_gate_sums*(), as
 *   the inference encoder in encode-vec.c);
 * - backward: W_h^T da and the weight gradients as int64 sums of products
 *   of a 32-bit gradient and a 16-bit weight or input (vpmuldq with AVX2);
 *   a summed gate gradient outside int32 takes the scalar loop.
 *
 * Integer sums do not depend on their order, so the results equal the
 * reference's; test_batch_cache and test_vector_training_exact check it.
 */
#include <string.h>

#include "model/model-local.h"

#pragma GCC optimize("O3")

#define W(net, w, t) ((w) + (net)->off[t])

void fxv_lstm_forward(struct fx_act *a, const q3_12_t *w, const struct lstm_net *net, int T,
		      const int64_t *bound)
{
	memset(a->h, 0, sizeof(*a->h) * net->sh.H);
	memset(a->c, 0, sizeof(*a->c) * net->sh.H);
	fxv_lstm_forward_from(a, w, net, T, bound);
}

void fxv_lstm_forward_from(struct fx_act *a, const q3_12_t *w, const struct lstm_net *net, int T,
			   const int64_t *bound)
{
	int H = net->sh.H, I = net->I, R = net->sh.R;
	const q3_12_t *wx = W(net, w, LT_WX), *wh = W(net, w, LT_WH), *b = W(net, w, LT_B);
	int32_t acc[4 * LSTM_MAX_HIDDEN];

	for (int t = 0; t < T; t++) {
		const q3_12_t *x = a->x + (size_t)t * I, *hp = a->h + (size_t)t * H;
		const q3_12_t *cp = a->c + (size_t)t * H;
		q3_12_t *hn = a->h + (size_t)(t + 1) * H, *cn = a->c + (size_t)(t + 1) * H;
		q3_12_t *gate = a->gate + (size_t)t * 4 * H, *tc = a->tc + (size_t)t * H;
		int64_t mx = 0, mh = 0;

		for (int k = 0; k < I; k++)
			mx = SC_MAX(mx, x[k] < 0 ? -(int64_t)x[k] : x[k]);
		for (int k = 0; k < R; k++)	/* W_h's columns R..H-1 are zero */
			mh = SC_MAX(mh, hp[k] < 0 ? -(int64_t)hp[k] : hp[k]);
		if (bound[0] * mx + bound[1] * mh + bound[2] >= INT32_MAX - 4096)
			fxv_gate_sums64(acc, wx, wh, b, x, hp, I, H, R);
		else
			fxv_gate_sums(acc, wx, wh, b, x, hp, I, H, R);
		for (int r = 0; r < 4 * H; r++)
			gate[r] = fx_sat16(fx_rshift_round(acc[r], 12));
		fx_cell_update(hn, cn, gate, tc, cp, H);
	}
}

/* dh (H) = W_h^T da, rounded to Q7.24 (0 beyond the recurrent width R) */
__attribute__((target_clones("avx2", "default")))
static void dh_prev(q7_24_t *dh, const q7_24_t *da, const q3_12_t *wh, int H, int R)
{
	int64_t acc[LSTM_MAX_HIDDEN];

	memset(acc, 0, sizeof(acc[0]) * H);
	for (int r = 0; r < 4 * H; r++) {
		const q3_12_t *whr = wh + (size_t)r * H;
		int32_t d = da[r];

		for (int k = 0; k < R; k++)
			acc[k] += (int64_t)d * whr[k];
	}
	for (int k = 0; k < H; k++)
		dh[k] = fx_sat32(fx_rshift_round(acc[k], 12));
}

void fxv_lstm_backward_da(int64_t *da_sum, q7_24_t *dh, const struct fx_act *a,
			  const q3_12_t *w, const struct lstm_net *net, int T)
{
	int H = net->sh.H;
	const q3_12_t *wh = W(net, w, LT_WH);
	q7_24_t dc[LSTM_MAX_HIDDEN] = { 0 }, da[4 * LSTM_MAX_HIDDEN];

	for (int t = T - 1; t >= 0; t--) {
		int64_t *ds = da_sum + (size_t)t * 4 * H;

		fx_cell_backward(da, dc, dh, a->gate + (size_t)t * 4 * H, a->tc + (size_t)t * H,
				 a->c + (size_t)t * H, H);
		for (int r = 0; r < 4 * H; r++)
			ds[r] += da[r];
		if (t)
			dh_prev(dh, da, wh, H, net->sh.R);
	}
}

/* one step's weight gradients, as step_grad() in lstm-fixed.c (W_h's first R columns) */
__attribute__((target_clones("avx2", "default")))
static void step_grad(int64_t *restrict gwx, int64_t *restrict gwh, int64_t *restrict gb,
		      const int64_t *restrict da, const q3_12_t *restrict x,
		      const q3_12_t *restrict hp, int I, int H, int R)
{
	for (int r = 0; r < 4 * H; r++) {
		int64_t d = da[r];
		int64_t *gxr = gwx + (size_t)r * I, *ghr = gwh + (size_t)r * H;

		if (!d)
			continue;
		gb[r] += d * 4096;
		if (d >= INT32_MIN && d <= INT32_MAX) {
			int32_t d32 = (int32_t)d;

			for (int k = 0; k < I; k++)
				gxr[k] += (int64_t)d32 * x[k];
			for (int k = 0; k < R; k++)
				ghr[k] += (int64_t)d32 * hp[k];
		} else {
			for (int k = 0; k < I; k++)
				gxr[k] += d * x[k];
			for (int k = 0; k < R; k++)
				ghr[k] += d * hp[k];
		}
	}
}

void fxv_lstm_backward_grad(int64_t *g, const int64_t *da_sum, const struct fx_act *a,
			    const struct lstm_net *net, int T)
{
	int H = net->sh.H, I = net->I;

	for (int t = 0; t < T; t++)
		step_grad(g + net->off[LT_WX], g + net->off[LT_WH], g + net->off[LT_B],
			  da_sum + (size_t)t * 4 * H, a->x + (size_t)t * I, a->h + (size_t)t * H,
			  I, H, net->sh.R);
}
