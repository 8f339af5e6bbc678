// SPDX-License-Identifier: GPL-2.0
/* Scratch files and memory streams for the fuzz targets and the replayer. */
#include <fcntl.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "common/common.h"
#include "data/ds.h"
#include "data/trace.h"
#include "fuzz/fuzz.h"

#define MAX_SCRATCH 8

static char *scratch[MAX_SCRATCH];

static void remove_scratch(void)
{
	for (int i = 0; i < MAX_SCRATCH; i++) {
		if (scratch[i]) {
			unlink(scratch[i]);
			free(scratch[i]);
			scratch[i] = NULL;
		}
	}
}

void fuzz_init(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	sc_set_quiet(1);
	atexit(remove_scratch);
}

/* One scratch name per suffix, so that a target may hold two inputs at once. */
static const char *scratch_path(const char *suffix)
{
	struct stat st;
	const char *dir = !stat("/dev/shm", &st) && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	char *p = xstrfmt("%s/schedcast-fuzz.%d%s", dir, (int)getpid(), suffix);
	int i;

	for (i = 0; i < MAX_SCRATCH && scratch[i]; i++) {
		if (!strcmp(scratch[i], p)) {
			free(p);
			return scratch[i];
		}
	}
	if (i == MAX_SCRATCH) {
		free(p);
		return NULL;
	}
	scratch[i] = p;
	return p;
}

const char *fuzz_tmpfile(const uint8_t *data, size_t size, const char *suffix)
{
	const char *path = scratch_path(suffix);
	size_t off = 0;
	int fd;

	if (!path)
		return NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return NULL;
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0) {
			close(fd);
			return NULL;
		}
		off += (size_t)n;
	}
	close(fd);
	return path;
}

FILE *fuzz_memfile(const uint8_t *data, size_t size)
{
	/* fmemopen refuses a zero size; /dev/null is the empty stream */
	if (!size)
		return fopen("/dev/null", "r");
	return fmemopen((void *)data, size, "r");
}

void fuzz_fail(const char *msg)
{
	fprintf(stderr, "fuzz: %s\n", msg);
	abort();
}

void fuzz_check_closed(void)
{
	long n = (long)H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);

	if (n) {
		fprintf(stderr, "fuzz: %ld HDF5 objects left open\n", n);
		abort();
	}
}

static volatile uint64_t fuzz_sink;

int fuzz_read_trace(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	struct ds_trace_reader *r;
	const struct ds_task *tasks;
	const uint64_t *lost;
	uint64_t ntasks, sum = 0;
	struct ds_event ev;
	char format[64];
	int version, ret;

	ds_identify(path, format, sizeof(format), &version);
	r = ds_trace_open(path);
	if (!r) {
		fuzz_check_closed();
		return -1;
	}
	/* touch every table the reader hands out: ASan checks their bounds */
	tasks = ds_trace_tasks(r, &ntasks);
	for (uint64_t i = 0; i < ntasks; i++)
		sum += (uint64_t)tasks[i].pid + tasks[i].first_ts + strlen(tasks[i].comm);
	lost = ds_trace_lost(r);
	for (int i = 0; i < ds_trace_meta(r)->nr_cpus; i++)
		sum += lost[i];
	while ((ret = ds_trace_next(r, &ev)) > 0)
		sum += ev.ts + strlen(ev.comm) + strlen(ev.next_comm);
	ds_trace_close(r);
	ana_info_trace(path, 0, &sb);
	ana_info_trace(path, 1, &sb);
	strbuf_release(&sb);
	fuzz_check_closed();
	fuzz_sink = sum;	/* keep the reads */
	return ret < 0 ? -1 : 0;
}
