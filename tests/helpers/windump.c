// SPDX-License-Identifier: GPL-2.0
/*
 * windump - print everything a windows file holds as the readers return it:
 * the header, then one line per decision followed by its candidates (each
 * with its window and state features) or its sequence.  With -b BLOCK the
 * decisions come from the streaming reader in blocks of BLOCK instead of the
 * whole-file loader; the output is the same (the round-trip test t0120
 * compares digests of both with those of the reader before data/ds.c's
 * table API).
 *
 *   windump [-b BLOCK] FILE.h5
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/common.h"
#include "data/windows.h"
#include "features/features.h"

static void dump_header(const struct ds_windows *w)
{
	const struct ds_coverage *c = &w->cov;

	printf("version %d mode %d K %d E %d S %d W %d gap_frac %d by_pid %d\n", w->version,
	       w->mode, w->K, w->E, w->S, w->W, w->seq_gap_frac, w->seq_vocab_by_pid);
	printf("n_dec %llu n_cand %llu n_ep %llu n_tasks %llu n_vocab %llu\n",
	       (unsigned long long)w->n_dec, (unsigned long long)w->n_cand,
	       (unsigned long long)w->n_ep, (unsigned long long)w->n_tasks,
	       (unsigned long long)w->n_vocab);
	for (int i = 0; i < w->nr_traces; i++)
		printf("trace %d %s\n", i, w->traces[i]);
	for (int i = 0; w->ep_names && i < w->E; i++)
		printf("ep %d %s %d\n", i, w->ep_names[i], w->ep_frac[i]);
	for (int i = 0; w->state_names && i < w->S; i++)
		printf("state %d %s %d\n", i, w->state_names[i], w->state_frac[i]);
	for (uint64_t i = 0; i < w->n_vocab; i++)
		printf("vocab %llu %s\n", (unsigned long long)i, w->vocab[i]);
	printf("coverage %llu %llu %llu %llu %llu %llu hist", (unsigned long long)c->decisions,
	       (unsigned long long)c->covered, (unsigned long long)c->contested,
	       (unsigned long long)c->contested_covered,
	       (unsigned long long)c->inferred_switches, (unsigned long long)c->lost_resets);
	for (int i = 0; i < DS_CAND_HIST; i++)
		printf(" %llu", (unsigned long long)c->cand_hist[i]);
	printf("\n");
}

static void dump_row16(const char *what, const int16_t *v, size_t n)
{
	printf("  %s", what);
	for (size_t i = 0; i < n; i++)
		printf(" %d", v[i]);
	printf("\n");
}

/* Decisions [0, n) of a block whose candidate rows start at cand_base. */
static void dump_decisions(const struct ds_windows *h, uint64_t first,
			   const struct ds_decision *dec, uint64_t n, uint64_t cand_base,
			   const struct ds_candidate *cand, const int16_t *window,
			   const int16_t *state, const int32_t *ids, const int16_t *gaps)
{
	size_t KE = (size_t)h->K * h->E;

	for (uint64_t i = 0; i < n; i++) {
		const struct ds_decision *d = &dec[i];

		printf("dec %llu ts %llu cand_off %llu ep_off %llu trace %d cpu %d ncand %d "
		       "label %d prev %d next %d split %u\n", (unsigned long long)(first + i),
		       (unsigned long long)d->ts, (unsigned long long)d->cand_off,
		       (unsigned long long)d->ep_off, d->trace, d->cpu, d->ncand, d->label,
		       d->prev_pid, d->next_pid, d->split);
		for (int j = 0; j < d->ncand; j++) {
			uint64_t r = d->cand_off - cand_base + (uint64_t)j;
			const struct ds_candidate *c = &cand[r];

			printf(" cand pid %d prio %d queued %llu since_ran %llu recent %llu "
			       "comm %.*s task %u n_ep %u\n", c->pid, c->prio,
			       (unsigned long long)c->queued_ns, (unsigned long long)c->since_ran_ns,
			       (unsigned long long)c->cpu_recent_ns, DS_COMM_LEN, c->comm, c->task,
			       c->n_ep);
			dump_row16("window", window + r * KE, KE);
			dump_row16("state", state + r * (size_t)h->S, (size_t)h->S);
		}
		if (h->mode == DS_WIN_SEQUENCE) {
			printf("  ids");
			for (int j = 0; j < h->W; j++)
				printf(" %d", ids[i * (uint64_t)h->W + j]);
			printf("\n");
			dump_row16("gaps", gaps + i * (uint64_t)h->W, (size_t)h->W);
		}
	}
}

int main(int argc, char **argv)
{
	uint64_t block = 0;
	int c;

	while ((c = getopt(argc, argv, "b:")) != -1) {
		if (c != 'b')
			return 2;
		block = strtoull(optarg, NULL, 10);
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: windump [-b BLOCK] FILE.h5\n");
		return 2;
	}
	if (!block) {
		struct ds_windows *w = feat_windows_load(argv[optind]);

		if (!w)
			return 1;
		dump_header(w);
		dump_decisions(w, 0, w->dec, w->n_dec, 0, w->cand, w->window, w->state,
			       w->seq_ids, w->seq_gaps);
		ds_windows_free(w);
	} else {
		struct ds_windows_reader *r = feat_windows_open(argv[optind]);
		const struct ds_windows *h;

		if (!r)
			return 1;
		h = ds_windows_header(r);
		dump_header(h);
		for (uint64_t at = 0; at < h->n_dec; at += block) {
			struct ds_windows_block b;
			uint64_t n = SC_MIN(block, h->n_dec - at);

			if (ds_windows_read(r, at, n, &b)) {
				ds_windows_close(r);
				return 1;
			}
			dump_decisions(h, at, b.dec, b.n_dec, b.cand_start, b.cand, b.window,
				       b.state, b.seq_ids, b.seq_gaps);
		}
		ds_windows_close(r);
	}
	if (fflush(stdout) || ferror(stdout)) {
		error("windump: cannot write the output");
		return 1;
	}
	return 0;
}
