/* SPDX-License-Identifier: GPL-2.0 */
/*
 * features/ - runqueue reconstruction and per-task feature windows.
 *
 * One incremental engine serves the offline `schedcast features` command and
 * the online `schedcast live`, so that both compute exactly the same features
 * from the same events.  Feed it the events of one timeline in timestamp
 * order:
 *
 *	struct feat_state *st = feat_state_new(&opts, nr_cpus);
 *	while (next event ev) {
 *		struct feat_decision_out out;
 *
 *		if (feat_decision(st, &ev, &out) == 1)
 *			use out (valid until the next call on st);
 *		feat_apply(st, &ev);
 *	}
 *	feat_state_free(st);
 *
 * feat_decision() looks at a sched_switch before it is applied: when it is a
 * decision it fills the candidates (the tasks queued on the CPU) and their
 * features from the state as it was just before the switch.  feat_apply()
 * then applies any event to the state.  Neither looks ahead, so no feature
 * depends on anything at or after its decision (tests/unit/test-features.c
 * checks this by changing the events after a decision).
 *
 * The model of the runqueue (man/schedcast-features.1 has the full rules):
 *   - a task is queued on CPU c by sched_wakeup / sched_wakeup_new (target
 *     CPU), or by being switched out still runnable (prev_state R or R+); it
 *     leaves the queue when switched in, migrated (sched_migrate_task moves
 *     it), or when it exits;
 *   - sched_waking is the wakeup when the timeline has no sched_wakeup
 *     (events_recorded), else it only names the waker; sched_process_fork
 *     queues the child on the fork's CPU when sched_wakeup_new is not
 *     recorded;
 *   - every event's common_pid (a switch's prev_pid) names the task that was
 *     on its CPU.  When it disagrees with the state, the missing switch is
 *     inferred (counted in ds_coverage.inferred_switches, never a decision):
 *     the kernels here do not record the switch out of the idle task on CPUs
 *     other than 0.  An inferred switch out of idle is dated at the moment
 *     the task became queued on that idle CPU (an idle CPU runs a woken task
 *     at once), any other inferred switch at the event that revealed it;
 *   - DS_EV_LOST resets the CPU it names: its queue and current task become
 *     unknown (counted in ds_coverage.lost_resets);
 *   - a decision is a recorded sched_switch whose next_pid is not 0.  The
 *     task switching out is never a candidate (had it been picked there
 *     would be no switch).
 *
 * Memory is bounded by the number of live tasks and CPUs and, for the full
 * state set, one table of FEAT_COUNT_ENTRIES transition counts; never by
 * events.
 */
#ifndef SC_FEATURES_H
#define SC_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "data/trace.h"
#include "data/windows.h"

#define FEAT_K_DEFAULT 8	/* episodes per window */
#define FEAT_K_MAX 256
#define FEAT_W_DEFAULT 32	/* picks per sequence */
#define FEAT_W_MAX 1024
#define FEAT_VOCAB_DEFAULT 256	/* vocabulary size, the unknown class included */
#define FEAT_VOCAB_MAX 65536

/*
 * Every feature is an int16 with FEAT_FRAC fraction bits (Q7.8: value =
 * raw / 256).  Durations are log2(1 + d / 1 us), so 1 us -> 1.0, 1 ms ->
 * 9.97, 1 s -> 19.9; flags are 0 or 1.0; prio is (prio - 120) / 20.
 */
#define FEAT_FRAC 8
#define FEAT_SEQ_GAP_FRAC 8
#define FEAT_CPU_SHORT_NS (10 * NSEC_PER_MSEC)
#define FEAT_CPU_LONG_NS (100 * NSEC_PER_MSEC)

/* Episode features: one run burst and the wait before it (oldest episode first). */
enum feat_ep {
	FEAT_EP_PRESENT,	/* 1 if this slot holds an episode (padding is all 0) */
	FEAT_EP_BURST,		/* log2 us of the run burst */
	FEAT_EP_WAIT,		/* log2 us runnable before the burst */
	FEAT_EP_WOKEN,		/* the wait began with a wakeup (or fork) */
	FEAT_EP_PREEMPTED,	/* the wait began with a switch-out as R / R+ */
	FEAT_EP_SLEEP,		/* log2 us asleep before the wakeup (0 if preempted) */
	FEAT_EP_OUT_RUNNABLE,	/* the burst ended runnable (R, R+) */
	FEAT_EP_OUT_BLOCKED,	/* the burst ended in D (uninterruptible) */
	FEAT_EP_PRIO,		/* (prio - 120) / 20 when switched in */
	FEAT_EP_CPU_CHANGED,	/* ran on another CPU than its previous burst */
	FEAT_E
};

