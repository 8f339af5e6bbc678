// SPDX-License-Identifier: GPL-2.0
/*
 * wincmp - check that two windows files hold the same decisions: labels,
 * candidates, their windows and state features, coverage (the version-2
 * references and offsets aside, which differ by design).  B is also read
 * in blocks of -b decisions through the streaming reader and compared with
 * itself loaded whole.  Exit 0 if identical, 1 with the first difference.
 *
 *   wincmp [-b BLOCK] A.h5 B.h5
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "data/windows.h"
#include "features/features.h"

static int fail(const char *what, uint64_t i)
{
	fprintf(stderr, "wincmp: %s differs at %llu\n", what, (unsigned long long)i);
	return 1;
}

static int same_cand(const struct ds_candidate *x, const struct ds_candidate *y)
{
	return x->pid == y->pid && x->prio == y->prio && x->queued_ns == y->queued_ns &&
	       x->since_ran_ns == y->since_ran_ns && x->cpu_recent_ns == y->cpu_recent_ns &&
	       !memcmp(x->comm, y->comm, DS_COMM_LEN);
}

int main(int argc, char **argv)
{
	struct ds_windows *a, *b;
	struct ds_windows_reader *r;
	struct ds_windows_block blk;
	uint64_t block = 333;
	size_t KE, S;
	int c;

	while ((c = getopt(argc, argv, "b:")) != -1) {
		if (c != 'b')
			return 2;
		block = strtoull(optarg, NULL, 10);
	}
	if (optind != argc - 2 || !block) {
		fprintf(stderr, "usage: wincmp [-b BLOCK] A.h5 B.h5\n");
		return 2;
	}
	a = feat_windows_load(argv[optind]);
	b = feat_windows_load(argv[optind + 1]);
	if (!a || !b)
		return 1;
	if (a->mode != b->mode || a->K != b->K || a->E != b->E || a->S != b->S ||
	    a->n_dec != b->n_dec || a->n_cand != b->n_cand)
		return fail("shape or count", 0);
	if (memcmp(&a->cov, &b->cov, sizeof(a->cov)))
		return fail("coverage", 0);
	KE = (size_t)a->K * a->E;
	S = (size_t)a->S;
	for (uint64_t i = 0; i < a->n_dec; i++) {
		const struct ds_decision *x = &a->dec[i], *y = &b->dec[i];

		if (x->ts != y->ts || x->cand_off != y->cand_off || x->trace != y->trace ||
		    x->cpu != y->cpu || x->ncand != y->ncand || x->label != y->label ||
		    x->prev_pid != y->prev_pid || x->next_pid != y->next_pid ||
		    x->split != y->split)
			return fail("decision", i);
	}
	for (uint64_t i = 0; i < a->n_cand; i++) {
		if (!same_cand(&a->cand[i], &b->cand[i]))
			return fail("candidate", i);
		if (memcmp(a->window + i * KE, b->window + i * KE, KE * sizeof(int16_t)))
			return fail("window of candidate", i);
		if (memcmp(a->state + i * S, b->state + i * S, S * sizeof(int16_t)))
			return fail("state of candidate", i);
	}
	r = feat_windows_open(argv[optind + 1]);
	if (!r)
		return 1;
	for (uint64_t at = 0; at < b->n_dec; at += block) {
		uint64_t n = SC_MIN(block, b->n_dec - at);

		if (ds_windows_read(r, at, n, &blk))
			return 1;
		if (blk.n_cand && (memcmp(blk.window, b->window + blk.cand_start * KE,
					  blk.n_cand * KE * sizeof(int16_t)) ||
				   memcmp(blk.state, b->state + blk.cand_start * S,
					  blk.n_cand * S * sizeof(int16_t))))
			return fail("block read", at);
	}
	ds_windows_close(r);
	printf("identical: %llu decisions, %llu candidates\n", (unsigned long long)a->n_dec,
	       (unsigned long long)a->n_cand);
	ds_windows_free(a);
	ds_windows_free(b);
	return 0;
}
