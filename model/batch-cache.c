// SPDX-License-Identifier: GPL-2.0
/*
 * The encoder cache of a training batch (candidates mode).
 *
 * A task waiting on a busy CPU is a candidate of every decision until it
 * runs, with the same window each time: on a trace with 70 candidates a
 * decision, a run of 8 consecutive decisions holds about 60 distinct
 * windows for 560 candidates.  The weights do not change within a batch,
 * so each distinct window is encoded once, the heads of its decisions read
 * that one hidden state, and the gradients of all its uses are summed into
 * one dh before the one backward pass through the LSTM.
 *
 * What runs where does not depend on the number of threads: the windows are
 * numbered in the order the batch meets them (serial, batch_cache_fill());
 * only the encoder passes, the heads and the backward passes are split
 * between threads, and their weight gradients are integer sums in the fixed
 * path.  The fixed path therefore stays bit-identical for any thread count.
 *
 * It is also bit-identical to training decision by decision: the recursion
 * through time runs once per use (its roundings depend on each use's dh),
 * only the weight gradients, exact sums of products of a gate gradient and
 * an input, are taken once for the sum of the uses' gate gradients.  The
 * float path sums the uses' dh (serial, in slot order, batch_cache_sum())
 * and runs one backward pass per window: the same up to rounding.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model-local.h"

#define W(net, w, t) ((w) + (net)->off[t])

static size_t align16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

void batch_cache_init(struct batch_cache *c, const struct lstm_net *net, int fixed, int maxcand,
		      uint32_t cap_win, uint32_t cap_slot)
{
	int K = net->sh.K, H = net->sh.H, I = net->I;
	size_t per_q = (size_t)(K + 1) * H * 2 + (size_t)K * 4 * H + (size_t)K * H;
	size_t bytes = 0;
	char *p;

	memset(c, 0, sizeof(*c));
	c->net = net;
	c->fixed = fixed;
	c->cap_win = SC_MAX(cap_win, (uint32_t)maxcand);
	c->cap_slot = SC_MAX(cap_slot, (uint32_t)maxcand);
	for (c->ht_mask = 1; c->ht_mask < 2 * (uint64_t)c->cap_win; c->ht_mask <<= 1)
		;
	c->ht_mask--;
	bytes += align16((c->ht_mask + 1) * sizeof(uint32_t));
	bytes += align16(c->cap_win * sizeof(uint64_t));		/* hash */
	bytes += align16(c->cap_win * sizeof(q3_12_t *));		/* x */
	bytes += align16(c->cap_slot * sizeof(uint32_t));		/* slot_win */
	bytes += align16((c->cap_slot + 1) * sizeof(uint32_t));	/* dec_slot */
	bytes += align16(c->cap_win);				/* wT */
	if (fixed) {
		bytes += align16(c->cap_win * sizeof(struct fx_act));
		bytes += align16(c->cap_win * per_q * sizeof(q3_12_t));
		bytes += align16((c->cap_win + 1) * sizeof(uint32_t));	/* win_off */
		bytes += align16(c->cap_slot * sizeof(uint32_t));		/* win_slot */
		bytes += align16((size_t)c->cap_slot * H * sizeof(q7_24_t));	/* slot dh */
	} else {
		bytes += align16(c->cap_win * sizeof(struct fl_act));
		bytes += align16(c->cap_win * (per_q + (size_t)K * I) * sizeof(double));
		bytes += align16((size_t)c->cap_win * H * sizeof(double));
		bytes += align16((size_t)c->cap_slot * H * sizeof(double));
	}
	c->mem = p = xcalloc(1, bytes);
