// SPDX-License-Identifier: GPL-2.0
/*
 * The windows file: a streaming writer (decisions, candidates and their
 * feature windows appended in blocks), a validating whole-file loader and the
 * describer behind `schedcast info`.  See data/windows.h for the layout.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "data/data-local.h"
#include "data/windows.h"

/* Bounds a file must respect before anything is allocated for it. */
#define MAX_K 1024
#define MAX_FEAT 256
#define MAX_W 4096
#define MAX_TRACES 65536
#define MAX_VOCAB (1u << 24)
#define MAX_ROWS (1ull << 36)

static const char *const split_names[3] = { "train", "val", "test" };

/* ---- HDF5 types ------------------------------------------------------------ */

static hid_t comm_type(void)
{
	hid_t t = H5Tcopy(H5T_C_S1);

	H5Tset_size(t, DS_COMM_LEN);
	H5Tset_strpad(t, H5T_STR_NULLPAD);
	return t;
}

/* Decision rows: packed little-endian in the file, struct ds_decision in memory. */
static hid_t dec_type(int file, int version)
{
	hid_t t;
	int v2 = version >= 2;
#define I32 (file ? H5T_STD_I32LE : H5T_NATIVE_INT32)
#define U64 (file ? H5T_STD_U64LE : H5T_NATIVE_UINT64)
	if (file) {
		size_t off = 0;

		t = H5Tcreate(H5T_COMPOUND, 8 + 8 + (v2 ? 8 : 0) + 6 * 4 + 1);
#define F(name, ty, sz) do { H5Tinsert(t, name, off, ty); off += sz; } while (0)
		F("ts", U64, 8);
		F("cand_off", U64, 8);
		if (v2)
			F("ep_off", U64, 8);
		F("trace", I32, 4);
		F("cpu", I32, 4);
		F("ncand", I32, 4);
		F("label", I32, 4);
		F("prev_pid", I32, 4);
		F("next_pid", I32, 4);
		F("split", H5T_STD_U8LE, 1);
#undef F
	} else {
		t = H5Tcreate(H5T_COMPOUND, sizeof(struct ds_decision));
#define M(name, ty) H5Tinsert(t, #name, HOFFSET(struct ds_decision, name), ty)
		M(ts, U64);
		M(cand_off, U64);
		if (v2)
			M(ep_off, U64);
		M(trace, I32);
		M(cpu, I32);
		M(ncand, I32);
		M(label, I32);
		M(prev_pid, I32);
		M(next_pid, I32);
		M(split, H5T_NATIVE_UINT8);
#undef M
	}
	return t;
}

static hid_t cand_type(int file, int version)
{
	hid_t c = comm_type(), t;
	int v2 = version >= 2;

	if (file) {
		size_t off = 0;

		t = H5Tcreate(H5T_COMPOUND, 4 + 4 + 3 * 8 + DS_COMM_LEN + (v2 ? 8 : 0));
#define F(name, ty, sz) do { H5Tinsert(t, name, off, ty); off += sz; } while (0)
		F("pid", I32, 4);
		F("prio", I32, 4);
		F(v2 ? "queued_since" : "queued_ns", U64, 8);
		F(v2 ? "ran_at" : "since_ran_ns", U64, 8);
		F("cpu_recent_ns", U64, 8);
		F("comm", c, DS_COMM_LEN);
		if (v2) {
			F("task", H5T_STD_U32LE, 4);
			F("n_ep", H5T_STD_U32LE, 4);
		}
#undef F
	} else {
		t = H5Tcreate(H5T_COMPOUND, sizeof(struct ds_candidate));
#define M(name, ty) H5Tinsert(t, #name, HOFFSET(struct ds_candidate, name), ty)
		M(pid, I32);
		M(prio, I32);
		if (v2) {
			H5Tinsert(t, "queued_since", HOFFSET(struct ds_candidate, queued_ns), U64);
			H5Tinsert(t, "ran_at", HOFFSET(struct ds_candidate, since_ran_ns), U64);
		} else {
			M(queued_ns, U64);
			M(since_ran_ns, U64);
		}
		M(cpu_recent_ns, U64);
		M(comm, c);
		if (v2) {
			M(task, H5T_NATIVE_UINT32);
			M(n_ep, H5T_NATIVE_UINT32);
		}
#undef M
	}
#undef I32
#undef U64
	H5Tclose(c);
	return t;
}

/* ---- an appender for any row type and rank (ds_appender does rank <= 2) ---- */

struct happ {
	const char *name;
	hid_t d, mt;
	int rank;
	hsize_t inner[3];	/* dims after the first */
	size_t row_bytes;
	unsigned char *buf;
	uint64_t nbuf, cap, rows;
};

/*
 * A dataset appended in blocks of buf_bytes, each block whole chunks.
 * columns: a rank-2 array chunked one column at a time (each feature's
 * values side by side compress several times better than rows).
 */
