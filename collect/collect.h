/* SPDX-License-Identifier: GPL-2.0 */
/*
 * collect/collect.h - capture: turning kernel scheduler tracepoints into
 * struct ds_event (data/trace.h).
 *
 * Two layers:
 *
 *  - the decoder (col_decoder_*): one raw tracepoint record, as libtraceevent
 *    describes it, into a struct ds_event.  It takes any struct tep_handle:
 *    the one libtracefs builds from a live tracefs, the one libtracecmd builds
 *    from a trace.dat file, or one a test builds from captured format files.
 *
 *  - the capture session (col_session_*): a private tracefs instance or
 *    perf_event_open(2) rings, read per CPU while the kernel writes them and
 *    merged into one stream in timestamp order.  `schedcast record` and
 *    `schedcast live` are both a session plus a consumer.
 */
#ifndef SC_COLLECT_H
#define SC_COLLECT_H

#include <stdint.h>

#include "data/trace.h"

struct tep_handle;
struct tep_record;

/* ---- decoder ---------------------------------------------------------------- */

/*
 * struct col_decoder - the sched events of one tep handle, looked up by name
 * once: their ids and the tep_format_field of every field we read, so that
 * decoding a record is a switch on its type and a few loads.
 *
 * Fields are found by name, never by offset, so a kernel that moves them (or
 * turns a char[16] comm into a __data_loc string, as sched_migrate_task and
 * sched_process_fork are on 6.x) decodes the same.  An event missing from the
 * handle, or missing a field we need, is left out (col_decoder_events() says
 * which remain); fields that are optional (prio on some kernels) decode as -1.
 */
struct col_decoder;

/*
 * col_decoder_new - look the sched events up in tep (which must outlive the
 * decoder).  Returns NULL with an error printed when tep holds none of them.
 * Free with col_decoder_free().
 */
struct col_decoder *col_decoder_new(struct tep_handle *tep);
void col_decoder_free(struct col_decoder *d);	/* NULL is a no-op */

/* col_decoder_events - DS_EV_BIT() mask of the event types tep describes */
uint32_t col_decoder_events(const struct col_decoder *d);

/*
 * col_decoder_event_id - the tracepoint id ("ID:" of its format file) of
 * event type t (enum ds_event_type), or -1 when tep does not have it.  The
 * perf backend uses it as perf_event_attr.config.
 */
int col_decoder_event_id(const struct col_decoder *d, int t);

/*
 * col_decode - decode rec into *ev.  rec->data/size are the raw record
 * (common fields first, as in trace_pipe_raw, trace.dat and perf's
 * PERF_SAMPLE_RAW); ev->ts and ev->cpu come from rec->ts and rec->cpu.
 *
 * prev_state is stored raw, in the layout of Linux >= 4.14 (TASK_REPORT, see
 * DS_STATE_*); group_dead of sched_process_exit goes into state.
 *
 * Returns 1 when rec was one of the sched events (ev filled), 0 when it is
 * another event (ev untouched: skip it), -1 when the record is too short for
 * its own format or a string points outside it (ev untouched; no message, so
 * that a corrupt file does not print a line per record: count and report).
 */
int col_decode(const struct col_decoder *d, const struct tep_record *rec, struct ds_event *ev);

/* ---- capture session --------------------------------------------------------- */

enum col_backend {
	COL_BACKEND_TRACEFS,	/* private tracefs instance, per-CPU trace_pipe_raw */
	COL_BACKEND_PERF,	/* perf_event_open(2) tracepoints, one mmap ring per CPU */
};

#define COL_MAX_CPUS 1024

/*
 * struct col_opts - what to capture.  Zero-initialised means: tracefs, every
 * sched event, every online CPU, the default buffer size.
 */
struct col_opts {
	enum col_backend backend;
	uint32_t events;		/* DS_EV_BIT() mask of sched events (each must
					   exist); 0 = all those the kernel has */
	const uint64_t *cpu_mask;	/* COL_MAX_CPUS bits; NULL = every online CPU */
	uint64_t buffer_size;		/* bytes of ring per CPU; 0 = from the machine:
					   the rate of 100 ms before recording (see
					   struct col_ring_choice) */
	const char *instance;		/* tracefs instance name; NULL = "schedcast-<pid>" */
	int workload_follows;		/* a workload starts after open: the rate
					   probe cannot see it (struct col_ring_choice) */
};

/*
 * struct col_ring_choice - how the rings were sized.  Without a size given,
 * the backend's open turns the chosen events on for COL_RING_PROBE_MS before
 * recording starts and measures what each CPU writes (tracefs: the bytes the
 * instance's rings hold; perf: counters times the sample size); each ring
 * then holds COL_RING_STRETCH_MS of the busiest CPU's rate, at least
 * COL_RING_MIN, at most its share of 1/COL_RING_MEM_SHARE of MemAvailable
 * (never less than COL_RING_MIN).
 *
 * The rings are not grown while recording: a perf ring cannot be, and the
 * kernel stops tracing in a tracefs instance while its buffer_size_kb is
 * written (tracing_stop_tr), waiting for a kworker on every CPU; with a
 * SCHED_FIFO ping-pong on CPU 0 that stop lasted 0.9 s and no event of it
 * was recorded, with no overrun or dropped count to say so.
 *
 * A workload started after open (-- COMMAND, col_opts.workload_follows) is
 * not in the probe: the rings are then at least the floor, 1/256 of
 * MemAvailable shared by the CPUs, 4 to 64 MiB a CPU (the default before the
 * rate was measured).
 */
