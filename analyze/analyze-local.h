/* SPDX-License-Identifier: GPL-2.0 */
/*
 * analyze/analyze-local.h - private to analyze/: a small hash map, the
 * online baselines and the per-decision log of the evaluator.
 */
#ifndef SC_ANALYZE_LOCAL_H
#define SC_ANALYZE_LOCAL_H

#include <stdint.h>

#include "analyze/analyze.h"

/*
 * struct ana_map - open addressing from a key of ANA_KEY_WORDS int32 (zero
 * padded) to nvals doubles (zero when created).  Grows at half full.
 */
#define ANA_KEY_WORDS 11

/*
 * Caps of the tables keyed by task (ana_map_new_capped()): a live run sees
 * new pids for as long as it runs.  About 60 bytes a key, twice over.
 */
#define ANA_MAX_COMMS 4096		/* eval's groups by comm */
#define ANA_MAX_MISPRED 8192		/* (pid, comm) pairs of mispredictions */
#define ANA_MAX_COUNTS 32768		/* the online baselines' pick counts */

struct ana_map {
	size_t nvals;
	size_t size, used;	/* slots (a power of two), occupied */
	int32_t *keys;		/* (size, ANA_KEY_WORDS) */
	uint8_t *full;		/* (size) */
	double *vals;		/* (size, nvals) */
	size_t cap;		/* 0: none; else at most this many keys */
	uint64_t dropped;	/* keys dropped to stay under cap */
	double *rest;		/* (nvals) the dropped keys' values, summed */
	size_t *order;		/* (cap) pruning scratch, allocated at the first */
	int32_t *keep_keys;	/* (cap/2, ANA_KEY_WORDS) */
	double *keep_vals;	/* (cap/2, nvals) */
};

struct ana_map *ana_map_new(size_t nvals);
/*
 * ana_map_new_capped - a map of at most cap keys (>= 2), for tables keyed
 * by task that a long live run would grow without end: when a new key finds
 * it full, the cap/2 keys with the largest first value are kept (ties: the
 * smaller key) and the others' values are added to rest.  Deterministic: a
 * function of the keys and values alone.
 */
struct ana_map *ana_map_new_capped(size_t nvals, size_t cap);
void ana_map_free(struct ana_map *m);
/* ana_map_get - the values of key; created (zeroed) when create, else NULL if absent */
double *ana_map_get(struct ana_map *m, const int32_t *key, int create);
/* ana_map_next - iterate: *pos starts at 0; returns the slot or -1 at the end */
long ana_map_next(const struct ana_map *m, size_t *pos);
/* ana_map_key_str - pack a string (at most 4 * words - 1 bytes) into key words */
void ana_map_key_str(int32_t *key, int words, const char *s);
void ana_map_str_key(char *s, size_t size, const int32_t *key, int words);

/*
 * struct ana_online - the online baselines' memory: pick counts per trace,
 * per (trace, cpu, last pick) and per (trace, cpu, last two picks), and each
 * CPU's last two picks.  Identities are pids (candidates mode) or
 * vocabulary ids (sequence mode).
 */
struct ana_online {
	struct ana_map *counts;
	struct ana_map *ctx;
};

struct ana_online *ana_online_new(void);
void ana_online_free(struct ana_online *o);
/*
 * ana_online_rank - the three best candidates of d by baseline bl (not
 * ANA_BL_RANDOM), best first, -1 where fewer, by the tie rule in analyze.h.
 */
void ana_online_rank(struct ana_online *o, int bl, const struct ana_decision *d, int top[3]);
/* ana_online_learn - count d's pick (after it was scored) */
void ana_online_learn(struct ana_online *o, const struct ana_decision *d);

/*
 * Accuracy over time without keeping every decision: contested decisions go
 * into consecutive bins of `width` decisions; when ANA_MAX_BINS are full,
 * neighbours merge pairwise and the width doubles.  ana_eval_finish() maps
 * the bins onto ANA_TIME_SLICES slices (exact while fewer than ANA_MAX_BINS
 * contested decisions were seen, within one bin's width after).
 */
#define ANA_MAX_BINS 512

struct ana_hits {
	double n, model, bl[ANA_NR_BASELINES];	/* decisions, top-1 hits */
};

struct ana_bins {
	struct ana_hits bin[ANA_MAX_BINS];
	int nr;
	uint64_t width;
	struct ana_hits ncand[ANA_NCAND_MAX + 1];	/* by candidate count */
};

/* ---- rendering (report-*.c) ---- */
/* ana_rate - hits / n, 0 when n == 0 */
double ana_rate(double hits, uint64_t n);
int ana_report_text(const struct ana_trace_stats *st, const struct ana_eval *e,
		    struct strbuf *out, uint64_t top);
int ana_report_json(const struct ana_trace_stats *st, const struct ana_eval *e,
		    struct strbuf *out);
int ana_report_csv(const struct ana_trace_stats *st, struct strbuf *out);
int ana_report_html(const struct ana_trace_stats *st, const struct ana_eval *e,
		    struct strbuf *out, uint64_t top);

#endif /* SC_ANALYZE_LOCAL_H */
