// SPDX-License-Identifier: GPL-2.0
/*
 * Feature definitions and their computation from a task's record: the
 * K-episode window and the state at a decision, all in Q7.8 integers.
 */
#include <string.h>

#include "features/features-local.h"

#define LOG2 "log2(1+us)"

const struct feat_desc feat_ep_desc[FEAT_E] = {
	[FEAT_EP_PRESENT] = { "ep_present", FEAT_FRAC, "flag" },
	[FEAT_EP_BURST] = { "ep_burst", FEAT_FRAC, LOG2 },
	[FEAT_EP_WAIT] = { "ep_wait", FEAT_FRAC, LOG2 },
	[FEAT_EP_WOKEN] = { "ep_woken", FEAT_FRAC, "flag" },
	[FEAT_EP_PREEMPTED] = { "ep_preempted", FEAT_FRAC, "flag" },
	[FEAT_EP_SLEEP] = { "ep_sleep", FEAT_FRAC, LOG2 },
	[FEAT_EP_OUT_RUNNABLE] = { "ep_out_runnable", FEAT_FRAC, "flag" },
	[FEAT_EP_OUT_BLOCKED] = { "ep_out_blocked", FEAT_FRAC, "flag" },
	[FEAT_EP_PRIO] = { "ep_prio", FEAT_FRAC, "(prio-120)/20" },
	[FEAT_EP_CPU_CHANGED] = { "ep_cpu_changed", FEAT_FRAC, "flag" },
};

const struct feat_desc feat_state_desc[FEAT_S] = {
	[FEAT_ST_QUEUED] = { "queued", FEAT_FRAC, LOG2 },
	[FEAT_ST_SINCE_RAN] = { "since_ran", FEAT_FRAC, LOG2 },
	[FEAT_ST_NEVER_RAN] = { "never_ran", FEAT_FRAC, "flag" },
	[FEAT_ST_CPU_SHORT] = { "cpu_10ms", FEAT_FRAC, "share" },
	[FEAT_ST_CPU_LONG] = { "cpu_100ms", FEAT_FRAC, "share" },
	[FEAT_ST_PRIO] = { "prio", FEAT_FRAC, "(prio-120)/20" },
	[FEAT_ST_WOKEN_BY_PREV] = { "woken_by_prev", FEAT_FRAC, "flag" },
	[FEAT_ST_LAST_HERE] = { "last_ran_here", FEAT_FRAC, "flag" },
	[FEAT_ST_WAIT_WOKEN] = { "wait_woken", FEAT_FRAC, "flag" },
	[FEAT_ST_WAIT_PREEMPTED] = { "wait_preempted", FEAT_FRAC, "flag" },
	[FEAT_ST_SLEEP] = { "sleep", FEAT_FRAC, LOG2 },
	[FEAT_ST_OLDEST] = { "oldest", FEAT_FRAC, "flag" },
	[FEAT_ST_M1_PID] = { "m1_pid", FEAT_FRAC, "share" },
	[FEAT_ST_M1_PID_N] = { "m1_pid_n", FEAT_FRAC, "log2(1+n)" },
	[FEAT_ST_M2_PID] = { "m2_pid", FEAT_FRAC, "share" },
	[FEAT_ST_M1_COMM] = { "m1_comm", FEAT_FRAC, "share" },
	[FEAT_ST_M2_COMM] = { "m2_comm", FEAT_FRAC, "share" },
	[FEAT_ST_FREQ] = { "freq", FEAT_FRAC, "share" },
	[FEAT_ST_FREQ_N] = { "freq_n", FEAT_FRAC, "log2(1+n)" },
	[FEAT_ST_RANK_QUEUED] = { "rank_queued", FEAT_FRAC, "1/(1+rank)" },
	[FEAT_ST_RANK_SINCE_RAN] = { "rank_since_ran", FEAT_FRAC, "1/(1+rank)" },
	[FEAT_ST_RANK_CPU] = { "rank_cpu", FEAT_FRAC, "1/(1+rank)" },
	[FEAT_ST_WOKE_PREV] = { "woke_prev", FEAT_FRAC, "flag" },
	[FEAT_ST_WAIT_USUAL] = { "wait_usual", FEAT_FRAC, LOG2 },
	[FEAT_ST_WAIT_DUE] = { "wait_due", FEAT_FRAC, "signed log2(1+us)" },
	[FEAT_ST_RANK_DUE] = { "rank_due", FEAT_FRAC, "1/(1+rank)" },
};

