// SPDX-License-Identifier: GPL-2.0
/*
 * Training: mini-batches split into fixed per-thread shards, gradients
 * summed in a fixed order (and, in fixed point, exactly: integer sums do
 * not depend on the order), Adam, validation each epoch, early stopping and
 * an atomic checkpoint per epoch.
 *
 * Memory is allocated once before the first batch: the normalised inputs,
 * one block per tensor family (weights, best weights, master weights,
 * gradients per thread, optimizer state) and one scratch arena per thread.
 * Nothing is allocated inside the epoch loop except by the checkpoint
 * writer and, streaming, by the region's store of distinct windows, which
 * grows to the most a region holds.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/modelfile.h"
#include "features/features.h"
#include "model/model-local.h"

/*
 * TRAIN and EVAL: one decision after another (sequence mode, the linear
 * stage); ENCODE, HEADS and BACKWARD: a chunk of a batch through the
 * encoder cache (windows, decisions, windows).
 */
enum job { JOB_TRAIN, JOB_EVAL, JOB_ENCODE, JOB_HEADS_TRAIN, JOB_HEADS_EVAL, JOB_BACKWARD,
	   JOB_QUIT };

struct trainer;

struct worker {
	struct trainer *tr;
	int id;
	pthread_t th;
	struct lstm_scratch s;
	int64_t *gq;		/* (P) Q.36 gradient sums (fixed) */
	double *gf;		/* (P) gradient sums (float) */
	int64_t loss_q;		/* Q.12 */
	double loss_f;
	uint64_t n, correct;
	int32_t last_loss;	/* the last decision's log-loss, Q.12 (evaluation) */
	q3_12_t *xg;		/* (maxcand, K, E) streaming: a decision's windows gathered */
};

struct trainer {
	const struct ds_windows *w;
	const struct lstm_train_opts *o;
	struct lstm_model model;	/* shape, norm, names and the current weights */
	struct lstm_net *net;
	int fixed;

	q3_12_t *xw;		/* (n_cand, K, E) normalised Q3.12 (candidates); streaming
				   (n_xw, K, E), each distinct window once */
	q3_12_t *xs;		/* (n_cand, S) */
	q3_12_t *gaps;		/* (n_dec, W) normalised (sequence) */
	uint64_t *train_idx, *val_idx, n_train, n_val;
	int maxcand;

	q3_12_t *best_wq;	/* (P) Q3.12 weights of the best epoch */
	double *best_wf;
	struct fx_adam fxo;
	struct fl_adam flo;
	void *opt_mem;

	int T;
	struct worker *wk;
	pthread_barrier_t go, done;
	pthread_mutex_t gate_lock;	/* the start gate: 0 wait, 1 run, -1 quit */
	pthread_cond_t gate_cond;
	int gate;
	enum job job;
	const uint64_t *job_idx;
	uint64_t job_n;

	double *curve_loss, *curve_val;	/* (epochs) */
	int n_curve, best_epoch, bad_epochs;
	double best_val;

	uint64_t *trace_train;	/* (w->nr_traces) training decisions from each trace */

	/*
	 * Candidates mode streams the windows file: decisions are read in
	 * blocks of STREAM_BLOCK, a region of blocks at a time (the shuffle
	 * buffer: blocks picked at random, decisions shuffled within it),
	 * normalised into xw/xs as they are read.  A region takes blocks while
	 * its bytes (region_bytes()) stay within `budget`: memory is the
	 * budget's, whatever the length of the trace.
	 */
	int stream;
	struct ds_windows_reader *rd;
	const struct ds_decision *dec;	/* decisions the job indexes: the region's or w's */
	struct ds_decision *reg_dec;	/* (reg_decs) */
	uint64_t *reg_idx;		/* (reg_decs) */
	uint64_t reg_cands, reg_decs;	/* capacity of xs and win_of in candidates, of reg_dec */
	uint64_t budget;		/* bytes a region may hold */
	uint32_t *blk_cand, *blk_win;	/* (nb) each block's candidates and distinct windows */
	uint64_t reg_n, reg_max;	/* regions of the last epoch, the most bytes one held */
	/*
	 * Streaming, xw holds each distinct window of the region once (n_xw
	 * rows of cap_xw) and win_of[c] is candidate c's row: a task waiting
	 * on a busy CPU is a candidate of every decision until it runs, with
	 * the same window each time, so a region holds a few windows for many
	 * candidates.  xw_ht: the rows by content (row + 1, 0: empty).
	 */
	uint32_t *win_of;		/* (reg_cands) */
	uint64_t n_xw, cap_xw, xw_mask;
	uint64_t *xw_hash;		/* (cap_xw) */
	uint32_t *xw_ht;		/* (xw_mask + 1) */
	uint64_t nb;			/* blocks in the file */
	uint64_t *blk_order;		/* (nb) */
	uint64_t *blk_train, *blk_val;	/* (nb) blocks holding training / validation decisions */
	uint64_t n_blk_train, n_blk_val;
	char *init_model;	/* --init (or the resumed checkpoint's): the initial model */
	char *init_windows;	/* what the initial model was trained on */
	double init_val;	/* --init: its validation top-1 here, -1: none */
	struct batch_cache cache;	/* candidates mode: each distinct window encoded once */
	uint64_t *run_start, *run_tmp;	/* shuffling runs of consecutive decisions */
	int run;			/* decisions a run (candidates mode), else 1 */
	int linear_epochs;	/* the linear stage: epochs run, best validation top-1 */
	double linear_val;
	/*
	 * The paired test of an LSTM epoch against the linear stage: the
	 * top-1 hit of each validation decision (in validate()'s order) of the
	 * last validation pass (val_hit) and of the linear stage's best epoch
	 * (lin_hit, when have_lin_hit).  hit: where the running job writes.
	 */
	uint8_t *val_hit, *lin_hit, *hit;
	int32_t *val_loss, *lin_loss, *loss;	/* the same for the log-loss, Q.12 */
	int have_lin_hit;
	/*
	 * by_loss: fewer than LSTM_FEW_VAL validation decisions, where top-1
	 * moves by whole decisions: the kept weights (linear stage, initial
	 * model or epoch) are those of the lowest validation log-loss, its sum
	 * over the decisions (Q.12) in best_loss (INT64_MAX: none yet)
	 */
	int by_loss;
	int64_t best_loss, lstm_loss;	/* lstm_loss: see res->lstm_loss */
	uint64_t lr0_q32;	/* --lr, Q0.32 (fixed) */
	double lr0;		/* --lr (float) */
	/*
	 * A stateful encoder (streaming only): an epoch streams the regions in
	 * time order.  Each task's state before its last K episodes ("lagged":
	 * lag_h, h then c, 2H values, after max(0, n - K) steps) is stepped as
	 * the episodes stream, with the weights current then, no gradient
	 * through it; ring holds its last K raw episode rows to step on.  A
	 * candidate trains through its last min(K, n) episodes from that state
	 * (the region's store keys rows by (task, n_ep): xkey, xinit, xsteps).
	 * Memory: K E int16 + 2H values per task of the file (n_tasks).
	 */
	int stateful;
	uint64_t ep_pos;		/* the file's episodes applied to the lagged states */
	uint32_t *ep_task;		/* (EP_CHUNK) */
	int16_t *ep_rows;		/* (EP_CHUNK, E) */
	uint32_t *lag_n;		/* (n_tasks) episodes of each task so far */
	unsigned char **lag;		/* (n_tasks) NULL, or its ring (K, E) int16 and state */
	size_t lag_bytes;		/* one task's */
	uint64_t *xkey;			/* (cap_xw) task << 32 | n_ep of each store row */
	uint8_t *xsteps;		/* (cap_xw) */
	void *xinit;			/* (cap_xw, 2H) q3_12_t or double */
};

#define EP_CHUNK 4096	/* episodes read at a time (stateful) */
#define LR_FLOOR 20	/* in an epoch, the learning rate falls to lr / LR_FLOOR */

#define STREAM_BLOCK 256		/* decisions read at a time */
/*
 * bytes of the shuffle buffer by default: region_bytes() of its decisions,
 * candidates and distinct windows
 */
#define STREAM_BUDGET (64ull << 20)
/*
 * The encoder cache: windows and candidates of a chunk of a batch (a batch
 * of 32 runs-of-8 decisions with 70 candidates each: about 500 windows
 * and 2300 candidates, one chunk); 8 MB of fixed activations, 33 MB float.
 */
#define CACHE_WINDOWS 2048
#define CACHE_SLOTS 16384

static int usable(const struct trainer *tr, const struct ds_decision *d)
{
	if (tr->w->mode == DS_WIN_SEQUENCE)
		return d->label >= 0 && d->label < tr->net->sh.V;
	return d->label >= 0 && d->ncand >= 2 && d->ncand <= LSTM_MAX_CAND && d->label < d->ncand;
}

/* One decision on worker k: forward, and backward when training. */
static void run_one(struct worker *k, uint64_t di, int train)
{
	struct trainer *tr = k->tr;
	const struct ds_decision *d = &tr->dec[di];
	const struct lstm_net *net = tr->net;
	int n, best = 0;

	if (tr->w->mode == DS_WIN_SEQUENCE) {
		const int32_t *ids = tr->w->seq_ids + di * (uint64_t)net->sh.W;
		const q3_12_t *gp = tr->gaps + di * (uint64_t)net->sh.W;

		n = net->sh.V;
		if (tr->fixed)
			k->loss_q += fx_sequence(&k->s, train ? k->gq : NULL, tr->model.wq, net, ids,
						 gp, d->label);
		else
			k->loss_f += fl_sequence(&k->s, train ? k->gf : NULL, tr->model.wf, net, ids,
						 gp, d->label);
	} else {
		size_t KE = (size_t)net->sh.K * net->sh.E;
		const q3_12_t *x = tr->xw + d->cand_off * KE;
		const q3_12_t *st = tr->xs + d->cand_off * (uint64_t)net->sh.S;

		n = d->ncand;
		/* the linear stage reads the state rows alone: no windows to gather */
		if (tr->win_of && !k->s.linear_only) {
			for (int j = 0; j < n; j++)
				memcpy(k->xg + (size_t)j * KE,
				       tr->xw + tr->win_of[d->cand_off + (uint64_t)j] * KE,
				       KE * sizeof(*k->xg));
			x = k->xg;
		}
		if (tr->fixed)
			k->loss_q += fx_decision(&k->s, train ? k->gq : NULL, tr->model.wq, net, x, st,
						 n, d->label);
		else
			k->loss_f += fl_decision(&k->s, train ? k->gf : NULL, tr->model.wf, net, x,
						 st, n, d->label);
	}
	for (int i = 1; i < n; i++)
		if (tr->fixed ? k->s.logit[i] > k->s.logit[best]
			      : k->s.fl_logit[i] > k->s.fl_logit[best])
			best = i;
	k->correct += best == d->label;
	k->n++;
	if (!train && tr->loss)
		k->last_loss = scratch_loss_q12(&k->s, tr->fixed, n, d->label);
}

