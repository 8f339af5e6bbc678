// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz target "trace": the trace.h5 reader (data/trace.c over data/ds.c and
 * HDF5).  The input is written to a scratch file and read as `schedcast
 * info` and every later stage read it: identify, open, the task and lost
 * tables, every event, a rewind, and the text and JSON descriptions.
 */
#include "fuzz/fuzz.h"

int fuzz_trace(const uint8_t *data, size_t size)
{
	const char *path = fuzz_tmpfile(data, size, ".h5");

	if (path)
		fuzz_read_trace(path);
	return 0;
}

FUZZ_ENTRY(trace)
