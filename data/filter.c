// SPDX-License-Identifier: GPL-2.0
/* The task, CPU and time filters shared by report, eval, features and script. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "data/filter.h"

/* parse_pids - "10,42,7" into a growing array; -1 on anything else */
static int parse_pids(const char *s, int32_t **out, size_t *nr)
{
	size_t alloc = *nr;

	if (!*s)
		return -1;
	for (;;) {
		char *end;
		long v;

		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || v > INT32_MAX)
			return -1;
		ALLOC_GROW(*out, *nr + 1, alloc);
		(*out)[(*nr)++] = (int32_t)v;
		s = end;
		if (!*s)
			return 0;
		if (*s++ != ',')
			return -1;
	}
}

/* parse_seconds - a non-negative decimal number of seconds into ns */
static int parse_seconds(const char *s, size_t len, uint64_t *ns)
{
	char buf[64];
	double v;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (parse_double(buf, &v) || v < 0 || v > 1.8e10)
		return -1;
	*ns = (uint64_t)(v * 1e9 + 0.5);
	return 0;
}

static int parse_time(struct ds_filter *f, const char *s)
{
	const char *comma = strchr(s, ',');
	uint64_t start = 0, end = UINT64_MAX;

	if (!comma)
		return -1;
	if (comma > s && parse_seconds(s, (size_t)(comma - s), &start))
		return -1;
	if (comma[1] && parse_seconds(comma + 1, strlen(comma + 1), &end))
		return -1;
	if (start > end)
		return -1;
	f->start_ns = start;
	f->end_ns = end;
	f->has_time = 1;
	return 0;
}

int ds_filter_option(struct ds_filter *f, int c, const char *arg)
{
	switch (c) {
	case DS_FILTER_OPT_PID:
		if (parse_pids(arg, &f->pids, &f->nr_pids))
			return error("bad --pid '%s': a list of process ids, \"10,42\"", arg);
		return 1;
	case DS_FILTER_OPT_TID:
		if (parse_pids(arg, &f->tids, &f->nr_tids))
			return error("bad --tid '%s': a list of thread ids, \"10,42\"", arg);
		return 1;
	case DS_FILTER_OPT_COMM:
		if (!*arg)
			return error("bad --comm '': an empty pattern");
		f->comms = xreallocarray(f->comms, f->nr_comms + 1, sizeof(*f->comms));
		f->comms[f->nr_comms++] = xstrdup(arg);
		return 1;
	case DS_FILTER_OPT_CPU:
		if (!f->cpus)
			f->cpus = xcalloc(DS_FILTER_MAX_CPUS / 64, sizeof(*f->cpus));
		if (parse_cpulist(arg, f->cpus, DS_FILTER_MAX_CPUS))
			return error("bad --cpu '%s': a CPU list, \"0-3,6\"", arg);
		return 1;
	case DS_FILTER_OPT_TIME:
		if (parse_time(f, arg))
			return error("bad --time '%s': START,END in seconds (either may be empty)",
				     arg);
		return 1;
	}
	return 0;
}

void ds_filter_release(struct ds_filter *f)
{
	free(f->pids);
	free(f->tids);
	for (size_t i = 0; i < f->nr_comms; i++)
		free(f->comms[i]);
	free(f->comms);
	free(f->cpus);
	memset(f, 0, sizeof(*f));
	f->end_ns = UINT64_MAX;
}

int ds_filter_any_task(const struct ds_filter *f)
{
	return f->nr_pids || f->nr_tids || f->nr_comms;
}

static int in_list(const int32_t *v, size_t n, int32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

int ds_filter_task(const struct ds_filter *f, int32_t tid, int32_t tgid, const char *comm)
{
	if (f->nr_tids && !in_list(f->tids, f->nr_tids, tid))
		return 0;
	if (f->nr_pids && !in_list(f->pids, f->nr_pids, tgid >= 0 ? tgid : tid))
		return 0;
	if (f->nr_comms) {
		size_t i;

		for (i = 0; i < f->nr_comms; i++)
			if (!fnmatch(f->comms[i], comm ? comm : "", 0))
				break;
		if (i == f->nr_comms)
			return 0;
	}
	return 1;
}

int ds_filter_cpu(const struct ds_filter *f, int cpu)
{
	if (!f->cpus)
		return 1;
	if (cpu < 0 || cpu >= DS_FILTER_MAX_CPUS)
		return 0;
	return !!(f->cpus[cpu / 64] & (1ULL << (cpu % 64)));
}

int ds_filter_time(const struct ds_filter *f, uint64_t ts)
{
	return ts >= f->start_ns && ts <= f->end_ns;
}

static int cmp_task_row(const void *a, const void *b)
{
	const struct ds_task *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->first_ts < y->first_ts ? -1 : x->first_ts > y->first_ts;
}

void ds_task_index_init(struct ds_task_index *ix, const struct ds_task *tt, uint64_t n)
{
	ix->n = n;
	ix->rows = xcalloc(n ? n : 1, sizeof(*ix->rows));
	if (n)
		memcpy(ix->rows, tt, n * sizeof(*tt));
	qsort(ix->rows, n, sizeof(*ix->rows), cmp_task_row);
}

void ds_task_index_release(struct ds_task_index *ix)
{
	free(ix->rows);
	ix->rows = NULL;
	ix->n = 0;
}

const struct ds_task *ds_task_index_find(const struct ds_task_index *ix, int32_t pid,
					 uint64_t ts)
{
	uint64_t lo = 0, hi = ix->n, first;

	/* the first row of pid */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (ix->rows[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ix->n || ix->rows[lo].pid != pid)
		return NULL;
	first = lo;
	/* the last of its rows first seen at or before ts */
	while (lo + 1 < ix->n && ix->rows[lo + 1].pid == pid && ix->rows[lo + 1].first_ts <= ts)
		lo++;
	return &ix->rows[lo < first ? first : lo];
}

int ds_filter_task_at(const struct ds_filter *f, const struct ds_task_index *ix, int32_t pid,
		      uint64_t ts)
{
	const struct ds_task *t;

	if (!ds_filter_any_task(f))
		return 1;
	if (pid <= 0)
		return 0;
	t = ix ? ds_task_index_find(ix, pid, ts) : NULL;
	return ds_filter_task(f, pid, t ? t->tgid : -1, t ? t->comm : NULL);
}
