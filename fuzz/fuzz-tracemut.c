// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz target "tracemut": the trace.h5 reader on files that are valid HDF5
 * but wrong as traces: fuzz/bases/trace.h5 changed by the operations the
 * input describes (fuzz/h5mut.c), then read as every stage reads a trace.
 */
#include "fuzz/fuzz.h"

int fuzz_tracemut(const uint8_t *data, size_t size)
{
	const char *path = fuzz_h5_mutate(fuzz_base("trace.h5"), data, size);

	if (path)
		fuzz_read_trace(path);
	fuzz_check_closed();
	return 0;
}

FUZZ_ENTRY(tracemut)
