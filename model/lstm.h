/* SPDX-License-Identifier: GPL-2.0 */
/*
 * model/lstm.h - the LSTM that forecasts the scheduler's next pick, trained
 * and run in fixed-point integer arithmetic (with a double reference).
 *
 * Two networks, chosen by the windows file they are trained on:
 *
 *   candidates mode: one LSTM encoder, shared by all candidates, reads a
 *     candidate's K-episode window (K steps of E features); its last hidden
 *     state joined with the candidate's S state features goes through a
 *     small head (Linear(H+S -> M), ReLU, Linear(M -> 1)) to one score; a
 *     softmax over the decision's candidates gives the probabilities.
 *
 *   sequence mode: the last W picks on the CPU, each an embedding of its
 *     vocabulary id (D values) plus the time gap, go through the LSTM; a
 *     Linear(H -> V) and a softmax over the vocabulary give the next pick.
 *
 * Scores are logits in Q3.12 units (value = score / 4096) held in int32:
 * p_i = exp(s_i / 4096) / sum_j exp(s_j / 4096).  A fixed-point model
 * computes them with integers only; a float model (trained with
 * --arith float) computes in double and rounds to the same units, so a
 * caller treats both alike.
 *
 * Inputs are the raw int16 features exactly as a windows file stores them
 * (data/windows.h); the model normalises them with the statistics it saved.
 *
 * Thread safety: a loaded model is read-only; lstm_predict() may run on
 * several threads at once on the same model.  They neither allocate nor
 * print.
 */
#ifndef SC_MODEL_LSTM_H
#define SC_MODEL_LSTM_H

#include <stdint.h>

#include "data/windows.h"

enum lstm_arith { LSTM_FIXED = 0, LSTM_FLOAT = 1 };

/*
 * The candidates encoder's kind (model file attribute "encoder"):
 *   window: K LSTM steps from a zero state over the candidate's last K
 *     episodes (zero rows in front when it has fewer), the default;
 *   stateful: one step per completed episode of the candidate's task,
 *     carrying (h, c) per task from a zero state (struct lstm_tasks below);
 *     K is only the training truncation length.
 */
enum lstm_encoder { LSTM_ENC_WINDOW = 0, LSTM_ENC_STATEFUL = 1 };

/* Hard bounds: a model file outside them is refused as corrupt. */
#define LSTM_MAX_HIDDEN 256
#define LSTM_MAX_K 64		/* episodes per window (candidates mode) */
#define LSTM_MAX_W 256		/* sequence length (sequence mode) */
#define LSTM_MAX_IN 64		/* E, or D + 1 */
#define LSTM_MAX_STATE 64
#define LSTM_MAX_HEAD 256
#define LSTM_MAX_VOCAB 65536
#define LSTM_MAX_CAND 4096	/* candidates of one decision */

/*
 * struct lstm_shape - the network's hyperparameters (read-only view of a
 * loaded model, also the input to training).
 */
struct lstm_shape {
	int mode;	/* enum ds_win_mode */
	int arith;	/* enum lstm_arith */
	int K;		/* candidates: window length (LSTM steps) */
	int E;		/* candidates: features per episode */
	int S;		/* candidates: state features */
	int W;		/* sequence: window length (LSTM steps) */
	int V;		/* sequence: vocabulary size (id 0 = unknown task) */
	int D;		/* sequence: embedding width */
	int H;		/* LSTM hidden size */
	int M;		/* candidates: head hidden size */
	int encoder;	/* candidates: enum lstm_encoder */
	int R;		/* recurrent width: h[0..R-1] feeds the gates, 1..H (0 given to
			   lstm_net_init: H); the columns R..H-1 of W_h are zero */
};

struct lstm_model;

/*
 * lstm_model_load - read a model.h5 written by `schedcast train`, checking
 * its format, version and every tensor's shape.  NULL after a one-line
 * error naming path.  Free with lstm_model_free().
 */
struct lstm_model *lstm_model_load(const char *path);
/* lstm_model_free - NULL is a no-op */
void lstm_model_free(struct lstm_model *m);

/* lstm_model_shape - the model's hyperparameters (owned by m) */
const struct lstm_shape *lstm_model_shape(const struct lstm_model *m);
/*
 * lstm_model_state_names - candidates mode: the S state inputs it was trained
 * on (owned by m), *frac their fraction bits
 */
