/* SPDX-License-Identifier: GPL-2.0 */
/*
 * analyze/analyze.h - what the top of the pipeline computes: trace
 * statistics (schedcast report), prediction accuracy against baselines on
 * the very same decisions (schedcast eval, report --model, live), and the
 * renderers of both.
 *
 * Two independent halves:
 *
 *  - struct ana_trace_stats: per task, per CPU and whole-trace figures from
 *    one streaming pass over a trace.h5 (ana_trace_stats_compute()).  The
 *    definitions are stated in man/schedcast-report.1 (FIELDS) and beside
 *    each field below.
 *
 *  - struct ana_eval: an accumulator scoring decisions one at a time
 *    (ana_eval_add()), so that `eval` (all decisions of a windows file, via
 *    ana_eval_file()) and `live` (decisions as the kernel makes them)
 *    report in the same form.  The online baselines inside it (most
 *    frequently picked so far, Markov order 1 and 2 on each CPU's pick
 *    sequence) learn only from decisions already added: a decision is
 *    scored first, then learnt from.
 *
 * Tie rule of every candidate baseline (documented in schedcast-eval(1)):
 * candidates are ranked by the baseline's own key; equal keys are ordered by
 * longest queued first, then lowest pid, then lowest candidate index.  The
 * model's scores are ranked highest first, ties by lowest candidate index
 * (lstm_predict()'s own rule).  The uniform random baseline is not sampled:
 * its hits are the exact expectations 1/n (top-1) and min(3, n)/n (top-3).
 */
#ifndef SC_ANALYZE_H
#define SC_ANALYZE_H

#include <stdint.h>
#include <stdio.h>

#include "data/filter.h"
#include "data/trace.h"
#include "data/windows.h"

struct strbuf;
struct json_writer;

/* ---- distributions ------------------------------------------------------- */

/*
 * struct ana_summary - a distribution of durations in ns, from a histogram
 * (ana_hist_summarize()).  Percentiles are nearest rank: the smallest sample
 * with at least p% of the samples at or below it, to the histogram's bucket.
 * All zero when n == 0.
 */
struct ana_summary {
	uint64_t n;
	uint64_t total;
	uint64_t min, max;
	uint64_t p50, p90, p99;
	double avg;
};

/*
 * struct ana_hist - a log-linear histogram of durations (ns), hist.c.
 * Values below ANA_HIST_SUB are exact; above, a percentile is the middle of
 * a bucket 1/32 of its value wide, within 1.6% of the exact one (min, max,
 * total and n are exact).  Memory: one 256-byte row per power of two the
 * values reach, whatever their number.  Zero-initialise; ana_hist_release().
 */
#define ANA_HIST_SUB_BITS 5
#define ANA_HIST_SUB (1 << ANA_HIST_SUB_BITS)
#define ANA_HIST_ROWS (64 - ANA_HIST_SUB_BITS + 1)
struct ana_hist {
	uint64_t n, total, min, max;
	uint64_t *rows[ANA_HIST_ROWS];	/* (ANA_HIST_SUB) counts each, NULL until hit */
};

void ana_hist_add(struct ana_hist *h, uint64_t v);
void ana_hist_merge(struct ana_hist *dst, const struct ana_hist *src);
/* ana_hist_rank - the rank-th smallest value (1-based, clamped to 1..n); 0 when empty */
uint64_t ana_hist_rank(const struct ana_hist *h, uint64_t rank);
/*
 * ana_hist_count_below - how many values are below v: exact below
 * ANA_HIST_SUB and outside min..max, else to the bucket (a bucket counts
 * when its lowest value is below v)
 */
uint64_t ana_hist_count_below(const struct ana_hist *h, uint64_t v);
/* ana_hist_summarize - n, min, max, total, avg exact; p50/p90/p99 to the bucket */
void ana_hist_summarize(struct ana_summary *s, const struct ana_hist *h);
void ana_hist_release(struct ana_hist *h);
/* ana_hist_free - release and free h (NULL is a no-op) */
void ana_hist_free(struct ana_hist *h);