static int happ_open_chunked(struct ds_file *f, struct happ *a, const char *name, hid_t ft,
			     hid_t mt, size_t row_bytes, int rank, const hsize_t *inner,
			     size_t buf_bytes, int columns)
{
	hsize_t dims[4] = { 0 }, maxd[4] = { H5S_UNLIMITED }, chunk[4];
	hid_t sp, dcpl;

	memset(a, 0, sizeof(*a));
	a->name = name;
	a->mt = mt;
	a->rank = rank;
	a->row_bytes = row_bytes;
	a->cap = SC_MAX((uint64_t)1, (uint64_t)buf_bytes / row_bytes);
	chunk[0] = a->cap;
	for (int i = 1; i < rank; i++) {
		a->inner[i - 1] = inner[i - 1];
		dims[i] = maxd[i] = inner[i - 1];
		chunk[i] = inner[i - 1] && !columns ? inner[i - 1] : 1;
	}
	sp = H5Screate_simple(rank, dims, maxd);
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_chunk(dcpl, rank, chunk);
	H5Pset_shuffle(dcpl);
	H5Pset_deflate(dcpl, 4);
	a->d = H5Dcreate2(f->fid, name, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	H5Pclose(dcpl);
	H5Sclose(sp);
	if (a->d < 0)
		return error("cannot create dataset '%s' in '%s'", name, f->path);
	a->buf = xmallocarray(a->cap, row_bytes);
	return 0;
}

static int happ_open(struct ds_file *f, struct happ *a, const char *name, hid_t ft, hid_t mt,
		     size_t row_bytes, int rank, const hsize_t *inner)
{
	return happ_open_chunked(f, a, name, ft, mt, row_bytes, rank, inner, 256 * 1024, 0);
}

static int happ_flush(struct ds_file *f, struct happ *a)
{
	hsize_t size[4], off[4] = { 0 }, cnt[4];
	hid_t fs, ms;
	int ret = 0;

	if (!a->nbuf)
		return 0;
	size[0] = a->rows + a->nbuf;
	off[0] = a->rows;
	cnt[0] = a->nbuf;
	for (int i = 1; i < a->rank; i++)
		size[i] = cnt[i] = a->inner[i - 1];
	if (H5Dset_extent(a->d, size) < 0)
		return error("cannot extend dataset '%s' in '%s': %s", a->name, f->path,
			     ds_h5_strerror());
	fs = H5Dget_space(a->d);
	H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
	ms = H5Screate_simple(a->rank, cnt, NULL);
	if (H5Dwrite(a->d, a->mt, ms, fs, H5P_DEFAULT, a->buf) < 0)
		ret = error("cannot write dataset '%s' in '%s': %s", a->name, f->path,
			    ds_h5_strerror());
	H5Sclose(ms);
	H5Sclose(fs);
	a->rows += a->nbuf;
	a->nbuf = 0;
	return ret;
}

static int happ_add(struct ds_file *f, struct happ *a, const void *rows, uint64_t n)
{
	const unsigned char *p = rows;

	while (n) {
		uint64_t k = SC_MIN(n, a->cap - a->nbuf);

		if (a->row_bytes)
			memcpy(a->buf + a->nbuf * a->row_bytes, p, k * a->row_bytes);
		a->nbuf += k;
		p += k * a->row_bytes;
		n -= k;
		if (a->nbuf == a->cap && happ_flush(f, a))
			return -1;
	}
	return 0;
}

static int happ_close(struct ds_file *f, struct happ *a, int flush)
{
	int ret = 0;

	if (flush)
		ret = happ_flush(f, a);
	if (a->d > 0)
		H5Dclose(a->d);
	a->d = 0;
	free(a->buf);
	a->buf = NULL;
	return ret;
}

/* ---- writer ---------------------------------------------------------------- */

/*
 * Version 2 chunking, measured on a hackbench trace (71 candidates a
 * decision): state in column chunks of 32768 rows is 7.3 MB against 13.2 MB
 * in row chunks; candidate rows in chunks of 1 MiB (the default chunk cache,
 * so a chunk is never written twice).
 */
#define V2_CAND_BUF (1024 * 1024)
#define V2_COLUMN_ROWS 32768

/*
 * Version 2 stores a candidate's queued_ns and since_ran_ns as the times
 * they count from (decision ts minus them, modulo 2^64: exact both ways):
 * constant while the task waits, so they compress to almost nothing.
 */
static void cand_to_file(struct ds_candidate *c, int n, uint64_t ts)
{
	for (int i = 0; i < n; i++) {
		c[i].queued_ns = ts - c[i].queued_ns;
		c[i].since_ran_ns = ts - c[i].since_ran_ns;
	}
}

static void cand_from_file(struct ds_candidate *c, int n, uint64_t ts)
{
	cand_to_file(c, n, ts);		/* its own inverse */
}

enum {
	A_DEC, A_CAND, A_WINDOW, A_STATE, A_EPISODES, A_EP_TASK, A_SEQ_IDS, A_SEQ_GAPS,
	A_SEQ_LABEL, A_NR
};

struct ds_windows_writer {
	struct ds_file *f;
	int version, mode, K, E, S, W;
	uint64_t n_ep, n_tasks;
	struct ds_candidate *tmp;	/* version 2: rows as stored */
	size_t tmp_cap;
	struct happ app[A_NR];
	int open[A_NR];
	hid_t dec_ft, dec_mt, cand_ft, cand_mt;
	uint64_t n_dec, n_cand, split_n[3];
	int failed;
};

static int write_names(struct ds_file *f, const char *names_ds, const char *frac_ds,
		       char *const *names, const int8_t *frac, int n)
{
	uint64_t dim = (uint64_t)n;

	for (int i = 0; i < n; i++)
		if (!names || !names[i])
			return error("cannot write '%s': feature %d of '%s' has no name", f->path,
				     i, names_ds);
	if (ds_write_strings(f, names_ds, (const char *const *)names, dim) ||
	    ds_write_array(f, frac_ds, DS_I8, 1, &dim, frac))
		return -1;
	return 0;
}

static void writer_free(struct ds_windows_writer *w, int flush)
{
	for (int i = 0; i < A_NR; i++)
		if (w->open[i])
			happ_close(w->f, &w->app[i], flush);
	H5Tclose(w->dec_ft);
	H5Tclose(w->dec_mt);
	H5Tclose(w->cand_ft);
	H5Tclose(w->cand_mt);
	free(w->tmp);
	w->tmp = NULL;
}

struct ds_windows_writer *ds_windows_create(const char *path, const struct ds_windows *hdr)
{
	struct ds_windows_writer *w;
	struct ds_file *f;
	int seq = hdr->mode == DS_WIN_SEQUENCE;
	int ret = 0;

	if (hdr->mode != DS_WIN_CANDIDATES && !seq) {
		error("cannot write '%s': unknown mode %d", path, hdr->mode);
		return NULL;
	}
	if (!seq && (hdr->K < 1 || hdr->K > MAX_K || hdr->E < 1 || hdr->E > MAX_FEAT ||
		     hdr->S < 1 || hdr->S > MAX_FEAT)) {
		error("cannot write '%s': invalid shape K=%d E=%d S=%d", path, hdr->K, hdr->E,
		      hdr->S);
		return NULL;
	}
	if (seq && (hdr->W < 1 || hdr->W > MAX_W || hdr->seq_gap_frac < 0 ||
		    hdr->seq_gap_frac > 15)) {
		error("cannot write '%s': invalid sequence length W=%d", path, hdr->W);
		return NULL;
	}
	if (hdr->nr_traces < 0 || hdr->nr_traces > MAX_TRACES) {
		error("cannot write '%s': invalid number of traces %d", path, hdr->nr_traces);
		return NULL;
	}
	if (hdr->version < 0 || hdr->version > DS_WINDOWS_VERSION) {
		error("cannot write '%s': unknown version %d", path, hdr->version);
		return NULL;
	}
	f = ds_create(path, DS_WINDOWS_FORMAT, hdr->version ? hdr->version : DS_WINDOWS_VERSION);
	if (!f)
		return NULL;
	w = xcalloc(1, sizeof(*w));
	w->f = f;
	w->version = hdr->version ? hdr->version : DS_WINDOWS_VERSION;
	w->mode = hdr->mode;
	w->K = seq ? 0 : hdr->K;
	w->E = seq ? 0 : hdr->E;
	w->S = seq ? 0 : hdr->S;
	w->W = seq ? hdr->W : 0;
	w->dec_ft = dec_type(1, w->version);
	w->dec_mt = dec_type(0, w->version);
	w->cand_ft = cand_type(1, w->version);
	w->cand_mt = cand_type(0, w->version);

	ret |= ds_attr_set_str(f, NULL, "mode", seq ? "sequence" : "candidates");
	ret |= ds_attr_set_int(f, NULL, "K", w->K);
	ret |= ds_attr_set_int(f, NULL, "E", w->E);
	ret |= ds_attr_set_int(f, NULL, "S", w->S);
	ret |= ds_attr_set_int(f, NULL, "W", w->W);
	ret |= ds_attr_set_int(f, NULL, "nr_traces", hdr->nr_traces);
	ret |= ds_attr_set_int(f, NULL, "seq_gap_frac", seq ? hdr->seq_gap_frac : 0);
	if (seq)
		ret |= ds_attr_set_str(f, NULL, "vocab_by", hdr->seq_vocab_by_pid ? "pid" : "comm");
	if (!ret && hdr->nr_traces) {
		for (int i = 0; i < hdr->nr_traces; i++)
			if (!hdr->traces || !hdr->traces[i])
				ret = error("cannot write '%s': trace %d has no name", path, i);
		if (!ret)
			ret = ds_write_strings(f, "traces", (const char *const *)hdr->traces,
					       (uint64_t)hdr->nr_traces);
	} else if (!ret) {
		ret = ds_write_strings(f, "traces", NULL, 0);
	}
	if (!ret)
		ret = write_names(f, "ep_names", "ep_frac", hdr->ep_names, hdr->ep_frac, w->E);
	if (!ret)
		ret = write_names(f, "state_names", "state_frac", hdr->state_names,
				  hdr->state_frac, w->S);
	if (!ret) {
		hsize_t ke[2] = { (hsize_t)w->K, (hsize_t)w->E }, s[1] = { (hsize_t)w->S };
		hsize_t wd[1] = { (hsize_t)w->W };

		int v2 = w->version >= 2;

		ret = happ_open(f, &w->app[A_DEC], "decisions", w->dec_ft, w->dec_mt,
				sizeof(struct ds_decision), 1, NULL);
		w->open[A_DEC] = !ret;
		if (!ret) {
			ret = happ_open_chunked(f, &w->app[A_CAND], "cand", w->cand_ft, w->cand_mt,
						sizeof(struct ds_candidate), 1, NULL,
						v2 ? V2_CAND_BUF : 256 * 1024, 0);
			w->open[A_CAND] = !ret;
		}
		if (!ret && !seq && w->version == 1) {
			ret = happ_open(f, &w->app[A_WINDOW], "window", H5T_STD_I16LE,
					H5T_NATIVE_INT16, (size_t)w->K * w->E * 2, 3, ke);
			w->open[A_WINDOW] = !ret;
		}
		if (!ret && !seq && w->version >= 2) {
			hsize_t e[1] = { (hsize_t)w->E };

			ret = happ_open_chunked(f, &w->app[A_EPISODES], "episodes", H5T_STD_I16LE,
						H5T_NATIVE_INT16, (size_t)w->E * 2, 2, e,
						(size_t)w->E * V2_COLUMN_ROWS * 2, 1);
			w->open[A_EPISODES] = !ret;
			if (!ret) {
				ret = happ_open(f, &w->app[A_EP_TASK], "ep_task", H5T_STD_U32LE,
						H5T_NATIVE_UINT32, 4, 1, NULL);
				w->open[A_EP_TASK] = !ret;
			}
		}
		if (!ret && !seq) {
			ret = happ_open_chunked(f, &w->app[A_STATE], "state", H5T_STD_I16LE,
						H5T_NATIVE_INT16, (size_t)w->S * 2, 2, s,
						v2 ? (size_t)w->S * V2_COLUMN_ROWS * 2 : 256 * 1024,
						v2);
			w->open[A_STATE] = !ret;
		}
		if (!ret && seq) {
			ret = happ_open(f, &w->app[A_SEQ_IDS], "seq_ids", H5T_STD_I32LE,
					H5T_NATIVE_INT32, (size_t)w->W * 4, 2, wd);
			w->open[A_SEQ_IDS] = !ret;
			if (!ret) {
				ret = happ_open(f, &w->app[A_SEQ_GAPS], "seq_gaps", H5T_STD_I16LE,
						H5T_NATIVE_INT16, (size_t)w->W * 2, 2, wd);
				w->open[A_SEQ_GAPS] = !ret;
			}
			if (!ret) {
				ret = happ_open(f, &w->app[A_SEQ_LABEL], "seq_label", H5T_STD_I32LE,
						H5T_NATIVE_INT32, 4, 1, NULL);
				w->open[A_SEQ_LABEL] = !ret;
			}
		}
	}
	if (ret) {
		writer_free(w, 0);
		ds_abort(f);
		free(w);
		return NULL;
	}
	return w;
}

int ds_windows_set_note(struct ds_windows_writer *w, const char *name, const char *value)
{
	return ds_attr_set_str(w->f, NULL, name, value);
}

int ds_windows_add(struct ds_windows_writer *w, struct ds_decision *d,
		   const struct ds_candidate *cand, const int16_t *window, const int16_t *state,
		   const int32_t *ids, const int16_t *gaps)
{
	struct ds_file *f = w->f;
	int ret = 0;

	if (w->failed)
		return -1;
	if (d->split > DS_SPLIT_TEST || d->ncand < 0 ||
	    (w->mode == DS_WIN_CANDIDATES && (d->label < -1 || d->label >= d->ncand)) ||
	    (w->mode == DS_WIN_SEQUENCE && (d->ncand || d->label < 0))) {
		w->failed = 1;
		return error("cannot write '%s': invalid decision (ncand %d, label %d, split %d)",
			     f->path, d->ncand, d->label, d->split);
	}
	d->cand_off = w->n_cand;
	d->ep_off = w->version >= 2 ? w->n_ep : 0;
	if (w->mode == DS_WIN_CANDIDATES && d->ncand && w->version >= 2) {
		for (int i = 0; i < d->ncand; i++) {
			if (cand[i].task >= w->n_tasks && cand[i].n_ep) {
				w->failed = 1;
				return error("cannot write '%s': candidate %d of decision %llu "
					     "refers to task %u with no episode", f->path, i,
					     (unsigned long long)w->n_dec, cand[i].task);
			}
		}
	}
	if (w->mode == DS_WIN_CANDIDATES && d->ncand && w->version >= 2) {
		if ((size_t)d->ncand > w->tmp_cap) {
			w->tmp_cap = (size_t)d->ncand;
			w->tmp = xreallocarray(w->tmp, w->tmp_cap, sizeof(*w->tmp));
		}
		memcpy(w->tmp, cand, (size_t)d->ncand * sizeof(*cand));
		cand_to_file(w->tmp, d->ncand, d->ts);
		cand = w->tmp;
	}
	if (w->mode == DS_WIN_CANDIDATES && d->ncand) {
		ret |= happ_add(f, &w->app[A_CAND], cand, (uint64_t)d->ncand);
		if (w->version == 1)
			ret |= happ_add(f, &w->app[A_WINDOW], window, (uint64_t)d->ncand);
		ret |= happ_add(f, &w->app[A_STATE], state, (uint64_t)d->ncand);
		w->n_cand += (uint64_t)d->ncand;
	} else if (w->mode == DS_WIN_SEQUENCE) {
		ret |= happ_add(f, &w->app[A_SEQ_IDS], ids, 1);
		ret |= happ_add(f, &w->app[A_SEQ_GAPS], gaps, 1);
		ret |= happ_add(f, &w->app[A_SEQ_LABEL], &d->label, 1);
	}
	ret |= happ_add(f, &w->app[A_DEC], d, 1);
	w->n_dec++;
	w->split_n[d->split]++;
	if (ret)
		w->failed = 1;
	return ret ? -1 : 0;
}

int ds_windows_add_episodes(struct ds_windows_writer *w, const uint32_t *task,
			    const int16_t *rows, uint64_t n)
{
	int ret = 0;

	if (w->failed)
		return -1;
	if (w->version < 2 || w->mode != DS_WIN_CANDIDATES) {
		w->failed = 1;
		return error("cannot write '%s': episodes need a version 2 candidates file",
			     w->f->path);
	}
	for (uint64_t i = 0; i < n; i++)
		if (task[i] >= w->n_tasks)
			w->n_tasks = (uint64_t)task[i] + 1;
	ret |= happ_add(w->f, &w->app[A_EPISODES], rows, n);
	ret |= happ_add(w->f, &w->app[A_EP_TASK], task, n);
	w->n_ep += n;
	if (ret)
		w->failed = 1;
	return ret ? -1 : 0;
}

int ds_windows_finish(struct ds_windows_writer *w, const char *const *vocab, uint64_t n_vocab,
		      const struct ds_coverage *cov)
{
	struct ds_file *f = w->f;
	uint64_t dim = DS_CAND_HIST;
	int ret = w->failed ? -1 : 0;

	for (int i = 0; i < A_NR && !ret; i++)
		if (w->open[i])
			ret = happ_flush(f, &w->app[i]);
	if (!ret && w->mode == DS_WIN_SEQUENCE && n_vocab < 1)
		ret = error("cannot write '%s': sequence mode needs a vocabulary", f->path);
	if (!ret)
		ret = ds_write_strings(f, "vocab", vocab, w->mode == DS_WIN_SEQUENCE ? n_vocab : 0);
	if (!ret)
		ret = ds_write_array(f, "cand_hist", DS_U64, 1, &dim, cov->cand_hist);
	if (!ret) {
		ret |= ds_attr_set_int(f, NULL, "n_dec", (int64_t)w->n_dec);
		ret |= ds_attr_set_int(f, NULL, "n_cand", (int64_t)w->n_cand);
		if (w->version >= 2) {
			ret |= ds_attr_set_int(f, NULL, "n_ep", (int64_t)w->n_ep);
			ret |= ds_attr_set_int(f, NULL, "n_tasks", (int64_t)w->n_tasks);
		}
		ret |= ds_attr_set_int(f, NULL, "n_vocab",
				       w->mode == DS_WIN_SEQUENCE ? (int64_t)n_vocab : 0);
		for (int i = 0; i < 3; i++) {
			char name[32];

			snprintf(name, sizeof(name), "n_%s", split_names[i]);
			ret |= ds_attr_set_int(f, NULL, name, (int64_t)w->split_n[i]);
		}
		ret |= ds_attr_set_int(f, NULL, "decisions", (int64_t)cov->decisions);
		ret |= ds_attr_set_int(f, NULL, "covered", (int64_t)cov->covered);
		ret |= ds_attr_set_int(f, NULL, "contested", (int64_t)cov->contested);
		ret |= ds_attr_set_int(f, NULL, "contested_covered",
				       (int64_t)cov->contested_covered);
		ret |= ds_attr_set_int(f, NULL, "inferred_switches",
				       (int64_t)cov->inferred_switches);
		ret |= ds_attr_set_int(f, NULL, "lost_resets", (int64_t)cov->lost_resets);
	}
	writer_free(w, 0);
	if (ret)
		ds_abort(f);
	else
		ret = ds_commit(f);
	free(w);
	return ret ? -1 : 0;
}

void ds_windows_abort(struct ds_windows_writer *w)
{
	if (!w)
		return;
	writer_free(w, 0);
	ds_abort(w->f);
	free(w);
}

/* ---- version 2: windows rebuilt by replaying the episodes ---------------------- */

/* The last K episodes of one task, as the features engine keeps them. */
struct ep_ring {
	uint32_t n_ep;		/* episodes replayed */
	int head, nr;
	int16_t ep[];		/* (K, E) */
};

#define REPLAY_CHUNK 16384	/* episode rows read at a time */

struct ep_replay {
	int K, E;
	uint64_t n_ep, n_tasks;
	uint64_t pos;			/* episodes applied */
	uint64_t buf_start, buf_n;	/* rows of the file in the buffers */
	uint32_t *buf_task;		/* (REPLAY_CHUNK) */
	int16_t *buf_ep;		/* (REPLAY_CHUNK, E) */
	struct ep_ring **ring;		/* (n_ring), NULL until its first episode */
	uint64_t n_ring;		/* grown up to n_tasks as task ids appear */
};

static void replay_init(struct ep_replay *p, const struct ds_windows *h)
{
	memset(p, 0, sizeof(*p));
	p->K = h->K;
	p->E = h->E;
	p->n_ep = h->n_ep;
	p->n_tasks = h->n_tasks;
	p->buf_task = xmallocarray(REPLAY_CHUNK, sizeof(*p->buf_task));
	p->buf_ep = xmallocarray((size_t)REPLAY_CHUNK * h->E, sizeof(*p->buf_ep));
}

/* Forget every task: replay from the first episode again. */
static void replay_rewind(struct ep_replay *p)
{
	for (uint64_t i = 0; i < p->n_ring; i++) {
		free(p->ring[i]);
		p->ring[i] = NULL;
	}
	p->pos = 0;
}

static void replay_release(struct ep_replay *p)
{
	if (!p->buf_task)
		return;
	replay_rewind(p);
	free(p->ring);
	free(p->buf_task);
	free(p->buf_ep);
	memset(p, 0, sizeof(*p));
}

static int read_rows_any(struct ds_file *f, const char *name, hid_t mt, uint64_t start,
			 uint64_t n, void *buf);

/* Apply the episodes up to (not including) row `to`. */
static int replay_to(struct ds_file *f, struct ep_replay *p, uint64_t to)
{
	size_t ring_bytes = sizeof(struct ep_ring) + (size_t)p->K * p->E * sizeof(int16_t);

	if (to > p->n_ep)
		return error("cannot read '%s': a decision follows episode %llu of %llu", f->path,
			     (unsigned long long)to, (unsigned long long)p->n_ep);
	while (p->pos < to) {
		uint64_t i = p->pos - p->buf_start;
		struct ep_ring *r;
		uint32_t task;

		if (p->pos < p->buf_start || i >= p->buf_n) {
			uint64_t n = SC_MIN((uint64_t)REPLAY_CHUNK, p->n_ep - p->pos);

			if (read_rows_any(f, "ep_task", H5T_NATIVE_UINT32, p->pos, n, p->buf_task) ||
			    read_rows_any(f, "episodes", H5T_NATIVE_INT16, p->pos, n, p->buf_ep))
				return -1;
			p->buf_start = p->pos;
			p->buf_n = n;
			i = 0;
		}
		task = p->buf_task[i];
		if (task >= p->n_tasks)
			return error("cannot read '%s': episode %llu names task %u of %llu", f->path,
				     (unsigned long long)p->pos, task,
				     (unsigned long long)p->n_tasks);
		if (task >= p->n_ring) {
			uint64_t n = SC_MIN(p->n_tasks, SC_MAX((uint64_t)task + 1, 2 * p->n_ring));

			p->ring = xreallocarray(p->ring, n, sizeof(*p->ring));
			memset(p->ring + p->n_ring, 0, (n - p->n_ring) * sizeof(*p->ring));
			p->n_ring = n;
		}
		r = p->ring[task];
		if (!r)
			r = p->ring[task] = xcalloc(1, ring_bytes);
		memcpy(r->ep + (size_t)r->head * p->E, p->buf_ep + i * p->E,
		       (size_t)p->E * sizeof(int16_t));
		r->head = (r->head + 1) % p->K;
		if (r->nr < p->K)
			r->nr++;
		r->n_ep++;
		p->pos++;
	}
	return 0;
}

/* The window of a candidate from its task's ring; -1 (printed) if they disagree. */
static int replay_window(struct ds_file *f, const struct ep_replay *p,
			 const struct ds_candidate *c, uint64_t row, int16_t *window)
{
	const struct ep_ring *r = c->n_ep && c->task < p->n_ring ? p->ring[c->task] : NULL;
	int K = p->K, E = p->E, nr = r ? r->nr : 0, pad = K - nr;

	if (c->n_ep != (r ? r->n_ep : 0))
		return error("cannot read '%s': candidate %llu refers to episode %u of task %u, "
			     "%u stored before it", f->path, (unsigned long long)row, c->n_ep,
			     c->task, r ? r->n_ep : 0);
	memset(window, 0, (size_t)pad * E * sizeof(*window));
	for (int i = 0; i < nr; i++)
		memcpy(window + (size_t)(pad + i) * E,
		       r->ep + (size_t)((r->head - nr + i + K) % K) * E, (size_t)E * sizeof(*window));
	return 0;
}

/*
 * Rebuild the windows of decisions dec[0..n) (their candidates cand[], rows
 * from cand_base in the file) into window (n_cand, K, E).
 */
static int replay_block(struct ds_file *f, struct ep_replay *p, const struct ds_decision *dec,
			uint64_t first, uint64_t n, const struct ds_candidate *cand,
			uint64_t cand_base, int16_t *window)
{
	size_t KE = (size_t)p->K * p->E;

	for (uint64_t i = 0; i < n; i++) {
		const struct ds_decision *d = &dec[i];
		uint64_t c0 = d->cand_off - cand_base;

		if (d->ep_off < p->pos)
			return error("cannot read '%s': decision %llu goes back to episode %llu",
				     f->path, (unsigned long long)(first + i),
				     (unsigned long long)d->ep_off);
		if (replay_to(f, p, d->ep_off))
			return -1;
		for (int j = 0; j < d->ncand; j++)
			if (replay_window(f, p, &cand[c0 + j], d->cand_off + j,
					  window + (c0 + j) * KE))
				return -1;
	}
	return 0;
}

/* ---- loader ---------------------------------------------------------------- */

static int get_int(struct ds_file *f, const char *name, int64_t min, int64_t max, int64_t *v)
{
	if (ds_attr_get_int(f, NULL, name, v))
		return -1;
	if (*v < min || *v > max)
		return error("cannot read '%s': attribute '%s' is %lld, outside %lld..%lld",
			     f->path, name, (long long)*v, (long long)min, (long long)max);
	return 0;
}

/* Read a whole compound table of at most max rows into *out (caller frees). */
static int read_table(struct ds_file *f, const char *name, hid_t mt, size_t elem,
		      uint64_t expect, void **out)
{
	uint64_t dims[1];
	hid_t d;
	hsize_t stored;
	int ret = 0, r;

	*out = NULL;
	r = ds_array_dims(f, name, dims, 1);
	if (r < 0)
		return -1;	/* printed */
	if (r != 1)
		return error("cannot read '%s': '%s' is not a table", f->path, name);
	if (dims[0] != expect)
		return error("cannot read '%s': '%s' has %llu rows, the header says %llu", f->path,
			     name, (unsigned long long)dims[0], (unsigned long long)expect);
	d = H5Dopen2(f->fid, name, H5P_DEFAULT);
	stored = H5Dget_storage_size(d);
	if (expect * elem > 65536 && (double)(expect * elem) > (double)stored * 1100.0) {
		H5Dclose(d);
		return error(
		    "cannot read '%s': '%s' declares %llu rows but the file holds %llu bytes",
		    f->path, name, (unsigned long long)expect, (unsigned long long)stored);
	}
	*out = xmallocarray(expect ? expect : 1, elem);
	if (expect && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
		free(*out);
		*out = NULL;
		ret = error("cannot read '%s': '%s' is damaged or has the wrong layout", f->path,
			    name);
	}
	H5Dclose(d);
	return ret;
}

/* A rank-r array whose shape must be exactly dims. */
static int read_shaped(struct ds_file *f, const char *name, enum ds_type t, int rank,
		       const uint64_t *want, void **out)
{
	uint64_t dims[4], total = 1;

	for (int i = 0; i < rank; i++)
		total *= want[i] ? want[i] : 1;
	if (ds_read_array(f, name, t, rank, dims, out, total))
		return -1;
	for (int i = 0; i < rank; i++) {
		if (dims[i] != want[i]) {
			free(*out);
			*out = NULL;
			return error(
			    "cannot read '%s': '%s' has dimension %d of %llu, expected %llu",
			    f->path, name, i, (unsigned long long)dims[i],
			    (unsigned long long)want[i]);
		}
	}
	return 0;
}

static int read_names(struct ds_file *f, const char *names_ds, const char *frac_ds, int n,
		      char ***names, int8_t **frac)
{
	uint64_t got, dim = (uint64_t)n;

	if (ds_read_strings(f, names_ds, names, &got, MAX_FEAT))
		return -1;
	if (got != (uint64_t)n) {
		ds_free_strings(*names, got);
		*names = NULL;
		return error("cannot read '%s': '%s' has %llu names for %d features", f->path,
			     names_ds, (unsigned long long)got, n);
	}
	if (read_shaped(f, frac_ds, DS_I8, 1, &dim, (void **)frac))
		return -1;
	for (int i = 0; i < n; i++)
		if ((*frac)[i] < 0 || (*frac)[i] > 15)
			return error("cannot read '%s': feature '%s' has %d fraction bits", f->path,
				     (*names)[i], (*frac)[i]);
	return 0;
}

static int load_coverage(struct ds_file *f, struct ds_coverage *cov, uint64_t n_dec)
{
	static const struct { const char *name; size_t off; } ctr[] = {
		{ "decisions", offsetof(struct ds_coverage, decisions) },
		{ "covered", offsetof(struct ds_coverage, covered) },
		{ "contested", offsetof(struct ds_coverage, contested) },
		{ "contested_covered", offsetof(struct ds_coverage, contested_covered) },
		{ "inferred_switches", offsetof(struct ds_coverage, inferred_switches) },
		{ "lost_resets", offsetof(struct ds_coverage, lost_resets) },
	};
	uint64_t dim = DS_CAND_HIST, *hist;
	int64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(ctr); i++) {
		if (get_int(f, ctr[i].name, 0, INT64_MAX, &v))
			return -1;
		*(uint64_t *)((char *)cov + ctr[i].off) = (uint64_t)v;
	}
	if (cov->covered > cov->decisions || cov->contested > cov->decisions ||
	    cov->contested_covered > cov->contested || cov->decisions != n_dec)
		return error("cannot read '%s': coverage counters are inconsistent", f->path);
	if (read_shaped(f, "cand_hist", DS_U64, 1, &dim, (void **)&hist))
		return -1;
	memcpy(cov->cand_hist, hist, sizeof(cov->cand_hist));
	free(hist);
	return 0;
}

