// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast import: recognise the input by its content, open the sink (a
 * trace writer behind a temporary name) and hand over to the importer of
 * that format.  Standard input is first copied to an unlinked temporary
 * file, because trace.dat and perf.data readers need to seek.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect/import-local.h"
#include "common/common.h"

static const char *const format_names[] = {
	[COL_IMPORT_AUTO] = "auto",
	[COL_IMPORT_TRACE_DAT] = "trace-dat",
	[COL_IMPORT_PERF_DATA] = "perf-data",
	[COL_IMPORT_TEXT] = "text",
};

int col_import_format_parse(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(format_names); i++)
		if (!strcmp(name, format_names[i]))
			return (int)i;
	return -1;
}

/* trace-cmd's magic: 0x17 0x08 'D' "tracing" (trace-cmd.dat(5)) */
static const unsigned char tracedat_magic[10] = {
	0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g',
};

/* files people hand to import by mistake whose first bytes may hold no NUL */
static const struct {
	const char *magic;
	size_t len;
} binary_magic[] = {
	{ "\x89HDF\r\n\x1a\n", 8 },	/* HDF5: a trace.h5 is not an import */
	{ "\x1f\x8b", 2 },		/* gzip */
	{ "\xfd" "7zXZ", 5 },		/* xz */
	{ "\x28\xb5\x2f\xfd", 4 },	/* zstd */
	{ "BZh", 3 },			/* bzip2 */
	{ "\x7f" "ELF", 4 },
};

/*
 * The format of the first bytes of a file: trace.dat and perf.data by their
 * magic, text when the bytes hold no NUL (a comm may hold any other byte,
 * the kernel prints it raw).  -1 for anything else: binary garbage, and
 * HDF5, gzip, xz, zstd, bzip2 and ELF files by their magic.
 */
static int detect_format(const unsigned char *head, size_t len)
{
	if (len >= sizeof(tracedat_magic) && !memcmp(head, tracedat_magic, sizeof(tracedat_magic)))
		return COL_IMPORT_TRACE_DAT;
	/* perf.data: "PERFILE2" (either byte order), or the old "PERFFILE" */
	if (len >= 8 && (!memcmp(head, "PERFILE2", 8) || !memcmp(head, "2ELIFREP", 8) ||
			 !memcmp(head, "PERFFILE", 8)))
		return COL_IMPORT_PERF_DATA;
	if (!len)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(binary_magic); i++)
		if (len >= binary_magic[i].len &&
		    !memcmp(head, binary_magic[i].magic, binary_magic[i].len))
			return -1;
	/*
	 * Text: any byte but NUL.  A comm is any bytes up to 15 (escape
	 * sequences, control bytes, invalid UTF-8) and the kernel prints it
	 * raw, so a control byte does not make a trace binary; a NUL does,
	 * and 4 KiB of binary data without one is the rare exception the
	 * magics above cover.
	 */
	if (memchr(head, '\0', len))
		return -1;
	return COL_IMPORT_TEXT;
}

/* ---- the sink -------------------------------------------------------------- */

static int col_sink_open(struct col_sink *s, const char *name, const char *out,
			 const struct col_import_opts *opts, const char *source)
{
	memset(&s->meta, 0, sizeof(s->meta));
	s->name = name;
	s->pending = NULL;
	s->nr_pending = 0;
	s->nr_events = 0;
	s->meta.nr_cpus = 1;	/* the importer sets the real number before closing */
	snprintf(s->meta.source, sizeof(s->meta.source), "%s", source);
	if (opts->command_line)
		snprintf(s->meta.command_line, sizeof(s->meta.command_line), "%s",
			 opts->command_line);
	s->w = ds_trace_create(out, &s->meta);
	if (!s->w)
		return -1;
	/* parsing here, sorting, packing and deflate on another core */
	ds_trace_set_background(s->w, 0);
	return 0;
}

static int write_lost(struct col_sink *s, int cpu, uint64_t ts, int64_t count)
{
	struct ds_event lost;

	ds_event_init(&lost, DS_EV_LOST, ts, cpu);
	lost.state = count;
	return ds_trace_write(s->w, &lost);
}

int col_sink_write(struct col_sink *s, const struct ds_event *ev)
{
	int cpu = ev->cpu;

	if (ev->type == DS_EV_LOST && !ev->ts) {
		if (cpu >= s->nr_pending) {
			s->pending = xreallocarray(s->pending, (size_t)cpu + 1, sizeof(*s->pending));
			for (int i = s->nr_pending; i <= cpu; i++)
				s->pending[i] = COL_PENDING_NONE;
			s->nr_pending = cpu + 1;
		}
		/* two markers in a row: add what is known */
		if (s->pending[cpu] == COL_PENDING_NONE || s->pending[cpu] < 0)
			s->pending[cpu] = ev->state;
		else if (ev->state > 0)
			s->pending[cpu] += ev->state;
		return 0;
	}
	if (cpu < s->nr_pending && s->pending[cpu] != COL_PENDING_NONE) {
		if (write_lost(s, cpu, ev->ts, s->pending[cpu]))
			return -1;
		s->pending[cpu] = COL_PENDING_NONE;
	}
	s->nr_events++;
	return ds_trace_write(s->w, ev);
}

