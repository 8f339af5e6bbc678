/* SPDX-License-Identifier: GPL-2.0 */
/*
 * model/ private declarations: fixed-point types and maths (fx_), the
 * parameter layout, the per-layer forward/backward functions of both
 * arithmetics, and the training driver.
 *
 * Fixed-point formats (Qm.n: m integer bits, n fraction bits, plus sign):
 *   q3_12_t  int16  weights, normalised inputs, gates, h, c, ReLU outputs
 *   q3_28_t  int32  master weights (the optimizer's copy; Q3.12 = Q3.28 >> 16)
 *   q7_24_t  int32  gradients of activations, mean gradients, Adam's m
 *   Q?.36    int64  per-batch weight-gradient accumulators
 *   Q14.48   int64  Adam's v (squared gradients)
 *   Q1.30    int32  table values, probabilities, exp()
 * Every conversion rounds to nearest and saturates; nothing wraps.
 */
#ifndef SC_MODEL_LOCAL_H
#define SC_MODEL_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "data/windows.h"
#include "model/lstm.h"

typedef int16_t q3_12_t;
typedef int32_t q3_28_t;
typedef int32_t q7_24_t;

#define FX_ONE_Q12 4096
#define FX_ONE_Q24 (1 << 24)
#define FX_ONE_Q30 (1 << 30)

/* ---- fixed-point maths (model/fx.c, integer only) ------------------------ */

extern const int32_t fx_sigmoid_tab[513];	/* sigmoid(-8 + i/32), Q1.30 */
extern const int32_t fx_tanh_tab[513];		/* tanh(-8 + i/32), Q1.30 */
extern const uint32_t fx_exp2_tab[257];		/* 2^(i/256), Q2.30 */
extern const int32_t fx_log2_tab[257];		/* log2(1 + i/256), Q1.30 */

static inline int16_t fx_sat16(int64_t v)
{
	return v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : (int16_t)v;
}