/* Check decisions [0, n) of a block whose candidates start at cand_base. */
static int validate_block(struct ds_file *f, const struct ds_windows *w, uint64_t first,
			  const struct ds_decision *dec, uint64_t n, uint64_t cand_base,
			  const int32_t *seq_ids, const int32_t *seq_label)
{
	uint64_t next_off = cand_base;

	for (uint64_t i = 0; i < n; i++) {
		const struct ds_decision *d = &dec[i];

		if (d->trace < 0 || d->trace >= w->nr_traces || d->split > DS_SPLIT_TEST ||
		    d->cpu < 0 || d->ncand < 0)
			return error("cannot read '%s': decision %llu is invalid", f->path,
				     (unsigned long long)(first + i));
		if (d->cpu >= DS_MAX_CPUS)
			return error("cannot read '%s': decision %llu is on cpu %d (at most %d)",
				     f->path, (unsigned long long)(first + i), d->cpu,
				     DS_MAX_CPUS - 1);
		if (w->mode == DS_WIN_CANDIDATES) {
			if (d->cand_off != next_off ||
			    d->cand_off + (uint64_t)d->ncand > w->n_cand || d->label < -1 ||
			    d->label >= d->ncand)
				return error("cannot read '%s': decision %llu has bad candidates",
					     f->path, (unsigned long long)(first + i));
			next_off += (uint64_t)d->ncand;
		} else if (d->ncand || d->label < 0 || (uint64_t)d->label >= w->n_vocab) {
			return error("cannot read '%s': decision %llu has a bad label", f->path,
				     (unsigned long long)(first + i));
		} else if (seq_label && seq_label[i] != d->label) {
			/* seq_label repeats the decisions' labels: a copy that differs is damage */
			return error("cannot read '%s': seq_label[%llu] = %d, outside the "
				     "vocabulary or not the decision's label %d", f->path,
				     (unsigned long long)(first + i), seq_label[i], d->label);
		}
	}
	if (w->mode == DS_WIN_SEQUENCE) {
		for (uint64_t i = 0; i < n * (uint64_t)w->W; i++)
			if (seq_ids[i] < -1 ||
			    (seq_ids[i] >= 0 && (uint64_t)seq_ids[i] >= w->n_vocab))
				return error(
				    "cannot read '%s': sequence id out of range in decision %llu",
				    f->path, (unsigned long long)(first + i / (uint64_t)w->W));
	}
	return 0;
}

