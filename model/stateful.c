// SPDX-License-Identifier: GPL-2.0
/*
 * The stateful encoder (model/lstm.h, struct lstm_tasks): one LSTM step per
 * completed episode of a task, (h, c) carried per task.  The step is the
 * windowed encoder's own (fxv_step_raw(), fl_step_raw()), so a task with n
 * completed episodes has exactly the state of n steps from zeros over them,
 * with no padding steps.
 */
#include <stdlib.h>
#include <string.h>

#include "model/model-local.h"

/*
 * The entries live in a pool indexed through an open-addressing table of
 * task ids (linear probing, backward-shift deletion), so that memory follows
 * the tasks alive now, not every task id ever seen: lstm_tasks_forget() gives
 * a task's entry back when features/ retires it (feat_take_retired()).
 */
struct lstm_tasks {
	const struct lstm_model *m;
	size_t stride;		/* bytes per task */
	size_t hc_off;		/* where h starts in an entry */
	uint64_t *key;		/* (cap) task id + 1, 0 for an empty slot */
	uint32_t *slot;		/* (cap) its entry in pool */
	uint64_t cap, n;	/* a power of two; entries in use */
	unsigned char *pool;	/* (pool_n, stride) */
	uint32_t pool_n, pool_alloc;
	uint32_t *spare;	/* (n_spare) pool entries given back */
	uint32_t n_spare, spare_alloc;
};

struct lstm_tasks *lstm_tasks_new(const struct lstm_model *m)
{
	struct lstm_tasks *t;
	size_t H = (size_t)m->net.sh.H;

	if (m->net.sh.mode != DS_WIN_CANDIDATES || m->net.sh.encoder != LSTM_ENC_STATEFUL)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->m = m;
	t->hc_off = 8;
	t->stride = t->hc_off + 2 * H * (m->net.sh.arith == LSTM_FIXED ? sizeof(q3_12_t)
								     : sizeof(double));
	t->stride = (t->stride + 7) & ~(size_t)7;
	t->cap = 1024;
	t->key = xcalloc(t->cap, sizeof(*t->key));
	t->slot = xcalloc(t->cap, sizeof(*t->slot));
	return t;
}

void lstm_tasks_reset(struct lstm_tasks *t)
{
	memset(t->key, 0, t->cap * sizeof(*t->key));
	t->n = 0;
	t->pool_n = 0;
	t->n_spare = 0;
}

void lstm_tasks_free(struct lstm_tasks *t)
{
	if (!t)
		return;
	free(t->key);
	free(t->slot);
	free(t->pool);
	free(t->spare);
	free(t);
}

static uint64_t task_hash(uint32_t task, uint64_t cap)
{
	return ((uint64_t)task * 0x9e3779b97f4a7c15ull >> 32) & (cap - 1);
}

/* the table position of task, or cap when it has no entry */
static uint64_t find(const struct lstm_tasks *t, uint32_t task)
{
	uint64_t k = (uint64_t)task + 1;

	for (uint64_t i = task_hash(task, t->cap);; i = (i + 1) & (t->cap - 1)) {
		if (t->key[i] == k)
			return i;
		if (!t->key[i])
			return t->cap;
	}
}

/* the entry of task, NULL if it has none (never stepped, or forgotten) */
static unsigned char *entry(const struct lstm_tasks *t, uint32_t task)
{
	uint64_t i = find(t, task);

	return i == t->cap ? NULL : t->pool + (size_t)t->slot[i] * t->stride;
}

static void put(struct lstm_tasks *t, uint64_t k, uint32_t slot)
{
	uint64_t i = task_hash((uint32_t)(k - 1), t->cap);

	while (t->key[i])
		i = (i + 1) & (t->cap - 1);
	t->key[i] = k;
	t->slot[i] = slot;
}

static void grow_table(struct lstm_tasks *t)
{
	uint64_t *key = t->key, cap = t->cap;
	uint32_t *slot = t->slot;

	t->cap = 2 * cap;
	t->key = xcalloc(t->cap, sizeof(*t->key));
	t->slot = xcalloc(t->cap, sizeof(*t->slot));
	for (uint64_t i = 0; i < cap; i++)
		if (key[i])
			put(t, key[i], slot[i]);
	free(key);
	free(slot);
}

/* the entry of task, a zero one (no steps, zero state) made if it had none */
static unsigned char *entry_get(struct lstm_tasks *t, uint32_t task)
{
	unsigned char *e = entry(t, task);
	uint32_t s;

	if (e)
		return e;
	if (t->n_spare) {
		s = t->spare[--t->n_spare];
	} else {
		if (t->pool_n == t->pool_alloc) {
			t->pool_alloc = t->pool_alloc ? 2 * t->pool_alloc : 256;
			t->pool = xreallocarray(t->pool, t->pool_alloc, t->stride);
		}
		s = t->pool_n++;
	}
	if (2 * (t->n + 1) > t->cap)
		grow_table(t);
	put(t, (uint64_t)task + 1, s);
	t->n++;
	e = t->pool + (size_t)s * t->stride;
	memset(e, 0, t->stride);
	return e;
}

