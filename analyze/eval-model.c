// SPDX-License-Identifier: GPL-2.0
/*
 * Evaluating a windows file, with the model when one is given: the glue
 * between model/lstm.h and the evaluator.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "common/common.h"
#include "features/features.h"
#include "model/lstm.h"

int ana_parse_split(const char *s, unsigned *mask)
{
	if (!strcmp(s, "test"))
		*mask = 1u << DS_SPLIT_TEST;
	else if (!strcmp(s, "val"))
		*mask = 1u << DS_SPLIT_VAL;
	else if (!strcmp(s, "all"))
		*mask = ANA_SPLIT_ALL;
	else
		return -1;
	return 0;
}

/*
 * The encoder cache holds the hidden state of windows already encoded: a
 * task waiting in a runqueue keeps its window from one decision to the next.
 * Its results are bit-identical to lstm_predict() (model/lstm.h), so eval,
 * report and live agree whether or not they hit.
 */
#define EVAL_CACHE_ENTRIES 4096

struct model_ctx {
	const struct lstm_model *m;
	struct lstm_cache *cache;	/* candidates mode, windowed encoder */
	struct lstm_online *online;	/* --online: a step after each scored decision */
	int32_t *scores;	/* (LSTM_MAX_CAND or V) */
	const char *path;
	/*
	 * A stateful encoder: the tasks' states, stepped on every episode of the
	 * file in order (ep_pos of them so far) before the decisions after it
	 */
	struct lstm_tasks *tasks;
	struct ds_windows_reader *rd;
	const char *wpath;
	uint64_t ep_pos;
	uint32_t *ep_task;	/* (EP_CHUNK) */
	int16_t *ep_rows;	/* (EP_CHUNK, E) */
};

#define EP_CHUNK 4096	/* episodes read at a time */

/* tasks_advance - step the tasks' states on the file's episodes up to (not including) `to` */
static int tasks_advance(struct model_ctx *mc, uint64_t to)
{
	int E = lstm_model_shape(mc->m)->E;

	if (to < mc->ep_pos)
		return error("cannot read '%s': a decision's episodes go back in time (%llu after "
			     "%llu)", mc->wpath, (unsigned long long)to,
			     (unsigned long long)mc->ep_pos);
	while (mc->ep_pos < to) {
		uint64_t n = SC_MIN((uint64_t)EP_CHUNK, to - mc->ep_pos);

		if (ds_windows_read_episodes(mc->rd, mc->ep_pos, n, mc->ep_task, mc->ep_rows))
			return -1;
		for (uint64_t i = 0; i < n; i++)
			lstm_tasks_step(mc->tasks, mc->ep_task[i], mc->ep_rows + i * (uint64_t)E);
		mc->ep_pos += n;
	}
	return 0;
}

/*
 * tasks_catch_up - after a block: the states stepped up to its last
 * decision whether or not it was scored (the same steps in the same order;
 * a version 3 file's replay holds the episodes of one block only)
 */
static int tasks_catch_up(struct model_ctx *mc, const struct ds_windows *w)
{
	if (!mc->tasks || !w->n_dec)
		return 0;
	return tasks_advance(mc, w->dec[w->n_dec - 1].ep_off);
}

/* tasks_rewind - back to the zero state before the first episode */
static void tasks_rewind(struct model_ctx *mc)
{
	lstm_tasks_reset(mc->tasks);
	mc->ep_pos = 0;
}

/* predict_tasks - a stateful model's scores of decision d (its states caught up first) */
static int predict_tasks(struct model_ctx *mc, const struct ds_windows *w,
			 const struct ds_decision *d, uint64_t i)
{
	int rc;

	if (tasks_advance(mc, d->ep_off))
		return -1;
	rc = lstm_predict_tasks(mc->m, mc->tasks, &w->cand[d->cand_off],
				&w->state[d->cand_off * (uint64_t)w->S], d->ncand, mc->scores);
	if (rc == -2) {
		const struct ds_candidate *c = &w->cand[d->cand_off];

		for (int j = 0; j < d->ncand; j++)
			if (c[j].n_ep != lstm_tasks_steps(mc->tasks, c[j].task))
				return error("cannot read '%s': decision %llu: candidate %d (task "
					     "%u) has %u episodes, %u are stored before it",
					     mc->wpath, (unsigned long long)i, j, c[j].task,
					     c[j].n_ep, lstm_tasks_steps(mc->tasks, c[j].task));
	}
	if (rc < 0)
		return error("'%s': the model cannot score decision %llu", mc->path,
			     (unsigned long long)i);
	return 0;
}

