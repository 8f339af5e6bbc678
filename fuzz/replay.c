// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-replay - run kept fuzz inputs through their targets' code without
 * libFuzzer, so that `make check` (and `make check-asan`, and valgrind)
 * replays fuzz/corpus/ and fuzz/crashes/ on every run.
 *
 *   fuzz-replay TARGET FILE|DIR...   each file, and each file in each DIR
 *   fuzz-replay --list               the target names
 *
 * Prints "TARGET: N inputs replayed" and exits 0; a finding crashes (or makes
 * the sanitizer of the build report it), which is the failure.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"
#include "fuzz/fuzz.h"

struct target {
	const char *name;
	int (*fn)(const uint8_t *data, size_t size);
};

#define FUZZ_ENTRY_ROW(name) { #name, fuzz_##name },
static const struct target targets[] = { FUZZ_TARGETS(FUZZ_ENTRY_ROW) };

static int replay_file(const struct target *t, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *fp = fopen(path, "rb");
	char buf[65536];
	size_t n;

	if (!fp) {
		perror(path);	/* error() is silenced by fuzz_init() */
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(fp);
	t->fn((const uint8_t *)sb.buf, sb.len);
	strbuf_release(&sb);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of dir in name order (a stable order makes a failure repeatable). */
static int replay_dir(const struct target *t, const char *dir, int *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t nr = 0, alloc = 0;
	int ret = 0;

	if (!d) {
		perror(dir);
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		ALLOC_GROW(names, nr + 1, alloc);
		names[nr++] = xstrfmt("%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (nr)
		qsort(names, nr, sizeof(*names), name_cmp);
	for (size_t i = 0; i < nr; i++) {
		struct stat st;

		if (!stat(names[i], &st) && S_ISREG(st.st_mode)) {
			ret |= replay_file(t, names[i]);
			++*count;
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

int main(int argc, char **argv)
{
	const struct target *t = NULL;
	int count = 0, ret = 0;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < ARRAY_SIZE(targets); i++)
			printf("%s\n", targets[i].name);
		return 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: fuzz-replay TARGET FILE|DIR...\n       fuzz-replay --list\n");
		return 2;
	}
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++)
		if (!strcmp(targets[i].name, argv[1]))
			t = &targets[i];
	if (!t) {
		fprintf(stderr, "fuzz-replay: unknown target '%s'\n", argv[1]);
		return 2;
	}
	fuzz_init();
	for (int i = 2; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st)) {
			perror(argv[i]);
			ret = -1;
		} else if (S_ISDIR(st.st_mode)) {
			ret |= replay_dir(t, argv[i], &count);
		} else {
			ret |= replay_file(t, argv[i]);
			count++;
		}
	}
	printf("%s: %d inputs replayed\n", t->name, count);
	return ret ? 1 : 0;
}