static const char *const set_names[FEAT_NR_SETS] = {
	[FEAT_SET_FULL] = "full",
	[FEAT_SET_BASIC] = "basic",
	[FEAT_SET_WAIT] = "wait",
};

int feat_set_size(int set)
{
	return set == FEAT_SET_BASIC ? FEAT_S_BASIC : set == FEAT_SET_FULL ? FEAT_S_FULL : FEAT_S;
}

const char *feat_set_name(int set)
{
	return set >= 0 && set < FEAT_NR_SETS ? set_names[set] : "?";
}

int feat_set_parse(const char *name)
{
	for (int i = 0; i < FEAT_NR_SETS; i++)
		if (!strcmp(name, set_names[i]))
			return i;
	return -1;
}

int feat_set_of(char *const *names, const int8_t *frac, int S)
{
	for (int set = 0; set < FEAT_NR_SETS; set++) {
		int i;

		if (S != feat_set_size(set))
			continue;
		for (i = 0; i < S; i++)
			if (strcmp(names[i], feat_state_desc[i].name) ||
			    frac[i] != feat_state_desc[i].frac)
				break;
		if (i == S)
			return set;
	}
	return -1;
}

void feat_set_header(struct ds_windows *hdr, int set, int K, char **ep, int8_t *epf, char **st,
		     int8_t *stf)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->mode = DS_WIN_CANDIDATES;
	hdr->K = K;
	hdr->E = FEAT_E;
	hdr->S = feat_set_size(set);
	for (int i = 0; i < FEAT_E; i++) {
		ep[i] = (char *)feat_ep_desc[i].name;
		epf[i] = feat_ep_desc[i].frac;
	}
	for (int i = 0; i < hdr->S; i++) {
		st[i] = (char *)feat_state_desc[i].name;
		stf[i] = feat_state_desc[i].frac;
	}
	hdr->ep_names = ep;
	hdr->ep_frac = epf;
	hdr->state_names = st;
	hdr->state_frac = stf;
}

#define ONE (1 << FEAT_FRAC)

/* log2(x) in Q16 for x >= 1, by repeated squaring of the mantissa (exact, slow). */
static uint64_t log2_q16_exact(uint64_t x)
{
	int ip = 63 - __builtin_clzll(x);
	uint64_t m = ip >= 31 ? x >> (ip - 31) : x << (31 - ip);	/* [2^31, 2^32) */
	uint64_t frac = 0;

	for (int i = 0; i < 16; i++) {
		m = (m * m) >> 31;
		frac <<= 1;
		if (m >= (1ull << 32)) {
			m >>= 1;
			frac |= 1;
		}
	}
	return ((uint64_t)ip << 16) | frac;
}

/*
 * log2(1 + i/256) in Q16 for i = 0..256, built once with the exact routine;
 * feat_log2us interpolates linearly between entries (error < 1e-5, far below
 * the Q8 output step), so the hot path is a table look-up.  Built before
 * main() runs, so threads may share it.
 */
static uint32_t log2_tab[257];
static uint64_t log2_1000;

__attribute__((constructor)) static void log2_init(void)
{
	for (int i = 0; i <= 256; i++)
		log2_tab[i] = (uint32_t)(log2_q16_exact(256 + (uint64_t)i) - (8u << 16));
	log2_1000 = log2_q16_exact(1000);
}

static uint64_t log2_q16(uint64_t x)
{
	int ip = 63 - __builtin_clzll(x);
	/* the 24 bits after the leading one: 8 index the table, 16 interpolate */
	uint64_t m = ip >= 24 ? (x >> (ip - 24)) & 0xffffff : (x << (24 - ip)) & 0xffffff;
	uint64_t i = m >> 16, r = m & 0xffff;
	uint64_t lo = log2_tab[i], hi = log2_tab[i + 1];

	return ((uint64_t)ip << 16) + lo + (((hi - lo) * r + 0x8000) >> 16);
}

void feat_log2_tables(uint32_t tab[257], uint64_t *log2_1000_q16)
{
	memcpy(tab, log2_tab, sizeof(log2_tab));
	*log2_1000_q16 = log2_1000;
}

