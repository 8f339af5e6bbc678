// SPDX-License-Identifier: GPL-2.0
/*
 * Fixed-point maths against libm over every representable input: sigmoid
 * and tanh over all 65536 Q3.12 values, exp over the softmax's whole input
 * range, log over 2^-30..2^32, the integer square root.  Max errors printed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>

#include "model/model-local.h"

/* one Q3.12 step, and the bound the tables promise: one step (2.44e-4) */
#define Q12_STEP (1.0 / 4096)

static void test_sigmoid_tanh_all_inputs(void **state)
{
	double max_s = 0, max_t = 0;
	int arg_s = 0, arg_t = 0;

	for (int x = INT16_MIN; x <= INT16_MAX; x++) {
		double xf = x / 4096.0;
		double es = fabs(fx_sigmoid_q12((q3_12_t)x) / 4096.0 - 1 / (1 + exp(-xf)));
		double et = fabs(fx_tanh_q12((q3_12_t)x) / 4096.0 - tanh(xf));

		if (es > max_s)
			max_s = es, arg_s = x;
		if (et > max_t)
			max_t = et, arg_t = x;
	}
	printf("# sigmoid: max error %.3g (%.2f Q3.12 steps) at x=%d/4096 over 65536 inputs\n",
	       max_s, max_s / Q12_STEP, arg_s);
	printf("# tanh:    max error %.3g (%.2f Q3.12 steps) at x=%d/4096 over 65536 inputs\n",
	       max_t, max_t / Q12_STEP, arg_t);
	assert_true(max_s <= Q12_STEP);
	assert_true(max_t <= Q12_STEP);
}

static void test_activation_monotone(void **state)
{
	for (int x = INT16_MIN; x < INT16_MAX; x++) {
		assert_true(fx_sigmoid_q12((q3_12_t)x) <= fx_sigmoid_q12((q3_12_t)(x + 1)));
		assert_true(fx_tanh_q12((q3_12_t)x) <= fx_tanh_q12((q3_12_t)(x + 1)));
	}
	assert_int_equal(fx_sigmoid_q12(0), 2048);
	assert_int_equal(fx_tanh_q12(0), 0);
}

/* exp(x) for every Q.12 input in [-32, 0]: absolute error in Q1.30 units */
static void test_exp_neg(void **state)
{
	double max_abs = 0, max_rel = 0;

	for (int32_t x = -32 * 4096; x <= 0; x++) {
		double ref = exp(x / 4096.0), got = fx_exp_neg_q30(x) / (double)(1 << 30);
		double e = fabs(got - ref);

		if (e > max_abs)
			max_abs = e;
		if (ref > 1e-3 && e / ref > max_rel)
			max_rel = e / ref;
	}
	printf("# exp:     max abs error %.3g, max rel error %.3g (x >= -32; relative where exp > 1e-3)\n",
	       max_abs, max_rel);
	assert_true(max_abs < 2e-5);
	assert_true(max_rel < 1e-4);
	assert_int_equal(fx_exp_neg_q30(0), 1 << 30);
	assert_int_equal(fx_exp_neg_q30(-30 * 4096), 0);	/* 9e-14: below Q1.30 */
}

static void test_log(void **state)
{
	double max_e = 0;

	for (uint64_t x = 1; x < (1ULL << 62); x += x / 997 + 1) {
		double ref = log(x / (double)(1 << 30)), got = fx_log_q12(x) / 4096.0;
		double e = fabs(got - ref);

		if (e > max_e)
			max_e = e;
	}
	printf("# log:     max abs error %.3g (Q.12 result, inputs 2^-30 .. 2^32)\n", max_e);
	assert_true(max_e <= 1.5 * Q12_STEP);
}

