// SPDX-License-Identifier: GPL-2.0
/* Strict parsing of option values: numbers, durations, sizes, CPU lists. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

int parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* A decimal number with an optional fraction: "1", "2.5".  Sets *end. */
static int parse_decimal(const char *s, long double *v, const char **end)
{
	const char *p = s;
	long double x = 0, scale = 1;
	int digits = 0;

	while (isdigit((unsigned char)*p)) {
		x = x * 10 + (*p++ - '0');
		digits++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			scale /= 10;
			x += (*p++ - '0') * scale;
			digits++;
		}
	}
	if (!digits)
		return -1;
	*v = x;
	*end = p;
	return 0;
}

int parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *suffix; long double mult; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		{ "m", 60e9 }, { "min", 60e9 }, { "h", 3600e9 }, { "", 1e9 },
	};
	const char *end;
	long double v;

	if (!s || parse_decimal(s, &v, &end))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		v *= units[i].mult;
		if (v > 1e19L)
			return -1;
		*ns = (uint64_t)(v + 0.5L);
		return 0;
	}
	return -1;
}

int parse_size(const char *s, uint64_t *bytes)
{
	static const struct { const char *suffix; int shift; } units[] = {
		{ "", 0 }, { "B", 0 }, { "k", 10 }, { "K", 10 }, { "KB", 10 }, { "KiB", 10 },
		{ "M", 20 }, { "MB", 20 }, { "MiB", 20 }, { "G", 30 }, { "GB", 30 },
		{ "GiB", 30 }, { "T", 40 }, { "TiB", 40 },
	};
	const char *end;
	long double v;

	if (!s || parse_decimal(s, &v, &end))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		v *= (long double)(1ULL << units[i].shift);
		if (v > 1.8e19L)
			return -1;
		*bytes = (uint64_t)(v + 0.5L);
		return 0;
	}
	return -1;
}

int parse_cpulist(const char *s, uint64_t *mask, int nr_cpus)
{
	const char *p = s;
	int words = (nr_cpus + 63) / 64;

	if (!s || !*s)
		return -1;
	memset(mask, 0, (size_t)words * sizeof(*mask));
	for (;;) {
		char *end;
		long a, b;

		if (!isdigit((unsigned char)*p))
			return -1;
		a = strtol(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			b = strtol(p, &end, 10);
			p = end;
		}
		if (a < 0 || b < a || b >= nr_cpus)
			return -1;
		for (long c = a; c <= b; c++)
			mask[c / 64] |= 1ULL << (c % 64);
		if (!*p)
			return 0;
		if (*p++ != ',')
			return -1;
	}
}

const char *format_duration(char *buf, size_t size, uint64_t ns)
{
	if (ns >= 10 * NSEC_PER_SEC)
		snprintf(buf, size, "%.1f s", ns / 1e9);
	else if (ns >= NSEC_PER_SEC)
		snprintf(buf, size, "%.3f s", ns / 1e9);
	else if (ns >= NSEC_PER_MSEC)
		snprintf(buf, size, "%.3f ms", ns / 1e6);
	else if (ns >= NSEC_PER_USEC)
		snprintf(buf, size, "%.3f us", ns / 1e3);
	else
		snprintf(buf, size, "%llu ns", (unsigned long long)ns);
	return buf;
}

const char *format_size(char *buf, size_t size, uint64_t bytes)
{
	if (bytes >= (1ULL << 30))
		snprintf(buf, size, "%.2f GiB", bytes / (double)(1ULL << 30));
	else if (bytes >= (1ULL << 20))
		snprintf(buf, size, "%.2f MiB", bytes / (double)(1ULL << 20));
	else if (bytes >= (1ULL << 10))
		snprintf(buf, size, "%.1f KiB", bytes / (double)(1ULL << 10));
	else
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
	return buf;
}
