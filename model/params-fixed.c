// SPDX-License-Identifier: GPL-2.0
/*
 * The parameter layout, the seeded initialisation and the input
 * normalisation statistics: integer only, so a fixed-point model's every
 * number, from its first weight on, is made without a float.
 */
#include <stdlib.h>
#include <string.h>

#include "model/model-local.h"

const char *const lstm_tensor_names[LT_NR] = {
	[LT_WX] = "lstm/w_x", [LT_WH] = "lstm/w_h", [LT_B] = "lstm/b",
	[LT_W1] = "head/w1", [LT_B1] = "head/b1", [LT_W2] = "head/w2", [LT_WL] = "head/w_lin",
	[LT_EMB] = "seq/emb", [LT_WO] = "seq/w_out", [LT_BO] = "seq/b_out",
};

int lstm_net_init(struct lstm_net *net, const struct lstm_shape *sh)
{
	size_t off = 0;

	memset(net, 0, sizeof(*net));
	net->sh = *sh;
	if (sh->H < 1 || sh->H > LSTM_MAX_HIDDEN)
		return error("hidden size %d out of range 1..%d", sh->H, LSTM_MAX_HIDDEN);
	if (sh->mode == DS_WIN_CANDIDATES) {
		if (sh->K < 1 || sh->K > LSTM_MAX_K)
			return error("window length K=%d out of range 1..%d", sh->K, LSTM_MAX_K);
		if (sh->E < 1 || sh->E > LSTM_MAX_IN)
			return error("episode features E=%d out of range 1..%d", sh->E, LSTM_MAX_IN);
		if (sh->S < 0 || sh->S > LSTM_MAX_STATE)
			return error("state features S=%d out of range 0..%d", sh->S, LSTM_MAX_STATE);
		if (sh->M < 1 || sh->M > LSTM_MAX_HEAD)
			return error("head size %d out of range 1..%d", sh->M, LSTM_MAX_HEAD);
		net->I = sh->E;
		net->Z = sh->H + sh->S;
		net->steps = sh->K;
		net->rows[LT_W1] = sh->M, net->cols[LT_W1] = net->Z;
		net->rows[LT_B1] = sh->M, net->cols[LT_B1] = 1;
		net->rows[LT_W2] = sh->M, net->cols[LT_W2] = 1;
		net->rows[LT_WL] = sh->S, net->cols[LT_WL] = 1;
	} else if (sh->mode == DS_WIN_SEQUENCE) {
		if (sh->W < 1 || sh->W > LSTM_MAX_W)
			return error("sequence length W=%d out of range 1..%d", sh->W, LSTM_MAX_W);
		if (sh->V < 1 || sh->V > LSTM_MAX_VOCAB)
			return error("vocabulary of %d out of range 1..%d", sh->V, LSTM_MAX_VOCAB);
		if (sh->D < 1 || sh->D + 1 > LSTM_MAX_IN)
			return error("embedding width %d out of range 1..%d", sh->D, LSTM_MAX_IN - 1);
		net->I = sh->D + 1;
		net->Z = sh->H;
		net->steps = sh->W;
		net->rows[LT_EMB] = sh->V, net->cols[LT_EMB] = sh->D;
		net->rows[LT_WO] = sh->V, net->cols[LT_WO] = sh->H;
		net->rows[LT_BO] = sh->V, net->cols[LT_BO] = 1;
	} else {
		return error("unknown model mode %d", sh->mode);
	}
	if (!sh->R)
		net->sh.R = sh->H;
	else if (sh->R < 1 || sh->R > sh->H)
		return error("recurrent width %d out of range 1..%d (the hidden size)", sh->R,
			     sh->H);
	net->rows[LT_WX] = 4 * sh->H, net->cols[LT_WX] = net->I;
	net->rows[LT_WH] = 4 * sh->H, net->cols[LT_WH] = sh->H;
	net->rows[LT_B] = 4 * sh->H, net->cols[LT_B] = 1;
	for (int t = 0; t < LT_NR; t++) {
		net->off[t] = off;
		off += net->rows[t] * net->cols[t];
	}
	net->P = off;
	return 0;
}

/* round(4096 / sqrt(fan_in)), the PyTorch bound U(-k, k), k = 1/sqrt(fan_in) */
static int32_t bound_q12(size_t fan_in)
{
	return (int32_t)(((uint64_t)1 << 24) / fx_isqrt64((uint64_t)fan_in << 24));
}

