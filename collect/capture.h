/* SPDX-License-Identifier: GPL-2.0 */
/*
 * collect/capture.h - the capture driver: what `schedcast record` and
 * `schedcast live` both do around a capture session (collect/collect.h).
 *
 * It opens the session, fills the trace metadata, installs the stop signals,
 * starts tracing, runs the workload (-- COMMAND or the built-in one), polls
 * until the duration passes, the workload exits or a signal arrives, drains
 * what is left, and accounts for lost events.  When an output is given it
 * writes the trace file (thread groups read from /proc at the start and at
 * the end) in the background (ds_trace_set_background), so that sorting,
 * packing and deflate run on another core than the reading of the rings, its
 * backlog held in memory (the spool) rather than making the reader wait.
 * record and live are option parsing plus their per-event callback.
 *
 *	struct col_capture *c = col_capture_open(&opts);
 *	if (!c || col_capture_run(c)) ...
 *	r = col_capture_result(c);	// meta, lost per CPU, signal, workload
 *	ret = col_capture_close(c);
 */
#ifndef SC_COLLECT_CAPTURE_H
#define SC_COLLECT_CAPTURE_H

#include <stdint.h>

#include "collect/collect.h"

struct col_capture;

struct col_capture_opts {
	struct col_opts session;	/* backend, events, CPUs, ring size */
	/*
	 * A session already open to capture from instead of one opened from
	 * .session (the unit tests' scripted backend); the capture owns it.
	 */
	struct col_session *opened;
	uint64_t duration_ns;		/* 0: until the workload ends or a signal */
	char **command;			/* run once tracing has started; NULL: none */
	int command_stdout_to_stderr;	/* its standard output goes to our stderr */
	int builtin_workload;		/* run `schedcast workload` (seed 1) instead */
	int realtime;			/* SCHED_FIFO priority of the reader; 0: none */

	const char *output;		/* trace file to write; NULL: none */
	int compress;			/* deflate level of its events (0-9) */
	/* the most the writer's backlog may hold in memory; 0: 1/8 of MemAvailable */
	uint64_t spool_bytes;
	const char *command_line;	/* ds_trace_meta.command_line */
	/*
	 * A failed write of the output stops the capture with an error (record);
	 * with keep_going, the trace is lost (said once) and capture goes on
	 * (live: its scoring is still worth printing); the run then fails.
	 */
	int keep_going;

	/* each merged event, in timestamp order; < 0 stops the capture (error) */
	col_event_fn on_event;
	/* once tracing runs and the workload has started */
	void (*on_start)(struct col_capture *c, void *ctx);
	/* after every poll round, at most 100 ms apart */
	void (*on_tick)(struct col_capture *c, void *ctx);
	void *ctx;
};

struct col_capture_result {
	struct ds_trace_meta meta;	/* as written (counts) when an output was given */
	int nr_cpus;
	const uint64_t *lost;		/* per CPU: the larger of the kernel's count and the markers */
	uint64_t lost_total;
	int stop_signal;		/* the signal that stopped the capture, or 0 */
	int workload_started;		/* COMMAND or the built-in workload ran */
	int workload_exited;		/* ... and ended by itself (it stopped the capture) */
	int workload_status;		/* its wait status, once it has been reaped */
	int trace_failed;		/* the output could not be written (message printed) */
	uint64_t decode_errors;		/* records skipped as undecodable (not in lost) */
	/* the writer's backlog: how large it grew, and whether the reader waited for it */
	struct ds_trace_spool_stats spool;
};

/*
 * col_capture_open - open the session and the output (through a temporary
 * name), install SIGINT/SIGTERM/SIGHUP handlers.  Nothing runs yet.  NULL
 * after a one-line error.
 */
struct col_capture *col_capture_open(const struct col_capture_opts *opts);

int col_capture_nr_cpus(const struct col_capture *c);
uint32_t col_capture_events(const struct col_capture *c);	/* DS_EV_BIT() mask */
const char *col_capture_backend(const struct col_capture *c);	/* "tracefs", "perf" */
/* col_capture_ring_choice - how the rings were sized (collect.h) */
const struct col_ring_choice *col_capture_ring_choice(const struct col_capture *c);
uint64_t col_capture_now(const struct col_capture *c);	/* comparable with ev->ts */
/* col_capture_lost - events lost so far on every CPU (the final count after run) */
uint64_t col_capture_lost(const struct col_capture *c);

/*
 * col_capture_run - capture until the end (see above), then write the output
 * when one was given.  0, or -1 after an error (printed): the output is
 * then not written.  Call once.
 */
int col_capture_run(struct col_capture *c);

/*
 * col_capture_result - what happened; valid after col_capture_run() until
 * close frees it.  run has ended and reaped the workload by then, whichever
 * way it returned, so workload_status is final.
 */
const struct col_capture_result *col_capture_result(const struct col_capture *c);

/*
 * col_capture_close - end the workload if it still runs (SIGTERM), discard an
 * unwritten output, remove the session's instance, free c.  0, or -1 when the
 * instance could not be removed (printed): the run then fails.  NULL is a
 * no-op.
 */
int col_capture_close(struct col_capture *c);

#endif /* SC_COLLECT_CAPTURE_H */
