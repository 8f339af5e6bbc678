// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the windows file: round trips, describe, and bad files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "common/common.h"
#include "data/ds.h"
#include "data/trace.h"
#include "data/windows.h"
#include "tests/unit/unit-test.h"

static void poke(const char *path, const char *dset, const char *field, hsize_t row, int64_t v,
		 int relative);

static char *ep_names[] = { "a", "b", "c" };
static char *st_names[] = { "x", "y" };
static int8_t ep_frac[] = { 8, 0, 15 };
static int8_t st_frac[] = { 4, 8 };
static char *traces[] = { "one.h5", "two.h5" };

static struct ds_windows cand_hdr(int K)
{
	/* version 1: the windows are written as they are */
	return (struct ds_windows){ .version = 1, .mode = DS_WIN_CANDIDATES, .K = K, .E = 3, .S = 2,
				    .ep_names = ep_names, .state_names = st_names,
				    .ep_frac = ep_frac, .state_frac = st_frac, .nr_traces = 2,
				    .traces = traces };
}

/* Write n decisions of i % 5 candidates each; return the coverage written. */
static struct ds_coverage write_cand_file(const char *path, uint64_t n, int K)
{
	struct ds_windows hdr = cand_hdr(K);
	struct ds_windows_writer *w = ds_windows_create(path, &hdr);
	struct ds_coverage cov = { 0 };
	struct ds_candidate cand[4];
	int16_t *win = xcalloc(4 * (size_t)K * 3, sizeof(int16_t)), st[8];

	assert_non_null(w);
	assert_int_equal(ds_windows_set_note(w, "command_line", "test \"quoted\""), 0);
	for (uint64_t i = 0; i < n; i++) {
		struct ds_decision d = { .ts = 1000 + i, .trace = (int)(i % 2), .cpu = (int)(i % 3),
					 .ncand = (int)(i % 5), .prev_pid = 1, .next_pid = 2,
					 .split = (uint8_t)(i % 3) };

		d.label = d.ncand ? (int)(i % (uint64_t)d.ncand) : -1;
		if (i % 7 == 0)
			d.label = -1;
		for (int c = 0; c < d.ncand; c++) {
			memset(&cand[c], 0, sizeof(cand[c]));
			cand[c].pid = (int)(i * 10 + (uint64_t)c);
			cand[c].prio = 120;
			cand[c].queued_ns = i;
			cand[c].since_ran_ns = UINT64_MAX;
			cand[c].cpu_recent_ns = 7;
			snprintf(cand[c].comm, DS_COMM_LEN, "c%d", c);
			for (int k = 0; k < K * 3; k++)
				win[c * K * 3 + k] = (int16_t)(i + (uint64_t)k);
			st[c * 2] = (int16_t)-i;
			st[c * 2 + 1] = (int16_t)c;
		}
		assert_int_equal(ds_windows_add(w, &d, cand, win, st, NULL, NULL), 0);
		cov.decisions++;
		cov.covered += d.label >= 0;
		cov.contested += d.ncand >= 2;
		cov.contested_covered += d.ncand >= 2 && d.label >= 0;
		cov.cand_hist[d.ncand]++;
	}
	cov.inferred_switches = 3;
	cov.lost_resets = 1;
	assert_int_equal(ds_windows_finish(w, NULL, 0, &cov), 0);
	free(win);
	return cov;
}

