// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz target "perfdata": the native perf.data reader (file and pipe
 * formats) through col_import(): header, attributes, feature sections, the
 * tracing data handed to libtraceevent, the record stream, round ordering,
 * the decoder and the trace writer; the written trace.h5 is read back.
 * Seeds: small perf.data files (fuzz/corpus/perfdata/), the file format
 * and the pipe format.
 */
#include <unistd.h>

#include "collect/import.h"
#include "fuzz/fuzz.h"

int fuzz_perfdata(const uint8_t *data, size_t size)
{
	struct col_import_opts opts = { .format = COL_IMPORT_PERF_DATA };
	const char *in, *out;

	in = fuzz_tmpfile(data, size, ".perf.data");
	out = fuzz_tmpfile(NULL, 0, ".out.h5");
	if (!in || !out)
		return 0;
	unlink(out);
	if (!col_import(in, out, &opts, NULL))
		fuzz_read_trace(out);
	else if (!access(out, F_OK))
		fuzz_fail("col_import failed but left its output behind");
	fuzz_check_closed();
	return 0;
}

FUZZ_ENTRY(perfdata)
