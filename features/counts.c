// SPDX-License-Identifier: GPL-2.0
/*
 * The full state set's inputs: what the online baselines know, computed by
 * the engine so that features, eval and live agree.  Decayed counts of picks
 * and of transitions in the CPU's pick sequence, at pid level (per CPU) and
 * at comm level (all CPUs: a new pid of a known program inherits its
 * program's transitions), and the candidates' ranks.
 *
 * Memory is one table of FEAT_COUNT_ENTRIES counts, 8-way set associative:
 * a new key replaces the least recently updated entry of its set (an entry
 * that decayed the most), so a trace with millions of task pairs cannot grow
 * it.  Counts halve every FEAT_DECAY_PICKS picks of their scope (lazily, by
 * epoch), so they track a drifting workload and a count never exceeds
 * 2 x FEAT_DECAY_PICKS: the features mean the same on a short or a long
 * trace.  Everything is integer arithmetic: the same events give the same
 * features bit for bit.
 *
 * A set's entries take six cache lines and a candidate asks for five keys a
 * decision, most of them absent: beside the entries, a tag per entry (the
 * high half of its key's hash, never 0; 0 is empty) keeps a set's eight tags
 * in one line, and only an entry whose tag matches is compared whole.
 */
#include <stdlib.h>
#include <string.h>

#include "features/features-local.h"

#define ONE (1 << FEAT_FRAC)
#define WAYS 8
#define Q16 (1u << 16)