static void test_round_trip_candidates(void **state)
{
	char *p = unit_path("c.h5");
	const uint64_t n = 50000;	/* several blocks of every appender */
	struct ds_coverage cov = write_cand_file(p, n, 4);
	struct ds_windows *w = ds_windows_load(p);
	uint64_t off = 0;

	assert_non_null(w);
	assert_int_equal(unit_h5_open_objects(), 0);
	assert_int_equal(w->version, 1);
	assert_int_equal(w->mode, DS_WIN_CANDIDATES);
	assert_true(w->K == 4 && w->E == 3 && w->S == 2 && w->nr_traces == 2);
	assert_string_equal(w->ep_names[2], "c");
	assert_string_equal(w->state_names[1], "y");
	assert_int_equal(w->ep_frac[2], 15);
	assert_int_equal(w->state_frac[0], 4);
	assert_string_equal(w->traces[1], "two.h5");
	assert_true(w->n_dec == n);
	assert_memory_equal(&w->cov, &cov, sizeof(cov));
	for (uint64_t i = 0; i < n; i++) {
		const struct ds_decision *d = &w->dec[i];

		assert_true(d->ts == 1000 + i && d->cand_off == off);
		assert_int_equal(d->ncand, (int)(i % 5));
		assert_int_equal(d->split, (int)(i % 3));
		for (int c = 0; c < d->ncand; c++) {
			const struct ds_candidate *cd = &w->cand[off + (uint64_t)c];

			assert_int_equal(cd->pid, (int)(i * 10 + (uint64_t)c));
			assert_true(cd->since_ran_ns == UINT64_MAX && cd->queued_ns == i);
			assert_int_equal(w->window[(off + (uint64_t)c) * 12 + 11],
					 (int16_t)(i + 11));
			assert_int_equal(w->state[(off + (uint64_t)c) * 2], (int16_t)-i);
		}
		off += (uint64_t)d->ncand;
	}
	assert_true(off == w->n_cand);
	assert_null(w->vocab);
	ds_windows_free(w);
	free(p);
}

/* Reading in blocks gives exactly what loading the whole file gives. */
static void test_stream_reader(void **state)
{
	char *p = unit_path("st.h5"), *bad = unit_path("st-bad.h5"), *cmd;
	struct ds_windows_reader *r;
	const struct ds_windows *h;
	struct ds_windows *w;
	struct ds_windows_block b;
	uint64_t at = 0;

	write_cand_file(p, 10000, 3);
	w = ds_windows_load(p);
	r = ds_windows_open(p);
	assert_non_null(w);
	assert_non_null(r);
	h = ds_windows_header(r);
	assert_true(h->n_dec == w->n_dec && h->n_cand == w->n_cand && h->K == 3);
	assert_null(h->dec);
	assert_string_equal(h->state_names[1], "y");
	assert_memory_equal(&h->cov, &w->cov, sizeof(w->cov));
	for (int k = 0; at < w->n_dec; k++) {
		uint64_t n = SC_MIN((uint64_t)777, w->n_dec - at);

		if (k % 2) {
			/* at most 50 candidates: fewer decisions, the next one would not fit */
			assert_int_equal(ds_windows_read_max(r, at, n, 50, &b), 0);
			assert_true(b.n_dec >= 1 && b.n_dec <= n);
			assert_true(b.n_cand <= 50 || b.n_dec == 1);
			if (b.n_dec < n)
				assert_true(b.n_cand + (uint64_t)w->dec[at + b.n_dec].ncand > 50);
			n = b.n_dec;
		} else {
			assert_int_equal(ds_windows_read(r, at, n, &b), 0);
		}
		assert_true(b.start == at && b.n_dec == n);
		assert_true(b.cand_start == w->dec[at].cand_off);
		for (uint64_t i = 0; i < n; i++) {	/* field by field: structs have padding */
			const struct ds_decision *x = &b.dec[i], *y = &w->dec[at + i];

			assert_true(x->ts == y->ts && x->cand_off == y->cand_off);
			assert_true(x->trace == y->trace && x->cpu == y->cpu &&
				    x->ncand == y->ncand);
			assert_true(x->label == y->label && x->split == y->split);
		}
		assert_memory_equal(b.cand, &w->cand[b.cand_start], b.n_cand * sizeof(*b.cand));
		assert_memory_equal(b.window, &w->window[b.cand_start * 9],
				    b.n_cand * 9 * sizeof(int16_t));
		assert_memory_equal(b.state, &w->state[b.cand_start * 2],
				    b.n_cand * 2 * sizeof(int16_t));
		at += n;
	}
	sc_set_quiet(1);
	assert_int_equal(ds_windows_read(r, w->n_dec - 1, 2, &b), -1);
	sc_set_quiet(0);
	assert_int_equal(ds_windows_read(r, w->n_dec, 0, &b), 0);
	ds_windows_close(r);
	ds_windows_free(w);

	/* a damaged row is caught in the block that holds it */
	cmd = xstrfmt("cp '%s' '%s'", p, bad);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	poke(bad, "decisions", "label", 5003, 9, 0);
	r = ds_windows_open(bad);
	assert_non_null(r);
	assert_int_equal(ds_windows_read(r, 0, 5000, &b), 0);
	sc_set_quiet(1);
	assert_int_equal(ds_windows_read(r, 5000, 5000, &b), -1);
	sc_set_quiet(0);
	ds_windows_close(r);
	assert_int_equal(unit_h5_open_objects(), 0);
	free(p);
	free(bad);
}

