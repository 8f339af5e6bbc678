// SPDX-License-Identifier: GPL-2.0
/*
 * Text traces: ftrace's trace/trace_pipe, `trace-cmd report` (plugin form
 * or -N) and `perf script`.  All three print an event as
 *
 *   <task> [<cpu>] [<flags>] <timestamp>: <event>: <fields>
 *
 * where task is "comm-pid" (ftrace, trace-cmd; perhaps with a "(tgid)"
 * column and a "buffer: " prefix) or "comm tid" (perf), and the fields are
 * the event's print fmt ("prev_comm=... prev_pid=..."), except for
 * trace-cmd's sched plugin, which prints sched_switch and sched_wakeup*
 * its own way.  `trace-cmd report -l` drops the brackets and glues the CPU
 * to the flags ("comm-pid  1dN.2.  ts: event: fields").  Comms may hold spaces, '-', ':' and brackets, so every
 * field is found from known anchors, never by splitting on spaces.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collect/import-local.h"
#include "common/common.h"

void col_text_parser_init(struct col_text_parser *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->max_cpu = -1;
	p->tgid = -1;
}

/* ---- small strict parsers ---------------------------------------------- */

static int parse_i64(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;
	size_t i = 0;
	int neg = 0;

	if (len && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == len || len - i > 18)
		return -1;
	for (; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

static int parse_i32(const char *s, size_t len, int32_t *out)
{
	int64_t v;

	if (parse_i64(s, len, &v) || v < INT32_MIN || v > INT32_MAX)
		return -1;
	*out = (int32_t)v;
	return 0;
}

static int set_comm(char *dst, const char *s, size_t len)
{
	if (len >= DS_COMM_LEN)
		return -1;
	memcpy(dst, s, len);
	memset(dst + len, 0, DS_COMM_LEN - len);
	return 0;
}

/* The kernel's letters (>= 4.14, TASK_REPORT) */
static int64_t state_bit(char c)
{
	switch (c) {
	case 'S': return DS_STATE_INTERRUPTIBLE;
	case 'D': return DS_STATE_UNINTERRUPTIBLE;
	case 'T': return DS_STATE_STOPPED;
	case 't': return DS_STATE_TRACED;
	case 'X': return DS_STATE_DEAD;
	case 'Z': return DS_STATE_ZOMBIE;
	case 'P': return DS_STATE_PARKED;
	case 'I': return DS_STATE_IDLE;
	default: return -1;
	}
}

/*
 * trace-cmd's sched_switch plugin (libtraceevent plugin_sched_switch.c)
 * prints bit i of prev_state as "SDTtZXxW"[i]: a pre-4.14 table, so X and Z
 * are swapped, P shows as x, I as W, and the preempted bit is not shown.
 */
static int64_t plugin_state_bit(char c)
{
	static const char letters[] = "SDTtZXxW";
	const char *p = c ? strchr(letters, c) : NULL;

	return p ? (int64_t)1 << (p - letters) : -1;
}

static int parse_state_with(const char *s, size_t len, int64_t *state, int64_t (*bit)(char))
{
	int64_t v = 0;
	size_t i = 0;

	if (len && s[len - 1] == '+' && bit == state_bit) {
		v |= DS_STATE_PREEMPTED;
		len--;
	}
	if (len == 1 && s[0] == 'R') {
		*state = v;
		return 0;
	}
	if (!len)
		return -1;
	for (i = 0; i < len; i++) {
		int64_t b;

		if (i % 2 == 1) {
			if (s[i] != '|')
				return -1;
			continue;
		}
		b = bit(s[i]);
		if (b < 0)
			return -1;
		v |= b;
	}
	if (len % 2 == 0)	/* ends with '|' */
		return -1;
	*state = v;
	return 0;
}

/*
 * prev_state letters as the kernel prints them ("S", "R+"; "D|K" is
 * refused: K is not a >= 4.14 state) into DS_STATE_* bits.  0 or -1.
 */
static int parse_state(const char *s, size_t len, int64_t *state)
{
	return parse_state_with(s, len, state, state_bit);
}

/* ---- print-fmt fields ---------------------------------------------------- */

/*
 * struct field - one "key=value" of an event's print fmt.  sep is what
 * precedes the key (" ", or " ==> " before next_comm).  A comm is any
 * bytes but NUL, up to DS_COMM_LEN - 1 of them ("a pid=3 x=", spaces,
 * '=', escape sequences), so it cannot be found by character class: the
 * line is matched against the whole layout, and a comm ends at whichever
 * of its at most 16 possible ends lets every following field parse.  The
 * other values hold no space: numbers, state letters, "true".
 */
enum field_type {
	F_WORD,		/* no space: a number, state letters, true/false */
	F_COMM,		/* 0..DS_COMM_LEN-1 bytes of anything */
};

struct field {
	const char *key;
	const char *sep;
	int optional;
	enum field_type type;
	const char *val;	/* out: NULL when an optional key is absent */
	size_t len;
};

#define KEY(k) { k, " ", 0, F_WORD, NULL, 0 }
#define OPT(k) { k, " ", 1, F_WORD, NULL, 0 }
#define COMM(k) { k, " ", 0, F_COMM, NULL, 0 }

/* the value of a word field: digits with an optional '-' when numeric */
static int word_ok(const char *v, size_t len)
{
	return len > 0 && !memchr(v, ' ', len);
}

/*
 * match - fields i..n-1 at s (the separator of field i, none for field 0).
 * 0 with every val/len set, -1 if the rest of the line does not fit the
 * layout.  The recursion is at most n deep and tries at most DS_COMM_LEN
 * ends per comm: a few hundred steps for the longest layout.
 */
static int match(const char *s, struct field *f, int i, int n)
{
	const char *sep, *v, *e, *last;
	size_t sl, kl;

	if (i == n)
		return *s ? -1 : 0;
	sep = i ? f[i].sep : "";
	sl = strlen(sep);
	kl = strlen(f[i].key);
	if (!strncmp(s, sep, sl) && !strncmp(s + sl, f[i].key, kl) && s[sl + kl] == '=') {
		v = s + sl + kl + 1;
		if (f[i].type == F_WORD) {
			e = strchr(v, ' ');
			if (!e)
				e = v + strlen(v);
			if (word_ok(v, (size_t)(e - v)) && !match(e, f, i + 1, n))
				goto found;
		} else {
			last = v + strnlen(v, DS_COMM_LEN - 1);
			for (e = v; e <= last; e++)
				if ((!*e || *e == ' ') && !match(e, f, i + 1, n))
					goto found;
		}
	}
	if (f[i].optional) {
		f[i].val = NULL;
		f[i].len = 0;
		return match(s, f, i + 1, n);
	}
	return -1;
found:
	f[i].val = v;
	f[i].len = (size_t)(e - v);
	return 0;
}

static int split_fields(const char *s, struct field *f, int n)
{
	return match(s, f, 0, n);
}

#define VAL_I32(fl, dst) (!(fl).val || parse_i32((fl).val, (fl).len, (dst)))

static int fields_switch(const char *s, struct ds_event *ev)
{
	struct field f[] = {
		COMM("prev_comm"), KEY("prev_pid"), KEY("prev_prio"),
		KEY("prev_state"), { "next_comm", " ==> ", 0, F_COMM, NULL, 0 }, KEY("next_pid"),
		KEY("next_prio"),
	};

	if (split_fields(s, f, ARRAY_SIZE(f)) || set_comm(ev->comm, f[0].val, f[0].len) ||
	    VAL_I32(f[1], &ev->pid) || VAL_I32(f[2], &ev->prio) ||
	    parse_state(f[3].val, f[3].len, &ev->state) ||
	    set_comm(ev->next_comm, f[4].val, f[4].len) || VAL_I32(f[5], &ev->next_pid) ||
	    VAL_I32(f[6], &ev->next_prio))
		return -1;
	return 0;
}

static int fields_wakeup(const char *s, struct ds_event *ev)
{
	/* success= was printed before 4.x kernels dropped it */
	struct field f[] = {
		COMM("comm"), KEY("pid"), KEY("prio"),
		OPT("success"), OPT("target_cpu"),
	};

	if (split_fields(s, f, ARRAY_SIZE(f)) || set_comm(ev->comm, f[0].val, f[0].len) ||
	    VAL_I32(f[1], &ev->pid) || VAL_I32(f[2], &ev->prio) ||
	    (f[4].val && VAL_I32(f[4], &ev->target_cpu)))
		return -1;
	return 0;
}

static int fields_migrate(const char *s, struct ds_event *ev)
{
	struct field f[] = {
		COMM("comm"), KEY("pid"), KEY("prio"),
		KEY("orig_cpu"), KEY("dest_cpu"),
	};

	if (split_fields(s, f, ARRAY_SIZE(f)) || set_comm(ev->comm, f[0].val, f[0].len) ||
	    VAL_I32(f[1], &ev->pid) || VAL_I32(f[2], &ev->prio) ||
	    VAL_I32(f[3], &ev->orig_cpu) || VAL_I32(f[4], &ev->dest_cpu))
		return -1;
	return 0;
}

static int fields_fork(const char *s, struct ds_event *ev)
{
	struct field f[] = {
		COMM("comm"), KEY("pid"), COMM("child_comm"),
		KEY("child_pid"),
	};

	if (split_fields(s, f, ARRAY_SIZE(f)) || set_comm(ev->comm, f[0].val, f[0].len) ||
	    VAL_I32(f[1], &ev->pid) || set_comm(ev->next_comm, f[2].val, f[2].len) ||
	    VAL_I32(f[3], &ev->next_pid))
		return -1;
	return 0;
}

static int fields_exit(const char *s, struct ds_event *ev)
{
	/* group_dead appeared in 6.x kernels */
	struct field f[] = {
		COMM("comm"), KEY("pid"), KEY("prio"),
		OPT("group_dead"),
	};

	if (split_fields(s, f, ARRAY_SIZE(f)) || set_comm(ev->comm, f[0].val, f[0].len) ||
	    VAL_I32(f[1], &ev->pid) || VAL_I32(f[2], &ev->prio))
		return -1;
	if (f[3].val) {
		if (f[3].len == 4 && !strncmp(f[3].val, "true", 4))
			ev->state = 1;
		else if (f[3].len == 5 && !strncmp(f[3].val, "false", 5))
			ev->state = 0;
		else if (f[3].len == 1 && (f[3].val[0] == '0' || f[3].val[0] == '1'))
			ev->state = f[3].val[0] - '0';
		else
			return -1;
	}
	return 0;
}

/* ---- trace-cmd's plugin forms -------------------------------------------- */

/*
 * "comm:pid [prio]" ending at end (exclusive); the comm may hold ':'.
 * Returns 0 with the fields set.
 */
static int plugin_task(const char *s, const char *end, char *comm, int32_t *pid, int32_t *prio)
{
	const char *lb, *colon;

	while (end > s && end[-1] == ' ')
		end--;
	if (end - s < 3 || end[-1] != ']')
		return -1;
	for (lb = end - 1; lb > s && *lb != '['; lb--)
		;
	if (*lb != '[' || parse_i32(lb + 1, (size_t)(end - 1 - (lb + 1)), prio))
		return -1;
	end = lb;
	while (end > s && end[-1] == ' ')
		end--;
	for (colon = end - 1; colon > s && *colon != ':'; colon--)
		;
	if (*colon != ':' || parse_i32(colon + 1, (size_t)(end - colon - 1), pid))
		return -1;
	return set_comm(comm, s, (size_t)(colon - s));
}

/*
 * "prev:pid [prio] STATE ==> next:pid [prio]": a comm may hold " ==> "
 * too, so each arrow is tried until both sides parse.
 */
static int plugin_switch(const char *s, struct ds_event *ev)
{
	for (const char *arrow = strstr(s, " ==> "); arrow; arrow = strstr(arrow + 1, " ==> ")) {
		const char *st;

		for (st = arrow; st > s && st[-1] != ' '; st--)
			;
		if (st == s || st == arrow ||
		    parse_state_with(st, (size_t)(arrow - st), &ev->state, plugin_state_bit) ||
		    plugin_task(s, st, ev->comm, &ev->pid, &ev->prio) ||
		    plugin_task(arrow + 5, arrow + 5 + strlen(arrow + 5), ev->next_comm,
				&ev->next_pid, &ev->next_prio))
			continue;
		return 0;
	}
	return -1;
}

/* "comm:pid [prio][ success=1] CPU:NNN" */
static int plugin_wakeup(const char *s, struct ds_event *ev)
{
	const char *cpu = strstr(s, " CPU:"), *end;

	if (!cpu)
		return -1;
	for (const char *p = cpu + 5; (p = strstr(p, " CPU:")); p++)
		cpu = p;	/* the last one: a comm may hold " CPU:" */
	if (parse_i32(cpu + 5, strlen(cpu + 5), &ev->target_cpu))
		return -1;
	end = cpu;
	if (end - s > 10 && !strncmp(end - 10, " success=", 9))
		end -= 10;
	return plugin_task(s, end, ev->comm, &ev->pid, &ev->prio);
}

/* ---- the line ------------------------------------------------------------- */

/* "secs.frac" (1..9 fraction digits) or a plain integer, into ns */
static int parse_ts(const char *s, size_t len, uint64_t *ns)
{
	const char *dot = memchr(s, '.', len);
	uint64_t sec = 0, frac = 0;
	size_t i, nfrac;

	if (!len)
		return -1;
	for (i = 0; i < (dot ? (size_t)(dot - s) : len); i++) {
		if (!isdigit((unsigned char)s[i]) || sec > UINT64_MAX / 10 - 10)
			return -1;
		sec = sec * 10 + (uint64_t)(s[i] - '0');
	}
	if (!dot) {
		*ns = sec;
		return 0;
	}
	nfrac = len - i - 1;
	if (i == 0 || nfrac == 0 || nfrac > 9 || sec > UINT64_MAX / NSEC_PER_SEC - 1)
		return -1;
	for (i++; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		frac = frac * 10 + (uint64_t)(s[i] - '0');
	}
	for (; nfrac < 9; nfrac++)
		frac *= 10;
	*ns = sec * NSEC_PER_SEC + frac;
	return 0;
}

/* "[123]" at s?  Returns the cpu or -1 */
static int cpu_bracket(const char *s, const char **after)
{
	int cpu = 0, n = 0;

	if (*s != '[')
		return -1;
	for (s++; isdigit((unsigned char)*s); s++, n++) {
		if (n >= 5)
			return -1;
		cpu = cpu * 10 + (*s - '0');
	}
	if (!n || *s != ']' || (s[1] != ' ' && s[1] != '\t'))
		return -1;
	*after = s + 1;
	return cpu;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/*
 * The part after "[cpu]": optional irq-info flags ("d..2.", "dNs3."),
 * then "TIMESTAMP:".  0 with *ts and *rest set, -1 if this is no event.
 */
static int parse_after_cpu(const char *s, uint64_t *ts, const char **rest)
{
	for (int tok = 0; tok < 2; tok++) {
		const char *e;

		s = skip_ws(s);
		e = s;
		while (*e && *e != ' ' && *e != '\t')
			e++;
		if (e > s && e[-1] == ':' && !parse_ts(s, (size_t)(e - 1 - s), ts)) {
			*rest = e;
			return 0;
		}
		/* a flags column: short, no ':' */
		if (tok || e - s > 8 || memchr(s, ':', (size_t)(e - s)))
			return -1;
		s = e;
	}
	return -1;
}

/*
 * The task before "[cpu]": returns the pid/tid (trailing digits after '-',
 * ' ' or '/'), or -1.  A trailing "(tgid)" column is skipped.  *perf_style
 * is set when the digits follow a space (perf script's "comm tid").
 */
static int task_pid(const char *s, const char *end, int *perf_style, int32_t *tgid)
{
	const char *d, *t;
	int32_t pid;

	*tgid = -1;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end > s && end[-1] == ')') {
		const char *close = end - 1;

		while (end > s && end[-1] != '(')
			end--;
		if (end == s)
			return -1;
		t = skip_ws(end);
		if (t < close && parse_i32(t, (size_t)(close - t), tgid))
			*tgid = -1;	/* "(-------)": not known */
		end--;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
	}
	for (d = end; d > s && isdigit((unsigned char)d[-1]); d--)
		;
	if (d == end || d == s || parse_i32(d, (size_t)(end - d), &pid))
		return -1;
	if (d[-1] == '/') {
		/* perf's "pid/tid" */
		for (t = d - 1; t > s && isdigit((unsigned char)t[-1]); t--)
			;
		if (t == d - 1 || parse_i32(t, (size_t)(d - 1 - t), tgid))
			return -1;
		*perf_style = 1;
	} else if (d[-1] == ' ' || d[-1] == '\t') {
		*perf_style = 1;
	} else if (d[-1] == '-') {
		*perf_style = 0;
	} else {
		return -1;
	}
	return pid;
}

/*
 * trace-cmd report -l (latency format): "comm8-pid  CPUflags  ts: event:",
 * e.g. "record-f-14518   1dN.2.  2996.601097: sched_wakeup_new: ...": the
 * CPU (digits) is glued to the flags, whose first (irqs-off) is never a
 * digit.  Returns the cpu with *ts, *rest and *pid set, or -1.
 */
static int latency_cpu(const char *s, uint64_t *ts, const char **rest, int *pid)
{
	const char *prev = NULL, *prev_end = NULL, *t = s;

	while (*(t = skip_ws(t))) {
		const char *e = t;
		int32_t cpu = 0;
		int n = 0, perf_style = 0;
		int32_t tgid;

		while (*e && *e != ' ' && *e != '\t')
			e++;
		if (prev && e > t && e[-1] == ':' && !parse_ts(t, (size_t)(e - 1 - t), ts)) {
			const char *f = prev;

			for (; f < prev_end && isdigit((unsigned char)*f) && n < 5; f++, n++)
				cpu = cpu * 10 + (*f - '0');
			if (!n || prev_end - f < 4 || prev_end - f > 6 ||
			    memchr(f, ':', (size_t)(prev_end - f)))
				return -1;
			*pid = task_pid(s, prev, &perf_style, &tgid);
			if (*pid < 0 || perf_style)
				return -1;
			*rest = e;
			return cpu;
		}
		prev = t;
		prev_end = e;
		t = e;
	}
	return -1;
}

/* "CPU:1 [LOST 463 EVENTS]", "CPU:1 [236 EVENTS DROPPED]", "[EVENTS DROPPED]" */
static int parse_lost(struct col_text_parser *p, const char *s, struct ds_event *ev)
{
	const char *c = strstr(s, "CPU:");
	unsigned long long n = 0;
	int cpu, len = 0;
	int64_t count = -1;

	if (!c || (c != s && c[-1] != ' '))
		return 0;
	if (sscanf(c, "CPU:%d [LOST %llu EVENTS]%n", &cpu, &n, &len) == 2 && len) {
		count = (int64_t)n;
	} else if (len = 0, sscanf(c, "CPU:%d [%llu EVENTS DROPPED]%n", &cpu, &n, &len) == 2 &&
		   len) {
		count = (int64_t)n;
	} else if (len = 0, sscanf(c, "CPU:%d [LOST EVENTS]%n", &cpu, &len) == 1 && len) {
		count = -1;
	} else if (len = 0, sscanf(c, "CPU:%d [EVENTS DROPPED]%n", &cpu, &len) == 1 && len) {
		count = -1;
	} else {
		return 0;
	}
	/* %llu reads "-5" as 2^64-5 and saturates on overflow: corruption, not a count */
	if (count < -1 || (count == -1 && len && n > INT64_MAX / 2) || count > INT64_MAX / 2)
		return error("cannot import '%s': line %llu: malformed lost-events count", p->name,
			     (unsigned long long)p->lineno);
	if (cpu < 0 || cpu >= 8192)
		return 0;
	if (strstr(c, "DROPPED"))
		p->kind = COL_TEXT_TRACE_CMD;
	ds_event_init(ev, DS_EV_LOST, 0, cpu);
	ev->state = count;
	if (cpu > p->max_cpu)
		p->max_cpu = cpu;
	return 1;
}

/* Header lines: comments, "cpus=N", "version = 6", "CPU 1 is empty" */
static int header_line(struct col_text_parser *p, const char *s)
{
	const char *c;
	int n;

	if (*s == '#') {
		c = strstr(s, "#P:");
		if (c && sscanf(c, "#P:%d", &n) == 1 && n > 0 && n <= 8192)
			p->header_cpus = n;
		if (strstr(s, "# tracer:") && p->kind == COL_TEXT_UNKNOWN)
			p->kind = COL_TEXT_FTRACE;
		return 1;
	}
	if (sscanf(s, "cpus=%d", &n) == 1) {
		if (n > 0 && n <= 8192)
			p->header_cpus = SC_MAX(p->header_cpus, n);
		p->kind = COL_TEXT_TRACE_CMD;
		return 1;
	}
	if (!strncmp(s, "version = ", 10) || (!strncmp(s, "CPU ", 4) && strstr(s, " is empty")))
		return 1;
	return 0;
}

static int bad_line(struct col_text_parser *p, const char *what)
{
	p->bad_fields = 1;
	return error("cannot import '%s': line %llu: malformed %s event", p->name,
		     (unsigned long long)p->lineno, what);
}

int col_text_parse_line(struct col_text_parser *p, char *line, struct ds_event *ev)
{
	size_t len = strlen(line);
	const char *s, *after = NULL, *rest, *name, *name_end, *fields;
	int cpu = -1, perf_style = 0, type, pid, r;
	uint64_t ts;
	char evname[64];

	p->lineno++;
	p->bad_fields = 0;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' ' ||
		       line[len - 1] == '\t'))
		line[--len] = '\0';
	s = skip_ws(line);
	if (!*s || header_line(p, s))
		return 0;

	/* the first "[cpu]" that is followed by a timestamp */
	for (const char *b = strchr(s, '['); b; b = strchr(b + 1, '[')) {
		cpu = cpu_bracket(b, &after);
		if (cpu >= 0 && !parse_after_cpu(after, &ts, &rest)) {
			pid = task_pid(s, b, &perf_style, &p->tgid);
			if (pid >= 0)
				goto event;
		}
	}
	cpu = latency_cpu(s, &ts, &rest, &pid);
	if (cpu >= 0) {
		p->tgid = -1;
		p->kind = COL_TEXT_TRACE_CMD;
		goto event;
	}
	r = parse_lost(p, s, ev);
	if (r)
		return r;
	p->skipped++;
	return 0;

event:
	name = skip_ws(rest);
	if (!strncmp(name, "PERF_RECORD_LOST lost ", 22)) {
		/* perf script --show-lost-events: the ring overflowed on cpu */
		int64_t n;

		if (parse_i64(name + 22, strlen(name + 22), &n) || n < 0)
			return bad_line(p, "PERF_RECORD_LOST");
		ds_event_init(ev, DS_EV_LOST, ts, cpu);
		ev->state = n;
		p->kind = COL_TEXT_PERF;
		if (cpu > p->max_cpu)
			p->max_cpu = cpu;
		return 1;
	}
	name_end = strchr(name, ':');
	if (!name_end || name_end == name || (size_t)(name_end - name) >= sizeof(evname)) {
		p->skipped++;
		return 0;
	}
	if ((size_t)(name_end - name) == 5 && !strncmp(name, "sched", 5)) {
		/* perf: "sched:sched_switch:" */
		name = name_end + 1;
		name_end = strchr(name, ':');
		if (!name_end || (size_t)(name_end - name) >= sizeof(evname)) {
			p->skipped++;
			return 0;
		}
		p->kind = COL_TEXT_PERF;
	}
	memcpy(evname, name, (size_t)(name_end - name));
	evname[name_end - name] = '\0';
	type = strncmp(evname, "sched_", 6) ? -1 : ds_event_type_from_name(evname);
	if (type < 0 || type == DS_EV_LOST) {
		p->skipped++;
		return 0;
	}
	fields = skip_ws(name_end + 1);
	ds_event_init(ev, type, ts, cpu);
	ev->common_pid = pid;
	if (perf_style)
		p->kind = COL_TEXT_PERF;
	else if (p->kind == COL_TEXT_UNKNOWN)
		p->kind = COL_TEXT_FTRACE;

	switch (type) {
	case DS_EV_SWITCH:
		if (!strncmp(fields, "prev_comm=", 10)) {
			r = fields_switch(fields, ev);
		} else {
			r = plugin_switch(fields, ev);
			p->plugin_switches++;
			p->kind = COL_TEXT_TRACE_CMD;
		}
		break;
	case DS_EV_WAKEUP:
	case DS_EV_WAKEUP_NEW:
	case DS_EV_WAKING:
		if (!strncmp(fields, "comm=", 5)) {
			r = fields_wakeup(fields, ev);
		} else {
			r = plugin_wakeup(fields, ev);
			p->kind = COL_TEXT_TRACE_CMD;
		}
		break;
	case DS_EV_MIGRATE:
		r = fields_migrate(fields, ev);
		break;
	case DS_EV_FORK:
		r = fields_fork(fields, ev);
		break;
	default:
		r = fields_exit(fields, ev);
		break;
	}
	if (r)
		return bad_line(p, evname);
	if (cpu > p->max_cpu)
		p->max_cpu = cpu;
	p->seen |= DS_EV_BIT(type);
	return 1;
}

