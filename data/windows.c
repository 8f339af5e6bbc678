// SPDX-License-Identifier: GPL-2.0
/*
 * The windows file: a streaming writer (decisions, candidates and their
 * feature windows appended in blocks), a validating whole-file loader, a
 * streaming reader.  Schema code over data/ds.c's table API (no HDF5 call
 * here).  See data/windows.h for the
 * layout.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "data/ds.h"
#include "data/windows.h"

/* Bounds a file must respect before anything is allocated for it. */
#define MAX_K 1024
#define MAX_FEAT 256
#define MAX_W 4096
#define MAX_TRACES 65536
#define MAX_VOCAB (1u << 24)
#define MAX_ROWS (1ull << 36)

static const char *const split_names[3] = { "train", "val", "test" };

/* ---- tables ---------------------------------------------------------------- */

/* Decision rows: packed little-endian in the file, struct ds_decision in memory. */
#define DEC_COL(m, t) DS_COLUMN(struct ds_decision, m, t)
static const struct ds_column dec_cols_v1[] = {
	DEC_COL(ts, DS_U64), DEC_COL(cand_off, DS_U64),
	DEC_COL(trace, DS_I32), DEC_COL(cpu, DS_I32), DEC_COL(ncand, DS_I32),
	DEC_COL(label, DS_I32), DEC_COL(prev_pid, DS_I32), DEC_COL(next_pid, DS_I32),
	DEC_COL(split, DS_U8),
};
static const struct ds_column dec_cols_v2[] = {
	DEC_COL(ts, DS_U64), DEC_COL(cand_off, DS_U64), DEC_COL(ep_off, DS_U64),
	DEC_COL(trace, DS_I32), DEC_COL(cpu, DS_I32), DEC_COL(ncand, DS_I32),
	DEC_COL(label, DS_I32), DEC_COL(prev_pid, DS_I32), DEC_COL(next_pid, DS_I32),
	DEC_COL(split, DS_U8),
};
static const struct ds_column dec_cols_v3[] = {
	DEC_COL(ts, DS_U64), DEC_COL(cand_off, DS_U64), DEC_COL(ev_off, DS_U64),
	DEC_COL(trace, DS_I32), DEC_COL(cpu, DS_I32), DEC_COL(ncand, DS_I32),
	DEC_COL(label, DS_I32), DEC_COL(prev_pid, DS_I32), DEC_COL(next_pid, DS_I32),
	DEC_COL(split, DS_U8),
};
#undef DEC_COL

/* Version 3: where each input trace's events start and how the engine starts it. */
static const struct ds_column trace_ev_cols[] = {
	DS_COLUMN(struct ds_windows_trace, ev_start, DS_U64),
	DS_COLUMN(struct ds_windows_trace, nr_cpus, DS_I32),
	DS_COLUMN(struct ds_windows_trace, events_recorded, DS_U32),
};

/*
 * Candidate rows.  Version 2 names the two times after what they hold in the
 * file (see cand_to_file): the times they count from.
 */
#define CAND_COL(m, t) DS_COLUMN(struct ds_candidate, m, t)
#define CAND_AS(col, m) { .name = col, .type = DS_U64, .offset = offsetof(struct ds_candidate, m) }
static const struct ds_column cand_cols_v1[] = {
	CAND_COL(pid, DS_I32), CAND_COL(prio, DS_I32),
	CAND_COL(queued_ns, DS_U64), CAND_COL(since_ran_ns, DS_U64),
	CAND_COL(cpu_recent_ns, DS_U64),
	DS_COLUMN_N(struct ds_candidate, comm, DS_STR, DS_COMM_LEN),
};
static const struct ds_column cand_cols_v2[] = {
	CAND_COL(pid, DS_I32), CAND_COL(prio, DS_I32),
	CAND_AS("queued_since", queued_ns), CAND_AS("ran_at", since_ran_ns),
	CAND_COL(cpu_recent_ns, DS_U64),
	DS_COLUMN_N(struct ds_candidate, comm, DS_STR, DS_COMM_LEN),
	CAND_COL(task, DS_U32), CAND_COL(n_ep, DS_U32),
};
#undef CAND_AS
#undef CAND_COL

/*
 * Version 2 chunking, measured on a hackbench trace (71 candidates a
 * decision): state in column chunks of 32768 rows is 7.3 MB against 13.2 MB
 * in row chunks; candidate rows in chunks of 1 MiB (the default chunk cache,
 * so a chunk is never written twice).  Everything else: about 256 KiB a
 * chunk, deflate 4.
 */
#define V2_CAND_BYTES (1024 * 1024)
#define V2_COLUMN_ROWS 32768
#define DEFLATE 4

/* The tables of a windows file, in the order the writer appends them. */
enum {
	A_DEC, A_CAND, A_WINDOW, A_STATE, A_EPISODES, A_EP_TASK, A_SEQ_IDS, A_SEQ_GAPS,
	A_SEQ_LABEL, A_EVENTS, A_TRACE_EV, A_NR
};

static const char *const table_names[A_NR] = {
	[A_DEC] = "decisions", [A_CAND] = "cand", [A_WINDOW] = "window", [A_STATE] = "state",
	[A_EPISODES] = "episodes", [A_EP_TASK] = "ep_task", [A_SEQ_IDS] = "seq_ids",
	[A_SEQ_GAPS] = "seq_gaps", [A_SEQ_LABEL] = "seq_label", [A_EVENTS] = "events",
	[A_TRACE_EV] = "trace_events",
};

/* is_v3c - a version 3 candidates file: events replayed, no candidate rows */
static int is_v3c(int version, int mode)
{
	return version >= 3 && mode == DS_WIN_CANDIDATES;
}

/*
 * table_spec - the spec of table i in a file of this shape, or 0 when such a
 * file has no table i.
 */
static int table_spec(int i, int version, int mode, int K, int E, int S, int W,
		      struct ds_table_spec *s)
{
	int v2 = version >= 2, seq = mode == DS_WIN_SEQUENCE, v3 = is_v3c(version, mode);