/*
 * ana_wilson - the Wilson score 95% interval of a proportion with `hits`
 * successes (may be fractional: expected hits) out of n trials.  [0, 1]
 * when n == 0.
 */
void ana_wilson(double hits, double n, double *lo, double *hi);

/* Run-burst histogram: <10us, <100us, <1ms, <10ms, <100ms, >=100ms. */
#define ANA_BURST_BUCKETS 6
extern const char *const ana_burst_bucket_names[ANA_BURST_BUCKETS];

/* ---- trace statistics (stats.c) ------------------------------------------ */

/* Time buckets for series (runqueue length over time). */
#define ANA_SERIES_BUCKETS 120

/* report --wakers: per task, its most frequent wakers */
#define ANA_TOP_WAKERS 3

/*
 * struct ana_waker - a task that woke another: the task running where the
 * wakeup event fired (its common_pid, as perf sched timehist -w prints the
 * waker); pid 0 "<idle>" is an interrupt on an idle CPU.
 */
struct ana_waker {
	int32_t pid;		/* -1: no such entry */
	char comm[DS_COMM_LEN];	/* its last comm */
	uint64_t n;		/* wakeups (sleeping to runnable) it did */
};

/*
 * struct ana_task_stats - one pid over the whole trace (comm: its last
 * name).  The idle task (pid 0) is not a task here: its time is the CPUs'
 * idle time.
 */
struct ana_task_stats {
	int32_t pid;
	char comm[DS_COMM_LEN];
	uint64_t run_ns;	/* sum of run bursts */
	uint64_t switches;	/* switch-outs = run bursts ended ("sched-in count" of perf
				   sched timehist) */
	uint64_t inferred_in;	/* bursts whose switch-in was not recorded and was placed at
				   the first event on that CPU that showed the task running */
	struct ana_summary burst;	/* run bursts (switch-in to switch-out) */
	uint64_t burst_hist[ANA_BURST_BUCKETS];
	struct ana_summary delay;	/* scheduling delay: runnable (woken or preempted) to
					   a recorded switch-in */
	uint64_t delay_woken;	/* delay samples that began with a wakeup */
	uint64_t delay_preempted;	/* ... with a switch-out while runnable */
	uint64_t delay_unmeasured;	/* waits that ended in an unrecorded switch-in */
	struct ana_summary wake_lat;	/* the delays that began with a wakeup */
	struct ana_summary preempt_delay;	/* ... with a switch-out while runnable */
	uint64_t max_delay_start, max_delay_end;	/* the longest delay, as perf sched
							   latency's "max delay start/end" */
	int32_t tgid;		/* thread group from the task table, -1 unknown */
	uint64_t sleep_ns;	/* switch-out sleeping to the next wakeup */
	uint64_t wakeups;	/* sleeping to runnable transitions seen */
	uint64_t migrations;	/* sched_migrate_task events for the pid */
	uint64_t preemptions;	/* switch-outs that left it runnable (R or R+) */
	struct ana_waker wakers[ANA_TOP_WAKERS];	/* most wakeups first, then lowest pid */
	uint64_t wakers_other;	/* wakeups by wakers not in wakers[] */
	struct ana_hist *delays;	/* the delay samples, for CDFs; owned */
};

struct ana_cpu_stats {
	int cpu;
	uint64_t busy_ns;	/* a task other than idle known to be running */
	uint64_t idle_ns;	/* idle task running (or nothing known to run) */
	uint64_t idle_queued_ns;	/* idle while another CPU had a queued task */
	uint64_t switches;	/* sched_switch events on the CPU */
	uint64_t inferred;	/* switch-ins inferred from common_pid */
	uint64_t lost;		/* events the kernel dropped on this CPU */
	double util;		/* busy_ns / span */
	double rq_avg;		/* time-weighted mean runqueue length (queued, not running) */
	uint32_t rq_max;
	double rq_series[ANA_SERIES_BUCKETS];	/* time-weighted mean per time bucket */
	double util_series[ANA_SERIES_BUCKETS];	/* busy fraction per time bucket */
};

