/* SPDX-License-Identifier: GPL-2.0 */
/*
 * data/windows.h - the windows file (windows.h5): scheduling decisions, their
 * candidates with per-task feature windows, labels and the time split.
 * Format "schedcast-windows", version DS_WINDOWS_VERSION; documented in
 * man/schedcast-files.5.
 *
 * A decision is a sched_switch on a CPU whose next_pid is not the idle task.
 * Candidates mode: the tasks queued on that CPU just before it, each with a
 * K-episode window of E features and S state features; label = index of the
 * true pick among them, or -1 when it was not among them (uncovered).
 * Sequence mode: the last W picks on the CPU as vocabulary ids and time gaps;
 * label = the next pick's id.
 *
 * Every feature is a fixed-point int16 whose fraction bits are recorded per
 * feature (value = raw / 2^frac).  The names and formats travel with the file
 * so a model trained on one feature set refuses another.
 *
 * Layout: root attributes format, version, mode, K, W, E, S, nr_traces,
 * coverage counters; datasets decisions (compound), cand (compound),
 * state int16 (n_cand, S), ep_names, ep_frac,
 * state_names, state_frac, traces (input paths), vocab, seq_ids int32 (n_dec, W),
 * seq_gaps int16 (n_dec, W), seq_label int32 (n_dec), cand_hist uint64.
 * The candidates' windows:
 *   version 1: window int16 (n_cand, K, E), every candidate's K episodes;
 *   version 2: every completed episode once, in the order they completed:
 *     episodes int16 (n_ep, E) and ep_task uint32 (n_ep) (its task id); a
 *     decision's ep_off counts the episodes completed before it, a
 *     candidate's (task, n_ep) names its task and how many episodes that
 *     task had completed: its window is the last min(K, n_ep) of them,
 *     padded with zero rows at the front.  Readers rebuild the windows by
 *     replaying the episodes in order (memory: K x E per task);
 *   version 3: no candidate rows at all.  The file holds the events the
 *     features engine consumed (events, trace.h5's columns, every event of
 *     every input trace in order) and, per trace, where its events start and
 *     what the engine was reset with (trace_events: ev_start, nr_cpus,
 *     events_recorded); a decision's ev_off is the row of its sched_switch.
 *     Readers rebuild the candidates, their windows and state by running the
 *     same engine over the events (features/: feat_windows_open()); the
 *     data-level reader alone refuses a version 3 file with a one-line hint.
 */
#ifndef SC_DATA_WINDOWS_H
#define SC_DATA_WINDOWS_H

#include <stddef.h>
#include <stdint.h>

#include "data/trace.h"

#define DS_WINDOWS_FORMAT "schedcast-windows"
#define DS_WINDOWS_VERSION 3

enum ds_win_mode { DS_WIN_CANDIDATES = 0, DS_WIN_SEQUENCE = 1 };
enum ds_split { DS_SPLIT_TRAIN = 0, DS_SPLIT_VAL = 1, DS_SPLIT_TEST = 2 };

/* Candidate-count histogram buckets: 0, 1, ..., DS_CAND_HIST-2, and ">=" the last. */
#define DS_CAND_HIST 17

struct ds_decision {
	uint64_t ts;		/* ns, the switch's timestamp in its trace */
	uint64_t cand_off;	/* first row in cand/window/state (candidates mode) */
	uint64_t ep_off;	/* version 2: episodes completed before it (else 0) */
	uint64_t ev_off;	/* version 3: row of its sched_switch in events (else 0) */
	int32_t trace;		/* index of the input trace */
	int32_t cpu;
	int32_t ncand;		/* candidates (0 in sequence mode) */
	int32_t label;		/* candidates: index of the pick or -1; sequence: vocab id */
	int32_t prev_pid;	/* task switched out (0 = idle) */
	int32_t next_pid;	/* the kernel's pick */
	uint8_t split;		/* enum ds_split */
};

/*
 * struct ds_candidate - raw facts about one candidate at the decision, kept
 * beside the fixed-point features for baselines and breakdowns.
 */
struct ds_candidate {
	int32_t pid;
	int32_t prio;
	uint64_t queued_ns;	/* time queued on this CPU so far */
	uint64_t since_ran_ns;	/* since it last ran anywhere (UINT64_MAX: never seen run) */
	uint64_t cpu_recent_ns;	/* CPU time used in the last 100 ms */
	char comm[DS_COMM_LEN];
	uint32_t task;		/* version 2: task id of its episodes (else 0) */
	uint32_t n_ep;		/* version 2: episodes its task had completed */
};

/* struct ds_windows_trace - version 3: how the engine starts each input trace */
struct ds_windows_trace {
	uint64_t ev_start;	/* its first row in events */
	int32_t nr_cpus;	/* feat_state_reset()'s arguments */
	uint32_t events_recorded;
};

struct ds_coverage {
	uint64_t decisions;	/* all decisions */
	uint64_t covered;	/* pick among the candidates */
	uint64_t contested;	/* two or more candidates */
	uint64_t contested_covered;
	uint64_t inferred_switches;	/* switches repaired from common_pid, never scored */
	uint64_t lost_resets;	/* CPU states reset after lost events */
	uint64_t cand_hist[DS_CAND_HIST];
};

