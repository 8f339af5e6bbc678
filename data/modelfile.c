// SPDX-License-Identifier: GPL-2.0
/*
 * The model file: write, read and validate.  See data/modelfile.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "data/modelfile.h"
#include "data/windows.h"

static const char *const ckpt_names[3] = { "ckpt/master", "ckpt/adam_m", "ckpt/adam_v" };

static int is_fixed(const struct ds_model *m)
{
	return !strcmp(m->arith, "fixed");
}

static int ckpt_type(const struct ds_model *m, int which, enum ds_type *t)
{
	static const enum ds_type fx[3] = { DS_I32, DS_I32, DS_I64 };

	*t = is_fixed(m) ? fx[which] : DS_F64;
	return 0;
}

static int write_i8(struct ds_file *f, const char *name, const int8_t *v, int n)
{
	uint64_t d = (uint64_t)n;

	return ds_write_array(f, name, DS_I8, 1, &d, v);
}

int ds_model_save(const char *path, const struct ds_model *m)
{
	struct ds_file *f = ds_create(path, DS_MODEL_FORMAT,
				      m->stateful ? DS_MODEL_VERSION_STATEFUL : DS_MODEL_VERSION_WINDOW);
	const char *names[DS_MODEL_MAX_TENSORS];
	const struct { const char *name; int64_t v; } ints[] = {
		{ "mode", m->mode }, { "K", m->K }, { "E", m->E }, { "S", m->S }, { "W", m->W },
		{ "V", m->V }, { "D", m->D }, { "H", m->H }, { "M", m->M },
		{ "epochs", m->epochs }, { "batch", m->batch }, { "threads", m->threads },
		{ "patience", m->patience }, { "seed", (int64_t)m->seed },
		{ "best_epoch", m->best_epoch }, { "linear_epochs", m->linear_epochs },
	};
	uint64_t d[2];

	if (!f)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++)
		if (ds_attr_set_int(f, NULL, ints[i].name, ints[i].v))
			goto fail;
	if (ds_attr_set_str(f, NULL, "arith", m->arith) ||
	    ds_attr_set_double(f, NULL, "lr", m->lr) ||
	    ds_attr_set_double(f, NULL, "linear_val_top1", m->linear_val_top1) ||
	    ds_attr_set_str(f, NULL, "windows", m->windows ? m->windows : "") ||
	    ds_attr_set_str(f, NULL, "command_line", m->command_line ? m->command_line : "") ||
	    ds_attr_set_int(f, NULL, "train_decisions", (int64_t)m->train_decisions) ||
	    ds_attr_set_int(f, NULL, "val_decisions", (int64_t)m->val_decisions))
		goto fail;
	if (m->batch_run > 0 && ds_attr_set_int(f, NULL, "batch_run", m->batch_run))
		goto fail;
	if (m->stateful && ds_attr_set_str(f, NULL, "encoder", "stateful"))
		goto fail;
	if (m->R > 0 && m->R < m->H && ds_attr_set_int(f, NULL, "recurrent", m->R))
		goto fail;
	if (m->init_model && m->init_model[0] &&
	    (ds_attr_set_str(f, NULL, "init_model", m->init_model) ||
	     ds_attr_set_str(f, NULL, "init_windows", m->init_windows ? m->init_windows : "") ||
	     ds_attr_set_double(f, NULL, "init_val_top1", m->init_val_top1)))
		goto fail;
	if (m->n_traces) {
		d[0] = (uint64_t)m->n_traces;
		if (ds_write_strings(f, "trained_on/traces", (const char *const *)m->traces,
				     (uint64_t)m->n_traces) ||
		    ds_write_array(f, "trained_on/decisions", DS_U64, 1, d, m->trace_train))
			goto fail;
	}

	if (ds_write_strings(f, "input/ep_names", (const char *const *)m->ep_names, m->E) ||
	    write_i8(f, "input/ep_frac", m->ep_frac, m->E) ||
	    ds_write_strings(f, "input/state_names", (const char *const *)m->state_names, m->S) ||
	    write_i8(f, "input/state_frac", m->state_frac, m->S) ||
	    ds_attr_set_int(f, "input", "seq_gap_frac", m->seq_gap_frac))
		goto fail;
	d[0] = (uint64_t)m->n_norm;
	if (ds_write_array(f, "input/norm_mu", DS_I32, 1, d, m->norm_mu) ||
	    ds_write_array(f, "input/norm_inv", DS_I32, 1, d, m->norm_inv) ||
	    ds_attr_set_str(f, "input/norm_inv", "q", "2^28/std (x' = (x - mu) * inv >> 16, Q3.12)"))
		goto fail;
	if (m->vocab && ds_write_strings(f, "input/vocab", (const char *const *)m->vocab, m->V))
		goto fail;

	for (int i = 0; i < m->n_tensors; i++) {
		const struct ds_model_tensor *t = &m->tensors[i];
		char *name = xstrfmt("weights/%s", t->name);
		int ret;

		names[i] = t->name;
		d[0] = t->rows, d[1] = t->cols;
		ret = ds_write_array(f, name, t->type, t->cols > 1 ? 2 : 1, d, t->data) ||
		      ds_attr_set_str(f, name, "q", t->q);
		free(name);
		if (ret)
			goto fail;
	}
	if (ds_write_strings(f, "weights/names", names, (uint64_t)m->n_tensors))
		goto fail;

	d[0] = (uint64_t)m->n_curve;
	if (ds_write_array(f, "curve/train_loss", DS_F64, 1, d, m->train_loss) ||
	    ds_write_array(f, "curve/val_top1", DS_F64, 1, d, m->val_top1))
		goto fail;

	if (m->has_ckpt) {
		void *bufs[3] = { m->ckpt_master, m->ckpt_m, m->ckpt_v };

		d[0] = m->n_params;
		for (int i = 0; i < 3; i++) {
			enum ds_type t;

			ckpt_type(m, i, &t);
			if (ds_write_array(f, ckpt_names[i], t, 1, d, bufs[i]))
				goto fail;
		}
		if (ds_attr_set_int(f, "ckpt", "epoch", m->ckpt_epoch) ||
		    ds_attr_set_int(f, "ckpt", "bad_epochs", m->ckpt_bad_epochs) ||
		    ds_attr_set_int(f, "ckpt", "step", (int64_t)m->ckpt_step) ||
		    ds_attr_set_int(f, "ckpt", "rng", (int64_t)m->ckpt_rng))
			goto fail;
	}
	return ds_commit(f);
fail:
	ds_abort(f);
	return -1;
}

/* ds_model_release - free the contents, keep the struct */
static void ds_model_release(struct ds_model *m)
{
	if (!m)
		return;
	ds_free_strings(m->ep_names, (uint64_t)SC_MAX(m->E, 0));
	ds_free_strings(m->state_names, (uint64_t)SC_MAX(m->S, 0));
	ds_free_strings(m->vocab, (uint64_t)SC_MAX(m->V, 0));
	free(m->ep_frac);
	free(m->state_frac);
	free(m->norm_mu);
	free(m->norm_inv);
	free(m->windows);
	free(m->command_line);
	ds_free_strings(m->traces, (uint64_t)SC_MAX(m->n_traces, 0));
	free(m->trace_train);
	free(m->init_model);
	free(m->init_windows);
	free(m->train_loss);
	free(m->val_top1);
	for (int i = 0; i < m->n_tensors; i++)
		free(m->tensors[i].data);
	free(m->ckpt_master);
	free(m->ckpt_m);
	free(m->ckpt_v);
	memset(m, 0, sizeof(*m));
}