static inline int32_t fx_sat32(int64_t v)
{
	return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

/* fx_rshift_round - v / 2^n rounded to nearest (ties up), n >= 1 */
static inline int64_t fx_rshift_round(int64_t v, int n)
{
	return (v + ((int64_t)1 << (n - 1))) >> n;
}

/* fx_mul_q12 - Q3.12 * Q3.12 -> Q3.12, rounded and saturated */
static inline q3_12_t fx_mul_q12(q3_12_t a, q3_12_t b)
{
	return fx_sat16(fx_rshift_round((int32_t)a * b, 12));
}

/* fx_mul_q24_q12 - Q7.24 gradient * Q3.12 activation -> Q7.24 */
static inline q7_24_t fx_mul_q24_q12(q7_24_t g, q3_12_t a)
{
	return fx_sat32(fx_rshift_round((int64_t)g * a, 12));
}

/*
 * fx_sigmoid_q12 / fx_tanh_q12 - over every Q3.12 input, Q3.12 output.
 * Both tables sample [-8, 8] every 1/32, i.e. every 128 steps of Q3.12, so
 * an input splits into a table index (its top 9 bits after biasing) and a
 * 7-bit interpolation weight.  The largest interpolation error of tanh,
 * h^2/8 max|f''| = 9.4e-5, is under one Q3.12 step (2.4e-4); test-fx
 * prints the measured error over all 65536 inputs.  Inline: they are the
 * inner loop of every LSTM step.
 */
static inline q3_12_t fx_interp_q12(const int32_t *tab, q3_12_t x)
{
	uint32_t u = (uint32_t)((int32_t)x + 32768);
	uint32_t i = u >> 7, r = u & 127;
	int64_t y = tab[i] + (((int64_t)(tab[i + 1] - tab[i]) * r + 64) >> 7);	/* Q1.30 */

	return fx_sat16(fx_rshift_round(y, 18));
}

static inline q3_12_t fx_sigmoid_q12(q3_12_t x)
{
	return fx_interp_q12(fx_sigmoid_tab, x);
}

static inline q3_12_t fx_tanh_q12(q3_12_t x)
{
	return fx_interp_q12(fx_tanh_tab, x);
}

/* fx_window_hash - a hash of a window's n Q3.12 values, for the tables of distinct windows */
static inline uint64_t fx_window_hash(const q3_12_t *x, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (uint16_t)x[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	return h;
}

/*
 * fx_cell_update - one LSTM step after the gate sums: gate (4H) holds the
 * pre-activations rounded to Q3.12 and gets the activations (i f o =
 * sigmoid, g = tanh); c' = f c + i g, h' = o tanh(c'), tanh(c') into tc.
 * The reference (lstm-fixed.c) and the vectorised trainer (train-vec.c)
 * share it, so their bits cannot drift apart.
 */
static inline void fx_cell_update(q3_12_t *hn, q3_12_t *cn, q3_12_t *gate, q3_12_t *tc,
				  const q3_12_t *cp, int H)
{
	for (int r = 0; r < 4 * H; r++)
		gate[r] = (r >= 2 * H && r < 3 * H) ? fx_tanh_q12(gate[r]) : fx_sigmoid_q12(gate[r]);
	for (int j = 0; j < H; j++) {
		int32_t i = gate[j], f = gate[H + j], g = gate[2 * H + j], o = gate[3 * H + j];
		int64_t c = (int64_t)f * cp[j] + (int64_t)i * g;	/* Q6.24 */

		cn[j] = fx_sat16(fx_rshift_round(c, 12));
		tc[j] = fx_tanh_q12(cn[j]);
		hn[j] = fx_mul_q12((q3_12_t)o, tc[j]);
	}
}
/* fx_exp_neg_q30 - exp(x / 4096) for x <= 0 (Q.12 in int32), Q1.30 */
int32_t fx_exp_neg_q30(int32_t x);
/* fx_log_q12 - ln(x / 2^30) for x > 0 (Q.30 in uint64), Q.12 in int32 */
int32_t fx_log_q12(uint64_t x);
/* fx_isqrt64 - floor(sqrt(v)) */
uint32_t fx_isqrt64(uint64_t v);
/* fx_rand_below - uniform in [0, n) */
uint64_t fx_rand_below(uint64_t *state, uint64_t n);

/* ---- the network's parameters: one flat vector -------------------------- */

enum lstm_tensor {
	LT_WX,		/* (4H, I)  LSTM input weights, gate order i f g o (PyTorch's) */
	LT_WH,		/* (4H, H)  LSTM recurrent weights */
	LT_B,		/* (4H)     LSTM bias (PyTorch's b_ih + b_hh) */
	LT_W1,		/* (M, H+S) head layer 1 (candidates) */
	LT_B1,		/* (M)      head bias 1 */
	LT_W2,		/* (M)      head layer 2 -> score (no bias: softmax ignores it) */
	LT_WL,		/* (S)      linear path: state features -> score, added to the head's */
	LT_EMB,		/* (V, D)   task embedding (sequence) */
	LT_WO,		/* (V, H)   output layer (sequence) */
	LT_BO,		/* (V)      output bias (sequence) */
	LT_NR,
};

extern const char *const lstm_tensor_names[LT_NR];

/*
 * struct lstm_net - the shape and where each tensor sits in the flat
 * parameter vector of P values (the same layout for weights, master
 * weights, gradients and optimizer state, in either arithmetic).
 */
struct lstm_net {
	struct lstm_shape sh;
	int I;				/* LSTM input width: E, or D + 1 */
	int Z;				/* head input: H + S */
	int steps;			/* K or W */
	size_t P;
	size_t off[LT_NR];
	size_t rows[LT_NR], cols[LT_NR];	/* cols 1 for vectors; rows 0 if absent */
};

/* lstm_net_init - fill in the derived sizes; -1 (printed) if out of bounds */
int lstm_net_init(struct lstm_net *net, const struct lstm_shape *sh);
/* lstm_net_init_q12 - PyTorch's U(-1/sqrt(H), 1/sqrt(H)) init, Q3.12, seeded */
void lstm_net_init_q12(const struct lstm_net *net, q3_12_t *w, uint64_t seed);
/*
 * lstm_net_zero_unrecurrent - zero the columns R..H-1 of W_h (sh.R) in v, a
 * flat vector of P values of `size` bytes in the parameter layout (weights,
 * gradients: all-zero bits are 0 in every type used): a gradient so masked
 * leaves those weights at zero under Adam, fixed or float
 */
void lstm_net_zero_unrecurrent(const struct lstm_net *net, void *v, size_t size);
/*
 * lstm_net_unrecurrent_set - 1 if a value of v in the columns R..H-1 of W_h
 * has a bit set (a checkpoint's optimizer state there is all-zero bits)
 */
int lstm_net_unrecurrent_set(const struct lstm_net *net, const void *v, size_t size);

/*
 * struct lstm_norm - input normalisation, computed in integers on the
 * training split: x' = sat((x - mu) * inv >> 16) in Q3.12, i.e. (x - mean)
 * / std.  Features: E episode then S state (candidates), or the gap
 * (sequence).
 */
struct lstm_norm {
	int n;
	int32_t mu[LSTM_MAX_IN + LSTM_MAX_STATE];	/* raw units */
	int32_t inv[LSTM_MAX_IN + LSTM_MAX_STATE];	/* 2^28 / std, raw units */
};

static inline q3_12_t lstm_norm_apply(const struct lstm_norm *nm, int f, int16_t raw)
{
	return fx_sat16(((int64_t)(raw - nm->mu[f]) * nm->inv[f]) >> 16);
}

/* lstm_norm_fit - mean and std of column f of rows (n, stride); integer only */
void lstm_norm_fit(struct lstm_norm *nm, int f, const int16_t *rows, uint64_t n, int stride,
		   int col);
/*
 * lstm_norm_set - the same from n values' sum and sum of squares (the
 * streaming trainer accumulates them block by block)
 */
void lstm_norm_set(struct lstm_norm *nm, int f, uint64_t n, int64_t sum, __int128 sq);

/* ---- fixed-point layers (model/lstm-fixed.c) ----------------------------- */

/*
 * struct fx_act - what the forward pass of one sequence keeps for the
 * backward pass.  Pointers into a caller's arena.
 */
struct fx_act {
	const q3_12_t *x;	/* (T, I) Q3.12 inputs */
	q3_12_t *h;		/* (T+1, H) Q3.12, row 0 = initial zeros */
	q3_12_t *c;		/* (T+1, H) Q3.12, row 0 = initial zeros */
	q3_12_t *gate;		/* (T, 4H) Q3.12 post-activation i f g o */
	q3_12_t *tc;		/* (T, H) Q3.12 tanh(c_t) */
};

/*
 * fx_cell_backward - the gate gradients da (4H, Q7.24) of one step from dh
 * (H) and the cell gradient dc carried from the step after (updated in
 * place to the one of the step before); gate, tc: the step's activations,
 * cp: the cell state before it
 */
void fx_cell_backward(q7_24_t *da, q7_24_t *dc, const q7_24_t *dh, const q3_12_t *gate,
		      const q3_12_t *tc, const q3_12_t *cp, int H);
/*
 * The same passes with loops the compiler vectorises (model/train-vec.c),
 * bit for bit: int32 gate sums where the bounds of lstm_net_gate_bounds()
 * (bound[3]: lx, lh, lb of w) show they cannot overflow, int64 products
 * of a 32-bit gradient and a 16-bit weight or input.  The encoder cache
 * trains through these, for a window several candidates share:
 * fxv_lstm_backward_da() runs the recursion for one use's dh (clobbered)
 * and adds its gate gradients to da_sum (T, 4H, Q7.24 summed in int64);
 * fxv_lstm_backward_grad() adds the weight gradients of those sums to g.
 * A weight gradient is a sum of exact products da x, so the gradients of
 * every use summed first give the same bits as the scalar reference
 * (fx_decision() below, one backward pass per candidate) once per use.
 */
void fxv_lstm_forward(struct fx_act *a, const q3_12_t *w, const struct lstm_net *net, int T,
		      const int64_t *bound);
/*
 * fxv_lstm_forward_from - the same from the state the caller put in row 0
 * of a->h and a->c (a stateful encoder's carried state), not zeros
 */
void fxv_lstm_forward_from(struct fx_act *a, const q3_12_t *w, const struct lstm_net *net, int T,
			   const int64_t *bound);
void fxv_lstm_backward_da(int64_t *da_sum, q7_24_t *dh, const struct fx_act *a,
			  const q3_12_t *w, const struct lstm_net *net, int T);
void fxv_lstm_backward_grad(int64_t *g, const int64_t *da_sum, const struct fx_act *a,
			    const struct lstm_net *net, int T);
/*
 * fx_linear_sum - the linear path: sum of wl[k] st[k] over the S normalised
 * state features, Q3.12 * Q3.12 = Q.24 in int64 (the head's accumulator
 * units: added to it before the one rounding to the score's Q.12)
 */
static inline int64_t fx_linear_sum(const q3_12_t *st, const q3_12_t *wl, int S)
{
	int64_t acc = 0;

	for (int k = 0; k < S; k++)
		acc += (int32_t)wl[k] * st[k];
	return acc;
}

/* fx_linear_backward - gwl (S) Q.36 += dscore (Q7.24) * st (S, Q3.12) */
static inline void fx_linear_backward(int64_t *gwl, q7_24_t dscore, const q3_12_t *st, int S)
{
	for (int k = 0; k < S; k++)
		gwl[k] += (int64_t)dscore * st[k];
}

/*
 * fx_head_forward - u: (M) Q3.12 post-ReLU; returns the score, Q.12 in
 * int32: the head's Linear-ReLU-Linear on z (Z) plus the linear path on
 * z's last S values (the normalised state features)
 */
int32_t fx_head_forward(q3_12_t *u, const q3_12_t *z, const q3_12_t *w,
			const struct lstm_net *net);
/* fx_head_backward - dz: (Z) Q7.24 out */
void fx_head_backward(int64_t *g, q7_24_t *dz, q7_24_t dscore, const q3_12_t *u,
		      const q3_12_t *z, const q3_12_t *w, const struct lstm_net *net);
/*
 * fx_softmax_xent - softmax of n logits (Q.12) and, when label >= 0, the
 * cross-entropy: dlogit (n) gets p - onehot in Q7.24 (NULL: not wanted);
 * returns the loss in Q.12 (0 when label < 0).
 */
int32_t fx_softmax_xent(q7_24_t *dlogit, const int32_t *logit, int n, int label);

/*
 * struct fx_adam - Adam in integers: beta1 = 1 - 2^-3, beta2 = 1 - 2^-10,
 * eps = 2^-24, bias correction folded into the step size.
 */
struct fx_adam {
	q3_28_t *master;	/* (P) Q3.28 */
	q7_24_t *m;		/* (P) Q7.24 */
	int64_t *v;		/* (P) Q14.48 */
	uint64_t t;		/* steps taken */
	uint64_t lr_q32;	/* learning rate, Q0.32 */
};

/* fx_adam_step - one update from accumulated gradients g (P, Q.36) over n samples */
void fx_adam_step(struct fx_adam *opt, q3_12_t *w, const int64_t *g, size_t P, uint64_t n);
/* fx_master_from_q12 - master = w << 16 */
void fx_master_from_q12(q3_28_t *master, const q3_12_t *w, size_t P);

/* ---- the double reference (model/lstm-float.c) -------------------------- */

struct fl_act {
	const double *x;	/* (T, I) */
	double *h, *c;		/* (T+1, H) */
	double *gate;		/* (T, 4H) post-activation i f g o */
	double *tc;		/* (T, H) */
};

void fl_lstm_forward(struct fl_act *a, const double *w, const struct lstm_net *net, int T);
/* fl_lstm_forward_from - from the caller's row 0 of a->h and a->c */
void fl_lstm_forward_from(struct fl_act *a, const double *w, const struct lstm_net *net, int T);
void fl_lstm_backward(double *g, double *dx, double *dh, const struct fl_act *a,
		      const double *w, const struct lstm_net *net, int T);
double fl_head_forward(double *u, const double *z, const double *w, const struct lstm_net *net);
void fl_head_backward(double *g, double *dz, double dscore, const double *u, const double *z,
		      const double *w, const struct lstm_net *net);
double fl_softmax_xent(double *dlogit, const double *logit, int n, int label);

struct fl_adam {
	double *m, *v;		/* (P) */
	uint64_t t;
	double lr;
};

void fl_adam_step(struct fl_adam *opt, double *w, const double *g, size_t P, uint64_t n);

/* ---- one decision, forward (+ backward) in either arithmetic ------------ */

/*
 * struct lstm_scratch - one thread's arena for one decision: activations
 * of up to maxcand candidates (or one sequence).  One allocation.
 */
struct lstm_scratch {
	void *mem;
	int maxcand;
	/*
	 * linear_only: score with the linear path alone (the encoder and the
	 * head are skipped, their gradients stay zero): the first training
	 * stage, and a model whose residual was not kept
	 */
	int linear_only;
	/* fixed */
	struct fx_act *fa;	/* (maxcand) */
	q3_12_t *fx_seqx;	/* (W, I) sequence inputs */
	q3_12_t *fx_z, *fx_u;	/* (maxcand, Z), (maxcand, M) */
	int32_t *logit;		/* (max(maxcand, V)) Q.12 */
	q7_24_t *dlogit;	/* (max(maxcand, V)) */
	q7_24_t *fx_dz, *fx_dx;	/* (Z + H), (W, I) */
	int64_t *fx_da;		/* (steps, 4H) gate gradients summed over a window's uses */
	/* float */
	struct fl_act *la;
	double *fl_x;		/* (maxcand, steps, I) inputs as double */
	double *fl_z, *fl_u, *fl_logit, *fl_dlogit, *fl_dz, *fl_dx;
};

void lstm_scratch_init(struct lstm_scratch *s, const struct lstm_net *net, int maxcand);
void lstm_scratch_release(struct lstm_scratch *s);

/*
 * scratch_loss_q12 - the log-loss (cross-entropy of the label) of the
 * scores in s (fixed: s->logit; float: s->fl_logit, rounded) in Q.12
 */
int32_t scratch_loss_q12(const struct lstm_scratch *s, int fixed, int n, int label);
/*
 * One decision in the fixed path (model/lstm-fixed.c): x (ncand, K, I) and
 * st (ncand, S) normalised Q3.12.  Scores go to s->logit.  With g non-NULL
 * and label >= 0, gradients are added to g (Q.36) and the loss (Q.12) is
 * returned.
 */
int32_t fx_decision(struct lstm_scratch *s, int64_t *g, const q3_12_t *w,
		    const struct lstm_net *net, const q3_12_t *x, const q3_12_t *st, int ncand,
		    int label);
/* fx_sequence - one sequence decision: ids (W), gaps (W) normalised Q3.12 */
int32_t fx_sequence(struct lstm_scratch *s, int64_t *g, const q3_12_t *w,
		    const struct lstm_net *net, const int32_t *ids, const q3_12_t *gaps, int label);
/* The same in double (model/lstm-float.c); scores in s->fl_logit, loss in nats */
double fl_decision(struct lstm_scratch *s, double *g, const double *w,
		   const struct lstm_net *net, const q3_12_t *x, const q3_12_t *st, int ncand,
		   int label);
double fl_sequence(struct lstm_scratch *s, double *g, const double *w,
		   const struct lstm_net *net, const int32_t *ids, const q3_12_t *gaps, int label);

/* ---- models in memory (model/model.c) ------------------------------------ */

struct lstm_model {
	struct lstm_net net;
	struct lstm_norm norm;
	q3_12_t *wq;		/* (P) Q3.12: fixed models */
	double *wf;		/* (P): float models */
	char **ep_names, **state_names;	/* (E), (S) */
	int8_t *ep_frac, *state_frac;
	int seq_gap_frac;
	char **vocab;		/* (V), sequence mode */
	int64_t gate_lx, gate_lh, gate_lb;	/* fixed: lstm_net_gate_bounds() */
	int head_i32;		/* fixed: lstm_net_head_i32_safe() */
	/* fixed: ((I+R+1)/2, 4H, 2) [W_x W_h[:, 0:R]] in pairs of columns, Q3.12 */
	int16_t *wpack;
};

/*
 * The inference paths behind lstm_predict(): lstm-fixed.c and lstm-float.c.
 * *_encode_raw: a raw (K, E) window -> the LSTM's last hidden state (H);
 * *_score_raw: that state + the raw (S) state features -> the score.
 */
void fx_encode_raw(const struct lstm_model *m, const int16_t *window, q3_12_t *h);
/*
 * fxv_gate_sums, fxv_gate_sums64 - the gate sums (4H) in int32, or in int64
 * clamped to int32; W_h (4H, H) is read in its first R columns (the others
 * are zero: the recurrent width)
 */
void fxv_gate_sums(int32_t *acc, const q3_12_t *wx, const q3_12_t *wh, const q3_12_t *b,
		   const q3_12_t *x, const q3_12_t *h, int I, int H, int R);
void fxv_gate_sums64(int32_t *acc, const q3_12_t *wx, const q3_12_t *wh, const q3_12_t *b,
		     const q3_12_t *x, const q3_12_t *h, int I, int H, int R);
/* fxv_encode_raw - the same, bit for bit, with int32 sums for the vector unit (encode-vec.c) */
void fxv_encode_raw(const struct lstm_model *m, const int16_t *window, q3_12_t *h);
/*
 * fxv_step_raw - one step of that encoder: (h, c) (H each, Q3.12, updated
 * in place) <- step(h, c, x) for one raw (E) episode row.  fxv_encode_raw()
 * is K of them from zeros; a stateful model's per-task state takes one per
 * completed episode (model/stateful.c), so the two cannot drift apart.
 */
void fxv_step_raw(const struct lstm_model *m, q3_12_t *h, q3_12_t *c, const int16_t *row);
/* fxv_score_raw - fx_score_raw() with int32 sums when m->head_i32 */
int32_t fxv_score_raw(const struct lstm_model *m, const q3_12_t *h, const int16_t *state);
/* lstm_net_head_i32_safe - 1 when no head layer-1 sum can overflow int32 (|z| <= 32768) */
int lstm_net_head_i32_safe(const struct lstm_net *net, const q3_12_t *w);
/* fxv_pack - m->wpack from m->wq (allocates; freed by lstm_model_release) */
void fxv_pack(struct lstm_model *m);
/*
 * lstm_net_gate_bounds - the largest row L1 norms of W_x and W_h (raw Q3.12
 * units) and the largest 4096 |b|: a gate sum is at most
 * lx max|x| + lh max|h| + lb.
 */
void lstm_net_gate_bounds(const struct lstm_net *net, const q3_12_t *w, int64_t *lx,
			  int64_t *lh, int64_t *lb);
int32_t fx_score_raw(const struct lstm_model *m, const q3_12_t *h, const int16_t *state);
void fl_encode_raw(const struct lstm_model *m, const int16_t *window, double *h);
/* fl_step_raw - one step of fl_encode_raw()'s encoder on (h, c), as fxv_step_raw() */
void fl_step_raw(const struct lstm_model *m, double *h, double *c, const int16_t *row);
double fl_score_raw(const struct lstm_model *m, const double *h, const int16_t *state);
/* fl_to_q12 - a double score in Q3.12 units, rounded, kept within int32 */
int32_t fl_to_q12(double s);
int fx_predict_seq(const struct lstm_model *m, const int32_t *ids, const int16_t *gaps,
		   int32_t *scores);
int fl_predict(const struct lstm_model *m, const int16_t *window, const int16_t *state,
	       int ncand, int32_t *scores);
int fl_predict_seq(const struct lstm_model *m, const int32_t *ids, const int16_t *gaps,
		   int32_t *scores);

/*
 * lstm_model_to_file / lstm_model_from_file - between a model in memory
 * and the file's container.  to_file points into m (do not release the
 * result's tensors); from_file copies.
 */
struct ds_model;
void lstm_model_to_file(struct ds_model *f, const struct lstm_model *m);
int lstm_model_from_file(struct lstm_model *m, const struct ds_model *f, const char *path);
/*
 * lstm_model_check_init - lstm_model_check_windows() for fine-tuning the
 * model read from mpath on the windows wpath: the error line names both.
 */
int lstm_model_check_init(const struct lstm_model *m, const struct ds_windows *w,
			  const char *wpath, const char *mpath);
void lstm_model_release(struct lstm_model *m);

/*
 * lstm_cache_encode - the encoder's output for window through cache c: hq
 * (H, Q3.12) for a fixed model, hf (H) for a float one
 */
void lstm_cache_encode(struct lstm_cache *c, const int16_t *window, q3_12_t *hq, double *hf);

/*
 * lstm_tasks_hx - task's encoder output from t into hq (H, Q3.12; fixed
 * models) or hf (H; float models), zeros for a task that never stepped
 */
void lstm_tasks_hx(const struct lstm_tasks *t, uint32_t task, q3_12_t *hq, double *hf);

/* ---- the encoder cache of a training batch (model/batch-cache.c) --------- */

/*
 * struct batch_cache - the distinct candidate windows of a chunk of a batch,
 * each encoded once, and the gradient slots of their uses.  One allocation,
 * sized at init: at most cap_win windows and cap_slot candidates a chunk.
 */
struct batch_cache {
	const struct lstm_net *net;
	int fixed;
	uint32_t cap_win, cap_slot;
	uint64_t ht_mask;		/* hash table size - 1 */
	uint32_t *ht;			/* window number + 1, 0: empty */
	uint64_t *hash;			/* (cap_win) */
	const q3_12_t **x;		/* (cap_win) each window's (K, I) normalised inputs */
	uint32_t *slot_win;		/* (cap_slot) the window of each candidate */
	uint32_t *dec_slot;		/* (cap_slot + 1) first slot of each decision */
	struct fx_act *fa;		/* (cap_win) fixed activations */
	int64_t bound[3];		/* fixed: lstm_net_gate_bounds() of the chunk's weights */
	uint32_t *win_off;		/* (cap_win + 1) fixed: first of each window's uses */
	uint32_t *win_slot;		/* (cap_slot) fixed: the slots, by window */
	q7_24_t *slot_dh;		/* (cap_slot, H) */
	struct fl_act *la;		/* (cap_win) float activations (x included) */
	double *fl_dh, *fl_slot_dh;	/* (cap_win, H), (cap_slot, H) */
	const struct ds_decision *dec;	/* the chunk: decisions dec[idx[0..n_dec)] */
	const uint64_t *idx;
	uint64_t n_dec;
	uint8_t *hit;			/* NULL, or (n_dec) top-1 hit of each decision */
	int32_t *loss;			/* NULL, or (n_dec) log-loss of each decision, Q.12 */
	uint32_t n_win, n_slot;
	uint64_t uses, encoded;		/* candidates and windows encoded so far */
	/*
	 * A stateful encoder (set by the trainer; the windows given by win_of):
	 * store row r runs its last steps[r] (0..K) rows from the carried state
	 * init_q (fixed) or init_f (float) + r * 2H, h then c, not K rows from
	 * zeros.  NULL: the windowed encoder.
	 */
	const uint8_t *steps;
	const q3_12_t *init_q;
	const double *init_f;
	uint8_t *wT;			/* (cap_win) the steps each window ran */
	void *mem;
};

void batch_cache_init(struct batch_cache *c, const struct lstm_net *net, int fixed, int maxcand,
		      uint32_t cap_win, uint32_t cap_slot);
void batch_cache_release(struct batch_cache *c);
/*
 * batch_cache_fill - start a chunk with decisions dec[idx[0..)], as many as
 * fit (at least one); xw: (n_cand, K, I) normalised windows dec's cand_off
 * index, or with win_of (n_cand), distinct windows (rows no two of which are
 * equal) and candidate c's row win_of[c]; w: the weights the chunk runs
 * with.  Returns the decisions taken (c->n_dec).
 */
uint64_t batch_cache_fill(struct batch_cache *c, const struct ds_decision *dec,
			  const uint64_t *idx, uint64_t n, const q3_12_t *xw,
			  const uint32_t *win_of, const void *w);
/* batch_cache_encode - the forward pass of window u (any thread, each u once) */
void batch_cache_encode(struct batch_cache *c, const void *w, uint32_t u);
/*
 * batch_cache_heads - the heads of the chunk's decisions [lo, hi) on
 * scratch s: top-1 hits into *correct; with g (P gradients: Q.36 int64 or
 * double), the loss into *loss_q (Q.12) or *loss_f, the head's gradients
 * into g and each candidate's dh into its slot
 */
void batch_cache_heads(struct batch_cache *c, struct lstm_scratch *s, void *g, const void *w,
		       const q3_12_t *xs, uint64_t lo, uint64_t hi, int64_t *loss_q,
		       double *loss_f, uint64_t *correct);
/*
 * batch_cache_sum - serial, after the heads: fixed, each window's slots
 * listed; float, each window's dh, the sum over its slots in slot order
 */
void batch_cache_sum(struct batch_cache *c);
/*
 * batch_cache_backward - the backward pass of window u into g, on scratch s.
 * Fixed: the recursion once per use, the weight gradients once for the sum
 * of the uses' gate gradients: the same bits as a backward pass per use
 * (fxv_lstm_backward_grad()).  Float: once, on the sum of the uses' dh.
 */
void batch_cache_backward(struct batch_cache *c, struct lstm_scratch *s, void *g, const void *w,
			  uint32_t u);

/* ---- training (model/train.c) ------------------------------------------- */

/*
 * Below this many validation decisions the choice of epoch is noise (a 95%
 * interval of +-5.7 points at 300 decisions and 50%): the kept weights are
 * then those of the lowest validation log-loss, which moves with every
 * decision's confidence, not by whole decisions, and train warns.  The
 * training split is not cut to make up the difference: its end, the nearest
 * in time to the test split, is what a model can least do without (man
 * schedcast-train).
 */
#define LSTM_FEW_VAL 300

#define LSTM_DEFAULT_RUN 1	/* train --batch-run */
#define LSTM_LEGACY_RUN 8	/* the default when model files did not record it */
#define LSTM_RUN_CKPT (-1)

struct lstm_train_opts {
	const char *out;		/* model.h5 */
	const char *windows_path;
	int hidden, head, embed;	/* H, M, D */
	int recurrent;			/* R: the first R units of h feed the gates (0: H) */
	int epochs, batch, threads, patience;
	int linear_epochs;		/* the linear stage's epochs at most (0: none) */
	const char *linear_out;		/* NULL, or where to write the linear stage alone */
	int arith;			/* enum lstm_arith */
	int encoder;			/* candidates mode: enum lstm_encoder */
	uint64_t seed;
	double lr;
	int resume;
	const char *init;		/* fine-tune: start from this model's weights and normalisation */
	uint64_t buffer;		/* bytes of the shuffle buffer when streaming, 0: default */
	int run;			/* candidates mode: a batch is runs of this many consecutive
					   decisions (0: 1); with resume, LSTM_RUN_CKPT: the
					   checkpoint's (LSTM_LEGACY_RUN if it does not say) */
	int progress;			/* draw a progress line on stderr */
	int verbose;			/* a line per epoch on stderr */
	const volatile int *stop;	/* set by a signal: finish the epoch's checkpoint, stop */
	const char *command_line;
};

struct lstm_train_result {
	int epochs_run;			/* epochs in the curve */
	int best_epoch;			/* 1-based, 0 if none or the linear stage's */
	int linear_epochs;		/* epochs of the linear stage run */
	double linear_val_top1;		/* its best validation top-1, -1 if none */
	int residual_kept;		/* 1: the LSTM and head beat the linear path */
	/*
	 * The last epoch that beat the linear stage on validation, but not by
	 * more than chance (0: none): its top-1, and the validation decisions
	 * it got right and the linear stage wrong (won), and the reverse
	 */
	int unsure_epoch;
	double unsure_val_top1;
	uint64_t unsure_won, unsure_lost;
	/*
	 * by_loss: fewer than LSTM_FEW_VAL validation decisions, the kept
	 * weights chosen by their validation log-loss (nats a decision): the
	 * linear stage's (linear_loss) and the LSTM's lowest while the linear
	 * stage was the kept one (lstm_loss, at epoch loss_epoch; 0: none)
	 */
	int by_loss;
	double linear_loss, lstm_loss;
	int loss_epoch;
	double best_val_top1;		/* fraction, -1 when there is no validation data */
	double last_loss;
	int interrupted;
	int early_stopped;
	double decisions_per_s;
	uint64_t train_decisions, val_decisions;
	double init_val_top1;		/* --init: the initial model on validation, -1: none */
	uint64_t cache_uses, cache_encoded;	/* candidate windows used, and encoded */
};

/*
 * lstm_train - train on w and write opts->out each epoch.  0 or -1 (printed).
 * A candidates-mode w without decisions (a ds_windows_header()) makes it
 * stream opts->windows_path in blocks, in memory bounded by its shuffle
 * buffer.
 */
int lstm_train(const struct ds_windows *w, const struct lstm_train_opts *opts,
	       struct lstm_train_result *res);

/*
 * struct lstm_cache (model/lstm.h) - here so that the unit tests can read its
 * counters: lookups that hit and that had to encode.
 */
struct lstm_cache {
	const struct lstm_model *m;
	unsigned sets;		/* power of two; 2 ways each */
	size_t win;		/* K * E */
	uint64_t *key;		/* (sets * 2) window hash, 0 = empty */
	uint8_t *lru;		/* (sets) the way to replace next */
	int16_t *wins;		/* (sets * 2, K * E) the windows themselves */
	q3_12_t *hq;		/* (sets * 2, H) fixed models */
	double *hf;		/* (sets * 2, H) float models */
	uint64_t hits, misses;
};

#endif /* SC_MODEL_LOCAL_H */
