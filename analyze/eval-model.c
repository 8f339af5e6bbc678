// SPDX-License-Identifier: GPL-2.0
/*
 * Evaluating a windows file, with the model when one is given: the glue
 * between model/lstm.h and the evaluator.
 */
#include <stdlib.h>
#include <string.h>

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
	struct lstm_cache *cache;	/* candidates mode */
	struct lstm_online *online;	/* --online: a step after each scored decision */
	int32_t *scores;	/* (LSTM_MAX_CAND or V) */
	const char *path;
};

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
	if (lstm_predict_cached(mc->m, mc->cache,
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

int ana_eval_file(struct ana_eval *e, const char *windows_path, const char *model_path,
		  const char *split_name, unsigned split_mask)
{
	return ana_eval_file_online(e, windows_path, model_path, split_name, split_mask, 0);
}

int ana_eval_file_online(struct ana_eval *e, const char *windows_path, const char *model_path,
			 const char *split_name, unsigned split_mask, double online_lr)
{
	struct ds_windows *w;
	struct lstm_model *m = NULL;
	struct model_ctx mc = { .path = model_path };
	int ret = -1;

	w = ds_windows_load(windows_path);
	if (!w)
		return -1;
	if (model_path) {
		const struct lstm_shape *sh;

		m = lstm_model_load(model_path);
		if (!m)
			goto out;
		if (lstm_model_check_windows(m, w, windows_path))
			goto out;
		sh = lstm_model_shape(m);
		mc.m = m;
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
			for (uint64_t i = 0; i < w->n_dec && !((split_mask >> DS_SPLIT_VAL) & 1); i++) {
				const struct ds_decision *d = &w->dec[i];

				if (d->split != DS_SPLIT_VAL || d->ncand > LSTM_MAX_CAND)
					continue;
				lstm_online_step(mc.online,
						 &w->window[d->cand_off * (uint64_t)w->K * w->E],
						 &w->state[d->cand_off * (uint64_t)w->S], d->ncand,
						 d->label);
			}
		} else if (sh->mode == DS_WIN_CANDIDATES) {
			mc.cache = lstm_cache_new(m, EVAL_CACHE_ENTRIES);
		}
		if (mc.online)
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
	e->inferred_switches = w->cov.inferred_switches;
	e->lost_resets = w->cov.lost_resets;
	if (ana_eval_windows(e, w, split_mask, m ? predict : NULL, &mc)) {
		ana_eval_release(e);
		goto out;
	}
	ret = 0;
out:
	free(mc.scores);
	if (mc.online)
		lstm_online_free(mc.online);	/* frees its cache */
	else
		lstm_cache_free(mc.cache);
	lstm_model_free(m);
	ds_windows_free(w);
	return ret;
}

/*
 * The header of the windows the features engine would write for m: what
 * lstm_model_check_windows() compares.
 */
static void feature_header(struct ds_windows *hdr, int K, char **ep, int8_t *epf, char **st,
			   int8_t *stf)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->mode = DS_WIN_CANDIDATES;
	hdr->K = K;
	hdr->E = FEAT_E;
	hdr->S = FEAT_S;
	for (int i = 0; i < FEAT_E; i++) {
		ep[i] = (char *)feat_ep_desc[i].name;
		epf[i] = feat_ep_desc[i].frac;
	}
	for (int i = 0; i < FEAT_S; i++) {
		st[i] = (char *)feat_state_desc[i].name;
		stf[i] = feat_state_desc[i].frac;
	}
	hdr->ep_names = ep;
	hdr->ep_frac = epf;
	hdr->state_names = st;
	hdr->state_frac = stf;
}

int ana_eval_trace(struct ana_eval *e, const char *trace_path, const char *model_path,
		   const char *split_name, unsigned split_mask)
{
	static const int split[3] = { 70, 15, 15 };	/* schedcast features' default */
	char *ep[FEAT_E], *st[FEAT_S];
	int8_t epf[FEAT_E], stf[FEAT_S];
	struct ds_trace_reader *r = NULL;
	struct feat_state *fs = NULL;
	struct lstm_model *m;
	struct lstm_cache *cache = NULL;
	const struct lstm_shape *sh;
	const struct ds_trace_meta *meta;
	struct ds_windows hdr;
	struct ds_event ev;
	int32_t *scores = NULL;
	int ret = -1, rc;

	m = lstm_model_load(model_path);
	if (!m)
		return -1;
	sh = lstm_model_shape(m);
	if (sh->mode != DS_WIN_CANDIDATES) {
		error("cannot score '%s' on a trace directly: a sequence model needs --windows "
		      "with its vocabulary", model_path);
		goto out_model;
	}
	feature_header(&hdr, sh->K, ep, epf, st, stf);
	if (lstm_model_check_windows(m, &hdr, "the features of this schedcast"))
		goto out_model;
	r = ds_trace_open(trace_path);
	if (!r)
		goto out_model;
	meta = ds_trace_meta(r);
	if (!(meta->events_recorded & (DS_EV_BIT(DS_EV_WAKEUP) | DS_EV_BIT(DS_EV_WAKING)))) {
		error("cannot score '%s' on '%s': the trace has no wakeup events", model_path,
		      trace_path);
		goto out;
	}
	{
		struct feat_opts fo = { .mode = DS_WIN_CANDIDATES, .K = sh->K,
					.events_recorded = meta->events_recorded };

		fs = feat_state_new(&fo, meta->nr_cpus);
	}
	if (!fs)
		goto out;
	scores = xcalloc(LSTM_MAX_CAND, sizeof(*scores));
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
			int scored = (split_mask >> sp) & 1;

			if (scored && out.ncand >= 1 && out.ncand <= LSTM_MAX_CAND &&
			    lstm_predict_cached(m, cache, out.window, out.state, out.ncand,
						scores) >= 0)
				ana_top3(scores, out.ncand, top);
			ana_eval_add(e, &d, top, scored);
		}
		if (feat_apply(fs, &ev)) {
			rc = -1;
			break;
		}
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
	feat_state_free(fs);
	ds_trace_close(r);
out_model:
	lstm_model_free(m);
	return ret;
}
