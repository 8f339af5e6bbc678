// SPDX-License-Identifier: GPL-2.0
/*
 * trace-cmd's trace.dat (versions 6 and 7, compressed or not) through
 * libtracecmd: every buffer (the top one and each instance) is opened, the
 * records of all of them are merged in time order by
 * tracecmd_iterate_events_multi(), and each is decoded by the shared
 * decoder (collect/decode.c) from the file's own event formats.  A record
 * whose page says events were dropped before it ("missed events") is
 * preceded by a DS_EV_LOST event on its CPU.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <trace-cmd/trace-cmd.h>

#include "collect/collect.h"
#include "collect/import-local.h"
#include "common/common.h"

/*
 * Exported by libtracecmd.so.1 but declared only in trace-cmd's private
 * header: the UNAME option ("Linux host 6.18.44 x86_64") and the buffer's
 * trace clock.  Both return NULL when the file does not say.
 */
const char *tracecmd_get_uname(struct tracecmd_input *handle);
const char *tracecmd_get_trace_clock(struct tracecmd_input *handle);

#define MAX_BUFFERS 64

struct dat_buffer {
	struct tracecmd_input *handle;
	struct col_decoder *dec;
	const char *name;		/* "" for the top buffer */
	uint64_t count[DS_EV_MAX];	/* decoded events per type */
};

struct dat_ctx {
	struct col_sink *sink;
	struct dat_buffer buf[MAX_BUFFERS];
	int nr;
	uint64_t corrupt;		/* records of a sched event too short for their format */
	int failed;
};

static struct dat_buffer *find_buffer(struct dat_ctx *c, struct tracecmd_input *h)
{
	for (int i = 0; i < c->nr; i++)
		if (c->buf[i].handle == h)
			return &c->buf[i];
	return NULL;
}

