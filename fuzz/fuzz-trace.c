// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz target "trace": the trace.h5 reader (data/trace.c over data/ds.c and
 * HDF5).  The input is written to a scratch file and read as `schedcast
 * info` and every later stage read it: identify, open, the task and lost
 * tables, every event, a rewind, and the text and JSON descriptions.
 */
#include <stdlib.h>

#include "common/common.h"
#include "data/ds.h"
#include "data/trace.h"
#include "fuzz/fuzz.h"

int fuzz_trace(const uint8_t *data, size_t size)
{
	const char *path = fuzz_tmpfile(data, size, ".h5");
	struct strbuf sb = STRBUF_INIT;
	struct ds_trace_reader *r;
	const struct ds_task *tasks;
	const uint64_t *lost;
	uint64_t ntasks, sum = 0;
	struct ds_event ev;
	char format[64];
	int version;

	if (!path)
		return 0;
	ds_identify(path, format, sizeof(format), &version);
	r = ds_trace_open(path);
	if (!r) {
		fuzz_check_closed();
		return 0;
	}
	/* touch every table the reader hands out: ASan checks their bounds */
	tasks = ds_trace_tasks(r, &ntasks);
	for (uint64_t i = 0; i < ntasks; i++)
		sum += (uint64_t)tasks[i].pid + tasks[i].first_ts + (unsigned char)tasks[i].comm[0];
	lost = ds_trace_lost(r);
	for (int i = 0; i < ds_trace_meta(r)->nr_cpus; i++)
		sum += lost[i];
	while (ds_trace_next(r, &ev) > 0)
		sum += ev.ts + (unsigned char)ev.comm[0] + (unsigned char)ev.next_comm[0];
	ds_trace_rewind(r);
	ds_trace_next(r, &ev);
	ds_trace_close(r);
	ds_trace_describe(path, 0, &sb);
	ds_trace_describe(path, 1, &sb);
	strbuf_release(&sb);
	fuzz_check_closed();
	return (int)(sum & 1);
}

FUZZ_ENTRY(trace)
