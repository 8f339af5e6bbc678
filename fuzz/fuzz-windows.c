// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz target "windows": the windows.h5 readers (whole-file load, the
 * streaming block reader, the describer) on a valid candidates-mode,
 * sequence-mode or version 3 (events replayed) file (first input byte)
 * changed by the operations the rest of the input describes (fuzz/h5mut.c).
 */
#include <string.h>

#include "analyze/analyze.h"
#include "common/common.h"
#include "data/windows.h"
#include "features/features.h"
#include "fuzz/fuzz.h"

static volatile uint64_t sink;

int fuzz_windows(const uint8_t *data, size_t size)
{
	const char *base = !size ? "windows.h5" : data[0] & 1 ? "windows-seq.h5" :
			   data[0] & 2 ? "windows-v3.h5" : "windows.h5";
	struct strbuf sb = STRBUF_INIT;
	struct ds_windows_reader *r;
	struct ds_windows *w;
	const char *path;

	path = fuzz_h5_mutate(fuzz_base(base), size ? data + 1 : data, size ? size - 1 : 0);
	if (!path) {
		fuzz_check_closed();
		return 0;
	}
	w = feat_windows_load(path);
	if (w) {
		uint64_t s = 0;

		/* every row the loader validated, read as train and eval read it */
		for (uint64_t i = 0; i < w->n_dec; i++) {
			const struct ds_decision *d = &w->dec[i];

			s += d->label + d->split;
			if (w->mode == DS_WIN_CANDIDATES) {
				for (int c = 0; c < d->ncand; c++) {
					uint64_t row = d->cand_off + (uint64_t)c;

					s += w->cand[row].pid + strlen(w->cand[row].comm);
					s += (uint16_t)w->window[(row * w->K + (uint64_t)w->K - 1) * w->E +
								 (uint64_t)w->E - 1];
					s += (uint16_t)w->state[row * w->S + (uint64_t)w->S - 1];
				}
			} else {
				for (int k = 0; k < w->W; k++) {
					int32_t id = w->seq_ids[i * w->W + (uint64_t)k];

					if (id >= 0 && (uint64_t)id < w->n_vocab)
						s += strlen(w->vocab[id]);
					s += (uint16_t)w->seq_gaps[i * w->W + (uint64_t)k];
				}
			}
		}
		sink = s;
		ds_windows_free(w);
	}
	r = feat_windows_open(path);
	if (r) {
		const struct ds_windows *h = ds_windows_header(r);
		struct ds_windows_block b;

		for (uint64_t start = 0; start < h->n_dec; start += 7)
			if (ds_windows_read(r, start, SC_MIN(7, h->n_dec - start), &b))
				break;
		ds_windows_close(r);
	}
	ana_info_windows(path, 0, &sb);
	ana_info_windows(path, 1, &sb);
	strbuf_release(&sb);
	fuzz_check_closed();
	return 0;
}

FUZZ_ENTRY(windows)
