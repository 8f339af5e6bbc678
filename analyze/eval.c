// SPDX-License-Identifier: GPL-2.0
/*
 * The evaluator: score decisions one at a time for the model and every
 * baseline, keep the breakdowns, and summarise.  Shared by `eval` (a whole
 * windows file), `report --model` and `live` (one decision at a time).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze-local.h"
#include "common/common.h"

/* Values kept per breakdown group: n, contested, model hits, then each baseline's. */
enum { G_N, G_CONTESTED, G_MODEL, G_BL, G_NVALS = G_BL + ANA_NR_BASELINES };
#define MISPRED_WHO_MODEL ANA_NR_BASELINES

void ana_wilson(double hits, double n, double *lo, double *hi)
{
	const double z = 1.959963984540054;	/* two-sided 95% */
	double p, den, centre, half;

	if (n <= 0) {
		*lo = 0;
		*hi = 1;
		return;
	}
	p = hits / n;
	den = 1 + z * z / n;
	centre = (p + z * z / (2 * n)) / den;
	half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den;
	*lo = centre - half < 0 ? 0 : centre - half;
	*hi = centre + half > 1 ? 1 : centre + half;
}

double ana_rate(double hits, uint64_t n)
{
	return n ? hits / (double)n : 0;
}

void ana_eval_init(struct ana_eval *e, int mode, const char *model_name, const char *arith,
		   const char *split)
{
	memset(e, 0, sizeof(*e));
	e->mode = mode;
	if (model_name) {
		e->has_model = 1;
		snprintf(e->model_name, sizeof(e->model_name), "%s", model_name);
		snprintf(e->arith, sizeof(e->arith), "%s", arith ? arith : "fixed");
	}
	snprintf(e->split, sizeof(e->split), "%s", split ? split : "all");
	for (int b = 0; b < ANA_NR_BASELINES; b++)
		e->bl_available[b] = mode == DS_WIN_CANDIDATES || b == ANA_BL_RANDOM ||
				     b >= ANA_BL_MOST_FREQUENT;
	e->online = ana_online_new();
	e->cpu_map = ana_map_new(G_NVALS);
	e->comm_map = ana_map_new_capped(G_NVALS, ANA_MAX_COMMS);
	e->mispred_map = ana_map_new_capped(1, ANA_MAX_MISPRED);
	e->bins = xcalloc(1, sizeof(*e->bins));
	e->bins->width = 1;
}

void ana_eval_release(struct ana_eval *e)
{
	ana_online_free(e->online);
	ana_map_free(e->cpu_map);
	ana_map_free(e->comm_map);
	ana_map_free(e->mispred_map);
	free(e->bins);
	free(e->cpu_groups);
	free(e->comm_groups);
	free(e->mispred);
	memset(e, 0, sizeof(*e));
}

/* The comm of candidate (or vocabulary id) i of d; "" for none. */
static const char *name_of(const struct ana_decision *d, int i)
{
	if (i < 0)
		return "";
	if (d->vocab)
		return (uint64_t)i < d->n_vocab ? d->vocab[i] : "";
	return i < d->ncand ? d->cand[i].comm : "";
}

static void add_group(struct ana_map *m, const int32_t *key, int contested, int model_hit,
		      const double *bl_hit)
{
	double *v = ana_map_get(m, key, 1);

	v[G_N] += 1;
	v[G_CONTESTED] += contested;
	v[G_MODEL] += model_hit;
	for (int b = 0; b < ANA_NR_BASELINES; b++)
		v[G_BL + b] += bl_hit[b];
}

/* pid_of - the pid of candidate i (candidates mode), -1 when there is none */
static int32_t pid_of(const struct ana_decision *d, int i)
{
	if (i < 0 || d->vocab || i >= d->ncand)
		return -1;
	return d->cand[i].pid;
}

/* Mispredictions are counted per (pid, comm) pair: two hackbench threads differ. */
static void add_mispred(struct ana_eval *e, int who, int32_t actual_pid, const char *actual,
			int32_t predicted_pid, const char *predicted)
{
	int32_t key[ANA_KEY_WORDS] = { 0 };

	key[0] = who;
	key[1] = actual_pid;
	ana_map_key_str(key + 2, 4, actual);
	key[6] = predicted_pid;
	ana_map_key_str(key + 7, 4, predicted);
	ana_map_get(e->mispred_map, key, 1)[0] += 1;
}