/*
 * struct ana_timeline - which task ran on each CPU over a window, for the
 * html report: each CPU's row cut into ANA_TL_COLS columns, each column
 * holding the task that ran longest in it (colour: its thread group) and
 * how long anything ran.  Rows for at most ANA_TL_MAX_CPUS CPUs.
 */
#define ANA_TL_COLS 800
#define ANA_TL_MAX_CPUS 64
#define ANA_TL_GROUPS 10	/* thread groups with a colour of their own, most run time first */
#define ANA_TL_SLOTS 4		/* tasks followed per column; the rest only count as busy */

struct ana_tl_cell {
	int32_t pid;		/* ran longest in the column, 0 when nothing ran */
	int32_t group;		/* index into groups[], -1: another group */
	uint64_t busy_ns;	/* any task ran */
	uint64_t pid_ns;	/* pid ran */
	char comm[DS_COMM_LEN];
	/* private, while accumulating */
	int32_t slot_pid[ANA_TL_SLOTS];
	uint64_t slot_ns[ANA_TL_SLOTS];
};

struct ana_tl_group {
	int32_t tgid;		/* or the pid of a task whose group is not known */
	char comm[DS_COMM_LEN];	/* its leader's, else its first task's */
	uint64_t ns;		/* run time in the window */
};

struct ana_timeline {
	uint64_t start_ns, end_ns;
	int busiest;		/* the window is the busiest second (no --time) */
	int nr_rows, cpus_left_out;
	int cpu[ANA_TL_MAX_CPUS];	/* (nr_rows) CPU of each row */
	struct ana_tl_cell *cells;	/* (nr_rows, ANA_TL_COLS) */
	int nr_groups;
	struct ana_tl_group groups[ANA_TL_GROUPS];
	uint64_t other_ns;	/* run time of the groups without a colour */
};

struct ana_trace_stats {
	char *path;
	struct ds_trace_meta meta;
	uint64_t start_ns, end_ns, span_ns;	/* the trace's span (metadata, else events),
						   cut to --time */
	int windowed;		/* --time narrowed the span */
	uint64_t nr_events;
	uint64_t nr_switches;	/* sched_switch events */
	double switch_rate;	/* nr_switches per second of span */
	struct ana_summary delay;	/* every task's delay samples */
	struct ana_summary wake_lat, preempt_delay;	/* split by how the wait began */
	struct ana_hist *wake_hist, *preempt_hist;	/* their samples (owned) */
	uint64_t busiest_ns;	/* start of the second with the most busy time (on the
				   chosen CPUs, from the span's start) */
	struct ana_timeline *timeline;	/* html: set by ana_timeline_compute() (owned) */
	uint64_t delay_unmeasured;
	uint64_t lost_total;
	uint64_t *migrations;	/* (nr_cpus * nr_cpus) [orig * nr_cpus + dest], NULL
				   for more than 1024 CPUs */
	int group_by;		/* enum ana_group_by: the text report's grouped table */
	int show_wakers;	/* report --wakers: the text and html wakers table */
	uint64_t lost_unknown;	/* lost-event markers that did not say how many (state 0) */
	int has_wakeups;	/* the trace recorded sched_waking or sched_wakeup */
	int nr_cpus;		/* the trace's */
	int nr_cpu_rows;	/* of cpus[]: the CPUs -C chose, all without */
	struct ana_cpu_stats *cpus;	/* (nr_cpu_rows) in CPU order, each with its number */
	uint64_t nr_tasks;
	struct ana_task_stats *tasks;	/* (nr_tasks), most run time first, then pid */
	uint64_t tasks_folded;	/* exited tasks not in tasks[] (ana_trace_stats_compute_top) */
};