void ds_model_free(struct ds_model *m)
{
	ds_model_release(m);
	free(m);
}

static int get_int(struct ds_file *f, const char *obj, const char *name, int64_t lo, int64_t hi,
		   int *out)
{
	int64_t v;

	if (ds_attr_get_int(f, obj, name, &v))
		return -1;
	if (v < lo || v > hi)
		return error("cannot read '%s': %s = %lld out of range %lld..%lld", ds_path(f), name,
			     (long long)v, (long long)lo, (long long)hi);
	*out = (int)v;
	return 0;
}

/* A rank-1 array of exactly n elements of type t. */
static int read_vec(struct ds_file *f, const char *name, enum ds_type t, uint64_t n, void **out)
{
	uint64_t d[1];

	if (ds_read_array(f, name, t, 1, d, out, n))
		return -1;
	if (d[0] != n) {
		free(*out);
		*out = NULL;
		return error("cannot read '%s': '%s' holds %llu values, expected %llu", ds_path(f),
			     name, (unsigned long long)d[0], (unsigned long long)n);
	}
	return 0;
}

static int read_names(struct ds_file *f, const char *name, uint64_t n, char ***out)
{
	uint64_t got;

	if (ds_read_strings(f, name, out, &got, n))
		return -1;
	if (got != n) {
		/* the release would free n of them */
		ds_free_strings(*out, got);
		*out = NULL;
		return error("cannot read '%s': '%s' holds %llu names, expected %llu", ds_path(f),
			     name, (unsigned long long)got, (unsigned long long)n);
	}
	return 0;
}

