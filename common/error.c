// SPDX-License-Identifier: GPL-2.0
/* Error reporting and checked allocation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"

static int quiet;

/* Calls nest, so that a library function silencing itself keeps a caller's quiet. */
void sc_set_quiet(int q)
{
	if (q)
		quiet++;
	else if (quiet)
		quiet--;
}

static void vreport(const char *prefix, const char *fmt, va_list ap, int err)
{
	struct strbuf safe = STRBUF_INIT;
	char msg[4096];

	if (quiet)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/*
	 * A message may quote a file's contents (a comm, an attribute, a
	 * line): under the untrusted-string rule, so that it stays one line
	 * and no escape sequence reaches the terminal.
	 */
	strbuf_add_safe(&safe, msg);
	fflush(stdout);
	if (err)
		fprintf(stderr, "schedcast: %s%s: %s\n", prefix, safe.buf, strerror(err));
	else
		fprintf(stderr, "schedcast: %s%s\n", prefix, safe.buf);
	strbuf_release(&safe);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, 0);
	va_end(ap);
	return -1;
}

int error_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, err);
	va_end(ap);
	errno = err;
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap, 0);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	quiet = 0;
	vreport("error: ", fmt, ap, 0);
	va_end(ap);
	exit(1);
}

void die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	quiet = 0;
	vreport("error: ", fmt, ap, err);
	va_end(ap);
	exit(1);
}

static void *check(void *p, size_t size)
{
	if (!p && size) {
		fprintf(stderr, "schedcast: error: out of memory allocating %zu bytes\n", size);
		exit(1);
	}
	return p;
}

void *xmalloc(size_t size)
{
	return check(malloc(size ? size : 1), size);
}

void *xcalloc(size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		check(NULL, SIZE_MAX);
	return check(calloc(nmemb ? nmemb : 1, size ? size : 1), nmemb * size);
}

void *xrealloc(void *ptr, size_t size)
{
	return check(realloc(ptr, size ? size : 1), size);
}

void *xmallocarray(size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		check(NULL, SIZE_MAX);
	return xmalloc(nmemb * size);
}

void *xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		check(NULL, SIZE_MAX);
	return xrealloc(ptr, nmemb * size);
}

char *xstrdup(const char *s)
{
	return check(strdup(s), strlen(s) + 1);
}

char *xstrfmt(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return strbuf_detach(&sb, NULL);
}

uint64_t sc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

int sc_isatty_stderr(void)
{
	return isatty(STDERR_FILENO);
}

char *sc_cmdline(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		/* main names a command "schedcast CMD" for getopt's messages */
		if (!i && !strncmp(a, "schedcast ", 10))
			a += 10;
		if (i)
			strbuf_addch(&sb, ' ');
		if (*a && !a[strcspn(a, " \t\n'\"\\$`;&|<>*?()[]{}")]) {
			strbuf_addstr(&sb, a);
			continue;
		}
		strbuf_addch(&sb, '\'');
		for (; *a; a++) {
			if (*a == '\'')
				strbuf_addstr(&sb, "'\\''");
			else
				strbuf_addch(&sb, *a);
		}
		strbuf_addch(&sb, '\'');
	}
	return strbuf_detach(&sb, NULL);
}

int sc_usage(const char *text, int is_error)
{
	const char *end, *cmd;
	int len;

	if (!is_error) {
		fputs(text, stdout);
		if (text[0] && text[strlen(text) - 1] != '\n')
			fputc('\n', stdout);
		return 0;
	}
	/* a usage error: the usage lines (up to the first blank line) and a pointer to -h */
	end = strstr(text, "\n\n");
	fprintf(stderr, "%.*s\n", end ? (int)(end - text) : (int)strcspn(text, "\n"), text);
	cmd = strstr(text, "schedcast ");
	if (cmd) {
		cmd += 10;
		len = (int)strcspn(cmd, " \n");
		fprintf(stderr, "see 'schedcast %.*s -h' for the options\n", len, cmd);
	}
	return 2;
}

int sc_command_args(int argc, char **argv, int optind, const char *what, char ***command)
{
	*command = NULL;
	if (optind >= argc)
		return 0;
	if (strcmp(argv[optind - 1], "--"))
		return error("unexpected argument '%s' (use -- COMMAND to %s)", argv[optind], what);
	*command = argv + optind;
	return 0;
}