/*
 * struct ds_windows - a whole windows file in memory (train and eval load
 * one; the features command writes with ds_windows_writer instead).
 */
struct ds_windows {
	int version;		/* read: the file's; write: 0 (current) or 1 */
	int mode;		/* enum ds_win_mode */
	int K, E, S;		/* episodes per window, episode features, state features */
	int W;			/* sequence length (sequence mode) */
	char **ep_names, **state_names;	/* E and S names */
	int8_t *ep_frac, *state_frac;	/* fraction bits of each feature */
	int nr_traces;
	char **traces;		/* input trace paths */

	uint64_t n_dec, n_cand;
	uint64_t n_ep, n_tasks;		/* version 2: episodes and task ids stored
					   (version 3: task ids the replay gives) */
	uint64_t n_events;		/* version 3: events stored */
	struct ds_windows_trace *trace_ev;	/* version 3: (nr_traces) */
	struct ds_decision *dec;	/* (n_dec) */
	struct ds_candidate *cand;	/* (n_cand) */
	int16_t *window;	/* (n_cand, K, E), oldest episode first (rebuilt from
				   the episodes in version 2) */
	int16_t *state;		/* (n_cand, S) */

	uint64_t n_vocab;
	char **vocab;		/* (n_vocab); id 0 is the unknown-task class */
	int32_t *seq_ids;	/* (n_dec, W), oldest first; -1 = padding */
	int16_t *seq_gaps;	/* (n_dec, W), log2 ns of the gap, Q of seq_gap_frac */
	int seq_gap_frac;

	struct ds_coverage cov;
	uint64_t n_split[3];	/* decisions in each enum ds_split */
	char *command_line;	/* read: the file's command_line note, or NULL */

	int seq_vocab_by_pid;	/* sequence mode: identities are pids, else comms */
};

struct ds_windows_replay;	/* below */

/*
 * ds_windows_load - read and validate a whole file; NULL after an error.
 * Versions 1 and 2 (a version 3 file needs ds_windows_load_replay(), which
 * feat_windows_load() calls with the features engine).
 */
struct ds_windows *ds_windows_load_replay(const char *path,
					  const struct ds_windows_replay *rp);
static inline struct ds_windows *ds_windows_load(const char *path)
{
	return ds_windows_load_replay(path, NULL);
}
/* ds_windows_free - contents and struct; NULL is a no-op */
void ds_windows_free(struct ds_windows *w);

/* ---- streaming reader (memory bounded by the block, not the file) ---------- */

/*
 * A windows file read in blocks of decisions: ds_windows_load() holds
 * everything in memory, which for a long trace with many candidates per
 * decision can be gigabytes.  The header (everything in struct ds_windows
 * but dec, cand, window, state, seq_ids and seq_gaps, which are NULL) is
 * read and checked by ds_windows_open(); each block is checked as it is read.
 */
struct ds_windows_reader;

struct ds_windows_block {
	uint64_t start, n_dec;		/* decisions [start, start + n_dec) */
	uint64_t cand_start, n_cand;	/* their candidate rows in the file */
	const struct ds_decision *dec;	/* (n_dec); dec[i].cand_off - cand_start
					   indexes cand, window and state */
	const struct ds_candidate *cand;	/* (n_cand) */
	const int16_t *window;		/* (n_cand, K, E) */
	const int16_t *state;		/* (n_cand, S) */
	const int32_t *seq_ids;		/* (n_dec, W) */
	const int16_t *seq_gaps;	/* (n_dec, W) */
};

/*
 * struct ds_windows_replay - how a version 3 file's candidates are rebuilt
 * (features/ supplies it: the data layer cannot run the engine).  open()
 * gets the file's path and its checked header and returns the replay's state (NULL after a
 * printed error); fill() computes the candidates, windows (n_cand, K, E) and
 * state (n_cand, S) of decisions dec[0..n) (decisions start.., their
 * candidates from row dec[0].cand_off) and their ep_off, reading events
 * with ds_windows_read_events(); 0 or -1 (printed).  close() frees the state.
 */
struct ds_windows_reader;
struct ds_windows_replay {
	void *(*open)(const char *path, const struct ds_windows *hdr);
	int (*fill)(void *ctx, struct ds_windows_reader *r, uint64_t start,
		    struct ds_decision *dec, uint64_t n, struct ds_candidate *cand,
		    int16_t *window, int16_t *state);
	/*
	 * episodes - the completed episodes [from, from + n) in the order
	 * version 2 stores them (its ep_off counts them: fill() sets each
	 * decision's).  0 or -1 (printed).
	 */
	int (*episodes)(void *ctx, struct ds_windows_reader *r, uint64_t from, uint64_t n,
			uint32_t *task, int16_t *rows);
	void (*close)(void *ctx);
};

/*
 * ds_windows_open - NULL after an error; close with ds_windows_close().  A
 * version 3 file opens, but reading its candidates needs a replay:
 * ds_windows_open_replay() (feat_windows_open() gives the engine's).
 */
