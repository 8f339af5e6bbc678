/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz/fuzz.h - what the libFuzzer targets (fuzz/fuzz-<name>.c) share with
 * the corpus replayer (fuzz/replay.c, built with the normal compiler and run
 * by `make check`, so that every kept input stays a regression test even
 * where clang is missing).
 *
 * A target is a function fuzz_<name>(data, size) that hands the bytes to one
 * parser of outside input through its library API, never through the CLI.
 * It must return normally whatever the bytes are: a crash, a sanitizer
 * report, a leak or a hang is a finding.
 */
#ifndef SC_FUZZ_H
#define SC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The targets, X(name) each: fuzz/fuzz-<name>.c defines fuzz_<name>(), its
 * seeds live in fuzz/corpus/<name>/ and its kept crash inputs in
 * fuzz/crashes/<name>/.
 */
#define FUZZ_TARGETS(X) \
	X(trace) \
	X(text) \
	X(import) \
	X(tracemut) \
	X(windows) \
	X(model) \
	X(decode) \
	X(perfdata)

#define FUZZ_DECLARE(name) int fuzz_##name(const uint8_t *data, size_t size);
FUZZ_TARGETS(FUZZ_DECLARE)
#undef FUZZ_DECLARE

/* fuzz_init - once per process: silence error() output, set up scratch paths */
void fuzz_init(void);

/*
 * fuzz_tmpfile - write data to this process's scratch file (in /dev/shm when
 * there is one) whose name ends in suffix, and return its path (static
 * storage, overwritten by the next call).  NULL if it cannot be written.
 * The file is removed at exit.
 */
const char *fuzz_tmpfile(const uint8_t *data, size_t size, const char *suffix);

/* fuzz_fail - a finding the sanitizers cannot see: print it and abort() */
void fuzz_fail(const char *msg) __attribute__((noreturn));

/*
 * fuzz_check_closed - abort (a finding) if an HDF5 object is still open
 * after the reader returned: an id leaked on some path.
 */
void fuzz_check_closed(void);

/*
 * fuzz_read_trace - read the trace file at path as every stage does:
 * identify, open, the task and lost tables, all events, a rewind, the text
 * and JSON descriptions; then fuzz_check_closed().  0, or -1 if it was refused.
 */
int fuzz_read_trace(const char *path);

/*
 * fuzz_h5_mutate - copy the valid file base to a scratch file and apply the
 * HDF5-level changes that data describes (fuzz/h5mut.c); the scratch path,
 * or NULL when HDF5 would not even open the copy.
 */
const char *fuzz_h5_mutate(const char *base, const uint8_t *data, size_t size);
/* fuzz_base - path of fuzz/bases/<name> in the source tree (static storage) */
const char *fuzz_base(const char *name);

/* fuzz_memfile - a read-only FILE * over data (fmemopen; "" for size 0) */
FILE *fuzz_memfile(const uint8_t *data, size_t size);

/* The libFuzzer entry point, defined once per target when SC_LIBFUZZER is set. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef SC_LIBFUZZER
#define FUZZ_ENTRY(name)                                                   \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)       \
	{                                                                  \
		fuzz_init();                                               \
		fuzz_##name(data, size);                                   \
		return 0;                                                  \
	}
#else
#define FUZZ_ENTRY(name)
#endif

#endif /* SC_FUZZ_H */