void lstm_tasks_forget(struct lstm_tasks *t, uint32_t task)
{
	uint64_t i = find(t, task), j;

	if (i == t->cap)
		return;
	if (t->n_spare == t->spare_alloc) {
		t->spare_alloc = t->spare_alloc ? 2 * t->spare_alloc : 256;
		t->spare = xreallocarray(t->spare, t->spare_alloc, sizeof(*t->spare));
	}
	t->spare[t->n_spare++] = t->slot[i];
	t->n--;
	/* backward-shift deletion: no entry is left behind a hole it probed past */
	for (j = (i + 1) & (t->cap - 1); t->key[j]; j = (j + 1) & (t->cap - 1)) {
		uint64_t h = task_hash((uint32_t)(t->key[j] - 1), t->cap);

		/* j's entry stays unless i lies cyclically within [h, j) */
		if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {
			t->key[i] = t->key[j];
			t->slot[i] = t->slot[j];
			i = j;
		}
	}
	t->key[i] = 0;
}

uint64_t lstm_tasks_count(const struct lstm_tasks *t)
{
	return t->n;
}

void lstm_tasks_step(struct lstm_tasks *t, uint32_t task, const int16_t *row)
{
	unsigned char *e = entry_get(t, task);
	size_t H = (size_t)t->m->net.sh.H;
	uint32_t n;

	if (t->m->net.sh.arith == LSTM_FIXED) {
		q3_12_t *h = (q3_12_t *)(e + t->hc_off);

		fxv_step_raw(t->m, h, h + H, row);
	} else {
		double *h = (double *)(e + t->hc_off);

		fl_step_raw(t->m, h, h + H, row);
	}
	memcpy(&n, e, sizeof(n));
	if (n < UINT32_MAX)
		n++;
	memcpy(e, &n, sizeof(n));
}

uint32_t lstm_tasks_steps(const struct lstm_tasks *t, uint32_t task)
{
	const unsigned char *e = entry(t, task);
	uint32_t n = 0;

	if (e)
		memcpy(&n, e, sizeof(n));
	return n;
}

void lstm_tasks_hx(const struct lstm_tasks *t, uint32_t task, q3_12_t *hq, double *hf)
{
	const unsigned char *e = entry(t, task);
	size_t H = (size_t)t->m->net.sh.H;

	if (hq) {
		if (e)
			memcpy(hq, e + t->hc_off, H * sizeof(*hq));
		else
			memset(hq, 0, H * sizeof(*hq));
	} else {
		if (e)
			memcpy(hf, e + t->hc_off, H * sizeof(*hf));
		else
			memset(hf, 0, H * sizeof(*hf));
	}
}

int lstm_predict_tasks(const struct lstm_model *m, const struct lstm_tasks *t,
		       const struct ds_candidate *cand, const int16_t *state, int ncand,
		       int32_t *scores)
{
	static const q3_12_t zq[LSTM_MAX_HIDDEN];
	static const double zf[LSTM_MAX_HIDDEN];
	size_t S = (size_t)m->net.sh.S;
	double sbest = 0;
	int best = 0;

	if (!t || t->m != m || m->net.sh.mode != DS_WIN_CANDIDATES ||
	    m->net.sh.encoder != LSTM_ENC_STATEFUL || ncand < 1 || ncand > LSTM_MAX_CAND)
		return -1;
	for (int j = 0; j < ncand; j++) {
		const unsigned char *e = entry(t, cand[j].task);
		uint32_t n = 0;

		if (e)
			memcpy(&n, e, sizeof(n));
		if (n != cand[j].n_ep)
			return -2;
	}
	for (int j = 0; j < ncand; j++) {
		const unsigned char *e = cand[j].n_ep ? entry(t, cand[j].task) : NULL;

		if (m->net.sh.arith == LSTM_FIXED) {
			scores[j] = fxv_score_raw(m, e ? (const q3_12_t *)(e + t->hc_off) : zq,
						  state + (size_t)j * S);
			if (scores[j] > scores[best])
				best = j;
		} else {
			double sc = fl_score_raw(m, e ? (const double *)(e + t->hc_off) : zf,
						 state + (size_t)j * S);

			scores[j] = fl_to_q12(sc);
			if (j == 0 || sc > sbest)
				best = j, sbest = sc;
		}
	}
	return best;
}