/* State features: the candidate at the decision. */
enum feat_st {
	FEAT_ST_QUEUED,		/* log2 us queued on this CPU so far */
	FEAT_ST_SINCE_RAN,	/* log2 us since it last ran anywhere (0 if never seen) */
	FEAT_ST_NEVER_RAN,	/* never seen running in this timeline */
	FEAT_ST_CPU_SHORT,	/* share of the last 10 ms it ran (0..1) */
	FEAT_ST_CPU_LONG,	/* share of the last 100 ms it ran (0..1) */
	FEAT_ST_PRIO,		/* (prio - 120) / 20 */
	FEAT_ST_WOKEN_BY_PREV,	/* woken by the task now switching out */
	FEAT_ST_LAST_HERE,	/* its last burst was on this CPU */
	FEAT_ST_WAIT_WOKEN,	/* this wait began with a wakeup (or fork) */
	FEAT_ST_WAIT_PREEMPTED,	/* this wait began with a switch-out as R / R+ */
	FEAT_ST_SLEEP,		/* log2 us asleep before this wakeup */
	FEAT_ST_OLDEST,		/* the longest-queued candidate */
	FEAT_S_BASIC,		/* the basic set ends here (what live --in-kernel computes) */
	/*
	 * What the online baselines know, per candidate (features/counts.c).
	 * Transitions follow the CPU's pick sequence: p1 is the last task
	 * picked on this CPU, p2 the one before (idle does not count).  Counts
	 * decay (halved every FEAT_DECAY_PICKS picks of their scope), so shares
	 * follow a drifting workload and log counts stay below log2(2 x 4096).
	 */
	FEAT_ST_M1_PID = FEAT_S_BASIC,	/* share of the picks after p1 (pid, this CPU) that
					   were it */
	FEAT_ST_M1_PID_N,	/* log2(1 + count) of those picks */
	FEAT_ST_M2_PID,		/* share of the picks after (p2, p1) (pids, this CPU) */
	FEAT_ST_M1_COMM,	/* share of the picks after p1's comm that were its comm
				   (all CPUs: carries over to new pids of a program) */
	FEAT_ST_M2_COMM,	/* share after (p2's comm, p1's comm), all CPUs */
	FEAT_ST_FREQ,		/* share of this CPU's picks that were it (pid) */
	FEAT_ST_FREQ_N,		/* log2(1 + count) of those picks */
	FEAT_ST_RANK_QUEUED,	/* 1 / (1 + rank) by time queued, longest first */
	FEAT_ST_RANK_SINCE_RAN,	/* 1 / (1 + rank) by time since it ran, longest first */
	FEAT_ST_RANK_CPU,	/* 1 / (1 + rank) by CPU time in 100 ms, least first */
	FEAT_ST_WOKE_PREV,	/* it woke the task now switching out */
	FEAT_S_FULL,		/* the full set ends here */
	/*
	 * How long each task usually waits (features/window.c): a task that
	 * always waits long (a lower weight, a starved control group) is not
	 * due before its usual wait has passed.
	 */
	FEAT_ST_WAIT_USUAL = FEAT_S_FULL,	/* log2 us: its waits' moving average */
	FEAT_ST_WAIT_DUE,	/* signed log2 us: runnable so far - wait_usual */
	FEAT_ST_RANK_DUE,	/* 1 / (1 + rank) by wait_due, most overdue first */
	FEAT_S			/* the wait set: every state feature */
};

/* Counts of the transition features halve every this many picks of their scope. */
#define FEAT_DECAY_PICKS 4096
/* Entries of the transition-count table (8-way, least recently updated replaced). */
#define FEAT_COUNT_ENTRIES (1u << 16)

/*
 * The state feature sets: the first feat_set_size(set) of enum feat_st
 * (basic within full within wait).  FEAT_SET_FULL is 0, so a zeroed struct
 * feat_opts has it; `schedcast features` defaults to FEAT_SET_DEFAULT.
 */
enum feat_state_set { FEAT_SET_FULL = 0, FEAT_SET_BASIC = 1, FEAT_SET_WAIT = 2, FEAT_NR_SETS };
#define FEAT_SET_DEFAULT FEAT_SET_WAIT


struct feat_desc {
	const char *name;
	int8_t frac;
	const char *unit;	/* "log2(1+us)", "flag", "share", "prio/20" */
};

extern const struct feat_desc feat_ep_desc[FEAT_E];
extern const struct feat_desc feat_state_desc[FEAT_S];