static void test_round_trip_sequence(void **state)
{
	char *p = unit_path("s.h5");
	struct ds_windows hdr = { .mode = DS_WIN_SEQUENCE, .W = 3, .nr_traces = 1,
				  .traces = traces, .seq_gap_frac = 8, .seq_vocab_by_pid = 1 };
	const char *vocab[] = { "<unknown>", "bash", "gcc" };
	struct ds_windows_writer *w = ds_windows_create(p, &hdr);
	struct ds_coverage cov = { 0 };
	struct ds_windows *l;

	assert_non_null(w);
	for (int i = 0; i < 100; i++) {
		struct ds_decision d = { .ts = (uint64_t)i, .label = i % 3, .split = 0 };
		int32_t ids[3] = { -1, i % 3, (i + 1) % 3 };
		int16_t gaps[3] = { 0, (int16_t)i, (int16_t)(2 * i) };

		assert_int_equal(ds_windows_add(w, &d, NULL, NULL, NULL, ids, gaps), 0);
		cov.decisions++;
		cov.covered += d.label != 0;
	}
	assert_int_equal(ds_windows_finish(w, vocab, 3, &cov), 0);
	l = ds_windows_load(p);
	assert_non_null(l);
	assert_int_equal(l->mode, DS_WIN_SEQUENCE);
	assert_true(l->W == 3 && l->n_vocab == 3 && l->n_dec == 100 && l->n_cand == 0);
	assert_string_equal(l->vocab[2], "gcc");
	assert_int_equal(l->seq_gap_frac, 8);
	assert_int_equal(l->seq_vocab_by_pid, 1);
	assert_int_equal(l->seq_ids[99 * 3], -1);
	assert_int_equal(l->seq_ids[99 * 3 + 2], 1);
	assert_int_equal(l->seq_gaps[99 * 3 + 2], 198);
	assert_int_equal(l->dec[98].label, 2);
	ds_windows_free(l);
	assert_int_equal(unit_h5_open_objects(), 0);
	free(p);
}

static void test_describe(void **state)
{
	char *p = unit_path("d.h5");
	struct strbuf sb = STRBUF_INIT;

	write_cand_file(p, 100, 2);
	assert_int_equal(ana_info_windows(p, 0, &sb), 0);
	assert_non_null(strstr(sb.buf, "decisions:       100\n"));
	assert_non_null(strstr(sb.buf, "split:           train 34, val 33, test 33\n"));
	assert_non_null(strstr(sb.buf, "inferred switches: 3"));
	assert_non_null(strstr(sb.buf, "  c                        Q0.15\n"));
	strbuf_reset(&sb);
	assert_int_equal(ana_info_windows(p, 1, &sb), 0);
	assert_non_null(strstr(sb.buf, "\"decisions\":100,"));
	assert_non_null(strstr(sb.buf, "\"cand_hist\":[20,20,20,20,20,0,"));
	assert_non_null(strstr(sb.buf, "\"command_line\":\"test \\\"quoted\\\"\""));
	assert_int_equal(unit_h5_open_objects(), 0);
	strbuf_release(&sb);
	free(p);
}

static void test_writer_refuses(void **state)
{
	char *p = unit_path("r.h5");
	struct ds_windows hdr = cand_hdr(2);
	struct ds_windows_writer *w;
	struct ds_candidate c = { 0 };
	int16_t win[6] = { 0 }, st[2] = { 0 };
	struct ds_decision d = { .ncand = 1, .label = 1 };

	sc_set_quiet(1);
	hdr.K = 0;
	assert_null(ds_windows_create(p, &hdr));
	hdr = cand_hdr(2);
	hdr.ep_names = NULL;
	assert_null(ds_windows_create(p, &hdr));
	assert_int_not_equal(access(p, F_OK), 0);
	hdr = cand_hdr(2);
	w = ds_windows_create(p, &hdr);
	assert_non_null(w);
	assert_int_equal(ds_windows_add(w, &d, &c, win, st, NULL, NULL), -1);
	ds_windows_abort(w);
	sc_set_quiet(0);
	assert_int_not_equal(access(p, F_OK), 0);
	assert_int_equal(unit_h5_open_objects(), 0);
	free(p);
}