/*
 * ana_trace_stats_compute - one streaming pass over the trace at path,
 * narrowed by f (may be NULL): the task filters choose the tasks listed
 * (CPU rows and totals stay whole), -C and --time what is summed (see the
 * head of stats.c and schedcast-report(1) FILTERS).
 * Memory: the tasks and CPUs, with two histograms (run bursts, delays) per
 * task: flat in the trace's length.  Percentiles are to the histogram's
 * bucket (1.6%); counts, sums, min and max are exact.  0, or -1 after a
 * one-line error naming path.  Release with ana_trace_stats_release().
 */
int ana_trace_stats_compute(const char *path, const struct ds_filter *f,
			    struct ana_trace_stats *st);
/*
 * ana_trace_stats_compute_top - the same, with memory flat in the number of
 * tasks too: of the tasks that exited, only the keep with the most run time
 * stay in tasks[] (the others count in the whole-trace figures and in
 * tasks_folded).  The first keep rows of tasks[] are those of
 * ana_trace_stats_compute(), unless a pid was reused after its task was
 * folded (it is a new row then).  For a table of at most keep rows by run
 * time, with no task filter (they choose among tasks[]).
 */
int ana_trace_stats_compute_top(const char *path, const struct ds_filter *f, uint64_t keep,
				struct ana_trace_stats *st);
void ana_trace_stats_release(struct ana_trace_stats *st);

/*
 * ana_timeline_compute - st->timeline for st (computed from st->path with
 * the same filter f): the window is st's when --time narrowed it, else the
 * busiest second of st.  Another pass over the trace.  0, or -1 after a
 * one-line error.
 */
int ana_timeline_compute(struct ana_trace_stats *st, const struct ds_filter *f);

/*
 * ana_task_class - the class a comm belongs to for per-class plots: the comm
 * cut at the first '/' or ':' and stripped of trailing digits and '-'
 * ("kworker/1:0-ev" -> "kworker", "worker12" -> "worker").
 */
void ana_task_class(char out[DS_COMM_LEN], const char *comm);

/* ---- evaluation (baselines.c, eval.c) ------------------------------------- */

enum ana_baseline {
	ANA_BL_RANDOM,		/* uniform random among candidates (exact expectation) */
	ANA_BL_LONGEST_QUEUED,	/* largest queued_ns */
	ANA_BL_LEAST_RECENT,	/* largest since_ran_ns (never seen run = largest) */
	ANA_BL_LEAST_CPU,	/* smallest cpu_recent_ns (a vruntime proxy) */
	ANA_BL_MOST_FREQUENT,	/* most picks so far in this trace, all CPUs */
	ANA_BL_MARKOV1,		/* most frequent successor of this CPU's last pick */
	ANA_BL_MARKOV2,		/* ... of its last two picks */
	ANA_NR_BASELINES
};

extern const char *const ana_baseline_names[ANA_NR_BASELINES];

/*
 * struct ana_decision - one decision as the evaluator sees it.
 * Candidates mode: cand[ncand] with label the index of the kernel's pick, -1
 * when it was not among them.  Sequence mode (vocab != NULL): the choice is
 * among all n_vocab identities and label is the pick's id (0 = unknown).
 */
struct ana_decision {
	uint64_t ts;
	int trace;		/* input trace: online state is kept per trace */
	int cpu;
	int ncand;
	int label;
	int32_t next_pid;
	const struct ds_candidate *cand;	/* (ncand), candidates mode */
	uint64_t n_vocab;	/* sequence mode */
	char *const *vocab;	/* (n_vocab), sequence mode, else NULL */
};

/* Accuracy over time: the scored decisions in this many equal slices. */
#define ANA_TIME_SLICES 40
/* Accuracy by candidate count: 1, 2, ..., ANA_NCAND_MAX-1 and ">=" the last. */
#define ANA_NCAND_MAX 12

