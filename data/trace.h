/* SPDX-License-Identifier: GPL-2.0 */
/*
 * data/trace.h - the trace file (trace.h5): scheduler events, tasks and
 * capture metadata.  Format "schedcast-trace", version DS_TRACE_VERSION;
 * man/schedcast-files.5 is the reference and must be kept in step.
 *
 * Layout in the HDF5 file:
 *   /                 attributes: format, version, source, kernel_release,
 *                     hostname, clock, nr_cpus, start_ns, end_ns,
 *                     command_line, events_recorded, nr_events
 *   /events           1-D chunked, deflated compound table of struct ds_event,
 *                     in non-decreasing timestamp order
 *   /tasks            compound table of struct ds_task: one row per (pid, comm)
 *                     as first seen, so a pid that exec()s has several rows
 *   /lost_per_cpu     uint64[nr_cpus]: events the kernel dropped, per CPU
 *
 * Writing streams: memory is bounded by the reorder window and the number of
 * distinct tasks, never by the number of events.  Reading streams too.
 */
#ifndef SC_DATA_TRACE_H
#define SC_DATA_TRACE_H

#include <stdint.h>

#define DS_TRACE_FORMAT "schedcast-trace"
#define DS_TRACE_VERSION 1

#define DS_COMM_LEN 16
/* CPUs a trace (and a windows file's decisions) may name: 0..DS_MAX_CPUS-1 */
#define DS_MAX_CPUS 8192
/* lost events one CPU may report (so that the sum over CPUs cannot wrap) */
#define DS_MAX_LOST_PER_CPU (1ULL << 48)

enum ds_event_type {
	DS_EV_SWITCH = 0,	/* sched_switch */
	DS_EV_WAKEUP,		/* sched_wakeup */
	DS_EV_WAKEUP_NEW,	/* sched_wakeup_new */
	DS_EV_WAKING,		/* sched_waking */
	DS_EV_MIGRATE,		/* sched_migrate_task */
	DS_EV_FORK,		/* sched_process_fork */
	DS_EV_EXIT,		/* sched_process_exit */
	DS_EV_LOST,		/* marker: the kernel dropped events on cpu here */
	DS_EV_MAX
};

/* Bit for event type t in events_recorded masks. */
#define DS_EV_BIT(t) (1u << (t))
#define DS_EV_ALL_SCHED ((1u << DS_EV_LOST) - 1)

/*
 * prev_state as stored: the layout of Linux >= 4.14 (TASK_REPORT), which is
 * what this kernel and perf/trace-cmd report.  Importers that read letters
 * ("S", "R+", "D|W") convert them to these bits.  0 = R (runnable, not
 * preempted: a yield), DS_STATE_PREEMPTED = R+ (preempted).  Both leave the
 * task runnable.
 */
#define DS_STATE_RUNNING	0x000
#define DS_STATE_INTERRUPTIBLE	0x001	/* S */
#define DS_STATE_UNINTERRUPTIBLE 0x002	/* D */
#define DS_STATE_STOPPED	0x004	/* T */
#define DS_STATE_TRACED		0x008	/* t */
#define DS_STATE_DEAD		0x010	/* X */
#define DS_STATE_ZOMBIE		0x020	/* Z */
#define DS_STATE_PARKED		0x040	/* P */
#define DS_STATE_IDLE		0x080	/* I */
#define DS_STATE_PREEMPTED	0x100	/* R+ (TASK_REPORT_MAX) */

/* ds_state_runnable - did a switch with this prev_state leave the task runnable */
static inline int ds_state_runnable(int64_t state)
{
	return (state & 0xff) == 0;
}

/*
 * struct ds_event - one scheduler event.  Which fields mean what depends on
 * type; fields an event does not have are -1 (numbers) or "" (comms).
 *
 *   type        pid          prio        next_pid   next_prio  state       cpus
 *   SWITCH      prev_pid     prev_prio   next_pid   next_prio  prev_state  -
 *   WAKEUP*     pid          prio        -          -          -           target_cpu
 *   WAKING      pid          prio        -          -          -           target_cpu
 *   MIGRATE     pid          prio        -          -          -           orig_cpu, dest_cpu
 *   FORK        parent_pid   -           child_pid  -          -           -
 *   EXIT        pid          prio        -          -          group_dead  -
 *   LOST        -            -           -          -          count       -
 *
 * comm is prev_comm (SWITCH), parent_comm (FORK) or comm; next_comm is
 * next_comm (SWITCH) or child_comm (FORK).  Comms are NUL-padded, and at most
 * 15 characters as the kernel's TASK_COMM_LEN allows.
 */