/* ---- the importer ---------------------------------------------------------- */

static const char *kind_source(enum col_text_kind k)
{
	switch (k) {
	case COL_TEXT_TRACE_CMD: return "trace-cmd-text";
	case COL_TEXT_PERF: return "perf-script-text";
	default: return "ftrace-text";
	}
}

/*
 * struct ts_order - each CPU's last timestamp.  Every tool prints a text
 * trace in time order, and each CPU's events in the order its ring buffer
 * gave them; an event older than the one before it on its CPU (a clock
 * step, an edited line) keeps that order: it takes the time of the event
 * before it, instead of being sorted to the front of the trace, and is
 * counted.  A CPU's first event is held to the first time in the file.
 */
struct ts_order {
	uint64_t *last;		/* per CPU */
	int nr;
	int started;
	uint64_t first;		/* the first timestamp of the file */
	uint64_t backwards;	/* events moved */
	uint64_t line;		/* of the first of them */
	int cpu;
	uint64_t back_ns;	/* how far back it was */
};

static void ts_order_fix(struct ts_order *o, struct ds_event *ev, uint64_t lineno)
{
	if ((ev->type == DS_EV_LOST && !ev->ts) || ev->cpu < 0 || ev->cpu >= DS_MAX_CPUS)
		return;		/* a marker without a time; a CPU the writer refuses */
	if (!o->started) {
		o->first = ev->ts;
		o->started = 1;
	}
	if (ev->cpu >= o->nr) {
		o->last = xreallocarray(o->last, (size_t)ev->cpu + 1, sizeof(*o->last));
		for (int i = o->nr; i <= ev->cpu; i++)
			o->last[i] = o->first;
		o->nr = ev->cpu + 1;
	}
	if (ev->ts < o->last[ev->cpu]) {
		if (!o->backwards++) {
			o->line = lineno;
			o->cpu = ev->cpu;
			o->back_ns = o->last[ev->cpu] - ev->ts;
		}
		ev->ts = o->last[ev->cpu];
	}
	o->last[ev->cpu] = ev->ts;
}