static void run_shard(struct worker *k)
{
	struct trainer *tr = k->tr;
	uint64_t lo = tr->job_n * (uint64_t)k->id / (uint64_t)tr->T;
	uint64_t hi = tr->job_n * (uint64_t)(k->id + 1) / (uint64_t)tr->T;
	const void *w = tr->fixed ? (const void *)tr->model.wq : (const void *)tr->model.wf;
	void *g = tr->fixed ? (void *)k->gq : (void *)k->gf;

	switch (tr->job) {
	case JOB_TRAIN:
	case JOB_EVAL:
		for (uint64_t i = lo; i < hi; i++) {
			uint64_t c0 = k->correct;

			run_one(k, tr->job_idx[i], tr->job == JOB_TRAIN);
			if (tr->hit && tr->job == JOB_EVAL)
				tr->hit[i] = (uint8_t)(k->correct - c0);
			if (tr->loss && tr->job == JOB_EVAL)
				tr->loss[i] = k->last_loss;
		}
		break;
	case JOB_ENCODE:
		for (uint64_t u = lo; u < hi; u++)
			batch_cache_encode(&tr->cache, w, (uint32_t)u);
		break;
	case JOB_HEADS_TRAIN:
	case JOB_HEADS_EVAL:
		batch_cache_heads(&tr->cache, &k->s, tr->job == JOB_HEADS_TRAIN ? g : NULL, w,
				  tr->xs, lo, hi, &k->loss_q, &k->loss_f, &k->correct);
		k->n += hi - lo;
		break;
	case JOB_BACKWARD:
		for (uint64_t u = lo; u < hi; u++)
			batch_cache_backward(&tr->cache, &k->s, g, w, (uint32_t)u);
		break;
	case JOB_QUIT:
		break;
	}
}

/* start_gate - let the worker threads in (go 1) or out (go -1) once all are started */
static void start_gate(struct trainer *tr, int go)
{
	pthread_mutex_lock(&tr->gate_lock);
	tr->gate = go;
	pthread_cond_broadcast(&tr->gate_cond);
	pthread_mutex_unlock(&tr->gate_lock);
}

static void *worker_main(void *arg)
{
	struct worker *k = arg;
	struct trainer *tr = k->tr;
	int go;

	pthread_mutex_lock(&tr->gate_lock);
	while (!tr->gate)
		pthread_cond_wait(&tr->gate_cond, &tr->gate_lock);
	go = tr->gate;
	pthread_mutex_unlock(&tr->gate_lock);
	if (go < 0)
		return NULL;
	for (;;) {
		pthread_barrier_wait(&tr->go);
		if (tr->job == JOB_QUIT)
			break;
		run_shard(k);
		pthread_barrier_wait(&tr->done);
	}
	return NULL;
}

/* Run a job over idx[0..n) on all threads; the caller is worker 0. */
static void run_job(struct trainer *tr, enum job job, const uint64_t *idx, uint64_t n)
{
	tr->job = job, tr->job_idx = idx, tr->job_n = n;
	if (tr->T > 1)
		pthread_barrier_wait(&tr->go);
	run_shard(&tr->wk[0]);
	if (tr->T > 1)
		pthread_barrier_wait(&tr->done);
}

/*
 * run_batch - a mini-batch (train: the gradients summed in the workers',
 * apply_batch() steps) or a validation pass over the decisions idx[0..n).
 * Candidates mode goes through the encoder cache, a chunk of decisions at a
 * time: their distinct windows encoded, the heads, the windows' backward
 * passes.  The counters (loss, top-1) start from zero.
 */
static void run_batch(struct trainer *tr, int train, const uint64_t *idx, uint64_t n)
{
	for (int k = 0; k < tr->T; k++) {
		struct worker *wk = &tr->wk[k];

		wk->loss_q = 0, wk->loss_f = 0, wk->n = 0, wk->correct = 0;
		if (train && tr->fixed)
			memset(wk->gq, 0, sizeof(*wk->gq) * tr->net->P);
		else if (train)
			memset(wk->gf, 0, sizeof(*wk->gf) * tr->net->P);
	}
	if (!tr->cache.mem || tr->wk[0].s.linear_only) {
		run_job(tr, train ? JOB_TRAIN : JOB_EVAL, idx, n);
		return;
	}
	for (uint64_t at = 0; at < n;) {
		uint64_t m = batch_cache_fill(&tr->cache, tr->dec, idx + at, n - at, tr->xw,
					      tr->win_of, tr->fixed ? (const void *)tr->model.wq
							: (const void *)tr->model.wf);

		run_job(tr, JOB_ENCODE, NULL, tr->cache.n_win);
		tr->cache.hit = !train && tr->hit ? tr->hit + at : NULL;
		tr->cache.loss = !train && tr->hit && tr->loss ? tr->loss + at : NULL;
		run_job(tr, train ? JOB_HEADS_TRAIN : JOB_HEADS_EVAL, NULL, m);
		tr->cache.hit = NULL;
		tr->cache.loss = NULL;
		if (train) {
			batch_cache_sum(&tr->cache);
			run_job(tr, JOB_BACKWARD, NULL, tr->cache.n_win);
		}
		at += m;
	}
}

/*
 * set_lr - the learning rate of the next step, from the share of the
 * epoch's decisions already trained on: lr (1 - done / n_train), at least
 * lr / LR_FLOOR; the linear stage keeps lr (annealed, it converged too
 * slowly: 99.8% instead of 100% on t3000's rule).  Each LSTM epoch anneals
 * from the full rate (warm restarts, as SGDR with a period of one epoch):
 * the weights an epoch ends with, which validation chooses among, are those
 * of small steps, not of a noisy one.
 * A function of (done, n_train) alone: the same in both arithmetics, for any
 * number of threads, and after a resume (which starts at an epoch).
 */
static void set_lr(struct trainer *tr, uint64_t done)
{
	uint64_t n = tr->n_train, rem = done < n ? n - done : 0;

	if (tr->wk[0].s.linear_only)
		rem = n;
	if (rem < (n + LR_FLOOR - 1) / LR_FLOOR)
		rem = (n + LR_FLOOR - 1) / LR_FLOOR;
	tr->fxo.lr_q32 = (uint64_t)(((unsigned __int128)tr->lr0_q32 * rem) / n);
	tr->flo.lr = tr->lr0 * (double)rem / (double)n;
}

/* Sum the shards' gradients into worker 0's, in thread order, and step. */
static void apply_batch(struct trainer *tr, uint64_t n)
{
	size_t P = tr->net->P;

	if (tr->fixed) {
		for (int k = 1; k < tr->T; k++)
			for (size_t i = 0; i < P; i++)
				tr->wk[0].gq[i] += tr->wk[k].gq[i];
		lstm_net_zero_unrecurrent(tr->net, tr->wk[0].gq, sizeof(*tr->wk[0].gq));
		fx_adam_step(&tr->fxo, tr->model.wq, tr->wk[0].gq, P, n);
	} else {
		for (int k = 1; k < tr->T; k++)
			for (size_t i = 0; i < P; i++)
				tr->wk[0].gf[i] += tr->wk[k].gf[i];
		lstm_net_zero_unrecurrent(tr->net, tr->wk[0].gf, sizeof(*tr->wk[0].gf));
		fl_adam_step(&tr->flo, tr->model.wf, tr->wk[0].gf, P, n);
	}
}

static double job_loss(const struct trainer *tr)
{
	double loss = 0;

	for (int k = 0; k < tr->T; k++)
		loss += tr->fixed ? tr->wk[k].loss_q / 4096.0 : tr->wk[k].loss_f;
	return loss;
}

static uint64_t job_correct(const struct trainer *tr)
{
	uint64_t c = 0;

	for (int k = 0; k < tr->T; k++)
		c += tr->wk[k].correct;
	return c;
}

/* ---- setup ------------------------------------------------------------------- */

/* key_hash - the hash of candidate c's key in the stateful store, (task, episodes) */
static uint64_t key_hash(const struct ds_candidate *c)
{
	uint64_t h = (((uint64_t)c->task << 32 | c->n_ep) + 1) * 0x9e3779b97f4a7c15ULL;

	return h ^ h >> 29;
}

/*
 * block_windows - the distinct windows among block b's candidates: equal
 * raw windows (K, E) count once, and so (stateful) do candidates of the same
 * (task, episodes), the key of the stateful store: at most what the block
 * adds to a region's store (a window met in an earlier block of the region
 * is stored once).  ht: a table of *ht_n slots the caller frees.
 */
static uint32_t block_windows(const struct trainer *tr, const struct ds_windows_block *b,
			      uint32_t **ht, uint64_t *ht_n)
{
	size_t KE = (size_t)tr->net->sh.K * tr->net->sh.E;
	uint64_t mask = 1;
	uint32_t n[2] = { 0, 0 };

	while (mask < 2 * b->n_cand)
		mask <<= 1;
	if (*ht_n < mask) {
		free(*ht);
		*ht = xcalloc(mask, sizeof(**ht));
		*ht_n = mask;
	}
	mask--;
	for (int by_key = 0; by_key < 1 + tr->stateful; by_key++) {
		memset(*ht, 0, (mask + 1) * sizeof(**ht));
		for (uint64_t i = 0; i < b->n_cand; i++) {
			const struct ds_candidate *c = &b->cand[i];
			uint64_t h = by_key ? key_hash(c) : fx_window_hash(b->window + i * KE, KE);

			for (uint64_t j = h & mask;; j = (j + 1) & mask) {
				uint32_t e = (*ht)[j];
				const struct ds_candidate *o = &b->cand[e ? e - 1 : 0];

				if (!e) {
					(*ht)[j] = (uint32_t)i + 1;
					n[by_key]++;
					break;
				}
				if (by_key ? o->task == c->task && o->n_ep == c->n_ep
					   : !memcmp(b->window + (e - 1) * KE, b->window + i * KE,
						     KE * sizeof(*b->window)))
					break;
			}
		}
	}
	return SC_MAX(n[0], n[1]);
}

/*
 * region_bytes - what a region of nd decisions, nc candidates and nw
 * distinct windows holds: each decision (reg_dec, reg_idx and the run
 * shuffle's two arrays), each candidate (state row, window index) and each
 * distinct window (the store's row, hash and table slots; stateful: key,
 * steps and initial state)
 */
static uint64_t region_bytes(const struct trainer *tr, uint64_t nd, uint64_t nc, uint64_t nw)
{
	const struct lstm_shape *sh = &tr->net->sh;
	uint64_t dec = sizeof(struct ds_decision) + 3 * sizeof(uint64_t);
	uint64_t cand = (uint64_t)sh->S * sizeof(q3_12_t) + sizeof(uint32_t);
	uint64_t win = (uint64_t)sh->K * sh->E * sizeof(q3_12_t) + sizeof(uint64_t) +
		       4 * sizeof(uint32_t);

	if (tr->stateful)
		win += sizeof(uint64_t) + 1 +
		       2 * (uint64_t)sh->H * (tr->fixed ? sizeof(q3_12_t) : sizeof(double));
	return nd * dec + nc * cand + nw * win;
}

/*
 * block_bytes - region_bytes() of block blk alone.  A region's are at most
 * the sum of its blocks' (a window two blocks share is stored once).
 */
static uint64_t block_bytes(const struct trainer *tr, uint64_t blk)
{
	uint64_t m = SC_MIN((uint64_t)STREAM_BLOCK, tr->w->n_dec - blk * STREAM_BLOCK);

	return region_bytes(tr, m, tr->blk_cand[blk], tr->blk_win[blk]);
}

