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
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	uint64_t seen;			/* records read */
	struct sc_progress progress;	/* records read (the total is not known before) */
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

	sc_progress_update(&c->progress, ++c->seen);
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

/*
 * ---- version 6: check the CPU data lies inside the file, page by page --------
 *
 * libtracecmd reads a v6 file's CPU data straight from the file; on a file
 * cut short, tracecmd_buffer_instance_handle() fails and its cleanup then
 * crashes (libtracecmd 1.3.1).  So the per-CPU (offset, size) tables of the
 * top buffer and of every BUFFER option are checked first, by walking the
 * headers as trace-cmd.dat(5) lays them out.  Version 7 files describe their
 * sections differently and libtracecmd checks them itself.
 */
struct rd {
	int fd;
	uint64_t off, size;
};

static int rd_bytes(struct rd *r, void *buf, size_t n)
{
	if (r->off + n > r->size || pread(r->fd, buf, n, (off_t)r->off) != (ssize_t)n)
		return -1;
	r->off += n;
	return 0;
}

static int rd_skip(struct rd *r, uint64_t n)
{
	if (n > r->size - r->off)
		return -1;
	r->off += n;
	return 0;
}

static int rd_u64(struct rd *r, uint64_t *v)
{
	unsigned char b[8];

	if (rd_bytes(r, b, 8))
		return -1;
	*v = 0;
	for (int i = 7; i >= 0; i--)
		*v = *v << 8 | b[i];
	return 0;
}

static int rd_u32(struct rd *r, uint32_t *v)
{
	unsigned char b[4];

	if (rd_bytes(r, b, 4))
		return -1;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return 0;
}

static int rd_tag(struct rd *r, const char *tag, size_t n)
{
	char buf[16];

	return n > sizeof(buf) || rd_bytes(r, buf, n) || memcmp(buf, tag, n) ? -1 : 0;
}

static int rd_skip_str(struct rd *r)
{
	char c;

	do {
		if (rd_bytes(r, &c, 1))
			return -1;
	} while (c);
	return 0;
}

/*
 * Every ring-buffer page of one CPU: its header (u64 time stamp, then a
 * "commit" word of long_size bytes) must give a data length that fits the
 * page, counting the lost-events word stored after the data.  libtraceevent's
 * kbuffer trusts this length and reads past the page otherwise.
 */
#define RB_COMMIT_MASK ((1u << 27) - 1)
#define RB_MISSED_EVENTS (1ull << 31)
#define RB_MISSED_STORED (1ull << 30)

static int v6_check_pages(struct rd *r, uint64_t off, uint64_t size, uint32_t page_size,
			  int long_size)
{
	uint64_t hdr = 8 + (uint64_t)long_size;

	for (uint64_t p = off; p < off + size; p += page_size) {
		unsigned char b[16];
		uint64_t commit = 0, len;

		if (pread(r->fd, b, hdr, (off_t)p) != (ssize_t)hdr)
			return -1;
		for (int i = long_size - 1; i >= 0; i--)
			commit = commit << 8 | b[8 + i];
		len = commit & RB_COMMIT_MASK;
		if ((commit & RB_MISSED_EVENTS) && (commit & RB_MISSED_STORED))
			len += (uint64_t)long_size;
		if (len > page_size - hdr)
			return -1;
	}
	return 0;
}

/* "flyrecord\0" then cpus (offset, size) pairs, all inside the file */
static int v6_check_flyrecord(struct rd *r, uint32_t cpus, uint32_t page_size, int long_size)
{
	if (rd_tag(r, "flyrecord", 10))
		return -1;
	for (uint32_t i = 0; i < cpus; i++) {
		uint64_t off, size;

		if (rd_u64(r, &off) || rd_u64(r, &size) || off > r->size || size > r->size - off ||
		    v6_check_pages(r, off, size, page_size, long_size))
			return -1;
	}
	return 0;
}

/*
 * 0: fine, or not a little-endian v6 file; -1: the file is shorter than it
 * says, or a page header is corrupt
 */
