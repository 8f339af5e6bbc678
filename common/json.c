// SPDX-License-Identifier: GPL-2.0
/*
 * Strings from the trace (comms, hostnames, command lines) are arbitrary
 * bytes: the kernel cuts a comm at 15 bytes, which may split a UTF-8
 * character, and a task may name itself with control bytes or an escape
 * sequence.  Every writer applies the same rule before such a string reaches
 * a file or a terminal:
 *
 *   - a byte that does not start a valid UTF-8 sequence (RFC 3629: no
 *     overlong forms, no surrogates, nothing above U+10FFFF) becomes U+FFFD,
 *     one per byte, as Python's errors="replace" and the WHATWG decoder do;
 *   - a control character (C0, DEL, C1) is escaped: "\u00XX" in JSON,
 *     "\xXX" in text and CSV, never written raw.
 *
 * The JSON writer below is the only code that produces JSON.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "common/common.h"

/* sc_utf8_seq_len - bytes of the valid UTF-8 character at s (1..4, at most n), 0 if invalid */
static size_t sc_utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A character that must not reach a terminal raw: C0, DEL, C1 (U+0080..U+009F). */
static int is_control(const unsigned char *s, size_t len)
{
	if (len == 1)
		return s[0] < 0x20 || s[0] == 0x7f;
	return len == 2 && s[0] == 0xc2 && s[1] < 0xa0;
}

/* The code point of a control character (see is_control) */
static unsigned int control_cp(const unsigned char *s, size_t len)
{
	return len == 1 ? s[0] : s[1];
}

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

void strbuf_add_safe_n(struct strbuf *sb, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n && s[i]) {
		size_t len = sc_utf8_seq_len(s + i, strnlen(str + i, n - i));

		if (!len) {
			strbuf_addstr(sb, REPLACEMENT);
			i++;
			continue;
		}
		if (is_control(s + i, len))
			strbuf_addf(sb, "\\x%02x", control_cp(s + i, len));
		else
			strbuf_add(sb, s + i, len);
		i += len;
	}
}

void strbuf_add_safe(struct strbuf *sb, const char *s)
{
	strbuf_add_safe_n(sb, s, SIZE_MAX);
}

void strbuf_add_safe_line(struct strbuf *sb, const char *label, const char *s)
{
	strbuf_addstr(sb, label);
	strbuf_add_safe(sb, s);
	strbuf_addch(sb, '\n');
}

const char *sc_safe_str(char *buf, size_t size, const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_safe(&sb, s);
	if (sb.len >= size) {
		/* cut at a character boundary */
		size_t cut = size - 1;

		while (cut && ((unsigned char)sb.buf[cut] & 0xc0) == 0x80)
			cut--;
		sb.len = cut;
	}
	memcpy(buf, sb.buf, sb.len);
	buf[sb.len] = '\0';
	strbuf_release(&sb);
	return buf;
}

const char *sc_safe_pad(char *buf, size_t size, const char *s, int width)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0;
	int cols = 0;

	strbuf_add_safe(&sb, s);
	/* one column per character (the escapes are ASCII, U+FFFD one wide) */
	while (n < sb.len && cols < width) {
		size_t len = sc_utf8_seq_len((const unsigned char *)sb.buf + n, sb.len - n);

		if (n + len >= size)
			break;
		n += len ? len : 1;
		cols++;
	}
	memcpy(buf, sb.buf, n);
	for (; cols < width && n + 1 < size; cols++)
		buf[n++] = ' ';
	buf[n] = '\0';
	strbuf_release(&sb);
	return buf;
}

void strbuf_add_csv_cell(struct strbuf *sb, const char *s)
{
	struct strbuf cell = STRBUF_INIT;

	/*
	 * OWASP's CSV-injection advice: a cell a spreadsheet would read as a
	 * formula (= + - @, or tab/CR before one) gets a leading quote.
	 */
	if (s[0] && strchr("=+-@\t\r", s[0]))
		strbuf_addch(&cell, '\'');
	strbuf_add_safe(&cell, s);
	if (!strpbrk(cell.buf, ",\"\r\n")) {
		strbuf_addstr(sb, cell.buf);
	} else {
		strbuf_addch(sb, '"');
		for (const char *p = cell.buf; *p; p++) {
			if (*p == '"')
				strbuf_addch(sb, '"');
			strbuf_addch(sb, *p);
		}
		strbuf_addch(sb, '"');
	}
	strbuf_release(&cell);
}