static int predict(void *ctx, const struct ds_windows *w, uint64_t i, int top[3])
{
	struct model_ctx *mc = ctx;
	const struct ds_decision *d = &w->dec[i];

	top[0] = top[1] = top[2] = -1;
	if (w->mode == DS_WIN_SEQUENCE) {
		const struct lstm_shape *sh = lstm_model_shape(mc->m);

		if (lstm_predict_seq(mc->m, &w->seq_ids[i * (uint64_t)w->W],
				     &w->seq_gaps[i * (uint64_t)w->W], mc->scores) < 0)
			return error("'%s': the model cannot score decision %llu", mc->path,
				     (unsigned long long)i);
		ana_top3(mc->scores, sh->V, top);
		return 0;
	}
	if (d->ncand < 1)
		return 0;	/* nothing to choose from: every predictor misses */
	if (d->ncand > LSTM_MAX_CAND)
		return error("'%s': decision %llu has %d candidates, more than the model's limit %d",
			     mc->path, (unsigned long long)i, d->ncand, LSTM_MAX_CAND);
	if (mc->tasks) {
		if (predict_tasks(mc, w, d, i))
			return -1;
		ana_top3(mc->scores, d->ncand, top);
		if (mc->online)
			lstm_online_step_tasks(mc->online, mc->tasks, &w->cand[d->cand_off],
					       &w->state[d->cand_off * (uint64_t)w->S], d->ncand,
					       d->label);
		return 0;
	}
	if (lstm_predict(mc->m, mc->cache,
				&w->window[d->cand_off * (uint64_t)w->K * (uint64_t)w->E],
				&w->state[d->cand_off * (uint64_t)w->S], d->ncand, mc->scores) < 0)
		return error("'%s': the model cannot score decision %llu", mc->path,
			     (unsigned long long)i);
	ana_top3(mc->scores, d->ncand, top);
	if (mc->online)
		lstm_online_step(mc->online,
				 &w->window[d->cand_off * (uint64_t)w->K * (uint64_t)w->E],
				 &w->state[d->cand_off * (uint64_t)w->S], d->ncand, d->label);
	return 0;
}

static void ana_dec_filter_release(struct ana_dec_filter *df)
{
	for (int i = 0; df->ix && i < df->nr; i++)
		ds_task_index_release(&df->ix[i]);
	free(df->ix);
	memset(df, 0, sizeof(*df));
}

/*
 * ana_dec_filter_init - df for decisions of the input traces[nr] (their task
 * tables are read only when --pid or --comm needs them).  f may be NULL.
 * 0, or -1 after a one-line error naming the trace and what needed it.
 * Release with ana_dec_filter_release().
 */
static int ana_dec_filter_init(struct ana_dec_filter *df, const struct ds_filter *f,
			       char *const *traces, int nr)
{
	memset(df, 0, sizeof(*df));
	df->f = f;
	if (!f || (!f->nr_pids && !f->nr_comms))
		return 0;
	/* thread groups and comms: from the task tables of the input traces */
	df->ix = xcalloc(nr > 0 ? (size_t)nr : 1, sizeof(*df->ix));
	df->nr = nr;
	for (int i = 0; i < nr; i++) {
		struct ds_trace_reader *r = NULL;
		const struct ds_task *tt;
		uint64_t nt;

		if (access(traces[i], R_OK))
			error("cannot read '%s' (%s): --pid and --comm need the task table of the "
			      "windows file's input trace", traces[i], strerror(errno));
		else
			r = ds_trace_open(traces[i]);
		if (!r) {
			ana_dec_filter_release(df);
			return -1;
		}
		tt = ds_trace_tasks(r, &nt);
		ds_task_index_init(&df->ix[i], tt, tt ? nt : 0);
		ds_trace_close(r);
	}
	return 0;
}

int ana_dec_filter_pass(const struct ana_dec_filter *df, int trace, int cpu, uint64_t ts,
			int32_t pid)
{
	const struct ds_filter *f = df->f;
	const struct ds_task_index *ix = NULL;

	if (!f)
		return 1;
	if (!ds_filter_cpu(f, cpu) || !ds_filter_time(f, ts))
		return 0;
	if (df->ix && trace >= 0 && trace < df->nr)
		ix = &df->ix[trace];
	return ds_filter_task_at(f, ix, pid, ts);
}

