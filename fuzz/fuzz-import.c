// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz target "import": `schedcast import` end to end through col_import(),
 * format recognised by content: trace.dat through libtracecmd and our
 * decoder, or trace text through the line parser, the reorder window and
 * the trace writer; then the written trace.h5 is read back.  perf.data is
 * left to target "perfdata", which feeds the native reader.
 */
#include <string.h>
#include <unistd.h>

#include "collect/import.h"
#include "fuzz/fuzz.h"

int fuzz_import(const uint8_t *data, size_t size)
{
	struct col_import_opts opts = { .format = COL_IMPORT_AUTO, .perf = "/bin/false" };
	const char *in, *out;

	/* perf.data's magics (either byte order, and the old one) */
	if (size >= 8 && (!memcmp(data, "PERFILE2", 8) || !memcmp(data, "2ELIFREP", 8) ||
			  !memcmp(data, "PERFFILE", 8)))
		return 0;
	in = fuzz_tmpfile(data, size, ".in");
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

FUZZ_ENTRY(import)
