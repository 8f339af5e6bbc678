// SPDX-License-Identifier: GPL-2.0
/*
 * Models in memory: loading a model file with every shape checked, the
 * windows-compatibility check, and lstm_predict() dispatching to the
 * fixed-point or the double path.
 */
#include <stdlib.h>
#include <string.h>

#include "data/modelfile.h"
#include "model/model-local.h"

static char **copy_names(char *const *names, int n)
{
	char **r = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*r));

	for (int i = 0; i < n; i++)
		r[i] = xstrdup(names[i]);
	return r;
}

static void free_names(char **names, int n)
{
	if (!names)
		return;
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void lstm_model_release(struct lstm_model *m)
{
	free(m->wq);
	free(m->wf);
	free(m->wpack);
	free_names(m->ep_names, m->net.sh.E);
	free_names(m->state_names, m->net.sh.S);
	free_names(m->vocab, m->net.sh.mode == DS_WIN_SEQUENCE ? m->net.sh.V : 0);
	free(m->ep_frac);
	free(m->state_frac);
	memset(m, 0, sizeof(*m));
}

void lstm_model_free(struct lstm_model *m)
{
	if (!m)
		return;
	lstm_model_release(m);
	free(m);
}

void lstm_model_to_file(struct ds_model *f, const struct lstm_model *m)
{
	const struct lstm_shape *sh = &m->net.sh;
	int fixed = sh->arith == LSTM_FIXED;

	memset(f, 0, sizeof(*f));
	f->version = sh->encoder == LSTM_ENC_STATEFUL ? DS_MODEL_VERSION_STATEFUL
						       : DS_MODEL_VERSION_WINDOW;
	f->stateful = sh->encoder == LSTM_ENC_STATEFUL;
	snprintf(f->arith, sizeof(f->arith), "%s", fixed ? "fixed" : "float");
	f->mode = sh->mode;
	f->K = sh->K, f->E = sh->E, f->S = sh->S, f->W = sh->W;
	f->V = sh->V, f->D = sh->D, f->H = sh->H, f->M = sh->M;
	f->R = sh->R < sh->H ? sh->R : 0;
	f->ep_names = m->ep_names, f->state_names = m->state_names;
	f->ep_frac = m->ep_frac, f->state_frac = m->state_frac;
	f->seq_gap_frac = m->seq_gap_frac;
	f->vocab = m->vocab;
	f->n_norm = m->norm.n;
	f->norm_mu = (int32_t *)m->norm.mu;
	f->norm_inv = (int32_t *)m->norm.inv;
	for (int t = 0; t < LT_NR; t++) {
		struct ds_model_tensor *dt;

		if (!m->net.rows[t])
			continue;
		dt = &f->tensors[f->n_tensors++];
		snprintf(dt->name, sizeof(dt->name), "%s", lstm_tensor_names[t]);
		snprintf(dt->q, sizeof(dt->q), "%s", fixed ? "Q3.12" : "f64");
		dt->type = fixed ? DS_I16 : DS_F64;
		dt->rows = m->net.rows[t];
		dt->cols = m->net.cols[t];
		dt->data = fixed ? (void *)(m->wq + m->net.off[t]) : (void *)(m->wf + m->net.off[t]);
	}
}

/*
 * unrecurrent_nonzero - 1 with the first (*row, *col) of W_h beyond the
 * recurrent width whose weight is not zero (wq fixed, else wf), else 0
 */
static int unrecurrent_nonzero(const struct lstm_net *net, const q3_12_t *wq, const double *wf,
			       int *row, int *col)
{
	int H = net->sh.H, R = net->sh.R;
	size_t o = net->off[LT_WH];

	for (int r = 0; r < 4 * H && R < H; r++)
		for (int k = R; k < H; k++) {
			size_t i = o + (size_t)r * H + k;

			if (wq ? wq[i] != 0 : wf[i] != 0) {
				*row = r, *col = k;
				return 1;
			}
		}
	return 0;
}

int lstm_model_from_file(struct lstm_model *m, const struct ds_model *f, const char *path)
{
	struct lstm_shape sh = {
		.mode = f->mode, .arith = strcmp(f->arith, "fixed") ? LSTM_FLOAT : LSTM_FIXED,
		.K = f->K, .E = f->E, .S = f->S, .W = f->W, .V = f->V, .D = f->D, .H = f->H,
		.M = f->M, .encoder = f->stateful ? LSTM_ENC_STATEFUL : LSTM_ENC_WINDOW,
		.R = f->R,
	};
	int fixed = sh.arith == LSTM_FIXED, want_norm, n_expected = 0, row, col;

	memset(m, 0, sizeof(*m));
	sc_set_quiet(1);
	if (lstm_net_init(&m->net, &sh)) {
		sc_set_quiet(0);
		return error("cannot read '%s': the network's shape is out of bounds", path);
	}
	sc_set_quiet(0);
	if (sh.encoder == LSTM_ENC_STATEFUL && sh.mode != DS_WIN_CANDIDATES)
		return error("cannot read '%s': a stateful encoder in a sequence model", path);
	want_norm = sh.mode == DS_WIN_CANDIDATES ? sh.E + sh.S : 1;
	if (f->n_norm != want_norm)
		return error("cannot read '%s': %d normalisation entries, expected %d", path,
			     f->n_norm, want_norm);
	for (int t = 0; t < LT_NR; t++) {
		const struct ds_model_tensor *dt = NULL;

		if (!m->net.rows[t])
			continue;
		/* version 1 had no linear path: read as a zero one (the same scores) */
		if (t == LT_WL && f->version < 2)
			continue;
		n_expected++;
		for (int i = 0; i < f->n_tensors; i++)
			if (!strcmp(f->tensors[i].name, lstm_tensor_names[t]))
				dt = &f->tensors[i];
		if (!dt)
			return error("cannot read '%s': missing tensor '%s'", path,
				     lstm_tensor_names[t]);
		if (dt->rows != m->net.rows[t] || dt->cols != m->net.cols[t])
			return error("cannot read '%s': tensor '%s' is %llux%llu, expected %zux%zu",
				     path, dt->name, (unsigned long long)dt->rows,
				     (unsigned long long)dt->cols, m->net.rows[t], m->net.cols[t]);
	}
	if (f->n_tensors != n_expected)
		return error("cannot read '%s': %d tensors, expected %d", path, f->n_tensors,
			     n_expected);
	if (fixed)
		m->wq = xcalloc(m->net.P ? m->net.P : 1, sizeof(*m->wq));
	else
		m->wf = xcalloc(m->net.P ? m->net.P : 1, sizeof(*m->wf));
	for (int i = 0; i < f->n_tensors; i++) {
		const struct ds_model_tensor *dt = &f->tensors[i];
		size_t n = dt->rows * dt->cols;

		for (int t = 0; t < LT_NR; t++)
			if (m->net.rows[t] && !strcmp(dt->name, lstm_tensor_names[t])) {
				if (fixed)
					memcpy(m->wq + m->net.off[t], dt->data, n * sizeof(*m->wq));
				else
					memcpy(m->wf + m->net.off[t], dt->data, n * sizeof(*m->wf));
			}
	}
	if (unrecurrent_nonzero(&m->net, m->wq, m->wf, &row, &col))
		return error("cannot read '%s': lstm/w_h[%d][%d] is not zero, but the recurrent "
			     "width is %d", path, row, col, m->net.sh.R);
	m->norm.n = f->n_norm;
	memcpy(m->norm.mu, f->norm_mu, sizeof(int32_t) * f->n_norm);
	memcpy(m->norm.inv, f->norm_inv, sizeof(int32_t) * f->n_norm);
	m->ep_names = copy_names(f->ep_names, f->E);
	m->state_names = copy_names(f->state_names, f->S);
	m->ep_frac = xcalloc((size_t)f->E + 1, 1);
	m->state_frac = xcalloc((size_t)f->S + 1, 1);
	memcpy(m->ep_frac, f->ep_frac, (size_t)f->E);
	memcpy(m->state_frac, f->state_frac, (size_t)f->S);
	m->seq_gap_frac = f->seq_gap_frac;
	if (fixed && sh.mode == DS_WIN_CANDIDATES) {
		lstm_net_gate_bounds(&m->net, m->wq, &m->gate_lx, &m->gate_lh, &m->gate_lb);
		m->head_i32 = lstm_net_head_i32_safe(&m->net, m->wq);
		fxv_pack(m);
	}
	if (sh.mode == DS_WIN_SEQUENCE)
		m->vocab = copy_names(f->vocab, f->V);
	return 0;
}

struct lstm_model *lstm_model_load(const char *path)
{
	struct ds_model *f = ds_model_load(path);
	struct lstm_model *m;

	if (!f)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	if (lstm_model_from_file(m, f, path)) {
		lstm_model_release(m);
		free(m);
		m = NULL;
	}
	ds_model_free(f);
	return m;
}

const struct lstm_shape *lstm_model_shape(const struct lstm_model *m)
{
	return &m->net.sh;
}

char *const *lstm_model_state_names(const struct lstm_model *m, const int8_t **frac)
{
	*frac = m->state_frac;
	return m->state_names;
}

static const char *mode_name(int mode)
{
	return mode == DS_WIN_SEQUENCE ? "sequence" : "candidates";
}

/* check_windows - as lstm_model_check_windows(), each error line starting with `what` */
static int check_windows(const struct lstm_model *m, const struct ds_windows *w, const char *what)
{
	const struct lstm_shape *sh = &m->net.sh;

	if (w->mode != sh->mode)
		return error("%s: %s windows, but the model is a %s model", what,
			     mode_name(w->mode), mode_name(sh->mode));
	if (sh->mode == DS_WIN_SEQUENCE) {
		if (w->W != sh->W)
			return error("%s: sequence length W=%d, the model expects %d",
				     what, w->W, sh->W);
		if (w->seq_gap_frac != m->seq_gap_frac)
			return error("%s: gap feature has %d fraction bits, the model "
				     "expects %d", what, w->seq_gap_frac, m->seq_gap_frac);
		if ((int64_t)w->n_vocab != sh->V)
			return error("%s: vocabulary of %llu tasks, the model has %d",
				     what, (unsigned long long)w->n_vocab, sh->V);
		for (int i = 0; i < sh->V; i++)
			if (strcmp(w->vocab[i], m->vocab[i]))
				return error("%s: vocabulary entry %d is '%s', the model "
					     "has '%s'", what, i, w->vocab[i], m->vocab[i]);
		return 0;
	}
	if (w->K != sh->K)
		return error("%s: window length K=%d, the model expects %d", what,
			     w->K, sh->K);
	if (w->E != sh->E || w->S != sh->S)
		return error("%s: %d episode + %d state features, the model expects "
			     "%d + %d", what, w->E, w->S, sh->E, sh->S);
	for (int i = 0; i < sh->E; i++)
		if (strcmp(w->ep_names[i], m->ep_names[i]) || w->ep_frac[i] != m->ep_frac[i])
			return error("%s: episode feature %d is %s (Q.%d), the model "
				     "expects %s (Q.%d)", what, i, w->ep_names[i], w->ep_frac[i],
				     m->ep_names[i], m->ep_frac[i]);
	for (int i = 0; i < sh->S; i++)
		if (strcmp(w->state_names[i], m->state_names[i]) ||
		    w->state_frac[i] != m->state_frac[i])
			return error("%s: state feature %d is %s (Q.%d), the model "
				     "expects %s (Q.%d)", what, i, w->state_names[i],
				     w->state_frac[i], m->state_names[i], m->state_frac[i]);
	return 0;
}

int lstm_model_check_windows(const struct lstm_model *m, const struct ds_windows *w,
			     const char *wpath)
{
	char *what = xstrfmt("cannot use '%s'", wpath);
	int ret = check_windows(m, w, what);

	free(what);
	return ret;
}

int lstm_model_check_init(const struct lstm_model *m, const struct ds_windows *w,
			  const char *wpath, const char *mpath)
{
	char *what = xstrfmt("cannot fine-tune '%s' on '%s'", mpath, wpath);
	int ret = check_windows(m, w, what);

	free(what);
	return ret;
}

int lstm_predict_seq(const struct lstm_model *m, const int32_t *ids, const int16_t *gaps,
		     int32_t *scores)
{
	if (m->net.sh.mode != DS_WIN_SEQUENCE)
		return -1;
	if (m->net.sh.arith == LSTM_FIXED)
		return fx_predict_seq(m, ids, gaps, scores);
	return fl_predict_seq(m, ids, gaps, scores);
}

/* ---- the encoder cache ------------------------------------------------------------ */

struct lstm_cache *lstm_cache_new(const struct lstm_model *m, unsigned entries)
{
	struct lstm_cache *c;
	size_t n, H = (size_t)m->net.sh.H;

	if (m->net.sh.mode != DS_WIN_CANDIDATES)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->m = m;
	c->sets = 1;
	while (c->sets * 2 < entries && c->sets < (1u << 24))
		c->sets <<= 1;
	n = (size_t)c->sets * 2;
	c->win = (size_t)m->net.sh.K * m->net.sh.E;
	c->key = xcalloc(n, sizeof(*c->key));
	c->lru = xcalloc(c->sets, 1);
	c->wins = xcalloc(n * c->win, sizeof(*c->wins));
	if (m->net.sh.arith == LSTM_FIXED)
		c->hq = xcalloc(n * H, sizeof(*c->hq));
	else
		c->hf = xcalloc(n * H, sizeof(*c->hf));
	return c;
}

void lstm_cache_free(struct lstm_cache *c)
{
	if (!c)
		return;
	free(c->key), free(c->lru), free(c->wins), free(c->hq), free(c->hf);
	free(c);
}

static uint64_t hash_window(const int16_t *w, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		uint64_t v;

		memcpy(&v, w + i, sizeof(v));
		h = (h ^ v) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	for (; i < n; i++)
		h = (h ^ (uint16_t)w[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	return h ? h : 1;
}

/* the slot holding window's encoding, encoding it on a miss */
static size_t cache_slot(struct lstm_cache *c, const int16_t *window)
{
	uint64_t h = hash_window(window, c->win);
	size_t set = (size_t)(h & (c->sets - 1)), slot;
	size_t H = (size_t)c->m->net.sh.H;

	for (int way = 0; way < 2; way++) {
		slot = set * 2 + (size_t)way;
		if (c->key[slot] == h &&
		    !memcmp(c->wins + slot * c->win, window, c->win * sizeof(*window))) {
			c->lru[set] = (uint8_t)!way;
			c->hits++;
			return slot;
		}
	}
	slot = set * 2 + c->lru[set];
	c->lru[set] ^= 1;
	c->key[slot] = h;
	memcpy(c->wins + slot * c->win, window, c->win * sizeof(*window));
	if (c->hq)
		fxv_encode_raw(c->m, window, c->hq + slot * H);
	else
		fl_encode_raw(c->m, window, c->hf + slot * H);
	c->misses++;
	return slot;
}

void lstm_cache_encode(struct lstm_cache *c, const int16_t *window, q3_12_t *hq, double *hf)
{
	size_t slot = cache_slot(c, window), H = (size_t)c->m->net.sh.H;

	if (c->hq)
		memcpy(hq, c->hq + slot * H, H * sizeof(*hq));
	else
		memcpy(hf, c->hf + slot * H, H * sizeof(*hf));
}

/* lstm_predict() without a cache: every candidate encoded (the reference) */
static int predict_uncached(const struct lstm_model *m, const int16_t *window,
			    const int16_t *state, int ncand, int32_t *scores)
{
	if (m->net.sh.arith == LSTM_FIXED) {
		/* the vector encoder: bit-identical to fx_encode_raw(), several times faster */
		q3_12_t h[LSTM_MAX_HIDDEN];
		size_t KE = (size_t)m->net.sh.K * m->net.sh.E, S = (size_t)m->net.sh.S;
		int best = 0;

		for (int j = 0; j < ncand; j++) {
			fxv_encode_raw(m, window + j * KE, h);
			scores[j] = fxv_score_raw(m, h, state + j * S);
			if (scores[j] > scores[best])
				best = j;
		}
		return best;
	}
	return fl_predict(m, window, state, ncand, scores);
}

int lstm_predict(const struct lstm_model *m, struct lstm_cache *c, const int16_t *window,
		 const int16_t *state, int ncand, int32_t *scores)
{
	size_t H = (size_t)m->net.sh.H, S = (size_t)m->net.sh.S;
	double sbest = 0;
	int best = 0;

	if ((c && c->m != m) || m->net.sh.mode != DS_WIN_CANDIDATES ||
	    m->net.sh.encoder != LSTM_ENC_WINDOW || ncand < 1 || ncand > LSTM_MAX_CAND)
		return -1;
	if (!c)
		return predict_uncached(m, window, state, ncand, scores);
	for (int j = 0; j < ncand; j++) {
		size_t slot = cache_slot(c, window + (size_t)j * c->win);

		if (c->hq) {
			scores[j] = fxv_score_raw(m, c->hq + slot * H, state + (size_t)j * S);
			if (scores[j] > scores[best])
				best = j;
		} else {
			double sc = fl_score_raw(m, c->hf + slot * H, state + (size_t)j * S);

			scores[j] = fl_to_q12(sc);
			if (j == 0 || sc > sbest)
				best = j, sbest = sc;
		}
	}
	return best;
}
