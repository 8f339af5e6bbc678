// SPDX-License-Identifier: GPL-2.0
/*
 * mktrace - write a trace.h5 from a hand-written event list, for tests that
 * need exact event sequences without a kernel.
 *
 *   mktrace OUT.h5 < events.txt
 *
 * Input lines (blank lines and '#' comments ignored):
 *   @cpus N                       number of CPUs (default 4)
 *   @source NAME                  metadata source (default "synthetic")
 *   @events NAME,NAME,...         events_recorded (default every sched event)
 *   @lost CPU N                   N dropped events on CPU, no stream marker
 *   @tgid PID TGID
 *   TS CPU TYPE [FIELD=VALUE ...] one event, as tests/helpers/event-line.h
 *                                 reads it (in comm and next_comm "\xNN" is
 *                                 the byte NN, so a test can name a task
 *                                 with any bytes)
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "data/trace.h"
#include "tests/helpers/event-line.h"

int main(int argc, char **argv)
{
	struct ds_trace_meta meta = { .nr_cpus = 4, .events_recorded = DS_EV_ALL_SCHED };
	struct ds_trace_writer *w = NULL;
	struct strbuf line = STRBUF_INIT;
	struct { int cpu; uint64_t n; } lost[64];
	struct { int pid, tgid; } tg[256];
	int nlost = 0, ntg = 0, lineno = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mktrace OUT.h5 < events.txt\n");
		return 2;
	}
	snprintf(meta.source, sizeof(meta.source), "synthetic");
	snprintf(meta.clock, sizeof(meta.clock), "local");
	snprintf(meta.command_line, sizeof(meta.command_line), "mktrace %s", argv[1]);
	while (strbuf_getline(&line, stdin) != EOF) {
		char *p = line.buf, *tok, *save = NULL;
		const char *bad;
		struct ds_event ev;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (*p == '@') {
			char key[32], val[512];

			if (w)
				die("line %d: directives must come before events", lineno);
			if (sscanf(p, "@%31s %511[^\n]", key, val) != 2)
				die("line %d: bad directive", lineno);
			if (!strcmp(key, "cpus")) {
				meta.nr_cpus = atoi(val);
			} else if (!strcmp(key, "source")) {
				snprintf(meta.source, sizeof(meta.source), "%s", val);
			} else if (!strcmp(key, "events")) {
				meta.events_recorded = 0;
				for (tok = strtok_r(val, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
					int t = ds_event_type_from_name(tok);

					if (t < 0)
						die("line %d: unknown event '%s'", lineno, tok);
					meta.events_recorded |= DS_EV_BIT(t);
				}
			} else if (!strcmp(key, "lost") && nlost < 64) {
				sscanf(val, "%d %lu", &lost[nlost].cpu, &lost[nlost].n);
				nlost++;
			} else if (!strcmp(key, "tgid") && ntg < 256) {
				sscanf(val, "%d %d", &tg[ntg].pid, &tg[ntg].tgid);
				ntg++;
			} else {
				die("line %d: unknown directive '@%s'", lineno, key);
			}
			continue;
		}
		if (!w) {
			w = ds_trace_create(argv[1], &meta);
			if (!w)
				return 1;
		}
		switch (evline_parse(p, &ev, &bad)) {
		case EVLINE_BAD_HEAD:
			die("line %d: expected 'TS CPU TYPE [FIELD=VALUE...]'", lineno);
		case EVLINE_NO_VALUE:
			die("line %d: expected FIELD=VALUE, got '%s'", lineno, bad);
		case EVLINE_BAD_FIELD:
			die("line %d: unknown field '%s'", lineno, bad);
		}
		if (ds_trace_write(w, &ev))
			return 1;
	}
	if (!w) {
		w = ds_trace_create(argv[1], &meta);
		if (!w)
			return 1;
	}
	for (int i = 0; i < nlost; i++)
		ds_trace_add_lost(w, lost[i].cpu, lost[i].n);
	for (int i = 0; i < ntg; i++)
		ds_trace_set_tgid(w, tg[i].pid, tg[i].tgid);
	strbuf_release(&line);
	return ds_trace_writer_close(w, NULL) ? 1 : 0;
}
