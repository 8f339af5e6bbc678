/* SPDX-License-Identifier: GPL-2.0 */
/* features/ private declarations: the task and CPU records of the engine. */
#ifndef SC_FEATURES_LOCAL_H
#define SC_FEATURES_LOCAL_H

#include "common/common.h"
#include "features/features.h"

/* CPU time of the last FEAT_CPU_LONG_NS, in 1 ms buckets (a ring). */
#define FEAT_BUCKET_NS NSEC_PER_MSEC
#define FEAT_NR_BUCKETS 100

enum feat_task_st {
	FT_UNKNOWN,	/* not seen, or made unknowable by lost events */
	FT_RUNNING,	/* on cpu */
	FT_QUEUED,	/* in cpu's queue */
	FT_SLEEPING,	/* switched out not runnable */
};

enum feat_wait_kind { FW_UNKNOWN, FW_WOKEN, FW_PREEMPTED, FW_NEW };

/* A completed episode, in raw units; converted to features at a decision. */
struct feat_episode {
	uint64_t burst_ns, wait_ns, sleep_ns;
	int32_t prio;
	uint8_t wait_kind;	/* enum feat_wait_kind */
	uint8_t out_runnable, out_blocked, cpu_changed;
};

struct feat_task {
	struct feat_task *hnext;	/* hash chain */
	int32_t pid;
	int32_t prio;			/* -1 unknown */
	char comm[DS_COMM_LEN];
	uint8_t st;			/* enum feat_task_st */
	uint8_t exiting;
	uint8_t has_run;		/* out_ts and last_cpu are valid */
	uint8_t wait_kind;		/* of the current (or coming) wait */
	uint8_t waker_set;		/* waker came from a sched_waking not yet consumed */
	int32_t cpu;			/* RUNNING / QUEUED: where */
	int32_t last_cpu;		/* where its last burst ran */
	int32_t waker;			/* common_pid of its last wakeup, -1 */
	int qidx;			/* index in cpu's queue when QUEUED */
	uint64_t queued_ts;		/* QUEUED: on this cpu since */
	uint64_t wait_ts;		/* QUEUED: runnable since */
	uint64_t sleep_ns;		/* sleep before the current wait */
	uint64_t run_ts;		/* RUNNING: switched in at */
	uint64_t out_ts;		/* last switched out at */
	struct feat_episode cur;	/* the episode being run (wait part filled) */
	uint8_t cur_valid;		/* cur's wait part is known */
	uint32_t uid;			/* task id in the windows file */
	uint32_t n_ep;			/* episodes completed (saturates at UINT32_MAX) */
	int ep_head, ep_nr;		/* ring of the last K episodes */
	int16_t *ep;			/* (K, FEAT_E) features of the last K episodes */
	uint64_t bucket_ms;		/* ms index of the newest bucket */
	uint32_t bucket[FEAT_NR_BUCKETS];	/* ns run in each ms */
	/* pref[j]: ns run in the j buckets from the oldest one on (kept by
	   feat_add_run, so that a window's sum costs two look-ups) */
	uint64_t pref[FEAT_NR_BUCKETS + 1];
	uint64_t wait_avg_ns;		/* the wait set: moving average of its waits */
	uint8_t has_wait_avg;
};

struct feat_cpu {
	int32_t curr;			/* pid on the cpu, 0 idle, -1 unknown */
	/* the full state set: the last two picks here (0: none) and their comms' hashes */
	int32_t p1, p2;
	uint64_t p1c, p2c;
	uint64_t picks;			/* decisions here: the per-CPU counts' clock */
	uint64_t idle_since;		/* curr == 0: since when */
	struct feat_task **q;		/* queued tasks, unordered */
	int nq, alloc;
	int32_t *hist_id;		/* (W) ring of the last picks' vocab ids */
	uint64_t *hist_ts;		/* (W) their times */
	int hist_head, hist_nr;
};

/*
 * struct feat_count - one decayed count of the transition table.  The key is
 * (kind, scope, a, b, c): pids or comm hashes, 0 where unused; scope is the
 * CPU or -1 (all CPUs).  val is the count in Q16 as of epoch (the scope's
 * clock / FEAT_DECAY_PICKS at its last update): it halves at each epoch.
 */