#define TAKE(dst, n, type) do { dst = (type *)(void *)p; p += align16((size_t)(n) * sizeof(type)); } while (0)
	TAKE(c->ht, c->ht_mask + 1, uint32_t);
	TAKE(c->hash, c->cap_win, uint64_t);
	TAKE(c->x, c->cap_win, const q3_12_t *);
	TAKE(c->slot_win, c->cap_slot, uint32_t);
	TAKE(c->dec_slot, c->cap_slot + 1, uint32_t);
	TAKE(c->wT, c->cap_win, uint8_t);
	if (fixed) {
		q3_12_t *q;

		TAKE(c->fa, c->cap_win, struct fx_act);
		TAKE(q, c->cap_win * per_q, q3_12_t);
		for (uint32_t u = 0; u < c->cap_win; u++) {
			c->fa[u].h = q, q += (size_t)(K + 1) * H;
			c->fa[u].c = q, q += (size_t)(K + 1) * H;
			c->fa[u].gate = q, q += (size_t)K * 4 * H;
			c->fa[u].tc = q, q += (size_t)K * H;
		}
		TAKE(c->win_off, c->cap_win + 1, uint32_t);
		TAKE(c->win_slot, c->cap_slot, uint32_t);
		TAKE(c->slot_dh, (size_t)c->cap_slot * H, q7_24_t);
	} else {
		double *d;

		TAKE(c->la, c->cap_win, struct fl_act);
		TAKE(d, c->cap_win * (per_q + (size_t)K * I), double);
		for (uint32_t u = 0; u < c->cap_win; u++) {
			c->la[u].x = d, d += (size_t)K * I;
			c->la[u].h = d, d += (size_t)(K + 1) * H;
			c->la[u].c = d, d += (size_t)(K + 1) * H;
			c->la[u].gate = d, d += (size_t)K * 4 * H;
			c->la[u].tc = d, d += (size_t)K * H;
		}
		TAKE(c->fl_dh, (size_t)c->cap_win * H, double);
		TAKE(c->fl_slot_dh, (size_t)c->cap_slot * H, double);
	}
#undef TAKE
}

void batch_cache_release(struct batch_cache *c)
{
	free(c->mem);
	memset(c, 0, sizeof(*c));
}

/*
 * row_id - window_id() for a store of distinct windows: row r of xw, which
 * equals no other row, keyed by r alone (the same numbers, no hashing)
 */
static uint32_t row_id(struct batch_cache *c, const q3_12_t *xw, uint32_t r)
{
	uint64_t h = (r + 1) * 0x9e3779b97f4a7c15ULL;

	for (uint64_t i = (h >> 32) & c->ht_mask;; i = (i + 1) & c->ht_mask) {
		uint32_t e = c->ht[i];

		if (!e) {
			c->ht[i] = c->n_win + 1;
			c->hash[c->n_win] = r;
			c->x[c->n_win] = xw + (size_t)r * c->net->sh.K * c->net->I;
			return c->n_win++;
		}
		if (c->hash[e - 1] == r)
			return e - 1;
	}
}

/* window_id - the number of window x in the cache, added if new */
static uint32_t window_id(struct batch_cache *c, const q3_12_t *x)
{
	size_t n = (size_t)c->net->sh.K * c->net->I;
	uint64_t h = fx_window_hash(x, n);

	for (uint64_t i = h & c->ht_mask;; i = (i + 1) & c->ht_mask) {
		uint32_t e = c->ht[i];

		if (!e) {
			c->ht[i] = c->n_win + 1;
			c->hash[c->n_win] = h;
			c->x[c->n_win] = x;
			return c->n_win++;
		}
		if (c->hash[e - 1] == h && !memcmp(c->x[e - 1], x, n * sizeof(*x)))
			return e - 1;
	}
}

uint64_t batch_cache_fill(struct batch_cache *c, const struct ds_decision *dec,
			  const uint64_t *idx, uint64_t n, const q3_12_t *xw,
			  const uint32_t *win_of, const void *w)
{
	size_t KI = (size_t)c->net->sh.K * c->net->I;
	uint64_t i;

	if (c->fixed)
		lstm_net_gate_bounds(c->net, w, &c->bound[0], &c->bound[1], &c->bound[2]);

	memset(c->ht, 0, (c->ht_mask + 1) * sizeof(*c->ht));
	c->n_win = c->n_slot = 0;
	c->dec = dec;
	c->idx = idx;
	for (i = 0; i < n; i++) {
		const struct ds_decision *d = &dec[idx[i]];
		uint32_t nc = (uint32_t)d->ncand;

		/* the worst case, every candidate new, must fit */
		if (i && (c->n_win + nc > c->cap_win || c->n_slot + nc > c->cap_slot ||
			  i >= c->cap_slot))
			break;
		c->dec_slot[i] = c->n_slot;
		for (uint32_t j = 0; j < nc; j++)
			c->slot_win[c->n_slot + j] =
				win_of ? row_id(c, xw, win_of[d->cand_off + j])
				       : window_id(c, xw + (d->cand_off + j) * KI);
		c->n_slot += nc;
	}
	c->n_dec = i;
	c->uses += c->n_slot;
	c->encoded += c->n_win;
	return i;
}

