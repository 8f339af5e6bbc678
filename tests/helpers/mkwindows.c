// SPDX-License-Identifier: GPL-2.0
/*
 * mkwindows - write a synthetic windows.h5 whose rule is known (see
 * tests/unit/lstm-synth.h), for the model's shell tests.
 *
 *   mkwindows [-s] [-n DECISIONS] [-K N] [-r SEED] [-x NAME] OUT.h5
 *     -s   sequence mode (the next pick follows the last in a cycle)
 *     -x   rename state feature 1 to NAME (a file a model must refuse)
 *     -d   drift: in the test split the shortest-queued candidate wins
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "data/windows.h"
#include "tests/unit/lstm-synth.h"

int main(int argc, char **argv)
{
	struct ds_windows *w;
	struct ds_windows_writer *wr;
	uint64_t n = 2000, seed = 1;
	int c, seq = 0, K = 4, ret = 0, drift = 0;
	const char *rename_to = NULL;

	while ((c = getopt(argc, argv, "sdn:K:r:x:")) != -1) {
		switch (c) {
		case 's': seq = 1; break;
		case 'd': drift = 1; break;
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'K': K = atoi(optarg); break;
		case 'r': seed = strtoull(optarg, NULL, 10); break;
		case 'x': rename_to = optarg; break;
		default:
			fprintf(stderr, "usage: mkwindows [-s] [-d] [-n N] [-K N] [-r SEED] [-x NAME] OUT.h5\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: mkwindows [-s] [-n N] [-K N] [-r SEED] [-x NAME] OUT.h5\n");
		return 2;
	}
	w = seq ? synth_sequence(n, 6, 8, seed) : synth_candidates(n, K, 3, 3, seed);
	for (uint64_t i = 0; i < w->n_dec && drift && !seq; i++) {
		struct ds_decision *d = &w->dec[i];
		int lo = 0;

		if (d->split != DS_SPLIT_TEST)
			continue;
		for (int j = 1; j < d->ncand; j++)
			if (w->state[(d->cand_off + j) * w->S] < w->state[(d->cand_off + lo) * w->S])
				lo = j;
		d->label = lo;
	}
	if (rename_to && !seq) {
		free(w->state_names[1]);
		w->state_names[1] = xstrdup(rename_to);
	}
	w->version = 1;	/* synthetic windows, not episodes of tasks */
	wr = ds_windows_create(argv[optind], w);
	if (!wr)
		return 1;
	for (uint64_t i = 0; i < w->n_dec && !ret; i++) {
		struct ds_decision d = w->dec[i];

		if (seq)
			ret = ds_windows_add(wr, &d, NULL, NULL, NULL, w->seq_ids + i * w->W,
					     w->seq_gaps + i * w->W);
		else
			ret = ds_windows_add(wr, &d, w->cand + d.cand_off,
					     w->window + d.cand_off * w->K * w->E,
					     w->state + d.cand_off * w->S, NULL, NULL);
	}
	if (ret) {
		ds_windows_abort(wr);
		return 1;
	}
	w->cov.decisions = w->n_dec;
	w->cov.covered = w->cov.contested = w->cov.contested_covered = seq ? 0 : w->n_dec;
	for (uint64_t i = 0; i < w->n_dec && !seq; i++)
		w->cov.cand_hist[SC_MIN(w->dec[i].ncand, DS_CAND_HIST - 1)]++;
	ret = ds_windows_finish(wr, seq ? (const char *const *)w->vocab : NULL, w->n_vocab,
				&w->cov);
	synth_free(w);
	return ret ? 1 : 0;
}
