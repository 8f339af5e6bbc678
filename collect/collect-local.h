/* SPDX-License-Identifier: GPL-2.0 */
/*
 * collect/collect-local.h - private to collect/: the capture session's
 * insides, shared by session.c (merge, lost accounting) and the backends
 * (tracefs.c, perf.c).
 */
#ifndef SC_COLLECT_LOCAL_H
#define SC_COLLECT_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include "collect/collect.h"

/*
 * struct col_cpu - one CPU's stream: a FIFO of decoded events in the order the
 * kernel delivered them (timestamp order within the CPU), waiting for the
 * merge to emit them.
 */
struct col_cpu {
	int cpu;
	int active;		/* captured (in the CPU mask and online) */
	struct ds_event *q;	/* ring of alloc slots */
	size_t head, nr, alloc;
	uint64_t last_ts;	/* newest timestamp read from this CPU */
	int drained;		/* the last read found the ring empty */
	uint64_t lost_marked;	/* sum of counts carried by LOST markers */
	uint64_t lost;		/* total known lost (>= lost_marked) */
};

struct col_session;

/*
 * struct col_backend_ops - what a backend does; session.c does the rest.
 * All return 0 or -1 after printing an error, except read (see below).
 */
struct col_backend_ops {
	const char *source;		/* ds_trace_meta.source */
	/* set up (formats into s->tep, s->dec; buffers); not enabled yet */
	int (*open)(struct col_session *s);
	int (*start)(struct col_session *s);
	/* wait up to timeout_ms for data worth reading; 0 on timeout or data */
	int (*wait)(struct col_session *s, int timeout_ms);
	/*
	 * read every active CPU's ring, pushing events with col_cpu_push() and
	 * gaps with col_cpu_lost(); mark a CPU drained when its ring was
	 * emptied.  Returns the number of events read or -1.
	 */
	int (*read)(struct col_session *s);
	/* disable the events and collect the kernel's lost counts */
	int (*stop)(struct col_session *s);
	/*
	 * release everything (the instance removed); s itself is freed by the
	 * caller.  0, or -1 (printed) when something is left behind
	 */
	int (*close)(struct col_session *s);
};

/*
 * col_remove_stale_instances - remove the tracefs instances schedcast-PID of
 * recorders that were killed (PID gone), saying so; others are left alone.
 */
void col_remove_stale_instances(const char *tracing_dir);

struct col_session {
	struct col_opts opts;
	uint64_t cpu_mask[COL_MAX_CPUS / 64];
	const struct col_backend_ops *ops;
	void *priv;			/* the backend's state */
	struct tep_handle *tep;		/* event formats (owned by the backend) */
	struct col_decoder *dec;
	uint32_t events;		/* DS_EV_BIT() mask being captured */
	int nr_cpus;			/* highest CPU + 1 */
	struct col_cpu *cpus;		/* nr_cpus entries, indexed by CPU */
	int started, stopped, closed_kernel_side;
	struct col_ring_choice ring;
	uint64_t mem_available;		/* for the ring sizing; 0: MemAvailable now */
	uint64_t decode_errors;
	char instance_name[64];
};

/* col_cpu_push - queue an event read from cpu's ring */
void col_cpu_push(struct col_session *s, int cpu, const struct ds_event *ev);
/*
 * col_cpu_lost - the ring of cpu dropped n events before ts (n == 0: an
 * unknown number); queues a DS_EV_LOST marker and counts n.
 */
void col_cpu_lost(struct col_session *s, int cpu, uint64_t ts, uint64_t n);
/* col_cpu_set_lost - the kernel's total for cpu (stats); never lowers the count */
void col_cpu_set_lost(struct col_session *s, int cpu, uint64_t total);

/*
 * col_session_wanted - check the requested events against what the kernel
 * has (s->dec); sets s->events.  0, or -1 after an error naming the event.
 */
int col_session_wanted(struct col_session *s);

/*
 * col_session_choose_ring - size the rings from what each active CPU wrote in
 * window_ns (bytes[cpu], events[cpu]), unless a size was given: sets s->ring
 * and s->opts.buffer_size.  The backends call it from open, after their
 * probe of COL_RING_PROBE_MS and before recording starts.
 */
void col_session_choose_ring(struct col_session *s, const uint64_t *bytes,
			     const uint64_t *events, uint64_t window_ns);

/* col_mem_available - MemAvailable of /proc/meminfo in bytes, 0 if unknown */
uint64_t col_mem_available(void);

/* ensure tracefs is mounted; its path, or NULL after a one-line error (errno set) */
const char *col_tracing_dir(void);
/*
 * col_sched_formats - a tep handle holding only the formats of the sched
 * events we decode, read from tracing_dir/events/sched/NAME/format (what the
 * kernel lacks is left out).  Unlike tracefs_local_events_system() it loads
 * no kallsyms, saved_cmdlines or printk formats: nothing here prints an
 * event, and parsing /proc/kallsyms cost a short recording a tenth of its
 * CPU.  NULL with errno set when no format could be read.  tep_free() it.
 */
struct tep_handle *col_sched_formats(const char *tracing_dir);

extern const struct col_backend_ops col_tracefs_ops;
extern const struct col_backend_ops col_perf_ops;

#endif /* SC_COLLECT_LOCAL_H */
