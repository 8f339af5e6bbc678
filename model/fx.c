// SPDX-License-Identifier: GPL-2.0
/*
 * Fixed-point maths: activations by table and linear interpolation, exp and
 * log for the softmax, integer square root, the seeded generator.  Built
 * with -mgeneral-regs-only: no float can appear here.
 */
#include "model/model-local.h"

/*
 * Both tables sample [-8, 8] every 1/32, i.e. every 128 steps of Q3.12, so a
 * Q3.12 input splits into a table index (its top 9 bits after biasing) and a
 * 7-bit interpolation weight.  The largest interpolation error of tanh,
 * h^2/8 * max|f''| = 9.4e-5, is under one Q3.12 step (2.4e-4); the test
 * prints the measured error over all 65536 inputs.
 */
static q3_12_t interp_q12(const int32_t *tab, q3_12_t x)
{
	uint32_t u = (uint32_t)((int32_t)x + 32768);
	uint32_t i = u >> 7, r = u & 127;
	int64_t y = tab[i] + (((int64_t)(tab[i + 1] - tab[i]) * r + 64) >> 7);	/* Q1.30 */

	return fx_sat16(fx_rshift_round(y, 18));
}

q3_12_t fx_sigmoid_q12(q3_12_t x)
{
	return interp_q12(fx_sigmoid_tab, x);
}

q3_12_t fx_tanh_q12(q3_12_t x)
{
	return interp_q12(fx_tanh_tab, x);
}

#define FX_LOG2E_Q30 1549082005LL	/* log2(e) = 1.4426950409, Q2.30 */
#define FX_LN2_Q30 744261118LL		/* ln(2) = 0.6931471806, Q0.30 */

/*
 * exp(x) = 2^(x log2 e) = 2^ip * 2^fp with ip <= 0 an integer and fp in
 * [0, 1) read from a 257-entry table of 2^(i/256), interpolated.
 */
int32_t fx_exp_neg_q30(int32_t x)
{
	int64_t t, ip;
	uint32_t fp, i, r;
	int64_t v;

	if (x >= 0)
		return FX_ONE_Q30;
	t = ((int64_t)x * FX_LOG2E_Q30) >> 26;	/* Q.42 -> Q.16, floor */
	ip = t >> 16;				/* floor: <= -1 here or 0 */
	fp = (uint32_t)(t & 0xffff);
	if (ip < -31)
		return 0;
	i = fp >> 8;
	r = fp & 255;
	v = fx_exp2_tab[i] + ((((int64_t)fx_exp2_tab[i + 1] - fx_exp2_tab[i]) * r + 128) >> 8);
	if (ip == 0)
		return fx_sat32(v);
	return (int32_t)fx_rshift_round(v, (int)-ip);
}

int32_t fx_log_q12(uint64_t x)
{
	int msb;
	uint64_t m;
	uint32_t f, i, r;
	int64_t l30, l16;

	if (!x)
		return INT32_MIN;
	msb = 63 - __builtin_clzll(x);
	m = x << (63 - msb);			/* leading one at bit 63 */
	f = (uint32_t)((m >> 47) & 0xffff);	/* the next 16 bits */
	i = f >> 8;
	r = f & 255;
	l30 = fx_log2_tab[i] + ((((int64_t)fx_log2_tab[i + 1] - fx_log2_tab[i]) * r + 128) >> 8);
	l16 = ((int64_t)(msb - 30) << 16) + fx_rshift_round(l30, 14);	/* log2, Q.16 */
	return fx_sat32(fx_rshift_round(l16 * FX_LN2_Q30, 34));		/* ln, Q.12 */
}

uint32_t fx_isqrt64(uint64_t v)
{
	uint64_t res = 0, bit = (uint64_t)1 << 62;

	while (bit > v)
		bit >>= 2;
	while (bit) {
		if (v >= res + bit) {
			v -= res + bit;
			res = (res >> 1) + bit;
		} else {
			res >>= 1;
		}
		bit >>= 2;
	}
	return (uint32_t)res;
}

uint64_t fx_rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t fx_rand_below(uint64_t *state, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)fx_rand_next(state) * n) >> 64);
}