int ana_eval_file(struct ana_eval *e, const char *windows_path, const char *model_path,
		  const char *split_name, unsigned split_mask, const struct ds_filter *f)
{
	return ana_eval_file_online(e, windows_path, model_path, split_name, split_mask, 0, f);
}

/*
 * Decisions read at a time, and at most EVAL_BLOCK_CANDS candidates (the
 * block ends early): the reader's buffers take the largest block's
 * candidates, and a longer trace has a busier stretch.  On a hackbench
 * trace recorded 10x longer than another (61.6 candidates a decision
 * against 41.9), the largest of 128 decisions held 33k candidates (8.7 MB
 * of buffers) against 17k.
 */
#define EVAL_BLOCK 128
#define EVAL_BLOCK_CANDS 4096

/*
 * struct block_view - one block of the file as a struct ds_windows of its
 * own: the header's fields, the block's arrays, the decisions' cand_off
 * rebased onto them.
 */
struct block_view {
	struct ds_windows_reader *rd;
	struct ds_decision *dec;	/* (EVAL_BLOCK) */
	struct ds_windows v;
};

/* read_view - the block from decision at into bv->v (bv->v.n_dec decisions) */
static int read_view(struct block_view *bv, uint64_t at)
{
	const struct ds_windows *h = ds_windows_header(bv->rd);
	uint64_t n = SC_MIN((uint64_t)EVAL_BLOCK, h->n_dec - at);
	struct ds_windows_block b;

	if (ds_windows_read_max(bv->rd, at, n, EVAL_BLOCK_CANDS, &b))
		return -1;
	n = b.n_dec;
	for (uint64_t i = 0; i < n; i++) {
		bv->dec[i] = b.dec[i];
		bv->dec[i].cand_off -= b.cand_start;
	}
	bv->v = *h;
	bv->v.n_dec = n;
	bv->v.n_cand = b.n_cand;
	bv->v.dec = bv->dec;
	bv->v.cand = (struct ds_candidate *)b.cand;
	bv->v.window = (int16_t *)b.window;
	bv->v.state = (int16_t *)b.state;
	bv->v.seq_ids = (int32_t *)b.seq_ids;
	bv->v.seq_gaps = (int16_t *)b.seq_gaps;
	return 0;
}

/*
 * online_warmup - a training step on every decision of the validation split
 * (a stateful model's task states rewound after: the encoder is frozen
 * online, so they do not depend on the steps)
 */
static int online_warmup(struct block_view *bv, struct model_ctx *mc)
{
	const struct ds_windows *h = ds_windows_header(bv->rd), *w = &bv->v;

	for (uint64_t at = 0; at < h->n_dec; at += w->n_dec) {
		if (read_view(bv, at))
			return -1;
		for (uint64_t i = 0; i < w->n_dec; i++) {
			const struct ds_decision *d = &w->dec[i];

			if (d->split != DS_SPLIT_VAL || d->ncand > LSTM_MAX_CAND)
				continue;
			if (!mc->tasks) {
				lstm_online_step(mc->online,
						 &w->window[d->cand_off * (uint64_t)w->K * w->E],
						 &w->state[d->cand_off * (uint64_t)w->S], d->ncand,
						 d->label);
				continue;
			}
			if (tasks_advance(mc, d->ep_off))
				return -1;
			lstm_online_step_tasks(mc->online, mc->tasks, &w->cand[d->cand_off],
					       &w->state[d->cand_off * (uint64_t)w->S], d->ncand,
					       d->label);
		}
		if (tasks_catch_up(mc, w))
			return -1;
	}
	if (mc->tasks)
		tasks_rewind(mc);
	return 0;
}