struct ds_event {
	uint64_t ts;		/* ns, in the trace's clock */
	int64_t state;		/* see table */
	int32_t cpu;		/* CPU the event fired on */
	int32_t common_pid;	/* task running on cpu when it fired (-1 unknown) */
	int32_t pid;
	int32_t prio;
	int32_t next_pid;
	int32_t next_prio;
	int32_t target_cpu;
	int32_t orig_cpu;
	int32_t dest_cpu;
	uint8_t type;		/* enum ds_event_type */
	char comm[DS_COMM_LEN];
	char next_comm[DS_COMM_LEN];
};

struct ds_table_spec;
/*
 * ds_event_table_spec - the events table's columns and chunking as trace.h5
 * stores them (no deflate set), for another file that stores events (the
 * windows file version 3)
 */
void ds_event_table_spec(struct ds_table_spec *spec);

/* ds_event_init - every field absent (-1 / ""), type and ts set */
void ds_event_init(struct ds_event *ev, enum ds_event_type type, uint64_t ts, int cpu);
/* "sched_switch", ... ; "lost" for DS_EV_LOST; NULL when out of range */
const char *ds_event_type_name(int type);
/* ds_event_type_from_name - accepts "sched_switch" and "switch"; -1 if unknown */
int ds_event_type_from_name(const char *name);

struct ds_task {
	int32_t pid;
	int32_t tgid;		/* -1 where the source did not say */
	uint64_t first_ts;	/* first event that showed this (pid, comm) */
	char comm[DS_COMM_LEN];
};

#define DS_SOURCE_LEN 32
#define DS_NAME_LEN 65

struct ds_trace_meta {
	char source[DS_SOURCE_LEN];	/* "live-tracefs", "live-perf", "trace.dat",
					   "perf.data", "ftrace-text", "trace-cmd-text",
					   "perf-script-text", "synthetic" */
	char kernel_release[DS_NAME_LEN];	/* "" when unknown */
	char hostname[DS_NAME_LEN];
	char clock[DS_SOURCE_LEN];	/* "local", "mono", "perf", ... */
	int nr_cpus;			/* > 0 */
	uint64_t start_ns, end_ns;	/* capture span; 0 = use the events' span */
	uint32_t events_recorded;	/* DS_EV_BIT() of each event type captured */
	char command_line[1024];	/* the command that made the file */
	uint64_t decode_errors;		/* records the recorder could not decode
					   (attribute only when not 0) */

	/* filled by the reader (and by the writer at close) */
	uint64_t nr_events;
	uint64_t nr_tasks;
	uint64_t count_by_type[DS_EV_MAX];
	uint64_t lost_total;
	int version;
};

/* ---- writer ---------------------------------------------------------------- */

struct ds_trace_writer;

/*
 * ds_trace_create - start writing path (through a temporary name; nothing
 * appears at path until ds_trace_writer_close() succeeds).  meta->nr_cpus must
 * be > 0; the rest of meta is copied and written at close.  Returns NULL after
 * printing an error.
 *
 * Events may arrive up to DS_REORDER_WINDOW events out of timestamp order (as
 * per-CPU buffers deliver them); the writer sorts within that window.  An
 * event older than what was already flushed is an error.
 */
#define DS_REORDER_WINDOW 65536
struct ds_trace_writer *ds_trace_create(const char *path, const struct ds_trace_meta *meta);
/*
 * ds_trace_set_compression - deflate level (0 none .. 9) of the events table;
 * only before the first block of events is flushed (right after create).
 * Level 0 writes 88 bytes an event and costs the least CPU (a recorder's
 * choice).  The chunks are deflated by libdeflate (data/ds.c): on a hackbench
 * trace level 1 gave 12.4 bytes an event, the default, 4, 7.3 for 15% more
 * CPU, and 4 still took a third less than zlib's level 1 (9.3 bytes).
 */