/* Overwrite one field of decision row `row` through raw HDF5. */
/*
 * poke - set field of row of the table dset in the file at path to v, or
 * with relative to its value plus v (as int64: HDF5 converts to and from
 * the stored integer type)
 */
static void poke(const char *path, const char *dset, const char *field, hsize_t row, int64_t v,
		 int relative)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), d, t, fs, ms;
	hsize_t one = 1;
	int64_t old = 0;

	assert_true(f >= 0);
	d = H5Dopen2(f, dset, H5P_DEFAULT);
	t = H5Tcreate(H5T_COMPOUND, sizeof(int64_t));
	H5Tinsert(t, field, 0, H5T_NATIVE_INT64);
	fs = H5Dget_space(d);
	H5Sselect_hyperslab(fs, H5S_SELECT_SET, &row, NULL, &one, NULL);
	ms = H5Screate_simple(1, &one, NULL);
	if (relative)
		assert_true(H5Dread(d, t, ms, fs, H5P_DEFAULT, &old) >= 0);
	v += old;
	assert_true(H5Dwrite(d, t, ms, fs, H5P_DEFAULT, &v) >= 0);
	H5Sclose(ms);
	H5Sclose(fs);
	H5Tclose(t);
	H5Dclose(d);
	H5Fclose(f);
}

static void test_bad_files(void **state)
{
	char *good = unit_path("g.h5"), *bad = unit_path("bad.h5"), *cmd;
	struct ds_trace_meta m = { .nr_cpus = 1 };
	struct ds_trace_writer *tw;
	struct ds_file *f;

	write_cand_file(good, 200, 2);
	sc_set_quiet(1);
	/* missing, not HDF5, truncated */
	assert_null(ds_windows_load(bad));
	cmd = xstrfmt("echo hello >'%s'", bad);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_null(ds_windows_load(bad));
	cmd = xstrfmt("head -c 4000 '%s' >'%s'", good, bad);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_null(ds_windows_load(bad));
	/* a trace file is not a windows file */
	tw = ds_trace_create(bad, &m);
	assert_non_null(tw);
	assert_int_equal(ds_trace_writer_close(tw, NULL), 0);
	assert_null(ds_windows_load(bad));
	/* a newer version */
	f = ds_create(bad, DS_WINDOWS_FORMAT, DS_WINDOWS_VERSION + 1);
	assert_int_equal(ds_commit(f), 0);
	assert_null(ds_windows_load(bad));
	/* a label out of range, a trace index out of range, a broken candidate offset */
	cmd = xstrfmt("cp '%s' '%s'", good, bad);
	assert_int_equal(system(cmd), 0);
	poke(bad, "decisions", "label", 13, 4, 0);
	assert_null(ds_windows_load(bad));
	assert_int_equal(system(cmd), 0);
	poke(bad, "decisions", "trace", 5, 2, 0);
	assert_null(ds_windows_load(bad));
	assert_int_equal(system(cmd), 0);
	poke(bad, "decisions", "ncand", 0, 3, 0);
	assert_null(ds_windows_load(bad));
	assert_int_equal(system(cmd), 0);
	free(cmd);
	{
		struct ds_windows *w = ds_windows_load(bad);	/* the copy itself is fine */

		assert_non_null(w);
		ds_windows_free(w);
	}
	sc_set_quiet(0);
	assert_int_equal(unit_h5_open_objects(), 0);
	free(good);
	free(bad);
}

/*
 * Version 2: episodes stored once, windows rebuilt on reading.  Decision i
 * first completes one episode of task i % 7 (features i, task, 7), then has
 * i % 6 candidates, tasks 0.., each referring to all its episodes so far.
 * The expected window is kept here by brute force: each task's full history.
 */
#define V2_T 7
static int16_t v2_hist[V2_T][20000][3];
static uint32_t v2_nep[V2_T];