static void test_isqrt(void **state)
{
	for (uint64_t v = 0; v < 100000; v++) {
		uint64_t r = fx_isqrt64(v);

		assert_true(r * r <= v && (r + 1) * (r + 1) > v);
	}
	assert_int_equal(fx_isqrt64(UINT64_MAX), UINT32_MAX);
	assert_int_equal(fx_isqrt64(1ULL << 62), 1U << 31);
}

static void test_saturation(void **state)
{
	assert_int_equal(fx_sat16(40000), INT16_MAX);
	assert_int_equal(fx_sat16(-40000), INT16_MIN);
	assert_int_equal(fx_mul_q12(INT16_MAX, INT16_MAX), INT16_MAX);	/* no wrap */
	assert_int_equal(fx_mul_q12(INT16_MIN, INT16_MAX), INT16_MIN);
	assert_int_equal(fx_mul_q12(4096, 1234), 1234);
	assert_int_equal(fx_mul_q24_q12(INT32_MAX, INT16_MAX), INT32_MAX);
	assert_int_equal(fx_rshift_round(-3, 1), -1);	/* -1.5 rounds up to -1 */
	assert_int_equal(fx_rshift_round(3, 1), 2);
}

static void test_softmax_xent(void **state)
{
	int32_t logit[4] = { 4096, 0, -8192, 2048 };
	double ref[4], sum = 0, max_e = 0;
	q7_24_t d[4];
	int32_t loss = fx_softmax_xent(d, logit, 4, 0);

	for (int i = 0; i < 4; i++)
		sum += ref[i] = exp(logit[i] / 4096.0);
	for (int i = 0; i < 4; i++) {
		double want = ref[i] / sum - (i == 0);

		max_e = fmax(max_e, fabs(d[i] / (double)(1 << 24) - want));
	}
	printf("# softmax: max gradient error %.3g, loss %.5f vs %.5f\n", max_e, loss / 4096.0,
	       log(sum) - 1.0);
	assert_true(max_e < 1e-4);
	assert_true(fabs(loss / 4096.0 - (log(sum) - 1.0)) < 3 * Q12_STEP);
}

/*
 * Updates below one Q3.12 step must not vanish: Adam at lr 1e-5 moves a
 * weight by ~0.04 of a Q3.12 step per update; the Q3.28 master weight keeps
 * the fractions, so 1000 updates move the Q3.12 weight by ~40 steps, as in
 * double.
 */
static void test_small_updates_accumulate(void **state)
{
	q3_12_t w[1] = { 1000 };
	q3_28_t master[1];
	q7_24_t m[1] = { 0 };
	int64_t v[1] = { 0 }, g[1];
	struct fx_adam opt = { .master = master, .m = m, .v = v, .lr_q32 = 42950 };	/* 1e-5 */
	double wf = 1000 / 4096.0, mf = 0, vf = 0;
	struct fl_adam fopt = { .m = &mf, .v = &vf, .lr = 1e-5 };

	fx_master_from_q12(master, w, 1);
	for (int i = 0; i < 1000; i++) {
		double gf = 0.01;

		g[0] = (int64_t)(0.01 * 68719476736.0);	/* Q.36, one sample */
		fx_adam_step(&opt, w, g, 1, 1);
		fl_adam_step(&fopt, &wf, &gf, 1, 1);
	}
	printf("# 1000 Adam steps at lr 1e-5: Q3.12 weight moved %d steps (double: %.2f)\n",
	       1000 - w[0], (1000 / 4096.0 - wf) * 4096);
	assert_true(1000 - w[0] >= 35 && 1000 - w[0] <= 45);
	assert_true(fabs((1000 - w[0]) - (1000 / 4096.0 - wf) * 4096) <= 1.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigmoid_tanh_all_inputs),
		cmocka_unit_test(test_activation_monotone),
		cmocka_unit_test(test_exp_neg),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_isqrt),
		cmocka_unit_test(test_saturation),
		cmocka_unit_test(test_softmax_xent),
		cmocka_unit_test(test_small_updates_accumulate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
