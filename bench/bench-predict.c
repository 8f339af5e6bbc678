// SPDX-License-Identifier: GPL-2.0
/*
 * bench-predict - time lstm_predict() per decision, for the inference figure
 * of the benchmark suite (bench/run-bench).
 *
 *   bench-predict MODEL.h5 WINDOWS.h5 CALLS
 *
 * Replays the decisions of WINDOWS.h5 (cycling through them) through the
 * model until CALLS predictions are timed, each one on its own with
 * CLOCK_MONOTONIC, and prints one JSON object: median, p90, p99 and mean ns
 * per decision, the mean candidate count, and the same for decisions cut to
 * exactly 4 candidates (the reference point).  A sequence-mode model
 * times lstm_predict_seq() instead.  The clock's own cost (two reads) is
 * measured and printed, not subtracted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "data/windows.h"
#include "features/features.h"
#include "model/lstm.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void print_stats(const char *key, uint64_t *ns, long n, double mean_cand)
{
	double sum = 0;

	qsort(ns, (size_t)n, sizeof(*ns), cmp_u64);
	for (long i = 0; i < n; i++)
		sum += (double)ns[i];
	printf("\"%s\":{\"calls\":%ld,\"median_ns\":%llu,\"p90_ns\":%llu,\"p99_ns\":%llu,"
	       "\"mean_ns\":%.1f,\"mean_candidates\":%.2f}", key, n,
	       (unsigned long long)ns[n / 2], (unsigned long long)ns[n * 90 / 100],
	       (unsigned long long)ns[n * 99 / 100], sum / (double)n, mean_cand);
}

/* checksum of the picks, printed so the calls cannot be optimised away */
static long sink;

int main(int argc, char **argv)
{
	struct lstm_model *m;
	struct ds_windows *w;
	const struct lstm_shape *sh;
	uint64_t *ns, *dec_idx, n_use = 0, clock_ns;
	int32_t *scores;
	long calls, n4 = 0;
	double cand_sum = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: bench-predict MODEL.h5 WINDOWS.h5 CALLS\n");
		return 2;
	}
	calls = strtol(argv[3], NULL, 10);
	if (calls < 1)
		calls = 1;
	m = lstm_model_load(argv[1]);
	if (!m)
		return 1;
	w = feat_windows_load(argv[2]);
	if (!w)
		return 1;
	if (lstm_model_check_windows(m, w, argv[2]))
		return 1;
	sh = lstm_model_shape(m);
	ns = xcalloc((size_t)calls, sizeof(*ns));
	dec_idx = xcalloc(w->n_dec ? w->n_dec : 1, sizeof(*dec_idx));
	scores = xcalloc(LSTM_MAX_CAND > LSTM_MAX_VOCAB ? LSTM_MAX_CAND : LSTM_MAX_VOCAB,
			 sizeof(*scores));

	/* the clock's own cost */
	{
		uint64_t t[1001];

		for (int i = 0; i < 1001; i++)
			t[i] = now_ns();
		clock_ns = (t[1000] - t[0]) / 1000;
	}

	printf("{\"arith\":\"%s\",\"mode\":\"%s\",\"hidden\":%d,\"K\":%d,\"W\":%d,"
	       "\"clock_ns\":%llu,", sh->arith == LSTM_FLOAT ? "float" : "fixed",
	       sh->mode == DS_WIN_SEQUENCE ? "sequence" : "candidates", sh->H, sh->K, sh->W,
	       (unsigned long long)clock_ns);

	if (sh->mode == DS_WIN_SEQUENCE) {
		if (!w->n_dec) {
			fprintf(stderr, "bench-predict: '%s' has no decisions\n", argv[2]);
			return 1;
		}
		for (long i = 0; i < calls; i++) {
			uint64_t d = (uint64_t)i % w->n_dec, t0;

			t0 = now_ns();
			sink += lstm_predict_seq(m, w->seq_ids + d * (uint64_t)w->W,
						 w->seq_gaps + d * (uint64_t)w->W, scores);
			ns[i] = now_ns() - t0;
		}
		print_stats("all", ns, calls, 0);
		printf(",\"sink\":%ld}\n", sink);
		return 0;
	}

	/* candidates mode: decisions with at least one candidate */
	for (uint64_t d = 0; d < w->n_dec; d++)
		if (w->dec[d].ncand >= 1 && w->dec[d].ncand <= LSTM_MAX_CAND)
			dec_idx[n_use++] = d;
	if (!n_use) {
		fprintf(stderr, "bench-predict: '%s' has no decision with candidates\n", argv[2]);
		return 1;
	}
	for (long i = 0; i < calls; i++) {
		const struct ds_decision *d = &w->dec[dec_idx[(uint64_t)i % n_use]];
		const int16_t *win = w->window + d->cand_off * (uint64_t)(w->K * w->E);
		const int16_t *st = w->state + d->cand_off * (uint64_t)w->S;
		uint64_t t0;

		cand_sum += d->ncand;
		t0 = now_ns();
		sink += lstm_predict(m, NULL, win, st, d->ncand, scores);
		ns[i] = now_ns() - t0;
	}
	print_stats("all", ns, calls, cand_sum / (double)calls);

	/* exactly 4 candidates: the first 4 of decisions that have at least 4 */
	for (long i = 0; i < calls; i++) {
		const struct ds_decision *d = &w->dec[dec_idx[(uint64_t)i % n_use]];
		uint64_t t0;

		if (d->ncand < 4)
			continue;
		t0 = now_ns();
		sink += lstm_predict(m, NULL, w->window + d->cand_off * (uint64_t)(w->K * w->E),
				     w->state + d->cand_off * (uint64_t)w->S, 4, scores);
		ns[n4++] = now_ns() - t0;
	}
	if (!n4) {
		/* no decision has 4: build one from 4 candidate rows in a row */
		if (w->n_cand >= 4) {
			for (long i = 0; i < calls; i++) {
				uint64_t off = ((uint64_t)i * 4) % (w->n_cand - 3), t0;

				t0 = now_ns();
				sink += lstm_predict(m, NULL, w->window + off * (uint64_t)(w->K * w->E),
						     w->state + off * (uint64_t)w->S, 4, scores);
				ns[n4++] = now_ns() - t0;
			}
		}
	}
	if (n4) {
		printf(",");
		print_stats("cand4", ns, n4, 4);
	}

	/*
	 * The path eval and live take: decisions in time order through the
	 * encoder cache (a waiting task's window does not change between two
	 * decisions, so only the head runs for it).  Bit-identical scores.
	 */
	{
		struct lstm_cache *c = lstm_cache_new(m, 4096);
		long nc = 0;

		cand_sum = 0;
		for (long i = 0; c && i < calls; i++) {
			const struct ds_decision *d = &w->dec[dec_idx[(uint64_t)i % n_use]];
			uint64_t t0;

			cand_sum += d->ncand;
			t0 = now_ns();
			sink += lstm_predict(m, c, w->window + d->cand_off *
						    (uint64_t)(w->K * w->E),
						    w->state + d->cand_off * (uint64_t)w->S,
						    d->ncand, scores);
			ns[nc++] = now_ns() - t0;
		}
		if (nc) {
			printf(",");
			print_stats("all_cached", ns, nc, cand_sum / (double)nc);
		}
		lstm_cache_free(c);
	}
	printf(",\"sink\":%ld}\n", sink);
	free(ns);
	free(dec_idx);
	free(scores);
	ds_windows_free(w);
	lstm_model_free(m);
	return 0;
}
