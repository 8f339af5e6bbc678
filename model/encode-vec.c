// SPDX-License-Identifier: GPL-2.0
/*
 * A faster encoder for inference on this machine: the same integer
 * arithmetic as fx_lstm_encode() (lstm-fixed.c), with the gate sums kept in
 * int32 so that the compiler can use the vector unit's 16-bit multiply-adds
 * (pmaddwd).  Still integers only, but vector registers: kernel code would
 * need kernel_fpu_begin() for it, so the -mgeneral-regs-only path stays the
 * reference and this file is not one of them.
 *
 * int32 sums are exact only when no partial sum can overflow.  Before each
 * step the bound lx max|x| + lh max|h| + lb (the largest row L1 norms, from
 * lstm_net_gate_bounds() at load) is checked against 2^31; a step that could
 * overflow is summed in int64 instead.  Either way the results are
 * bit-identical to the scalar path, whatever the order of the additions,
 * which the tests check.
 */
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>

#include "model/model-local.h"

#pragma GCC optimize("O3")

__attribute__((target_clones("avx2", "default")))
void fxv_gate_sums(int32_t *acc, const q3_12_t *wx, const q3_12_t *wh, const q3_12_t *b,
		      const q3_12_t *x, const q3_12_t *h, int I, int H, int R)
{
	for (int r = 0; r < 4 * H; r++) {
		const q3_12_t *wxr = wx + (size_t)r * I, *whr = wh + (size_t)r * H;
		int32_t a = (int32_t)b[r] * 4096, ah = 0;

		for (int k = 0; k < I; k++)
			a += (int32_t)wxr[k] * x[k];
		for (int k = 0; k < R; k++)
			ah += (int32_t)whr[k] * h[k];
		acc[r] = a + ah;
	}
}

void fxv_gate_sums64(int32_t *acc, const q3_12_t *wx, const q3_12_t *wh, const q3_12_t *b,
		     const q3_12_t *x, const q3_12_t *h, int I, int H, int R)
{
	for (int r = 0; r < 4 * H; r++) {
		const q3_12_t *wxr = wx + (size_t)r * I, *whr = wh + (size_t)r * H;
		int64_t a = (int64_t)b[r] * 4096;

		for (int k = 0; k < I; k++)
			a += (int32_t)wxr[k] * x[k];
		for (int k = 0; k < R; k++)
			a += (int32_t)whr[k] * h[k];
		/* rounded to Q3.12 and saturated to int16 next: clamping keeps that result */
		acc[r] = (int32_t)(a > INT32_MAX ? INT32_MAX : a < INT32_MIN ? INT32_MIN : a);
	}
}

void fxv_pack(struct lstm_model *m)
{
	const struct lstm_net *net = &m->net;
	int I = net->I, H = net->sh.H, n = I + net->sh.R, np = (n + 1) / 2;
	const q3_12_t *wx = m->wq + net->off[LT_WX], *wh = m->wq + net->off[LT_WH];

	m->wpack = xcalloc((size_t)np * 4 * H * 2, sizeof(*m->wpack));
	for (int k = 0; k < n; k++)
		for (int r = 0; r < 4 * H; r++)
			m->wpack[((size_t)(k / 2) * 4 * H + r) * 2 + (k & 1)] =
				k < I ? wx[(size_t)r * I + k] : wh[(size_t)r * H + (k - I)];
}

/*
 * AVX2: for each pair of inputs (z[2p], z[2p+1]) broadcast to every lane,
 * vpmaddwd with the packed weights adds w[r][2p] z[2p] + w[r][2p+1] z[2p+1]
 * to eight rows' int32 sums at once.  4H must be a multiple of 8.
 */
__attribute__((target("avx2")))
static void gate_sums_packed(int32_t *acc, const int16_t *wpack, const q3_12_t *b,
			     const q3_12_t *z, int n, int R)
{
	int np = (n + 1) / 2;
	int32_t pairs[(LSTM_MAX_IN + LSTM_MAX_HIDDEN + 1) / 2];

	for (int p = 0; p < np; p++)
		pairs[p] = (int32_t)((uint16_t)z[2 * p] |
				     ((uint32_t)(2 * p + 1 < n ? (uint16_t)z[2 * p + 1] : 0) << 16));
	for (int r = 0; r < R; r += 8) {
		__m256i a = _mm256_slli_epi32(_mm256_cvtepi16_epi32(
			_mm_loadu_si128((const __m128i *)(b + r))), 12);
		__m256i a2 = _mm256_setzero_si256();
		int p = 0;

		/* two chains of additions, to hide vpmaddwd's latency */
		for (; p + 1 < np; p += 2) {
			const int16_t *w = wpack + ((size_t)p * R + r) * 2;

			a = _mm256_add_epi32(a, _mm256_madd_epi16(
				_mm256_loadu_si256((const __m256i *)w), _mm256_set1_epi32(pairs[p])));
			a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(
				_mm256_loadu_si256((const __m256i *)(w + (size_t)R * 2)),
				_mm256_set1_epi32(pairs[p + 1])));
		}
		if (p < np)
			a = _mm256_add_epi32(a, _mm256_madd_epi16(
				_mm256_loadu_si256((const __m256i *)(wpack + ((size_t)p * R + r) * 2)),
				_mm256_set1_epi32(pairs[p])));
		a = _mm256_add_epi32(a, a2);
		_mm256_storeu_si256((__m256i *)(acc + r), a);
	}
}