/* An array whose shape must be exactly want (without reading it). */
static int check_dims(struct ds_file *f, const char *name, int rank, const uint64_t *want)
{
	uint64_t dims[4];
	int r = ds_array_dims(f, name, dims, 4);

	if (r < 0)
		return -1;	/* printed */
	if (r != rank)
		return error("cannot read '%s': '%s' has the wrong rank", f->path, name);
	for (int i = 0; i < rank; i++)
		if (dims[i] != want[i])
			return error(
			    "cannot read '%s': '%s' has dimension %d of %llu, expected %llu",
			    f->path, name, i, (unsigned long long)dims[i],
			    (unsigned long long)want[i]);
	return 0;
}

/*
 * Everything but the per-decision arrays: attributes, names, traces,
 * vocabulary, coverage; and the shapes of the arrays against the counts.
 */
static int load_header(struct ds_file *f, struct ds_windows *w)
{
	char *mode = NULL, *by = NULL;
	uint64_t nt, dims[3];
	int64_t v;
	int ret = -1;

	if (ds_attr_get_str(f, NULL, "mode", &mode))
		goto out;
	if (!strcmp(mode, "candidates")) {
		w->mode = DS_WIN_CANDIDATES;
	} else if (!strcmp(mode, "sequence")) {
		w->mode = DS_WIN_SEQUENCE;
	} else {
		error("cannot read '%s': unknown mode '%s'", f->path, mode);
		goto out;
	}
	if (w->mode == DS_WIN_CANDIDATES) {
		if (get_int(f, "K", 1, MAX_K, &v))
			goto out;
		w->K = (int)v;
		if (get_int(f, "E", 1, MAX_FEAT, &v))
			goto out;
		w->E = (int)v;
		if (get_int(f, "S", 1, MAX_FEAT, &v))
			goto out;
		w->S = (int)v;
	} else {
		if (get_int(f, "W", 1, MAX_W, &v))
			goto out;
		w->W = (int)v;
		if (get_int(f, "seq_gap_frac", 0, 15, &v))
			goto out;
		w->seq_gap_frac = (int)v;
		if (ds_attr_get_str(f, NULL, "vocab_by", &by))
			goto out;
		if (strcmp(by, "pid") && strcmp(by, "comm")) {
			error("cannot read '%s': unknown vocabulary identity '%s'", f->path, by);
			goto out;
		}
		w->seq_vocab_by_pid = !strcmp(by, "pid");
	}
	if (get_int(f, "nr_traces", 0, MAX_TRACES, &v))
		goto out;
	w->nr_traces = (int)v;
	if (ds_read_strings(f, "traces", &w->traces, &nt, MAX_TRACES))
		goto out;
	if (nt != (uint64_t)w->nr_traces) {
		error("cannot read '%s': %llu trace names for %d traces", f->path,
		      (unsigned long long)nt, w->nr_traces);
		ds_free_strings(w->traces, nt);
		w->traces = NULL;
		goto out;
	}
	if (w->mode == DS_WIN_CANDIDATES &&
	    (read_names(f, "ep_names", "ep_frac", w->E, &w->ep_names, &w->ep_frac) ||
	     read_names(f, "state_names", "state_frac", w->S, &w->state_names, &w->state_frac)))
		goto out;
	if (get_int(f, "n_dec", 0, (int64_t)MAX_ROWS, &v))
		goto out;
	w->n_dec = (uint64_t)v;
	if (get_int(f, "n_cand", 0, (int64_t)MAX_ROWS, &v))
		goto out;
	w->n_cand = (uint64_t)v;
	if (check_dims(f, "decisions", 1, &w->n_dec) || check_dims(f, "cand", 1, &w->n_cand))
		goto out;
	if (w->mode == DS_WIN_CANDIDATES) {
		dims[0] = w->n_cand;
		dims[1] = (uint64_t)w->K;
		dims[2] = (uint64_t)w->E;
		if (w->version < 2 && check_dims(f, "window", 3, dims))
			goto out;
		if (w->version >= 2) {
			if (get_int(f, "n_ep", 0, (int64_t)MAX_ROWS, &v))
				goto out;
			w->n_ep = (uint64_t)v;
			if (get_int(f, "n_tasks", 0, UINT32_MAX, &v))
				goto out;
			w->n_tasks = (uint64_t)v;
			dims[0] = w->n_ep;
			dims[1] = (uint64_t)w->E;
			if (check_dims(f, "episodes", 2, dims) || check_dims(f, "ep_task", 1, dims))
				goto out;
			dims[0] = w->n_cand;
		}
		dims[1] = (uint64_t)w->S;
		if (check_dims(f, "state", 2, dims))
			goto out;
	} else {
		if (w->n_cand) {
			error("cannot read '%s': sequence file with candidates", f->path);
			goto out;
		}
		if (ds_read_strings(f, "vocab", &w->vocab, &w->n_vocab, MAX_VOCAB))
			goto out;
		if (!w->n_vocab) {
			error("cannot read '%s': empty vocabulary", f->path);
			goto out;
		}
		if (get_int(f, "n_vocab", 1, MAX_VOCAB, &v))
			goto out;
		if ((uint64_t)v != w->n_vocab) {
			error("cannot read '%s': n_vocab is %lld but the vocabulary has %llu names",
			      f->path, (long long)v, (unsigned long long)w->n_vocab);
			goto out;
		}
		dims[0] = w->n_dec;
		dims[1] = (uint64_t)w->W;
		if (check_dims(f, "seq_ids", 2, dims) || check_dims(f, "seq_gaps", 2, dims) ||
		    check_dims(f, "seq_label", 1, dims))
			goto out;
	}
	ret = load_coverage(f, &w->cov, w->n_dec);
out:
	free(mode);
	free(by);
	return ret;
}