int16_t feat_log2_1p_q16(uint64_t v)
{
	uint64_t l;

	if (v > UINT64_MAX - (1u << 16))
		v = UINT64_MAX - (1u << 16);
	l = log2_q16((1u << 16) + v) - (16u << 16);
	l = (l + 128) >> 8;
	return (int16_t)SC_MIN(l, (uint64_t)INT16_MAX);
}

int16_t feat_log2us(uint64_t ns)
{
	uint64_t l;

	if (ns > UINT64_MAX - 1000)
		ns = UINT64_MAX - 1000;
	l = log2_q16(1000 + ns);
	if (l <= log2_1000)
		return 0;
	l = (l - log2_1000 + 128) >> 8;		/* Q16 -> Q8, rounded */
	return (int16_t)SC_MIN(l, (uint64_t)INT16_MAX);
}

static int16_t prio_feat(int32_t prio)
{
	if (prio < 0)
		return 0;
	return (int16_t)((prio - 120) * ONE / 20);
}

/* ---- CPU time in the last 100 ms -------------------------------------------- */

void feat_add_run(struct feat_task *t, uint64_t start, uint64_t end)
{
	uint64_t m_end, m;

	if (end <= start)
		return;
	m_end = (end - 1) / FEAT_BUCKET_NS;
	if (m_end > t->bucket_ms) {
		if (m_end - t->bucket_ms >= FEAT_NR_BUCKETS) {
			memset(t->bucket, 0, sizeof(t->bucket));
		} else {
			for (m = t->bucket_ms + 1; m <= m_end; m++)
				t->bucket[m % FEAT_NR_BUCKETS] = 0;
		}
		t->bucket_ms = m_end;
	}
	m = start / FEAT_BUCKET_NS;
	if (t->bucket_ms >= FEAT_NR_BUCKETS - 1 && m < t->bucket_ms - (FEAT_NR_BUCKETS - 1))
		m = t->bucket_ms - (FEAT_NR_BUCKETS - 1);
	for (; m <= m_end; m++) {
		uint64_t lo = SC_MAX(start, m * FEAT_BUCKET_NS);
		uint64_t hi = SC_MIN(end, (m + 1) * FEAT_BUCKET_NS);

		if (hi > lo)
			t->bucket[m % FEAT_NR_BUCKETS] += (uint32_t)(hi - lo);
	}
	/* the prefix sums from the oldest bucket kept on */
	m = t->bucket_ms >= FEAT_NR_BUCKETS - 1 ? t->bucket_ms - (FEAT_NR_BUCKETS - 1) : 0;
	t->pref[0] = 0;
	for (uint64_t j = 0; m + j <= t->bucket_ms; j++)
		t->pref[j + 1] = t->pref[j] + t->bucket[(m + j) % FEAT_NR_BUCKETS];
}

/* feat_cpu_time - cpu time of t in [now - span, now) */
static uint64_t feat_cpu_time(const struct feat_task *t, uint64_t now, uint64_t span)
{
	uint64_t lo = now > span ? now - span : 0, sum = 0;
	uint64_t m_lo, m_hi, oldest, a, b;

	if (!now)
		return 0;
	m_lo = lo / FEAT_BUCKET_NS;
	m_hi = (now - 1) / FEAT_BUCKET_NS;
	oldest = t->bucket_ms >= FEAT_NR_BUCKETS - 1 ? t->bucket_ms - (FEAT_NR_BUCKETS - 1) : 0;
	a = SC_MAX(m_lo, oldest);
	b = SC_MIN(m_hi, t->bucket_ms);
	if (a > b)
		return 0;
	if (a == m_lo) {
		/* The oldest bucket straddles the window start: prorate it. */
		sum = (uint64_t)t->bucket[a % FEAT_NR_BUCKETS] * ((a + 1) * FEAT_BUCKET_NS - lo) /
		      FEAT_BUCKET_NS;
		a++;
	}
	if (a <= b)
		sum += t->pref[b - oldest + 1] - t->pref[a - oldest];
	return SC_MIN(sum, span);
}

/* ---- the window and the state ------------------------------------------------- */

void feat_fill_window(const struct feat_state *st, const struct feat_task *t, int16_t *window)
{
	int K = st->opts.K, pad = K - t->ep_nr;

	memset(window, 0, (size_t)pad * FEAT_E * sizeof(*window));
	for (int i = 0; i < t->ep_nr; i++)
		memcpy(window + (size_t)(pad + i) * FEAT_E,
		       t->ep + (size_t)((t->ep_head - t->ep_nr + i + K) % K) * FEAT_E,
		       FEAT_E * sizeof(*window));
}

