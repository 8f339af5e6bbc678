// SPDX-License-Identifier: GPL-2.0
/*
 * Evaluating a windows file, with the model when one is given: the glue
 * between model/lstm.h and the evaluator.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "common/common.h"
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

struct model_ctx {
	const struct lstm_model *m;
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
	if (lstm_predict(mc->m, &w->window[d->cand_off * (uint64_t)w->K * (uint64_t)w->E],
			 &w->state[d->cand_off * (uint64_t)w->S], d->ncand, mc->scores) < 0)
		return error("'%s': the model cannot score decision %llu", mc->path,
			     (unsigned long long)i);
	ana_top3(mc->scores, d->ncand, top);
	return 0;
}

int ana_eval_file(struct ana_eval *e, const char *windows_path, const char *model_path,
		  const char *split_name, unsigned split_mask)
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
		mc.scores = xcalloc(sh->mode == DS_WIN_SEQUENCE ? (size_t)sh->V : LSTM_MAX_CAND,
				    sizeof(*mc.scores));
		ana_eval_init(e, w->mode, model_path, sh->arith == LSTM_FLOAT ? "float" : "fixed",
			      split_name);
	} else {
		ana_eval_init(e, w->mode, NULL, NULL, split_name);
	}
	if (ana_eval_windows(e, w, split_mask, m ? predict : NULL, &mc)) {
		ana_eval_release(e);
		goto out;
	}
	ret = 0;
out:
	free(mc.scores);
	lstm_model_free(m);
	ds_windows_free(w);
	return ret;
}