static void strbuf_add_json_str_n(struct strbuf *sb, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	strbuf_addch(sb, '"');
	while (i < n && s[i]) {
		size_t len = sc_utf8_seq_len(s + i, strnlen(str + i, n - i));

		if (!len) {
			strbuf_addstr(sb, "\\ufffd");
			i++;
			continue;
		}
		if (is_control(s + i, len)) {
			unsigned int c = control_cp(s + i, len);

			switch (c) {
			case '\n': strbuf_addstr(sb, "\\n"); break;
			case '\t': strbuf_addstr(sb, "\\t"); break;
			case '\r': strbuf_addstr(sb, "\\r"); break;
			default: strbuf_addf(sb, "\\u%04x", c);
			}
		} else if (s[i] == '"' || s[i] == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, s[i]);
		} else {
			strbuf_add(sb, s + i, len);
		}
		i += len;
	}
	strbuf_addch(sb, '"');
}

void strbuf_add_json_str(struct strbuf *sb, const char *s)
{
	strbuf_add_json_str_n(sb, s, SIZE_MAX);
}

/* ---- the writer ---------------------------------------------------------- */

void json_writer_init(struct json_writer *jw, struct strbuf *out)
{
	memset(jw, 0, sizeof(*jw));
	jw->out = out;
	jw->first[0] = 1;
}

/* Separator and key before a value; key is NULL inside arrays and at the top */
static void json_prefix(struct json_writer *jw, const char *key)
{
	if (!jw->first[jw->depth])
		strbuf_addch(jw->out, ',');
	jw->first[jw->depth] = 0;
	if (key) {
		strbuf_add_json_str(jw->out, key);
		strbuf_addch(jw->out, ':');
	}
}

static void json_open(struct json_writer *jw, const char *key, int c)
{
	json_prefix(jw, key);
	strbuf_addch(jw->out, c);
	if (jw->depth + 1 >= JSON_MAX_DEPTH)
		die("JSON nesting deeper than %d", JSON_MAX_DEPTH);
	jw->first[++jw->depth] = 1;
}

void json_object_begin(struct json_writer *jw, const char *key)
{
	json_open(jw, key, '{');
}

void json_array_begin(struct json_writer *jw, const char *key)
{
	json_open(jw, key, '[');
}

void json_object_end(struct json_writer *jw)
{
	strbuf_addch(jw->out, '}');
	jw->depth--;
}

void json_array_end(struct json_writer *jw)
{
	strbuf_addch(jw->out, ']');
	jw->depth--;
}

void json_str(struct json_writer *jw, const char *key, const char *s)
{
	json_prefix(jw, key);
	strbuf_add_json_str(jw->out, s ? s : "");
}

void json_strn(struct json_writer *jw, const char *key, const char *s, size_t n)
{
	json_prefix(jw, key);
	strbuf_add_json_str_n(jw->out, s, n);
}

void json_u64(struct json_writer *jw, const char *key, uint64_t v)
{
	json_prefix(jw, key);
	strbuf_addf(jw->out, "%" PRIu64, v);
}

void json_i64(struct json_writer *jw, const char *key, int64_t v)
{
	json_prefix(jw, key);
	strbuf_addf(jw->out, "%" PRId64, v);
}

void json_double(struct json_writer *jw, const char *key, double v)
{
	json_prefix(jw, key);
	/* JSON has no NaN or infinity; a rate of nothing is 0 (as before) */
	strbuf_addf(jw->out, "%.6g", isfinite(v) ? v : 0.0);
}

void json_bool(struct json_writer *jw, const char *key, int v)
{
	json_prefix(jw, key);
	strbuf_addstr(jw->out, v ? "true" : "false");
}

void json_null(struct json_writer *jw, const char *key)
{
	json_prefix(jw, key);
	strbuf_addstr(jw->out, "null");
}

void json_raw(struct json_writer *jw, const char *key, const char *value)
{
	json_prefix(jw, key);
	strbuf_addstr(jw->out, value);
}