/* struct ana_score - hits of one predictor on the scored decisions */
struct ana_score {
	double top1, top3;	/* hits on all decisions (fractional for random) */
	double top1_c, top3_c;	/* hits on contested decisions */
};

struct ana_group {
	char name[DS_COMM_LEN];	/* comm, or "cpuN" */
	uint64_t n, contested;
	double model_top1, best_top1;	/* hits: model (or best baseline if none) */
};

struct ana_mispred {
	char actual[DS_COMM_LEN], predicted[DS_COMM_LEN];
	int32_t actual_pid, predicted_pid;	/* -1: not known (sequence mode, not queued) */
	uint64_t n;
};

struct ana_map;
struct ana_online;
struct ana_bins;

/*
 * struct ana_eval - the accumulator.  Fields are read by the renderers after
 * ana_eval_finish(); the maps are private.  Memory does not grow with the
 * number of decisions (live runs for hours): only with the tasks, CPUs and
 * pick sequences seen.
 */
struct ana_eval {
	int mode;		/* enum ds_win_mode */
	int has_model;
	char model_name[256];	/* model file, "" when none */
	char arith[16];		/* "fixed", "float" */
	char split[8];		/* "test", "val", "all", "live" */

	uint64_t decisions, contested, covered;
	double chance, chance_c;	/* sums of 1/n over decisions with n >= 1 */
	uint64_t observed;	/* decisions learnt from (scored or not) */
	uint64_t inferred_switches;	/* of the input: switches repaired, never scored */
	uint64_t lost_resets;	/* of the input: CPU states reset after lost events */
	struct ana_score model;
	struct ana_score bl[ANA_NR_BASELINES];
	int bl_available[ANA_NR_BASELINES];	/* 0 in sequence mode for the
						   candidate-fact baselines */

	/* accuracy over time (contested, model or best baseline), filled by finish */
	uint64_t slice_n[ANA_TIME_SLICES];
	double slice_model[ANA_TIME_SLICES], slice_best[ANA_TIME_SLICES];
	/* by candidate count */
	uint64_t ncand_n[ANA_NCAND_MAX + 1];
	double ncand_model[ANA_NCAND_MAX + 1], ncand_best[ANA_NCAND_MAX + 1];

	/* filled by ana_eval_finish() */
	int best;		/* index of the best baseline by contested top-1 */
	int model_beats_best;
	size_t nr_cpu_groups, nr_comm_groups, nr_mispred;
	struct ana_group *cpu_groups, *comm_groups;	/* comm: most decisions first */
	struct ana_mispred *mispred;	/* most frequent first */

	/* private */
	struct ana_online *online;
	struct ana_map *cpu_map, *comm_map, *mispred_map;
	struct ana_bins *bins;	/* accuracy over time and by candidates, in bounded memory */
};

/*
 * ana_eval_init - an empty accumulator for windows of mode, scoring a
 * model when model_name is not NULL.  Release with ana_eval_release().
 */
void ana_eval_init(struct ana_eval *e, int mode, const char *model_name, const char *arith,
		   const char *split);
void ana_eval_release(struct ana_eval *e);

/*
 * ana_eval_add - score decision d (when `scored`) for the model and every
 * baseline, then let the online baselines learn it.  model_top: the model's
 * three best candidate indices (sequence mode: vocabulary ids), best first,
 * -1 where fewer; NULL without a model.  Decisions must come in time order
 * within each (trace, CPU).
 */
void ana_eval_add(struct ana_eval *e, const struct ana_decision *d, const int *model_top,
		  int scored);

/*
 * ana_eval_finish - compute the best baseline, the breakdown tables and the
 * mispredictions.  May be called again after more ana_eval_add() calls.
 */
void ana_eval_finish(struct ana_eval *e);

/*
 * ana_top3 - the indices of the three highest of scores[n], highest first,
 * ties to the lower index; -1 where n < 3.
 */
void ana_top3(const int32_t *scores, int n, int top[3]);