#define DS_TRACE_DEFAULT_COMPRESSION 4
void ds_trace_set_compression(struct ds_trace_writer *w, int level);
/*
 * ds_trace_set_background - from here on the window, the packing and deflate
 * run on a thread of the writer's own, and ds_trace_write() only queues the
 * event.  The queue (the spool) holds up to spool_bytes of events (at least
 * 64k events, about 6 MB: an importer's 0), taken from the heap only while
 * the thread is behind; ds_trace_write() waits only when the spool is full.  A recorder
 * gives it a share of the free memory so that a burst the thread cannot
 * compress as fast as it comes waits in memory, not in the kernel's rings.
 * A failure of the thread shows as -1 from a later ds_trace_write() and from
 * ds_trace_writer_close().  The other calls stay allowed from the caller's
 * thread (one caller thread).  Where no thread can be started, writing goes
 * on in the caller's thread.
 */
void ds_trace_set_background(struct ds_trace_writer *w, uint64_t spool_bytes);

/* how the spool of a background writer was used, from the caller's side */
struct ds_trace_spool_stats {
	uint64_t limit_bytes;	/* what it may hold */
	uint64_t peak_bytes;	/* the most it held (the thread's backlog) */
	uint64_t waits;		/* ds_trace_write() calls that found it full ... */
	uint64_t wait_ns;	/* ... and the time they waited for the thread */
};
/* ds_trace_spool_stats - all zero when w writes in the caller's thread */
void ds_trace_spool_stats(const struct ds_trace_writer *w, struct ds_trace_spool_stats *st);
/* ds_trace_write - append one event; 0 or -1 (message printed) */
int ds_trace_write(struct ds_trace_writer *w, const struct ds_event *ev);
/* ds_trace_add_lost - count n dropped events on cpu without a stream marker */
void ds_trace_add_lost(struct ds_trace_writer *w, int cpu, uint64_t n);
/* ds_trace_set_tgid - record the thread group of pid (applies to all its rows) */
void ds_trace_set_tgid(struct ds_trace_writer *w, int pid, int tgid);
/* ds_trace_meta_update - replace the metadata written at close (nr_cpus may grow) */
void ds_trace_meta_update(struct ds_trace_writer *w, const struct ds_trace_meta *meta);
/*
 * ds_trace_writer_close - flush, write tasks and metadata, rename into place.
 * Frees w.  If final_meta is not NULL it receives the counts as written.
 */
int ds_trace_writer_close(struct ds_trace_writer *w, struct ds_trace_meta *final_meta);
/* ds_trace_writer_abort - discard everything, remove the temporary; frees w */
void ds_trace_writer_abort(struct ds_trace_writer *w);

/* ---- reader ---------------------------------------------------------------- */

struct ds_trace_reader;

/*
 * ds_trace_open - open a trace file and check it: HDF5, format name, version
 * no newer than ours, consistent sizes.  NULL after a one-line error naming
 * the file and the problem.
 */
struct ds_trace_reader *ds_trace_open(const char *path);
const struct ds_trace_meta *ds_trace_meta(const struct ds_trace_reader *r);
/* ds_trace_lost - per-CPU lost counts, meta->nr_cpus entries, owned by r */
const uint64_t *ds_trace_lost(const struct ds_trace_reader *r);
/* ds_trace_tasks - the task table, owned by r */
const struct ds_task *ds_trace_tasks(const struct ds_trace_reader *r, uint64_t *nr);
/*
 * ds_trace_span - the timestamps of the first and last events (both 0 when
 * there are none), read from the two ends of the table: no pass over the
 * events.  0, or -1 after a one-line error naming the file.
 */
int ds_trace_span(struct ds_trace_reader *r, uint64_t *first, uint64_t *last);
/*
 * ds_trace_next - the next event in timestamp order.
 * Returns 1 with *ev filled, 0 at the end, -1 on a read error (printed).
 */
int ds_trace_next(struct ds_trace_reader *r, struct ds_event *ev);
void ds_trace_close(struct ds_trace_reader *r);

/*
 * ds_trace_copy_prefix - write to out the events of trace in up to and
 * including its max_switches-th sched_switch (all of them if it has fewer
 * or max_switches is 0),
 * with its metadata and thread groups; the counts are the copy's own.  For
 * a bounded budget on any machine (run learns from a prefix): the event
 * rate of a recording depends on everything else the machine does.
 * *span_ns receives the time span kept, from the trace's start.  0, or -1
 * after a one-line error (nothing is left at out).
 */
int ds_trace_copy_prefix(const char *in, const char *out, uint64_t max_switches,
			 uint64_t *span_ns);

#endif /* SC_DATA_TRACE_H */