/* region_stat - the region of blocks blk[0..n) just loaded: its bytes into reg_max */
static void region_stat(struct trainer *tr, const uint64_t *blk, uint64_t n)
{
	uint64_t nd = 0, nc = 0;

	for (uint64_t k = 0; k < n; k++) {
		nd += SC_MIN((uint64_t)STREAM_BLOCK, tr->w->n_dec - blk[k] * STREAM_BLOCK);
		nc += tr->blk_cand[blk[k]];
	}
	tr->reg_max = SC_MAX(tr->reg_max, region_bytes(tr, nd, nc, tr->n_xw));
}

/*
 * region_size - how many of the blocks blk[0..n), in that order, the next
 * region takes: as many as fit in tr->budget bytes (block_bytes()), at
 * least one
 */
static uint64_t region_size(const struct trainer *tr, const uint64_t *blk, uint64_t n)
{
	uint64_t bytes = 0, k;

	for (k = 0; k < n; k++) {
		uint64_t add = block_bytes(tr, blk[k]);

		if (k && bytes + add > tr->budget)
			break;
		bytes += add;
	}
	return k;
}

/*
 * The first pass over the file: which decisions train and validate, the
 * most candidates, and the normalisation, from the same candidates and
 * with the same integer arithmetic as lstm_norm_fit() on a loaded file
 * (those of the decisions from the first training decision to the last).
 */
static int setup_stream(struct trainer *tr)
{
	const struct ds_windows *w = tr->w;
	const struct lstm_net *net = tr->net;
	int K = net->sh.K, E = net->sh.E, S = net->sh.S, F = E + S, fit;
	int64_t sum[LSTM_MAX_IN + LSTM_MAX_STATE] = { 0 }, psum[LSTM_MAX_IN + LSTM_MAX_STATE];
	__int128 sq[LSTM_MAX_IN + LSTM_MAX_STATE] = { 0 }, psq[LSTM_MAX_IN + LSTM_MAX_STATE];
	uint64_t cnt[2] = { 0 }, maxblk = 1, pcnt = 0;	/* rows: windows (x K), state */
	struct ds_windows_block b;
	uint32_t *ht = NULL;
	uint64_t ht_n = 0, all_cand = 0, all_dec;
	int started = 0;

	fit = !tr->o->resume && !tr->o->init;
	memset(psum, 0, sizeof(psum));
	memset(psq, 0, sizeof(psq));

	tr->rd = feat_windows_open(tr->o->windows_path);
	if (!tr->rd)
		return -1;
	tr->nb = (w->n_dec + STREAM_BLOCK - 1) / STREAM_BLOCK;
	tr->trace_train = xcalloc((size_t)w->nr_traces + 1, sizeof(uint64_t));
	tr->blk_train = xcalloc(tr->nb + 1, sizeof(uint64_t));
	tr->blk_val = xcalloc(tr->nb + 1, sizeof(uint64_t));
	tr->blk_cand = xcalloc(tr->nb + 1, sizeof(uint32_t));
	tr->blk_win = xcalloc(tr->nb + 1, sizeof(uint32_t));
	tr->maxcand = 1;
	for (uint64_t at = 0; at < w->n_dec; at += STREAM_BLOCK) {
		uint64_t n = SC_MIN((uint64_t)STREAM_BLOCK, w->n_dec - at);
		uint64_t nt = tr->n_train, nv = tr->n_val;

		if (ds_windows_read(tr->rd, at, n, &b)) {
			free(ht);
			return -1;
		}
		maxblk = SC_MAX(maxblk, b.n_cand);
		all_cand += b.n_cand;
		tr->blk_cand[at / STREAM_BLOCK] = (uint32_t)b.n_cand;
		tr->blk_win[at / STREAM_BLOCK] = block_windows(tr, &b, &ht, &ht_n);
		for (uint64_t i = 0; i < n; i++) {
			const struct ds_decision *d = &b.dec[i];
			const int16_t *x = b.window + (d->cand_off - b.cand_start) * K * E;
			const int16_t *st = b.state + (d->cand_off - b.cand_start) * S;
			int use = usable(tr, d);

			if (use && d->split == DS_SPLIT_TRAIN) {
				tr->n_train++;
				if (d->trace >= 0 && d->trace < w->nr_traces)
					tr->trace_train[d->trace]++;
				started = 1;
			} else if (use && d->split == DS_SPLIT_VAL) {
				tr->n_val++;
			}
			if (use && d->split != DS_SPLIT_TEST && d->ncand > tr->maxcand)
				tr->maxcand = d->ncand;
			if (!fit || !started)
				continue;
			/* candidates after the last training decision do not count */
			for (int c = 0; c < d->ncand; c++) {
				for (int k = 0; k < K; k++)
					for (int e = 0; e < E; e++) {
						int64_t v = x[((size_t)c * K + k) * E + e];

						psum[e] += v;
						psq[e] += v * v;
					}
				for (int j = 0; j < S; j++) {
					int64_t v = st[(size_t)c * S + j];

					psum[E + j] += v;
					psq[E + j] += v * v;
				}
			}
			pcnt += (uint64_t)d->ncand;
			if (use && d->split == DS_SPLIT_TRAIN) {
				for (int f = 0; f < F; f++) {
					sum[f] += psum[f];
					sq[f] += psq[f];
				}
				cnt[1] += pcnt;
				memset(psum, 0, sizeof(psum));
				memset(psq, 0, sizeof(psq));
				pcnt = 0;
			}
		}
		if (tr->n_train > nt)
			tr->blk_train[tr->n_blk_train++] = at / STREAM_BLOCK;
		if (tr->n_val > nv)
			tr->blk_val[tr->n_blk_val++] = at / STREAM_BLOCK;
	}
	free(ht);
	if (!tr->n_train)
		return error("cannot train on '%s': no usable decision in the training split "
			     "(contested and covered)", tr->o->windows_path);
	if (fit) {
		tr->model.norm.n = F;
		cnt[0] = cnt[1] * (uint64_t)K;
		for (int f = 0; f < F; f++)
			lstm_norm_set(&tr->model.norm, f, f < E ? cnt[0] : cnt[1], sum[f], sq[f]);
	}
	/*
	 * The shuffle buffer: a region's candidates and decisions are at most
	 * the budget's bytes (region_size()) or one block's; the arrays are
	 * sized for that, and only the rows a region fills are touched.
	 */
	tr->budget = tr->o->buffer ? tr->o->buffer : STREAM_BUDGET;
	all_dec = tr->nb * STREAM_BLOCK;
	tr->reg_cands = SC_MIN(all_cand, SC_MAX(maxblk, tr->budget / ((uint64_t)S * sizeof(q3_12_t) +
								      sizeof(uint32_t))));
	tr->reg_decs = SC_MIN(all_dec, SC_MAX((uint64_t)STREAM_BLOCK,
					      tr->budget / sizeof(struct ds_decision)));
	if (tr->reg_cands > UINT32_MAX)
		return error("cannot train on '%s': a shuffle buffer of %llu candidates is too large",
			     tr->o->windows_path, (unsigned long long)tr->reg_cands);
	tr->reg_dec = xcalloc(tr->reg_decs, sizeof(*tr->reg_dec));
	tr->reg_idx = xcalloc(tr->reg_decs, sizeof(*tr->reg_idx));
	tr->blk_order = xcalloc(tr->nb + 1, sizeof(*tr->blk_order));
	tr->win_of = xmallocarray(tr->reg_cands + 1, sizeof(*tr->win_of));
	tr->xs = xmallocarray(tr->reg_cands * S + 1, sizeof(q3_12_t));
	tr->dec = tr->reg_dec;
	tr->run_start = xcalloc(tr->reg_decs + 1, sizeof(*tr->run_start));
	tr->run_tmp = xcalloc(tr->reg_decs + 1, sizeof(*tr->run_tmp));
	return 0;
}

static void xw_insert(struct trainer *tr, uint64_t row)
{
	for (uint64_t i = tr->xw_hash[row] & tr->xw_mask;; i = (i + 1) & tr->xw_mask)
		if (!tr->xw_ht[i]) {
			tr->xw_ht[i] = (uint32_t)row + 1;
			return;
		}
}

/* xw_reserve - room for n more distinct windows in the region's store */
static void xw_reserve(struct trainer *tr, uint64_t n)
{
	size_t KE = (size_t)tr->net->sh.K * tr->net->sh.E;
	uint64_t cap = SC_MAX(tr->cap_xw, (uint64_t)1024);

	if (tr->n_xw + n <= tr->cap_xw)
		return;
	while (cap < tr->n_xw + n)
		cap *= 2;
	tr->xw = xreallocarray(tr->xw, cap * KE, sizeof(*tr->xw));
	tr->xw_hash = xreallocarray(tr->xw_hash, cap, sizeof(*tr->xw_hash));
	if (tr->stateful) {
		size_t H2 = 2 * (size_t)tr->net->sh.H;

		tr->xkey = xreallocarray(tr->xkey, cap, sizeof(*tr->xkey));
		tr->xsteps = xreallocarray(tr->xsteps, cap, sizeof(*tr->xsteps));
		tr->xinit = xreallocarray(tr->xinit, cap * H2,
					  tr->fixed ? sizeof(q3_12_t) : sizeof(double));
		tr->cache.steps = tr->xsteps;
		tr->cache.init_q = tr->fixed ? tr->xinit : NULL;
		tr->cache.init_f = tr->fixed ? NULL : tr->xinit;
	}
	tr->cap_xw = cap;
	for (tr->xw_mask = 1; tr->xw_mask < 2 * cap; tr->xw_mask <<= 1)
		;
	free(tr->xw_ht);
	tr->xw_ht = xcalloc(tr->xw_mask, sizeof(*tr->xw_ht));
	tr->xw_mask--;
	for (uint64_t r = 0; r < tr->n_xw; r++)
		xw_insert(tr, r);
}

/*
 * xw_add - the row of the window normalised into the first free row of xw:
 * an equal row stored before, or that new row
 */
static uint32_t xw_add(struct trainer *tr)
{
	size_t KE = (size_t)tr->net->sh.K * tr->net->sh.E;
	const q3_12_t *x = tr->xw + tr->n_xw * KE;
	uint64_t h = fx_window_hash(x, KE);

	for (uint64_t i = h & tr->xw_mask;; i = (i + 1) & tr->xw_mask) {
		uint32_t e = tr->xw_ht[i];

		if (!e) {
			tr->xw_ht[i] = (uint32_t)tr->n_xw + 1;
			tr->xw_hash[tr->n_xw] = h;
			return (uint32_t)tr->n_xw++;
		}
		if (tr->xw_hash[e - 1] == h && !memcmp(tr->xw + (e - 1) * KE, x, KE * sizeof(*x)))
			return e - 1;
	}
}

/* ---- the stateful encoder's lagged task states ------------------------------ */

/* refresh_model - the derived fields of tr->model that inference reads, for its current weights */
static void refresh_model(struct trainer *tr)
{
	struct lstm_model *m = &tr->model;

	if (!tr->fixed)
		return;
	lstm_net_gate_bounds(&m->net, m->wq, &m->gate_lx, &m->gate_lh, &m->gate_lb);
	m->head_i32 = lstm_net_head_i32_safe(&m->net, m->wq);
	free(m->wpack);
	fxv_pack(m);
}