char *const *lstm_model_state_names(const struct lstm_model *m, const int8_t **frac);

/*
 * lstm_model_check_windows - 0 when the windows w (read from wpath) carry
 * the mode, K/W, feature names and fraction bits m was trained on; else -1
 * after a one-line error naming wpath and the first difference.
 */
int lstm_model_check_windows(const struct lstm_model *m, const struct ds_windows *w,
			     const char *wpath);

/*
 * lstm_predict_seq - score every vocabulary id as the next pick (sequence
 * mode).  ids: (W) vocabulary ids of the last W picks, oldest first, -1 for
 * padding; gaps: (W) raw gap features as in struct ds_windows.  scores: (V)
 * logits in Q3.12 units.  Returns the best id, or -1 when m is not a
 * sequence model.
 */
int lstm_predict_seq(const struct lstm_model *m, const int32_t *ids, const int16_t *gaps,
		     int32_t *scores);

/*
 * struct lstm_cache - the encoder's output (the LSTM's last hidden state)
 * remembered per candidate window.  A task waiting in a runqueue keeps its
 * window from one decision to the next (it changes when the task runs), so
 * with a cache most candidates of a decision cost only the head.  Results
 * are bit-identical to lstm_predict() without one: a hit compares the whole
 * window.
 * One cache per thread; it holds no pointer into the windows.
 */
struct lstm_cache;

/*
 * lstm_cache_new - a cache of `entries` windows (rounded up to a power of
 * two, 2-way set associative) for candidates model m.  Free with
 * lstm_cache_free() (NULL is a no-op) before m.
 */
struct lstm_cache *lstm_cache_new(const struct lstm_model *m, unsigned entries);
void lstm_cache_free(struct lstm_cache *c);

/*
 * lstm_predict - score the ncand candidates of one decision (candidates
 * mode).  window: (ncand, K, E) raw features, oldest episode first; state:
 * (ncand, S) raw features, as in struct ds_windows.  scores: (ncand) logits
 * in Q3.12 units.  c: the encoder cache of m (eval and live), or NULL to
 * encode every candidate (the reference the cache equals, bit for bit).
 * Returns the index of the highest score (the first on a tie), or -1 when
 * ncand is out of 1..LSTM_MAX_CAND, m is not a windowed candidates model
 * (a stateful one scores with lstm_predict_tasks()) or c is another model's.
 */
int lstm_predict(const struct lstm_model *m, struct lstm_cache *c, const int16_t *window,
		 const int16_t *state, int ncand, int32_t *scores);

/*
 * struct lstm_tasks - the encoder state of a stateful model (enum
 * lstm_encoder), per task: (h, c) in the formats the windowed encoder keeps
 * between its steps (fixed: Q3.12; float: double), all zero for a task not
 * seen yet.  A task is a task id as features/ and the windows file give it
 * (struct ds_candidate's task, feat_take_episodes()).  Memory: 4H + 8 bytes
 * (fixed; 16H + 8 float) and a table slot of 12 bytes or so a task that has
 * stepped and not been forgotten: a caller that retires tasks
 * (feat_take_retired()) keeps it to the tasks alive.  One per timeline; not
 * shared between threads while stepped.
 */
struct lstm_tasks;

/* lstm_tasks_new - NULL when m is not a stateful candidates model.  Free before m. */
struct lstm_tasks *lstm_tasks_new(const struct lstm_model *m);
void lstm_tasks_free(struct lstm_tasks *t);
/* lstm_tasks_reset - every task back to the zero state (a rewind of the timeline) */
void lstm_tasks_reset(struct lstm_tasks *t);
/*
 * lstm_tasks_step - an episode of task completed: (h, c) <- one encoder
 * step on its raw (E) feature row (the windowed encoder's step, bit for bit)
 */
void lstm_tasks_step(struct lstm_tasks *t, uint32_t task, const int16_t *row);
/* lstm_tasks_steps - the steps task has taken (its completed episodes seen) */
uint32_t lstm_tasks_steps(const struct lstm_tasks *t, uint32_t task);
/*
 * lstm_tasks_forget - task is gone (it exited, or the timeline was reset):
 * its entry is given back.  Task ids never repeat, so it is never asked for
 * again; if it were, it would be a task not seen yet (zero state).
 */