/*
 * parse_joined - a scheduler event that did not parse may be cut by a
 * newline in a comm (the kernel prints comms raw): join the lines that
 * follow, at most one per byte of two comms, until it parses.  The line
 * that failed is in *copy, the parser as it was before it in *before.  1
 * or 0 as col_text_parse_line, -1 after the error of the first line.
 */
#define MAX_JOINED (2 * (DS_COMM_LEN - 1))

static int parse_joined(struct col_text_parser *p, const struct col_text_parser *before,
			FILE *fp, struct strbuf *copy, char **line, size_t *alloc,
			struct ds_event *ev)
{
	struct strbuf joined = STRBUF_INIT;
	ssize_t len;
	int r = -1;

	for (int k = 0; k < MAX_JOINED; k++) {
		len = getline(line, alloc, fp);
		if (len <= 0 || (size_t)len != strlen(*line) || (*line)[len - 1] != '\n')
			break;
		strbuf_add(copy, *line, (size_t)len);
		strbuf_reset(&joined);
		strbuf_add(&joined, copy->buf, copy->len);
		*p = *before;
		sc_set_quiet(1);
		r = col_text_parse_line(p, joined.buf, ev);
		sc_set_quiet(0);
		if (r == 1) {
			p->lineno += (uint64_t)k + 1;
			break;
		}
	}
	if (r != 1) {
		/* again, aloud: the error names the first line */
		*p = *before;
		strbuf_reset(&joined);
		strbuf_add(&joined, copy->buf, copy->len);
		joined.buf[strcspn(joined.buf, "\n")] = '\0';
		r = col_text_parse_line(p, joined.buf, ev);
		if (r >= 0)
			r = error("cannot import '%s': line %llu: malformed event", p->name,
				  (unsigned long long)p->lineno);
	}
	strbuf_release(&joined);
	return r;
}

