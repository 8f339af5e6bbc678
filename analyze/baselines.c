// SPDX-License-Identifier: GPL-2.0
/*
 * The baselines the model must beat, on exactly the decisions it is scored
 * on.  Three read facts the features command kept beside each candidate
 * (struct ds_candidate: queued_ns, since_ran_ns, cpu_recent_ns); three learn
 * online from the picks seen so far (most frequent, Markov order 1 and 2 on
 * the CPU's pick sequence) and never look at a decision before it is scored.
 *
 * Every baseline ranks by a key vector compared lexicographically, highest
 * first: its own keys, then the tie rule (longest queued, lowest pid, lowest
 * index; in sequence mode lowest id).  The Markov baselines back off: order
 * 2 ranks by the count after the last two picks, then after the last pick,
 * then overall; order 1 by the last two of those.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze-local.h"
#include "common/common.h"

const char *const ana_baseline_names[ANA_NR_BASELINES] = {
	[ANA_BL_RANDOM] = "random",
	[ANA_BL_LONGEST_QUEUED] = "longest-queued",
	[ANA_BL_LEAST_RECENT] = "least-recently-run",
	[ANA_BL_LEAST_CPU] = "least-recent-cpu",
	[ANA_BL_MOST_FREQUENT] = "most-frequent",
	[ANA_BL_MARKOV1] = "markov1",
	[ANA_BL_MARKOV2] = "markov2",
};

/* Key kinds in the counts map. */
enum { KEY_FREQ = 1, KEY_M1, KEY_M2 };
#define NO_PICK (-2)	/* no pick yet in a CPU's history (-1 is a padding id elsewhere) */
#define NKEYS 6

struct ana_online *ana_online_new(void)
{
	struct ana_online *o = xcalloc(1, sizeof(*o));

	o->counts = ana_map_new_capped(1, ANA_MAX_COUNTS);
	o->ctx = ana_map_new(2);
	return o;
}

void ana_online_free(struct ana_online *o)
{
	if (!o)
		return;
	ana_map_free(o->counts);
	ana_map_free(o->ctx);
	free(o);
}

/* ana_decision_pick - the identity of d's pick: pid or vocabulary id */
static int32_t ana_decision_pick(const struct ana_decision *d)
{
	if (d->vocab)
		return d->label;
	if (d->label >= 0 && d->label < d->ncand)
		return d->cand[d->label].pid;
	return d->next_pid;
}

/* The CPU's last two picks: p1 the last, p2 the one before. */
static void history(struct ana_online *o, const struct ana_decision *d, int32_t *p1, int32_t *p2)
{
	int32_t key[ANA_KEY_WORDS] = { d->trace, d->cpu };
	double *v = ana_map_get(o->ctx, key, 0);

	*p1 = v ? (int32_t)v[0] : NO_PICK;
	*p2 = v ? (int32_t)v[1] : NO_PICK;
}

static double count(struct ana_online *o, int kind, const struct ana_decision *d, int32_t p2,
		    int32_t p1, int32_t next)
{
	int32_t key[ANA_KEY_WORDS] = { kind, d->trace, 0, 0, 0, next };
	double *v;

	if (kind != KEY_FREQ) {
		key[2] = d->cpu;
		key[4] = p1;
		if (kind == KEY_M2)
			key[3] = p2;
	}
	v = ana_map_get(o->counts, key, 0);
	return v ? v[0] : 0;
}

static void bump(struct ana_online *o, int kind, const struct ana_decision *d, int32_t p2,
		 int32_t p1, int32_t next)
{
	int32_t key[ANA_KEY_WORDS] = { kind, d->trace, 0, 0, 0, next };

	if (kind != KEY_FREQ) {
		key[2] = d->cpu;
		key[4] = p1;
		if (kind == KEY_M2)
			key[3] = p2;
	}
	ana_map_get(o->counts, key, 1)[0] += 1;
}

void ana_online_learn(struct ana_online *o, const struct ana_decision *d)
{
	int32_t key[ANA_KEY_WORDS] = { d->trace, d->cpu };
	int32_t p1, p2, pick = ana_decision_pick(d);
	double *v;

	history(o, d, &p1, &p2);
	bump(o, KEY_FREQ, d, 0, 0, pick);
	if (p1 != NO_PICK)
		bump(o, KEY_M1, d, 0, p1, pick);
	if (p2 != NO_PICK)
		bump(o, KEY_M2, d, p2, p1, pick);
	v = ana_map_get(o->ctx, key, 1);
	v[1] = p1;
	v[0] = pick;
}

/* Fill k[NKEYS] for candidate (or vocabulary id) i. */
static void keys(struct ana_online *o, int bl, const struct ana_decision *d, int i, int32_t p1,
		 int32_t p2, double *k)
{
	int32_t id;
	int n = 0;

	memset(k, 0, NKEYS * sizeof(*k));
	if (d->vocab) {
		id = i;
	} else {
		const struct ds_candidate *c = &d->cand[i];

		id = c->pid;
		switch (bl) {
		case ANA_BL_LONGEST_QUEUED:
			break;	/* the tie rule's first key is the baseline */
		case ANA_BL_LEAST_RECENT:
			k[n++] = (double)c->since_ran_ns;
			break;
		case ANA_BL_LEAST_CPU:
			k[n++] = -(double)c->cpu_recent_ns;
			break;
		}
	}
	switch (bl) {
	case ANA_BL_MARKOV2:
		k[n++] = p2 == NO_PICK ? 0 : count(o, KEY_M2, d, p2, p1, id);
		/* fall through */
	case ANA_BL_MARKOV1:
		k[n++] = p1 == NO_PICK ? 0 : count(o, KEY_M1, d, 0, p1, id);
		/* fall through */
	case ANA_BL_MOST_FREQUENT:
		k[n++] = count(o, KEY_FREQ, d, 0, 0, id);
		break;
	}
	/* the tie rule */
	if (!d->vocab) {
		k[n++] = (double)d->cand[i].queued_ns;
		k[n++] = -(double)d->cand[i].pid;
	}
	k[n++] = -(double)i;
}

static int better(const double *a, const double *b)
{
	for (int i = 0; i < NKEYS; i++) {
		if (a[i] != b[i])
			return a[i] > b[i];
	}
	return 0;
}

void ana_online_rank(struct ana_online *o, int bl, const struct ana_decision *d, int top[3])
{
	double best[3][NKEYS], k[NKEYS];
	int32_t p1, p2;
	int n = d->vocab ? (int)d->n_vocab : d->ncand;

	top[0] = top[1] = top[2] = -1;
	history(o, d, &p1, &p2);
	for (int i = 0; i < n; i++) {
		int at;

		keys(o, bl, d, i, p1, p2, k);
		for (at = 0; at < 3; at++)
			if (top[at] < 0 || better(k, best[at]))
				break;
		if (at == 3)
			continue;
		for (int j = 2; j > at; j--) {
			top[j] = top[j - 1];
			memcpy(best[j], best[j - 1], sizeof(best[j]));
		}
		top[at] = i;
		memcpy(best[at], k, sizeof(k));
	}
}