/* lag_reset - every task back to no episode (an epoch starts at the file's start) */
static void lag_reset(struct trainer *tr)
{
	for (uint64_t i = 0; i < tr->w->n_tasks; i++) {
		free(tr->lag[i]);
		tr->lag[i] = NULL;
	}
	memset(tr->lag_n, 0, tr->w->n_tasks * sizeof(*tr->lag_n));
	tr->ep_pos = 0;
}

/* the lagged state (h then c) of a task's record */
static void *lag_state(const struct trainer *tr, unsigned char *rec)
{
	return rec + (size_t)tr->net->sh.K * tr->net->sh.E * sizeof(int16_t);
}

/*
 * lag_episode - task's next episode (raw row): the episode leaving its
 * last K (n - K, when it has K) steps the lagged state first
 */
static void lag_episode(struct trainer *tr, uint32_t task, const int16_t *row)
{
	int K = tr->net->sh.K, E = tr->net->sh.E, H = tr->net->sh.H;
	uint32_t n = tr->lag_n[task];
	unsigned char *rec = tr->lag[task];
	int16_t *slot;

	if (!rec)
		rec = tr->lag[task] = xcalloc(1, tr->lag_bytes);
	slot = (int16_t *)rec + (size_t)(n % (uint32_t)K) * E;
	if (n >= (uint32_t)K) {
		if (tr->fixed) {
			q3_12_t *h = lag_state(tr, rec);

			fxv_step_raw(&tr->model, h, h + H, slot);
		} else {
			double *h = lag_state(tr, rec);

			fl_step_raw(&tr->model, h, h + H, slot);
		}
	}
	memcpy(slot, row, sizeof(*slot) * E);
	tr->lag_n[task] = n + 1;
}

/* lag_advance - apply the file's episodes up to (not including) `to` */
static int lag_advance(struct trainer *tr, uint64_t to)
{
	int E = tr->net->sh.E;

	if (to < tr->ep_pos)
		return error("cannot read '%s': a decision's episodes go back in time",
			     tr->o->windows_path);
	while (tr->ep_pos < to) {
		uint64_t n = SC_MIN((uint64_t)EP_CHUNK, to - tr->ep_pos);

		if (ds_windows_read_episodes(tr->rd, tr->ep_pos, n, tr->ep_task, tr->ep_rows))
			return -1;
		for (uint64_t i = 0; i < n; i++)
			lag_episode(tr, tr->ep_task[i], tr->ep_rows + i * (uint64_t)E);
		tr->ep_pos += n;
	}
	return 0;
}

/*
 * key_add - the store row of candidate c (raw window, K rows): an earlier
 * row of the same (task, n_ep) in the region, or a new one with its
 * normalised window, its steps min(K, n_ep) and its task's lagged state
 */
static int key_add(struct trainer *tr, const struct ds_candidate *c, const int16_t *raw,
		   uint32_t *row)
{
	const struct lstm_norm *nm = &tr->model.norm;
	int K = tr->net->sh.K, E = tr->net->sh.E, H = tr->net->sh.H;
	size_t KE = (size_t)K * E, H2 = 2 * (size_t)H;
	uint64_t key = (uint64_t)c->task << 32 | c->n_ep, h = key_hash(c);
	q3_12_t *x;

	for (uint64_t i = h & tr->xw_mask;; i = (i + 1) & tr->xw_mask) {
		uint32_t e = tr->xw_ht[i];

		if (!e) {
			tr->xw_ht[i] = (uint32_t)tr->n_xw + 1;
			break;
		}
		if (tr->xkey[e - 1] == key) {
			*row = e - 1;
			return 0;
		}
	}
	if (c->n_ep && (c->task >= tr->w->n_tasks || tr->lag_n[c->task] != c->n_ep))
		return error("cannot read '%s': a candidate of task %u has %u episodes, %u are "
			     "stored before it", tr->o->windows_path, c->task, c->n_ep,
			     c->task < tr->w->n_tasks ? tr->lag_n[c->task] : 0);
	x = tr->xw + tr->n_xw * KE;
	for (int s = 0; s < K; s++)
		for (int e = 0; e < E; e++)
			x[s * E + e] = lstm_norm_apply(nm, e, raw[s * E + e]);
	tr->xw_hash[tr->n_xw] = h;
	tr->xkey[tr->n_xw] = key;
	tr->xsteps[tr->n_xw] = (uint8_t)SC_MIN((uint32_t)K, c->n_ep);
	{
		unsigned char *rec = c->n_ep ? tr->lag[c->task] : NULL;
		size_t sz = tr->fixed ? sizeof(q3_12_t) : sizeof(double);
		char *dst = (char *)tr->xinit + tr->n_xw * H2 * sz;

		if (rec)
			memcpy(dst, lag_state(tr, rec), H2 * sz);
		else
			memset(dst, 0, H2 * sz);
	}
	*row = (uint32_t)tr->n_xw++;
	return 0;
}

/*
 * region_block - read block blk of the windows into *b for a region whose
 * rows so far hold nc candidates, with room in the region's window store for
 * its candidates: its decisions, or -1 (printed)
 */
static int64_t region_block(struct trainer *tr, uint64_t blk, uint64_t nc,
			    struct ds_windows_block *b)
{
	uint64_t at = blk * STREAM_BLOCK;
	uint64_t m = SC_MIN((uint64_t)STREAM_BLOCK, tr->w->n_dec - at);

	if (ds_windows_read(tr->rd, at, m, b))
		return -1;
	if (nc + b->n_cand > tr->reg_cands || b->n_cand != tr->blk_cand[blk])
		return error("cannot read '%s': block %llu changed size", tr->o->windows_path,
			     (unsigned long long)blk);
	xw_reserve(tr, b->n_cand);
	return (int64_t)m;
}

/*
 * load_region_stateful - load_region() for a stateful encoder: the lagged
 * states stepped to each decision before its candidates are stored
 */
static int64_t load_region_stateful(struct trainer *tr, const uint64_t *blk, uint64_t n,
				    int split)
{
	const struct lstm_norm *nm = &tr->model.norm;
	int K = tr->net->sh.K, E = tr->net->sh.E, S = tr->net->sh.S;
	uint64_t nd = 0, nc = 0, ni = 0;
	struct ds_windows_block b;

	refresh_model(tr);
	tr->n_xw = 0;
	if (tr->xw_ht)
		memset(tr->xw_ht, 0, (tr->xw_mask + 1) * sizeof(*tr->xw_ht));
	for (uint64_t k = 0; k < n; k++) {
		int64_t m = region_block(tr, blk[k], nc, &b);

		if (m < 0)
			return -1;
		for (uint64_t i = 0; i < (uint64_t)m; i++) {
			struct ds_decision *d = &tr->reg_dec[nd];
			uint64_t c0 = b.dec[i].cand_off - b.cand_start;

			*d = b.dec[i];
			d->cand_off = c0 + nc;
			if (lag_advance(tr, d->ep_off))
				return -1;
			for (int j = 0; j < d->ncand; j++)
				if (key_add(tr, &b.cand[c0 + j], b.window + (c0 + j) * K * E,
					    &tr->win_of[nc + c0 + j]))
					return -1;
			if (usable(tr, d) && d->split == split)
				tr->reg_idx[ni++] = nd;
			nd++;
		}
		for (uint64_t i = 0; i < b.n_cand; i++)
			for (int j = 0; j < S; j++)
				tr->xs[(nc + i) * S + j] = lstm_norm_apply(nm, E + j, b.state[i * S + j]);
		nc += b.n_cand;
	}
	return (int64_t)ni;
}

/*
 * validate_stateful - validate() for a stateful encoder with exactly the
 * inference semantics (eval's lstm_predict_tasks()): every task's state
 * stepped on all of its episodes from the file's start with the current
 * weights, each validation decision scored as eval scores it.  Serial.
 */
static int64_t validate_stateful(struct trainer *tr)
{
	const struct ds_windows *w = tr->w;
	int E = tr->net->sh.E;
	struct lstm_tasks *t;
	struct ds_windows_block b;
	int32_t *scores = xcalloc(LSTM_MAX_CAND, sizeof(*scores));
	uint64_t correct = 0, hit = 0, pos = 0;
	int64_t ret = -1;

	refresh_model(tr);
	t = lstm_tasks_new(&tr->model);
	for (uint64_t g = 0; g < tr->n_blk_val; g++) {
		uint64_t at = tr->blk_val[g] * STREAM_BLOCK;
		uint64_t m = SC_MIN((uint64_t)STREAM_BLOCK, w->n_dec - at);

		if (ds_windows_read(tr->rd, at, m, &b))
			goto out;
		for (uint64_t i = 0; i < m; i++) {
			const struct ds_decision *d = &b.dec[i];
			uint64_t c0 = d->cand_off - b.cand_start;
			int best;

			if (!usable(tr, d) || d->split != DS_SPLIT_VAL)
				continue;
			while (pos < d->ep_off) {
				uint64_t n = SC_MIN((uint64_t)EP_CHUNK, d->ep_off - pos);

				if (ds_windows_read_episodes(tr->rd, pos, n, tr->ep_task,
							     tr->ep_rows))
					goto out;
				for (uint64_t e = 0; e < n; e++)
					lstm_tasks_step(t, tr->ep_task[e],
							tr->ep_rows + e * (uint64_t)E);
				pos += n;
			}
			best = lstm_predict_tasks(&tr->model, t, b.cand + c0, b.state + c0 * w->S,
						  d->ncand, scores);
			if (best < 0) {
				error("cannot read '%s': decision %llu: its candidates' episodes are "
				      "not all stored before it", tr->o->windows_path,
				      (unsigned long long)(at + i));
				goto out;
			}
			if (hit < tr->n_val) {
				tr->val_hit[hit] = best == d->label;
				if (tr->by_loss)
					tr->val_loss[hit] = fx_softmax_xent(NULL, scores, d->ncand,
									    d->label);
			}
			hit++;
			correct += best == d->label;
		}
	}
	ret = (int64_t)correct;
out:
	lstm_tasks_free(t);
	free(scores);
	return ret;
}

/*
 * Read blocks blk[0..n) (ascending) into the region, normalised, each
 * distinct window once; the usable decisions of split into reg_idx.  Their
 * number, or -1 (printed).
 */
static int64_t load_region(struct trainer *tr, const uint64_t *blk, uint64_t n, int split)
{
	const struct lstm_norm *nm = &tr->model.norm;
	int K = tr->net->sh.K, E = tr->net->sh.E, S = tr->net->sh.S;
	uint64_t nd = 0, nc = 0, ni = 0;
	struct ds_windows_block b;

	tr->n_xw = 0;
	if (tr->xw_ht)
		memset(tr->xw_ht, 0, (tr->xw_mask + 1) * sizeof(*tr->xw_ht));
	for (uint64_t k = 0; k < n; k++) {
		int64_t m = region_block(tr, blk[k], nc, &b);

		if (m < 0)
			return -1;
		for (uint64_t i = 0; i < b.n_cand; i++) {
			q3_12_t *x = tr->xw + tr->n_xw * (uint64_t)K * E;
			const int16_t *raw = b.window + i * K * E;

			for (int s = 0; s < K; s++)
				for (int e = 0; e < E; e++)
					x[s * E + e] = lstm_norm_apply(nm, e, raw[s * E + e]);
			tr->win_of[nc + i] = xw_add(tr);
		}
		for (uint64_t i = 0; i < b.n_cand; i++)
			for (int j = 0; j < S; j++)
				tr->xs[(nc + i) * S + j] = lstm_norm_apply(nm, E + j, b.state[i * S + j]);
		for (uint64_t i = 0; i < (uint64_t)m; i++) {
			struct ds_decision *d = &tr->reg_dec[nd];

			*d = b.dec[i];
			d->cand_off = d->cand_off - b.cand_start + nc;
			if (usable(tr, d) && d->split == split)
				tr->reg_idx[ni++] = nd;
			nd++;
		}
		nc += b.n_cand;
	}
	return (int64_t)ni;
}