int ana_eval_file_online(struct ana_eval *e, const char *windows_path, const char *model_path,
			 const char *split_name, unsigned split_mask, double online_lr,
			 const struct ds_filter *f)
{
	const struct ds_windows *w;
	struct block_view bv = { 0 };
	struct lstm_model *m = NULL;
	struct model_ctx mc = { .path = model_path };
	struct ana_dec_filter df = { 0 };
	int ret = -1, started = 0;

	bv.rd = feat_windows_open(windows_path);
	if (!bv.rd)
		return -1;
	w = ds_windows_header(bv.rd);
	bv.dec = xcalloc(EVAL_BLOCK, sizeof(*bv.dec));
	if (ana_dec_filter_init(&df, f, w->traces, w->nr_traces))
		goto out;
	if (model_path) {
		const struct lstm_shape *sh;

		m = lstm_model_load(model_path);
		if (!m)
			goto out;
		if (lstm_model_check_windows(m, w, windows_path))
			goto out;
		sh = lstm_model_shape(m);
		mc.m = m;
		if (sh->encoder == LSTM_ENC_STATEFUL) {
			if (w->version < 2) {
				error("cannot use '%s' with the stateful model '%s': a version %d "
				      "windows file holds K-episode windows, not the tasks' whole "
				      "histories (run schedcast features again)", windows_path,
				      model_path, w->version);
				goto out;
			}
			mc.tasks = lstm_tasks_new(m);
			mc.rd = bv.rd;
			mc.wpath = windows_path;
			mc.ep_task = xcalloc(EP_CHUNK, sizeof(*mc.ep_task));
			mc.ep_rows = xcalloc((size_t)EP_CHUNK * sh->E, sizeof(*mc.ep_rows));
		}
		if (online_lr > 0) {
			if (sh->mode != DS_WIN_CANDIDATES) {
				error("cannot adapt '%s' online: a sequence model", model_path);
				goto out;
			}
			mc.online = lstm_online_new(m, online_lr);
			if (!mc.online) {
				error("cannot adapt '%s' online: learning rate %g", model_path,
				      online_lr);
				goto out;
			}
			/* the decisions between training and the scored ones: learnt, not scored */
			if (!((split_mask >> DS_SPLIT_VAL) & 1) && online_warmup(&bv, &mc))
				goto out;
		} else if (sh->mode == DS_WIN_CANDIDATES && !mc.tasks) {
			mc.cache = lstm_cache_new(m, EVAL_CACHE_ENTRIES);
		}
		if (mc.online && !mc.tasks)
			mc.cache = lstm_online_cache(mc.online);
		mc.scores = xcalloc(sh->mode == DS_WIN_SEQUENCE ? (size_t)sh->V : LSTM_MAX_CAND,
				    sizeof(*mc.scores));
		ana_eval_init(e, w->mode, model_path,
			      sh->arith == LSTM_FLOAT ? (mc.online ? "float, online" : "float")
						      : (mc.online ? "fixed, online" : "fixed"),
			      split_name);
	} else {
		ana_eval_init(e, w->mode, NULL, NULL, split_name);
	}
	started = 1;
	e->inferred_switches = w->cov.inferred_switches;
	e->lost_resets = w->cov.lost_resets;
	for (uint64_t at = 0; at < w->n_dec; at += bv.v.n_dec)
		if (read_view(&bv, at) ||
		    ana_eval_windows_add(e, &bv.v, split_mask, &df, m ? predict : NULL, &mc) ||
		    tasks_catch_up(&mc, &bv.v))
			goto out;
	ana_eval_finish(e);
	ret = 0;
out:
	if (ret && started)
		ana_eval_release(e);
	free(mc.scores);
	if (mc.online)
		lstm_online_free(mc.online);	/* frees its cache */
	else
		lstm_cache_free(mc.cache);
	lstm_tasks_free(mc.tasks);
	free(mc.ep_task);
	free(mc.ep_rows);
	lstm_model_free(m);
	free(bv.dec);
	ds_windows_close(bv.rd);
	ana_dec_filter_release(&df);
	return ret;
}

int ana_model_state_set(const struct lstm_model *m)
{
	const int8_t *frac;
	char *const *names = lstm_model_state_names(m, &frac);
	int set = names ? feat_set_of(names, frac, lstm_model_shape(m)->S) : -1;

	return set < 0 ? FEAT_SET_FULL : set;
}

void ana_model_episodes(struct feat_state *fs, struct lstm_tasks *t)
{
	const uint32_t *task;
	const int16_t *rows;
	size_t n;

	if (!t)
		return;
	n = feat_take_episodes(fs, &task, &rows);
	for (size_t i = 0; i < n; i++)
		lstm_tasks_step(t, task[i], rows + i * FEAT_E);
	/* after their last episodes: the tasks gone give their states back */
	n = feat_take_retired(fs, &task);
	for (size_t i = 0; i < n; i++)
		lstm_tasks_forget(t, task[i]);
}

