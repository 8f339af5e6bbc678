// SPDX-License-Identifier: GPL-2.0
/* Unit tests of common/: option parsing, strbuf, atomic outputs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"

static void test_parse_duration(void **state)
{
	uint64_t ns;

	assert_int_equal(parse_duration("10s", &ns), 0);
	assert_true(ns == 10 * NSEC_PER_SEC);
	assert_int_equal(parse_duration("500ms", &ns), 0);
	assert_true(ns == 500 * NSEC_PER_MSEC);
	assert_int_equal(parse_duration("1.5", &ns), 0);
	assert_true(ns == 1500 * NSEC_PER_MSEC);
	assert_int_equal(parse_duration("250us", &ns), 0);
	assert_true(ns == 250000);
	assert_int_equal(parse_duration("2m", &ns), 0);
	assert_true(ns == 120 * NSEC_PER_SEC);
	assert_int_equal(parse_duration("", &ns), -1);
	assert_int_equal(parse_duration("-1s", &ns), -1);
	assert_int_equal(parse_duration("10x", &ns), -1);
	assert_int_equal(parse_duration("s", &ns), -1);
	assert_int_equal(parse_duration("1e30h", &ns), -1);
}

static void test_parse_size(void **state)
{
	uint64_t b;

	assert_int_equal(parse_size("4096", &b), 0);
	assert_true(b == 4096);
	assert_int_equal(parse_size("64k", &b), 0);
	assert_true(b == 65536);
	assert_int_equal(parse_size("16M", &b), 0);
	assert_true(b == 16u << 20);
	assert_int_equal(parse_size("1GiB", &b), 0);
	assert_true(b == 1u << 30);
	assert_int_equal(parse_size("12q", &b), -1);
	assert_int_equal(parse_size("99999999999T", &b), -1);
}

static void test_parse_cpulist(void **state)
{
	uint64_t m[2];

	assert_int_equal(parse_cpulist("0-3,6", m, 8), 0);
	assert_true(m[0] == 0x4f);
	assert_int_equal(parse_cpulist("70", m, 128), 0);
	assert_true(m[0] == 0 && m[1] == (1ULL << 6));
	assert_int_equal(parse_cpulist("8", m, 8), -1);
	assert_int_equal(parse_cpulist("3-1", m, 8), -1);
	assert_int_equal(parse_cpulist("1,", m, 8), -1);
	assert_int_equal(parse_cpulist("a", m, 8), -1);
	assert_int_equal(parse_cpulist("", m, 8), -1);
}

static void test_parse_int(void **state)
{
	int v;

	assert_int_equal(parse_int("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_int("101", 0, 100, &v), -1);
	assert_int_equal(parse_int("4 2", 0, 100, &v), -1);
	assert_int_equal(parse_int(" 4", 0, 100, &v), -1);
	assert_int_equal(parse_int("", 0, 100, &v), -1);
}

static void test_strbuf(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	assert_string_equal(sb.buf, "");
	for (int i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%d,", i);
	assert_true(sb.len > 3000);
	assert_int_equal(sb.buf[sb.len], '\0');
	strbuf_reset(&sb);
	strbuf_add_json_str(&sb, "a\"b\\c\n\x01");
	assert_string_equal(sb.buf, "\"a\\\"b\\\\c\\n\\u0001\"");
	s = strbuf_detach(&sb, NULL);
	assert_string_equal(sb.buf, "");
	free(s);
	strbuf_release(&sb);
}

/* The one rule for untrusted strings (common/json.c), in every writer */
static void test_untrusted_strings(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_writer jw;
	char buf[SC_SAFE_SIZE(16)];

	/* valid UTF-8 kept; a cut sequence, an overlong form, a surrogate, 0xff: U+FFFD per byte */
	strbuf_add_json_str(&sb, "\xe2\x82\xac|\xe2\x82|\xc0\xaf|\xed\xa0\x80|\xff");
	assert_string_equal(sb.buf, "\"\xe2\x82\xac|\\ufffd\\ufffd|\\ufffd\\ufffd|"
				    "\\ufffd\\ufffd\\ufffd|\\ufffd\"");
	strbuf_reset(&sb);
	/* C0, DEL and C1 (U+0085 as c2 85) escaped in JSON */
	strbuf_add_json_str(&sb, "\x1b[1m\x7f\xc2\x85\xc2\xa0");
	assert_string_equal(sb.buf, "\"\\u001b[1m\\u007f\\u0085\xc2\xa0\"");
	strbuf_reset(&sb);
	json_writer_init(&jw, &sb);
	json_strn(&jw, NULL, "abcdef", 3);	/* at most n bytes, as a fixed-size comm */
	assert_string_equal(sb.buf, "\"abc\"");
	strbuf_reset(&sb);
	/* text: \xNN for control characters, U+FFFD for bad bytes */
	assert_string_equal(sc_safe_str(buf, sizeof(buf), "\x1b]0;x\x07\xc3"),
			    "\\x1b]0;x\\x07\xef\xbf\xbd");
	/* cut at a character boundary */
	assert_string_equal(sc_safe_str(buf, 5, "ab\xe2\x82\xac"), "ab");
	/* CSV: formulas get a quote, quoting per RFC 4180 */
	strbuf_add_csv_cell(&sb, "=1+2;cmd");
	strbuf_addch(&sb, '|');
	strbuf_add_csv_cell(&sb, "@x,\"y\"");
	strbuf_addch(&sb, '|');
	strbuf_add_csv_cell(&sb, "\tz");
	strbuf_addch(&sb, '|');
	strbuf_add_csv_cell(&sb, "a-b");
	assert_string_equal(sb.buf, "'=1+2;cmd|\"'@x,\"\"y\"\"\"|'\\x09z|a-b");
	strbuf_reset(&sb);
	/* the writer: commas, nesting, keys, numbers */
	json_writer_init(&jw, &sb);
	json_object_begin(&jw, NULL);
	json_u64(&jw, "a", UINT64_MAX);
	json_array_begin(&jw, "b");
	json_i64(&jw, NULL, INT64_MIN);
	json_double(&jw, NULL, NAN);
	json_bool(&jw, NULL, 1);
	json_null(&jw, NULL);
	json_object_begin(&jw, NULL);
	json_object_end(&jw);
	json_array_end(&jw);
	json_str(&jw, "c\x01", "d");
	json_raw(&jw, "e", "[1]");
	json_object_end(&jw);
	assert_string_equal(sb.buf, "{\"a\":18446744073709551615,\"b\":[-9223372036854775808,0,"
				    "true,null,{}],\"c\\u0001\":\"d\",\"e\":[1]}");
	assert_int_equal(jw.depth, 0);
	strbuf_release(&sb);
}