static int setup_data(struct trainer *tr)
{
	const struct ds_windows *w = tr->w;
	const struct lstm_net *net = tr->net;
	struct lstm_norm *nm = &tr->model.norm;
	uint64_t lo = UINT64_MAX, hi = 0;

	if (tr->stream)
		return setup_stream(tr);
	tr->dec = w->dec;
	tr->run_start = xcalloc(w->n_dec + 1, sizeof(*tr->run_start));
	tr->run_tmp = xcalloc(w->n_dec + 1, sizeof(*tr->run_tmp));
	tr->train_idx = xcalloc(w->n_dec + 1, sizeof(uint64_t));
	tr->val_idx = xcalloc(w->n_dec + 1, sizeof(uint64_t));
	tr->trace_train = xcalloc((size_t)w->nr_traces + 1, sizeof(uint64_t));
	tr->maxcand = 1;
	for (uint64_t i = 0; i < w->n_dec; i++) {
		const struct ds_decision *d = &w->dec[i];

		if (!usable(tr, d))
			continue;
		if (d->split == DS_SPLIT_TRAIN) {
			tr->train_idx[tr->n_train++] = i;
			if (d->trace >= 0 && d->trace < w->nr_traces)
				tr->trace_train[d->trace]++;
			if (w->mode == DS_WIN_CANDIDATES) {
				lo = SC_MIN(lo, d->cand_off);
				hi = SC_MAX(hi, d->cand_off + (uint64_t)d->ncand);
			}
		} else if (d->split == DS_SPLIT_VAL) {
			tr->val_idx[tr->n_val++] = i;
		} else {
			continue;
		}
		if (w->mode == DS_WIN_CANDIDATES && d->ncand > tr->maxcand)
			tr->maxcand = d->ncand;
	}
	if (!tr->n_train)
		return error("cannot train on '%s': no usable decision in the training split%s",
			     tr->o->windows_path,
			     w->mode == DS_WIN_CANDIDATES ? " (contested and covered)" : "");
	if (w->mode == DS_WIN_CANDIDATES) {
		int K = net->sh.K, E = net->sh.E, S = net->sh.S;

		/*
		 * Statistics over the candidates of the training decisions (a
		 * contiguous range when the split is by time, as features writes it).
		 */
		if (!tr->o->resume && !tr->o->init) {
			nm->n = E + S;
			for (int e = 0; e < E; e++)
				lstm_norm_fit(nm, e, w->window + lo * K * E, (hi - lo) * K, E, e);
			for (int s = 0; s < S; s++)
				lstm_norm_fit(nm, E + s, w->state + lo * S, hi - lo, S, s);
		}
		tr->xw = xmallocarray(w->n_cand * K * E + 1, sizeof(q3_12_t));
		tr->xs = xmallocarray(w->n_cand * S + 1, sizeof(q3_12_t));
		for (uint64_t i = 0; i < w->n_cand * K; i++)
			for (int e = 0; e < E; e++)
				tr->xw[i * E + e] = lstm_norm_apply(nm, e, w->window[i * E + e]);
		for (uint64_t i = 0; i < w->n_cand; i++)
			for (int s = 0; s < S; s++)
				tr->xs[i * S + s] = lstm_norm_apply(nm, E + s, w->state[i * S + s]);
	} else {
		int Wn = net->sh.W;

		if (!tr->o->resume && !tr->o->init) {
			nm->n = 1;
			lstm_norm_fit(nm, 0, w->seq_gaps + tr->train_idx[0] * Wn,
				      (tr->train_idx[tr->n_train - 1] - tr->train_idx[0] + 1) * Wn, 1,
				      0);
		}
		tr->gaps = xmallocarray(w->n_dec * Wn + 1, sizeof(q3_12_t));
		for (uint64_t i = 0; i < w->n_dec * Wn; i++)
			tr->gaps[i] = lstm_norm_apply(nm, 0, w->seq_gaps[i]);
	}
	return 0;
}

static void setup_params(struct trainer *tr)
{
	size_t P = tr->net->P;

	if (tr->fixed) {
		tr->model.wq = xcalloc(P, sizeof(q3_12_t));
		tr->best_wq = xcalloc(P, sizeof(q3_12_t));
		/* optimizer state: master Q3.28, m Q7.24, v Q14.48 in one block */
		tr->opt_mem = xcalloc(P, sizeof(q3_28_t) + sizeof(q7_24_t) + sizeof(int64_t));
		tr->fxo.v = tr->opt_mem;
		tr->fxo.master = (q3_28_t *)(tr->fxo.v + P);
		tr->fxo.m = tr->fxo.master + P;
		lstm_net_init_q12(tr->net, tr->model.wq, tr->o->seed);
		fx_master_from_q12(tr->fxo.master, tr->model.wq, P);
		memcpy(tr->best_wq, tr->model.wq, P * sizeof(q3_12_t));
		tr->fxo.lr_q32 = tr->lr0_q32 = (uint64_t)llround(tr->o->lr * 4294967296.0);
	} else {
		q3_12_t *init = xcalloc(P, sizeof(q3_12_t));

		tr->model.wf = xcalloc(P, sizeof(double));
		tr->best_wf = xcalloc(P, sizeof(double));
		tr->opt_mem = xcalloc(P, 2 * sizeof(double));
		tr->flo.m = tr->opt_mem;
		tr->flo.v = tr->flo.m + P;
		/* the same initial values as the fixed path, exactly */
		lstm_net_init_q12(tr->net, init, tr->o->seed);
		for (size_t i = 0; i < P; i++)
			tr->model.wf[i] = init[i] / 4096.0;
		free(init);
		memcpy(tr->best_wf, tr->model.wf, P * sizeof(double));
		tr->flo.lr = tr->lr0 = tr->o->lr;
	}
}

static int setup_workers(struct trainer *tr)
{
	size_t P = tr->net->P;
	void *gmem;

	tr->wk = xcalloc((size_t)tr->T, sizeof(*tr->wk));
	gmem = xcalloc((size_t)tr->T * P, tr->fixed ? sizeof(int64_t) : sizeof(double));
	for (int k = 0; k < tr->T; k++) {
		struct worker *wk = &tr->wk[k];

		wk->tr = tr;
		wk->id = k;
		if (tr->fixed)
			wk->gq = (int64_t *)gmem + (size_t)k * P;
		else
			wk->gf = (double *)gmem + (size_t)k * P;
		lstm_scratch_init(&wk->s, tr->net, tr->maxcand);
		if (tr->stream)
			wk->xg = xmallocarray((size_t)tr->maxcand * tr->net->sh.K * tr->net->sh.E,
					      sizeof(*wk->xg));
	}
	if (tr->T > 1) {
		pthread_barrier_init(&tr->go, NULL, (unsigned)tr->T);
		pthread_barrier_init(&tr->done, NULL, (unsigned)tr->T);
		for (int k = 1; k < tr->T; k++) {
			int err = pthread_create(&tr->wk[k].th, NULL, worker_main, &tr->wk[k]);

			if (err) {
				/* release the threads started so far before any barrier */
				start_gate(tr, -1);
				for (int j = 1; j < k; j++)
					pthread_join(tr->wk[j].th, NULL);
				pthread_barrier_destroy(&tr->go);
				pthread_barrier_destroy(&tr->done);
				tr->T = 1;
				errno = err;
				return error_errno("cannot start training thread %d", k);
			}
		}
		start_gate(tr, 1);
	}
	return 0;
}

static void teardown(struct trainer *tr)
{
	if (tr->wk && tr->T > 1) {
		tr->job = JOB_QUIT;
		pthread_barrier_wait(&tr->go);
		for (int k = 1; k < tr->T; k++)
			pthread_join(tr->wk[k].th, NULL);
		pthread_barrier_destroy(&tr->go);
		pthread_barrier_destroy(&tr->done);
	}
	if (tr->wk) {
		free(tr->fixed ? (void *)tr->wk[0].gq : (void *)tr->wk[0].gf);
		for (int k = 0; k < tr->T; k++) {
			lstm_scratch_release(&tr->wk[k].s);
			free(tr->wk[k].xg);
		}
		free(tr->wk);
	}
	free(tr->xw);
	free(tr->xs);
	free(tr->win_of);
	free(tr->xw_hash);
	free(tr->xw_ht);
	free(tr->gaps);
	free(tr->train_idx);
	free(tr->val_idx);
	free(tr->val_hit);
	free(tr->lin_hit);
	free(tr->val_loss);
	free(tr->lin_loss);
	free(tr->best_wq);
	free(tr->best_wf);
	free(tr->opt_mem);
	free(tr->curve_loss);
	free(tr->curve_val);
	free(tr->trace_train);
	ds_windows_close(tr->rd);
	free(tr->reg_dec);
	free(tr->reg_idx);
	free(tr->blk_order);
	free(tr->run_start);
	free(tr->run_tmp);
	batch_cache_release(&tr->cache);
	free(tr->blk_train);
	free(tr->blk_val);
	free(tr->blk_cand);
	free(tr->blk_win);
	free(tr->init_model);
	free(tr->init_windows);
	if (tr->lag)
		for (uint64_t i = 0; i < tr->w->n_tasks; i++)
			free(tr->lag[i]);
	free(tr->lag);
	free(tr->lag_n);
	free(tr->ep_task);
	free(tr->ep_rows);
	free(tr->xkey);
	free(tr->xsteps);
	free(tr->xinit);
	lstm_model_release(&tr->model);
}

/* ---- checkpoints --------------------------------------------------------------- */

/*
 * save_to - write the weights wq/wf (one of them, by the arithmetic) to
 * path; with ckpt, the checkpoint of epoch (optimizer and current weights)
 */
static int save_to(struct trainer *tr, const char *path, int epoch, q3_12_t *wq, double *wf,
		   int ckpt)
{
	const struct lstm_train_opts *o = tr->o;
	struct lstm_model best = tr->model;
	struct ds_model f;

	best.wq = wq;
	best.wf = wf;
	lstm_model_to_file(&f, &best);
	f.epochs = o->epochs, f.batch = o->batch, f.threads = o->threads;
	f.patience = o->patience, f.seed = o->seed, f.lr = o->lr;
	f.batch_run = tr->run;
	f.windows = (char *)o->windows_path;
	f.command_line = (char *)(o->command_line ? o->command_line : "");
	f.n_traces = tr->w->nr_traces;
	f.traces = tr->w->traces;
	f.trace_train = tr->trace_train;
	f.train_decisions = tr->n_train;
	f.val_decisions = tr->n_val;
	f.init_model = tr->init_model;
	f.init_windows = tr->init_windows;
	f.init_val_top1 = tr->init_val;
	f.n_curve = tr->n_curve;
	f.train_loss = tr->curve_loss;
	f.val_top1 = tr->curve_val;
	f.best_epoch = tr->best_epoch;
	f.linear_epochs = tr->linear_epochs;
	f.linear_val_top1 = tr->linear_val;
	f.has_ckpt = ckpt;
	f.ckpt_epoch = epoch;
	f.ckpt_bad_epochs = tr->bad_epochs;
	f.n_params = tr->net->P;
	if (tr->fixed) {
		f.ckpt_step = tr->fxo.t;
		f.ckpt_master = tr->fxo.master;
		f.ckpt_m = tr->fxo.m;
		f.ckpt_v = tr->fxo.v;
	} else {
		f.ckpt_step = tr->flo.t;
		f.ckpt_master = tr->model.wf;
		f.ckpt_m = tr->flo.m;
		f.ckpt_v = tr->flo.v;
	}
	return ds_model_save(path, &f);
}

