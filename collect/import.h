/* SPDX-License-Identifier: GPL-2.0 */
/*
 * collect/import.h - turn traces recorded by other tools into a trace.h5.
 *
 * Sources, recognised by content (never by file name):
 *   trace.dat    trace-cmd files, versions 6 and 7, compressed or not, with
 *                any number of buffer instances, read through libtracecmd
 *                and decoded with the file's own event formats;
 *   perf.data    perf record files (file and pipe formats), read natively
 *                (import-perfdata.c), or through `perf script` when
 *                opts->perf names a perf (a cross-check);
 *   text         ftrace `trace` / `trace_pipe` text, `trace-cmd report`
 *                output (with or without -N) and `perf script` output.
 *
 * Events keep the meaning they had in the source: sched_waking stays
 * sched_waking, a "[LOST N EVENTS]" line becomes a DS_EV_LOST event with
 * state = N (-1 when the source does not say how many).
 */
#ifndef SC_COLLECT_IMPORT_H
#define SC_COLLECT_IMPORT_H

#include <stdint.h>
#include <stdio.h>

#include "data/trace.h"

enum col_import_format {
	COL_IMPORT_AUTO = 0,
	COL_IMPORT_TRACE_DAT,
	COL_IMPORT_PERF_DATA,
	COL_IMPORT_TEXT,
};

/* col_import_format_parse - the reverse; -1 when unknown */
int col_import_format_parse(const char *name);

struct col_import_opts {
	enum col_import_format format;	/* COL_IMPORT_AUTO: look at the content */
	/*
	 * trace.dat only: import just this buffer ("" or "top" = the top-level
	 * buffer, else an instance name).  NULL imports every buffer that
	 * holds scheduler events, which is an error if two buffers hold the
	 * same event type (the events would be counted twice).
	 */
	const char *buffer;
	const char *perf;		/* perf.data: read through this perf's `perf script`
					   instead of natively (NULL: natively) */
	const char *command_line;	/* stored in the metadata */
};

struct col_import_stats {
	enum col_import_format format;	/* what was read */
	char source[DS_SOURCE_LEN];	/* metadata source: "trace.dat", "ftrace-text", ... */
	uint64_t skipped_lines;		/* text lines that are not scheduler events */
	uint64_t plugin_switches;	/* trace-cmd plugin-form sched_switch lines */
	struct ds_trace_meta meta;	/* as written (counts included) */
};

/*
 * col_import - read path ("-" = standard input) and write a trace file to
 * out through a temporary name: on any error nothing appears at out.
 * 0, or -1 after a one-line error naming path and the problem (truncated,
 * empty, unknown format, corrupt scheduler event, perf missing, ...).
 * stats may be NULL.  The format (COL_IMPORT_AUTO) is found from the first
 * 4 KiB: trace.dat and perf.data by their magic, text when they hold no
 * NUL (a comm may hold any other byte); HDF5, gzip, xz, zstd, bzip2, ELF
 * and other binary data are refused.
 */
int col_import(const char *path, const char *out, const struct col_import_opts *opts,
	       struct col_import_stats *stats);

/* ---- the text parser (also used for perf.data through `perf script`) ----- */

enum col_text_kind {
	COL_TEXT_UNKNOWN = 0,
	COL_TEXT_FTRACE,	/* "comm-pid [cpu] flags ts: event: fields" */
	COL_TEXT_TRACE_CMD,	/* trace-cmd report: "cpus=N" header, plugins, instances */
	COL_TEXT_PERF,		/* perf script: "comm tid [cpu] ts: sched:event: fields" */
};

/*
 * struct col_text_parser - state carried from line to line.  Initialise
 * with col_text_parser_init(); no allocation.
 */
struct col_text_parser {
	const char *name;	/* file name for messages */
	uint64_t lineno;
	enum col_text_kind kind;	/* guessed from the lines seen so far */
	int max_cpu;		/* highest CPU of any line, -1 before the first */
	int header_cpus;	/* CPUs a header announced ("#P:2", "cpus=2"), 0 = none */
	uint32_t seen;		/* DS_EV_BIT() of each type parsed */
	uint64_t skipped;	/* lines that are not scheduler events */
	uint64_t plugin_switches;	/* sched_switch in trace-cmd's plugin form */
	int32_t tgid;		/* of the last event's task, when the line says; else -1 */
	int bad_fields;		/* the last -1 was a scheduler event whose fields did not parse */
};

void col_text_parser_init(struct col_text_parser *p, const char *name);

/*
 * col_text_parse_line - parse one line (without its newline; it may be
 * modified).  Returns 1 with *ev filled, 0 for a line that holds no event
 * (headers, blank lines, and other events, the latter counted in
 * p->skipped), -1 after an error naming p->name and the line: a scheduler
 * event whose fields do not parse.  A lost-events line ("CPU:1 [LOST 4
 * EVENTS]", "CPU:1 [4 EVENTS DROPPED]") returns 1 with a DS_EV_LOST event
 * whose ts is 0: the caller gives it the time of the CPU's next event.
 * perf's "PERF_RECORD_LOST lost N" line (perf script --show-lost-events)
 * has its own time and returns a DS_EV_LOST event with it.
 *
 * Timestamps: "secs.frac" with 1 to 9 fraction digits (microseconds in
 * ftrace's text, nanoseconds with `trace-cmd report -t` or `perf script
 * --ns`); a plain integer (ftrace's counter clocks) is taken as is.
 * prev_state letters: the kernel's ("R", "R+", "S", "D|T", ...); in
 * trace-cmd's plugin form the plugin's own letters, which cannot tell R
 * from R+ (stored as R) and which p->plugin_switches counts.
 */
int col_text_parse_line(struct col_text_parser *p, char *line, struct ds_event *ev);

#endif /* SC_COLLECT_IMPORT_H */