static int v6_check(const char *path)
{
	uint64_t n64, buffers[MAX_BUFFERS];
	uint32_t n32, cpus, count;
	int nbuf = 0, ret = -1;
	char ver[4] = "";
	unsigned char endian, long_size;
	uint32_t page_size;
	struct stat st;
	struct rd r;

	r.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r.fd < 0 || fstat(r.fd, &st) < 0) {
		if (r.fd >= 0)
			close(r.fd);
		return 0;	/* libtracecmd will say */
	}
	r.off = 0;
	r.size = (uint64_t)st.st_size;
	if (rd_skip(&r, 10) || rd_bytes(&r, ver, 2) || strcmp(ver, "6") ||
	    rd_bytes(&r, &endian, 1) || endian) {
		ret = strcmp(ver, "6") || endian ? 0 : -1;
		goto out;
	}
	if (rd_bytes(&r, &long_size, 1) || (long_size != 4 && long_size != 8) ||
	    rd_u32(&r, &page_size) || page_size < 64 || page_size > (1u << 20) ||
	    rd_tag(&r, "header_page", 12) || rd_u64(&r, &n64) ||
	    rd_skip(&r, n64) || rd_tag(&r, "header_event", 13) || rd_u64(&r, &n64) ||
	    rd_skip(&r, n64) || rd_u32(&r, &count))
		goto out;
	for (uint32_t i = 0; i < count; i++)	/* ftrace event formats */
		if (rd_u64(&r, &n64) || rd_skip(&r, n64))
			goto out;
	if (rd_u32(&r, &count))
		goto out;
	for (uint32_t i = 0; i < count; i++) {	/* event systems */
		if (rd_skip_str(&r) || rd_u32(&r, &n32))
			goto out;
		for (uint32_t j = 0; j < n32; j++)
			if (rd_u64(&r, &n64) || rd_skip(&r, n64))
				goto out;
	}
	if (rd_u32(&r, &n32) || rd_skip(&r, n32) ||		/* kallsyms */
	    rd_u32(&r, &n32) || rd_skip(&r, n32) ||		/* printk formats */
	    rd_u64(&r, &n64) || rd_skip(&r, n64) ||		/* saved cmdlines */
	    rd_u32(&r, &cpus) || cpus > 8192 || rd_tag(&r, "options  ", 10))
		goto out;
	for (;;) {
		unsigned char id[2];
		uint64_t end;

		if (rd_bytes(&r, id, 2))
			goto out;
		if (!id[0] && !id[1])
			break;
		if (rd_u32(&r, &n32))
			goto out;
		end = r.off + n32;
		/* TRACECMD_OPTION_BUFFER = 3: the u64 offset of the buffer's flyrecord */
		if (id[0] == 3 && !id[1] && n32 >= 8 && nbuf < MAX_BUFFERS) {
			if (rd_u64(&r, &buffers[nbuf++]))
				goto out;
		}
		if (end > r.size)
			goto out;
		r.off = end;
	}
	{
		char tag[10];
		uint64_t at = r.off;

		if (rd_bytes(&r, tag, 10))
			goto out;
		r.off = at;
		if (!memcmp(tag, "latency  ", 10)) {
			ret = 0;
			goto out;
		}
	}
	if (v6_check_flyrecord(&r, cpus, page_size, long_size))
		goto out;
	for (int i = 0; i < nbuf; i++) {
		r.off = buffers[i];
		if (r.off > r.size || v6_check_flyrecord(&r, cpus, page_size, long_size))
			goto out;
	}
	ret = 0;
out:
	close(r.fd);
	return ret;
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
	const char *names[MAX_BUFFERS];
	struct dat_ctx c = { .sink = s };
	struct ds_trace_meta *m = &s->meta;
	int nr_inst, nr_handles = 0, ret = -1, cpus = 0, r;
	const char *clock;
	struct stat st;

	/* libtracecmd and libtraceevent print their complaints: ours are one line */
	tracecmd_set_loglevel(TEP_LOG_NONE);
	if ((stat(path, &st) == 0 && st.st_size < 64) || v6_check(path))
		return error("cannot import '%s': truncated or corrupt trace.dat "
			     "(CPU data past the end of the file, or a bad page header)", s->name);
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
	for (int i = 0; i < nr_handles; i++)
		names[i] = find_buffer(&c, handles[i])->name;
	sc_progress_start(&c.progress, "import", 0);
	r = col_dat7_iterate(path, handles, names, nr_handles, record_cb, &c, s->name);
	if (r > 0 && tracecmd_iterate_events_multi(handles, nr_handles, record_cb, &c) < 0 &&
	    !c.failed)
		r = -2;
	sc_progress_stop(&c.progress, r >= 0 && !c.failed);
	if (r == -1)
		goto out;
	if (r == -2) {
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