/* feat_set_size - S, the state features of a set (a prefix of feat_state_desc) */
int feat_set_size(int set);
/* feat_set_name - "wait", "full" or "basic" */
const char *feat_set_name(int set);
/* feat_set_parse - the set named name, -1 if none */
int feat_set_parse(const char *name);
/*
 * feat_set_of - the set whose state features are exactly names and fracs (S
 * of them), -1 if no set computes them (a model of another schedcast)
 */
int feat_set_of(char *const *names, const int8_t *frac, int S);
/*
 * feat_set_header - fill hdr (zeroed first) as the engine writes it for set
 * in candidates mode with window length K: E, S, names and fracs.  ep and
 * epf hold FEAT_E entries, st and stf FEAT_S; hdr points into them.
 */
void feat_set_header(struct ds_windows *hdr, int set, int K, char **ep, int8_t *epf, char **st,
		     int8_t *stf);

/* feat_log2us - log2(1 + ns / 1000) in Q7.8, exact to the last bit (integer only) */
int16_t feat_log2us(uint64_t ns);
/*
 * feat_log2_tables - the table feat_log2us() interpolates: tab[i] =
 * log2(1 + i/256) in Q16 for i = 0..256, and log2(1000) in Q16 (for code
 * that computes the same features elsewhere, e.g. in a BPF program)
 */
void feat_log2_tables(uint32_t tab[257], uint64_t *log2_1000_q16);

/* ---- sequence-mode vocabulary ------------------------------------------- */

/*
 * struct feat_vocab - task identity (comm or pid) -> id.  Id 0 is the
 * unknown-task class ("<unknown>"), ids 1.. the known identities.  Built by
 * counting picks (feat_vocab_count) and keeping the most frequent
 * (feat_vocab_freeze).
 */
struct feat_vocab;

#define FEAT_VOCAB_UNKNOWN "<unknown>"

struct feat_vocab *feat_vocab_new(int by_pid);
/* feat_vocab_count - count one pick of (pid, comm); only before freezing */
void feat_vocab_count(struct feat_vocab *v, int pid, const char *comm);
/*
 * feat_vocab_freeze - keep the max_size - 1 most frequent identities (ties in
 * first-seen order) as ids 1.., the rest map to 0.
 */
void feat_vocab_freeze(struct feat_vocab *v, uint64_t max_size);
/* feat_vocab_id - id of (pid, comm), 0 when unknown; only after freezing */
int32_t feat_vocab_id(const struct feat_vocab *v, int pid, const char *comm);
/* feat_vocab_names - the n names by id, owned by v */
const char *const *feat_vocab_names(const struct feat_vocab *v, uint64_t *n);
void feat_vocab_free(struct feat_vocab *v);

/* ---- the incremental engine --------------------------------------------- */

struct feat_opts {
	int mode;			/* enum ds_win_mode */
	int state_set;			/* enum feat_state_set (candidates) */
	int K;				/* episodes per window (candidates) */
	int W;				/* picks per sequence (sequence) */
	uint32_t events_recorded;	/* DS_EV_BIT()s of the source; 0 = all */
	const struct feat_vocab *vocab;	/* sequence mode: frozen, borrowed */
	/*
	 * Candidates mode: keep each completed episode for feat_take_episodes()
	 * and give a decision's candidates' windows as references (cand[i].task,
	 * cand[i].n_ep: the last min(K, n_ep) episodes of that task) instead of
	 * filling them (the windows file version 2 stores
	 * every episode once).  live leaves it 0: nothing accumulates.
	 */
	int episodes;
	/*
	 * With episodes: also keep the id of every task record the engine
	 * frees (an exit, a pid reused, a reset) for feat_take_retired(), so
	 * that what a caller keeps per task id can follow the tasks alive.  A
	 * caller that sets it must take them after each feat_apply().
	 */
	int retired;
};

/*
 * struct feat_decision_out - one decision, filled by feat_decision().  The
 * arrays are owned by the state and valid until its next call.
 */
struct feat_decision_out {
	uint64_t ts;
	int cpu;
	int prev_pid;		/* task switching out (0 = idle) */
	int next_pid;		/* the kernel's pick */
	int label;		/* candidates: index of next_pid or -1; sequence: vocab id */
	int ncand;		/* 0 in sequence mode */
	int S;			/* state features per candidate (of opts.state_set) */
	const struct ds_candidate *cand;	/* (ncand), oldest queued first */
	const int16_t *window;	/* (ncand, K, FEAT_E) Q7.8, oldest episode first;
				   NULL when opts.episodes is set: cand[i].task
				   and cand[i].n_ep name it instead */
	const int16_t *state;	/* (ncand, S) Q7.8 */
	const int32_t *seq_ids;	/* (W) vocab ids, oldest first, -1 = padding */
	const int16_t *seq_gaps;	/* (W) log2 us from each pick to the next one
					   (the last: to this decision), Q7.8 */
};

