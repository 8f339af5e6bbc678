/* SPDX-License-Identifier: GPL-2.0 */
/*
 * collect/import-local.h - what the importers share with each other and
 * nobody else: the sink every importer writes its events into.
 */
#ifndef SC_COLLECT_IMPORT_LOCAL_H
#define SC_COLLECT_IMPORT_LOCAL_H

#include <stdio.h>

#include "collect/import.h"
#include "data/trace.h"

/*
 * struct col_sink - the trace writer plus what the importer learns on the
 * way.  Lost-event lines of a text are held per CPU until the next event
 * on that CPU gives them a time.
 */
struct col_sink {
	const char *name;		/* input, for messages */
	struct ds_trace_writer *w;
	struct ds_trace_meta meta;	/* nr_cpus and events_recorded set at the end */
	int64_t *pending;		/* per CPU: lost count waiting for a time, or PENDING_NONE */
	int nr_pending;
	uint64_t nr_events;
	struct col_import_stats *stats;
};

#define COL_PENDING_NONE INT64_MIN

/*
 * col_sink_write - one event.  A DS_EV_LOST event with ts 0 waits for the
 * next event on its CPU; the others are written at once.
 */
int col_sink_write(struct col_sink *s, const struct ds_event *ev);

/* The importers: each reads its input and writes into an open sink. */
int col_import_text(FILE *fp, struct col_sink *s);
/* perf.data through `perf script` (opts->perf), kept as a cross-check */
int col_import_perf(const char *path, struct col_sink *s, const struct col_import_opts *opts);
/* perf.data read natively (import-perfdata.c) */
int col_import_perfdata(const char *path, struct col_sink *s, const struct col_import_opts *opts);
int col_import_tracedat(const char *path, struct col_sink *s,
			const struct col_import_opts *opts);

/*
 * col_dat7_iterate - the records of the buffers handles[0..nr) (named
 * names[i], "" the top one) of a compressed trace.dat version 7, read
 * without libtracecmd's chunk cache (import-dat7.c), in the order
 * tracecmd_iterate_events_multi() gives; cb returns non-zero to stop.
 * 0: done (or stopped by cb); 1: not such a file, read it with libtracecmd;
 * -1: corrupt (one line said, naming `name`).
 */
struct tracecmd_input;
struct tep_record;
typedef int (*col_dat7_cb)(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data);
int col_dat7_iterate(const char *path, struct tracecmd_input **handles, const char **names,
		     int nr, col_dat7_cb cb, void *data, const char *name);

#endif /* SC_COLLECT_IMPORT_LOCAL_H */