static void score(struct ana_score *s, int label, const int *top, int contested)
{
	int hit1 = label >= 0 && top[0] == label;
	int hit3 = label >= 0 && (top[0] == label || top[1] == label || top[2] == label);

	s->top1 += hit1;
	s->top3 += hit3;
	if (contested) {
		s->top1_c += hit1;
		s->top3_c += hit3;
	}
}

static void add_hits(struct ana_hits *h, int model_hit, const double *bl_hit)
{
	h->n += 1;
	h->model += model_hit;
	for (int b = 0; b < ANA_NR_BASELINES; b++)
		h->bl[b] += bl_hit[b];
}

/* Halve the bins, doubling their width; the last one, now half full, takes more. */
static void merge_bins(struct ana_bins *bins)
{
	for (int i = 0; i < ANA_MAX_BINS / 2; i++) {
		struct ana_hits *a = &bins->bin[2 * i], *b = &bins->bin[2 * i + 1];

		a->n += b->n;
		a->model += b->model;
		for (int k = 0; k < ANA_NR_BASELINES; k++)
			a->bl[k] += b->bl[k];
		bins->bin[i] = *a;
	}
	bins->nr = ANA_MAX_BINS / 2;
	bins->width *= 2;
}

void ana_eval_add(struct ana_eval *e, const struct ana_decision *d, const int *model_top,
		  int scored)
{
	int n = d->vocab ? (int)d->n_vocab : d->ncand;
	int contested = n >= 2, label = d->label;
	double bl_hit[ANA_NR_BASELINES] = { 0 };
	struct ana_bins *bins = e->bins;
	const char *actual;
	int32_t key[ANA_KEY_WORDS] = { 0 };
	int model_hit = 0;

	if (!d->vocab && label >= d->ncand)
		label = -1;	/* defensive: a label outside the candidates is a miss */
	if (!scored)
		goto learn;

	e->decisions++;
	e->contested += contested;
	if (d->vocab ? label > 0 : label >= 0)
		e->covered++;
	if (n >= 1) {
		e->chance += 1.0 / n;
		if (contested)
			e->chance_c += 1.0 / n;
	}
	if (d->vocab)
		actual = label >= 0 ? name_of(d, label) : "(none)";
	else
		actual = label >= 0 ? name_of(d, label) : "(not queued)";

	if (e->has_model && model_top) {
		score(&e->model, label, model_top, contested);
		model_hit = label >= 0 && model_top[0] == label;
		if (!model_hit && model_top[0] >= 0)
			add_mispred(e, MISPRED_WHO_MODEL, pid_of(d, label), actual,
				    pid_of(d, model_top[0]), name_of(d, model_top[0]));
	}
	for (int b = 0; b < ANA_NR_BASELINES; b++) {
		int top[3];

		if (!e->bl_available[b])
			continue;
		if (b == ANA_BL_RANDOM) {
			double p1 = 0, p3 = 0;

			if (label >= 0 && n >= 1) {
				p1 = 1.0 / n;
				p3 = (n < 3 ? n : 3) / (double)n;
			}
			e->bl[b].top1 += p1;
			e->bl[b].top3 += p3;
			if (contested) {
				e->bl[b].top1_c += p1;
				e->bl[b].top3_c += p3;
			}
			bl_hit[b] = p1;
			continue;
		}
		ana_online_rank(e->online, b, d, top);
		score(&e->bl[b], label, top, contested);
		bl_hit[b] = label >= 0 && top[0] == label;
		if (!bl_hit[b] && top[0] >= 0)
			add_mispred(e, b, pid_of(d, label), actual, pid_of(d, top[0]),
				    name_of(d, top[0]));
	}

	key[0] = d->cpu;
	add_group(e->cpu_map, key, contested, model_hit, bl_hit);
	memset(key, 0, sizeof(key));
	ana_map_key_str(key, 4, actual);
	add_group(e->comm_map, key, contested, model_hit, bl_hit);

	add_hits(&bins->ncand[n > ANA_NCAND_MAX ? ANA_NCAND_MAX : n], model_hit, bl_hit);
	if (contested) {
		if (!bins->nr || bins->bin[bins->nr - 1].n >= (double)bins->width) {
			if (bins->nr == ANA_MAX_BINS) {
				merge_bins(bins);
			} else {
				memset(&bins->bin[bins->nr], 0, sizeof(bins->bin[0]));
				bins->nr++;
			}
		}
		add_hits(&bins->bin[bins->nr - 1], model_hit, bl_hit);
	}
learn:
	e->observed++;
	ana_online_learn(e->online, d);
}

