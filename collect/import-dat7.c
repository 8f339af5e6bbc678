// SPDX-License-Identifier: GPL-2.0
/*
 * The CPU data of a compressed trace.dat version 7, read here chunk by chunk.
 *
 * libtracecmd 1.3 (trace-cmd 3.1.x, Debian 12's) keeps every chunk it
 * inflates until tracecmd_close(): its free_zpage() looks for the chunk of a
 * released page with a test that is never true (fixed upstream in
 * libtracecmd 1.5), so importing through tracecmd_iterate_events_multi()
 * held the whole inflated trace, about 60 bytes per event.  For these files
 * the records are read here instead: libtracecmd still parses the headers,
 * the options and the event formats (the tep handles the decoder uses); this
 * file walks the option sections for the BUFFER options (each CPU's offset
 * in the file), inflates one chunk per CPU at a time with libtracecmd's own
 * decompressor, cuts it into ring-buffer pages read by libtraceevent's
 * kbuffer, and merges the CPUs of every buffer in time order exactly as
 * tracecmd_iterate_events_multi() does (the lowest time stamp first, ties to
 * the earlier buffer, then the lower CPU index).
 *
 * Layout (trace-cmd.dat.v7(5)): the file header ends with the compression's
 * name and version and the u64 offset of the first options section; a
 * section is a header (u16 id, u16 flags, u32 description, u64 size) and,
 * when flag 1 (compressed) is set, a block (u32 compressed size, u32 size,
 * data).  An options section holds (u16 id, u32 size, data) options; the
 * DONE option's u64 is the offset of the next options section, 0 at the
 * end.  A BUFFER option is (u64 data section offset, name, clock, u32 page
 * size, u32 cpus, cpus x (u32 cpu, u64 offset, u64 size)); at a compressed
 * CPU's offset, a u32 chunk count and the chunks, each (u32 compressed size,
 * u32 size, data).
 *
 * Files whose time stamps libtracecmd corrects (DATE, OFFSET, TIME_SHIFT and
 * TSC2NSEC options), latency traces, and uncompressed files go through
 * libtracecmd as before (it reads uncompressed pages by mmap and releases
 * them).  Every offset and size is checked against the file before use.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <trace-cmd/trace-cmd.h>
#include <traceevent/kbuffer.h>

#include "collect/import-local.h"
#include "common/common.h"

/*
 * Exported by libtracecmd.so.1 (1.3) and declared only in its private
 * header: the compression API the library reads its own chunks with.
 */
struct tracecmd_compress_chunk {
	unsigned int size;
	unsigned int zsize;
	off_t zoffset;
	off_t offset;
};
struct tracecmd_compression;
struct tracecmd_compression *tracecmd_compress_alloc(const char *name, const char *version, int fd,
						     struct tep_handle *tep, void *msg_handle);
void tracecmd_compress_destroy(struct tracecmd_compression *handle);
int tracecmd_uncompress_block(struct tracecmd_compression *handle);
int tracecmd_compress_buffer_read(struct tracecmd_compression *handle, char *dst, int len);
int tracecmd_uncompress_chunk(struct tracecmd_compression *handle,
			      struct tracecmd_compress_chunk *chunk, char *data);
int tracecmd_load_chunks_info(struct tracecmd_compression *handle,
			      struct tracecmd_compress_chunk **chunks_info);

enum {
	OPT_DONE = 0, OPT_DATE = 1, OPT_BUFFER = 3, OPT_OFFSET = 7, OPT_TIME_SHIFT = 12,
	OPT_TSC2NSEC = 14, OPT_BUFFER_TEXT = 22,
};
#define SEC_FL_COMPRESS 1
#define MAX_SECTIONS 64			/* options sections followed */
#define MAX_BLOCK (256u << 20)		/* an inflated options section or chunk */
#define MAX_DAT7_BUFFERS 64