/*
 * AVX2: the gates' activations eight at a time, exactly as fx_interp_q12():
 * the tables increase, so t[i+1] - t[i] >= 0 and (t[i+1] - t[i]) r + 64 <
 * 2^25 * 127 + 64 < 2^32 fits an unsigned lane.  H must be a multiple of 8
 * so that eight rows share one table.
 */
/* eight fx_interp_q12() at once; p: int32 lanes already within int16 */
__attribute__((target("avx2")))
static inline __m256i interp8(const int32_t *tab, __m256i p)
{
	__m256i u = _mm256_add_epi32(p, _mm256_set1_epi32(32768));
	__m256i i = _mm256_srli_epi32(u, 7), f = _mm256_and_si256(u, _mm256_set1_epi32(127));
	__m256i t0 = _mm256_i32gather_epi32((const int *)tab, i, 4);
	__m256i t1 = _mm256_i32gather_epi32((const int *)tab + 1, i, 4);
	__m256i y = _mm256_mullo_epi32(_mm256_sub_epi32(t1, t0), f);

	y = _mm256_srli_epi32(_mm256_add_epi32(y, _mm256_set1_epi32(64)), 7);
	y = _mm256_add_epi32(t0, y);
	return _mm256_srai_epi32(_mm256_add_epi32(y, _mm256_set1_epi32(1 << 17)), 18);
}

/* round(v / 4096) saturated to int16, on int32 lanes that cannot overflow */
__attribute__((target("avx2")))
static inline __m256i round_sat8(__m256i v)
{
	v = _mm256_srai_epi32(_mm256_add_epi32(v, _mm256_set1_epi32(2048)), 12);
	return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(INT16_MIN)),
				_mm256_set1_epi32(INT16_MAX));
}

__attribute__((target("avx2")))
static inline __m256i load8(const q3_12_t *p)
{
	return _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)p));
}

__attribute__((target("avx2")))
static inline void store8(q3_12_t *p, __m256i v)
{
	/* lanes are within int16: pack the two halves */
	__m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);

	_mm_storeu_si128((__m128i *)p, _mm_packs_epi32(lo, hi));
}

/*
 * One LSTM step after the gate sums, eight units at a time, exactly as
 * lstm_cell_forward(): the gates' activations (the tables increase, so
 * (t[i+1] - t[i]) r + 64 < 2^25 * 127 + 64 < 2^32 fits an unsigned lane),
 * then c = f c + i g (|.| < 2^28 + 2^24) and h = o tanh(c).  H must be a
 * multiple of 8 so that eight rows share one table.
 */
__attribute__((target("avx2")))
static void cell_avx2(q3_12_t *h, q3_12_t *c, q3_12_t *gate, const int32_t *acc, int H)
{
	for (int r = 0; r < 4 * H; r += 8) {
		const int32_t *tab = (r >= 2 * H && r < 3 * H) ? fx_tanh_tab : fx_sigmoid_tab;
		__m256i p = round_sat8(_mm256_loadu_si256((const __m256i *)(acc + r)));

		store8(gate + r, interp8(tab, p));
	}
	for (int j = 0; j < H; j += 8) {
		__m256i i = load8(gate + j), f = load8(gate + H + j), g = load8(gate + 2 * H + j);
		__m256i o = load8(gate + 3 * H + j), cc;

		cc = round_sat8(_mm256_add_epi32(_mm256_mullo_epi32(f, load8(c + j)),
						 _mm256_mullo_epi32(i, g)));
		store8(c + j, cc);
		store8(h + j, round_sat8(_mm256_mullo_epi32(o, interp8(fx_tanh_tab, cc))));
	}
}