int ana_model_predict(const struct lstm_model *m, struct lstm_cache *c,
		      const struct lstm_tasks *t, const struct feat_decision_out *out,
		      int32_t *scores)
{
	if (out->ncand < 1 || out->ncand > LSTM_MAX_CAND)
		return -1;
	if (t) {
		int rc = lstm_predict_tasks(m, t, out->cand, out->state, out->ncand, scores);

		return rc < 0 ? -1 : rc;
	}
	return out->window ? lstm_predict(m, c, out->window, out->state, out->ncand, scores) : -1;
}

int ana_eval_trace(struct ana_eval *e, const char *trace_path, const char *model_path,
		   const char *split_name, unsigned split_mask, const struct ds_filter *f)
{
	struct ana_dec_filter df = { .f = f };
	struct ds_task_index ix = { 0 };
	static const int split[3] = { 70, 15, 15 };	/* schedcast features' default */
	char *ep[FEAT_E], *st[FEAT_S];
	int8_t epf[FEAT_E], stf[FEAT_S];
	struct ds_trace_reader *r = NULL;
	struct feat_state *fs = NULL;
	struct lstm_model *m;
	struct lstm_cache *cache = NULL;
	struct lstm_tasks *tasks = NULL;
	const struct lstm_shape *sh;
	const struct ds_trace_meta *meta;
	struct ds_windows hdr;
	struct ds_event ev;
	int32_t *scores = NULL;
	int ret = -1, rc, set;

	m = lstm_model_load(model_path);
	if (!m)
		return -1;
	sh = lstm_model_shape(m);
	if (sh->mode != DS_WIN_CANDIDATES) {
		error("cannot score '%s' on a trace directly: a sequence model needs --windows "
		      "with its vocabulary", model_path);
		goto out_model;
	}
	set = ana_model_state_set(m);
	feat_set_header(&hdr, set, sh->K, ep, epf, st, stf);
	if (lstm_model_check_windows(m, &hdr, "the features of this schedcast"))
		goto out_model;
	r = ds_trace_open(trace_path);
	if (!r)
		goto out_model;
	meta = ds_trace_meta(r);
	{
		uint64_t nt;
		const struct ds_task *tt = ds_trace_tasks(r, &nt);

		ds_task_index_init(&ix, tt, tt ? nt : 0);
		df.ix = &ix;
		df.nr = 1;
	}
	if (!(meta->events_recorded & (DS_EV_BIT(DS_EV_WAKEUP) | DS_EV_BIT(DS_EV_WAKING)))) {
		error("cannot score '%s' on '%s': the trace has no wakeup events", model_path,
		      trace_path);
		goto out;
	}
	tasks = lstm_tasks_new(m);	/* NULL for a windowed encoder */
	{
		struct feat_opts fo = { .mode = DS_WIN_CANDIDATES, .state_set = set, .K = sh->K,
					.events_recorded = meta->events_recorded,
					.episodes = tasks != NULL, .retired = tasks != NULL };

		fs = feat_state_new(&fo, meta->nr_cpus);
	}
	if (!fs)
		goto out;
	scores = xcalloc(LSTM_MAX_CAND, sizeof(*scores));
	if (!tasks)
		cache = lstm_cache_new(m, EVAL_CACHE_ENTRIES);
	ana_eval_init(e, DS_WIN_CANDIDATES, model_path, sh->arith == LSTM_FLOAT ? "float" : "fixed",
		      split_name);
	while ((rc = ds_trace_next(r, &ev)) == 1) {
		struct feat_decision_out out;

		if (ev.type == DS_EV_SWITCH && feat_decision(fs, &ev, &out) == 1) {
			struct ana_decision d = {
				.ts = out.ts, .cpu = out.cpu, .ncand = out.ncand,
				.label = out.label, .next_pid = out.next_pid, .cand = out.cand,
			};
			int top[3] = { -1, -1, -1 };
			int sp = feat_split_of(out.ts, meta->start_ns, meta->end_ns, split);
			int scored = ((split_mask >> sp) & 1) &&
				     ana_dec_filter_pass(&df, 0, out.cpu, out.ts, out.next_pid);

			if (scored && ana_model_predict(m, cache, tasks, &out, scores) >= 0)
				ana_top3(scores, out.ncand, top);
			ana_eval_add(e, &d, top, scored);
		}
		if (feat_apply(fs, &ev)) {
			rc = -1;
			break;
		}
		ana_model_episodes(fs, tasks);
	}
	if (rc < 0) {
		ana_eval_release(e);
		goto out;
	}
	e->inferred_switches = feat_coverage(fs)->inferred_switches;
	e->lost_resets = feat_coverage(fs)->lost_resets;
	ana_eval_finish(e);
	ret = 0;
out:
	free(scores);
	lstm_cache_free(cache);
	lstm_tasks_free(tasks);
	feat_state_free(fs);
	ds_trace_close(r);
	ds_task_index_release(&ix);
out_model:
	lstm_model_free(m);
	return ret;
}