void batch_cache_encode(struct batch_cache *c, const void *w, uint32_t u)
{
	const struct lstm_net *net = c->net;
	int K = net->sh.K, H = net->sh.H, I = net->I, T = K;
	uint64_t r = c->hash[u];	/* with steps: the store's row (row_id()) */

	if (c->steps)
		T = SC_MIN((int)c->steps[r], K);
	c->wT[u] = (uint8_t)T;
	if (c->fixed) {
		struct fx_act *a = &c->fa[u];

		a->x = c->x[u] + (size_t)(K - T) * I;
		if (!c->steps) {
			fxv_lstm_forward(a, w, net, K, c->bound);
			return;
		}
		memcpy(a->h, c->init_q + r * 2 * H, sizeof(*a->h) * H);
		memcpy(a->c, c->init_q + r * 2 * H + H, sizeof(*a->c) * H);
		fxv_lstm_forward_from(a, w, net, T, c->bound);
	} else {
		struct fl_act *a = &c->la[u];
		double *xd = (double *)a->x;
		const q3_12_t *x = c->x[u] + (size_t)(K - T) * I;

		for (int k = 0; k < T * I; k++)
			xd[k] = x[k] / 4096.0;
		if (!c->steps) {
			fl_lstm_forward(a, w, net, K);
			return;
		}
		memcpy(a->h, c->init_f + r * 2 * H, sizeof(*a->h) * H);
		memcpy(a->c, c->init_f + r * 2 * H + H, sizeof(*a->c) * H);
		fl_lstm_forward_from(a, w, net, T);
	}
}

int32_t scratch_loss_q12(const struct lstm_scratch *s, int fixed, int n, int label)
{
	if (fixed)
		return fx_softmax_xent(NULL, s->logit, n, label);
	return fx_sat32(llround(fl_softmax_xent(NULL, s->fl_logit, n, label) * 4096.0));
}

void batch_cache_heads(struct batch_cache *c, struct lstm_scratch *s, void *g, const void *w,
		      const q3_12_t *xs, uint64_t lo, uint64_t hi, int64_t *loss_q, double *loss_f,
		      uint64_t *correct)
{
	const struct lstm_net *net = c->net;
	int H = net->sh.H, S = net->sh.S, Z = net->Z, M = net->sh.M;
	uint32_t slot = c->dec_slot[lo];

	for (uint64_t i = lo; i < hi; i++) {
		const struct ds_decision *d = &c->dec[c->idx[i]];
		const q3_12_t *st = xs + d->cand_off * (uint64_t)S;
		int n = d->ncand, best = 0, train = g && d->label >= 0 && d->label < n;

		for (int j = 0; j < n; j++) {
			uint32_t u = c->slot_win[slot + (uint32_t)j];

			if (c->fixed) {
				q3_12_t *z = s->fx_z + (size_t)j * Z;

				memcpy(z, c->fa[u].h + (size_t)c->wT[u] * H, sizeof(*z) * H);
				memcpy(z + H, st + (size_t)j * S, sizeof(*z) * S);
				s->logit[j] = fx_head_forward(s->fx_u + (size_t)j * M, z, w, net);
			} else {
				double *z = s->fl_z + (size_t)j * Z;

				memcpy(z, c->la[u].h + (size_t)c->wT[u] * H, sizeof(*z) * H);
				for (int k = 0; k < S; k++)
					z[H + k] = st[(size_t)j * S + k] / 4096.0;
				s->fl_logit[j] = fl_head_forward(s->fl_u + (size_t)j * M, z, w, net);
			}
		}
		for (int j = 1; j < n; j++)
			if (c->fixed ? s->logit[j] > s->logit[best] : s->fl_logit[j] > s->fl_logit[best])
				best = j;
		*correct += best == d->label;
		if (c->hit)
			c->hit[i] = best == d->label;
		if (c->loss)
			c->loss[i] = scratch_loss_q12(s, c->fixed, n, d->label);
		if (train && c->fixed) {
			*loss_q += fx_softmax_xent(s->dlogit, s->logit, n, d->label);
			for (int j = 0; j < n; j++) {
				fx_head_backward(g, s->fx_dz, s->dlogit[j], s->fx_u + (size_t)j * M,
						 s->fx_z + (size_t)j * Z, w, net);
				memcpy(c->slot_dh + (size_t)(slot + j) * H, s->fx_dz,
				       sizeof(q7_24_t) * H);
			}
		} else if (train) {
			*loss_f += fl_softmax_xent(s->fl_dlogit, s->fl_logit, n, d->label);
			for (int j = 0; j < n; j++) {
				fl_head_backward(g, s->fl_dz, s->fl_dlogit[j],
						 s->fl_u + (size_t)j * M, s->fl_z + (size_t)j * Z, w,
						 net);
				memcpy(c->fl_slot_dh + (size_t)(slot + j) * H, s->fl_dz,
				       sizeof(double) * H);
			}
		} else if (g) {
			/* no gradient from this decision: its slots add nothing */
			if (c->fixed)
				memset(c->slot_dh + (size_t)slot * H, 0, sizeof(q7_24_t) * H * n);
			else
				memset(c->fl_slot_dh + (size_t)slot * H, 0, sizeof(double) * H * n);
		}
		slot += (uint32_t)n;
	}
}