	memset(s, 0, sizeof(*s));
	s->deflate = DEFLATE;
	s->background = 1;	/* deflate beside the feature engine (written tables only) */
	s->rank = 1;
	switch (i) {
	case A_DEC:
		s->cols = v3 ? dec_cols_v3 : v2 ? dec_cols_v2 : dec_cols_v1;
		s->ncols = v3 ? ARRAY_SIZE(dec_cols_v3) :
			   v2 ? ARRAY_SIZE(dec_cols_v2) : ARRAY_SIZE(dec_cols_v1);
		s->row_size = sizeof(struct ds_decision);
		return 1;
	case A_CAND:
		s->cols = v2 ? cand_cols_v2 : cand_cols_v1;
		s->ncols = v2 ? ARRAY_SIZE(cand_cols_v2) : ARRAY_SIZE(cand_cols_v1);
		s->row_size = sizeof(struct ds_candidate);
		if (v2)
			s->chunk_rows = V2_CAND_BYTES / sizeof(struct ds_candidate);
		return !v3;
	case A_WINDOW:
		s->type = DS_I16;
		s->rank = 3;
		s->inner[0] = (uint64_t)K;
		s->inner[1] = (uint64_t)E;
		return !seq && !v2;
	case A_STATE:
		s->type = DS_I16;
		s->rank = 2;
		s->inner[0] = (uint64_t)S;
		if (v2) {
			s->chunk_rows = V2_COLUMN_ROWS;
			s->column_chunks = 1;
		}
		return !seq && !v3;
	case A_EPISODES:
		s->type = DS_I16;
		s->rank = 2;
		s->inner[0] = (uint64_t)E;
		s->chunk_rows = V2_COLUMN_ROWS;
		s->column_chunks = 1;
		return !seq && v2 && !v3;
	case A_EP_TASK:
		s->type = DS_U32;
		return !seq && v2 && !v3;
	case A_EVENTS:
		ds_event_table_spec(s);
		s->deflate = DEFLATE;
		s->background = 1;
		return v3;
	case A_TRACE_EV:
		s->cols = trace_ev_cols;
		s->ncols = ARRAY_SIZE(trace_ev_cols);
		s->row_size = sizeof(struct ds_windows_trace);
		return v3;
	case A_SEQ_IDS:
	case A_SEQ_GAPS:
		s->type = i == A_SEQ_IDS ? DS_I32 : DS_I16;
		s->rank = 2;
		s->inner[0] = (uint64_t)W;
		return seq;
	case A_SEQ_LABEL:
		s->type = DS_I32;
		return seq;
	}
	return 0;
}

/*
 * open_tables - open for reading every table a file of h's shape has, each
 * of the rows its header promises (load_header checked the shapes).
 */
static int open_tables(struct ds_file *f, const struct ds_windows *h, struct ds_table **t)
{
	for (int i = 0; i < A_NR; i++) {
		struct ds_table_spec s;
		uint64_t want;

		t[i] = NULL;
		if (!table_spec(i, h->version, h->mode, h->K, h->E, h->S, h->W, &s))
			continue;
		want = i == A_EVENTS ? h->n_events : i == A_TRACE_EV ? (uint64_t)h->nr_traces :
		       i == A_DEC || i >= A_SEQ_IDS ? h->n_dec :
		       i == A_EPISODES || i == A_EP_TASK ? h->n_ep : h->n_cand;
		t[i] = ds_table_open(f, table_names[i], &s, want);
		if (!t[i])
			return -1;
		if (ds_table_rows(t[i]) != want)
			return error("cannot read '%s': '%s' has %llu rows, the header says %llu",
				     ds_path(f), table_names[i],
				     (unsigned long long)ds_table_rows(t[i]),
				     (unsigned long long)want);
	}
	return 0;
}

static void close_tables(struct ds_table **t)
{
	for (int i = 0; i < A_NR; i++) {
		ds_table_close(t[i]);
		t[i] = NULL;
	}
}

/* ---- writer ---------------------------------------------------------------- */

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

struct ds_windows_writer {
	struct ds_file *f;
	int version, mode, K, E, S, W;
	uint64_t n_ep, n_tasks;
	struct ds_candidate *tmp;	/* version 2: rows as stored */
	size_t tmp_cap;
	struct ds_table *t[A_NR];	/* NULL: not in a file of this kind */
	uint64_t n_dec, n_cand, split_n[3];
	uint64_t n_events;		/* version 3 */
	int nr_traces, traces_begun;	/* version 3: trace_events rows due, written */
	int failed;
};

static int write_names(struct ds_file *f, const char *names_ds, const char *frac_ds,
		       char *const *names, const int8_t *frac, int n)
{
	uint64_t dim = (uint64_t)n;

	for (int i = 0; i < n; i++)
		if (!names || !names[i])
			return error("cannot write '%s': feature %d of '%s' has no name", ds_path(f),
				     i, names_ds);
	if (ds_write_strings(f, names_ds, (const char *const *)names, dim) ||
	    ds_write_array(f, frac_ds, DS_I8, 1, &dim, frac))
		return -1;
	return 0;
}

