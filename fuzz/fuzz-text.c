// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz target "text": the trace text parser behind `schedcast import` of
 * ftrace text, `trace-cmd report` output and `perf script` output (and of
 * perf.data, which goes through `perf script`).  The input is split into
 * lines and fed to one parser, as col_import does; every event it returns is
 * checked for what the writer relies on.
 */
#include <stdlib.h>
#include <string.h>

#include "collect/import.h"
#include "common/common.h"
#include "fuzz/fuzz.h"

int fuzz_text(const uint8_t *data, size_t size)
{
	struct col_text_parser p;
	struct strbuf line = STRBUF_INIT;
	size_t start = 0;

	col_text_parser_init(&p, "fuzz.txt");
	while (start < size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - data) : size;
		struct ds_event ev;
		int ret;

		strbuf_reset(&line);
		strbuf_add(&line, data + start, end - start);
		ret = col_text_parse_line(&p, line.buf, &ev);
		if (ret > 0) {
			/* what ds_trace_write() and every later stage assume */
			if (ev.type >= DS_EV_MAX || ev.cpu < 0 || memchr(ev.comm, 0, DS_COMM_LEN) == NULL ||
			    memchr(ev.next_comm, 0, DS_COMM_LEN) == NULL) {
				fprintf(stderr, "fuzz: bad event from line %llu: type %d cpu %d\n",
					(unsigned long long)p.lineno, ev.type, ev.cpu);
				abort();
			}
		}
		start = end + 1;
	}
	strbuf_release(&line);
	return 0;
}

FUZZ_ENTRY(text)