void lstm_net_init_q12(const struct lstm_net *net, q3_12_t *w, uint64_t seed)
{
	uint64_t rng = seed;

	for (int t = 0; t < LT_NR; t++) {
		size_t n = net->rows[t] * net->cols[t];
		int32_t k;

		if (!n)
			continue;
		switch (t) {
		case LT_WX: case LT_WH: case LT_B:
			k = bound_q12((size_t)net->sh.H);
			break;
		case LT_W1: case LT_B1:
			k = bound_q12((size_t)net->Z);
			break;
		case LT_W2:
			k = bound_q12((size_t)net->sh.M);
			break;
		case LT_WL:
			k = 0;		/* the linear path starts at zero: trained first */
			break;
		case LT_EMB:
			k = FX_ONE_Q12;
			break;
		default:
			k = bound_q12((size_t)net->sh.H);
			break;
		}
		for (size_t i = 0; i < n; i++)
			w[net->off[t] + i] =
				(q3_12_t)((int64_t)fx_rand_below(&rng, 2 * (uint64_t)k + 1) - k);
	}
	/* drawn like the others (the rest stays R = H's), then zero */
	lstm_net_zero_unrecurrent(net, w, sizeof(*w));
}

void lstm_net_zero_unrecurrent(const struct lstm_net *net, void *v, size_t size)
{
	int H = net->sh.H, R = net->sh.R;
	char *wh = (char *)v + net->off[LT_WH] * size;

	if (R >= H || !net->rows[LT_WH])
		return;
	for (int r = 0; r < 4 * H; r++)
		memset(wh + ((size_t)r * H + R) * size, 0, (size_t)(H - R) * size);
}

int lstm_net_unrecurrent_set(const struct lstm_net *net, const void *v, size_t size)
{
	int H = net->sh.H, R = net->sh.R;
	const char *wh = (const char *)v + net->off[LT_WH] * size;

	if (R >= H || !net->rows[LT_WH])
		return 0;
	for (int r = 0; r < 4 * H; r++) {
		const char *p = wh + ((size_t)r * H + R) * size;

		for (size_t i = 0; i < (size_t)(H - R) * size; i++)
			if (p[i])
				return 1;
	}
	return 0;
}

void lstm_norm_fit(struct lstm_norm *nm, int f, const int16_t *rows, uint64_t n, int stride,
		   int col)
{
	int64_t sum = 0;
	__int128 sq = 0;

	for (uint64_t i = 0; i < n; i++) {
		int64_t v = rows[i * stride + col];

		sum += v;
		sq += v * v;
	}
	lstm_norm_set(nm, f, n, sum, sq);
}

void lstm_norm_set(struct lstm_norm *nm, int f, uint64_t n, int64_t sum, __int128 sq)
{
	int64_t mu;
	unsigned __int128 ss;
	uint64_t var_q16, std_q8;

	mu = n ? (sum >= 0 ? (sum + (int64_t)n / 2) / (int64_t)n
			   : -((-sum + (int64_t)n / 2) / (int64_t)n)) : 0;
	/* sum of (x - mu)^2, exactly: sum x^2 - 2 mu sum x + n mu^2 */
	ss = (unsigned __int128)(sq - 2 * (__int128)mu * sum + (__int128)n * mu * mu);
	/* variance in Q.16 so that its root is the std in Q.8 */
	var_q16 = n ? (uint64_t)((ss << 16) / n) : 0;
	std_q8 = fx_isqrt64(var_q16);
	if (std_q8 < 256)		/* constant or nearly: scale by one raw unit */
		std_q8 = 256;
	nm->mu[f] = (int32_t)mu;
	nm->inv[f] = (int32_t)SC_MIN((((uint64_t)1 << 36) / std_q8), (uint64_t)INT32_MAX);
}

void lstm_net_gate_bounds(const struct lstm_net *net, const q3_12_t *w, int64_t *lx,
			  int64_t *lh, int64_t *lb)
{
	int H = net->sh.H, I = net->I;

	*lx = *lh = *lb = 0;
	for (int r = 0; r < 4 * H; r++) {
		int64_t sx = 0, sh = 0, b = 4096 * (int64_t)abs(w[net->off[LT_B] + r]);

		for (int k = 0; k < I; k++)
			sx += abs(w[net->off[LT_WX] + (size_t)r * I + k]);
		for (int k = 0; k < H; k++)
			sh += abs(w[net->off[LT_WH] + (size_t)r * H + k]);
		*lx = SC_MAX(*lx, sx);
		*lh = SC_MAX(*lh, sh);
		*lb = SC_MAX(*lb, b);
	}
}

int lstm_net_head_i32_safe(const struct lstm_net *net, const q3_12_t *w)
{
	for (int m = 0; m < net->sh.M; m++) {
		int64_t bound = 4096 * (int64_t)abs(w[net->off[LT_B1] + m]);

		for (int k = 0; k < net->Z; k++)
			bound += 32768 * (int64_t)abs(w[net->off[LT_W1] + (size_t)m * net->Z + k]);
		if (bound >= INT32_MAX - 4096)
			return 0;
	}
	return 1;
}
