// SPDX-License-Identifier: GPL-2.0
/*
 * perf.data read natively, without the perf binary
 * (tools/perf/Documentation/perf.data-file-format.txt is the reference).
 *
 * Read: the "PERFILE2" file format (perf 3.x and later; the perf_event_attr
 * of any size a perf wrote) and the pipe format of `perf record -o -`, in
 * the host's byte order.  From the header: the attributes and their sample
 * ids, and the feature sections HEADER_TRACING_DATA (the tracepoint format
 * files, handed to libtraceevent), HEADER_HOSTNAME, HEADER_OSRELEASE,
 * HEADER_NRCPUS, HEADER_CMDLINE and HEADER_CLOCK_DATA.  From the data:
 * PERF_RECORD_SAMPLE (the raw tracepoint data decoded by the decoder every
 * importer shares), PERF_RECORD_LOST (a lost marker on the CPU and at the
 * time of its sample_id), PERF_RECORD_LOST_SAMPLES (what it counts beyond
 * the LOST records of its CPU, counted without a marker), PERF_RECORD_COMM /
 * FORK / EXIT
 * (thread groups for the task table), PERF_RECORD_FINISHED_ROUND (ordering)
 * and, in the pipe format, the header records (ATTR, TRACING_DATA, FEATURE).
 * Other records are skipped by their size.  Not read: compressed data
 * (`perf record -z`), the other byte order, the old "PERFFILE" format and
 * directory outputs (`perf record --threads`).
 *
 * Ordering, as perf's ordered_events: the events between two FINISHED_ROUND
 * records are not in time order across CPUs, but none is older than the
 * newest event of the round before the previous one.  Events are held in a
 * queue per CPU (a CPU's ring is in time order) until a FINISHED_ROUND, and
 * those up to the previous round's newest time are merged and written:
 * memory is about two rounds (bounded by the ring buffer sizes), not the
 * length of the trace.
 *
 * Every length and offset is checked against what remains of the file or
 * record before it is used: a crafted or truncated file gets one line
 * naming it and the problem.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <traceevent/event-parse.h>

#include "collect/collect.h"
#include "collect/import-local.h"
#include "common/common.h"

/* perf's own record types (tools/lib/perf/include/perf/event.h) */
enum {
	PD_HEADER_ATTR = 64,
	PD_HEADER_EVENT_TYPE = 65,
	PD_HEADER_TRACING_DATA = 66,
	PD_HEADER_BUILD_ID = 67,
	PD_FINISHED_ROUND = 68,
	PD_COMPRESSED = 81,
	PD_HEADER_FEATURE = 80,
};

/* feature bits (tools/perf/util/header.h) */
enum {
	FEAT_TRACING_DATA = 1,
	FEAT_HOSTNAME = 3,
	FEAT_OSRELEASE = 4,
	FEAT_NRCPUS = 7,
	FEAT_CMDLINE = 11,
	FEAT_CLOCK_DATA = 29,
	FEAT_BITS = 256,
};

#define PERF_MAGIC2 0x32454c4946524550ULL	/* "PERFILE2" read in our byte order */
#define FILE_HEADER_SIZE 104			/* magic, size, attr_size, 3 sections, 256 bits */
#define PIPE_HEADER_SIZE 16
#define ATTR_SIZE_VER0 64			/* the smallest perf_event_attr */
#define READ_CHUNK (1 << 20)
#define MAX_TRACING_DATA (256u << 20)

/* sample_type bits this reader can walk past to reach PERF_SAMPLE_RAW */
#define SAMPLE_KNOWN (PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | \
		      PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR | PERF_SAMPLE_ID | \
		      PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | \
		      PERF_SAMPLE_READ | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_RAW)

struct pd_attr {
	uint32_t type;
	uint64_t config;
	uint64_t sample_type;
	uint64_t read_format;
	int sample_id_all;
	int ev_type;		/* enum ds_event_type of a sched tracepoint, else -1 */
};

struct pd_id {
	uint64_t id;
	int attr;
};

/* an event waiting for its round; seq keeps equal times in file order */
struct pd_held {
	uint64_t ts;
	uint64_t seq;
	struct ds_event ev;
	int32_t tgid;		/* -1 unknown */
};

/*
 * The events of one CPU's ring come in time order; the rings are
 * interleaved.  Each CPU gets a queue and a flush merges their heads.
 */
struct pd_queue {
	struct pd_held *v;
	size_t head, nr, alloc;
	int unsorted;		/* an event older than the one before it was queued */
};

struct pd {
	const char *name;
	struct col_sink *s;
	int fd;
	uint64_t file_size;
	int pipe;

	/* the data stream: buf holds file bytes [buf_off, buf_off + buf_len) */
	unsigned char *buf;
	size_t buf_len, buf_alloc, pos;
	uint64_t buf_off, data_end;

	struct pd_attr *attrs;
	int nr_attrs;
	struct pd_id *ids;
	size_t nr_ids, alloc_ids;

	struct tep_handle *tep;
	struct col_decoder *dec;

	struct pd_queue *q;	/* per CPU: held events, in ring (time) order */
	int nr_q;
	uint64_t seq;
	uint64_t round_max;	/* newest time of the round that just ended */
	uint64_t prev_round_max;
	uint64_t flushed_ts;	/* newest time written */