static void v2_expect(uint32_t task, uint32_t n_ep, int K, int16_t *win)
{
	memset(win, 0, (size_t)K * 3 * sizeof(*win));
	for (int k = 0; k < K; k++) {
		int64_t e = (int64_t)n_ep - K + k;

		if (e >= 0)
			memcpy(win + k * 3, v2_hist[task][e], sizeof(v2_hist[task][e]));
	}
}

/* the row of task t's episode e (1-based) in test_version2_many_tasks */
static void many_row(uint32_t t, int e, int16_t row[3])
{
	row[0] = (int16_t)(t & 0x7fff);
	row[1] = (int16_t)(t >> 15);
	row[2] = (int16_t)e;
}

/*
 * More tasks than the reader keeps rings for: 40000 tasks with an episode
 * each, then every seventh of them a candidate again (its ring freed long
 * ago: rebuilt from the file) and given a second episode.  The windows read
 * back, streamed and loaded, are the tasks' own.
 */
static void test_version2_many_tasks(void **state)
{
	char *p = unit_path("v2-many.h5");
	const uint32_t N = 40000;
	const int K = 4;
	struct ds_windows hdr = cand_hdr(K);
	struct ds_windows_writer *wr;
	struct ds_windows_reader *r;
	struct ds_windows *w;
	struct ds_windows_block b;
	struct ds_coverage cov = { 0 };
	uint64_t n_dec = 0, checked = 0;

	(void)state;
	hdr.version = 2;
	wr = ds_windows_create(p, &hdr);
	assert_non_null(wr);
	for (int phase = 0; phase < 2; phase++) {
		for (uint32_t t = 0; t < N; t += phase ? 7 : 1) {
			for (int e = 0; e < 2; e++) {
				struct ds_decision d = { .ts = n_dec, .ncand = 1, .label = 0 };
				struct ds_candidate c = { .pid = (int32_t)t + 1, .task = t,
							  .n_ep = (uint32_t)(phase + e) };
				int16_t row[3], st[2] = { 1, 2 };

				if (phase == 0 && e == 1)
					break;
				if (e == 1 || phase == 0) {	/* an episode, then the decision */
					many_row(t, phase ? 2 : 1, row);
					assert_int_equal(ds_windows_add_episodes(wr, &t, row, 1), 0);
				}
				if (phase == 0)
					c.n_ep = 1;
				assert_int_equal(ds_windows_add(wr, &d, &c, NULL, st, NULL, NULL), 0);
				n_dec++;
				cov.decisions++;
				cov.cand_hist[1]++;
			}
		}
	}
	assert_int_equal(ds_windows_finish(wr, NULL, 0, &cov), 0);

	w = ds_windows_load(p);
	assert_non_null(w);
	r = ds_windows_open(p);
	assert_non_null(r);
	for (uint64_t at = 0; at < n_dec; at += 1000) {
		uint64_t k = SC_MIN((uint64_t)1000, n_dec - at);

		assert_int_equal(ds_windows_read(r, at, k, &b), 0);
		for (uint64_t i = 0; i < b.n_cand; i++) {
			const struct ds_candidate *c = &b.cand[i];
			int16_t want[4 * 3] = { 0 };

			for (uint32_t e = 1; e <= c->n_ep; e++)
				many_row(c->task, (int)e, want + (size_t)(K - c->n_ep + e - 1) * 3);
			assert_memory_equal(b.window + i * K * 3, want, sizeof(want));
			assert_memory_equal(&w->window[(b.cand_start + i) * K * 3], want,
					    sizeof(want));
			checked++;
		}
	}
	printf("# %u tasks, %llu windows checked, streamed and loaded\n", N,
	       (unsigned long long)checked);
	assert_int_equal(checked, n_dec);
	ds_windows_close(r);
	ds_windows_free(w);
	free(p);
}