struct ds_windows *ds_windows_load(const char *path)
{
	struct ds_windows *w = xcalloc(1, sizeof(*w));
	int32_t *seq_label = NULL;
	struct ds_file *f;
	uint64_t dims[3];
	hid_t mt = -1;

	f = ds_open(path, DS_WINDOWS_FORMAT, DS_WINDOWS_VERSION, &w->version);
	if (!f) {
		free(w);
		return NULL;
	}
	if (load_header(f, w))
		goto fail;
	mt = dec_type(0, w->version);
	if (read_table(f, "decisions", mt, sizeof(struct ds_decision), w->n_dec, (void **)&w->dec))
		goto fail;
	H5Tclose(mt);
	mt = cand_type(0, w->version);
	if (read_table(f, "cand", mt, sizeof(struct ds_candidate), w->n_cand, (void **)&w->cand))
		goto fail;
	H5Tclose(mt);
	mt = -1;
	for (uint64_t i = 0; i < w->n_cand; i++)
		w->cand[i].comm[DS_COMM_LEN - 1] = '\0';
	if (w->version >= 2 && w->mode == DS_WIN_CANDIDATES) {
		for (uint64_t i = 0; i < w->n_dec; i++)
			if (w->dec[i].cand_off <= w->n_cand && w->dec[i].ncand >= 0 &&
			    (uint64_t)w->dec[i].ncand <= w->n_cand - w->dec[i].cand_off)
				cand_from_file(w->cand + w->dec[i].cand_off, w->dec[i].ncand,
					       w->dec[i].ts);
	}
	if (w->version < 2) {
		for (uint64_t i = 0; i < w->n_dec; i++)
			w->dec[i].ep_off = 0;
		for (uint64_t i = 0; i < w->n_cand; i++)
			w->cand[i].task = w->cand[i].n_ep = 0;
	}
	if (w->mode == DS_WIN_CANDIDATES) {
		dims[0] = w->n_cand;
		dims[1] = (uint64_t)w->K;
		dims[2] = (uint64_t)w->E;
		if (w->version < 2 &&
		    read_shaped(f, "window", DS_I16, 3, dims, (void **)&w->window))
			goto fail;
		dims[1] = (uint64_t)w->S;
		if (read_shaped(f, "state", DS_I16, 2, dims, (void **)&w->state))
			goto fail;
	} else {
		dims[0] = w->n_dec;
		dims[1] = (uint64_t)w->W;
		if (read_shaped(f, "seq_ids", DS_I32, 2, dims, (void **)&w->seq_ids) ||
		    read_shaped(f, "seq_gaps", DS_I16, 2, dims, (void **)&w->seq_gaps) ||
		    read_shaped(f, "seq_label", DS_I32, 1, dims, (void **)&seq_label))
			goto fail;
	}
	if (validate_block(f, w, 0, w->dec, w->n_dec, 0, w->seq_ids, seq_label))
		goto fail;
	free(seq_label);
	seq_label = NULL;
	if (w->mode == DS_WIN_CANDIDATES && w->version >= 2) {
		struct ep_replay p;
		int bad;

		w->window = xmallocarray(w->n_cand * (uint64_t)w->K * (uint64_t)w->E + 1,
					 sizeof(int16_t));
		replay_init(&p, w);
		bad = replay_block(f, &p, w->dec, 0, w->n_dec, w->cand, 0, w->window);
		replay_release(&p);
		if (bad)
			goto fail;
	}
	if (w->mode == DS_WIN_CANDIDATES && w->n_dec &&
	    w->dec[w->n_dec - 1].cand_off + (uint64_t)w->dec[w->n_dec - 1].ncand != w->n_cand) {
		error("cannot read '%s': %llu candidates but the decisions use fewer", path,
		      (unsigned long long)w->n_cand);
		goto fail;
	}
	if (w->mode == DS_WIN_CANDIDATES && !w->n_dec && w->n_cand) {
		error("cannot read '%s': candidates without decisions", path);
		goto fail;
	}
	ds_close(f);
	return w;
fail:
	if (mt >= 0)
		H5Tclose(mt);
	free(seq_label);
	ds_close(f);
	ds_windows_free(w);
	return NULL;
}

