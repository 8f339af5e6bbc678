/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic windows whose rule is known, for the model's tests (in memory)
 * and tests/helpers/mkwindows.c (on disk).
 *
 * Candidates mode: 2..5 candidates; state feature 0 "queued" (Q7.8, log2 of
 * the queued time, all distinct) decides: the longest-queued candidate is
 * the pick.  Other features are noise.  Sequence mode: the next pick is the
 * vocabulary id after the last one, cycling through 1..V-1.
 */
#ifndef LSTM_SYNTH_H
#define LSTM_SYNTH_H

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "data/windows.h"

static uint64_t synth_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* synth_candidates - n_dec decisions, 70/15/15 split by position */
static struct ds_windows *synth_candidates(uint64_t n_dec, int K, int E, int S, uint64_t seed)
{
	struct ds_windows *w = xcalloc(1, sizeof(*w));
	uint64_t rng = seed, off = 0;

	w->version = DS_WINDOWS_VERSION;
	w->mode = DS_WIN_CANDIDATES;
	w->K = K, w->E = E, w->S = S, w->W = 0;
	w->nr_traces = 1;
	w->traces = xcalloc(1, sizeof(char *));
	w->traces[0] = xstrdup("synthetic");
	w->ep_names = xcalloc((size_t)E, sizeof(char *));
	w->state_names = xcalloc((size_t)S, sizeof(char *));
	w->ep_frac = xcalloc((size_t)E, 1);
	w->state_frac = xcalloc((size_t)S, 1);
	for (int e = 0; e < E; e++) {
		w->ep_names[e] = xstrfmt("ep_noise%d", e);
		w->ep_frac[e] = 8;
	}
	for (int s = 0; s < S; s++) {
		w->state_names[s] = s ? xstrfmt("noise%d", s) : xstrdup("queued");
		w->state_frac[s] = 8;
	}
	w->n_dec = n_dec;
	w->dec = xcalloc(n_dec, sizeof(*w->dec));
	w->n_cand = n_dec * 5;
	w->cand = xcalloc(w->n_cand, sizeof(*w->cand));
	w->window = xcalloc(w->n_cand * K * E, sizeof(int16_t));
	w->state = xcalloc(w->n_cand * S, sizeof(int16_t));
	for (uint64_t i = 0; i < n_dec; i++) {
		struct ds_decision *d = &w->dec[i];
		int n = 2 + (int)(synth_rand(&rng) % 4), best = 0;
		int16_t q[5];

		d->ts = 1000 * i;
		d->cand_off = off;
		d->ncand = n;
		d->split = i < n_dec * 70 / 100 ? DS_SPLIT_TRAIN :
			   i < n_dec * 85 / 100 ? DS_SPLIT_VAL : DS_SPLIT_TEST;
		for (int j = 0; j < n; j++) {
			int again;

			do {	/* queued: 0..20 in steps of 1/2 (log2 us), distinct */
				q[j] = (int16_t)((synth_rand(&rng) % 41) * 128);
				again = 0;
				for (int k = 0; k < j; k++)
					again |= q[k] == q[j];
			} while (again);
			if (q[j] > q[best])
				best = j;
		}
		d->label = best;
		d->next_pid = 100 + best;
		for (int j = 0; j < n; j++, off++) {
			w->cand[off].pid = 100 + j;
			for (int k = 0; k < K * E; k++)
				w->window[off * K * E + k] = (int16_t)(synth_rand(&rng) % 2048);
			w->state[off * S] = q[j];
			for (int s = 1; s < S; s++)
				w->state[off * S + s] = (int16_t)(synth_rand(&rng) % 4096);
		}
	}
	w->n_cand = off;
	return w;
}

/* synth_sequence - the next pick follows the last one in a cycle */
static struct ds_windows *synth_sequence(uint64_t n_dec, int W, int V, uint64_t seed)
{
	struct ds_windows *w = xcalloc(1, sizeof(*w));
	uint64_t rng = seed;

	w->version = DS_WINDOWS_VERSION;
	w->mode = DS_WIN_SEQUENCE;
	w->W = W;
	w->nr_traces = 1;
	w->traces = xcalloc(1, sizeof(char *));
	w->traces[0] = xstrdup("synthetic");
	w->n_dec = n_dec;
	w->n_vocab = (uint64_t)V;
	w->vocab = xcalloc((size_t)V, sizeof(char *));
	for (int v = 0; v < V; v++)
		w->vocab[v] = v ? xstrfmt("task%d", v) : xstrdup("<unknown>");
	w->seq_gap_frac = 8;
	w->dec = xcalloc(n_dec, sizeof(*w->dec));
	w->seq_ids = xcalloc(n_dec * W, sizeof(int32_t));
	w->seq_gaps = xcalloc(n_dec * W, sizeof(int16_t));
	for (uint64_t i = 0; i < n_dec; i++) {
		int start = 1 + (int)(synth_rand(&rng) % (uint64_t)(V - 1));

		for (int t = 0; t < W; t++) {
			w->seq_ids[i * W + t] = 1 + (start - 1 + t) % (V - 1);
			w->seq_gaps[i * W + t] = (int16_t)(synth_rand(&rng) % 4096);
		}
		w->dec[i].label = 1 + (start - 1 + W) % (V - 1);
		w->dec[i].split = i < n_dec * 70 / 100 ? DS_SPLIT_TRAIN :
				  i < n_dec * 85 / 100 ? DS_SPLIT_VAL : DS_SPLIT_TEST;
	}
	return w;
}

static void synth_free(struct ds_windows *w)
{
	for (int e = 0; e < w->E; e++)
		free(w->ep_names[e]);
	for (int s = 0; s < w->S; s++)
		free(w->state_names[s]);
	for (uint64_t v = 0; v < w->n_vocab; v++)
		free(w->vocab[v]);
	free(w->ep_names), free(w->state_names), free(w->ep_frac), free(w->state_frac);
	free(w->vocab), free(w->dec), free(w->cand), free(w->window), free(w->state);
	free(w->seq_ids), free(w->seq_gaps);
	free(w->traces[0]), free(w->traces);
	free(w);
}

#endif /* LSTM_SYNTH_H */
