/* SPDX-License-Identifier: GPL-2.0 */
/*
 * data/filter.h - which tasks, CPUs and times of a trace a command looks at:
 * the filters report, eval, features and script share (perf sched's
 * --pid, --tid, --comm, -C and --time).
 *
 *   --pid LIST      thread groups (tgid; a task whose tgid the trace does not
 *                   know is its own group)
 *   --tid LIST      threads
 *   --comm GLOB     comm matching the fnmatch(3) pattern (repeatable)
 *   -C, --cpu LIST  CPUs, "0-3,6"
 *   --time START,END  seconds in the trace's clock, as script and info print
 *                   them; either side may be left out
 *
 * Task filters combine: a task passes when it matches every kind given (any
 * entry of a list).  A struct ds_filter is zero-initialised (DS_FILTER_INIT)
 * and released with ds_filter_release().
 */
#ifndef SC_DATA_FILTER_H
#define SC_DATA_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "data/trace.h"

struct ds_filter {
	int32_t *pids, *tids;
	size_t nr_pids, nr_tids;
	char **comms;
	size_t nr_comms;
	uint64_t *cpus;		/* bitmap of DS_FILTER_MAX_CPUS bits, NULL = all */
	uint64_t start_ns, end_ns;	/* inclusive; 0 and UINT64_MAX when not given */
	int has_time;
};

#define DS_FILTER_MAX_CPUS 4096
#define DS_FILTER_INIT { .end_ns = UINT64_MAX }

/* Option values for getopt_long: -C is 'C', the long-only ones from here. */
enum {
	DS_FILTER_OPT_PID = 0x4000,
	DS_FILTER_OPT_TID,
	DS_FILTER_OPT_COMM,
	DS_FILTER_OPT_TIME,
	DS_FILTER_OPT_CPU = 'C',
};

/* The entries to put in a command's struct option table. */
#define DS_FILTER_LONGOPTS                                                     \
	{ "pid", required_argument, NULL, DS_FILTER_OPT_PID },                 \
	{ "tid", required_argument, NULL, DS_FILTER_OPT_TID },                 \
	{ "comm", required_argument, NULL, DS_FILTER_OPT_COMM },               \
	{ "time", required_argument, NULL, DS_FILTER_OPT_TIME },               \
	{ "cpu", required_argument, NULL, DS_FILTER_OPT_CPU }

/* The usage text of the filters, to paste into a command's help. */
#define DS_FILTER_HELP                                                                   \
	"    --pid LIST           only these processes (thread groups), \"10,42\"\n"          \
	"    --tid LIST           only these threads\n"                                       \
	"    --comm GLOB          only tasks whose comm matches (fnmatch; repeatable)\n"     \
	"    -C, --cpu LIST       only these CPUs, \"0-3,6\"\n"                               \
	"    --time START,END     only this time range (seconds, as script prints them;\n"   \
	"                         either side may be left out)\n"

/*
 * ds_filter_option - apply getopt's (c, arg) if it is a filter option.
 * Returns 1 when handled, 0 when c is not a filter option, -1 on a bad value
 * (the error, naming the option, is printed).
 */
int ds_filter_option(struct ds_filter *f, int c, const char *arg);
void ds_filter_release(struct ds_filter *f);

/* ds_filter_any_task - whether a task filter (--pid, --tid, --comm) is set */
int ds_filter_any_task(const struct ds_filter *f);
/* ds_filter_task - does the task (tid, its tgid or -1, comm) pass */
int ds_filter_task(const struct ds_filter *f, int32_t tid, int32_t tgid, const char *comm);
/* ds_filter_cpu - does cpu pass */
int ds_filter_cpu(const struct ds_filter *f, int cpu);
/* ds_filter_time - is ts (ns) inside the --time range */
int ds_filter_time(const struct ds_filter *f, uint64_t ts);

/*
 * struct ds_task_index - a trace's task table sorted by pid, then first_ts:
 * the thread group of a pid and its comm at a time, for commands that see
 * only pids (eval's decisions, the picks features writes).  Init copies the
 * rows; release with ds_task_index_release().
 */
struct ds_task_index {
	struct ds_task *rows;
	uint64_t n;
};

void ds_task_index_init(struct ds_task_index *ix, const struct ds_task *tt, uint64_t n);
void ds_task_index_release(struct ds_task_index *ix);
/*
 * ds_task_index_find - pid's row at ts: the last (pid, comm) first seen at
 * or before ts, else its first one; NULL when the table does not know pid.
 */
const struct ds_task *ds_task_index_find(const struct ds_task_index *ix, int32_t pid,
					 uint64_t ts);
/*
 * ds_filter_task_at - does task pid, as it was at ts, pass the task filters
 * (its tgid and comm from ix; a pid ix does not know has no comm and is its
 * own thread group).  The idle task (pid 0) never passes a task filter.
 */
int ds_filter_task_at(const struct ds_filter *f, const struct ds_task_index *ix, int32_t pid,
		      uint64_t ts);

#endif /* SC_DATA_FILTER_H */