void fxv_step_raw(const struct lstm_model *m, q3_12_t *h, q3_12_t *c, const int16_t *row)
{
	const struct lstm_net *net = &m->net;
	int E = net->sh.E, H = net->sh.H, R = net->sh.R;
	const q3_12_t *wx = m->wq + net->off[LT_WX], *wh = m->wq + net->off[LT_WH];
	const q3_12_t *b = m->wq + net->off[LT_B];
	q3_12_t x[LSTM_MAX_IN], gate[4 * LSTM_MAX_HIDDEN];
	int32_t acc[4 * LSTM_MAX_HIDDEN];
	int64_t mx = 0, mh = 0;
	static int use_avx2 = -1;

	if (use_avx2 < 0)
		use_avx2 = __builtin_cpu_supports("avx2");

	for (int e = 0; e < E; e++) {
		x[e] = lstm_norm_apply(&m->norm, e, row[e]);
		mx = SC_MAX(mx, x[e] < 0 ? -(int64_t)x[e] : x[e]);
	}
	for (int j = 0; j < R; j++)	/* W_h's columns R..H-1 are zero */
		mh = SC_MAX(mh, h[j] < 0 ? -(int64_t)h[j] : h[j]);
	if (m->gate_lx * mx + m->gate_lh * mh + m->gate_lb >= INT32_MAX - 4096) {
		fxv_gate_sums64(acc, wx, wh, b, x, h, E, H, R);
	} else if (use_avx2 && m->wpack && (4 * H) % 8 == 0) {
		q3_12_t z[LSTM_MAX_IN + LSTM_MAX_HIDDEN + 1];

		memcpy(z, x, sizeof(*z) * E);
		memcpy(z + E, h, sizeof(*z) * R);
		gate_sums_packed(acc, m->wpack, b, z, E + R, 4 * H);
	} else {
		fxv_gate_sums(acc, wx, wh, b, x, h, E, H, R);
	}
	if (use_avx2 && H % 8 == 0) {
		cell_avx2(h, c, gate, acc, H);
		return;
	}
	for (int r = 0; r < 4 * H; r++) {
		q3_12_t pre = fx_sat16(fx_rshift_round(acc[r], 12));

		gate[r] = (r >= 2 * H && r < 3 * H) ? fx_tanh_q12(pre) : fx_sigmoid_q12(pre);
	}
	for (int j = 0; j < H; j++) {
		int64_t cc = (int64_t)gate[H + j] * c[j] + (int64_t)gate[j] * gate[2 * H + j];

		c[j] = fx_sat16(fx_rshift_round(cc, 12));
		h[j] = fx_mul_q12(gate[3 * H + j], fx_tanh_q12(c[j]));
	}
}

void fxv_encode_raw(const struct lstm_model *m, const int16_t *window, q3_12_t *h_out)
{
	int K = m->net.sh.K, E = m->net.sh.E, H = m->net.sh.H;
	q3_12_t h[LSTM_MAX_HIDDEN], c[LSTM_MAX_HIDDEN];

	memset(h, 0, sizeof(h[0]) * H);
	memset(c, 0, sizeof(c[0]) * H);
	for (int t = 0; t < K; t++)
		fxv_step_raw(m, h, c, window + (size_t)t * E);
	memcpy(h_out, h, sizeof(*h_out) * H);
}

__attribute__((target_clones("avx2", "default")))
static void head_sums(int32_t *acc, const q3_12_t *w1, const q3_12_t *b1, const q3_12_t *z,
		      int Z, int M)
{
	for (int m = 0; m < M; m++) {
		const q3_12_t *wr = w1 + (size_t)m * Z;
		int32_t a = 0;

		for (int k = 0; k < Z; k++)
			a += (int32_t)wr[k] * z[k];
		acc[m] = a + (int32_t)b1[m] * 4096;
	}
}

int32_t fxv_score_raw(const struct lstm_model *m, const q3_12_t *h, const int16_t *state)
{
	const struct lstm_net *net = &m->net;
	int E = net->sh.E, S = net->sh.S, H = net->sh.H, M = net->sh.M, Z = net->Z;
	const q3_12_t *w2 = m->wq + net->off[LT_W2];
	q3_12_t z[LSTM_MAX_HIDDEN + LSTM_MAX_STATE];
	int32_t acc[LSTM_MAX_HEAD];
	int64_t score = 0, s;

	if (!m->head_i32)
		return fx_score_raw(m, h, state);
	memcpy(z, h, sizeof(*z) * H);
	for (int k = 0; k < S; k++)
		z[H + k] = lstm_norm_apply(&m->norm, E + k, state[k]);
	head_sums(acc, m->wq + net->off[LT_W1], m->wq + net->off[LT_B1], z, Z, M);
	for (int k = 0; k < M; k++) {
		/* as fx_head_forward(): round to Q3.12, saturate, ReLU, then w2 */
		q3_12_t u = fx_sat16(fx_rshift_round(acc[k], 12));

		score += (int32_t)w2[k] * (u > 0 ? u : 0);
	}
	score += fx_linear_sum(z + H, m->wq + net->off[LT_WL], S);
	s = fx_rshift_round(score, 12);
	return (int32_t)(s > (1 << 20) ? (1 << 20) : s < -(1 << 20) ? -(1 << 20) : s);
}