static uint64_t comm_hash(const char *comm)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	if (!comm || !comm[0])
		return 0;
	for (int i = 0; i < DS_COMM_LEN && comm[i]; i++) {
		h ^= (uint8_t)comm[i];
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

static uint64_t key_hash(int kind, int32_t scope, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t h = (uint64_t)kind * 0x9e3779b97f4a7c15ull ^ (uint32_t)scope;

	h = (h ^ a) * 0xff51afd7ed558ccdull;
	h = (h ^ (h >> 33) ^ b) * 0xc4ceb9fe1a85ec53ull;
	h = (h ^ (h >> 33) ^ c) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

/* set_of - the first entry index of the key's set; *tag its tag */
static size_t set_of(int kind, int32_t scope, uint64_t a, uint64_t b, uint64_t c,
		     uint32_t *tag)
{
	uint64_t sets = FEAT_COUNT_ENTRIES / WAYS, h = key_hash(kind, scope, a, b, c);

	*tag = (uint32_t)(h >> 32) | 1;
	return (size_t)(h & (sets - 1)) * WAYS;
}

static int same(const struct feat_count *e, int kind, int32_t scope, uint64_t a, uint64_t b,
		uint64_t c)
{
	return e->stamp && e->kind == kind && e->scope == scope && e->a == a && e->b == b &&
	       e->c == c;
}

static uint32_t decayed(const struct feat_count *e, uint32_t epoch)
{
	uint32_t d = epoch - e->epoch;

	return d >= 32 ? 0 : e->val >> d;
}

static uint32_t epoch_of(const struct feat_state *st, int32_t scope)
{
	return (uint32_t)((scope >= 0 ? st->cpus[scope].picks : st->picks) / FEAT_DECAY_PICKS);
}

/* count - the decayed count of a key in Q16, 0 if absent */
static uint32_t count(const struct feat_state *st, int kind, int32_t scope, uint64_t a,
		      uint64_t b, uint64_t c)
{
	uint32_t tag;
	size_t s = set_of(kind, scope, a, b, c, &tag);
	const uint32_t *tags = st->count_tags + s;

	for (int w = 0; w < WAYS; w++)
		if (tags[w] == tag && same(&st->counts[s + w], kind, scope, a, b, c))
			return decayed(&st->counts[s + w], epoch_of(st, scope));
	return 0;
}

static void bump(struct feat_state *st, int kind, int32_t scope, uint64_t a, uint64_t b,
		 uint64_t c)
{
	uint32_t tag, epoch = epoch_of(st, scope), v;
	size_t s = set_of(kind, scope, a, b, c, &tag);
	struct feat_count *e = st->counts + s, *victim = e;
	uint32_t *tags = st->count_tags + s;

	for (int w = 0; w < WAYS; w++) {
		if (tags[w] == tag && same(&e[w], kind, scope, a, b, c)) {
			victim = &e[w];
			goto found;
		}
	}
	for (int w = 1; w < WAYS; w++)
		if (e[w].stamp < victim->stamp)
			victim = &e[w];
	*victim = (struct feat_count){ .a = a, .b = b, .c = c, .scope = scope, .kind = kind,
				       .epoch = epoch };
	tags[victim - e] = tag;
found:
	v = decayed(victim, epoch);
	victim->val = v > UINT32_MAX - Q16 ? UINT32_MAX : v + Q16;
	victim->epoch = epoch;
	victim->stamp = ++st->count_tick;
}

void feat_counts_reset(struct feat_state *st)
{
	if (st->S <= FEAT_S_BASIC)
		return;
	if (!st->counts) {
		st->counts = xcalloc(FEAT_COUNT_ENTRIES, sizeof(*st->counts));
		st->count_tags = xcalloc(FEAT_COUNT_ENTRIES, sizeof(*st->count_tags));
	} else {
		memset(st->counts, 0, FEAT_COUNT_ENTRIES * sizeof(*st->counts));
		memset(st->count_tags, 0, FEAT_COUNT_ENTRIES * sizeof(*st->count_tags));
	}
	st->count_tick = 0;
	st->picks = 0;
}

void feat_counts_forget(struct feat_state *st, int cpu)
{
	struct feat_cpu *c = &st->cpus[cpu];

	c->p1 = c->p2 = 0;
	c->p1c = c->p2c = 0;
}

void feat_counts_learn(struct feat_state *st, int cpu, int32_t pid, const char *comm)
{
	struct feat_cpu *c = &st->cpus[cpu];
	uint64_t n = (uint32_t)pid, h = comm_hash(comm);

	if (st->S <= FEAT_S_BASIC || pid <= 0)
		return;
	bump(st, FC_FREQ, cpu, n, 0, 0);
	bump(st, FC_FREQ_ALL, cpu, 0, 0, 0);
	if (c->p1) {
		bump(st, FC_M1, cpu, (uint32_t)c->p1, n, 0);
		bump(st, FC_M1_ALL, cpu, (uint32_t)c->p1, 0, 0);
		if (c->p2) {
			bump(st, FC_M2, cpu, (uint32_t)c->p2, (uint32_t)c->p1, n);
			bump(st, FC_M2_ALL, cpu, (uint32_t)c->p2, (uint32_t)c->p1, 0);
		}
	}
	if (c->p1c && h) {
		bump(st, FC_M1C, -1, c->p1c, h, 0);
		bump(st, FC_M1C_ALL, -1, c->p1c, 0, 0);
		if (c->p2c) {
			bump(st, FC_M2C, -1, c->p2c, c->p1c, h);
			bump(st, FC_M2C_ALL, -1, c->p2c, c->p1c, 0);
		}
	}
	c->p2 = c->p1;
	c->p1 = pid;
	c->p2c = c->p1c;
	c->p1c = h;
	c->picks++;
	st->picks++;
}

/* share - num / den in Q7.8, 0..1 (0 when nothing was counted) */
static int16_t share(uint32_t num, uint32_t den)
{
	if (!den)
		return 0;
	if (num >= den)
		return ONE;
	return (int16_t)(((uint64_t)num * ONE + den / 2) / den);
}

/*
 * rank_feature - 1 / (1 + rank) in Q7.8 for each of the n keys, rank = how
 * many keys are strictly greater (ties share the better rank).  The sort is
 * by key, greatest first, then by index: a total order, so any correct sort
 * gives the same ranks; this one is inline (qsort's callback per compare was
 * most of the cost with tens of candidates a decision).
 */
static int before(const struct feat_rank *x, const struct feat_rank *y)
{
	return x->key > y->key || (x->key == y->key && x->idx < y->idx);
}

static void insertion_sort(struct feat_rank *a, int n)
{
	for (int i = 1; i < n; i++) {
		struct feat_rank v = a[i];
		int j = i;

		for (; j > 0 && before(&v, &a[j - 1]); j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

/* sort_ranks - a[n] sorted (tmp: n more); returns a or tmp, whichever holds the result */
static struct feat_rank *sort_ranks(struct feat_rank *a, struct feat_rank *tmp, int n)
{
	enum { RUN = 16 };
	struct feat_rank *t;

	for (int i = 0; i < n; i += RUN)
		insertion_sort(a + i, SC_MIN(RUN, n - i));
	for (int w = RUN; w < n; w *= 2) {
		for (int lo = 0; lo < n; lo += 2 * w) {
			int mid = SC_MIN(lo + w, n), hi = SC_MIN(lo + 2 * w, n);
			int i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				tmp[k++] = before(&a[j], &a[i]) ? a[j++] : a[i++];
			while (i < mid)
				tmp[k++] = a[i++];
			while (j < hi)
				tmp[k++] = a[j++];
		}
		t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

static void rank_feature(struct feat_rank *it, int n, int16_t *state, int S, int f)
{
	int rank = 0, k = 1;

	/* in order already (the queued times: the candidates come longest-queued first) */
	while (k < n && !before(&it[k], &it[k - 1]))
		k++;
	if (k < n)
		it = sort_ranks(it, it + n, n);
	for (int i = 0; i < n; i++) {
		if (i && it[i].key != it[i - 1].key)
			rank = i;
		state[(size_t)it[i].idx * S + f] = (int16_t)(ONE / (1 + rank));
	}
}

void feat_fill_full(struct feat_state *st, int cpu, struct feat_task *const *sel, int n,
		    const struct ds_candidate *cand, const struct feat_task *prev, int16_t *state)
{
	const struct feat_cpu *c = &st->cpus[cpu];
	int S = st->S, prev_woken;
	uint64_t p1 = (uint32_t)c->p1, p2 = (uint32_t)c->p2;
	uint32_t m1_all = 0, m2_all = 0, m1c_all = 0, m2c_all = 0, f_all;
	struct feat_rank *it = st->rank;	/* (2n), grown with the other outputs */

	if (S <= FEAT_S_BASIC || n < 1)
		return;
	if (p1)
		m1_all = count(st, FC_M1_ALL, cpu, p1, 0, 0);
	if (p1 && p2)
		m2_all = count(st, FC_M2_ALL, cpu, p2, p1, 0);
	if (c->p1c)
		m1c_all = count(st, FC_M1C_ALL, -1, c->p1c, 0, 0);
	if (c->p1c && c->p2c)
		m2c_all = count(st, FC_M2C_ALL, -1, c->p2c, c->p1c, 0);
	f_all = count(st, FC_FREQ_ALL, cpu, 0, 0, 0);
	prev_woken = prev && (prev->wait_kind == FW_WOKEN || prev->wait_kind == FW_NEW);

	for (int i = 0; i < n; i++) {
		const struct feat_task *t = sel[i];
		int16_t *s = state + (size_t)i * S;
		uint64_t pid = (uint32_t)t->pid, h = comm_hash(t->comm);
		uint32_t m1 = m1_all ? count(st, FC_M1, cpu, p1, pid, 0) : 0;
		uint32_t f = f_all ? count(st, FC_FREQ, cpu, pid, 0, 0) : 0;

		s[FEAT_ST_M1_PID] = share(m1, m1_all);
		s[FEAT_ST_M1_PID_N] = feat_log2_1p_q16(m1);
		s[FEAT_ST_M2_PID] = m2_all ? share(count(st, FC_M2, cpu, p2, p1, pid), m2_all) : 0;
		s[FEAT_ST_M1_COMM] = m1c_all && h ?
			share(count(st, FC_M1C, -1, c->p1c, h, 0), m1c_all) : 0;
		s[FEAT_ST_M2_COMM] = m2c_all && h ?
			share(count(st, FC_M2C, -1, c->p2c, c->p1c, h), m2c_all) : 0;
		s[FEAT_ST_FREQ] = share(f, f_all);
		s[FEAT_ST_FREQ_N] = feat_log2_1p_q16(f);
		s[FEAT_ST_WOKE_PREV] = prev_woken && prev->waker == t->pid ? ONE : 0;
	}

	for (int i = 0; i < n; i++)
		it[i] = (struct feat_rank){ cand[i].queued_ns, i };
	rank_feature(it, n, state, S, FEAT_ST_RANK_QUEUED);
	for (int i = 0; i < n; i++)
		it[i] = (struct feat_rank){ cand[i].since_ran_ns, i };
	rank_feature(it, n, state, S, FEAT_ST_RANK_SINCE_RAN);
	for (int i = 0; i < n; i++)
		it[i] = (struct feat_rank){ UINT64_MAX - cand[i].cpu_recent_ns, i };
	rank_feature(it, n, state, S, FEAT_ST_RANK_CPU);
	if (S <= FEAT_S_FULL)
		return;
	for (int i = 0; i < n; i++)
		it[i] = (struct feat_rank){ (uint64_t)(state[(size_t)i * S + FEAT_ST_WAIT_DUE] + 32768),
					    i };
	rank_feature(it, n, state, S, FEAT_ST_RANK_DUE);
}