#define RB_COMMIT_MASK ((1u << 27) - 1)
#define RB_MISSED_EVENTS (1ull << 31)
#define RB_MISSED_STORED (1ull << 30)

struct dat7_cpu {
	int cpu;
	uint64_t offset, size;
};

struct dat7_buffer {
	char *name;
	uint32_t page_size;
	uint64_t data_offset;
	int text;			/* BUFFER_TEXT (latency): not read here */
	uint32_t nr_cpus;
	struct dat7_cpu *cpus;
};

struct dat7_file {
	int fd;
	uint64_t size;
	struct tep_handle *tep;
	struct tracecmd_compression *z;
	int long_size;
	uint32_t page_size;
	int fallback;			/* libtracecmd must read it */
	struct dat7_buffer buf[MAX_DAT7_BUFFERS];
	int nr_buf;
};

/* one CPU of one buffer: its chunks, the inflated one, the page being read */
struct dat7_stream {
	struct tracecmd_input *handle;
	struct kbuffer *kbuf;
	struct tracecmd_compress_chunk *chunks;
	int nr_chunks, next_chunk;
	char *data;
	size_t cap;
	unsigned int len, off;		/* inflated bytes, next page's offset */
	uint32_t page_size;
	int paged;			/* a page is loaded in kbuf */
	int cpu;
	int have;			/* rec is the next record */
	struct tep_record rec;
};

static uint64_t num(const struct dat7_file *f, const void *p, int n)
{
	return tep_read_number(f->tep, p, n);
}

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	return pread(fd, buf, n, (off_t)off) == (ssize_t)n ? 0 : -1;
}

/* the C string at *pos of data[0..n), moving *pos past its NUL */
static const char *take_str(const char *data, uint32_t n, uint32_t *pos)
{
	const char *s = data + *pos;
	const char *nul = *pos < n ? memchr(s, '\0', n - *pos) : NULL;

	if (!nul)
		return NULL;
	*pos += (uint32_t)(nul - s) + 1;
	return s;
}

static int take_num(const struct dat7_file *f, const char *data, uint32_t n, uint32_t *pos,
		    int bytes, uint64_t *v)
{
	if (*pos > n || (uint32_t)bytes > n - *pos)
		return -1;
	*v = num(f, data + *pos, bytes);
	*pos += (uint32_t)bytes;
	return 0;
}

/*
 * read_section - the contents of the section at off (id must be want):
 * inflated when compressed.  *flags gets its flags.  Returns a malloc'd
 * buffer of *len bytes, or NULL.
 */
static char *read_section(struct dat7_file *f, uint64_t off, unsigned want, unsigned *flags,
			  uint32_t *len)
{
	unsigned char h[16];
	uint64_t size;
	char *out;

	if (off > f->size || f->size - off < 16 || pread_all(f->fd, h, 16, off))
		return NULL;
	if (num(f, h, 2) != want)
		return NULL;
	*flags = (unsigned)num(f, h + 2, 2);
	size = num(f, h + 8, 8);
	off += 16;
	if (*flags & SEC_FL_COMPRESS) {
		unsigned char b[8];
		uint32_t zsize, usize;

		if (f->size - off < 8 || pread_all(f->fd, b, 8, off))
			return NULL;
		zsize = (uint32_t)num(f, b, 4);
		usize = (uint32_t)num(f, b + 4, 4);
		if (zsize > f->size - off - 8 || usize > MAX_BLOCK || !usize)
			return NULL;
		if (lseek(f->fd, (off_t)off, SEEK_SET) < 0 || tracecmd_uncompress_block(f->z))
			return NULL;
		out = malloc(usize);
		if (!out)
			return NULL;
		if (tracecmd_compress_buffer_read(f->z, out, (int)usize) != (int)usize) {
			free(out);
			return NULL;
		}
		*len = usize;
		return out;
	}
	if (size > f->size - off || size > MAX_BLOCK)
		return NULL;
	out = malloc(size ? size : 1);
	if (!out)
		return NULL;
	if (pread_all(f->fd, out, size, off)) {
		free(out);
		return NULL;
	}
	*len = (uint32_t)size;
	return out;
}

