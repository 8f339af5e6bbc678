/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common/ - the bottom layer: error reporting, checked allocation, a growable
 * string buffer, strict option parsing and atomic output files.
 *
 * Nothing here knows about traces, HDF5 or models; every other module may
 * include this header.
 */
#ifndef SC_COMMON_H
#define SC_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SC_VERSION "0.1.0"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SC_MAX(a, b) ((a) > (b) ? (a) : (b))

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

#define SC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SC_NORETURN __attribute__((noreturn))

/* ---- errors (git's usage.c) ------------------------------------------- */

/*
 * error - print "schedcast: error: <msg>" to stderr and return -1, so that
 * `return error("cannot open '%s'", path);` reads well.  Messages start
 * lowercase, have no final period, name the problem first and quote the
 * subject.
 */
int error(const char *fmt, ...) SC_PRINTF(1, 2);
/* error_errno - as error(), with ": strerror(errno)" appended */
int error_errno(const char *fmt, ...) SC_PRINTF(1, 2);
void warning(const char *fmt, ...) SC_PRINTF(1, 2);
/* die - print "schedcast: <msg>" and exit(1).  Only cmd-*.c and main.c. */
void die(const char *fmt, ...) SC_PRINTF(1, 2) SC_NORETURN;
void die_errno(const char *fmt, ...) SC_PRINTF(1, 2) SC_NORETURN;

/*
 * Silence error()/warning() output (tests of error paths, fuzz/).  Calls
 * nest: each sc_set_quiet(1) is undone by one sc_set_quiet(0).
 */
void sc_set_quiet(int quiet);

/* ---- allocation --------------------------------------------------------- */