/*
 * ana_predict_fn - the model as ana_eval_windows_add() sees it: fill top[3] for
 * decision i of w.  0, or -1 after printing an error.
 */
typedef int (*ana_predict_fn)(void *ctx, const struct ds_windows *w, uint64_t i, int top[3]);

/* Split selection for ana_eval_windows_add(): a mask of 1 << enum ds_split. */
#define ANA_SPLIT_ALL 0x7

/*
 * struct ana_dec_filter - the filters (data/filter.h) on decisions, as eval
 * and report --model apply them: the decision's CPU and time, and the task
 * the kernel picked, its thread group and comm at that time from the task
 * table of the decision's input trace.  A decision filtered out is not
 * scored; the online baselines still learn from it.
 */
struct ana_dec_filter {
	const struct ds_filter *f;	/* NULL: every decision passes */
	struct ds_task_index *ix;	/* (nr) per input trace; NULL without --pid or --comm */
	int nr;
};

/* ana_dec_filter_pass - does the decision of trace at (cpu, ts) picking pid pass */
int ana_dec_filter_pass(const struct ana_dec_filter *df, int trace, int cpu, uint64_t ts,
			int32_t pid);

/*
 * ana_eval_windows_add - add every decision of w in order; those whose split
 * is in split_mask and that pass df (may be NULL) are scored, the rest only
 * teach the online baselines (they precede the scored ones in time, as the
 * model's training data does).  predict may be NULL (baselines only).  w is
 * one block of a file read in blocks (a view whose decisions index its own
 * arrays); the caller calls ana_eval_finish() after the last.  0 or -1.
 */
int ana_eval_windows_add(struct ana_eval *e, const struct ds_windows *w, unsigned split_mask,
			 const struct ana_dec_filter *df, ana_predict_fn predict, void *ctx);

/* ana_parse_split - "test", "val" or "all" into a split mask; -1 if unknown */
int ana_parse_split(const char *s, unsigned *mask);

/*
 * ana_eval_file - read the windows file at windows_path in blocks (memory
 * bounded by a block, not the file) and, unless
 * model_path is NULL, the model (refused when it was trained on another
 * mode or feature set), then evaluate the decisions in split_mask into e,
 * which this initialises (release with ana_eval_release()).  0, or -1 after
 * a one-line error naming the file.
 */
int ana_eval_file(struct ana_eval *e, const char *windows_path, const char *model_path,
		  const char *split_name, unsigned split_mask, const struct ds_filter *f);
/*
 * ana_eval_file_online - ana_eval_file() with the model adapted online
 * (online_lr > 0): it first takes a training step on every decision of the
 * validation split when that split is not scored, then, in time order,
 * scores each decision of split_mask and takes a step on it (prequential).
 * The model row is named "<arith>, online".  online_lr 0: frozen.  f (may
 * be NULL) chooses the decisions scored (struct ana_dec_filter).
 */
int ana_eval_file_online(struct ana_eval *e, const char *windows_path, const char *model_path,
			 const char *split_name, unsigned split_mask, double online_lr,
			 const struct ds_filter *f);

struct lstm_model;
/*
 * ana_model_state_set - the features engine's state set (enum
 * feat_state_set) that computes a candidates model's state inputs; the
 * default set when none does (lstm_model_check_windows() then names what
 * differs)
 */
int ana_model_state_set(const struct lstm_model *m);

struct lstm_cache;
struct lstm_tasks;
struct feat_state;
struct feat_decision_out;
/*
 * ana_model_episodes - a stateful model (lstm_tasks_new() gave t; NULL: a
 * windowed one, nothing done): step t on the episodes fs completed since
 * the last call.  Call after every feat_apply() of an engine made with
 * opts.episodes set, so that at each decision every task's state has seen
 * all of its completed episodes; with opts.retired also set, the tasks the
 * engine freed give their states back (memory follows the tasks alive).
 */