void feat_episode_features(const struct feat_episode *e, int16_t *f)
{
	f[FEAT_EP_PRESENT] = ONE;
	f[FEAT_EP_BURST] = feat_log2us(e->burst_ns);
	f[FEAT_EP_WAIT] = feat_log2us(e->wait_ns);
	f[FEAT_EP_WOKEN] = (e->wait_kind == FW_WOKEN || e->wait_kind == FW_NEW) ? ONE : 0;
	f[FEAT_EP_PREEMPTED] = e->wait_kind == FW_PREEMPTED ? ONE : 0;
	f[FEAT_EP_SLEEP] = feat_log2us(e->sleep_ns);
	f[FEAT_EP_OUT_RUNNABLE] = e->out_runnable ? ONE : 0;
	f[FEAT_EP_OUT_BLOCKED] = e->out_blocked ? ONE : 0;
	f[FEAT_EP_PRIO] = prio_feat(e->prio);
	f[FEAT_EP_CPU_CHANGED] = e->cpu_changed ? ONE : 0;
}

void feat_fill_state(const struct feat_state *st, const struct feat_task *t, int cpu,
		     uint64_t now, int prev_pid, int oldest, int16_t *s, struct ds_candidate *c)
{
	uint64_t queued = now > t->queued_ts ? now - t->queued_ts : 0;
	uint64_t since = t->has_run ? (now > t->out_ts ? now - t->out_ts : 0) : UINT64_MAX;
	uint64_t short_ns = feat_cpu_time(t, now, FEAT_CPU_SHORT_NS);
	uint64_t long_ns = feat_cpu_time(t, now, FEAT_CPU_LONG_NS);

	memset(s, 0, (size_t)st->S * sizeof(*s));	/* the full set's: feat_fill_full() */
	s[FEAT_ST_QUEUED] = feat_log2us(queued);
	s[FEAT_ST_SINCE_RAN] = t->has_run ? feat_log2us(since) : 0;
	s[FEAT_ST_NEVER_RAN] = t->has_run ? 0 : ONE;
	s[FEAT_ST_CPU_SHORT] = (int16_t)(short_ns * ONE / FEAT_CPU_SHORT_NS);
	s[FEAT_ST_CPU_LONG] = (int16_t)(long_ns * ONE / FEAT_CPU_LONG_NS);
	s[FEAT_ST_PRIO] = prio_feat(t->prio);
	s[FEAT_ST_WOKEN_BY_PREV] = (t->waker >= 0 && t->waker == prev_pid &&
				    (t->wait_kind == FW_WOKEN || t->wait_kind == FW_NEW)) ? ONE : 0;
	s[FEAT_ST_LAST_HERE] = (t->has_run && t->last_cpu == cpu) ? ONE : 0;
	s[FEAT_ST_WAIT_WOKEN] = (t->wait_kind == FW_WOKEN || t->wait_kind == FW_NEW) ? ONE : 0;
	s[FEAT_ST_WAIT_PREEMPTED] = t->wait_kind == FW_PREEMPTED ? ONE : 0;
	s[FEAT_ST_SLEEP] = feat_log2us(t->sleep_ns);
	s[FEAT_ST_OLDEST] = oldest ? ONE : 0;
	if (st->S > FEAT_S_FULL) {
		uint64_t runnable = now > t->wait_ts ? now - t->wait_ts : 0;

		s[FEAT_ST_WAIT_USUAL] = feat_log2us(t->wait_avg_ns);
		s[FEAT_ST_WAIT_DUE] = runnable >= t->wait_avg_ns ?
			feat_log2us(runnable - t->wait_avg_ns) :
			(int16_t)-feat_log2us(t->wait_avg_ns - runnable);
	}

	memset(c, 0, sizeof(*c));
	c->pid = t->pid;
	c->prio = t->prio;
	c->queued_ns = queued;
	c->since_ran_ns = since;
	c->cpu_recent_ns = long_ns;
	c->task = t->uid;
	c->n_ep = t->n_ep;
	memcpy(c->comm, t->comm, DS_COMM_LEN);
	c->comm[DS_COMM_LEN - 1] = '\0';
}