void lstm_tasks_forget(struct lstm_tasks *t, uint32_t task);
/* lstm_tasks_count - the tasks holding an entry (memory is proportional to it) */
uint64_t lstm_tasks_count(const struct lstm_tasks *t);

/*
 * lstm_predict_tasks - lstm_predict() for a stateful model: each
 * candidate's encoder output is its task's h in t (cand[j].task), then the
 * head on its raw (S) state features.  Returns the best index, -1 on bad
 * arguments (not a stateful model, ncand out of range, t another model's),
 * -2 when a candidate's cand[j].n_ep differs from the steps t took for its
 * task (the episodes were not all stepped, in order: a caller's bug or a
 * corrupt file).
 */
int lstm_predict_tasks(const struct lstm_model *m, const struct lstm_tasks *t,
		       const struct ds_candidate *cand, const int16_t *state, int ncand,
		       int32_t *scores);

/*
 * struct lstm_fixed_view - the tensors of a fixed-point candidates model,
 * owned by the model (valid until lstm_model_free).  Row-major, gate order
 * i f g o; every weight Q3.12.
 */
struct lstm_fixed_view {
	const struct lstm_shape *sh;
	const int16_t *wx;		/* (4H, E) */
	const int16_t *wh;		/* (4H, H), columns R..H-1 zero (sh->R) */
	const int16_t *b;		/* (4H) */
	const int16_t *w1;		/* (M, H + S) */
	const int16_t *b1;		/* (M) */
	const int16_t *w2;		/* (M) */
	const int16_t *wl;		/* (S) the linear path: score += wl . s */
	int norm_n;			/* E + S */
	const int32_t *norm_mu;		/* (norm_n) raw units */
	const int32_t *norm_inv;	/* (norm_n) 2^28 / std */
	const int32_t *sigmoid_tab;	/* (513) sigmoid(-8 + i/32), Q1.30 */
	const int32_t *tanh_tab;	/* (513) tanh(-8 + i/32), Q1.30 */
	char *const *ep_names;		/* (E) the input features it was trained on */
	char *const *state_names;	/* (S) */
	const int8_t *ep_frac, *state_frac;	/* (E), (S) their fraction bits */
};

/* lstm_model_fixed_view - 0, or -1 when m is not a fixed-point candidates model */
int lstm_model_fixed_view(const struct lstm_model *m, struct lstm_fixed_view *v);
/* lstm_encode_fixed - the encoder's output h (H, Q3.12) for one raw (K, E) window */
void lstm_encode_fixed(const struct lstm_model *m, const int16_t *window, int16_t *h);

/*
 * struct lstm_online - online adaptation of a candidates model (model/online.c):
 * after a decision is scored, lstm_online_step() takes one training step on
 * it (Adam, batch of one, learning rate lr), on the head and the linear
 * path; the encoder is frozen, so lstm_online_cache() (the cache to score
 * with) stays valid.  The model m is modified in place: it must not be
 * shared with another thread meanwhile.  NULL for a sequence model or an lr
 * outside (0, 1).  Free with lstm_online_free() (NULL is a no-op) before m.
 */
struct lstm_online;

struct lstm_online *lstm_online_new(struct lstm_model *m, double lr);
void lstm_online_free(struct lstm_online *o);
struct lstm_cache *lstm_online_cache(struct lstm_online *o);
/*
 * lstm_online_step - one step on a scored decision (raw window (ncand, K, E)
 * and state (ncand, S), label the pick): 1 when taken, 0 when the decision
 * cannot train (fewer than two candidates, pick not among them)
 */
int lstm_online_step(struct lstm_online *o, const int16_t *window, const int16_t *state,
		     int ncand, int label);
/*
 * lstm_online_step_tasks - the same for a stateful model: the candidates'
 * encoder outputs from t (their tasks' states, as lstm_predict_tasks()
 * scores them); the encoder stays frozen, so t stays valid.  0 for a
 * windowed model (and lstm_online_step() is 0 for a stateful one).
 */
int lstm_online_step_tasks(struct lstm_online *o, const struct lstm_tasks *t,
			   const struct ds_candidate *cand, const int16_t *state, int ncand,
			   int label);

#endif /* SC_MODEL_LSTM_H */