static void test_outfile_atomic(void **state)
{
	char dir[] = "/tmp/sc-outfile.XXXXXX";
	struct sc_outfile of;
	char *path;

	assert_non_null(mkdtemp(dir));
	path = xstrfmt("%s/out.txt", dir);
	assert_int_equal(sc_outfile_open(&of, path), 0);
	fprintf(of.fp, "hello\n");
	assert_int_equal(access(path, F_OK), -1);	/* not there until commit */
	assert_int_equal(sc_outfile_commit(&of), 0);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
	assert_int_equal(sc_outfile_open(&of, path), 0);
	sc_outfile_abort(&of);
	assert_int_equal(access(path, F_OK), -1);
	free(path);
	sc_set_quiet(1);
	path = xstrfmt("%s/missing/out.txt", dir);
	assert_int_equal(sc_outfile_open(&of, path), -1);
	sc_set_quiet(0);
	free(path);
	rmdir(dir);
}

/* A forked child that exits (running atexit handlers) must not remove the parent's temporaries. */
static void test_tmp_cleanup_owner(void **state)
{
	char dir[] = "/tmp/sc-owner.XXXXXX";
	struct sc_outfile of;
	char *path;
	pid_t pid;
	int status;

	assert_non_null(mkdtemp(dir));
	path = xstrfmt("%s/out.txt", dir);
	assert_int_equal(sc_outfile_open(&of, path), 0);
	pid = fork();
	if (pid == 0) {
		sc_tmp_cleanup();
		_exit(0);
	}
	assert_true(waitpid(pid, &status, 0) == pid);
	assert_int_equal(access(of.tmp, F_OK), 0);
	sc_tmp_cleanup();
	assert_int_equal(access(of.tmp, F_OK), -1);
	sc_outfile_abort(&of);
	free(path);
	rmdir(dir);
}

static void test_cmdline(void **state)
{
	char *argv[] = { "schedcast", "record", "-o", "a b.h5", "it's" };
	char *s = sc_cmdline(5, argv);

	assert_string_equal(s, "schedcast record -o 'a b.h5' 'it'\\''s'");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_cpulist),
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_strbuf),
		cmocka_unit_test(test_untrusted_strings),
		cmocka_unit_test(test_outfile_atomic),
		cmocka_unit_test(test_tmp_cleanup_owner),
		cmocka_unit_test(test_cmdline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