struct ana_predictor {
	struct lstm_model *m;
	struct lstm_cache *cache;
	struct lstm_tasks *tasks;	/* a stateful encoder */
	struct feat_state *fs;
	int32_t *scores;	/* (LSTM_MAX_CAND) */
};

void ana_predictor_free(struct ana_predictor *p)
{
	if (!p)
		return;
	free(p->scores);
	lstm_cache_free(p->cache);
	lstm_tasks_free(p->tasks);
	feat_state_free(p->fs);
	lstm_model_free(p->m);
	free(p);
}

struct ana_predictor *ana_predictor_new(const char *model_path, const char *trace_path,
					const struct ds_trace_meta *meta)
{
	struct ana_predictor *p = xcalloc(1, sizeof(*p));
	char *ep[FEAT_E], *st[FEAT_S];
	int8_t epf[FEAT_E], stf[FEAT_S];
	const struct lstm_shape *sh;
	struct ds_windows hdr;
	int set;

	p->m = lstm_model_load(model_path);
	if (!p->m)
		goto fail;
	sh = lstm_model_shape(p->m);
	if (sh->mode != DS_WIN_CANDIDATES) {
		error("cannot score '%s' on a trace directly: a sequence model", model_path);
		goto fail;
	}
	set = ana_model_state_set(p->m);
	feat_set_header(&hdr, set, sh->K, ep, epf, st, stf);
	if (lstm_model_check_windows(p->m, &hdr, "the features of this schedcast"))
		goto fail;
	if (!(meta->events_recorded & (DS_EV_BIT(DS_EV_WAKEUP) | DS_EV_BIT(DS_EV_WAKING)))) {
		error("cannot score '%s' on '%s': the trace has no wakeup events", model_path,
		      trace_path);
		goto fail;
	}
	p->tasks = lstm_tasks_new(p->m);	/* NULL for a windowed encoder */
	{
		struct feat_opts fo = { .mode = DS_WIN_CANDIDATES, .state_set = set, .K = sh->K,
					.events_recorded = meta->events_recorded,
					.episodes = p->tasks != NULL,
					.retired = p->tasks != NULL };

		p->fs = feat_state_new(&fo, meta->nr_cpus);
	}
	if (!p->fs)
		goto fail;
	p->scores = xcalloc(LSTM_MAX_CAND, sizeof(*p->scores));
	if (!p->tasks)
		p->cache = lstm_cache_new(p->m, EVAL_CACHE_ENTRIES);
	return p;
fail:
	ana_predictor_free(p);
	return NULL;
}

int ana_predictor_event(struct ana_predictor *p, const struct ds_event *ev,
			struct ana_prediction *out)
{
	struct feat_decision_out d;
	int got = 0;

	if (ev->type == DS_EV_SWITCH && feat_decision(p->fs, ev, &d) == 1) {
		int top[3] = { -1, -1, -1 };

		memset(out, 0, sizeof(*out));
		out->ts = d.ts;
		out->cpu = d.cpu;
		out->ncand = d.ncand;
		out->label = d.label;
		out->next_pid = d.next_pid;
		out->top = -1;
		/* the same scoring as ana_eval_trace(): every predictor misses without candidates */
		if (ana_model_predict(p->m, p->cache, p->tasks, &d, p->scores) >= 0)
			ana_top3(p->scores, d.ncand, top);
		if (top[0] >= 0) {
			out->top = top[0];
			out->pred_pid = d.cand[top[0]].pid;
			memcpy(out->pred_comm, d.cand[top[0]].comm, DS_COMM_LEN);
			out->pred_comm[DS_COMM_LEN - 1] = '\0';
		}
		got = 1;
	}
	if (feat_apply(p->fs, ev))
		return -1;
	ana_model_episodes(p->fs, p->tasks);
	return got;
}