/* ---- streaming reader -------------------------------------------------------- */

struct ds_windows_reader {
	struct ds_file *f;
	struct ds_windows hdr;
	hid_t dec_mt, cand_mt;
	struct ds_decision *dec;
	struct ds_candidate *cand;
	int16_t *window, *state, *seq_gaps;
	int32_t *seq_ids, *seq_label;
	uint64_t dec_cap, cand_cap;
	struct ep_replay replay;	/* version 2 */
	uint64_t next_dec;		/* version 2: the decision the replay is at */
};

/* Rows [start, start + n) of a dataset of any rank into buf. */
static int read_rows_any(struct ds_file *f, const char *name, hid_t mt, uint64_t start,
			 uint64_t n, void *buf)
{
	hsize_t dims[4], off[4] = { 0 }, cnt[4];
	hid_t d, fs, ms;
	int rank, ret = 0;

	if (!n)
		return 0;
	d = H5Dopen2(f->fid, name, H5P_DEFAULT);
	if (d < 0)
		return error("cannot read '%s': missing dataset '%s'", f->path, name);
	fs = H5Dget_space(d);
	rank = H5Sget_simple_extent_ndims(fs);
	if (rank < 1 || rank > 4) {
		H5Sclose(fs);
		H5Dclose(d);
		return error("cannot read '%s': '%s' has the wrong rank", f->path, name);
	}
	H5Sget_simple_extent_dims(fs, dims, NULL);
	if (start + n > dims[0] || start + n < start) {
		H5Sclose(fs);
		H5Dclose(d);
		return error("cannot read '%s': rows %llu..%llu of '%s' out of range", f->path,
			     (unsigned long long)start, (unsigned long long)(start + n), name);
	}
	off[0] = start;
	cnt[0] = n;
	for (int i = 1; i < rank; i++)
		cnt[i] = dims[i];
	H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
	ms = H5Screate_simple(rank, cnt, NULL);
	if (H5Dread(d, mt, ms, fs, H5P_DEFAULT, buf) < 0)
		ret = error("cannot read '%s': '%s' is damaged near row %llu", f->path, name,
			    (unsigned long long)start);
	H5Sclose(ms);
	H5Sclose(fs);
	H5Dclose(d);
	return ret;
}