static int parse_buffer(struct dat7_file *f, unsigned id, const char *d, uint32_t n)
{
	struct dat7_buffer *b;
	uint32_t pos = 0;
	uint64_t v, cpus;
	const char *name;

	if (f->nr_buf == MAX_DAT7_BUFFERS)
		return -1;
	b = &f->buf[f->nr_buf];
	memset(b, 0, sizeof(*b));
	if (take_num(f, d, n, &pos, 8, &b->data_offset) || !(name = take_str(d, n, &pos)) ||
	    !take_str(d, n, &pos))	/* the clock: libtracecmd gives it */
		return -1;
	b->name = xstrdup(name);
	f->nr_buf++;
	if (id == OPT_BUFFER_TEXT) {
		b->text = 1;
		return 0;
	}
	if (take_num(f, d, n, &pos, 4, &v) || take_num(f, d, n, &pos, 4, &cpus) ||
	    cpus > (n - pos) / 20)
		return -1;
	b->page_size = (uint32_t)v;
	b->nr_cpus = (uint32_t)cpus;
	b->cpus = xcalloc(cpus ? cpus : 1, sizeof(*b->cpus));
	for (uint32_t i = 0; i < b->nr_cpus; i++) {
		uint64_t cpu;

		if (take_num(f, d, n, &pos, 4, &cpu) ||
		    take_num(f, d, n, &pos, 8, &b->cpus[i].offset) ||
		    take_num(f, d, n, &pos, 8, &b->cpus[i].size))
			return -1;
		b->cpus[i].cpu = (int)cpu;
		if (b->cpus[i].offset > f->size || b->cpus[i].size > f->size - b->cpus[i].offset)
			return -1;
	}
	return 0;
}

/* every options section from off on: the BUFFER options, and what forces libtracecmd */
static int parse_options(struct dat7_file *f, uint64_t off)
{
	for (int nsec = 0; off; nsec++) {
		uint32_t len, pos = 0;
		unsigned flags;
		char *d;
		int done = 0;

		if (nsec == MAX_SECTIONS)
			return -1;
		d = read_section(f, off, OPT_DONE, &flags, &len);
		if (!d)
			return -1;
		off = 0;
		while (!done) {
			uint64_t id, size;

			if (take_num(f, d, len, &pos, 2, &id) || take_num(f, d, len, &pos, 4, &size) ||
			    size > len - pos)
				goto bad;
			switch (id) {
			case OPT_DONE:
				if (size < 8)
					goto bad;
				off = num(f, d + pos, 8);
				done = 1;
				break;
			case OPT_BUFFER:
			case OPT_BUFFER_TEXT:
				if (parse_buffer(f, (unsigned)id, d + pos, (uint32_t)size))
					goto bad;
				break;
			case OPT_DATE:
			case OPT_OFFSET:
			case OPT_TIME_SHIFT:
			case OPT_TSC2NSEC:
				f->fallback = 1;
				break;
			default:
				break;
			}
			pos += (uint32_t)size;
		}
		free(d);
		continue;
bad:
		free(d);
		return -1;
	}
	return 0;
}

/*
 * dat7_open - 1: a compressed version 7 file this reader takes; 0: not (or
 * libtracecmd must read it); -1: corrupt.
 */