static int cmp_group_n(const void *a, const void *b)
{
	const struct ana_group *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_mispred(const void *a, const void *b)
{
	const struct ana_mispred *x = a, *y = b;
	int c;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	c = strcmp(x->actual, y->actual);
	if (!c)
		c = strcmp(x->predicted, y->predicted);
	if (!c && x->actual_pid != y->actual_pid)
		c = x->actual_pid < y->actual_pid ? -1 : 1;
	if (!c && x->predicted_pid != y->predicted_pid)
		c = x->predicted_pid < y->predicted_pid ? -1 : 1;
	return c;
}

static double bl_rate(const struct ana_eval *e, int b)
{
	if (e->contested)
		return ana_rate(e->bl[b].top1_c, e->contested);
	return ana_rate(e->bl[b].top1, e->decisions);
}

static void fill_groups(struct ana_eval *e, struct ana_map *m, struct ana_group **out,
			size_t *nr, int is_cpu)
{
	size_t pos = 0, n = 0;
	long slot;

	free(*out);
	*out = xcalloc(m->used + 1, sizeof(**out));
	while ((slot = ana_map_next(m, &pos)) >= 0) {
		const int32_t *key = &m->keys[(size_t)slot * ANA_KEY_WORDS];
		const double *v = &m->vals[(size_t)slot * m->nvals];
		struct ana_group *g = &(*out)[n++];

		if (is_cpu)
			snprintf(g->name, sizeof(g->name), "cpu%d", key[0]);
		else
			ana_map_str_key(g->name, sizeof(g->name), key, 4);
		g->n = (uint64_t)v[G_N];
		g->contested = (uint64_t)v[G_CONTESTED];
		g->model_top1 = v[G_MODEL];
		g->best_top1 = v[G_BL + e->best];
	}
	*nr = n;
	if (is_cpu) {
		/* by CPU number: names "cpuN" compare by length first */
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0; j--) {
				struct ana_group *a = &(*out)[j - 1], *b = &(*out)[j];
				size_t la = strlen(a->name), lb = strlen(b->name);

				if (la < lb || (la == lb && strcmp(a->name, b->name) <= 0))
					break;
				struct ana_group t = *a;
				*a = *b;
				*b = t;
			}
	} else {
		qsort(*out, n, sizeof(**out), cmp_group_n);
	}
	if (m->dropped) {
		/* the tasks the map dropped to stay bounded (a long live run): counted, last */
		struct ana_group *g = &(*out)[n++];

		snprintf(g->name, sizeof(g->name), "(others)");
		g->n = (uint64_t)m->rest[G_N];
		g->contested = (uint64_t)m->rest[G_CONTESTED];
		g->model_top1 = m->rest[G_MODEL];
		g->best_top1 = m->rest[G_BL + e->best];
		*nr = n;
	}
}

