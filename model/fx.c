// SPDX-License-Identifier: GPL-2.0
/*
 * Fixed-point maths: activations by table and linear interpolation, exp and
 * log for the softmax, integer square root, the seeded generator.  Built
 * with -mgeneral-regs-only: no float can appear here.
 */
#include "model/model-local.h"

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
	l16 = (int64_t)(msb - 30) * 65536 + fx_rshift_round(l30, 14);	/* log2, Q.16 */
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

/* fx_rand_next - splitmix64 step: the seeded generator of every random choice */
static uint64_t fx_rand_next(uint64_t *state)
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