/* The optional record of what the model was trained on (see modelfile.h). */
static int read_provenance(struct ds_file *f, struct ds_model *m)
{
	int64_t v;

	m->init_val_top1 = -1;
	if (ds_attr_exists(f, NULL, "train_decisions")) {
		if (ds_attr_get_int(f, NULL, "train_decisions", &v))
			return -1;
		m->train_decisions = (uint64_t)SC_MAX(v, 0);
		if (ds_attr_get_int(f, NULL, "val_decisions", &v))
			return -1;
		m->val_decisions = (uint64_t)SC_MAX(v, 0);
	}
	if (ds_attr_exists(f, NULL, "init_model") &&
	    (ds_attr_get_str(f, NULL, "init_model", &m->init_model) ||
	     ds_attr_get_str(f, NULL, "init_windows", &m->init_windows) ||
	     ds_attr_get_double(f, NULL, "init_val_top1", &m->init_val_top1)))
		return -1;
	if (ds_exists(f, "trained_on")) {
		uint64_t n;

		if (ds_read_strings(f, "trained_on/traces", &m->traces, &n, 1 << 20))
			return -1;
		m->n_traces = (int)n;
		if (read_vec(f, "trained_on/decisions", DS_U64, n, (void **)&m->trace_train))
			return -1;
	}
	return 0;
}

/*
 * q_bits - the width of a fixed-point format "Qm.n" (a signed integer of
 * 1 + m + n bits, value = raw / 2^n), or -1 when q is not one
 */
static int q_bits(const char *q)
{
	int im, fr, len = 0;

	if (sscanf(q, "Q%d.%d%n", &im, &fr, &len) != 2 || q[len] || im < 0 || fr < 0 ||
	    im + fr + 1 > 32)
		return -1;
	return im + fr + 1;
}

/*
 * The values a tensor's format allows: "Qm.n" an integer of 1 + m + n bits,
 * "f64" a finite double.  HDF5 converts silently (2^30 stored as int32 read
 * as int16 becomes 32767; NaN passes), so every tensor is read as float64,
 * which holds any stored integer up to 2^53 exactly, checked against the
 * format of its own "q" attribute, then narrowed to the type the model uses.
 */
static int check_values(const char *path, const char *name, const char *q, const double *v,
			uint64_t n)
{
	int bits = q_bits(q);
	double lo = bits > 0 ? -ldexp(1, bits - 1) : 0, hi = bits > 0 ? ldexp(1, bits - 1) - 1 : 0;

	for (uint64_t i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			return error("cannot read '%s': tensor '%s' holds %s at %llu", path, name,
				     isnan(v[i]) ? "NaN" : "an infinity", (unsigned long long)i);
		if (bits > 0 && (v[i] < lo || v[i] > hi || v[i] != floor(v[i])))
			return error("cannot read '%s': tensor '%s' holds %.17g at %llu, outside "
				     "%s (integers %.0f..%.0f)", path, name, v[i],
				     (unsigned long long)i, q, lo, hi);
	}
	return 0;
}

