// SPDX-License-Identifier: GPL-2.0
/*
 * Online adaptation: after a decision has been scored, one training step on
 * it (test, then train: the prequential protocol of streaming learning, the
 * way the Markov baselines learn on every decision they score).
 *
 * The step trains the head and the linear path only; the encoder is frozen.
 * That is what drifts (which task follows which, how the state features
 * rank), it costs O(M (H + S)) per candidate instead of a backward pass
 * through K LSTM steps, and it keeps the encoder cache valid: a window's
 * encoding never changes, so eval and live keep their bit-identical cache.
 * Adam as in training (integer in a fixed-point model), batch of one, its
 * own moments started at zero.
 */
#include <stdlib.h>
#include <string.h>

#include "model/model-local.h"

struct lstm_online {
	struct lstm_model *m;
	struct lstm_cache *cache;
	size_t lo, hi;		/* the trained range of the flat vector: head and linear path */
	/* fixed */
	int64_t *gq;		/* (P) Q.36 */
	struct fx_adam fxo;
	q3_12_t *z, *u;		/* (LSTM_MAX_CAND, Z), (LSTM_MAX_CAND, M) */
	int32_t *logit;
	q7_24_t *dlogit, *dz;
	/* float */
	double *gf;
	struct fl_adam flo;
	double *zf, *uf, *logitf, *dlogitf, *dzf;
	void *mem;
	uint64_t steps;
};

struct lstm_online *lstm_online_new(struct lstm_model *m, double lr)
{
	const struct lstm_net *net = &m->net;
	size_t P = net->P, Z = (size_t)net->Z, M = (size_t)net->sh.M, C = LSTM_MAX_CAND;
	struct lstm_online *o;

	if (net->sh.mode != DS_WIN_CANDIDATES || !(lr > 0 && lr < 1))
		return NULL;
	o = xcalloc(1, sizeof(*o));
	o->m = m;
	o->cache = lstm_cache_new(m, 4096);
	o->lo = net->off[LT_W1];
	o->hi = net->off[LT_WL] + net->rows[LT_WL];
	if (net->sh.arith == LSTM_FIXED) {
		o->gq = xcalloc(P, sizeof(*o->gq));
		o->fxo.master = xcalloc(P, sizeof(*o->fxo.master));
		o->fxo.m = xcalloc(P, sizeof(*o->fxo.m));
		o->fxo.v = xcalloc(P, sizeof(*o->fxo.v));
		o->fxo.lr_q32 = (uint64_t)(lr * 4294967296.0 + 0.5);
		fx_master_from_q12(o->fxo.master, m->wq, P);
		o->z = xcalloc(C * Z, sizeof(*o->z));
		o->u = xcalloc(C * M, sizeof(*o->u));
		o->logit = xcalloc(C, sizeof(*o->logit));
		o->dlogit = xcalloc(C, sizeof(*o->dlogit));
		o->dz = xcalloc(Z, sizeof(*o->dz));
	} else {
		o->gf = xcalloc(P, sizeof(*o->gf));
		o->flo.m = xcalloc(P, sizeof(double));
		o->flo.v = xcalloc(P, sizeof(double));
		o->flo.lr = lr;
		o->zf = xcalloc(C * Z, sizeof(double));
		o->uf = xcalloc(C * M, sizeof(double));
		o->logitf = xcalloc(C, sizeof(double));
		o->dlogitf = xcalloc(C, sizeof(double));
		o->dzf = xcalloc(Z, sizeof(double));
	}
	return o;
}

void lstm_online_free(struct lstm_online *o)
{
	if (!o)
		return;
	lstm_cache_free(o->cache);
	free(o->gq), free(o->fxo.master), free(o->fxo.m), free(o->fxo.v);
	free(o->z), free(o->u), free(o->logit), free(o->dlogit), free(o->dz);
	free(o->gf), free(o->flo.m), free(o->flo.v);
	free(o->zf), free(o->uf), free(o->logitf), free(o->dlogitf), free(o->dzf);
	free(o);
}

