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

#define TASKS_CHUNK 1024	/* tasks allocated at a time */

/* an entry: uint32 steps, padding to 8, then h (H) and c (H), int16 or double */
struct lstm_tasks {
	const struct lstm_model *m;
	size_t stride;		/* bytes per task */
	size_t hc_off;		/* where h starts in an entry */
	unsigned char **chunk;	/* (n_chunk) NULL until a task of it steps */
	uint64_t n_chunk, n_alloc;
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
	return t;
}

void lstm_tasks_reset(struct lstm_tasks *t)
{
	for (uint64_t i = 0; i < t->n_chunk; i++) {
		free(t->chunk[i]);
		t->chunk[i] = NULL;
	}
	t->n_alloc = 0;
}

void lstm_tasks_free(struct lstm_tasks *t)
{
	if (!t)
		return;
	lstm_tasks_reset(t);
	free(t->chunk);
	free(t);
}

/* the entry of task, NULL if it never stepped */
static unsigned char *entry(const struct lstm_tasks *t, uint32_t task)
{
	uint64_t ci = task / TASKS_CHUNK;

	if (ci >= t->n_chunk || !t->chunk[ci])
		return NULL;
	return t->chunk[ci] + (size_t)(task % TASKS_CHUNK) * t->stride;
}

static unsigned char *entry_get(struct lstm_tasks *t, uint32_t task)
{
	uint64_t ci = task / TASKS_CHUNK;

	if (ci >= t->n_chunk) {
		uint64_t n = SC_MAX(ci + 1, 2 * t->n_chunk);

		t->chunk = xreallocarray(t->chunk, n, sizeof(*t->chunk));
		memset(t->chunk + t->n_chunk, 0, (n - t->n_chunk) * sizeof(*t->chunk));
		t->n_chunk = n;
	}
	if (!t->chunk[ci]) {
		t->chunk[ci] = xcalloc(TASKS_CHUNK, t->stride);
		t->n_alloc++;
	}
	return t->chunk[ci] + (size_t)(task % TASKS_CHUNK) * t->stride;
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