int col_import_text(FILE *fp, struct col_sink *s)
{
	struct col_text_parser p, before;
	struct ts_order order = { 0 };
	struct strbuf copy = STRBUF_INIT;
	struct ds_event ev;
	char *line = NULL;
	size_t alloc = 0;
	ssize_t len;
	int ret = 0, r;
	uint64_t events = 0, skipped, bytes = 0;
	struct sc_progress progress;
	struct stat st;

	col_text_parser_init(&p, s->name);
	/* KiB of the file read (of a pipe: no total) */
	sc_progress_start(&progress, "import",
			  fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) ?
			  (uint64_t)st.st_size >> 10 : 0);
	while ((len = getline(&line, &alloc, fp)) > 0) {
		int complete = line[len - 1] == '\n';

		bytes += (uint64_t)len;
		sc_progress_update(&progress, bytes >> 10);

		if ((size_t)len != strlen(line)) {
			ret = error("cannot import '%s': line %llu holds a NUL byte: not a text trace",
				    s->name, (unsigned long long)p.lineno + 1);
			break;
		}
		skipped = p.skipped;
		before = p;
		strbuf_reset(&copy);
		strbuf_add(&copy, line, (size_t)len);
		sc_set_quiet(1);
		r = col_text_parse_line(&p, line, &ev);
		sc_set_quiet(0);
		if (r < 0 && !complete) {
			ret = error("cannot import '%s': truncated: line %llu is incomplete",
				    s->name, (unsigned long long)p.lineno);
			break;
		}
		if (r < 0 && p.bad_fields)
			r = parse_joined(&p, &before, fp, &copy, &line, &alloc, &ev);
		else if (r < 0)
			r = col_text_parse_line(&before, copy.buf, &ev);	/* aloud */
		if (r < 0) {
			ret = -1;
			break;
		}
		if (!complete && (r == 1 || p.skipped > skipped)) {
			/*
			 * Every tool ends its lines: a last line without its
			 * newline was cut off, and "next_prio=12" may be the
			 * first digits of 120.
			 */
			ret = error("cannot import '%s': truncated: line %llu is incomplete",
				    s->name, (unsigned long long)p.lineno);
			break;
		}
		if (r == 1) {
			ts_order_fix(&order, &ev, p.lineno);
			if (col_sink_write(s, &ev)) {
				ret = -1;
				break;
			}
			if (ev.type != DS_EV_LOST)
				events++;
		}
	}
	if (!ret && ferror(fp))
		ret = error_errno("cannot import '%s': read error", s->name);
	sc_progress_stop(&progress, ret == 0);
	free(line);
	free(order.last);
	strbuf_release(&copy);
	if (ret)
		return -1;
	if (!events)
		return error("cannot import '%s': no scheduler events found (%llu lines)", s->name,
			     (unsigned long long)p.lineno);
	if (order.backwards)
		warning("'%s': %llu event%s older than the event before on the same CPU, kept in "
			"the file's order (the first: line %llu, CPU %d, %llu.%09llu s back)", s->name,
			(unsigned long long)order.backwards, order.backwards == 1 ? "" : "s",
			(unsigned long long)order.line, order.cpu,
			(unsigned long long)(order.back_ns / NSEC_PER_SEC),
			(unsigned long long)(order.back_ns % NSEC_PER_SEC));
	snprintf(s->meta.source, sizeof(s->meta.source), "%s", kind_source(p.kind));
	s->meta.nr_cpus = SC_MAX(p.header_cpus, p.max_cpu + 1);
	s->meta.events_recorded = p.seen;
	if (s->stats) {
		s->stats->skipped_lines = p.skipped;
		s->stats->plugin_switches = p.plugin_switches;
	}
	return 0;
}