struct ds_windows_reader *ds_windows_open(const char *path)
{
	struct ds_windows_reader *r = xcalloc(1, sizeof(*r));

	r->f = ds_open(path, DS_WINDOWS_FORMAT, DS_WINDOWS_VERSION, &r->hdr.version);
	if (!r->f || load_header(r->f, &r->hdr)) {
		ds_windows_close(r);
		return NULL;
	}
	r->dec_mt = dec_type(0, r->hdr.version);
	r->cand_mt = cand_type(0, r->hdr.version);
	if (r->hdr.mode == DS_WIN_CANDIDATES && r->hdr.version >= 2)
		replay_init(&r->replay, &r->hdr);
	return r;
}

const struct ds_windows *ds_windows_header(const struct ds_windows_reader *r)
{
	return &r->hdr;
}

int ds_windows_read(struct ds_windows_reader *r, uint64_t start, uint64_t n,
		    struct ds_windows_block *b)
{
	struct ds_windows *h = &r->hdr;
	struct ds_file *f = r->f;
	uint64_t c0 = 0, nc = 0;

	memset(b, 0, sizeof(*b));
	if (start > h->n_dec || n > h->n_dec - start)
		return error("cannot read '%s': decisions %llu..%llu out of range", f->path,
			     (unsigned long long)start, (unsigned long long)(start + n));
	if (n > r->dec_cap) {
		r->dec_cap = n;
		r->dec = xreallocarray(r->dec, n, sizeof(*r->dec));
		if (h->mode == DS_WIN_SEQUENCE) {
			r->seq_ids = xreallocarray(r->seq_ids, n * (uint64_t)h->W, sizeof(int32_t));
			r->seq_gaps =
			    xreallocarray(r->seq_gaps, n * (uint64_t)h->W, sizeof(int16_t));
			r->seq_label = xreallocarray(r->seq_label, n, sizeof(int32_t));
		}
	}
	if (read_rows_any(f, "decisions", r->dec_mt, start, n, r->dec))
		return -1;
	if (h->mode == DS_WIN_CANDIDATES && n) {
		c0 = r->dec[0].cand_off;
		for (uint64_t i = 0; i < n; i++) {
			if (r->dec[i].ncand < 0 || r->dec[i].cand_off != c0 + nc)
				return error("cannot read '%s': decision %llu has bad candidates",
					     f->path, (unsigned long long)(start + i));
			nc += (uint64_t)r->dec[i].ncand;
		}
		if (c0 > h->n_cand || nc > h->n_cand - c0)
			return error(
			    "cannot read '%s': candidates of decisions %llu.. out of range",
			    f->path, (unsigned long long)start);
		if (nc > r->cand_cap) {
			r->cand_cap = nc;
			r->cand = xreallocarray(r->cand, nc, sizeof(*r->cand));
			r->window = xreallocarray(r->window, nc * (uint64_t)h->K * (uint64_t)h->E,
						  sizeof(int16_t));
			r->state = xreallocarray(r->state, nc * (uint64_t)h->S, sizeof(int16_t));
		}
		if (read_rows_any(f, "cand", r->cand_mt, c0, nc, r->cand) ||
		    (h->version < 2 &&
		     read_rows_any(f, "window", H5T_NATIVE_INT16, c0, nc, r->window)) ||
		    read_rows_any(f, "state", H5T_NATIVE_INT16, c0, nc, r->state))
			return -1;
		for (uint64_t i = 0; i < nc; i++)
			r->cand[i].comm[DS_COMM_LEN - 1] = '\0';
		if (h->version >= 2)
			for (uint64_t i = 0; i < n; i++)
				cand_from_file(r->cand + (r->dec[i].cand_off - c0), r->dec[i].ncand,
					       r->dec[i].ts);
		if (h->version < 2) {
			for (uint64_t i = 0; i < n; i++)
				r->dec[i].ep_off = 0;
			for (uint64_t i = 0; i < nc; i++)
				r->cand[i].task = r->cand[i].n_ep = 0;
		}
	} else if (h->mode == DS_WIN_SEQUENCE &&
		   (read_rows_any(f, "seq_ids", H5T_NATIVE_INT32, start, n, r->seq_ids) ||
		    read_rows_any(f, "seq_gaps", H5T_NATIVE_INT16, start, n, r->seq_gaps) ||
		    read_rows_any(f, "seq_label", H5T_NATIVE_INT32, start, n, r->seq_label))) {
		return -1;
	}
	if (validate_block(f, h, start, r->dec, n, c0, r->seq_ids,
			   h->mode == DS_WIN_SEQUENCE ? r->seq_label : NULL))
		return -1;
	if (h->mode == DS_WIN_CANDIDATES && h->version >= 2 && n) {
		/* going back in the file replays the episodes from the start */
		if (start < r->next_dec)
			replay_rewind(&r->replay);
		if (replay_block(f, &r->replay, r->dec, start, n, r->cand, c0, r->window)) {
			replay_rewind(&r->replay);
			r->next_dec = 0;
			return -1;
		}
		r->next_dec = start + n;
	}
	b->start = start;
	b->n_dec = n;
	b->cand_start = c0;
	b->n_cand = nc;
	b->dec = r->dec;
	if (h->mode == DS_WIN_CANDIDATES) {
		b->cand = r->cand;
		b->window = r->window;
		b->state = r->state;
	} else {
		b->seq_ids = r->seq_ids;
		b->seq_gaps = r->seq_gaps;
	}
	return 0;
}

void ds_windows_close(struct ds_windows_reader *r)
{
	struct ds_windows *h;

	if (!r)
		return;
	h = &r->hdr;
	ds_free_strings(h->ep_names, (uint64_t)(h->ep_names ? h->E : 0));
	ds_free_strings(h->state_names, (uint64_t)(h->state_names ? h->S : 0));
	free(h->ep_frac);
	free(h->state_frac);
	ds_free_strings(h->traces, (uint64_t)(h->traces ? h->nr_traces : 0));
	ds_free_strings(h->vocab, h->n_vocab);
	if (r->dec_mt > 0)
		H5Tclose(r->dec_mt);
	if (r->cand_mt > 0)
		H5Tclose(r->cand_mt);
	replay_release(&r->replay);
	ds_close(r->f);
	free(r->dec);
	free(r->cand);
	free(r->window);
	free(r->state);
	free(r->seq_ids);
	free(r->seq_gaps);
	free(r->seq_label);
	free(r);
}

void ds_windows_free(struct ds_windows *w)
{
	if (!w)
		return;
	ds_free_strings(w->ep_names, (uint64_t)(w->ep_names ? w->E : 0));
	ds_free_strings(w->state_names, (uint64_t)(w->state_names ? w->S : 0));
	free(w->ep_frac);
	free(w->state_frac);
	ds_free_strings(w->traces, (uint64_t)(w->traces ? w->nr_traces : 0));
	free(w->dec);
	free(w->cand);
	free(w->window);
	free(w->state);
	ds_free_strings(w->vocab, w->n_vocab);
	free(w->seq_ids);
	free(w->seq_gaps);
	free(w);
}

/* ---- description ----------------------------------------------------------- */

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void describe_feats(struct strbuf *out, struct json_writer *jw, const char *title,
			   char **names, const int8_t *frac, int n)
{
	if (jw) {
		char q[16];

		json_array_begin(jw, title);
		for (int i = 0; i < n; i++) {
			json_object_begin(jw, NULL);
			json_str(jw, "name", names[i]);
			json_i64(jw, "frac", frac[i]);
			snprintf(q, sizeof(q), "Q%d.%d", 15 - frac[i], frac[i]);
			json_str(jw, "format", q);
			json_object_end(jw);
		}
		json_array_end(jw);
		return;
	}
	strbuf_addf(out, "%-17s%d (int16, value = raw / 2^frac)\n", title, n);
	for (int i = 0; i < n; i++)
		strbuf_addf(out, "  %-24s Q%d.%d\n", names[i], 15 - frac[i], frac[i]);
}