static int record_cb(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
{
	struct dat_ctx *c = data;
	struct dat_buffer *b = find_buffer(c, h);
	struct ds_event ev;
	int r;

	if (!b || !b->dec)
		return 0;
	if (rec->missed_events) {
		/* libtracecmd: the count, or -1 when the page did not store it */
		ds_event_init(&ev, DS_EV_LOST, rec->ts, rec->cpu);
		ev.state = rec->missed_events > 0 ? rec->missed_events : -1;
		if (ds_trace_write(c->sink->w, &ev)) {
			c->failed = 1;
			return 1;
		}
	}
	r = col_decode(b->dec, rec, &ev);
	if (r < 0) {
		c->corrupt++;
		return 0;
	}
	if (!r)
		return 0;
	b->count[ev.type]++;
	if (col_sink_write(c->sink, &ev)) {
		c->failed = 1;
		return 1;
	}
	return 0;
}

/* "Linux host 6.18.44-x x86_64": the host name and release */
static void parse_uname(const char *uname, struct ds_trace_meta *m)
{
	char sys[64], host[DS_NAME_LEN], rel[DS_NAME_LEN];

	if (uname && sscanf(uname, "%63s %64s %64s", sys, host, rel) == 3) {
		snprintf(m->hostname, sizeof(m->hostname), "%s", host);
		snprintf(m->kernel_release, sizeof(m->kernel_release), "%s", rel);
	}
}

static int wanted(const char *name, const struct col_import_opts *opts)
{
	if (!opts->buffer)
		return 1;
	if (!*name)
		return !*opts->buffer || !strcmp(opts->buffer, "top");
	return !strcmp(name, opts->buffer);
}

int col_import_tracedat(const char *path, struct col_sink *s, const struct col_import_opts *opts)
{
	struct tracecmd_input *top, *handles[MAX_BUFFERS];
	struct dat_ctx c = { .sink = s };
	struct ds_trace_meta *m = &s->meta;
	int nr_inst, nr_handles = 0, ret = -1, cpus = 0;
	const char *clock;
	struct stat st;

	/* libtracecmd and libtraceevent print their complaints: ours are one line */
	tracecmd_set_loglevel(TEP_LOG_NONE);
	/*
	 * A trace.dat is read through mmap(): a file shorter than its own
	 * headers say would fault instead of failing.  libtracecmd checks
	 * section sizes against the file size on open, which is what makes
	 * truncated files fail here (tests/t/t1120).
	 */
	if (stat(path, &st) == 0 && st.st_size < 64)
		return error("cannot import '%s': truncated trace.dat", s->name);
	top = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS | TRACECMD_FL_LOAD_NO_SYSTEM_PLUGINS);
	if (!top)
		return error("cannot import '%s': libtracecmd cannot read it (truncated or corrupt trace.dat)",
			     s->name);
	c.buf[0].handle = top;
	c.buf[0].name = "";
	c.nr = 1;
	nr_inst = tracecmd_buffer_instances(top);
	for (int i = 0; i < nr_inst && c.nr < MAX_BUFFERS; i++) {
		struct tracecmd_input *h = tracecmd_buffer_instance_handle(top, i);

		if (!h) {
			error("cannot import '%s': cannot read buffer instance '%s'", s->name,
			      tracecmd_buffer_instance_name(top, i));
			goto out;
		}
		c.buf[c.nr].handle = h;
		c.buf[c.nr].name = tracecmd_buffer_instance_name(top, i);
		c.nr++;
	}
	for (int i = 0; i < c.nr; i++) {
		struct tep_handle *tep = tracecmd_get_tep(c.buf[i].handle);

		if (!wanted(c.buf[i].name, opts) || !tep || tep_get_cpus(tep) <= 0)
			continue;
		sc_set_quiet(1);
		c.buf[i].dec = col_decoder_new(tep);
		sc_set_quiet(0);
		if (!c.buf[i].dec)
			continue;
		cpus = SC_MAX(cpus, tep_get_cpus(tep));
		handles[nr_handles++] = c.buf[i].handle;
		m->events_recorded |= col_decoder_events(c.buf[i].dec);
	}
	if (opts->buffer && !nr_handles) {
		error("cannot import '%s': no buffer '%s' with scheduler events", s->name,
		      opts->buffer);
		goto out;
	}
	if (!nr_handles) {
		error("cannot import '%s': no scheduler event formats or no CPU data in the file",
		      s->name);
		goto out;
	}
	if (tracecmd_iterate_events_multi(handles, nr_handles, record_cb, &c) < 0 && !c.failed) {
		error("cannot import '%s': cannot read the event data (truncated trace.dat?)",
		      s->name);
		goto out;
	}
	if (c.failed)
		goto out;
	if (c.corrupt) {
		error("cannot import '%s': %llu scheduler event records are shorter than their format",
		      s->name, (unsigned long long)c.corrupt);
		goto out;
	}

	/* events_recorded: the sched events that occur (see the man page) */
	m->events_recorded = 0;
	for (int t = 0; t < DS_EV_LOST; t++) {
		const char *first = NULL;

		for (int i = 0; i < c.nr; i++) {
			if (!c.buf[i].count[t])
				continue;
			m->events_recorded |= DS_EV_BIT(t);
			if (first && !opts->buffer) {
				error("cannot import '%s': %s is in buffers '%s' and '%s'; choose one with --buffer",
				      s->name, ds_event_type_name(t), *first ? first : "top",
				      *c.buf[i].name ? c.buf[i].name : "top");
				goto out;
			}
			first = c.buf[i].name;
		}
	}
	if (!s->nr_events) {
		error("cannot import '%s': no scheduler events in the file", s->name);
		goto out;
	}
	m->nr_cpus = cpus;
	parse_uname(tracecmd_get_uname(top), m);
	/* the TRACECLOCK option is trace_clock's text: "[local] global counter ..." */
	clock = tracecmd_get_trace_clock(handles[0]);
	if (clock && strchr(clock, '['))
		sscanf(strchr(clock, '[') + 1, "%31[^]]", m->clock);
	else if (clock)
		sscanf(clock, "%31s", m->clock);
	snprintf(m->source, sizeof(m->source), "trace.dat");
	ret = 0;
out:
	for (int i = c.nr - 1; i >= 0; i--) {
		col_decoder_free(c.buf[i].dec);
		tracecmd_close(c.buf[i].handle);
	}
	return ret;
}