static int read_tensor(struct ds_file *f, const struct ds_model *m, const char *tname,
		       struct ds_model_tensor *t, uint64_t max_elems)
{
	const char *path = ds_path(f), *want = is_fixed(m) ? "Q3.12" : "f64";
	enum ds_type type = is_fixed(m) ? DS_I16 : DS_F64;
	char *name = xstrfmt("weights/%s", tname), *q = NULL;
	uint64_t d[2] = { 0, 1 }, n;
	double *v = NULL;
	int rank, ret = -1;

	memset(t, 0, sizeof(*t));
	if (strlen(tname) >= sizeof(t->name)) {
		error("cannot read '%s': tensor name '%s' too long", path, tname);
		goto out;
	}
	rank = ds_array_dims(f, name, d, 2);
	if (rank < 1 || ds_attr_get_str(f, name, "q", &q))
		goto out;
	if (strcmp(q, want)) {
		error("cannot read '%s': tensor '%s' is in format '%s', expected '%s'", path, tname,
		      q, want);
		goto out;
	}
	if (ds_read_array(f, name, DS_F64, rank, d, (void **)&v, max_elems))
		goto out;
	n = d[0] * (rank == 2 ? d[1] : 1);
	if (check_values(path, tname, q, v, n))
		goto out;
	if (type == DS_I16) {
		int16_t *w = xmallocarray(n ? n : 1, sizeof(*w));

		for (uint64_t i = 0; i < n; i++)
			w[i] = (int16_t)v[i];
		free(v);
		v = NULL;
		t->data = w;
	} else {
		t->data = v;
		v = NULL;
	}
	snprintf(t->name, sizeof(t->name), "%s", tname);
	snprintf(t->q, sizeof(t->q), "%s", q);
	t->type = type;
	t->rows = d[0];
	t->cols = rank == 2 ? d[1] : 1;
	ret = 0;
out:
	free(v);
	free(q);
	free(name);
	return ret;
}

/*
 * Normalisation, as lstm_norm_fit() makes it: mu is the mean of int16 raw
 * values, inv = 2^36 / std_q8 with std_q8 >= 256, so inv <= 2^28.  Outside
 * these (raw - mu) * inv overflows (INT32_MIN as mu is undefined behaviour).
 */
#define NORM_INV_MAX (1 << 28)

static int read_norm(struct ds_file *f, const char *name, uint64_t n, int32_t lo, int32_t hi,
		     int32_t **out)
{
	double *v = NULL;

	if (read_vec(f, name, DS_F64, n, (void **)&v))
		return -1;
	*out = xmallocarray(n ? n : 1, sizeof(**out));
	for (uint64_t i = 0; i < n; i++) {
		if (!(v[i] >= lo && v[i] <= hi && v[i] == floor(v[i]))) {
			error("cannot read '%s': %s[%llu] = %.17g, not an integer in %d..%d",
			      ds_path(f), name, (unsigned long long)i, v[i], lo, hi);
			free(v);
			return -1;
		}
		(*out)[i] = (int32_t)v[i];
	}
	free(v);
	return 0;
}

