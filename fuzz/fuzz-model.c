// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz target "model": the model.h5 readers (data/modelfile.c and the
 * inference loader lstm_model_load) on a valid fixed-point candidates,
 * float candidates or sequence model (first input byte) changed by the
 * operations the rest of the input describes (fuzz/h5mut.c).  A model that
 * loads is run once: its tensors must match the shape it claims.
 */
#include <stdlib.h>

#include "analyze/analyze.h"
#include "common/common.h"
#include "data/modelfile.h"
#include "fuzz/fuzz.h"
#include "model/lstm.h"

int fuzz_model(const uint8_t *data, size_t size)
{
	static const char *const bases[] = { "model.h5", "model-float.h5", "model-seq.h5" };
	const char *base = bases[size ? data[0] % ARRAY_SIZE(bases) : 0];
	struct strbuf sb = STRBUF_INIT;
	struct ds_model *dm;
	struct lstm_model *m;
	const char *path;

	path = fuzz_h5_mutate(fuzz_base(base), size ? data + 1 : data, size ? size - 1 : 0);
	if (!path) {
		fuzz_check_closed();
		return 0;
	}
	dm = ds_model_load(path);
	ds_model_free(dm);
	m = lstm_model_load(path);
	if (m) {
		const struct lstm_shape *s = lstm_model_shape(m);

		if (s->mode == DS_WIN_CANDIDATES) {
			int16_t *win = xcalloc((size_t)2 * s->K * s->E + 1, sizeof(*win));
			int16_t *st = xcalloc((size_t)2 * s->S + 1, sizeof(*st));
			int32_t scores[2];

			lstm_predict(m, NULL, win, st, 2, scores);
			free(win);
			free(st);
		} else {
			int32_t *ids = xcalloc((size_t)s->W + 1, sizeof(*ids));
			int16_t *gaps = xcalloc((size_t)s->W + 1, sizeof(*gaps));
			int32_t *scores = xcalloc((size_t)s->V + 1, sizeof(*scores));

			for (int i = 0; i < s->W; i++)
				ids[i] = i % 3 ? i % (s->V ? s->V : 1) : -1;
			lstm_predict_seq(m, ids, gaps, scores);
			free(ids);
			free(gaps);
			free(scores);
		}
		lstm_model_free(m);
	}
	ana_info_model(path, 0, &sb);
	ana_info_model(path, 1, &sb);
	strbuf_release(&sb);
	fuzz_check_closed();
	return 0;
}

FUZZ_ENTRY(model)