static void test_version2_episodes(void **state)
{
	char *p = unit_path("v2.h5"), *bad = unit_path("v2-bad.h5"), *cmd;
	const uint64_t n = 20000;
	const int K = 4;
	struct ds_windows hdr = cand_hdr(K);
	struct ds_windows_writer *wr;
	struct ds_windows_reader *r;
	struct ds_windows *w;
	struct ds_windows_block b;
	struct ds_coverage cov = { 0 };
	struct ds_candidate cand[6];
	int16_t st[12], want[4 * 3];
	uint64_t at;

	hdr.version = 2;
	memset(v2_nep, 0, sizeof(v2_nep));
	wr = ds_windows_create(p, &hdr);
	assert_non_null(wr);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t task = (uint32_t)(i % V2_T);
		int16_t row[3] = { (int16_t)i, (int16_t)task, 7 };
		struct ds_decision d = { .ts = i, .cpu = 0, .ncand = (int)(i % 6), .label = -1,
					 .split = 0 };

		memcpy(v2_hist[task][v2_nep[task]++], row, sizeof(row));
		assert_int_equal(ds_windows_add_episodes(wr, &task, row, 1), 0);
		for (int c = 0; c < d.ncand; c++) {
			memset(&cand[c], 0, sizeof(cand[c]));
			cand[c].pid = c + 1;
			cand[c].task = (uint32_t)c;
			cand[c].n_ep = v2_nep[c];
			st[c * 2] = (int16_t)i;
			st[c * 2 + 1] = (int16_t)c;
		}
		assert_int_equal(ds_windows_add(wr, &d, cand, NULL, st, NULL, NULL), 0);
		cov.decisions++;
		cov.contested += d.ncand >= 2;
		cov.cand_hist[d.ncand]++;
	}
	assert_int_equal(ds_windows_finish(wr, NULL, 0, &cov), 0);

	w = ds_windows_load(p);
	assert_non_null(w);
	assert_int_equal(w->version, 2);
	assert_true(w->n_ep == n && w->n_tasks == V2_T);
	for (uint64_t i = 0; i < n; i++) {
		const struct ds_decision *d = &w->dec[i];

		assert_true(d->ep_off == i + 1);
		for (int c = 0; c < d->ncand; c++) {
			const struct ds_candidate *cd = &w->cand[d->cand_off + (uint64_t)c];

			/* the history as it was at decision i */
			v2_expect(cd->task, cd->n_ep, K, want);
			assert_memory_equal(&w->window[(d->cand_off + (uint64_t)c) * K * 3], want,
					    sizeof(want));
			assert_int_equal(w->state[(d->cand_off + (uint64_t)c) * 2], (int16_t)i);
		}
	}
	/* blocks in order, then back to the start (the episodes are replayed again) */
	r = ds_windows_open(p);
	assert_non_null(r);
	for (int pass = 0; pass < 2; pass++) {
		for (at = pass ? 5000 : 0; at < n; at += 999) {
			uint64_t k = SC_MIN((uint64_t)999, n - at);

			assert_int_equal(ds_windows_read(r, at, k, &b), 0);
			assert_memory_equal(b.window, &w->window[b.cand_start * K * 3],
					    b.n_cand * K * 3 * sizeof(int16_t));
		}
		assert_int_equal(ds_windows_read(r, 17, 3, &b), 0);
		assert_memory_equal(b.window, &w->window[b.cand_start * K * 3],
				    b.n_cand * K * 3 * sizeof(int16_t));
	}
	ds_windows_close(r);
	ds_windows_free(w);

	/* a candidate that refers to an episode its task has not completed yet */
	cmd = xstrfmt("cp '%s' '%s'", p, bad);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	poke(bad, "decisions", "ep_off", 100, 50, 0);	/* decision 100: 50 episodes before it */
	sc_set_quiet(1);
	assert_null(ds_windows_load(bad));
	sc_set_quiet(0);

	/* a candidate that claims one episode more than its task has */
	cmd = xstrfmt("cp '%s' '%s'", p, bad);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	poke(bad, "cand", "n_ep", 1000, 1, 1);
	sc_set_quiet(1);
	assert_null(ds_windows_load(bad));
	r = ds_windows_open(bad);
	assert_non_null(r);
	assert_int_equal(ds_windows_read(r, 0, n, &b), -1);
	ds_windows_close(r);
	sc_set_quiet(0);
	assert_int_equal(unit_h5_open_objects(), 0);
	free(p);
	free(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_candidates),
		cmocka_unit_test(test_stream_reader),
		cmocka_unit_test(test_version2_many_tasks),
		cmocka_unit_test(test_version2_episodes),
		cmocka_unit_test(test_round_trip_sequence),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_bad_files),
	};
	return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