static int save(struct trainer *tr, int epoch)
{
	return save_to(tr, tr->o->out, epoch, tr->best_wq, tr->best_wf, 1);
}

/* The settings a resumed run must share with the checkpoint. */
static int resume(struct trainer *tr, int *start_epoch)
{
	const struct lstm_train_opts *o = tr->o;
	struct ds_model *f = ds_model_load(o->out);
	struct lstm_model old;
	size_t P = tr->net->P;
	int ret = -1;

	if (!f)
		return -1;
	if (!f->has_ckpt) {
		error("cannot resume from '%s': it holds no checkpoint", o->out);
		goto out;
	}
	if (lstm_model_from_file(&old, f, o->out))
		goto out;
	if (lstm_model_check_windows(&old, tr->w, o->windows_path)) {
		lstm_model_release(&old);
		goto out;
	}
	/* the order of the batches depends on --batch-run: the checkpoint's, unless given */
	if (o->run == LSTM_RUN_CKPT)
		tr->run = tr->w->mode == DS_WIN_CANDIDATES ?
			  (f->batch_run ? f->batch_run : LSTM_LEGACY_RUN) : 1;
	if (memcmp(&old.net.sh, &tr->net->sh, sizeof(old.net.sh)) || f->batch != o->batch ||
	    f->seed != o->seed || f->lr != o->lr || f->threads != o->threads ||
	    (f->batch_run && f->batch_run != tr->run)) {
		error("cannot resume from '%s': it was trained with other settings "
		      "(hidden, recurrent, head, embed, arith, batch, batch-run, lr, seed or threads "
		      "differ)",
		      o->out);
		lstm_model_release(&old);
		goto out;
	}
	/*
	 * no gradient reaches W_h's columns past the recurrent width, so their
	 * optimizer state is zero; one that is not would move their weights
	 * (the model written then could not be read)
	 */
	if (lstm_net_unrecurrent_set(tr->net, f->ckpt_master, tr->fixed ? sizeof(q3_28_t) :
				     sizeof(double)) ||
	    lstm_net_unrecurrent_set(tr->net, f->ckpt_m, tr->fixed ? sizeof(q7_24_t) :
				     sizeof(double)) ||
	    lstm_net_unrecurrent_set(tr->net, f->ckpt_v, tr->fixed ? sizeof(int64_t) :
				     sizeof(double))) {
		error("cannot resume from '%s': its checkpoint is not zero in lstm/w_h's columns "
		      "past the recurrent width %d", o->out, tr->net->sh.R);
		lstm_model_release(&old);
		goto out;
	}
	tr->model.norm = old.norm;
	if (tr->fixed) {
		memcpy(tr->best_wq, old.wq, P * sizeof(q3_12_t));
		memcpy(tr->fxo.master, f->ckpt_master, P * sizeof(q3_28_t));
		memcpy(tr->fxo.m, f->ckpt_m, P * sizeof(q7_24_t));
		memcpy(tr->fxo.v, f->ckpt_v, P * sizeof(int64_t));
		for (size_t i = 0; i < P; i++)
			tr->model.wq[i] = fx_sat16(fx_rshift_round(tr->fxo.master[i], 16));
		tr->fxo.t = f->ckpt_step;
	} else {
		memcpy(tr->best_wf, old.wf, P * sizeof(double));
		memcpy(tr->model.wf, f->ckpt_master, P * sizeof(double));
		memcpy(tr->flo.m, f->ckpt_m, P * sizeof(double));
		memcpy(tr->flo.v, f->ckpt_v, P * sizeof(double));
		tr->flo.t = f->ckpt_step;
	}
	lstm_model_release(&old);
	tr->n_curve = SC_MIN(f->n_curve, o->epochs);
	memcpy(tr->curve_loss, f->train_loss, sizeof(double) * tr->n_curve);
	memcpy(tr->curve_val, f->val_top1, sizeof(double) * tr->n_curve);
	tr->best_epoch = f->best_epoch;
	/* a fine-tuned model's checkpoint: the initial model is still the bar */
	if (f->init_model && f->init_model[0]) {
		tr->init_model = xstrdup(f->init_model);
		tr->init_windows = xstrdup(f->init_windows ? f->init_windows : "");
		tr->init_val = f->init_val_top1;
	}
	tr->linear_epochs = f->linear_epochs;
	tr->linear_val = f->linear_val_top1;
	tr->best_val = f->best_epoch ? f->val_top1[f->best_epoch - 1] :
		       f->linear_epochs ? f->linear_val_top1 : tr->init_val;
	tr->bad_epochs = f->ckpt_bad_epochs;
	*start_epoch = f->ckpt_epoch;
	ret = 0;
out:
	ds_model_free(f);
	return ret;
}

/*
 * init_from - fine-tuning: start from the weights and the normalisation of
 * the model o->init (its inputs must be the windows' own: same names, same
 * fractions, same K), with a fresh optimizer.  The normalisation stays the
 * initial model's, which its weights were trained on.
 */
static int init_from(struct trainer *tr)
{
	const struct lstm_train_opts *o = tr->o;
	const struct lstm_shape *want = &tr->net->sh;
	struct ds_model *f = ds_model_load(o->init);
	struct lstm_model old;
	size_t P = tr->net->P;
	int ret = -1;

	if (!f)
		return -1;
	if (lstm_model_from_file(&old, f, o->init))
		goto out;
	if (lstm_model_check_init(&old, tr->w, o->windows_path, o->init))
		goto out_old;
	if (memcmp(&old.net.sh, want, sizeof(*want))) {
		const struct lstm_shape *sh = &old.net.sh;

		error("cannot fine-tune '%s': it is a %s model of hidden size %d, recurrent %d, "
		      "head %d, embedding %d; asked for %s, %d, %d, %d, %d", o->init,
		      sh->arith == LSTM_FIXED ? "fixed" : "float", sh->H, sh->R, sh->M, sh->D,
		      want->arith == LSTM_FIXED ? "fixed" : "float", want->H, want->R, want->M,
		      want->D);
		goto out_old;
	}
	tr->model.norm = old.norm;
	if (tr->fixed) {
		memcpy(tr->model.wq, old.wq, P * sizeof(q3_12_t));
		memcpy(tr->best_wq, old.wq, P * sizeof(q3_12_t));
		fx_master_from_q12(tr->fxo.master, tr->model.wq, P);
	} else {
		memcpy(tr->model.wf, old.wf, P * sizeof(double));
		memcpy(tr->best_wf, old.wf, P * sizeof(double));
	}
	tr->init_model = xstrdup(o->init);
	tr->init_windows = xstrdup(f->windows ? f->windows : "");
	ret = 0;
out_old:
	lstm_model_release(&old);
out:
	ds_model_free(f);
	return ret;
}

/* ---- epochs ---------------------------------------------------------------- */

static void progress(const struct trainer *tr, int epoch, uint64_t done, double loss,
		     double rate, double eta_s, int final);
