/* SPDX-License-Identifier: GPL-2.0 */
/*
 * collect/workload.h - the built-in mixed workload: something worth
 * recording on any machine, without installing anything.  `schedcast run`
 * and `schedcast live` launch it when no command is given; `schedcast
 * workload` runs it on its own (so `schedcast record -- schedcast workload`
 * records it).
 *
 * Parts (each a set of processes forked by one leader):
 *   pingpong  two tasks passing a token through a pair of pipes, each doing
 *             a little work per turn: a wakeup chain where the next pick is
 *             nearly always the partner;
 *   hogs      CPU-bound tasks (one per online CPU by default) that run long
 *             bursts and now and then sleep briefly;
 *   periodic  a latency-sensitive task woken every period by an absolute
 *             timer, doing a short burst each time; its lateness (wakeup
 *             to running, as the task itself measures it) is reported;
 *   forks     bursts of short-lived children: fork a few, each works a
 *             little, perhaps sleeps, and exits.
 *
 * Determinism: every amount of work, sleep and burst size comes from a
 * splitmix64 generator seeded from opts.seed and the part's index, and work
 * is measured in the task's own CPU time (CLOCK_THREAD_CPUTIME_ID), so the
 * same seed asks the scheduler for the same sequence of demands on any
 * machine.  What the scheduler makes of them is what we record.
 */
#ifndef SC_COLLECT_WORKLOAD_H
#define SC_COLLECT_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum col_wl_part {
	COL_WL_PINGPONG = 1u << 0,
	COL_WL_HOGS = 1u << 1,
	COL_WL_PERIODIC = 1u << 2,
	COL_WL_FORKS = 1u << 3,
	COL_WL_ALL = (1u << 4) - 1,
};

/*
 * struct col_workload_opts - zero-initialised means: every part, no time
 * limit (until stopped), seed 0, one hog per online CPU, period 2 ms,
 * ping-pong without a round limit and with 20..200 us of work per turn.
 */
struct col_workload_opts {
	unsigned parts;		/* COL_WL_* mask; 0 = COL_WL_ALL */
	uint64_t duration_ns;	/* stop after this long; 0 = until stopped */
	uint64_t seed;
	int hogs;		/* number of CPU hogs; 0 = online CPUs */
	uint64_t period_ns;	/* periodic task's period; 0 = 2 ms */
	uint64_t rounds;	/* ping-pong round trips, then that part ends; 0 = no limit */
	int pingpong_work_us;	/* max work per ping-pong turn; 0 = 200, -1 = none */
};

/* struct col_workload_stats - what the parts did, filled when the workload ends */
struct col_workload_stats {
	uint64_t elapsed_ns;		/* wall time from start to the last part's end */
	uint64_t pingpong_rounds;	/* completed round trips */
	uint64_t periodic_wakeups;	/* timer expiries serviced */
	uint64_t periodic_late_sum_ns;	/* sum of (woken - due) */
	uint64_t periodic_late_max_ns;
	uint64_t periodic_missed;	/* periods skipped because the task was late by > 1 period */
	uint64_t hog_bursts;		/* CPU bursts the hogs completed */
	uint64_t forks;			/* short-lived children forked */
	int hogs;			/* hogs that ran */
	int pids[8];			/* leader, then the long-lived parts' pids, 0-terminated */
};

/* col_workload_parts_from_names - "pingpong,hogs" -> mask; "all"; -1 if unknown */
int col_workload_parts_from_names(const char *names, unsigned *mask);

/*
 * col_workload_run - run the workload in the calling process (which becomes
 * its leader) until opts->duration_ns passes, every part has ended (only a
 * ping-pong with a round limit ends by itself), or SIGINT/SIGTERM arrives.
 * The parts are forked children that die with the leader (PR_SET_PDEATHSIG).
 * SIGINT/SIGTERM handlers are installed for the call and restored after it.
 * Returns 0 with *stats filled (stats may be NULL), or -1 after an error.
 */
int col_workload_run(const struct col_workload_opts *opts, struct col_workload_stats *stats);

/*
 * struct col_workload - a workload running in a forked leader process, for
 * commands that must keep doing their own work meanwhile (record, live, run).
 */
struct col_workload;

/*
 * col_workload_start - fork a leader running col_workload_run(opts).
 * NULL after an error.  Free with col_workload_finish().
 */
struct col_workload *col_workload_start(const struct col_workload_opts *opts);
/* col_workload_done - 1 when the leader has exited (reaped), 0 while it runs */
int col_workload_done(struct col_workload *w);
/*
 * col_workload_finish - ask the leader to stop (SIGTERM) unless it has
 * ended, wait for it, copy its statistics to *stats (may be NULL) and free w.
 * 0, or -1 when the leader failed.  NULL is a no-op returning 0.
 */
int col_workload_finish(struct col_workload *w, struct col_workload_stats *stats);

/* col_workload_describe - one line: what ran and what it did (into sb) */
struct strbuf;
void col_workload_describe(const struct col_workload_stats *st, unsigned parts,
			   struct strbuf *sb);

#endif /* SC_COLLECT_WORKLOAD_H */