int ds_windows_describe(const char *path, int json, struct strbuf *out)
{
	struct ds_file *f;
	struct ds_coverage cov = { 0 };
	char *mode = NULL, **traces = NULL, **epn = NULL, **stn = NULL;
	char *note = NULL, *by = NULL;
	int8_t *epf = NULL, *stf = NULL;
	int64_t K = 0, E = 0, S = 0, W = 0, ndec = 0, ncand = 0, nvocab = 0, sn[3] = { 0 };
	uint64_t nt = 0, n_ep = 0;
	int version, seq, ret = -1;

	f = ds_open(path, DS_WINDOWS_FORMAT, DS_WINDOWS_VERSION, &version);
	if (!f)
		return -1;
	{
		/* The same header checks as the readers: a damaged file is refused. */
		struct ds_windows hdr = { .version = version };
		int bad = load_header(f, &hdr);

		n_ep = hdr.n_ep;

		ds_free_strings(hdr.ep_names, (uint64_t)(hdr.ep_names ? hdr.E : 0));
		ds_free_strings(hdr.state_names, (uint64_t)(hdr.state_names ? hdr.S : 0));
		free(hdr.ep_frac);
		free(hdr.state_frac);
		ds_free_strings(hdr.traces, (uint64_t)(hdr.traces ? hdr.nr_traces : 0));
		ds_free_strings(hdr.vocab, hdr.n_vocab);
		if (bad) {
			ds_close(f);
			return -1;
		}
	}
	if (ds_attr_get_str(f, NULL, "mode", &mode) || get_int(f, "K", 0, MAX_K, &K) ||
	    get_int(f, "E", 0, MAX_FEAT, &E) || get_int(f, "S", 0, MAX_FEAT, &S) ||
	    get_int(f, "W", 0, MAX_W, &W) || get_int(f, "n_dec", 0, (int64_t)MAX_ROWS, &ndec) ||
	    get_int(f, "n_cand", 0, (int64_t)MAX_ROWS, &ncand) ||
	    get_int(f, "n_vocab", 0, MAX_VOCAB, &nvocab) ||
	    get_int(f, "n_train", 0, INT64_MAX, &sn[0]) ||
	    get_int(f, "n_val", 0, INT64_MAX, &sn[1]) ||
	    get_int(f, "n_test", 0, INT64_MAX, &sn[2]) || load_coverage(f, &cov, (uint64_t)ndec) ||
	    ds_read_strings(f, "traces", &traces, &nt, MAX_TRACES))
		goto out;
	seq = !strcmp(mode, "sequence");
	if (seq && ds_attr_get_str(f, NULL, "vocab_by", &by))
		goto out;
	if (!seq && (read_names(f, "ep_names", "ep_frac", (int)E, &epn, &epf) ||
		     read_names(f, "state_names", "state_frac", (int)S, &stn, &stf)))
		goto out;
	if (json) {
		struct json_writer jw;

		json_writer_init(&jw, out);
		json_object_begin(&jw, NULL);
		json_str(&jw, "file", path);
		json_str(&jw, "format", DS_WINDOWS_FORMAT);
		json_i64(&jw, "version", version);
		json_str(&jw, "mode", seq ? "sequence" : "candidates");
		json_i64(&jw, "K", K);
		json_i64(&jw, "E", E);
		json_i64(&jw, "S", S);
		json_i64(&jw, "W", W);
		json_array_begin(&jw, "traces");
		for (uint64_t i = 0; i < nt; i++)
			json_str(&jw, NULL, traces[i]);
		json_array_end(&jw);
		json_u64(&jw, "decisions", cov.decisions);
		json_i64(&jw, "candidates", ncand);
		json_u64(&jw, "covered", cov.covered);
		json_double(&jw, "coverage", pct(cov.covered, cov.decisions) / 100);
		json_u64(&jw, "contested", cov.contested);
		json_double(&jw, "contested_share", pct(cov.contested, cov.decisions) / 100);
		json_u64(&jw, "contested_covered", cov.contested_covered);
		json_double(&jw, "contested_coverage",
			    pct(cov.contested_covered, cov.contested) / 100);
		json_u64(&jw, "inferred_switches", cov.inferred_switches);
		json_u64(&jw, "lost_resets", cov.lost_resets);
		json_i64(&jw, "vocab", nvocab);
		if (seq)
			json_str(&jw, "vocab_by", by);
		else
			json_u64(&jw, "episodes", n_ep);
		json_object_begin(&jw, "split");
		json_i64(&jw, "train", sn[0]);
		json_i64(&jw, "val", sn[1]);
		json_i64(&jw, "test", sn[2]);
		json_object_end(&jw);
		json_array_begin(&jw, "cand_hist");
		for (int i = 0; i < DS_CAND_HIST; i++)
			json_u64(&jw, NULL, cov.cand_hist[i]);
		json_array_end(&jw);
		if (!seq) {
			describe_feats(out, &jw, "episode_features", epn, epf, (int)E);
			describe_feats(out, &jw, "state_features", stn, stf, (int)S);
		}
		if (ds_attr_exists(f, NULL, "command_line") &&
		    !ds_attr_get_str(f, NULL, "command_line", &note))
			json_str(&jw, "command_line", note);
		json_object_end(&jw);
		ret = 0;
		goto out;
	}
	strbuf_addf(out, "file:            %s\n", path);
	strbuf_addf(out, "kind:            windows (%s version %d)\n", DS_WINDOWS_FORMAT, version);
	if (seq)
		strbuf_addf(out, "mode:            sequence (W=%lld, vocabulary %lld by %s, "
			    "incl. unknown)\n", (long long)W, (long long)nvocab, by);
	else
		strbuf_addf(out, "mode:            candidates (K=%lld episodes)\n", (long long)K);
	strbuf_addf(out, "traces:          %llu\n", (unsigned long long)nt);
	for (uint64_t i = 0; i < nt; i++)
		strbuf_addf(out, "  %llu: %s\n", (unsigned long long)i, traces[i]);
	strbuf_addf(out, "decisions:       %llu\n", (unsigned long long)cov.decisions);
	strbuf_addf(out, "split:           train %lld, val %lld, test %lld\n", (long long)sn[0],
		    (long long)sn[1], (long long)sn[2]);
	if (seq) {
		strbuf_addf(out, "known picks:     %llu (%.1f%% in the vocabulary)\n",
			    (unsigned long long)cov.covered, pct(cov.covered, cov.decisions));
	} else {
		strbuf_addf(out, "candidates:      %lld\n", (long long)ncand);
		if (version >= 2)
			strbuf_addf(out, "episodes:        %llu (each stored once)\n",
				    (unsigned long long)n_ep);
		strbuf_addf(out,
			    "coverage:        %.1f%% (%llu of %llu picks among the candidates)\n",
			    pct(cov.covered, cov.decisions), (unsigned long long)cov.covered,
			    (unsigned long long)cov.decisions);
		strbuf_addf(
		    out, "contested:       %.1f%% (%llu with >= 2 candidates), coverage %.1f%%\n",
		    pct(cov.contested, cov.decisions), (unsigned long long)cov.contested,
		    pct(cov.contested_covered, cov.contested));
	}
	strbuf_addf(out, "inferred switches: %llu (repaired from common_pid, not scored)\n",
		    (unsigned long long)cov.inferred_switches);
	strbuf_addf(out, "lost resets:     %llu\n", (unsigned long long)cov.lost_resets);
	if (!seq) {
		strbuf_addstr(out, "candidate count histogram:\n");
		for (int i = 0; i < DS_CAND_HIST; i++) {
			if (!cov.cand_hist[i])
				continue;
			strbuf_addf(out, "  %s%-3d %12llu  %5.1f%%\n",
				    i == DS_CAND_HIST - 1 ? ">=" : "  ", i,
				    (unsigned long long)cov.cand_hist[i],
				    pct(cov.cand_hist[i], cov.decisions));
		}
		describe_feats(out, NULL, "episode features:", epn, epf, (int)E);
		describe_feats(out, NULL, "state features:", stn, stf, (int)S);
	}
	if (ds_attr_exists(f, NULL, "command_line") &&
	    !ds_attr_get_str(f, NULL, "command_line", &note))
		strbuf_addf(out, "command line:    %s\n", note);
	ret = 0;
out:
	free(note);
	free(by);
	free(mode);
	ds_free_strings(traces, nt);
	ds_free_strings(epn, (uint64_t)(epn ? E : 0));
	ds_free_strings(stn, (uint64_t)(stn ? S : 0));
	free(epf);
	free(stf);
	ds_close(f);
	return ret;
}