#define COL_RING_PROBE_MS 100
#define COL_RING_STRETCH_MS 2000
#define COL_RING_MIN (4ULL << 20)
#define COL_RING_MEM_SHARE 64
#define COL_RING_MAX (1ULL << 30)
#define COL_RING_FLOOR_SHARE 256
#define COL_RING_FLOOR_MAX (64ULL << 20)

enum col_ring_why {
	COL_RING_GIVEN,		/* --buffer-size */
	COL_RING_PENDING,	/* not measured yet */
	COL_RING_LEAST,		/* the rate asked for less than COL_RING_MIN */
	COL_RING_RATE,		/* COL_RING_STRETCH_MS of the rate */
	COL_RING_MEMORY,	/* the rate asked for more than the memory bound */
	COL_RING_FLOOR,		/* a workload follows: the floor was more */
};

struct col_ring_choice {
	enum col_ring_why why;
	uint64_t size;			/* bytes of ring per CPU now */
	uint64_t bytes_per_s;		/* ring bytes the busiest CPU wrote per second */
	uint64_t events_per_s;		/* ... and its events per second */
	uint64_t window_ns;		/* how long the rate was measured */
	uint64_t bound;			/* the memory bound per CPU */
	uint64_t floor;			/* the least when a workload follows */
};

/* col_event_fn - consumer of merged events: 0 to go on, < 0 to stop the poll */
typedef int (*col_event_fn)(const struct ds_event *ev, void *ctx);

struct col_session;

/*
 * col_session_open - set capture up, without starting it: mount tracefs if
 * needed, read the event formats, create the private instance (tracefs) or
 * open the perf events (perf), size the buffers.  Nothing outside the
 * private instance is touched: not the top-level buffer, not the function
 * tracer, not ftrace_enabled.
 *
 * Returns NULL after a one-line error saying what is missing (root, tracefs,
 * the sched events, perf_event_paranoid, ...), with errno set (EACCES/EPERM
 * for permission).  Whatever it created is removed again on failure.
 * The clock is CLOCK_MONOTONIC for both backends (tracefs "mono", perf
 * use_clockid), so that their files compare and the merge can tell how far
 * an idle CPU has got (see col_session_poll).
 */
struct col_session *col_session_open(const struct col_opts *opts);

/* col_session_start - enable the events; tracing runs from here.  0 or -1 */
int col_session_start(struct col_session *s);

/*
 * col_session_poll - wait up to timeout_ms (-1: forever, 0: do not wait) for
 * data, read every CPU's ring and hand cb the events that are safe to emit,
 * in timestamp order across CPUs.
 *
 * Each CPU delivers its events in order; the merge (a k-way merge of the
 * per-CPU queues) emits an event only when no CPU can still deliver an
 * older one: up to the minimum over CPUs of the latest timestamp read from
 * each, where a CPU whose ring was found empty counts as having reached the
 * time just before it was read, less a slack (COL_MERGE_SLACK_NS) for
 * events being committed at that moment.  After col_session_stop() nothing
 * new can arrive, and poll emits everything that is left.
 *
 * When a ring reports dropped events, a DS_EV_LOST event (state = count, or
 * 0 when the kernel did not say how many) is emitted at the place of the
 * gap, and the count is added to col_session_lost().
 *
 * Returns the number of events delivered (0: none ready; after stop: all
 * delivered), or -1 on a read error (printed), or cb's negative value.
 * Interrupted by a signal, it returns what it had so far (check your flag).
 */
#define COL_MERGE_SLACK_NS 2000000ULL
int col_session_poll(struct col_session *s, int timeout_ms, col_event_fn cb, void *ctx);

/*
 * col_session_stop - disable the events and read the per-CPU overrun and
 * dropped counts (tracefs: per_cpu/cpuN/stats).  Call col_session_poll()
 * afterwards until it returns 0 to get every remaining event.  0 or -1.
 */
int col_session_stop(struct col_session *s);

/*
 * col_session_close - stop if needed, remove the private instance (tracefs)
 * or close the rings (perf), free s.  NULL is a no-op.  Safe on every exit
 * path; record and live call it from their signal-aware loops.  0, or -1
 * (printed) when the instance could not be removed: the run then fails.
 */
int col_session_close(struct col_session *s);

/* col_session_nr_cpus - number of CPUs the per-CPU arrays cover (max CPU + 1) */
int col_session_nr_cpus(const struct col_session *s);
/*
 * col_session_lost - events lost on cpu so far: lost-sample records (perf),
 * or the kernel's overrun + dropped counts (tracefs, read at stop; before
 * that only the ring's missed-events markers).
 */
uint64_t col_session_lost(const struct col_session *s, int cpu);
/* col_session_events - DS_EV_BIT() mask of the events being captured */
uint32_t col_session_events(const struct col_session *s);
/* col_session_source - "live-tracefs" or "live-perf" (struct ds_trace_meta.source) */
const char *col_session_source(const struct col_session *s);
/* col_session_clock - "mono" (struct ds_trace_meta.clock) */
const char *col_session_clock(const struct col_session *s);
/* col_session_ring_choice - how the rings were sized (why is PENDING until decided) */
const struct col_ring_choice *col_session_ring_choice(const struct col_session *s);
/*
 * col_session_decode_errors - records that could not be decoded (too short
 * for their format, a string outside the record, a corrupt ring header); they
 * are skipped, not counted as lost
 */
uint64_t col_session_decode_errors(const struct col_session *s);
/* col_session_now - the capture clock now, in ns (comparable with ev->ts) */
uint64_t col_session_now(const struct col_session *s);

/* col_backend_from_name - "tracefs", "perf"; -1 if unknown */
int col_backend_from_name(const char *name);

#endif /* SC_COLLECT_H */