struct ds_windows_reader *ds_windows_open_replay(const char *path,
						 const struct ds_windows_replay *rp);
static inline struct ds_windows_reader *ds_windows_open(const char *path)
{
	return ds_windows_open_replay(path, NULL);
}
/*
 * ds_windows_read_events - version 3: event rows [start, start + n) into ev
 * (comms NUL-terminated, types and CPUs not checked).  0 or -1 (printed).
 */
int ds_windows_read_events(struct ds_windows_reader *r, uint64_t start, uint64_t n,
			   struct ds_event *ev);

/* ds_windows_header - owned by r */
const struct ds_windows *ds_windows_header(const struct ds_windows_reader *r);
/*
 * ds_windows_read - decisions [start, start + n) and their candidates into
 * *b, whose arrays are owned by r and valid until its next call.  0 or -1
 * (printed).
 */
int ds_windows_read(struct ds_windows_reader *r, uint64_t start, uint64_t n,
		    struct ds_windows_block *b);
/*
 * ds_windows_read_max - ds_windows_read() of at most n decisions, fewer when
 * more would take the block over max_cand candidates (at least one
 * decision: b->n_dec says how many), so that the reader's buffers are
 * bounded by max_cand however busy a stretch of the trace is
 */
int ds_windows_read_max(struct ds_windows_reader *r, uint64_t start, uint64_t n,
			uint64_t max_cand, struct ds_windows_block *b);
/*
 * ds_windows_read_episodes - version 2, candidates mode: the completed
 * episodes [from, from + n) in the order they completed, task (n) their task
 * ids (checked below n_tasks) and rows (n, E) their features, into the
 * caller's arrays.  A stateful model steps its encoder on them (a decision's
 * ep_off says how many came before it).  0 or -1 (printed; also for a
 * version 1 file, which has none).  Version 3: the replay's (cheapest read
 * forward: an earlier episode than the last one asked for replays from the
 * start).
 */
int ds_windows_read_episodes(struct ds_windows_reader *r, uint64_t from, uint64_t n,
			     uint32_t *task, int16_t *rows);
void ds_windows_close(struct ds_windows_reader *r);

/* ---- streaming writer ------------------------------------------------------ */

struct ds_windows_writer;

/*
 * ds_windows_create - start a file; hdr supplies mode, K, E, S, W, names,
 * fracs, traces (its arrays are copied; dec/cand pointers ignored).
 */
struct ds_windows_writer *ds_windows_create(const char *path, const struct ds_windows *hdr);
/*
 * ds_windows_add - append one decision.  Candidates mode: cand[ncand],
 * window[ncand*K*E] (version 1; version 2 ignores it and takes each
 * candidate's task and n_ep), state[ncand*S] (version 3 ignores all three:
 * only d->ncand counts); d->cand_off, d->ep_off and d->ev_off are assigned.  Sequence mode: ids[W], gaps[W] (cand/window/state NULL).
 */
int ds_windows_add(struct ds_windows_writer *w, struct ds_decision *d,
		   const struct ds_candidate *cand, const int16_t *window, const int16_t *state,
		   const int32_t *ids, const int16_t *gaps);
/*
 * ds_windows_begin_trace - version 3, candidates mode: the events that
 * follow are those of the next input trace, which the engine starts with
 * feat_state_reset(nr_cpus, events_recorded).  0 or -1 (printed).
 */
int ds_windows_begin_trace(struct ds_windows_writer *w, int nr_cpus, uint32_t events_recorded);
/*
 * ds_windows_add_event - version 3, candidates mode: append the next event
 * the engine consumed.  A decision is added (ds_windows_add, which sets its
 * ev_off to this row) just before its sched_switch is.  0 or -1 (printed).
 */
int ds_windows_add_event(struct ds_windows_writer *w, const struct ds_event *ev);
/*
 * ds_windows_set_tasks - version 3: how many task ids the engine gave over
 * the whole file (its n_tasks, as version 2 counts them), before finishing
 */
void ds_windows_set_tasks(struct ds_windows_writer *w, uint64_t n_tasks);
/*
 * ds_windows_add_episodes - version 2, candidates mode: append n completed
 * episodes (task[n] ids, rows[n*E] features), before the decisions that
 * follow them.  0 or -1 (printed).
 */
int ds_windows_add_episodes(struct ds_windows_writer *w, const uint32_t *task,
			    const int16_t *rows, uint64_t n);
/* ds_windows_finish - write vocab (sequence mode), coverage; rename into place */
int ds_windows_finish(struct ds_windows_writer *w, const char *const *vocab, uint64_t n_vocab,
		      const struct ds_coverage *cov);
void ds_windows_abort(struct ds_windows_writer *w);
/*
 * ds_windows_set_note - a string attribute at the root ("command_line",
 * "split", ...); describe shows command_line.  0 or -1 (printed).
 */
int ds_windows_set_note(struct ds_windows_writer *w, const char *name, const char *value);

#endif /* SC_DATA_WINDOWS_H */