void ana_model_episodes(struct feat_state *fs, struct lstm_tasks *t);
/*
 * ana_model_predict - score the decision out with m: through its task
 * states t for a stateful model, else through the encoder cache c.  The
 * best index, or -1 (nothing printed) when it cannot be scored.
 */
int ana_model_predict(const struct lstm_model *m, struct lstm_cache *c,
		      const struct lstm_tasks *t, const struct feat_decision_out *out,
		      int32_t *scores);

/*
 * ana_eval_trace - as ana_eval_file(), but the decisions and their features
 * are computed from the trace at trace_path by the features engine (with
 * the model's K), and split by time as `schedcast features` does by default
 * (70/15/15).  Candidates-mode models only.
 */
int ana_eval_trace(struct ana_eval *e, const char *trace_path, const char *model_path,
		   const char *split_name, unsigned split_mask, const struct ds_filter *f);

/*
 * struct ana_predictor - a candidates-mode model scoring a trace's decisions
 * as its events stream by (the features engine with the model's K), as
 * ana_eval_trace() scores them; export --model draws them.
 */
struct ana_predictor;

/* struct ana_prediction - the model at one decision */
struct ana_prediction {
	uint64_t ts;
	int cpu;
	int ncand;		/* candidates; 0: nothing queued, no prediction */
	int label;		/* index of the kernel's pick among them, -1: not queued */
	int32_t next_pid;	/* the kernel's pick */
	int top;		/* the model's first choice (index), -1 when ncand is 0 */
	int32_t pred_pid;	/* its pid, 0 when none */
	char pred_comm[DS_COMM_LEN];
};

/*
 * ana_predictor_new - the model at model_path for the trace whose meta is
 * given (refused, one line naming the files, for a sequence model, a trace
 * without wakeups, or another feature set).  NULL after an error.
 */
struct ana_predictor *ana_predictor_new(const char *model_path, const char *trace_path,
					const struct ds_trace_meta *meta);
/*
 * ana_predictor_event - feed every event of the trace in order; at a
 * decision fill *out and return 1; 0 otherwise, -1 on an invalid event.
 */
int ana_predictor_event(struct ana_predictor *p, const struct ds_event *ev,
			struct ana_prediction *out);
void ana_predictor_free(struct ana_predictor *p);

/* ---- rendering (report-*.c) ------------------------------------------------ */

/* ana_eval_text - the eval summary as `schedcast eval` prints it */
void ana_eval_text(const struct ana_eval *e, struct strbuf *out);
/* ana_eval_json - one JSON object with the keys listed in schedcast-eval(1) */
void ana_eval_json(const struct ana_eval *e, struct strbuf *out);
/* ana_eval_json_fields - the same keys as members of an object jw has open */
void ana_eval_json_fields(const struct ana_eval *e, struct json_writer *jw);

enum ana_format { ANA_FMT_TEXT, ANA_FMT_JSON, ANA_FMT_CSV, ANA_FMT_HTML };
/* report --by: tasks grouped by thread group (tgid, from the task table) or by comm */
enum ana_group_by { ANA_BY_TASK, ANA_BY_PROCESS, ANA_BY_COMM };

/*
 * ana_report_render - the trace report in format fmt; e (may be NULL) adds
 * the prediction section.  top: tasks listed in text and html (0 = all;
 * json and csv always list all).  0, or -1 on an unknown format.
 */
int ana_report_render(const struct ana_trace_stats *st, const struct ana_eval *e,
		      enum ana_format fmt, uint64_t top, struct strbuf *out);

/*
 * ana_info_trace, ana_info_windows, ana_info_model (analyze/info.c) - append
 * what the file at path holds to out, as text or as one JSON object (json),
 * read through that kind's public reader.  0, or -1 after a one-line error.
 */
int ana_info_trace(const char *path, int json, struct strbuf *out);
int ana_info_windows(const char *path, int json, struct strbuf *out);
int ana_info_model(const char *path, int json, struct strbuf *out);

#endif /* SC_ANALYZE_H */
