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
 *     replaying the episodes in order (memory: K x E per task).
 */
#ifndef SC_DATA_WINDOWS_H
#define SC_DATA_WINDOWS_H

#include <stdint.h>

#include "data/trace.h"

#define DS_WINDOWS_FORMAT "schedcast-windows"
#define DS_WINDOWS_VERSION 2

enum ds_win_mode { DS_WIN_CANDIDATES = 0, DS_WIN_SEQUENCE = 1 };
enum ds_split { DS_SPLIT_TRAIN = 0, DS_SPLIT_VAL = 1, DS_SPLIT_TEST = 2 };

/* Candidate-count histogram buckets: 0, 1, ..., DS_CAND_HIST-2, and ">=" the last. */
#define DS_CAND_HIST 17

struct ds_decision {
	uint64_t ts;		/* ns, the switch's timestamp in its trace */
	uint64_t cand_off;	/* first row in cand/window/state (candidates mode) */
	uint64_t ep_off;	/* version 2: episodes completed before it (else 0) */
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
	uint64_t n_ep, n_tasks;		/* version 2: episodes and task ids stored */
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

/* ds_windows_load - read and validate a whole file; NULL after an error */
struct ds_windows *ds_windows_load(const char *path);
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

/* ds_windows_open - NULL after an error; close with ds_windows_close() */
struct ds_windows_reader *ds_windows_open(const char *path);
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
 * version 1 file, which has none).
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
 * candidate's task and n_ep), state[ncand*S]; d->cand_off and d->ep_off are
 * assigned.  Sequence mode: ids[W], gaps[W] (cand/window/state NULL).
 */
int ds_windows_add(struct ds_windows_writer *w, struct ds_decision *d,
		   const struct ds_candidate *cand, const int16_t *window, const int16_t *state,
		   const int32_t *ids, const int16_t *gaps);
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