struct feat_count {
	uint64_t a, b, c;
	uint64_t stamp;			/* table tick of the last update, 0: empty */
	int32_t scope;
	uint32_t val;			/* Q16 */
	uint32_t epoch;
	uint8_t kind;			/* enum feat_count_kind */
};

enum feat_count_kind {
	FC_FREQ = 1, FC_FREQ_ALL,	/* picks of a pid on a CPU; all picks on it */
	FC_M1, FC_M1_ALL,		/* p1 -> pick on a CPU; picks after p1 */
	FC_M2, FC_M2_ALL,		/* (p2, p1) -> pick on a CPU; picks after them */
	FC_M1C, FC_M1C_ALL,		/* the same by comm, all CPUs */
	FC_M2C, FC_M2C_ALL,
};

struct feat_rank {
	uint64_t key;
	int idx;
};

struct feat_state {
	struct feat_opts opts;
	int S;				/* feat_set_size(opts.state_set) */
	/* the full set: FEAT_COUNT_ENTRIES counts (8-way sets), all picks' clock */
	struct feat_count *counts;
	uint32_t *count_tags;		/* (FEAT_COUNT_ENTRIES) see counts.c */
	uint64_t count_tick, picks;
	uint32_t recorded;		/* events_recorded of this timeline */
	int nr_cpus;
	struct feat_cpu *cpus;
	struct feat_task **hash;
	uint64_t nhash, nr_tasks;
	struct ds_coverage cov;

	/*
	 * feat_decision() only selects the candidates (ncand, label, coverage):
	 * no window, state or ds_candidate rows (the windows file version 3
	 * writer; readers replay the engine to compute them).  The state it
	 * leaves is the same either way: the features only read it.
	 */
	int select_only;
	/* with opts.episodes, feat_decision() fills the windows too (the replay) */
	int windows_too;

	/* decision output buffers, grown as needed */
	struct feat_task **sel;
	struct feat_rank *rank;
	struct ds_candidate *cand;
	int16_t *window, *state;
	int cap;
	int32_t *seq_ids;
	int16_t *seq_gaps;

	/* opts.episodes: completed episodes not yet taken */
	uint64_t next_uid;
	uint32_t *pend_task;
	int16_t *pend_ep;		/* (n_pend, FEAT_E) */
	size_t n_pend, pend_alloc;
	uint32_t *retired;		/* (n_retired) with opts.retired */
	size_t n_retired, retired_alloc;
};

/* window.c: an episode's features, computed once when it completes */
void feat_episode_features(const struct feat_episode *e, int16_t *row);
/* window.c: features of one candidate at time t on cpu */
void feat_fill_window(const struct feat_state *st, const struct feat_task *t, int16_t *window);
void feat_fill_state(const struct feat_state *st, const struct feat_task *t, int cpu,
		     uint64_t t_ns, int prev_pid, int oldest, int16_t *state,
		     struct ds_candidate *cand);
/* window.c: log2(1 + v / 2^16) in Q7.8 */
int16_t feat_log2_1p_q16(uint64_t v);
/* counts.c: the transition counts */
void feat_counts_reset(struct feat_state *st);
/* feat_counts_learn - the pick of a decision on cpu (before it is applied) */
void feat_counts_learn(struct feat_state *st, int cpu, int32_t pid, const char *comm);
/* feat_counts_forget - lost events on cpu: its pick history is unknown */
void feat_counts_forget(struct feat_state *st, int cpu);
/* feat_fill_full - the full set's features (from FEAT_S_BASIC) of the n candidates sel */
void feat_fill_full(struct feat_state *st, int cpu, struct feat_task *const *sel, int n,
		    const struct ds_candidate *cand, const struct feat_task *prev,
		    int16_t *state);
/* feat_add_run - t ran on [start, end): its ms buckets and their prefix sums */
void feat_add_run(struct feat_task *t, uint64_t start, uint64_t end);

#endif /* SC_FEATURES_LOCAL_H */