static int dat7_open(struct dat7_file *f, const char *path, struct tep_handle *tep)
{
	unsigned char h[64];
	char zname[32], zver[32];
	struct stat st;
	size_t pos = 10, n;
	uint64_t options;

	memset(f, 0, sizeof(*f));
	f->tep = tep;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0 || fstat(f->fd, &st) < 0)
		return 0;	/* libtracecmd opened it: let it say */
	f->size = (uint64_t)st.st_size;
	n = f->size < sizeof(h) ? (size_t)f->size : sizeof(h);
	if (pread_all(f->fd, h, n, 0) || n < 16 || memcmp(h + 10, "7", 2))
		return 0;
	pos = 12;
	f->long_size = h[pos + 1];
	pos += 2;
	f->page_size = (uint32_t)num(f, h + pos, 4);
	pos += 4;
	/* "zstd\0" "1.5.4\0": the compression's name and version */
	for (int k = 0; k < 2; k++) {
		char *dst = k ? zver : zname;
		const unsigned char *nul = memchr(h + pos, '\0', n - pos);

		if (!nul || (size_t)(nul - (h + pos)) >= sizeof(zname))
			return 0;
		memcpy(dst, h + pos, (size_t)(nul - (h + pos)) + 1);
		pos = (size_t)(nul - h) + 1;
	}
	if (!strcmp(zname, "none") || n - pos < 8 || (f->long_size != 4 && f->long_size != 8))
		return 0;
	options = num(f, h + pos, 8);
	f->z = tracecmd_compress_alloc(zname, zver, f->fd, tep, NULL);
	if (!f->z)
		return 0;
	if (parse_options(f, options))
		return -1;
	return f->fallback ? 0 : 1;
}

static void dat7_close(struct dat7_file *f)
{
	for (int i = 0; i < f->nr_buf; i++) {
		free(f->buf[i].name);
		free(f->buf[i].cpus);
	}
	tracecmd_compress_destroy(f->z);
	if (f->fd >= 0)
		close(f->fd);
}

/* a page's data length (with the stored lost-events count) must fit the page */
static int page_ok(const struct dat7_file *f, const char *page, uint32_t page_size)
{
	uint64_t hdr = 8 + (uint64_t)f->long_size;
	uint64_t commit = num(f, page + 8, f->long_size), len = commit & RB_COMMIT_MASK;

	if ((commit & RB_MISSED_EVENTS) && (commit & RB_MISSED_STORED))
		len += (uint64_t)f->long_size;
	return len <= page_size - hdr;
}

/* next record of s into s->rec: 1, 0 at its end, -1 corrupt */
static int stream_next(struct dat7_file *f, struct dat7_stream *s)
{
	for (;;) {
		unsigned long long ts;
		void *data;

		if (s->paged) {
			data = kbuffer_read_event(s->kbuf, &ts);
			if (data) {
				int size = kbuffer_event_size(s->kbuf);
				const char *end = s->data + s->off;	/* of the page */

				/* kbuffer trusts each event's length: it must end in the page */
				if (size < 0 || (const char *)data > end || size > end - (const char *)data)
					return -1;
				memset(&s->rec, 0, sizeof(s->rec));
				s->rec.ts = ts;
				s->rec.cpu = s->cpu;
				s->rec.data = data;
				s->rec.size = size;
				s->rec.missed_events = kbuffer_missed_events(s->kbuf);
				s->rec.ref_count = 1;
				kbuffer_next_event(s->kbuf, NULL);
				return 1;
			}
			s->paged = 0;
		}
		if (s->off < s->len) {
			char *page = s->data + s->off;

			if (s->len - s->off < s->page_size || !page_ok(f, page, s->page_size) ||
			    kbuffer_load_subbuffer(s->kbuf, page) < 0)
				return -1;
			s->off += s->page_size;
			s->paged = 1;
			continue;
		}
		if (s->next_chunk == s->nr_chunks)
			return 0;
		{
			struct tracecmd_compress_chunk *c = &s->chunks[s->next_chunk++];

			if (!c->size || c->size > MAX_BLOCK || c->size % s->page_size ||
			    (uint64_t)c->zoffset > f->size || f->size - (uint64_t)c->zoffset < 8 ||
			    c->zsize > f->size - (uint64_t)c->zoffset - 8)
				return -1;
			if (c->size > s->cap) {
				free(s->data);
				s->data = xmalloc(c->size);
				s->cap = c->size;
			}
			if (tracecmd_uncompress_chunk(f->z, c, s->data))
				return -1;
			s->len = c->size;
			s->off = 0;
		}
	}
}