void ana_eval_finish(struct ana_eval *e)
{
	int who;
	size_t pos = 0, n = 0;
	long slot;
	uint64_t nc = 0, c = 0;

	e->best = -1;
	for (int b = 0; b < ANA_NR_BASELINES; b++) {
		if (!e->bl_available[b])
			continue;
		if (e->best < 0 || bl_rate(e, b) > bl_rate(e, e->best))
			e->best = b;
	}
	if (e->has_model) {
		double m = e->contested ? ana_rate(e->model.top1_c, e->contested)
					: ana_rate(e->model.top1, e->decisions);

		e->model_beats_best = m > bl_rate(e, e->best);
	}

	fill_groups(e, e->cpu_map, &e->cpu_groups, &e->nr_cpu_groups, 1);
	fill_groups(e, e->comm_map, &e->comm_groups, &e->nr_comm_groups, 0);

	who = e->has_model ? MISPRED_WHO_MODEL : e->best;
	free(e->mispred);
	e->mispred = xcalloc(e->mispred_map->used ? e->mispred_map->used : 1,
			     sizeof(*e->mispred));
	while ((slot = ana_map_next(e->mispred_map, &pos)) >= 0) {
		const int32_t *key = &e->mispred_map->keys[(size_t)slot * ANA_KEY_WORDS];
		struct ana_mispred *mp;

		if (key[0] != who)
			continue;
		mp = &e->mispred[n++];
		mp->actual_pid = key[1];
		ana_map_str_key(mp->actual, sizeof(mp->actual), key + 2, 4);
		mp->predicted_pid = key[6];
		ana_map_str_key(mp->predicted, sizeof(mp->predicted), key + 7, 4);
		mp->n = (uint64_t)e->mispred_map->vals[slot];
	}
	e->nr_mispred = n;
	qsort(e->mispred, n, sizeof(*e->mispred), cmp_mispred);

	/* over time: the bins of contested decisions onto ANA_TIME_SLICES slices */
	memset(e->slice_n, 0, sizeof(e->slice_n));
	memset(e->slice_model, 0, sizeof(e->slice_model));
	memset(e->slice_best, 0, sizeof(e->slice_best));
	for (int i = 0; i < e->bins->nr; i++)
		nc += (uint64_t)e->bins->bin[i].n;
	for (int i = 0; i < e->bins->nr; i++) {
		const struct ana_hits *h = &e->bins->bin[i];
		int k = (int)(c * ANA_TIME_SLICES / nc);

		e->slice_n[k] += (uint64_t)h->n;
		e->slice_model[k] += h->model;
		e->slice_best[k] += e->best >= 0 ? h->bl[e->best] : 0;
		c += (uint64_t)h->n;
	}
	for (int k = 0; k <= ANA_NCAND_MAX; k++) {
		const struct ana_hits *h = &e->bins->ncand[k];

		e->ncand_n[k] = (uint64_t)h->n;
		e->ncand_model[k] = h->model;
		e->ncand_best[k] = e->best >= 0 ? h->bl[e->best] : 0;
	}
}

void ana_top3(const int32_t *scores, int n, int top[3])
{
	top[0] = top[1] = top[2] = -1;
	for (int i = 0; i < n; i++) {
		int at;

		for (at = 0; at < 3; at++)
			if (top[at] < 0 || scores[i] > scores[top[at]])
				break;
		if (at == 3)
			continue;
		for (int j = 2; j > at; j--)
			top[j] = top[j - 1];
		top[at] = i;
	}
}

/* ana_decision_from_windows - the view of decision i of w (pointers into w) */
static void ana_decision_from_windows(struct ana_decision *d, const struct ds_windows *w,
				      uint64_t i)
{
	const struct ds_decision *dec = &w->dec[i];

	memset(d, 0, sizeof(*d));
	d->ts = dec->ts;
	d->trace = dec->trace;
	d->cpu = dec->cpu;
	d->label = dec->label;
	d->next_pid = dec->next_pid;
	if (w->mode == DS_WIN_SEQUENCE) {
		d->vocab = w->vocab;
		d->n_vocab = w->n_vocab;
	} else {
		d->ncand = dec->ncand;
		d->cand = &w->cand[dec->cand_off];
	}
}

int ana_eval_windows_add(struct ana_eval *e, const struct ds_windows *w, unsigned split_mask,
			 const struct ana_dec_filter *df, ana_predict_fn predict, void *ctx)
{
	for (uint64_t i = 0; i < w->n_dec; i++) {
		const struct ds_decision *wd = &w->dec[i];
		struct ana_decision d;
		int top[3] = { -1, -1, -1 };
		int scored = ((split_mask >> wd->split) & 1) &&
			     (!df || ana_dec_filter_pass(df, wd->trace, wd->cpu, wd->ts,
							 wd->next_pid));

		ana_decision_from_windows(&d, w, i);
		if (scored && predict && predict(ctx, w, i, top))
			return -1;
		ana_eval_add(e, &d, predict ? top : NULL, scored);
	}
	return 0;
}
