// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz target "decode": col_decode(), which turns one raw tracepoint record
 * into a struct ds_event for `schedcast import` of trace.dat files (and for
 * `record`).  A trace.dat is outside input: its records may be shorter than
 * their format, and its __data_loc descriptors may point anywhere.  The
 * handles are built once from this kernel's sched formats
 * (tests/data/formats/), little- and big-endian.  Input byte 0 picks the
 * byte order and the event; the rest is the record, in a heap buffer of
 * exactly its size so that ASan sees any read past it.
 */
#include <stdlib.h>
#include <string.h>
#include <traceevent/event-parse.h>

#include "collect/collect.h"
#include "common/common.h"
#include "fuzz/fuzz.h"

static const char *const names[] = {
	"sched_switch", "sched_wakeup", "sched_wakeup_new", "sched_waking",
	"sched_migrate_task", "sched_process_fork", "sched_process_exit",
};

static struct tep_handle *teps[2];
static struct col_decoder *decs[2];
static int ids[ARRAY_SIZE(names)];

static void setup(void)
{
	for (int big = 0; big < 2; big++) {
		struct tep_handle *tep = tep_alloc();

		tep_set_file_bigendian(tep, big ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
		tep_set_local_bigendian(tep, TEP_LITTLE_ENDIAN);
		tep_set_long_size(tep, 8);
		for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
			char *path = xstrfmt("%s/tests/data/formats/%s.format", FUZZ_TOP, names[i]);
			struct strbuf sb = STRBUF_INIT;
			FILE *fp = fopen(path, "r");
			char buf[4096];
			size_t n;

			if (!fp) {
				fprintf(stderr, "fuzz: cannot open '%s'\n", path);
				abort();
			}
			while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
				strbuf_add(&sb, buf, n);
			fclose(fp);
			if (tep_parse_event(tep, sb.buf, sb.len, "sched"))
				fuzz_fail("tep_parse_event failed on a captured format");
			strbuf_release(&sb);
			free(path);
			ids[i] = tep_find_event_by_name(tep, "sched", names[i])->id;
		}
		teps[big] = tep;
		decs[big] = col_decoder_new(tep);
		if (!decs[big])
			fuzz_fail("col_decoder_new failed");
	}
}

int fuzz_decode(const uint8_t *data, size_t size)
{
	struct tep_record rec = { .ts = 1000, .cpu = 1 };
	struct ds_event ev;
	unsigned char *buf;
	int big, which;

	if (!decs[0])
		setup();
	if (!size)
		return 0;
	big = data[0] & 1;
	which = (data[0] >> 1) % ARRAY_SIZE(names);
	data++;
	size--;
	buf = xmalloc(size ? size : 1);
	memcpy(buf, data, size);
	/* common_type at offset 0 (u16): steer to the chosen event unless bit 7 says not */
	if (size >= 2 && !(data[-1] & 0x80)) {
		buf[big ? 1 : 0] = (unsigned char)(ids[which] & 0xff);
		buf[big ? 0 : 1] = (unsigned char)(ids[which] >> 8);
	}
	rec.data = buf;
	rec.size = (int)size;
	if (col_decode(decs[big], &rec, &ev) > 0) {
		if (ev.type >= DS_EV_MAX || !memchr(ev.comm, 0, DS_COMM_LEN) ||
		    !memchr(ev.next_comm, 0, DS_COMM_LEN))
			fuzz_fail("col_decode returned an event the writer would refuse");
	}
	free(buf);
	return 0;
}

FUZZ_ENTRY(decode)