static int stream_setup(struct dat7_file *f, struct dat7_stream *s, const struct dat7_buffer *b,
			const struct dat7_cpu *c)
{
	int n;

	s->cpu = c->cpu;
	s->page_size = b->page_size ? b->page_size : f->page_size;
	if (s->page_size < 64 || s->page_size > (1u << 20))
		return -1;
	s->kbuf = kbuffer_alloc(f->long_size == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4,
				tep_is_file_bigendian(f->tep) ? KBUFFER_ENDIAN_BIG :
				KBUFFER_ENDIAN_LITTLE);
	if (!s->kbuf)
		return -1;
	if (tep_is_old_format(f->tep))
		kbuffer_set_old_format(s->kbuf);
	if (!c->size)
		return 0;
	if (lseek(f->fd, (off_t)c->offset, SEEK_SET) < 0)
		return -1;
	n = tracecmd_load_chunks_info(f->z, &s->chunks);
	if (n < 0)
		return -1;
	s->nr_chunks = n;
	return 0;
}

int col_dat7_iterate(const char *path, struct tracecmd_input **handles, const char **names,
		     int nr, col_dat7_cb cb, void *data, const char *name)
{
	struct dat7_stream *s = NULL;
	struct dat7_file f;
	int ns = 0, ret, r;

	ret = dat7_open(&f, path, tracecmd_get_tep(handles[0]));
	if (ret <= 0) {
		dat7_close(&f);
		if (ret < 0)
			return error("cannot import '%s': corrupt options sections in the trace.dat",
				     name);
		return 1;
	}
	/* every buffer asked for must be a compressed flyrecord buffer of the file */
	for (int i = 0; i < nr; i++) {
		const struct dat7_buffer *b = NULL;
		unsigned char h[4];

		for (int k = 0; k < f.nr_buf && !b; k++)
			if (!strcmp(f.buf[k].name, names[i]))
				b = &f.buf[k];
		if (!b || b->text || b->data_offset > f.size || f.size - b->data_offset < 4 ||
		    pread_all(f.fd, h, 4, b->data_offset) || !(num(&f, h + 2, 2) & SEC_FL_COMPRESS)) {
			dat7_close(&f);
			return 1;
		}
		s = xreallocarray(s, (size_t)ns + b->nr_cpus, sizeof(*s));
		memset(s + ns, 0, b->nr_cpus * sizeof(*s));
		for (uint32_t k = 0; k < b->nr_cpus; k++) {
			s[ns].handle = handles[i];
			if (stream_setup(&f, &s[ns++], b, &b->cpus[k])) {
				ret = error("cannot import '%s': corrupt CPU data (buffer '%s', CPU %d)",
					    name, *b->name ? b->name : "top", b->cpus[k].cpu);
				goto out;
			}
		}
	}
	for (int i = 0; i < ns; i++) {
		r = stream_next(&f, &s[i]);
		if (r < 0)
			goto corrupt;
		s[i].have = r;
	}
	ret = 0;
	for (;;) {
		int next = -1;

		for (int i = 0; i < ns; i++)
			if (s[i].have && (next < 0 || s[i].rec.ts < s[next].rec.ts))
				next = i;
		if (next < 0)
			break;
		if (cb(s[next].handle, &s[next].rec, s[next].cpu, data))
			break;		/* the callback said why */
		r = stream_next(&f, &s[next]);
		if (r < 0)
			goto corrupt;
		s[next].have = r;
	}
	goto out;
corrupt:
	ret = error("cannot import '%s': corrupt or truncated CPU data in the trace.dat", name);
out:
	for (int i = 0; i < ns; i++) {
		if (s[i].kbuf)
			kbuffer_free(s[i].kbuf);
		free(s[i].chunks);
		free(s[i].data);
	}
	free(s);
	dat7_close(&f);
	return ret;
}