struct lstm_cache *lstm_online_cache(struct lstm_online *o)
{
	return o->cache;
}

/*
 * Adam over [lo, hi) only: the encoder's weights are not touched (their
 * gradients are zero, and skipping them keeps a step O(head)).
 */
static int online_step(struct lstm_online *o, const int16_t *window, const struct lstm_tasks *t,
		       const struct ds_candidate *cand, const int16_t *state, int ncand, int label)
{
	struct lstm_model *m = o->m;
	const struct lstm_net *net = &m->net;
	int H = net->sh.H, E = net->sh.E, S = net->sh.S, Z = net->Z, M = net->sh.M;
	size_t KE = (size_t)net->sh.K * E, n = o->hi - o->lo;

	if (ncand < 2 || ncand > LSTM_MAX_CAND || label < 0 || label >= ncand)
		return 0;
	if (net->sh.arith == LSTM_FIXED) {
		for (int j = 0; j < ncand; j++) {
			q3_12_t *z = o->z + (size_t)j * Z;

			if (t)
				lstm_tasks_hx(t, cand[j].task, z, NULL);
			else
				lstm_cache_encode(o->cache, window + j * KE, z, NULL);
			for (int k = 0; k < S; k++)
				z[H + k] = lstm_norm_apply(&m->norm, E + k, state[(size_t)j * S + k]);
			o->logit[j] = fx_head_forward(o->u + (size_t)j * M, z, m->wq, net);
		}
		fx_softmax_xent(o->dlogit, o->logit, ncand, label);
		memset(o->gq + o->lo, 0, n * sizeof(*o->gq));
		for (int j = 0; j < ncand; j++)
			fx_head_backward(o->gq, o->dz, o->dlogit[j], o->u + (size_t)j * M,
					 o->z + (size_t)j * Z, m->wq, net);
		o->fxo.master += o->lo, o->fxo.m += o->lo, o->fxo.v += o->lo;
		fx_adam_step(&o->fxo, m->wq + o->lo, o->gq + o->lo, n, 1);
		o->fxo.master -= o->lo, o->fxo.m -= o->lo, o->fxo.v -= o->lo;
		m->head_i32 = lstm_net_head_i32_safe(net, m->wq);
	} else {
		for (int j = 0; j < ncand; j++) {
			double *z = o->zf + (size_t)j * Z;

			if (t)
				lstm_tasks_hx(t, cand[j].task, NULL, z);
			else
				lstm_cache_encode(o->cache, window + j * KE, NULL, z);
			for (int k = 0; k < S; k++)
				z[H + k] = lstm_norm_apply(&m->norm, E + k,
							   state[(size_t)j * S + k]) / 4096.0;
			o->logitf[j] = fl_head_forward(o->uf + (size_t)j * M, z, m->wf, net);
		}
		fl_softmax_xent(o->dlogitf, o->logitf, ncand, label);
		memset(o->gf + o->lo, 0, n * sizeof(*o->gf));
		for (int j = 0; j < ncand; j++)
			fl_head_backward(o->gf, o->dzf, o->dlogitf[j], o->uf + (size_t)j * M,
					 o->zf + (size_t)j * Z, m->wf, net);
		o->flo.m += o->lo, o->flo.v += o->lo;
		fl_adam_step(&o->flo, m->wf + o->lo, o->gf + o->lo, n, 1);
		o->flo.m -= o->lo, o->flo.v -= o->lo;
	}
	o->steps++;
	return 1;
}

int lstm_online_step(struct lstm_online *o, const int16_t *window, const int16_t *state,
		     int ncand, int label)
{
	if (o->m->net.sh.encoder != LSTM_ENC_WINDOW)
		return 0;
	return online_step(o, window, NULL, NULL, state, ncand, label);
}

int lstm_online_step_tasks(struct lstm_online *o, const struct lstm_tasks *t,
			   const struct ds_candidate *cand, const int16_t *state, int ncand,
			   int label)
{
	if (o->m->net.sh.encoder != LSTM_ENC_STATEFUL || !t)
		return 0;
	return online_step(o, NULL, t, cand, state, ncand, label);
}