/* writer_free - after ds_windows_finish closed the tables, or to abandon them */
static void writer_free(struct ds_windows_writer *w)
{
	for (int i = 0; i < A_NR; i++) {
		ds_table_discard(w->t[i]);
		w->t[i] = NULL;
	}
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
	w->nr_traces = hdr->nr_traces;

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
	for (int i = 0; i < A_NR && !ret; i++) {
		struct ds_table_spec spec;

		if (!table_spec(i, w->version, w->mode, w->K, w->E, w->S, w->W, &spec))
			continue;
		w->t[i] = ds_table_create(f, table_names[i], &spec);
		if (!w->t[i])
			ret = -1;
	}
	if (ret) {
		writer_free(w);
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
			     ds_path(f), d->ncand, d->label, d->split);
	}
	d->cand_off = w->n_cand;
	d->ep_off = w->version >= 2 ? w->n_ep : 0;
	d->ev_off = is_v3c(w->version, w->mode) ? w->n_events : 0;
	if (is_v3c(w->version, w->mode)) {
		if (!w->traces_begun) {
			w->failed = 1;
			return error("cannot write '%s': a decision before its trace began",
				     ds_path(f));
		}
		w->n_cand += (uint64_t)d->ncand;
		goto dec;
	}
	if (w->mode == DS_WIN_CANDIDATES && d->ncand && w->version >= 2) {
		for (int i = 0; i < d->ncand; i++) {
			if (cand[i].task >= w->n_tasks && cand[i].n_ep) {
				w->failed = 1;
				return error("cannot write '%s': candidate %d of decision %llu "
					     "refers to task %u with no episode", ds_path(f), i,
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
		ret |= ds_table_append(w->t[A_CAND], cand, (uint64_t)d->ncand);
		if (w->version == 1)
			ret |= ds_table_append(w->t[A_WINDOW], window, (uint64_t)d->ncand);
		ret |= ds_table_append(w->t[A_STATE], state, (uint64_t)d->ncand);
		w->n_cand += (uint64_t)d->ncand;
	} else if (w->mode == DS_WIN_SEQUENCE) {
		ret |= ds_table_append(w->t[A_SEQ_IDS], ids, 1);
		ret |= ds_table_append(w->t[A_SEQ_GAPS], gaps, 1);
		ret |= ds_table_append(w->t[A_SEQ_LABEL], &d->label, 1);
	}
dec:
	ret |= ds_table_append(w->t[A_DEC], d, 1);
	w->n_dec++;
	w->split_n[d->split]++;
	if (ret)
		w->failed = 1;
	return ret ? -1 : 0;
}

int ds_windows_begin_trace(struct ds_windows_writer *w, int nr_cpus, uint32_t events_recorded)
{
	struct ds_windows_trace tr = {
		.ev_start = w->n_events, .nr_cpus = nr_cpus, .events_recorded = events_recorded,
	};

	if (w->failed)
		return -1;
	if (!is_v3c(w->version, w->mode) || w->traces_begun >= w->nr_traces || nr_cpus < 1 ||
	    nr_cpus > DS_MAX_CPUS) {
		w->failed = 1;
		return error("cannot write '%s': trace %d of %d (%d CPUs) in a version %d file",
			     ds_path(w->f), w->traces_begun, w->nr_traces, nr_cpus, w->version);
	}
	w->traces_begun++;
	if (ds_table_append(w->t[A_TRACE_EV], &tr, 1)) {
		w->failed = 1;
		return -1;
	}
	return 0;
}

void ds_windows_set_tasks(struct ds_windows_writer *w, uint64_t n_tasks)
{
	w->n_tasks = n_tasks;
}

int ds_windows_add_event(struct ds_windows_writer *w, const struct ds_event *ev)
{
	if (w->failed)
		return -1;
	if (!is_v3c(w->version, w->mode) || !w->traces_begun) {
		w->failed = 1;
		return error("cannot write '%s': an event outside a version 3 trace",
			     ds_path(w->f));
	}
	if (ds_table_append(w->t[A_EVENTS], ev, 1)) {
		w->failed = 1;
		return -1;
	}
	w->n_events++;
	return 0;
}

int ds_windows_add_episodes(struct ds_windows_writer *w, const uint32_t *task,
			    const int16_t *rows, uint64_t n)
{
	int ret = 0;

	if (w->failed)
		return -1;
	if (w->version != 2 || w->mode != DS_WIN_CANDIDATES) {
		w->failed = 1;
		return error("cannot write '%s': episodes need a version 2 candidates file",
			     ds_path(w->f));
	}
	for (uint64_t i = 0; i < n; i++)
		if (task[i] >= w->n_tasks)
			w->n_tasks = (uint64_t)task[i] + 1;
	ret |= ds_table_append(w->t[A_EPISODES], rows, n);
	ret |= ds_table_append(w->t[A_EP_TASK], task, n);
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

	if (!ret && is_v3c(w->version, w->mode) && w->traces_begun != w->nr_traces)
		ret = error("cannot write '%s': %d of %d traces written", ds_path(f),
			    w->traces_begun, w->nr_traces);
	/* every table closed (its last rows flushed) before the file's last writes */
	for (int i = 0; i < A_NR && !ret; i++) {
		ret = ds_table_close(w->t[i]);
		w->t[i] = NULL;
	}
	if (!ret && w->mode == DS_WIN_SEQUENCE && n_vocab < 1)
		ret = error("cannot write '%s': sequence mode needs a vocabulary", ds_path(f));
	if (!ret)
		ret = ds_write_strings(f, "vocab", vocab, w->mode == DS_WIN_SEQUENCE ? n_vocab : 0);
	if (!ret)
		ret = ds_write_array(f, "cand_hist", DS_U64, 1, &dim, cov->cand_hist);
	if (!ret) {
		ret |= ds_attr_set_int(f, NULL, "n_dec", (int64_t)w->n_dec);
		ret |= ds_attr_set_int(f, NULL, "n_cand", (int64_t)w->n_cand);
		if (is_v3c(w->version, w->mode)) {
			ret |= ds_attr_set_int(f, NULL, "n_events", (int64_t)w->n_events);
			ret |= ds_attr_set_int(f, NULL, "n_tasks", (int64_t)w->n_tasks);
		} else if (w->version >= 2) {
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
	writer_free(w);
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
	writer_free(w);
	ds_abort(w->f);
	free(w);
}

/* ---- version 2: windows rebuilt by replaying the episodes ---------------------- */

/* The last K episodes of one task, as the features engine keeps them. */
struct ep_ring {
	uint32_t n_ep;		/* episodes replayed */
	int head, nr;
	uint64_t used;		/* p->tick when last applied to or read */
	int16_t ep[];		/* (K, E) */
};

#define REPLAY_CHUNK 16384	/* episode rows read at a time */
/*
 * Rings held at once.  A trace of short-lived tasks (a build) names a new
 * task every few episodes; holding the ring of every task ever seen grew
 * the reader with the trace.  Past this many, the least recently used half
 * is freed; a task whose ring was freed and that is used again has it
 * rebuilt from the file (its last K episodes, found by reading back).
 * 4096 rings are 0.8 MB with K = 8, E = 10 (16384 were 3.1 MB: the 10x
 * light scale trace names 21,000 tasks, its 1x trace 2,800, and train's
 * peak RSS grew 1.25x between them, 1.18x now); a runqueue rarely holds
 * a thousand tasks, so the rings evicted are those of tasks long gone.
 */
#define RING_MAX 4096

struct ep_replay {
	struct ds_file *f;
	struct ds_table *ep_task, *episodes;	/* borrowed from the reader */
	int K, E;
	uint64_t n_ep, n_tasks;
	uint64_t pos;			/* episodes applied */
	uint64_t buf_start, buf_n;	/* rows of the file in the buffers */
	uint32_t *buf_task;		/* (REPLAY_CHUNK) */
	int16_t *buf_ep;		/* (REPLAY_CHUNK, E) */
	struct ep_ring **ring;		/* (n_ring), NULL until its first episode or freed */
	uint32_t *n_ep_of;		/* (n_ring) episodes replayed of each task */
	uint64_t n_ring;		/* grown up to n_tasks as task ids appear */
	uint64_t n_live, tick;		/* rings allocated; a use counter */
	uint64_t *scratch;		/* (RING_MAX) eviction: the rings' use ticks */
	uint32_t *back_task;		/* (REPLAY_CHUNK) rebuilding: ep_task read back */
};

static void replay_init(struct ep_replay *p, struct ds_file *f, const struct ds_windows *h,
			struct ds_table *const *t)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	p->ep_task = t[A_EP_TASK];
	p->episodes = t[A_EPISODES];
	p->K = h->K;
	p->E = h->E;
	p->n_ep = h->n_ep;
	p->n_tasks = h->n_tasks;
	p->buf_task = xmallocarray(REPLAY_CHUNK, sizeof(*p->buf_task));
	p->buf_ep = xmallocarray((size_t)REPLAY_CHUNK * h->E, sizeof(*p->buf_ep));
	p->scratch = xmallocarray(RING_MAX + 1, sizeof(*p->scratch));
	p->back_task = xmallocarray(REPLAY_CHUNK, sizeof(*p->back_task));
}

/* Forget every task: replay from the first episode again. */
static void replay_rewind(struct ep_replay *p)
{
	for (uint64_t i = 0; i < p->n_ring; i++) {
		free(p->ring[i]);
		p->ring[i] = NULL;
		p->n_ep_of[i] = 0;
	}
	p->n_live = 0;
	p->pos = 0;
}

static void replay_release(struct ep_replay *p)
{
	if (!p->buf_task)
		return;
	replay_rewind(p);
	free(p->ring);
	free(p->n_ep_of);
	free(p->buf_task);
	free(p->buf_ep);
	free(p->scratch);
	free(p->back_task);
	memset(p, 0, sizeof(*p));
}

static int cmp_tick(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* evict - free the least recently used half of the rings */
static void evict(struct ep_replay *p)
{
	uint64_t n = 0, cut;

	for (uint64_t i = 0; i < p->n_ring && n < RING_MAX; i++)
		if (p->ring[i])
			p->scratch[n++] = p->ring[i]->used;
	qsort(p->scratch, n, sizeof(*p->scratch), cmp_tick);
	cut = p->scratch[n / 2];	/* ticks are distinct: exactly the older half goes */
	for (uint64_t i = 0; i < p->n_ring; i++)
		if (p->ring[i] && p->ring[i]->used < cut) {
			free(p->ring[i]);
			p->ring[i] = NULL;
			p->n_live--;
		}
}

/*
 * ring_of - the ring of task (episodes before row p->pos applied): a new
 * one, or the one freed by evict() rebuilt from its last K episodes of the
 * file, read back from p->pos.  NULL after an error (printed).
 */
static struct ep_ring *ring_of(struct ep_replay *p, uint32_t task)
{
	struct ds_file *f = p->f;
	size_t ring_bytes = sizeof(struct ep_ring) + (size_t)p->K * p->E * sizeof(int16_t);
	struct ep_ring *r = p->ring[task];
	uint64_t want, found = 0, at = p->pos;

	if (r) {
		r->used = ++p->tick;
		return r;
	}
	if (p->n_live >= RING_MAX)
		evict(p);
	r = p->ring[task] = xcalloc(1, ring_bytes);
	p->n_live++;
	r->used = ++p->tick;
	r->n_ep = p->n_ep_of[task];
	want = SC_MIN((uint64_t)p->K, (uint64_t)r->n_ep);
	/* newest first into slots want-1 .. 0: oldest first, as replay_to() leaves them */
	while (found < want && at > 0) {
		uint64_t n = SC_MIN((uint64_t)REPLAY_CHUNK, at);

		at -= n;
		if (ds_table_read(p->ep_task, at, n, p->back_task))
			return NULL;
		for (uint64_t i = n; i-- > 0 && found < want;) {
			if (p->back_task[i] != task)
				continue;
			found++;
			if (ds_table_read(p->episodes, at + i, 1,
					  r->ep + (size_t)(want - found) * p->E))
				return NULL;
		}
	}
	if (found < want) {
		error("cannot read '%s': task %u has %llu of its %u episodes", ds_path(f), task,
		      (unsigned long long)found, r->n_ep);
		return NULL;
	}
	r->nr = (int)want;
	r->head = (int)(want % (uint64_t)p->K);
	return r;
}

/* Apply the episodes up to (not including) row `to`. */
static int replay_to(struct ep_replay *p, uint64_t to)
{
	struct ds_file *f = p->f;

	if (to > p->n_ep)
		return error("cannot read '%s': a decision follows episode %llu of %llu", ds_path(f),
			     (unsigned long long)to, (unsigned long long)p->n_ep);
	while (p->pos < to) {
		uint64_t i = p->pos - p->buf_start;
		struct ep_ring *r;
		uint32_t task;

		if (p->pos < p->buf_start || i >= p->buf_n) {
			uint64_t n = SC_MIN((uint64_t)REPLAY_CHUNK, p->n_ep - p->pos);

			if (ds_table_read(p->ep_task, p->pos, n, p->buf_task) ||
			    ds_table_read(p->episodes, p->pos, n, p->buf_ep))
				return -1;
			p->buf_start = p->pos;
			p->buf_n = n;
			i = 0;
		}
		task = p->buf_task[i];
		if (task >= p->n_tasks)
			return error("cannot read '%s': episode %llu names task %u of %llu", ds_path(f),
				     (unsigned long long)p->pos, task,
				     (unsigned long long)p->n_tasks);
		if (task >= p->n_ring) {
			uint64_t n = SC_MIN(p->n_tasks, SC_MAX((uint64_t)task + 1, 2 * p->n_ring));

			p->ring = xreallocarray(p->ring, n, sizeof(*p->ring));
			p->n_ep_of = xreallocarray(p->n_ep_of, n, sizeof(*p->n_ep_of));
			memset(p->ring + p->n_ring, 0, (n - p->n_ring) * sizeof(*p->ring));
			memset(p->n_ep_of + p->n_ring, 0, (n - p->n_ring) * sizeof(*p->n_ep_of));
			p->n_ring = n;
		}
		r = ring_of(p, task);
		if (!r)
			return -1;
		memcpy(r->ep + (size_t)r->head * p->E, p->buf_ep + i * p->E,
		       (size_t)p->E * sizeof(int16_t));
		r->head = (r->head + 1) % p->K;
		if (r->nr < p->K)
			r->nr++;
		r->n_ep++;
		p->n_ep_of[task]++;
		p->pos++;
	}
	return 0;
}

/* The window of a candidate from its task's ring; -1 (printed) if they disagree. */
static int replay_window(struct ep_replay *p, const struct ds_candidate *c, uint64_t row,
			 int16_t *window)
{
	struct ds_file *f = p->f;
	const struct ep_ring *r = NULL;
	int K = p->K, E = p->E, nr, pad;

	if (c->n_ep && c->task < p->n_ring && p->n_ep_of[c->task]) {
		r = ring_of(p, c->task);
		if (!r)
			return -1;
	}
	nr = r ? r->nr : 0;
	pad = K - nr;

	if (c->n_ep != (r ? r->n_ep : 0))
		return error("cannot read '%s': candidate %llu refers to episode %u of task %u, "
			     "%u stored before it", ds_path(f), (unsigned long long)row, c->n_ep,
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
static int replay_block(struct ep_replay *p, const struct ds_decision *dec, uint64_t first,
			uint64_t n, const struct ds_candidate *cand, uint64_t cand_base,
			int16_t *window)
{
	struct ds_file *f = p->f;
	size_t KE = (size_t)p->K * p->E;

	for (uint64_t i = 0; i < n; i++) {
		const struct ds_decision *d = &dec[i];
		uint64_t c0 = d->cand_off - cand_base;

		if (d->ep_off < p->pos)
			return error("cannot read '%s': decision %llu goes back to episode %llu",
				     ds_path(f), (unsigned long long)(first + i),
				     (unsigned long long)d->ep_off);
		if (replay_to(p, d->ep_off))
			return -1;
		for (int j = 0; j < d->ncand; j++)
			if (replay_window(p, &cand[c0 + j], d->cand_off + j,
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
			     ds_path(f), name, (long long)*v, (long long)min, (long long)max);
	return 0;
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
			    ds_path(f), name, i, (unsigned long long)dims[i],
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
		return error("cannot read '%s': '%s' has %llu names for %d features", ds_path(f),
			     names_ds, (unsigned long long)got, n);
	}
	if (read_shaped(f, frac_ds, DS_I8, 1, &dim, (void **)frac))
		return -1;
	for (int i = 0; i < n; i++)
		if ((*frac)[i] < 0 || (*frac)[i] > 15)
			return error("cannot read '%s': feature '%s' has %d fraction bits", ds_path(f),
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
		return error("cannot read '%s': coverage counters are inconsistent", ds_path(f));
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
			return error("cannot read '%s': decision %llu is invalid", ds_path(f),
				     (unsigned long long)(first + i));
		if (d->cpu >= DS_MAX_CPUS)
			return error("cannot read '%s': decision %llu is on cpu %d (at most %d)",
				     ds_path(f), (unsigned long long)(first + i), d->cpu,
				     DS_MAX_CPUS - 1);
		if (w->mode == DS_WIN_CANDIDATES) {
			if (d->cand_off != next_off ||
			    d->cand_off + (uint64_t)d->ncand > w->n_cand || d->label < -1 ||
			    d->label >= d->ncand)
				return error("cannot read '%s': decision %llu has bad candidates",
					     ds_path(f), (unsigned long long)(first + i));
			next_off += (uint64_t)d->ncand;
		} else if (d->ncand || d->label < 0 || (uint64_t)d->label >= w->n_vocab) {
			return error("cannot read '%s': decision %llu has a bad label", ds_path(f),
				     (unsigned long long)(first + i));
		} else if (seq_label && seq_label[i] != d->label) {
			/* seq_label repeats the decisions' labels: a copy that differs is damage */
			return error("cannot read '%s': seq_label[%llu] = %d, outside the "
				     "vocabulary or not the decision's label %d", ds_path(f),
				     (unsigned long long)(first + i), seq_label[i], d->label);
		}
	}
	if (w->mode == DS_WIN_SEQUENCE) {
		for (uint64_t i = 0; i < n * (uint64_t)w->W; i++)
			if (seq_ids[i] < -1 ||
			    (seq_ids[i] >= 0 && (uint64_t)seq_ids[i] >= w->n_vocab))
				return error(
				    "cannot read '%s': sequence id out of range in decision %llu",
				    ds_path(f), (unsigned long long)(first + i / (uint64_t)w->W));
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
		return error("cannot read '%s': '%s' has the wrong rank", ds_path(f), name);
	for (int i = 0; i < rank; i++)
		if (dims[i] != want[i])
			return error(
			    "cannot read '%s': '%s' has dimension %d of %llu, expected %llu",
			    ds_path(f), name, i, (unsigned long long)dims[i],
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
		error("cannot read '%s': unknown mode '%s'", ds_path(f), mode);
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
			error("cannot read '%s': unknown vocabulary identity '%s'", ds_path(f), by);
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
		error("cannot read '%s': %llu trace names for %d traces", ds_path(f),
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
	if (check_dims(f, "decisions", 1, &w->n_dec) ||
	    (!is_v3c(w->version, w->mode) && check_dims(f, "cand", 1, &w->n_cand)))
		goto out;
	if (is_v3c(w->version, w->mode)) {
		if (get_int(f, "n_events", 0, (int64_t)MAX_ROWS, &v))
			goto out;
		w->n_events = (uint64_t)v;
		if (get_int(f, "n_tasks", 0, UINT32_MAX, &v))
			goto out;
		w->n_tasks = (uint64_t)v;
		if (check_dims(f, "events", 1, &w->n_events))
			goto out;
		dims[0] = (uint64_t)w->nr_traces;
		if (check_dims(f, "trace_events", 1, dims))
			goto out;
	} else if (w->mode == DS_WIN_CANDIDATES) {
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
			error("cannot read '%s': sequence file with candidates", ds_path(f));
			goto out;
		}
		if (ds_read_strings(f, "vocab", &w->vocab, &w->n_vocab, MAX_VOCAB))
			goto out;
		if (!w->n_vocab) {
			error("cannot read '%s': empty vocabulary", ds_path(f));
			goto out;
		}
		if (get_int(f, "n_vocab", 1, MAX_VOCAB, &v))
			goto out;
		if ((uint64_t)v != w->n_vocab) {
			error("cannot read '%s': n_vocab is %lld but the vocabulary has %llu names",
			      ds_path(f), (long long)v, (unsigned long long)w->n_vocab);
			goto out;
		}
		dims[0] = w->n_dec;
		dims[1] = (uint64_t)w->W;
		if (check_dims(f, "seq_ids", 2, dims) || check_dims(f, "seq_gaps", 2, dims) ||
		    check_dims(f, "seq_label", 1, dims))
			goto out;
	}
	if (load_coverage(f, &w->cov, w->n_dec))
		goto out;
	for (int i = 0; i < 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "n_%s", split_names[i]);
		if (get_int(f, name, 0, INT64_MAX, &v))
			goto out;
		w->n_split[i] = (uint64_t)v;
	}
	if (ds_attr_exists(f, NULL, "command_line") &&
	    ds_attr_get_str(f, NULL, "command_line", &w->command_line))
		goto out;
	ret = 0;
out:
	free(mode);
	free(by);
	return ret;
}

/* header_release - what load_header allocated in w */
static void header_release(struct ds_windows *w)
{
	ds_free_strings(w->ep_names, (uint64_t)(w->ep_names ? w->E : 0));
	ds_free_strings(w->state_names, (uint64_t)(w->state_names ? w->S : 0));
	free(w->ep_frac);
	free(w->state_frac);
	ds_free_strings(w->traces, (uint64_t)(w->traces ? w->nr_traces : 0));
	ds_free_strings(w->vocab, w->n_vocab);
	free(w->command_line);
	free(w->trace_ev);
}

/*
 * load_trace_ev - version 3: the trace_events table, checked: the traces'
 * events in order, from row 0, CPUs in range
 */
static int load_trace_ev(struct ds_file *f, struct ds_windows *w, struct ds_table *const *t)
{
	uint64_t n = (uint64_t)w->nr_traces;

	if (!is_v3c(w->version, w->mode))
		return 0;
	w->trace_ev = xcalloc(n ? n : 1, sizeof(*w->trace_ev));
	if (ds_table_read(t[A_TRACE_EV], 0, n, w->trace_ev))
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		const struct ds_windows_trace *tr = &w->trace_ev[i];

		if ((i == 0 && tr->ev_start) || (i && tr->ev_start < tr[-1].ev_start) ||
		    tr->ev_start > w->n_events || tr->nr_cpus < 1 || tr->nr_cpus > DS_MAX_CPUS)
			return error("cannot read '%s': trace_events row %llu is invalid",
				     ds_path(f), (unsigned long long)i);
	}
	if (!n && w->n_events)
		return error("cannot read '%s': events without a trace", ds_path(f));
	return 0;
}

/* read_whole - every row of table i into *out (allocated, caller frees) */
static int read_whole(struct ds_table *const *t, const struct ds_windows *h, int i, void **out)
{
	struct ds_table_spec s;
	uint64_t n = ds_table_rows(t[i]);

	table_spec(i, h->version, h->mode, h->K, h->E, h->S, h->W, &s);
	*out = xcalloc(n ? n : 1, ds_table_row_bytes(&s));
	return ds_table_read(t[i], 0, n, *out);
}

/* load_stored - ds_windows_load() of a file whose candidates are stored (not version 3) */
static struct ds_windows *load_stored(const char *path)
{
	struct ds_windows *w = xcalloc(1, sizeof(*w));
	struct ds_table *t[A_NR] = { NULL };
	int32_t *seq_label = NULL;
	struct ds_file *f;

	f = ds_open(path, DS_WINDOWS_FORMAT, DS_WINDOWS_VERSION, &w->version);
	if (!f) {
		free(w);
		return NULL;
	}
	if (load_header(f, w) || open_tables(f, w, t))
		goto fail;
	if (is_v3c(w->version, w->mode)) {
		error("cannot read '%s': a version 3 windows file is read through the features "
		      "engine (or rewrite it with 'schedcast features --windows-version 2')", path);
		goto fail;
	}
	if (read_whole(t, w, A_DEC, (void **)&w->dec) ||
	    read_whole(t, w, A_CAND, (void **)&w->cand))
		goto fail;
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
		if (w->version < 2 && read_whole(t, w, A_WINDOW, (void **)&w->window))
			goto fail;
		if (read_whole(t, w, A_STATE, (void **)&w->state))
			goto fail;
	} else if (read_whole(t, w, A_SEQ_IDS, (void **)&w->seq_ids) ||
		   read_whole(t, w, A_SEQ_GAPS, (void **)&w->seq_gaps) ||
		   read_whole(t, w, A_SEQ_LABEL, (void **)&seq_label)) {
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
		replay_init(&p, f, w, t);
		bad = replay_block(&p, w->dec, 0, w->n_dec, w->cand, 0, w->window);
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
	close_tables(t);
	ds_close(f);
	return w;
fail:
	close_tables(t);
	free(seq_label);
	ds_close(f);
	ds_windows_free(w);
	return NULL;
}

/* ---- streaming reader -------------------------------------------------------- */

struct ds_windows_reader {
	struct ds_file *f;
	struct ds_windows hdr;
	struct ds_table *t[A_NR];
	struct ds_decision *dec;
	struct ds_candidate *cand;
	int16_t *window, *state, *seq_gaps;
	int32_t *seq_ids, *seq_label;
	uint64_t dec_cap, cand_cap;
	struct ep_replay replay;	/* version 2 */
	uint64_t next_dec;		/* version 2: the decision the replay is at */
	const struct ds_windows_replay *rp;	/* version 3 */
	void *rp_ctx;
};

struct ds_windows_reader *ds_windows_open_replay(const char *path,
						 const struct ds_windows_replay *rp)
{
	struct ds_windows_reader *r = xcalloc(1, sizeof(*r));

	r->f = ds_open(path, DS_WINDOWS_FORMAT, DS_WINDOWS_VERSION, &r->hdr.version);
	if (!r->f || load_header(r->f, &r->hdr) || open_tables(r->f, &r->hdr, r->t) ||
	    load_trace_ev(r->f, &r->hdr, r->t)) {
		ds_windows_close(r);
		return NULL;
	}
	if (is_v3c(r->hdr.version, r->hdr.mode)) {
		if (rp) {
			r->rp = rp;
			r->rp_ctx = rp->open(path, &r->hdr);
			if (!r->rp_ctx) {
				r->rp = NULL;
				ds_windows_close(r);
				return NULL;
			}
		}
	} else if (r->hdr.mode == DS_WIN_CANDIDATES && r->hdr.version >= 2) {
		replay_init(&r->replay, r->f, &r->hdr, r->t);
	}
	return r;
}


int ds_windows_read_events(struct ds_windows_reader *r, uint64_t start, uint64_t n,
			   struct ds_event *ev)
{
	if (!r->t[A_EVENTS])
		return error("cannot read '%s': it stores no events", ds_path(r->f));
	if (ds_table_read(r->t[A_EVENTS], start, n, ev))
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		ev[i].comm[DS_COMM_LEN - 1] = '\0';
		ev[i].next_comm[DS_COMM_LEN - 1] = '\0';
	}
	return 0;
}

struct ds_windows *ds_windows_load_replay(const char *path, const struct ds_windows_replay *rp)
{
	struct ds_windows_reader *r;
	struct ds_windows_block b;
	struct ds_windows *w;
	int version;
	struct ds_file *f = ds_open(path, DS_WINDOWS_FORMAT, DS_WINDOWS_VERSION, &version);
	char *mode = NULL;
	int v3;

	if (!f)
		return NULL;
	if (ds_attr_get_str(f, NULL, "mode", &mode)) {
		ds_close(f);
		return NULL;
	}
	v3 = version >= 3 && !strcmp(mode, "candidates");
	free(mode);
	ds_close(f);
	if (!v3)
		return load_stored(path);
	r = ds_windows_open_replay(path, rp);
	if (!r)
		return NULL;
	if (ds_windows_read(r, 0, r->hdr.n_dec, &b)) {
		ds_windows_close(r);
		return NULL;
	}
	if (b.n_cand != r->hdr.n_cand) {
		error("cannot read '%s': %llu candidates but the decisions use %llu", path,
		      (unsigned long long)r->hdr.n_cand, (unsigned long long)b.n_cand);
		ds_windows_close(r);
		return NULL;
	}
	/* the reader's header and buffers become the loaded file's */
	w = xmalloc(sizeof(*w));
	*w = r->hdr;
	memset(&r->hdr, 0, sizeof(r->hdr));
	w->dec = r->dec;
	w->cand = r->cand;
	w->window = r->window;
	w->state = r->state;
	r->dec = NULL;
	r->cand = NULL;
	r->window = NULL;
	r->state = NULL;
	if (!w->dec)
		w->dec = xcalloc(1, sizeof(*w->dec));
	ds_windows_close(r);
	return w;
}

const struct ds_windows *ds_windows_header(const struct ds_windows_reader *r)
{
	return &r->hdr;
}

int ds_windows_read(struct ds_windows_reader *r, uint64_t start, uint64_t n,
		    struct ds_windows_block *b)
{
	return ds_windows_read_max(r, start, n, UINT64_MAX, b);
}

int ds_windows_read_max(struct ds_windows_reader *r, uint64_t start, uint64_t n,
			uint64_t max_cand, struct ds_windows_block *b)
{
	struct ds_windows *h = &r->hdr;
	struct ds_file *f = r->f;
	uint64_t c0 = 0, nc = 0;

	memset(b, 0, sizeof(*b));
	if (start > h->n_dec || n > h->n_dec - start)
		return error("cannot read '%s': decisions %llu..%llu out of range", ds_path(f),
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
	if (ds_table_read(r->t[A_DEC], start, n, r->dec))
		return -1;
	if (h->version < 2)	/* no ep_off column before version 2, in either mode */
		for (uint64_t i = 0; i < n; i++)
			r->dec[i].ep_off = 0;
	if (!is_v3c(h->version, h->mode))
		for (uint64_t i = 0; i < n; i++)
			r->dec[i].ev_off = 0;
	if (h->mode == DS_WIN_CANDIDATES && n) {
		c0 = r->dec[0].cand_off;
		for (uint64_t i = 0; i < n; i++) {
			if (r->dec[i].ncand < 0 || r->dec[i].cand_off != c0 + nc)
				return error("cannot read '%s': decision %llu has bad candidates",
					     ds_path(f), (unsigned long long)(start + i));
			if (i && nc + (uint64_t)r->dec[i].ncand > max_cand) {
				n = i;	/* the block ends before the decision over max_cand */
				break;
			}
			nc += (uint64_t)r->dec[i].ncand;
		}
		if (c0 > h->n_cand || nc > h->n_cand - c0)
			return error(
			    "cannot read '%s': candidates of decisions %llu.. out of range",
			    ds_path(f), (unsigned long long)start);
		if (nc > r->cand_cap) {
			r->cand_cap = nc;
			r->cand = xreallocarray(r->cand, nc, sizeof(*r->cand));
			r->window = xreallocarray(r->window, nc * (uint64_t)h->K * (uint64_t)h->E,
						  sizeof(int16_t));
			r->state = xreallocarray(r->state, nc * (uint64_t)h->S, sizeof(int16_t));
		}
		if (is_v3c(h->version, h->mode)) {
			for (uint64_t i = 0; i < n; i++)
				if (r->dec[i].ev_off >= h->n_events ||
				    (i && r->dec[i].ev_off <= r->dec[i - 1].ev_off))
					return error("cannot read '%s': decision %llu refers to "
						     "event %llu", ds_path(f),
						     (unsigned long long)(start + i),
						     (unsigned long long)r->dec[i].ev_off);
			if (!r->rp)
				return error("cannot read '%s': a version 3 windows file is read "
					     "through the features engine (or rewrite it with "
					     "'schedcast features --windows-version 2')",
					     ds_path(f));
			if (validate_block(f, h, start, r->dec, n, c0, NULL, NULL) ||
			    r->rp->fill(r->rp_ctx, r, start, r->dec, n, r->cand, r->window,
					r->state))
				return -1;
		} else {
			if (ds_table_read(r->t[A_CAND], c0, nc, r->cand) ||
			    (h->version < 2 && ds_table_read(r->t[A_WINDOW], c0, nc, r->window)) ||
			    ds_table_read(r->t[A_STATE], c0, nc, r->state))
				return -1;
			for (uint64_t i = 0; i < nc; i++)
				r->cand[i].comm[DS_COMM_LEN - 1] = '\0';
			if (h->version >= 2)
				for (uint64_t i = 0; i < n; i++)
					cand_from_file(r->cand + (r->dec[i].cand_off - c0),
						       r->dec[i].ncand, r->dec[i].ts);
			if (h->version < 2)
				for (uint64_t i = 0; i < nc; i++)
					r->cand[i].task = r->cand[i].n_ep = 0;
		}
	} else if (h->mode == DS_WIN_SEQUENCE &&
		   (ds_table_read(r->t[A_SEQ_IDS], start, n, r->seq_ids) ||
		    ds_table_read(r->t[A_SEQ_GAPS], start, n, r->seq_gaps) ||
		    ds_table_read(r->t[A_SEQ_LABEL], start, n, r->seq_label))) {
		return -1;
	}
	if (validate_block(f, h, start, r->dec, n, c0, r->seq_ids,
			   h->mode == DS_WIN_SEQUENCE ? r->seq_label : NULL))
		return -1;
	if (h->mode == DS_WIN_CANDIDATES && h->version == 2 && n) {
		/* going back in the file replays the episodes from the start */
		if (start < r->next_dec)
			replay_rewind(&r->replay);
		if (replay_block(&r->replay, r->dec, start, n, r->cand, c0, r->window)) {
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

int ds_windows_read_episodes(struct ds_windows_reader *r, uint64_t from, uint64_t n,
			     uint32_t *task, int16_t *rows)
{
	const struct ds_windows *h = &r->hdr;

	if (is_v3c(h->version, h->mode)) {
		if (!r->rp)
			return error("cannot read '%s': a version 3 windows file is read through "
				     "the features engine", ds_path(r->f));
		return r->rp->episodes(r->rp_ctx, r, from, n, task, rows);
	}
	if (h->mode != DS_WIN_CANDIDATES || h->version < 2)
		return error("cannot read '%s': a version %d windows file holds no episodes",
			     ds_path(r->f), h->version);
	if (from > h->n_ep || n > h->n_ep - from)
		return error("cannot read '%s': episodes %llu..%llu out of range (%llu stored)",
			     ds_path(r->f), (unsigned long long)from,
			     (unsigned long long)(from + n), (unsigned long long)h->n_ep);
	if (!n)
		return 0;
	if (ds_table_read(r->t[A_EP_TASK], from, n, task) ||
	    ds_table_read(r->t[A_EPISODES], from, n, rows))
		return -1;
	for (uint64_t i = 0; i < n; i++)
		if (task[i] >= h->n_tasks)
			return error("cannot read '%s': episode %llu names task %u of %llu",
				     ds_path(r->f), (unsigned long long)(from + i), task[i],
				     (unsigned long long)h->n_tasks);
	return 0;
}

void ds_windows_close(struct ds_windows_reader *r)
{
	if (!r)
		return;
	if (r->rp)
		r->rp->close(r->rp_ctx);
	header_release(&r->hdr);
	replay_release(&r->replay);
	close_tables(r->t);
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
	header_release(w);
	free(w->dec);
	free(w->cand);
	free(w->window);
	free(w->state);
	free(w->seq_ids);
	free(w->seq_gaps);
	free(w);
}
