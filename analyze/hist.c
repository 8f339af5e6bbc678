// SPDX-License-Identifier: GPL-2.0
/*
 * Log-linear histograms of nanosecond durations (HdrHistogram's layout):
 * values below ANA_HIST_SUB are counted exactly; above, each power of two
 * is cut into ANA_HIST_SUB equal buckets, so a bucket is at most 1/32 of
 * its values wide and a percentile read at the bucket's middle is within
 * 1/64 (1.6%) of the exact one.  Rows (one power of two each) are allocated
 * when first hit, so a histogram costs what its values span, never what
 * their number is: the trace statistics stay flat in trace length.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "common/common.h"

/* row and bucket of v: row 0 holds 0..SUB-1, row r >= 1 holds [SUB << (r-1), SUB << r) */
static inline void hist_pos(uint64_t v, int *row, int *sub)
{
	int e;

	if (v < ANA_HIST_SUB) {
		*row = 0;
		*sub = (int)v;
		return;
	}
	e = 63 - __builtin_clzll(v);	/* >= ANA_HIST_SUB_BITS */
	*row = e - ANA_HIST_SUB_BITS + 1;
	*sub = (int)((v >> (e - ANA_HIST_SUB_BITS)) & (ANA_HIST_SUB - 1));
}

/* the value a bucket stands for: exact in row 0, else its middle */
static uint64_t hist_value(int row, int sub)
{
	int shift;

	if (!row)
		return (uint64_t)sub;
	shift = row - 1;
	return ((uint64_t)(ANA_HIST_SUB + sub) << shift) + (shift ? 1ULL << (shift - 1) : 0);
}

void ana_hist_add(struct ana_hist *h, uint64_t v)
{
	int row, sub;

	hist_pos(v, &row, &sub);
	if (!h->rows[row])
		h->rows[row] = xcalloc(ANA_HIST_SUB, sizeof(*h->rows[row]));
	h->rows[row][sub]++;
	if (!h->n || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->n++;
	h->total += v;
}

void ana_hist_merge(struct ana_hist *dst, const struct ana_hist *src)
{
	if (!src->n)
		return;
	for (int r = 0; r < ANA_HIST_ROWS; r++) {
		if (!src->rows[r])
			continue;
		if (!dst->rows[r])
			dst->rows[r] = xcalloc(ANA_HIST_SUB, sizeof(*dst->rows[r]));
		for (int s = 0; s < ANA_HIST_SUB; s++)
			dst->rows[r][s] += src->rows[r][s];
	}
	if (!dst->n || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->n += src->n;
	dst->total += src->total;
}

uint64_t ana_hist_rank(const struct ana_hist *h, uint64_t rank)
{
	uint64_t seen = 0, v;

	if (!h->n)
		return 0;
	if (rank <= 1)
		return h->min;
	if (rank >= h->n)
		return h->max;
	for (int r = 0; r < ANA_HIST_ROWS; r++) {
		if (!h->rows[r])
			continue;
		for (int s = 0; s < ANA_HIST_SUB; s++) {
			seen += h->rows[r][s];
			if (seen >= rank) {
				v = hist_value(r, s);
				return SC_MAX(h->min, SC_MIN(v, h->max));
			}
		}
	}
	return h->max;
}

void ana_hist_summarize(struct ana_summary *s, const struct ana_hist *h)
{
	static const int pct[3] = { 50, 90, 99 };
	uint64_t *out[3] = { &s->p50, &s->p90, &s->p99 };

	memset(s, 0, sizeof(*s));
	if (!h->n)
		return;
	s->n = h->n;
	s->min = h->min;
	s->max = h->max;
	s->total = h->total;
	s->avg = (double)h->total / (double)h->n;
	for (int i = 0; i < 3; i++)
		*out[i] = ana_hist_rank(h, (pct[i] * h->n + 99) / 100);
}

void ana_hist_release(struct ana_hist *h)
{
	for (int r = 0; r < ANA_HIST_ROWS; r++)
		free(h->rows[r]);
	memset(h, 0, sizeof(*h));
}

void ana_hist_free(struct ana_hist *h)
{
	if (!h)
		return;
	ana_hist_release(h);
	free(h);
}

uint64_t ana_hist_count_below(const struct ana_hist *h, uint64_t v)
{
	uint64_t n = 0;

	if (!h->n || v <= h->min)
		return 0;
	if (v > h->max)
		return h->n;
	for (int r = 0; r < ANA_HIST_ROWS; r++) {
		if (!h->rows[r])
			continue;
		for (int s = 0; s < ANA_HIST_SUB; s++) {
			/* a bucket counts when its lowest value is below v */
			uint64_t lo = r ? (uint64_t)(ANA_HIST_SUB + s) << (r - 1) : (uint64_t)s;

			if (lo >= v)
				return n;
			n += h->rows[r][s];
		}
	}
	return n;
}