static int load(struct ds_file *f, struct ds_model *m)
{
	const char *path = ds_path(f);
	char *s = NULL, **names = NULL;
	uint64_t n_names = 0, total = 0;
	int64_t v;
	int ret = -1;

	if (ds_attr_get_str(f, NULL, "arith", &s))
		return -1;
	if (strcmp(s, "fixed") && strcmp(s, "float")) {
		error("cannot read '%s': unknown arithmetic '%s'", path, s);
		free(s);
		return -1;
	}
	snprintf(m->arith, sizeof(m->arith), "%s", s);
	free(s);
	if (get_int(f, NULL, "mode", 0, 1, &m->mode) || get_int(f, NULL, "K", 0, 4096, &m->K) ||
	    get_int(f, NULL, "E", 0, 4096, &m->E) || get_int(f, NULL, "S", 0, 4096, &m->S) ||
	    get_int(f, NULL, "W", 0, 4096, &m->W) || get_int(f, NULL, "V", 0, 1 << 24, &m->V) ||
	    get_int(f, NULL, "D", 0, 4096, &m->D) || get_int(f, NULL, "H", 1, 4096, &m->H) ||
	    get_int(f, NULL, "M", 0, 4096, &m->M) ||
	    get_int(f, NULL, "epochs", 0, 1 << 30, &m->epochs) ||
	    get_int(f, NULL, "batch", 0, 1 << 30, &m->batch) ||
	    get_int(f, NULL, "threads", 0, 1024, &m->threads) ||
	    get_int(f, NULL, "patience", 0, 1 << 30, &m->patience) ||
	    get_int(f, NULL, "best_epoch", 0, 1 << 30, &m->best_epoch) ||
	    ds_attr_get_int(f, NULL, "seed", &v))
		return -1;
	m->seed = (uint64_t)v;
	if (ds_attr_exists(f, NULL, "encoder")) {
		int known;

		if (ds_attr_get_str(f, NULL, "encoder", &s))
			return -1;
		m->stateful = !strcmp(s, "stateful");
		known = m->stateful || !strcmp(s, "window");
		if (!known)
			error("cannot read '%s': unknown encoder '%s' (window or stateful)", path, s);
		free(s);
		s = NULL;
		if (!known)
			return -1;
		if (m->stateful && m->version < DS_MODEL_VERSION_STATEFUL)
			return error("cannot read '%s': a stateful encoder in a version %d file "
				     "(it needs version %d)", path, m->version,
				     DS_MODEL_VERSION_STATEFUL);
		if (m->stateful && m->mode != DS_WIN_CANDIDATES)
			return error("cannot read '%s': a stateful encoder in a sequence model",
				     path);
	}
	if (ds_attr_exists(f, NULL, "recurrent") &&
	    get_int(f, NULL, "recurrent", 1, m->H, &m->R))
		return -1;
	if (ds_attr_exists(f, NULL, "batch_run") &&
	    get_int(f, NULL, "batch_run", 1, 1 << 20, &m->batch_run))
		return -1;
	m->linear_val_top1 = -1;
	if (m->version >= 2 &&
	    (get_int(f, NULL, "linear_epochs", 0, 1 << 30, &m->linear_epochs) ||
	     ds_attr_get_double(f, NULL, "linear_val_top1", &m->linear_val_top1)))
		return -1;
	if (!(m->linear_val_top1 >= -1 && m->linear_val_top1 <= 1))
		return error("cannot read '%s': linear_val_top1 = %g out of range -1..1", path,
			     m->linear_val_top1);
	if (ds_attr_get_double(f, NULL, "lr", &m->lr) ||
	    ds_attr_get_str(f, NULL, "windows", &m->windows) ||
	    ds_attr_get_str(f, NULL, "command_line", &m->command_line))
		return -1;
	if (read_provenance(f, m))
		return -1;

	if (read_names(f, "input/ep_names", (uint64_t)m->E, &m->ep_names) ||
	    read_vec(f, "input/ep_frac", DS_I8, (uint64_t)m->E, (void **)&m->ep_frac) ||
	    read_names(f, "input/state_names", (uint64_t)m->S, &m->state_names) ||
	    read_vec(f, "input/state_frac", DS_I8, (uint64_t)m->S, (void **)&m->state_frac) ||
	    get_int(f, "input", "seq_gap_frac", 0, 15, &m->seq_gap_frac))
		return -1;
	if (m->mode == DS_WIN_SEQUENCE && read_names(f, "input/vocab", (uint64_t)m->V, &m->vocab))
		return -1;
	{
		uint64_t d[1];

		if (ds_array_dims(f, "input/norm_mu", d, 1) != 1)
			return -1;
		if (d[0] > 4096)
			return error("cannot read '%s': %llu normalisation entries", path,
				     (unsigned long long)d[0]);
		m->n_norm = (int)d[0];
		if (read_norm(f, "input/norm_mu", d[0], INT16_MIN, INT16_MAX, &m->norm_mu) ||
		    read_norm(f, "input/norm_inv", d[0], 0, NORM_INV_MAX, &m->norm_inv))
			return -1;
	}

	if (ds_read_strings(f, "weights/names", &names, &n_names, DS_MODEL_MAX_TENSORS))
		return -1;
	for (uint64_t i = 0; i < n_names; i++) {
		struct ds_model_tensor *t = &m->tensors[m->n_tensors];

		if (read_tensor(f, m, names[i], t, DS_MODEL_MAX_PARAMS - total))
			goto out;
		m->n_tensors++;
		total += t->rows * t->cols;
	}

	{
		uint64_t d[1];

		if (ds_array_dims(f, "curve/train_loss", d, 1) != 1)
			goto out;
		if (d[0] > 1 << 20) {
			error("cannot read '%s': training curve of %llu epochs", path,
			      (unsigned long long)d[0]);
			goto out;
		}
		m->n_curve = (int)d[0];
		if (read_vec(f, "curve/train_loss", DS_F64, d[0], (void **)&m->train_loss) ||
		    read_vec(f, "curve/val_top1", DS_F64, d[0], (void **)&m->val_top1))
			goto out;
		if (m->best_epoch > m->n_curve) {
			error("cannot read '%s': best epoch %d beyond the %d of the curve", path,
			      m->best_epoch, m->n_curve);
			goto out;
		}
	}

	if (ds_exists(f, "ckpt")) {
		void **bufs[3] = { &m->ckpt_master, &m->ckpt_m, &m->ckpt_v };

		for (int i = 0; i < 3; i++) {
			enum ds_type t;

			ckpt_type(m, i, &t);
			if (read_vec(f, ckpt_names[i], t, total, bufs[i]))
				goto out;
		}
		if (get_int(f, "ckpt", "epoch", 0, 1 << 30, &m->ckpt_epoch) ||
		    get_int(f, "ckpt", "bad_epochs", 0, 1 << 30, &m->ckpt_bad_epochs) ||
		    ds_attr_get_int(f, "ckpt", "step", &v))
			goto out;
		m->ckpt_step = (uint64_t)v;
		if (ds_attr_get_int(f, "ckpt", "rng", &v))
			goto out;
		m->ckpt_rng = (uint64_t)v;
		m->n_params = total;
		m->has_ckpt = 1;
	}
	ret = 0;
out:
	ds_free_strings(names, n_names);
	return ret;
}