static void shuffle(struct trainer *tr, uint64_t rng);

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void shuffle_u64(uint64_t *v, uint64_t n, uint64_t *rng)
{
	for (uint64_t i = n ? n - 1 : 0; i > 0; i--) {
		uint64_t j = fx_rand_below(rng, i + 1), t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

/*
 * shuffle_runs - v[0..n) cut into runs of tr->run consecutive entries, the
 * runs in a random order (one run: shuffle_u64()).  Consecutive decisions
 * share most of their candidates' windows, which the encoder cache encodes
 * once a batch.
 */
static void shuffle_runs(struct trainer *tr, uint64_t *v, uint64_t n, uint64_t *rng)
{
	uint64_t L = (uint64_t)tr->run, R = L ? (n + L - 1) / L : 0, k = 0;

	if (L <= 1) {
		shuffle_u64(v, n, rng);
		return;
	}
	for (uint64_t r = 0; r < R; r++)
		tr->run_start[r] = r * L;
	shuffle_u64(tr->run_start, R, rng);
	for (uint64_t r = 0; r < R; r++)
		for (uint64_t i = tr->run_start[r]; i < SC_MIN(tr->run_start[r] + L, n); i++)
			tr->run_tmp[k++] = v[i];
	memcpy(v, tr->run_tmp, n * sizeof(*v));
}

struct epoch_run {
	uint64_t te, last_draw, done;
	double loss;
};

/* Mini-batches over idx[0..n) (the job's decisions); 1 if stopped by a signal. */
static int train_batches(struct trainer *tr, const uint64_t *idx, uint64_t n, int epoch,
			 struct epoch_run *ep)
{
	const struct lstm_train_opts *o = tr->o;

	for (uint64_t b = 0; b < n; b += (uint64_t)o->batch) {
		uint64_t m = SC_MIN((uint64_t)o->batch, n - b), now;

		if (o->stop && *o->stop)
			return 1;
		run_batch(tr, 1, idx + b, m);
		ep->loss += job_loss(tr);
		set_lr(tr, ep->done);
		apply_batch(tr, m);
		ep->done += m;
		now = sc_now_ns();
		if (o->progress && epoch >= 0 && now - ep->last_draw > 200 * NSEC_PER_MSEC) {
			double el = (now - ep->te) / 1e9, rate = ep->done / (el > 0 ? el : 1e-9);
			double left = (double)(tr->n_train - ep->done) +
				      (double)tr->n_train * (o->epochs - epoch - 1);

			progress(tr, epoch + 1, ep->done, ep->loss / ep->done, rate, left / rate, 0);
			ep->last_draw = now;
		}
	}
	return 0;
}

/*
 * One pass over the training decisions in the order (rng) gives: in memory,
 * all of them shuffled; streaming, the blocks in a random order, a shuffle
 * buffer of them at a time.  0, 1 if stopped by a signal, -1 after an error.
 */
static int run_epoch(struct trainer *tr, uint64_t rng, int epoch, struct epoch_run *ep)
{
	/*
	 * A stateful encoder's states go forward in time: the regions in order.
	 * The linear stage reads no encoder: it runs as for a windowed one.
	 */
	int stopped = 0, timed = tr->stateful && !tr->wk[0].s.linear_only;

	if (!tr->stream) {
		shuffle(tr, rng);
		return train_batches(tr, tr->train_idx, tr->n_train, epoch, ep);
	}
	memcpy(tr->blk_order, tr->blk_train, tr->n_blk_train * sizeof(uint64_t));
	if (timed)
		lag_reset(tr);
	else
		shuffle_u64(tr->blk_order, tr->n_blk_train, &rng);
	for (uint64_t g = 0, m; g < tr->n_blk_train && !stopped; g += m) {
		int64_t n;

		m = region_size(tr, tr->blk_order + g, tr->n_blk_train - g);

		/* ascending within the buffer: the reader replays episodes forward */
		qsort(tr->blk_order + g, m, sizeof(*tr->blk_order), cmp_u64);
		n = timed ? load_region_stateful(tr, tr->blk_order + g, m, DS_SPLIT_TRAIN)
			  : load_region(tr, tr->blk_order + g, m, DS_SPLIT_TRAIN);
		if (n < 0)
			return -1;
		tr->reg_n = g ? tr->reg_n + 1 : 1;
		region_stat(tr, tr->blk_order + g, m);
		shuffle_runs(tr, tr->reg_idx, (uint64_t)n, &rng);
		stopped = train_batches(tr, tr->reg_idx, (uint64_t)n, epoch, ep);
	}
	return stopped;
}

/*
 * Top-1 on the validation decisions: their number correct, or -1 (printed);
 * each decision's hit in tr->val_hit, always in the same order.
 */
static int64_t validate(struct trainer *tr)
{
	uint64_t correct = 0, at = 0;

	if (tr->stateful && !tr->wk[0].s.linear_only)
		return validate_stateful(tr);
	if (!tr->stream) {
		tr->hit = tr->val_hit;
		tr->loss = tr->by_loss ? tr->val_loss : NULL;
		run_batch(tr, 0, tr->val_idx, tr->n_val);
		tr->hit = NULL;
		tr->loss = NULL;
		return (int64_t)job_correct(tr);
	}
	for (uint64_t g = 0, m; g < tr->n_blk_val; g += m) {
		int64_t n;

		m = region_size(tr, tr->blk_val + g, tr->n_blk_val - g);
		n = load_region(tr, tr->blk_val + g, m, DS_SPLIT_VAL);
		if (n < 0)
			return -1;
		region_stat(tr, tr->blk_val + g, m);
		if (!n)
			continue;
		/* the regions hold the validation decisions in order, each once */
		tr->hit = at + (uint64_t)n <= tr->n_val ? tr->val_hit + at : NULL;
		tr->loss = tr->hit && tr->by_loss ? tr->val_loss + at : NULL;
		run_batch(tr, 0, tr->reg_idx, (uint64_t)n);
		tr->hit = NULL;
		tr->loss = NULL;
		at += (uint64_t)n;
		correct += job_correct(tr);
	}
	return (int64_t)correct;
}

/* the summed log-loss (Q.12) of the last validation pass: any thread count alike */
static int64_t val_loss_sum(const struct trainer *tr, const int32_t *loss)
{
	int64_t sum = 0;

	for (uint64_t i = 0; i < tr->n_val; i++)
		sum += loss[i];
	return sum;
}

/*
 * beats_linear - whether the weights validate() last ran beat the linear
 * stage's best epoch on validation by more than chance: McNemar's test on
 * the decisions where exactly one of the two is right (won: this one),
 * won - lost at least 1.96 standard deviations of it under no difference,
 * sqrt(won + lost): a two-sided 5% level, in integers (any arithmetic, any
 * thread count decides alike).  1 without the linear stage's hits.
 */
static int beats_linear(const struct trainer *tr, uint64_t *won, uint64_t *lost)
{
	uint64_t b = 0, c = 0;

	if (!tr->have_lin_hit)
		return 1;
	for (uint64_t i = 0; i < tr->n_val; i++) {
		b += tr->val_hit[i] && !tr->lin_hit[i];
		c += tr->lin_hit[i] && !tr->val_hit[i];
	}
	*won = b, *lost = c;
	return b > c && 10000 * (b - c) * (b - c) >= 38416 * (b + c);
}

/* ---- the linear stage ------------------------------------------------------ */

/* shuffle - the training order of an epoch: a function of rng alone, so resumable exactly */
static void shuffle(struct trainer *tr, uint64_t rng)
{
	const struct ds_windows *w = tr->w;

	for (uint64_t i = 0, k = 0; i < w->n_dec; i++)
		if (usable(tr, &w->dec[i]) && w->dec[i].split == DS_SPLIT_TRAIN)
			tr->train_idx[k++] = i;
	shuffle_runs(tr, tr->train_idx, tr->n_train, &rng);
}

static void set_linear_only(struct trainer *tr, int on)
{
	for (int k = 0; k < tr->T; k++)
		tr->wk[k].s.linear_only = on;
}

/* reset_optimizer - a fresh Adam (moments and step count) from the current weights */
static void reset_optimizer(struct trainer *tr)
{
	size_t P = tr->net->P;

	if (tr->fixed) {
		memset(tr->fxo.m, 0, P * sizeof(*tr->fxo.m));
		memset(tr->fxo.v, 0, P * sizeof(*tr->fxo.v));
		tr->fxo.t = 0;
		fx_master_from_q12(tr->fxo.master, tr->model.wq, P);
	} else {
		memset(tr->flo.m, 0, P * sizeof(*tr->flo.m));
		memset(tr->flo.v, 0, P * sizeof(*tr->flo.v));
		tr->flo.t = 0;
	}
}

static void copy_tensor(struct trainer *tr, int t, int to_best)
{
	size_t off = tr->net->off[t], n = tr->net->rows[t] * tr->net->cols[t];

	if (tr->fixed)
		memcpy(to_best ? tr->best_wq + off : tr->model.wq + off,
		       to_best ? tr->model.wq + off : tr->best_wq + off, n * sizeof(q3_12_t));
	else
		memcpy(to_best ? tr->best_wf + off : tr->model.wf + off,
		       to_best ? tr->model.wf + off : tr->best_wf + off, n * sizeof(double));
}

/*
 * train_linear - the first stage: the linear path alone (a softmax ranker
 * over the normalised state features), a few epochs, keeping the best on
 * validation.  The head's last layer is then zeroed so that the whole
 * network starts as exactly that ranker, and the LSTM and head are a
 * residual that must earn its place: the epochs that follow are kept only
 * when their validation figure beats the linear one.
 */
static int train_linear(struct trainer *tr, struct lstm_train_result *res)
{
	const struct lstm_train_opts *o = tr->o;
	size_t off2 = tr->net->off[LT_W2], M = tr->net->rows[LT_W2];
	double best = -1;
	int bad = 0;

	set_linear_only(tr, 1);
	for (int e = 0; e < o->linear_epochs && bad < o->patience; e++) {
		struct epoch_run ep = { .te = sc_now_ns() };
		double val = -1;
		int64_t c;
		int r;

		r = run_epoch(tr, o->seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(e + 1)), -1, &ep);
		if (r < 0)
			return -1;
		if (r > 0)	/* a signal: no more passes (the main loop stops at once) */
			break;
		if (tr->n_val) {
			c = validate(tr);
			if (c < 0)
				return -1;
			val = c / (double)tr->n_val;
		}
		res->linear_epochs = tr->linear_epochs = e + 1;
		if (!tr->n_val || val > best) {
			best = val;
			bad = 0;
			copy_tensor(tr, LT_WL, 1);
			if (tr->n_val) {
				memcpy(tr->lin_hit, tr->val_hit, tr->n_val);
				memcpy(tr->lin_loss, tr->val_loss, tr->n_val * sizeof(int32_t));
				tr->have_lin_hit = 1;
			}
		} else {
			bad++;
		}
		if (o->verbose)
			fprintf(stderr, "linear %d/%d  val top-1 %s%.2f%%\n", e + 1,
				o->linear_epochs, tr->n_val ? "" : "(no validation) ",
				100.0 * (val < 0 ? 0 : val));
	}
	set_linear_only(tr, 0);
	copy_tensor(tr, LT_WL, 0);
	if (tr->fixed)
		memset(tr->model.wq + off2, 0, M * sizeof(q3_12_t));
	else
		memset(tr->model.wf + off2, 0, M * sizeof(double));
	reset_optimizer(tr);
	res->linear_val_top1 = tr->linear_val = best;
	/*
	 * --linear-output: the network as it is now, the head's last layer
	 * zero, scores as the linear ranker alone (best epoch 0: no LSTM epoch)
	 */
	if (o->linear_out && !(tr->o->stop && *tr->o->stop) &&
	    save_to(tr, o->linear_out, 0, tr->model.wq, tr->model.wf, 0))
		return -1;
	if (tr->n_val && best >= 0) {
		/* the residual has to beat this to be kept */
		tr->best_val = best;
		tr->best_loss = val_loss_sum(tr, tr->lin_loss);
		tr->best_epoch = 0;
		if (tr->fixed)
			memcpy(tr->best_wq, tr->model.wq, tr->net->P * sizeof(q3_12_t));
		else
			memcpy(tr->best_wf, tr->model.wf, tr->net->P * sizeof(double));
	}
	return 0;
}

/* ---- progress ------------------------------------------------------------------ */

static void progress(const struct trainer *tr, int epoch, uint64_t done, double loss,
		     double rate, double eta_s, int final)
{
	const struct lstm_train_opts *o = tr->o;
	char val[32];

	if (!o->progress && !(final && o->verbose))
		return;
	if (epoch > 1 && tr->n_curve >= epoch - 1 && tr->curve_val[epoch - 2] >= 0)
		snprintf(val, sizeof(val), "%.2f%%", 100.0 * tr->curve_val[epoch - 2]);
	else
		snprintf(val, sizeof(val), "-");
	if (final && tr->n_curve >= epoch && tr->curve_val[epoch - 1] >= 0)
		snprintf(val, sizeof(val), "%.2f%%", 100.0 * tr->curve_val[epoch - 1]);
	fprintf(stderr, "%sepoch %d/%d  %3.0f%%  loss %.4f  val top-1 %s  %.0f decisions/s  "
		"ETA %.0fs%s", o->progress ? "\r\033[K" : "", epoch, o->epochs,
		100.0 * done / (double)(tr->n_train ? tr->n_train : 1), loss, val, rate, eta_s,
		final ? "\n" : "");
	fflush(stderr);
}

/* ---- the loop ------------------------------------------------------------------ */

int lstm_train(const struct ds_windows *w, const struct lstm_train_opts *o,
	       struct lstm_train_result *res)
{
	struct trainer tr = {
		.w = w, .o = o, .best_val = -1, .init_val = -1, .linear_val = -1,
		.best_loss = INT64_MAX, .lstm_loss = INT64_MAX,
		.gate_lock = PTHREAD_MUTEX_INITIALIZER, .gate_cond = PTHREAD_COND_INITIALIZER,
	};
	struct lstm_shape sh = {
		.mode = w->mode, .arith = o->arith, .H = o->hidden, .R = o->recurrent,
		.encoder = w->mode == DS_WIN_CANDIDATES ? o->encoder : LSTM_ENC_WINDOW,
	};
	uint64_t t0 = sc_now_ns(), trained = 0;
	int start_epoch = 0, ret = -1;

	memset(res, 0, sizeof(*res));
	res->best_val_top1 = -1;
	res->init_val_top1 = -1;
	res->linear_val_top1 = -1;
	tr.fixed = o->arith == LSTM_FIXED;
	/* candidates mode streams the file when given its header only */
	tr.stream = w->mode == DS_WIN_CANDIDATES && !w->dec;
	tr.T = o->threads < 1 ? 1 : o->threads;
	tr.run = w->mode == DS_WIN_CANDIDATES && o->run > 1 ? o->run : 1;
	tr.stateful = sh.encoder == LSTM_ENC_STATEFUL;
	if (tr.stateful && (w->mode != DS_WIN_CANDIDATES || !tr.stream))
		return error("cannot train a stateful encoder on '%s': candidates mode, streamed, "
			     "only", o->windows_path);
	if (tr.stateful && w->version < 2)
		return error("cannot train a stateful encoder on '%s': a version %d windows file "
			     "holds K-episode windows, not the tasks' whole histories (run "
			     "schedcast features again)", o->windows_path, w->version);
	if (w->mode == DS_WIN_CANDIDATES) {
		sh.K = w->K, sh.E = w->E, sh.S = w->S, sh.M = o->head;
	} else {
		sh.W = w->W, sh.V = (int)SC_MIN(w->n_vocab, (uint64_t)INT32_MAX), sh.D = o->embed;
	}
	if (lstm_net_init(&tr.model.net, &sh))
		return error("cannot train on '%s': unsupported shape", o->windows_path);
	tr.net = &tr.model.net;
	tr.model.ep_names = xcalloc((size_t)w->E + 1, sizeof(char *));
	tr.model.state_names = xcalloc((size_t)w->S + 1, sizeof(char *));
	for (int i = 0; i < w->E && w->mode == DS_WIN_CANDIDATES; i++)
		tr.model.ep_names[i] = xstrdup(w->ep_names[i]);
	for (int i = 0; i < w->S && w->mode == DS_WIN_CANDIDATES; i++)
		tr.model.state_names[i] = xstrdup(w->state_names[i]);
	tr.model.ep_frac = xcalloc((size_t)w->E + 1, 1);
	tr.model.state_frac = xcalloc((size_t)w->S + 1, 1);
	if (w->mode == DS_WIN_CANDIDATES) {
		memcpy(tr.model.ep_frac, w->ep_frac, (size_t)w->E);
		memcpy(tr.model.state_frac, w->state_frac, (size_t)w->S);
	} else {
		tr.model.net.sh.E = tr.model.net.sh.S = 0;	/* no names in sequence mode */
		tr.model.vocab = xcalloc((size_t)sh.V + 1, sizeof(char *));
		for (int i = 0; i < sh.V; i++)
			tr.model.vocab[i] = xstrdup(w->vocab[i]);
	}
	tr.model.seq_gap_frac = w->seq_gap_frac;
	tr.curve_loss = xcalloc((size_t)o->epochs + 1, sizeof(double));
	tr.curve_val = xcalloc((size_t)o->epochs + 1, sizeof(double));

	setup_params(&tr);
	/* a resumed run takes the checkpoint's normalisation before reading the data */
	if (o->resume && resume(&tr, &start_epoch))
		goto out;
	if (!o->resume && o->init && init_from(&tr))
		goto out;
	if (setup_data(&tr))
		goto out;
	if (tr.stateful) {
		tr.lag_n = xcalloc(w->n_tasks + 1, sizeof(*tr.lag_n));
		tr.lag = xcalloc(w->n_tasks + 1, sizeof(*tr.lag));
		tr.lag_bytes = (size_t)sh.K * sh.E * sizeof(int16_t) +
			       2 * (size_t)o->hidden * (tr.fixed ? sizeof(q3_12_t) : sizeof(double));
		tr.ep_task = xcalloc(EP_CHUNK, sizeof(*tr.ep_task));
		tr.ep_rows = xcalloc((size_t)EP_CHUNK * sh.E, sizeof(*tr.ep_rows));
	}
	tr.val_hit = xcalloc(tr.n_val + 1, 1);
	tr.lin_hit = xcalloc(tr.n_val + 1, 1);
	tr.val_loss = xcalloc(tr.n_val + 1, sizeof(int32_t));
	tr.lin_loss = xcalloc(tr.n_val + 1, sizeof(int32_t));
	tr.by_loss = tr.n_val && tr.n_val < LSTM_FEW_VAL;
	res->by_loss = tr.by_loss;
	if (setup_workers(&tr))
		goto out;
	if (w->mode == DS_WIN_CANDIDATES)
		batch_cache_init(&tr.cache, tr.net, tr.fixed, tr.maxcand, CACHE_WINDOWS,
				 CACHE_SLOTS);
	if (tr.stateful) {
		/* the store's rows carry their steps and states (xw_reserve() keeps these) */
		tr.cache.steps = tr.xsteps;
		tr.cache.init_q = tr.fixed ? tr.xinit : NULL;
		tr.cache.init_f = tr.fixed ? NULL : tr.xinit;
	}
	res->train_decisions = tr.n_train;
	res->val_decisions = tr.n_val;
	/*
	 * Fine-tuning: the initial model is the one to beat.  Its validation
	 * top-1 is the bar an epoch must clear to replace its weights (best
	 * epoch 0: none did, the initial weights are kept).
	 */
	if (o->init && !o->resume && tr.n_val) {
		int64_t c = validate(&tr);

		if (c < 0)
			goto out;
		tr.init_val = c / (double)tr.n_val;
		tr.best_val = tr.init_val;
		tr.best_loss = val_loss_sum(&tr, tr.val_loss);
		if (o->verbose)
			fprintf(stderr, "initial model %s: val top-1 %.2f%%\n", o->init,
				100.0 * tr.init_val);
	}
	if (!o->resume && !o->init && w->mode == DS_WIN_CANDIDATES && w->S > 0 && o->linear_epochs > 0)
		if (train_linear(&tr, res))
			goto out;
	/*
	 * A resumed run whose best is still the linear stage's: its hits, for
	 * the same test as the run that was interrupted
	 */
	if (o->resume && tr.n_val && !tr.best_epoch && tr.linear_epochs && tr.linear_val >= 0) {
		q3_12_t *wq = tr.model.wq;
		double *wf = tr.model.wf;
		int64_t c;

		tr.model.wq = tr.best_wq, tr.model.wf = tr.best_wf;
		set_linear_only(&tr, 1);
		c = validate(&tr);
		set_linear_only(&tr, 0);
		tr.model.wq = wq, tr.model.wf = wf;
		if (c < 0)
			goto out;
		memcpy(tr.lin_hit, tr.val_hit, tr.n_val);
		memcpy(tr.lin_loss, tr.val_loss, tr.n_val * sizeof(int32_t));
		tr.have_lin_hit = 1;
		tr.best_loss = val_loss_sum(&tr, tr.lin_loss);
	} else if (o->resume && tr.by_loss && (tr.best_epoch || tr.init_model)) {
		/* the kept weights' log-loss, the bar of the epochs to come */
		q3_12_t *wq = tr.model.wq;
		double *wf = tr.model.wf;
		int64_t c;

		tr.model.wq = tr.best_wq, tr.model.wf = tr.best_wf;
		c = validate(&tr);
		tr.model.wq = wq, tr.model.wf = wf;
		if (c < 0)
			goto out;
		tr.best_loss = val_loss_sum(&tr, tr.val_loss);
	}

	for (int epoch = start_epoch; epoch < o->epochs; epoch++) {
		uint64_t rng = o->seed ^ (0x5851f42d4c957f2dULL * (uint64_t)(epoch + 1));
		uint64_t te = sc_now_ns();
		struct epoch_run ep = { .te = te };
		double loss = 0;
		int interrupted = 0, improved;

		if (tr.bad_epochs >= o->patience && tr.n_val) {
			res->early_stopped = 1;
			break;
		}
		/* the epoch's order depends only on (seed, epoch): resumable exactly */
		interrupted = run_epoch(&tr, rng, epoch, &ep);
		if (interrupted < 0)
			goto out;
		loss = ep.loss;
		trained += ep.done;
		if (interrupted) {
			res->interrupted = 1;
			if (o->progress)
				fputc('\n', stderr);
			break;
		}
		tr.curve_loss[epoch] = loss / (double)tr.n_train;
		tr.curve_val[epoch] = -1;
		if (tr.n_val) {
			int64_t c = validate(&tr);

			if (c < 0)
				goto out;
			tr.curve_val[epoch] = c / (double)tr.n_val;
		}
		tr.n_curve = epoch + 1;
		improved = !tr.n_val || tr.curve_val[epoch] > tr.best_val;
		if (tr.by_loss) {
			int64_t l = val_loss_sum(&tr, tr.val_loss);

			improved = l < tr.best_loss;
			/* the LSTM's lowest while the linear stage is kept: for the summary */
			if (!tr.best_epoch && tr.have_lin_hit && l < tr.lstm_loss) {
				tr.lstm_loss = l;
				res->loss_epoch = epoch + 1;
			}
			if (improved)
				tr.best_loss = l;
		} else if (improved && tr.n_val && !tr.best_epoch &&
		    !beats_linear(&tr, &res->unsure_won, &res->unsure_lost)) {
			/* over the linear stage, by more than chance (beats_linear) */
			improved = 0;
			res->unsure_val_top1 = tr.curve_val[epoch];
			res->unsure_epoch = epoch + 1;
		}
		if (improved) {
			tr.best_val = tr.curve_val[epoch];
			tr.best_epoch = epoch + 1;
			tr.bad_epochs = 0;
			if (tr.fixed)
				memcpy(tr.best_wq, tr.model.wq, tr.net->P * sizeof(q3_12_t));
			else
				memcpy(tr.best_wf, tr.model.wf, tr.net->P * sizeof(double));
		} else {
			tr.bad_epochs++;
		}
		{
			double el = (sc_now_ns() - te) / 1e9, rate = tr.n_train / (el > 0 ? el : 1e-9);

			progress(&tr, epoch + 1, tr.n_train, tr.curve_loss[epoch], rate,
				 (double)tr.n_train * (o->epochs - epoch - 1) / rate, 1);
		}
		if (save(&tr, epoch + 1))
			goto out;
	}
	if (o->verbose && tr.stream)
		fprintf(stderr, "shuffle buffer: %llu region%s an epoch, at most %llu of %llu bytes\n",
			(unsigned long long)tr.reg_n, tr.reg_n == 1 ? "" : "s",
			(unsigned long long)tr.reg_max, (unsigned long long)tr.budget);
	res->epochs_run = tr.n_curve;
	res->best_epoch = tr.best_epoch;
	res->residual_kept = tr.best_epoch > 0;
	res->linear_epochs = tr.linear_epochs;
	res->linear_val_top1 = tr.linear_val;
	res->best_val_top1 = tr.n_val ? tr.best_val : -1;
	if (tr.by_loss && tr.have_lin_hit)
		res->linear_loss = val_loss_sum(&tr, tr.lin_loss) / (double)tr.n_val / 4096.0;
	if (res->loss_epoch)
		res->lstm_loss = tr.lstm_loss / (double)tr.n_val / 4096.0;
	res->init_val_top1 = tr.init_val;
	res->last_loss = tr.n_curve ? tr.curve_loss[tr.n_curve - 1] : 0;
	res->cache_uses = tr.cache.uses;
	res->cache_encoded = tr.cache.encoded;
	{
		double el = (sc_now_ns() - t0) / 1e9;

		res->decisions_per_s = trained / (el > 0 ? el : 1e-9);
	}
	ret = 0;
out:
	teardown(&tr);
	return ret;
}