/*
 * feat_state_new - an empty state for nr_cpus CPUs (more are added if events
 * name them).  Free with feat_state_free().  NULL after an error (bad opts).
 */
struct feat_state *feat_state_new(const struct feat_opts *opts, int nr_cpus);
/*
 * feat_state_reset - forget every task and CPU to start another timeline
 * (another trace); coverage counters keep accumulating.
 */
void feat_state_reset(struct feat_state *st, int nr_cpus, uint32_t events_recorded);
/*
 * feat_decision - for a sched_switch, repair the state from its prev_pid if
 * needed, then, if it is a decision, fill out from the state before the
 * switch and update the coverage counters.  Returns 1 for a decision, 0
 * otherwise (any other event, a switch to idle).  Must be followed by
 * feat_apply() of the same event.
 */
int feat_decision(struct feat_state *st, const struct ds_event *sw,
		  struct feat_decision_out *out);
/* feat_apply - apply any event to the state.  0, or -1 for an invalid event (printed) */
int feat_apply(struct feat_state *st, const struct ds_event *ev);
/*
 * feat_take_episodes - the episodes completed since the last call (with
 * opts.episodes), in the order they completed: *task (n) the id of each
 * one's task, *rows (n, FEAT_E) its features.  A task id names one task
 * record of the engine (a pid that exits and comes back is a new id); ids
 * start at 0 and never repeat within a state, across feat_state_reset() too.
 * The arrays stay valid until the next feat_apply().  Returns n.
 */
size_t feat_take_episodes(struct feat_state *st, const uint32_t **task, const int16_t **rows);
/*
 * feat_take_retired - with opts.retired, the ids of the task records freed
 * since the last call, in the order they were freed, after every episode
 * feat_take_episodes() gave of them.  Valid until the next feat_apply().
 * Returns n.
 */
size_t feat_take_retired(struct feat_state *st, const uint32_t **task);
/* feat_coverage - counters since feat_state_new() */
const struct ds_coverage *feat_coverage(const struct feat_state *st);
/* feat_nr_tasks - tasks currently tracked (memory is proportional to it) */
uint64_t feat_nr_tasks(const struct feat_state *st);
void feat_state_free(struct feat_state *st);

/* ---- the offline driver (schedcast features) ------------------------------ */

struct ds_filter;

struct feat_extract_opts {
	int mode;		/* enum ds_win_mode */
	int state_set;		/* enum feat_state_set */
	int K, W;
	int split[3];		/* percentages of each trace's time span: train, val, test */
	int vocab_by_pid;
	uint64_t vocab_size;
	const char *command_line;	/* stored in the file, may be NULL */
	int version;		/* of the windows file: 0 (current) or 1 */
	const struct ds_filter *filter;	/* which decisions are written (NULL: all): the
					   switch's CPU and time, the picked task; --time
					   also bounds the span the split divides */
};

struct feat_extract_stats {
	uint64_t events;
	uint64_t split_n[3];
	struct ds_coverage cov;
	uint64_t max_tasks;	/* most tasks tracked at once */
	uint64_t all_decisions;	/* the traces' decisions before the filters */
};

/*
 * feat_split_of - the split of a decision at ts in a trace spanning
 * [start, end]: train before start + split[0]% of the span, then val for
 * split[1]%, then test.
 */
int feat_split_of(uint64_t ts, uint64_t start, uint64_t end, const int split[3]);

/*
 * feat_extract - stream the traces (each its own timeline) into a windows
 * file at out (written atomically).  Candidates mode refuses a trace without
 * wakeup events, suggesting sequence mode.  0, or -1 after an error message
 * naming the file.  stats may be NULL.
 */
int feat_extract(const char *out, const char *const *traces, int nr_traces,
		 const struct feat_extract_opts *opts, struct feat_extract_stats *stats);

/* ---- reading windows files (every version) -------------------------------- */

/*
 * feat_windows_open - ds_windows_open() that also reads version 3 files, by
 * running this engine over the events they store (features/replay.c): the
 * candidates, windows and state come out as `features` computes them.
 * Memory: the engine's (bounded by live tasks), not the file's.  Going back
 * in the file replays it from its start.  Close with ds_windows_close().
 */
struct ds_windows_reader *feat_windows_open(const char *path);
/* feat_windows_load - ds_windows_load() of every version, version 3 replayed */
struct ds_windows *feat_windows_load(const char *path);

#endif /* SC_FEATURES_H */