struct ds_model *ds_model_load(const char *path)
{
	struct ds_model *m = xcalloc(1, sizeof(*m));
	struct ds_file *f = ds_open(path, DS_MODEL_FORMAT, DS_MODEL_VERSION, &m->version);

	if (!f) {
		free(m);
		return NULL;
	}
	if (load(f, m)) {
		ds_close(f);
		ds_model_free(m);
		return NULL;
	}
	ds_close(f);
	return m;
}

uint64_t ds_model_digest(const struct ds_model *m)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const void *ck[3] = { m->ckpt_master, m->ckpt_m, m->ckpt_v };

	for (int i = 0; i < m->n_tensors + 3; i++) {
		const unsigned char *p;
		size_t n;

		if (i < m->n_tensors) {
			p = m->tensors[i].data;
			n = m->tensors[i].rows * m->tensors[i].cols * ds_type_size(m->tensors[i].type);
		} else {
			enum ds_type t;

			if (!m->has_ckpt)
				break;
			ckpt_type(m, i - m->n_tensors, &t);
			p = ck[i - m->n_tensors];
			n = m->n_params * ds_type_size(t);
		}
		for (size_t k = 0; k < n; k++)
			h = (h ^ p[k]) * 0x100000001b3ULL;
	}
	return h;
}