void batch_cache_sum(struct batch_cache *c)
{
	int H = c->net->sh.H;

	if (c->fixed) {
		/* a counting sort of the slots by window */
		memset(c->win_off, 0, sizeof(*c->win_off) * (c->n_win + 1));
		for (uint32_t k = 0; k < c->n_slot; k++)
			c->win_off[c->slot_win[k] + 1]++;
		for (uint32_t u = 0; u < c->n_win; u++)
			c->win_off[u + 1] += c->win_off[u];
		for (uint32_t k = 0; k < c->n_slot; k++)
			c->win_slot[c->win_off[c->slot_win[k]]++] = k;
		/* each win_off[u] is now the end of u's slots: shift back */
		memmove(c->win_off + 1, c->win_off, sizeof(*c->win_off) * c->n_win);
		c->win_off[0] = 0;
	} else {
		memset(c->fl_dh, 0, sizeof(*c->fl_dh) * H * c->n_win);
		for (uint32_t k = 0; k < c->n_slot; k++) {
			double *acc = c->fl_dh + (size_t)c->slot_win[k] * H;
			const double *v = c->fl_slot_dh + (size_t)k * H;

			for (int h = 0; h < H; h++)
				acc[h] += v[h];
		}
	}
}

void batch_cache_backward(struct batch_cache *c, struct lstm_scratch *s, void *g, const void *w,
			  uint32_t u)
{
	const struct lstm_net *net = c->net;
	int K = c->wT[u], H = net->sh.H, used = 0;

	if (!c->fixed) {
		fl_lstm_backward(g, NULL, c->fl_dh + (size_t)u * H, &c->la[u], w, net, K);
		return;
	}
	for (uint32_t k = c->win_off[u]; k < c->win_off[u + 1]; k++) {
		const q7_24_t *v = c->slot_dh + (size_t)c->win_slot[k] * H;
		q7_24_t dh[LSTM_MAX_HIDDEN];
		int any = 0;

		for (int h = 0; h < H; h++)
			any |= v[h] != 0;
		if (!any)	/* no gradient from this use */
			continue;
		if (!used++)
			memset(s->fx_da, 0, sizeof(*s->fx_da) * K * 4 * H);
		memcpy(dh, v, sizeof(*dh) * H);
		fxv_lstm_backward_da(s->fx_da, dh, &c->fa[u], w, net, K);
	}
	if (used)
		fxv_lstm_backward_grad(g, s->fx_da, &c->fa[u], net, K);
}