	uint64_t skipped;	/* samples that are not scheduler events */
	int max_cpu;
	uint32_t nr_cpus_avail;
	int clockid;		/* -1 unknown */
	/* per CPU: counts of PERF_RECORD_LOST and of PERF_RECORD_LOST_SAMPLES */
	uint64_t *lost_rec, *lost_samples;
	int nr_lost;
};

/* ---- checked reading ------------------------------------------------------- */

static int bad(struct pd *p, const char *what)
{
	return error("cannot import '%s': %s", p->name, what);
}

static int pread_all(struct pd *p, void *out, size_t n, uint64_t off)
{
	size_t done = 0;

	if (off > p->file_size || n > p->file_size - off)
		return bad(p, "truncated perf.data (a section runs past the end of the file)");
	while (done < n) {
		ssize_t r = pread(p->fd, (char *)out + done, n - done, (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return error_errno("cannot import '%s': read error", p->name);
		if (!r)
			return bad(p, "truncated perf.data (the file ended while reading it)");
		done += (size_t)r;
	}
	return 0;
}

/* section - a malloc'd copy of [off, off + size), checked against the file */
static void *section(struct pd *p, uint64_t off, uint64_t size, uint64_t limit)
{
	void *b;

	if (size > limit || off > p->file_size || size > p->file_size - off) {
		bad(p, "a header section lies outside the file (truncated or corrupt)");
		return NULL;
	}
	b = xmalloc(size ? size : 1);
	if (pread_all(p, b, size, off)) {
		free(b);
		return NULL;
	}
	return b;
}

/*
 * stream_need - make n bytes at the stream position available in p->buf.
 * 1 with them there, 0 at the end of the data (nothing left), -1 on error
 * (a record cut short).
 */
static int stream_need(struct pd *p, size_t n)
{
	uint64_t at = p->buf_off + p->pos, want;

	if (p->pos + n <= p->buf_len)
		return 1;
	if (at >= p->data_end)
		return 0;
	if (n > p->data_end - at)
		return bad(p, "truncated perf.data (the last record is cut short)");
	/* keep the unread tail, read the next chunk behind it */
	if (p->buf_len > p->pos)
		memmove(p->buf, p->buf + p->pos, p->buf_len - p->pos);
	p->buf_len -= p->pos;
	p->buf_off += p->pos;
	p->pos = 0;
	want = SC_MAX((uint64_t)n, (uint64_t)READ_CHUNK);
	want = SC_MIN(want, p->data_end - p->buf_off);
	if (want > p->buf_alloc) {
		p->buf = xrealloc(p->buf, want);
		p->buf_alloc = want;
	}
	if (want > p->buf_len) {
		if (pread_all(p, p->buf + p->buf_len, want - p->buf_len, p->buf_off + p->buf_len))
			return -1;
		p->buf_len = want;
	}
	return 1;
}

static inline uint64_t get64(const unsigned char *b)
{
	uint64_t v;

	memcpy(&v, b, 8);
	return v;
}

static inline uint32_t get32(const unsigned char *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return v;
}

static inline uint16_t get16(const unsigned char *b)
{
	uint16_t v;

	memcpy(&v, b, 2);
	return v;
}

/* ---- tracing data: the event formats ------------------------------------- */

struct cur {
	const unsigned char *b;
	size_t len, pos;
	int ok;
};

static const unsigned char *cur_take(struct cur *c, size_t n)
{
	const unsigned char *r;

	if (!c->ok || n > c->len - c->pos) {
		c->ok = 0;
		return NULL;
	}
	r = c->b + c->pos;
	c->pos += n;
	return r;
}

static uint64_t cur_u64(struct cur *c)
{
	const unsigned char *b = cur_take(c, 8);

	return b ? get64(b) : 0;
}

static uint32_t cur_u32(struct cur *c)
{
	const unsigned char *b = cur_take(c, 4);

	return b ? get32(b) : 0;
}

/* a NUL-terminated string inside the data */
static const char *cur_str(struct cur *c)
{
	const unsigned char *s = c->b + c->pos, *nul;

	if (!c->ok)
		return NULL;
	nul = memchr(s, 0, c->len - c->pos);
	if (!nul) {
		c->ok = 0;
		return NULL;
	}
	c->pos += (size_t)(nul - s) + 1;
	return (const char *)s;
}

/*
 * parse_tracing_data - the tracing data perf writes (the same layout as the
 * start of a trace-cmd file): magic, version, byte order, long size, page
 * size, header_page, header_event, the ftrace formats, the event formats by
 * system; kallsyms, printk formats and saved cmdlines follow and are not
 * needed for sched events.
 */
static int parse_tracing_data(struct pd *p, const unsigned char *data, size_t len)
{
	static const unsigned char magic[10] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n',
						 'g' };
	struct cur c = { data, len, 0, 1 };
	const unsigned char *b;
	const char *version, *tag;
	uint32_t nr_sys, nr;
	uint64_t size;
	int big, long_size;

	if (p->tep)
		return 0;	/* the first copy wins (pipe files may repeat it) */
	b = cur_take(&c, sizeof(magic));
	if (!b || memcmp(b, magic, sizeof(magic)))
		return bad(p, "the tracing data (event formats) has a bad magic");
	version = cur_str(&c);
	b = cur_take(&c, 2);
	if (!version || !b)
		goto short_data;
	big = b[0];
	long_size = b[1];
	if (big != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__))
		return bad(p, "the tracing data is of the other byte order, which is not supported");
	if (long_size != 4 && long_size != 8)
		return bad(p, "the tracing data has an invalid long size");
	p->tep = tep_alloc();
	if (!p->tep)
		return error("cannot import '%s': out of memory for the event formats", p->name);
	tep_set_file_bigendian(p->tep, big ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(p->tep, big ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
	tep_set_long_size(p->tep, long_size);
	tep_set_page_size(p->tep, (int)cur_u32(&c));

	tag = (const char *)cur_take(&c, 12);
	if (!tag || memcmp(tag, "header_page", 12))
		goto short_data;
	size = cur_u64(&c);
	b = cur_take(&c, size);
	if (!b)
		goto short_data;
	tep_parse_header_page(p->tep, (char *)b, (unsigned long)size, long_size);
	tag = (const char *)cur_take(&c, 13);
	if (!tag || memcmp(tag, "header_event", 13))
		goto short_data;
	size = cur_u64(&c);
	if (!cur_take(&c, size))
		goto short_data;

	nr = cur_u32(&c);
	for (uint32_t i = 0; i < nr && c.ok; i++) {
		size = cur_u64(&c);
		b = cur_take(&c, size);
		if (b)
			tep_parse_event(p->tep, (const char *)b, (unsigned long)size, "ftrace");
	}
	nr_sys = cur_u32(&c);
	for (uint32_t i = 0; i < nr_sys && c.ok; i++) {
		const char *sys = cur_str(&c);

		nr = cur_u32(&c);
		for (uint32_t j = 0; j < nr && c.ok; j++) {
			size = cur_u64(&c);
			b = cur_take(&c, size);
			/* a format libtraceevent cannot parse is left out, as perf does */
			if (b && sys)
				tep_parse_event(p->tep, (const char *)b, (unsigned long)size, sys);
		}
	}
	if (!c.ok)
		goto short_data;
	return 0;
short_data:
	return bad(p, "the tracing data (event formats) is truncated or corrupt");
}

/* ---- header ---------------------------------------------------------------- */

static void add_id(struct pd *p, uint64_t id, int attr)
{
	ALLOC_GROW(p->ids, p->nr_ids + 1, p->alloc_ids);
	p->ids[p->nr_ids].id = id;
	p->ids[p->nr_ids].attr = attr;
	p->nr_ids++;
}

/* add_attr - one perf_event_attr of size bytes (at least ATTR_SIZE_VER0, checked) */
static int add_attr(struct pd *p, const unsigned char *a, size_t size)
{
	struct pd_attr *at;
	uint32_t asz = get32(a + 4);

	if (size < ATTR_SIZE_VER0 || (asz && asz < ATTR_SIZE_VER0))
		return bad(p, "an event attribute is too small");
	if (p->nr_attrs >= 4096)
		return bad(p, "more than 4096 event attributes");
	p->attrs = xreallocarray(p->attrs, (size_t)p->nr_attrs + 1, sizeof(*p->attrs));
	at = &p->attrs[p->nr_attrs++];
	at->type = get32(a);
	at->config = get64(a + 8);
	at->sample_type = get64(a + 24);
	at->read_format = get64(a + 32);
	at->sample_id_all = !!(get64(a + 40) & (1ULL << 18));
	at->ev_type = -1;
	/* use_clockid (flag bit 25) and clockid (offset 92, attr version 1 and later) */
	if ((get64(a + 40) & (1ULL << 25)) && size >= 96 && p->clockid < 0)
		p->clockid = (int32_t)get32(a + 92);
	return 0;
}

static int read_attrs(struct pd *p, uint64_t off, uint64_t size, uint64_t attr_size)
{
	unsigned char *sec;
	uint64_t n;
	int ret = 0;

	if (attr_size < ATTR_SIZE_VER0 + 16 || attr_size > 4096)
		return bad(p, "invalid attribute size in the header");
	if (!size || size % attr_size)
		return bad(p, "the attribute section is empty or not a whole number of entries");
	n = size / attr_size;
	sec = section(p, off, size, 4096 * attr_size);
	if (!sec)
		return -1;
	for (uint64_t i = 0; i < n && !ret; i++) {
		const unsigned char *e = sec + i * attr_size;
		uint64_t ids_off = get64(e + attr_size - 16), ids_size = get64(e + attr_size - 8);
		uint64_t *ids;

		ret = add_attr(p, e, (size_t)(attr_size - 16));
		if (ret || !ids_size)
			continue;
		if (ids_size % 8) {
			ret = bad(p, "an attribute's id section is not a whole number of ids");
			break;
		}
		ids = section(p, ids_off, ids_size, p->file_size);
		if (!ids) {
			ret = -1;
			break;
		}
		for (uint64_t k = 0; k < ids_size / 8; k++)
			add_id(p, ids[k], (int)i);
		free(ids);
	}
	free(sec);
	return ret;
}

static void header_string(const unsigned char *b, size_t len, char *out, size_t size)
{
	struct cur c = { b, len, 0, 1 };
	uint32_t n = cur_u32(&c);
	const unsigned char *s = cur_take(&c, n);
	size_t k = 0;

	if (!s)
		return;
	while (k < n && s[k] && k + 1 < size) {
		out[k] = (char)s[k];
		k++;
	}
	out[k] = '\0';
}

/* one feature section's content (file format) or HEADER_FEATURE record (pipe) */
static int feature(struct pd *p, int feat, const unsigned char *b, size_t len)
{
	struct ds_trace_meta *m = &p->s->meta;

	switch (feat) {
	case FEAT_TRACING_DATA:
		return parse_tracing_data(p, b, len);
	case FEAT_HOSTNAME:
		header_string(b, len, m->hostname, sizeof(m->hostname));
		break;
	case FEAT_OSRELEASE:
		header_string(b, len, m->kernel_release, sizeof(m->kernel_release));
		break;
	case FEAT_NRCPUS:
		if (len >= 8) {
			uint32_t avail = get32(b);

			if (avail > 0 && avail <= 8192)
				p->nr_cpus_avail = avail;
		}
		break;
	case FEAT_CMDLINE: {
		/* u32 nr, then nr strings: the perf command line, kept for the record */
		struct cur c = { b, len, 0, 1 };
		uint32_t nr = cur_u32(&c);
		struct strbuf sb = STRBUF_INIT;

		for (uint32_t i = 0; i < nr && c.ok && i < 4096; i++) {
			uint32_t n = cur_u32(&c);
			const unsigned char *s = cur_take(&c, n);

			if (!s)
				break;
			if (sb.len)
				strbuf_addch(&sb, ' ');
			strbuf_add(&sb, s, strnlen((const char *)s, n));
		}
		/* how the events were recorded, after how they were imported */
		if (sb.len) {
			size_t at = strlen(m->command_line);

			snprintf(m->command_line + at, sizeof(m->command_line) - at, "%s%s",
				 at ? " # recorded by: " : "", sb.buf);
		}
		strbuf_release(&sb);
		break;
	}
	case FEAT_CLOCK_DATA:
		/* u32 version, u32 clockid, u64 wall clock ns, u64 clockid ns */
		if (len >= 8)
			p->clockid = (int32_t)get32(b + 4);
		break;
	default:
		break;
	}
	return 0;
}

static int read_features(struct pd *p, uint64_t off, const unsigned char *bits)
{
	int nr = 0, k = 0, ret = 0;
	unsigned char *secs;

	for (int f = 0; f < FEAT_BITS; f++)
		nr += !!(bits[f / 8] & (1u << (f % 8)));
	if (!nr)
		return 0;
	secs = section(p, off, (uint64_t)nr * 16, (uint64_t)FEAT_BITS * 16);
	if (!secs)
		return -1;
	for (int f = 0; f < FEAT_BITS && !ret; f++) {
		uint64_t foff, fsize;
		unsigned char *b;

		if (!(bits[f / 8] & (1u << (f % 8))))
			continue;
		foff = get64(secs + 16 * k);
		fsize = get64(secs + 16 * k + 8);
		k++;
		/* read or not, a section outside the file means a truncated file */
		if (foff > p->file_size || fsize > p->file_size - foff) {
			ret = bad(p, "truncated perf.data (a feature section runs past the end "
				     "of the file)");
			break;
		}
		if (f != FEAT_TRACING_DATA && f != FEAT_HOSTNAME && f != FEAT_OSRELEASE &&
		    f != FEAT_NRCPUS && f != FEAT_CMDLINE && f != FEAT_CLOCK_DATA)
			continue;
		b = section(p, foff, fsize, f == FEAT_TRACING_DATA ? MAX_TRACING_DATA : 1 << 20);
		if (!b) {
			ret = -1;
			break;
		}
		ret = feature(p, f, b, (size_t)fsize);
		free(b);
	}
	free(secs);
	return ret;
}

/* ---- events ---------------------------------------------------------------- */

static int find_attr(const struct pd *p, uint64_t id)
{
	/* a handful of attributes and a few ids per CPU: a scan is enough */
	for (size_t i = 0; i < p->nr_ids; i++)
		if (p->ids[i].id == id)
			return p->ids[i].attr;
	return -1;
}

/* setup_events - once the formats are known: which attribute is which sched event */
static int setup_events(struct pd *p)
{
	uint32_t recorded = 0;

	if (!p->tep)
		return bad(p, "no tracing data (event formats): not a perf.data of tracepoints");
	if (!p->nr_attrs)
		return bad(p, "no event attributes");
	p->dec = col_decoder_new(p->tep);
	if (!p->dec)
		return error("cannot import '%s': no scheduler events in the perf.data", p->name);
	for (int i = 0; i < p->nr_attrs; i++) {
		struct pd_attr *a = &p->attrs[i];

		if (a->type != PERF_TYPE_TRACEPOINT)
			continue;
		for (int t = 0; t < DS_EV_LOST; t++)
			if (col_decoder_event_id(p->dec, t) >= 0 &&
			    (uint64_t)col_decoder_event_id(p->dec, t) == a->config) {
				a->ev_type = t;
				recorded |= DS_EV_BIT(t);
			}
	}
	p->s->meta.events_recorded = recorded;
	return 0;
}

static int cmp_held(const void *a, const void *b)
{
	const struct pd_held *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int write_held(struct pd *p, const struct pd_held *h)
{
	if (h->tgid >= 0 && h->ev.type != DS_EV_LOST && h->ev.common_pid > 0)
		ds_trace_set_tgid(p->s->w, h->ev.common_pid, h->tgid);
	if (h->ts > p->flushed_ts)
		p->flushed_ts = h->ts;
	return col_sink_write(p->s, &h->ev);
}

/*
 * flush_upto - write the held events with ts <= limit in (time, file) order,
 * merging the CPUs' queues (a scan of the queue heads per event: CPUs are
 * few next to events); keep the rest.
 */
static int flush_upto(struct pd *p, uint64_t limit)
{
	for (int c = 0; c < p->nr_q; c++) {
		struct pd_queue *q = &p->q[c];

		if (q->unsorted) {
			qsort(q->v + q->head, q->nr - q->head, sizeof(*q->v), cmp_held);
			q->unsorted = 0;
		}
	}
	for (;;) {
		struct pd_held *best = NULL;
		int bc = -1;

		for (int c = 0; c < p->nr_q; c++) {
			struct pd_queue *q = &p->q[c];
			struct pd_held *h;

			if (q->head == q->nr)
				continue;
			h = &q->v[q->head];
			if (h->ts > limit)
				continue;
			if (!best || h->ts < best->ts || (h->ts == best->ts && h->seq < best->seq)) {
				best = h;
				bc = c;
			}
		}
		if (!best)
			break;
		if (write_held(p, best))
			return -1;
		p->q[bc].head++;
	}
	for (int c = 0; c < p->nr_q; c++) {
		struct pd_queue *q = &p->q[c];

		if (q->head == q->nr) {
			q->head = q->nr = 0;
		} else if (q->head > q->nr / 2) {
			memmove(q->v, q->v + q->head, (q->nr - q->head) * sizeof(*q->v));
			q->nr -= q->head;
			q->head = 0;
		}
	}
	return 0;
}

/* hold - queue ev (its cpu checked below 8192 by the caller) until its round ends */
static void hold(struct pd *p, const struct ds_event *ev, int32_t tgid)
{
	struct pd_queue *q;
	struct pd_held *h;

	if (ev->cpu >= p->nr_q) {
		p->q = xreallocarray(p->q, (size_t)ev->cpu + 1, sizeof(*p->q));
		memset(p->q + p->nr_q, 0, (size_t)(ev->cpu + 1 - p->nr_q) * sizeof(*p->q));
		p->nr_q = ev->cpu + 1;
	}
	q = &p->q[ev->cpu];
	ALLOC_GROW(q->v, q->nr + 1, q->alloc);
	if (q->nr > q->head && ev->ts < q->v[q->nr - 1].ts)
		q->unsorted = 1;
	h = &q->v[q->nr++];
	h->ts = ev->ts;
	h->seq = p->seq++;
	h->ev = *ev;
	h->tgid = tgid;
	if (ev->ts > p->round_max)
		p->round_max = ev->ts;
	if (ev->cpu > p->max_cpu)
		p->max_cpu = ev->cpu;
}

static int finished_round(struct pd *p)
{
	int ret = flush_upto(p, p->prev_round_max);

	p->prev_round_max = p->round_max;
	return ret;
}

/*
 * The sample_id trailer of a non-sample record (sample_id_all): TID, TIME,
 * ID, STREAM_ID, CPU, IDENTIFIER, those present, at the record's end.
 */
struct sid {
	int32_t pid, tid;
	uint64_t time;
	int cpu;
	int have_time, have_cpu;
};

static int parse_sample_id(struct pd *p, const unsigned char *rec, size_t size, struct sid *o)
{
	const struct pd_attr *a = &p->attrs[0];
	uint64_t st = a->sample_type;
	size_t n = 0, at;

	memset(o, 0, sizeof(*o));
	o->pid = o->tid = -1;
	if (!a->sample_id_all)
		return 0;
	n = !!(st & PERF_SAMPLE_TID) + !!(st & PERF_SAMPLE_TIME) + !!(st & PERF_SAMPLE_ID) +
	    !!(st & PERF_SAMPLE_STREAM_ID) + !!(st & PERF_SAMPLE_CPU) +
	    !!(st & PERF_SAMPLE_IDENTIFIER);
	if (8 + n * 8 > size)
		return bad(p, "a record is too short for its sample_id");
	at = size - n * 8;
	if (st & PERF_SAMPLE_TID) {
		o->pid = (int32_t)get32(rec + at);
		o->tid = (int32_t)get32(rec + at + 4);
		at += 8;
	}
	if (st & PERF_SAMPLE_TIME) {
		o->time = get64(rec + at);
		o->have_time = 1;
		at += 8;
	}
	if (st & PERF_SAMPLE_ID)
		at += 8;
	if (st & PERF_SAMPLE_STREAM_ID)
		at += 8;
	if (st & PERF_SAMPLE_CPU) {
		o->cpu = (int)get32(rec + at);
		o->have_cpu = 1;
	}
	return 0;
}

/* read_size - bytes of the PERF_SAMPLE_READ part at b (checked by the caller) */
static int read_size(const struct pd_attr *a, const unsigned char *b, size_t left, size_t *out)
{
	uint64_t rf = a->read_format;
	size_t per = 8 + ((rf & PERF_FORMAT_ID) ? 8 : 0) + ((rf & (1ULL << 4)) ? 8 : 0);
	size_t head = ((rf & PERF_FORMAT_TOTAL_TIME_ENABLED) ? 8 : 0) +
		      ((rf & PERF_FORMAT_TOTAL_TIME_RUNNING) ? 8 : 0);
	uint64_t nr;

	if (!(rf & PERF_FORMAT_GROUP)) {
		*out = head + per;
		return 0;
	}
	if (left < 8)
		return -1;
	nr = get64(b);
	if (nr > 65536)
		return -1;
	*out = 8 + head + (size_t)nr * per;
	return 0;
}

static int sample(struct pd *p, const unsigned char *rec, size_t size)
{
	const struct pd_attr *a = &p->attrs[0];
	size_t at = 8;
	uint64_t st = a->sample_type, ts = 0;
	int32_t pid = -1;
	uint32_t cpu = 0, raw_size = 0;
	const unsigned char *raw = NULL;
	struct tep_record tr;
	struct ds_event ev;
	int r;

#define NEED(n) do { if ((n) > size - at) return bad(p, "a sample is cut short"); } while (0)
	if (p->nr_attrs > 1) {
		/* which attribute: by the id, at the start (IDENTIFIER) or after IP/TID/TIME/ADDR */
		uint64_t id;
		size_t id_at = 8;
		int k;

		if (!(st & PERF_SAMPLE_IDENTIFIER)) {
			if (!(st & PERF_SAMPLE_ID))
				return bad(p, "several events but samples carry no id");
			id_at += 8 * (!!(st & PERF_SAMPLE_IP) + !!(st & PERF_SAMPLE_TID) +
				      !!(st & PERF_SAMPLE_TIME) + !!(st & PERF_SAMPLE_ADDR));
		}
		if (id_at + 8 > size)
			return bad(p, "a sample is cut short");
		id = get64(rec + id_at);
		k = find_attr(p, id);
		if (k < 0)
			return bad(p, "a sample's id belongs to no event attribute");
		a = &p->attrs[k];
		if (a->sample_type != st)
			return bad(p, "events with different sample layouts are not supported");
	}
	if (a->ev_type < 0) {
		p->skipped++;
		return 0;
	}
	if (st & PERF_SAMPLE_IDENTIFIER) {
		NEED(8);
		at += 8;
	}
	if (st & PERF_SAMPLE_IP) {
		NEED(8);
		at += 8;
	}
	if (st & PERF_SAMPLE_TID) {
		NEED(8);
		pid = (int32_t)get32(rec + at);
		at += 8;
	}
	if (st & PERF_SAMPLE_TIME) {
		NEED(8);
		ts = get64(rec + at);
		at += 8;
	}
	if (st & PERF_SAMPLE_ADDR) {
		NEED(8);
		at += 8;
	}
	if (st & PERF_SAMPLE_ID) {
		NEED(8);
		at += 8;
	}
	if (st & PERF_SAMPLE_STREAM_ID) {
		NEED(8);
		at += 8;
	}
	if (st & PERF_SAMPLE_CPU) {
		NEED(8);
		cpu = get32(rec + at);
		at += 8;
	}
	if (st & PERF_SAMPLE_PERIOD) {
		NEED(8);
		at += 8;
	}
	if (st & PERF_SAMPLE_READ) {
		size_t n;

		if (read_size(a, rec + at, size - at, &n))
			return bad(p, "a sample's read values are corrupt");
		NEED(n);
		at += n;
	}
	if (st & PERF_SAMPLE_CALLCHAIN) {
		uint64_t nr;

		NEED(8);
		nr = get64(rec + at);
		at += 8;
		if (nr > (size - at) / 8)
			return bad(p, "a sample's callchain is cut short");
		at += (size_t)nr * 8;
	}
	if (st & PERF_SAMPLE_RAW) {
		NEED(4);
		raw_size = get32(rec + at);
		at += 4;
		NEED(raw_size);
		raw = rec + at;
	}
#undef NEED
	if (!raw)
		return bad(p, "tracepoint samples without raw data (PERF_SAMPLE_RAW)");
	if (cpu >= 8192)
		return bad(p, "a sample names a CPU beyond 8192");
	memset(&tr, 0, sizeof(tr));
	tr.ts = ts;
	tr.cpu = (int)cpu;
	tr.data = (void *)raw;
	tr.size = (int)raw_size;
	r = col_decode(p->dec, &tr, &ev);
	if (r < 0)
		return error("cannot import '%s': a %s sample at %llu is too short for its format",
			     p->name, ds_event_type_name(a->ev_type), (unsigned long long)ts);
	if (!r) {
		p->skipped++;
		return 0;
	}
	hold(p, &ev, pid);
	return 0;
}

static int lost(struct pd *p, const unsigned char *rec, size_t size, uint64_t count,
		int samples)
{
	struct sid sid;
	struct ds_event ev;
	int cpu;

	if (parse_sample_id(p, rec, size, &sid))
		return -1;
	if (sid.have_cpu && (sid.cpu < 0 || sid.cpu >= 8192))
		return bad(p, "a lost record names a CPU beyond 8192");
	cpu = sid.have_cpu ? sid.cpu : 0;
	if (cpu >= p->nr_lost) {
		p->lost_rec = xreallocarray(p->lost_rec, (size_t)cpu + 1, sizeof(*p->lost_rec));
		p->lost_samples = xreallocarray(p->lost_samples, (size_t)cpu + 1,
						sizeof(*p->lost_samples));
		for (int i = p->nr_lost; i <= cpu; i++)
			p->lost_rec[i] = p->lost_samples[i] = 0;
		p->nr_lost = cpu + 1;
	}
	if (samples) {
		/*
		 * perf record ends with one LOST_SAMPLES per event and CPU: the
		 * kernel's count of the same losses its LOST records told as they
		 * happened.  Only what they add beyond those is counted, at the
		 * end and without a place in the stream (see the end of
		 * col_import_perfdata()).
		 */
		p->lost_samples[cpu] += count;
		return 0;
	}
	p->lost_rec[cpu] += count;
	if (cpu > p->max_cpu)
		p->max_cpu = cpu;
	/*
	 * Without a time (no sample_id_all) the marker waits for the next
	 * event on its CPU, as a text's lost line does.
	 */
	ds_event_init(&ev, DS_EV_LOST, sid.have_time ? sid.time : 0, sid.have_cpu ? sid.cpu : 0);
	ev.state = (int64_t)SC_MIN(count, (uint64_t)INT64_MAX);
	if (!ev.ts)
		return col_sink_write(p->s, &ev);
	hold(p, &ev, -1);
	return 0;
}

/* record - one record of the data stream (rec: header included, size bytes) */
static int record(struct pd *p, const unsigned char *rec, size_t size)
{
	uint32_t type = get32(rec);

	switch (type) {
	case PERF_RECORD_SAMPLE:
		return p->dec ? sample(p, rec, size) : bad(p, "a sample before the event formats");
	case PERF_RECORD_LOST:
		if (size < 24)
			return bad(p, "a PERF_RECORD_LOST is too short");
		return lost(p, rec, size, get64(rec + 16), 0);
	case PERF_RECORD_LOST_SAMPLES:
		if (size < 16)
			return bad(p, "a PERF_RECORD_LOST_SAMPLES is too short");
		return lost(p, rec, size, get64(rec + 8), 1);
	case PERF_RECORD_COMM:
	case PERF_RECORD_FORK:
	case PERF_RECORD_EXIT:
	{
		/* pid (thread group) and tid of the thread: the task table's tgid */
		size_t tid_at = type == PERF_RECORD_COMM ? 12 : 16;
		int32_t pid, tid;

		if (size < tid_at + 4)
			return bad(p, "a COMM/FORK/EXIT record is too short");
		pid = (int32_t)get32(rec + 8);
		tid = (int32_t)get32(rec + tid_at);
		if (pid > 0 && tid > 0)
			ds_trace_set_tgid(p->s->w, tid, pid);
		return 0;
	}
	case PD_FINISHED_ROUND:
		return finished_round(p);
	case PD_COMPRESSED:
		return bad(p, "compressed perf.data (perf record -z) is not supported: "
			      "perf inject -i FILE -o OUT writes it uncompressed");
	case PD_HEADER_ATTR:
		if (!p->pipe)
			return 0;
		{
			uint32_t asz;

			if (size < 8 + ATTR_SIZE_VER0)
				return bad(p, "a HEADER_ATTR record is too short");
			asz = get32(rec + 8 + 4);
			if (!asz)
				asz = ATTR_SIZE_VER0;
			if (asz < ATTR_SIZE_VER0 || asz > size - 8 || (size - 8 - asz) % 8)
				return bad(p, "a HEADER_ATTR record has an invalid size");
			if (add_attr(p, rec + 8, asz))
				return -1;
			for (size_t k = 8 + asz; k + 8 <= size; k += 8)
				add_id(p, get64(rec + k), p->nr_attrs - 1);
			return 0;
		}
	case PD_HEADER_FEATURE:
		if (!p->pipe)
			return 0;
		if (size < 16)
			return bad(p, "a HEADER_FEATURE record is too short");
		if (get64(rec + 8) == FEAT_TRACING_DATA)
			return 0;	/* carried by HEADER_TRACING_DATA in pipes */
		return get64(rec + 8) < FEAT_BITS ?
		       feature(p, (int)get64(rec + 8), rec + 16, size - 16) : 0;
	default:
		return 0;
	}
}

static int read_stream(struct pd *p)
{
	struct sc_progress progress;
	uint64_t start = p->buf_off, n = 0;
	int ret = 0, r;

	sc_progress_start(&progress, "import", (p->data_end - start) >> 10);
	while ((r = stream_need(p, 8)) == 1) {
		const unsigned char *h = p->buf + p->pos;
		uint32_t type = get32(h);
		uint16_t size = get16(h + 6);

		if (size < 8) {
			ret = bad(p, "a record header says it is shorter than itself");
			break;
		}
		r = stream_need(p, size);
		if (r <= 0) {
			ret = r ? -1 : bad(p, "truncated perf.data (the last record is cut short)");
			break;
		}
		h = p->buf + p->pos;
		if (type == PD_HEADER_TRACING_DATA && p->pipe) {
			/* the data follows the record, its size in the record, padded to 8 */
			uint32_t tsize;
			uint64_t padded;
			unsigned char *td;

			if (size < 12) {
				ret = bad(p, "a HEADER_TRACING_DATA record is too short");
				break;
			}
			tsize = get32(h + 8);
			padded = ((uint64_t)tsize + 7) & ~7ULL;
			p->pos += size;
			if (tsize > MAX_TRACING_DATA) {
				ret = bad(p, "the tracing data is larger than 256 MiB");
				break;
			}
			r = stream_need(p, (size_t)padded);
			if (r <= 0) {
				ret = r ? -1 : bad(p, "truncated perf.data (in the tracing data)");
				break;
			}
			td = xmalloc(tsize ? tsize : 1);
			memcpy(td, p->buf + p->pos, tsize);
			p->pos += (size_t)padded;
			ret = parse_tracing_data(p, td, tsize);
			free(td);
			if (ret)
				break;
			continue;
		}
		if (!p->dec && p->pipe && (type == PERF_RECORD_SAMPLE || type == PD_FINISHED_ROUND) &&
		    (ret = setup_events(p)))
			break;
		ret = record(p, h, size);
		if (ret)
			break;
		p->pos += size;
		if (!(++n & 0xfff))
			sc_progress_update(&progress, (p->buf_off + p->pos - start) >> 10);
	}
	if (r < 0)
		ret = -1;
	sc_progress_stop(&progress, ret == 0);
	return ret;
}

static void pd_release(struct pd *p)
{
	col_decoder_free(p->dec);
	if (p->tep)
		tep_free(p->tep);
	free(p->attrs);
	free(p->ids);
	for (int c = 0; c < p->nr_q; c++)
		free(p->q[c].v);
	free(p->q);
	free(p->buf);
	free(p->lost_rec);
	free(p->lost_samples);
}

static int open_file(struct pd *p, const unsigned char *head)
{
	uint64_t hsize = get64(head + 8), attr_size = get64(head + 16);
	uint64_t attrs_off = get64(head + 24), attrs_size = get64(head + 32);
	uint64_t data_off = get64(head + 40), data_size = get64(head + 48);

	if (hsize != FILE_HEADER_SIZE)
		return bad(p, "unexpected perf.data header size");
	if (data_off > p->file_size || data_size > p->file_size - data_off)
		return bad(p, "truncated perf.data (the data section runs past the end of the file)");
	if (read_attrs(p, attrs_off, attrs_size, attr_size))
		return -1;
	/* the feature sections' table follows the data */
	if (read_features(p, data_off + data_size, head + 72))
		return -1;
	if (setup_events(p))
		return -1;
	p->buf_off = data_off;
	p->data_end = data_off + data_size;
	return 0;
}

int col_import_perfdata(const char *path, struct col_sink *s, const struct col_import_opts *opts)
{
	struct pd p = { .name = s->name, .s = s, .fd = -1, .max_cpu = -1, .clockid = -1 };
	unsigned char head[FILE_HEADER_SIZE];
	struct stat st;
	int ret = -1;

	(void)opts;
	p.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p.fd < 0)
		return error_errno("cannot import '%s'", s->name);
	if (fstat(p.fd, &st) < 0) {
		error_errno("cannot import '%s'", s->name);
		goto out;
	}
	p.file_size = (uint64_t)st.st_size;
	if (p.file_size < PIPE_HEADER_SIZE) {
		bad(&p, "truncated perf.data (shorter than its header)");
		goto out;
	}
	if (pread_all(&p, head, SC_MIN((uint64_t)sizeof(head), p.file_size), 0))
		goto out;
	if (!memcmp(head, "PERFFILE", 8)) {
		bad(&p, "perf.data version 1 (\"PERFFILE\") is not supported, only \"PERFILE2\"");
		goto out;
	}
	if (get64(head) != PERF_MAGIC2) {
		bad(&p, "perf.data of the other byte order is not supported");
		goto out;
	}
	if (get64(head + 8) == PIPE_HEADER_SIZE) {
		p.pipe = 1;
		p.buf_off = PIPE_HEADER_SIZE;
		p.data_end = p.file_size;
	} else {
		if (p.file_size < FILE_HEADER_SIZE) {
			bad(&p, "truncated perf.data (shorter than its header)");
			goto out;
		}
		if (open_file(&p, head))
			goto out;
	}
	if (read_stream(&p))
		goto out;
	if (p.pipe && !p.dec && setup_events(&p))
		goto out;
	/* the end: everything held is in order now */
	if (flush_upto(&p, UINT64_MAX))
		goto out;
	if (!s->nr_events) {
		error("cannot import '%s': no scheduler events in the perf.data", s->name);
		goto out;
	}
	{
		/*
		 * perf 6.1 writes those LOST_SAMPLES with a zeroed sample_id (CPU
		 * 0): compare the totals, and give what is left over to the CPUs
		 * whose LOST_SAMPLES exceed their LOST records.
		 */
		uint64_t rec = 0, smp = 0, extra;

		for (int cpu = 0; cpu < p.nr_lost; cpu++) {
			rec += p.lost_rec[cpu];
			smp += p.lost_samples[cpu];
		}
		extra = smp > rec ? smp - rec : 0;
		for (int cpu = 0; cpu < p.nr_lost && extra; cpu++) {
			uint64_t n = p.lost_samples[cpu] > p.lost_rec[cpu] ?
				     SC_MIN(extra, p.lost_samples[cpu] - p.lost_rec[cpu]) : 0;

			if (!n)
				continue;
			ds_trace_add_lost(s->w, cpu, n);
			p.max_cpu = SC_MAX(p.max_cpu, cpu);
			extra -= n;
		}
	}
	s->meta.nr_cpus = SC_MAX((int)p.nr_cpus_avail, p.max_cpu + 1);
	switch (p.clockid) {
	case 0: snprintf(s->meta.clock, sizeof(s->meta.clock), "realtime"); break;
	case 1: snprintf(s->meta.clock, sizeof(s->meta.clock), "mono"); break;
	case 4: snprintf(s->meta.clock, sizeof(s->meta.clock), "mono_raw"); break;
	case 7: snprintf(s->meta.clock, sizeof(s->meta.clock), "boot"); break;
	case 11: snprintf(s->meta.clock, sizeof(s->meta.clock), "tai"); break;
	default: snprintf(s->meta.clock, sizeof(s->meta.clock), "perf"); break;
	}
	snprintf(s->meta.source, sizeof(s->meta.source), "perf.data");
	if (s->stats)
		s->stats->skipped_lines = p.skipped;
	ret = 0;
out:
	pd_release(&p);
	close(p.fd);
	return ret;
}