/* col_sink_abort - remove the half-written output.  Frees. */
static void col_sink_abort(struct col_sink *s)
{
	if (s->w)
		ds_trace_writer_abort(s->w);
	s->w = NULL;
	free(s->pending);
	s->pending = NULL;
}

/* col_sink_close - flush pending markers, write metadata, commit.  Frees. */
static int col_sink_close(struct col_sink *s)
{
	struct ds_trace_meta final;
	int ret;

	/* a marker with no event after it on its CPU: counted, without a place */
	for (int cpu = 0; cpu < s->nr_pending; cpu++)
		if (s->pending[cpu] > 0)
			ds_trace_add_lost(s->w, cpu, (uint64_t)s->pending[cpu]);
	free(s->pending);
	s->pending = NULL;
	if (s->meta.nr_cpus <= 0)
		s->meta.nr_cpus = 1;
	ds_trace_meta_update(s->w, &s->meta);
	ret = ds_trace_writer_close(s->w, &final);
	s->w = NULL;
	if (!ret && s->stats)
		s->stats->meta = final;
	return ret;
}

/* ---- input ----------------------------------------------------------------- */

/*
 * Copy standard input to an unlinked temporary file and return its fd
 * (seekable, readable by name through /proc/self/fd).  -1 on error.
 */
static int spool_stdin(void)
{
	const char *dir = getenv("TMPDIR");
	char *tmpl = xstrfmt("%s/schedcast-import.XXXXXX", dir && *dir ? dir : "/tmp");
	char buf[65536];
	ssize_t n;
	int fd = mkstemp(tmpl);

	if (fd < 0) {
		error_errno("cannot create a temporary file for standard input in '%s'", tmpl);
		free(tmpl);
		return -1;
	}
	unlink(tmpl);
	free(tmpl);
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			error_errno("cannot import '-': read error on standard input");
			close(fd);
			return -1;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));

			if (w < 0) {
				error_errno("cannot spool standard input to a temporary file");
				close(fd);
				return -1;
			}
			off += w;
		}
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		error_errno("cannot rewind the copy of standard input");
		close(fd);
		return -1;
	}
	return fd;
}

static const char *format_source(int format)
{
	switch (format) {
	case COL_IMPORT_TRACE_DAT: return "trace.dat";
	case COL_IMPORT_PERF_DATA: return "perf.data";
	default: return "ftrace-text";
	}
}

int col_import(const char *path, const char *out, const struct col_import_opts *opts,
	       struct col_import_stats *stats)
{
	struct col_import_stats dummy;
	struct col_sink sink = { 0 };
	const char *name = path;	/* "-" names standard input in messages */
	unsigned char head[4096];
	char *readable = NULL;
	struct stat st;
	ssize_t len;
	int fd, format, ret = -1;
	FILE *fp = NULL;

	if (!stats)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	if (!strcmp(path, "-")) {
		fd = spool_stdin();
		if (fd < 0)
			return -1;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return error_errno("cannot import '%s'", path);
	}
	if (fstat(fd, &st) < 0) {
		error_errno("cannot import '%s'", name);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		error("cannot import '%s': is a directory", name);
		goto out;
	}
	do {
		len = pread(fd, head, sizeof(head), 0);
	} while (len < 0 && errno == EINTR);
	if (len < 0) {
		error_errno("cannot import '%s': read error", name);
		goto out;
	}
	if (!len) {
		error("cannot import '%s': the file is empty", name);
		goto out;
	}
	format = detect_format(head, (size_t)len);
	if (opts->format != COL_IMPORT_AUTO && format != (int)opts->format) {
		error("cannot import '%s': not a %s file", name,
		      opts->format == COL_IMPORT_TEXT ? "text trace" :
		      opts->format == COL_IMPORT_TRACE_DAT ? "trace-cmd trace.dat" : "perf.data");
		goto out;
	}
	if (format < 0) {
		error("cannot import '%s': not a trace.dat, perf.data or text trace "
		      "(binary data of an unknown kind)", name);
		goto out;
	}
	stats->format = format;
	/* the readers that want a name get one that also works for stdin */
	readable = xstrfmt("/proc/%d/fd/%d", (int)getpid(), fd);
	sink.stats = stats;
	if (col_sink_open(&sink, name, out, opts, format_source(format)))
		goto out;

	switch (format) {
	case COL_IMPORT_TRACE_DAT:
		ret = col_import_tracedat(strcmp(path, "-") ? path : readable, &sink, opts);
		break;
	case COL_IMPORT_PERF_DATA:
		/* natively; through `perf script` when a perf is named (a cross-check) */
		if (opts->perf)
			ret = col_import_perf(strcmp(path, "-") ? path : readable, &sink, opts);
		else
			ret = col_import_perfdata(strcmp(path, "-") ? path : readable, &sink, opts);
		break;
	default:
		fp = fdopen(fd, "r");
		if (!fp) {
			ret = error_errno("cannot import '%s'", name);
			break;
		}
		fd = -1;
		ret = col_import_text(fp, &sink);
		break;
	}
	if (ret) {
		col_sink_abort(&sink);
		goto out;
	}
	snprintf(stats->source, sizeof(stats->source), "%s", sink.meta.source);
	ret = col_sink_close(&sink);
out:
	free(readable);
	if (fp)
		fclose(fp);
	if (fd >= 0)
		close(fd);
	return ret;
}