/*
 * The x* allocators never return NULL: out of memory is the one place a
 * library function dies.  Sizes are checked for overflow.
 */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xmallocarray(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrfmt(const char *fmt, ...) SC_PRINTF(1, 2);

/*
 * ALLOC_GROW(arr, nr, alloc) - make room for nr elements in arr, growing
 * alloc geometrically (git's ALLOC_GROW).
 */
#define ALLOC_GROW(x, nr, alloc)                                                   \
	do {                                                                       \
		if ((size_t)(nr) > (size_t)(alloc)) {                              \
			size_t __n = ((size_t)(alloc) + 16) * 3 / 2;               \
			if (__n < (size_t)(nr))                                    \
				__n = (nr);                                        \
			(alloc) = __n;                                             \
			(x) = xreallocarray((x), (alloc), sizeof(*(x)));          \
		}                                                                  \
	} while (0)

/* ---- string buffer (git's strbuf) --------------------------------------- */

/*
 * struct strbuf - a growable, always NUL-terminated string.
 * Invariant: buf[len] == '\0'; buf is never NULL once set to STRBUF_INIT.
 * strbuf_release() frees the contents and leaves an empty, reusable buffer.
 */
struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_release(struct strbuf *sb);
/* strbuf_detach - return the string (caller frees with free()), reset sb */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_reset(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) SC_PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/*
 * strbuf_getline - read one line from fp without its newline.
 * Returns 0 on a line, EOF at end of file (sb is then empty).
 */
int strbuf_getline(struct strbuf *sb, FILE *fp);

/* ---- untrusted strings and JSON (common/json.c) ------------------------------ */

/*
 * One rule for every writer (JSON, CSV, text, HTML) of a string that came from
 * a trace or a file: bytes that are not valid UTF-8 become U+FFFD (one per
 * byte); control characters (C0, DEL, C1) are escaped, "\u00XX" in JSON and
 * "\xXX" elsewhere, so no ESC sequence ever reaches a terminal.
 */

/* strbuf_add_safe - append s (at most n bytes, stops at NUL) under the rule above */
void strbuf_add_safe(struct strbuf *sb, const char *s);
void strbuf_add_safe_n(struct strbuf *sb, const char *s, size_t n);
/* strbuf_add_safe_line - "<label><s>\n" with s under the rule above */
void strbuf_add_safe_line(struct strbuf *sb, const char *label, const char *s);
/*
 * sc_safe_str - s under the rule above in buf (cut at a character boundary to
 * fit size), for printf-style tables; returns buf.  SC_SAFE_SIZE(n) holds any
 * string of n bytes.
 */
#define SC_SAFE_SIZE(n) (4 * (n) + 1)
const char *sc_safe_str(char *buf, size_t size, const char *s);
/*
 * sc_safe_pad - as sc_safe_str, cut or padded with spaces to exactly width
 * characters (a table column; "%-15.15s" would cut UTF-8 in the middle)
 */
const char *sc_safe_pad(char *buf, size_t size, const char *s, int width);
/*
 * strbuf_add_csv_cell - one RFC 4180 text cell: the rule above, a leading "'"
 * when the cell starts with = + - @ tab or CR (OWASP CSV injection), quoted
 * when it holds a comma, quote or newline
 */
void strbuf_add_csv_cell(struct strbuf *sb, const char *s);
/* strbuf_add_json_str - append s as a JSON string literal, quotes included */
void strbuf_add_json_str(struct strbuf *sb, const char *s);

/*
 * struct json_writer - compact JSON into a strbuf, commas and nesting kept
 * for the caller.  Every value function takes the member's key, or NULL for
 * an array element or the top-level value:
 *
 *	json_writer_init(&jw, &sb);
 *	json_object_begin(&jw, NULL);
 *	json_u64(&jw, "events", n);
 *	json_array_begin(&jw, "cpus");  json_u64(&jw, NULL, 0);  json_array_end(&jw);
 *	json_object_end(&jw);
 *
 * Non-finite doubles are written as 0.  The struct may be copied to roll
 * back (with the strbuf's length) when a member fails half-way.
 */
#define JSON_MAX_DEPTH 32
struct json_writer {
	struct strbuf *out;
	int depth;
	unsigned char first[JSON_MAX_DEPTH];	/* nothing written yet at that depth */
};

void json_writer_init(struct json_writer *jw, struct strbuf *out);
void json_object_begin(struct json_writer *jw, const char *key);
void json_object_end(struct json_writer *jw);
void json_array_begin(struct json_writer *jw, const char *key);
void json_array_end(struct json_writer *jw);
void json_str(struct json_writer *jw, const char *key, const char *s);
/* json_strn - at most n bytes of s (fixed-size fields such as a 16-byte comm) */
void json_strn(struct json_writer *jw, const char *key, const char *s, size_t n);
void json_u64(struct json_writer *jw, const char *key, uint64_t v);
void json_i64(struct json_writer *jw, const char *key, int64_t v);
void json_double(struct json_writer *jw, const char *key, double v);
void json_bool(struct json_writer *jw, const char *key, int v);
void json_null(struct json_writer *jw, const char *key);
/* json_raw - a complete JSON value made by another json_writer */
void json_raw(struct json_writer *jw, const char *key, const char *value);

/* ---- strict number parsing for options ---------------------------------- */

/*
 * All parsers return 0 on success and -1 on malformed or out-of-range input
 * (the whole string must be consumed; no sign where none is allowed), without
 * printing: the caller knows the option name and says so.
 */
int parse_int(const char *s, int min, int max, int *out);
int parse_u64(const char *s, uint64_t *out);
int parse_double(const char *s, double *out);
/* "10s", "500ms", "250us", "100ns", "2m", "1h", plain number = seconds */
int parse_duration(const char *s, uint64_t *ns);
/* "4096", "64k", "16M", "1G" (powers of 1024, optional trailing B/iB) */
int parse_size(const char *s, uint64_t *bytes);
/*
 * parse_cpulist - "0-3,6" into a bitmap of nr_cpus bits (uint64_t words,
 * caller-allocated, nr_cpus <= 64 * words).  CPUs >= nr_cpus are an error.
 */
int parse_cpulist(const char *s, uint64_t *mask, int nr_cpus);
/* format_duration - "1.234 s", "12.3 ms", ... into buf (>= 32 bytes) */
const char *format_duration(char *buf, size_t size, uint64_t ns);
/* format_size - "1.5 MiB" into buf */
const char *format_size(char *buf, size_t size, uint64_t bytes);

/* ---- atomic output files ------------------------------------------------- */

/*
 * struct sc_outfile - write to "<path>.tmp.<pid>" then rename over path on
 * commit, so that no reader ever sees a half-written file.  A path of "-"
 * writes to stdout directly.  Abort (or an unclean exit, through the atexit
 * cleanup) removes the temporary.
 */
struct sc_outfile {
	char *path;
	char *tmp;
	FILE *fp;
};

int sc_outfile_open(struct sc_outfile *of, const char *path);
/* sc_outfile_commit - flush, fsync-free close, rename; reports write errors */
int sc_outfile_commit(struct sc_outfile *of);
void sc_outfile_abort(struct sc_outfile *of);

/*
 * sc_tmpname - the temporary name used for path ("<dir>/.<base>.tmp.<pid>"),
 * registered so that sc_tmp_cleanup() (run at exit and on fatal signals by
 * main) unlinks it if the command never renamed it.  Caller frees.
 */
char *sc_tmpname(const char *path);
/* sc_tmp_commit - rename tmp over path and forget it; -1 with message on error */
int sc_tmp_commit(const char *tmp, const char *path);
void sc_tmp_forget(const char *tmp);
void sc_tmp_cleanup(void);
/*
 * sc_check_output - what every command calls before any work: refuse an
 * output path whose directory is missing or not writable, that is a
 * directory, or that is the same file (device and inode, so hard and
 * symbolic links and "./x" count) as one of the n inputs (NULL entries and
 * "-" skipped).  "-" (stdout) passes.  -1 with a one-line error naming path.
 */
int sc_check_output(const char *path, const char *const *inputs, int n);
/* sc_check_output_dir - sc_check_output() with no inputs */
int sc_check_output_dir(const char *path);

/* ---- usage ---------------------------------------------------------------- */

/*
 * sc_usage - print a command's help text: it starts with "usage: schedcast
 * <cmd> ..." lines (the man page's SYNOPSIS must match them; a test checks),
 * then options, then EXAMPLES.  To stdout and returning 0 for -h; to stderr
 * and returning 2 for a usage error.
 */
int sc_usage(const char *text, int is_error);
/*
 * sc_command_args - after getopt_long (which stops at "--", consumed, or at
 * the first non-option): *command = the COMMAND of "[-- COMMAND]", argv +
 * optind, or NULL when nothing follows.  An argument not after "--" is -1
 * after a one-line error ("use -- COMMAND to <what>"), for a usage error.
 */
int sc_command_args(int argc, char **argv, int optind, const char *what, char ***command);

/* ---- progress (progress.c) ----------------------------------------------- */

/*
 * struct sc_progress - a progress line on stderr for work that runs over two
 * seconds, only when stderr is a terminal (SCHEDCAST_PROGRESS=1 forces it
 * from the start, =0 turns it off).  No allocation.
 *
 *	sc_progress_start(&p, "import", total);
 *	for (...) { ...; sc_progress_update(&p, ++n); }
 *	sc_progress_stop(&p, ret == 0);
 */
struct sc_progress {
	const char *title;
	uint64_t total;		/* 0: unknown, show a count only */
	uint64_t done;
	uint64_t next_check;	/* done at which to look at the clock again */
	uint64_t start_ns, last_draw_ns;
	int enabled, shown;
};

void sc_progress_start(struct sc_progress *p, const char *title, uint64_t total);
void sc_progress_check(struct sc_progress *p);
/* sc_progress_update - done units so far; cheap enough for every event */
static inline void sc_progress_update(struct sc_progress *p, uint64_t done)
{
	p->done = done;
	if (done >= p->next_check)
		sc_progress_check(p);
}
/* sc_progress_stop - a final "done" line if one was drawn (ok), else clear it */
void sc_progress_stop(struct sc_progress *p, int ok);

/* ---- misc ----------------------------------------------------------------- */

uint64_t sc_now_ns(void);      /* CLOCK_MONOTONIC */
int sc_isatty_stderr(void);
/*
 * sc_cloexec_all - in a forked child before exec: mark every descriptor from
 * 3 up close-on-exec, so that the command never holds our trace rings, tracefs
 * instance files or temporary outputs (HDF5 opens its files without
 * O_CLOEXEC; a child holding one kept the instance busy and the file open)
 */
void sc_cloexec_all(void);
/* sc_cmdline - argv joined with spaces, shell-quoted where needed (caller frees) */
char *sc_cmdline(int argc, char **argv);

/* ---- files shipped with schedcast (common/datafile.c) ----------------------- */

/*
 * sc_find_data - the shipped file data/KIND/NAME (KIND "samples" or
 * "models"): looked for in $SCHEDCAST_<KIND>, then beside the binary in a
 * build tree (<bindir>/data/KIND), then an installation relative to the
 * binary (<bindir>/../share/schedcast/KIND), then the datadir it was built
 * for (make's datadir).  Returns the first readable path (caller frees) or
 * NULL; tried (when not NULL) receives the directories looked in, comma-separated.
 */
char *sc_find_data(const char *kind, const char *name, struct strbuf *tried);
/*
 * sc_model_path - what a -m (or --init) argument names: a file as given,
 * or, for a bare name such as "general" that is no file here, the shipped
 * model NAME.h5 (sc_find_data("models", ...)).  Caller frees; NULL after a
 * one-line error saying where it looked.
 */
char *sc_model_path(const char *arg);

#endif /* SC_COMMON_H */
