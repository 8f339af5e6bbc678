/* SPDX-License-Identifier: GPL-2.0 */
/*
 * data/modelfile.h - the model file (model.h5) written by `schedcast train`:
 * hyperparameters, the input features it expects, normalisation, weights
 * with their Q-formats, the training curve and an optional checkpoint of
 * the optimizer.  Format "schedcast-model", version DS_MODEL_VERSION;
 * documented in man/schedcast-files.5.
 *
 * This layer stores and validates the container (types, sizes, bounds); the
 * model layer checks that each tensor has the shape its network needs.
 *
 * Layout: root attributes format, version, arith ("fixed" | "float"), mode,
 * encoder ("window" | "stateful"; optional: absent is "window"),
 * recurrent (optional: absent is H; the columns recurrent..H-1 of lstm/w_h are zero),
 * K E S W V D H M, epochs batch threads patience seed lr, best_epoch,
 * batch_run (optional: older files lack it),
 * windows, command_line, train_decisions val_decisions, and with --init
 * init_model init_windows init_val_top1; /trained_on/traces (the windows'
 * input traces) and /trained_on/decisions (uint64: training decisions from
 * each), optional; /input/ep_names ep_frac state_names state_frac
 * norm_mu norm_inv vocab, attribute seq_gap_frac; /weights/names (the list)
 * and /weights/<name> (int16 with attribute q = "Q3.12", or float64 with
 * q = "f64"); /curve/train_loss, /curve/val_top1 (float64 per epoch);
 * /ckpt/master, /ckpt/adam_m, /ckpt/adam_v (flat, every tensor in the
 * order of /weights/names) with attributes epoch, step, rng, bad_epochs.
 */
#ifndef SC_DATA_MODELFILE_H
#define SC_DATA_MODELFILE_H

#include <stdint.h>

#include "data/ds.h"

#define DS_MODEL_FORMAT "schedcast-model"
/*
 * Versions: 2 added head/w_lin, the linear path (1 is read as a zero one);
 * 3 is a stateful encoder's (attribute encoder = "stateful"), so that an
 * older reader refuses it instead of running it as a windowed model.  A
 * windowed model is still written as version 2.
 */
#define DS_MODEL_VERSION 3		/* the newest readable */
#define DS_MODEL_VERSION_WINDOW 2	/* written for a windowed encoder */
#define DS_MODEL_VERSION_STATEFUL 3	/* written for a stateful encoder */
#define DS_MODEL_MAX_TENSORS 16
#define DS_MODEL_MAX_PARAMS (1ULL << 26)	/* elements of all weights together */

struct ds_model_tensor {
	char name[32];		/* "lstm/w_x" */
	enum ds_type type;	/* DS_I16 (fixed) or DS_F64 (float) */
	char q[16];		/* "Q3.12" or "f64" */
	uint64_t rows, cols;	/* cols == 1 for vectors */
	void *data;		/* (rows, cols), owned */
};

struct ds_model {
	int version;
	char arith[8];		/* "fixed" or "float" */
	int mode;		/* enum ds_win_mode */
	int K, E, S, W, V, D, H, M;
	int stateful;		/* encoder = "stateful" (version 3), else the windowed one */
	int R;			/* attribute recurrent, 1..H; 0: absent (H, all of W_h) */

	/* the input it expects */
	char **ep_names, **state_names;	/* (E), (S) */
	int8_t *ep_frac, *state_frac;	/* (E), (S) */
	int seq_gap_frac;
	char **vocab;		/* (V) in sequence mode, else NULL */
	int n_norm;
	int32_t *norm_mu, *norm_inv;	/* (n_norm) */

	/* how it was trained */
	int epochs, batch, threads, patience;
	int batch_run;		/* train --batch-run as trained (1: one by one), 0: not recorded */
	uint64_t seed;
	double lr;
	char *windows, *command_line;

	/*
	 * What it was trained on (optional: older files lack it; n_traces 0):
	 * the windows' traces and the training decisions taken from each, the
	 * split sizes, and for a fine-tuned model (train --init) the initial
	 * model, the windows that one was trained on and its validation top-1
	 * here before the first step (init_val_top1 -1: not measured).
	 */
	int n_traces;
	char **traces;		/* (n_traces) */
	uint64_t *trace_train;	/* (n_traces) training decisions from each */
	uint64_t train_decisions, val_decisions;
	char *init_model, *init_windows;	/* NULL or "": trained from scratch */
	double init_val_top1;
	int n_curve;
	double *train_loss, *val_top1;	/* (n_curve): mean cross-entropy, fraction */
	int best_epoch;		/* 1-based epoch whose weights these are, 0: none or the linear stage */
	int linear_epochs;	/* version 2: epochs of the linear stage (0: none) */
	double linear_val_top1;	/* version 2: its validation top-1, -1: none */

	int n_tensors;
	struct ds_model_tensor tensors[DS_MODEL_MAX_TENSORS];

	/* checkpoint (has_ckpt): the optimizer's state after ckpt_epoch */
	int has_ckpt;
	int ckpt_epoch, ckpt_bad_epochs;
	uint64_t ckpt_step, ckpt_rng, n_params;
	void *ckpt_master;	/* (n_params) int32 Q3.28 (fixed) or float64 */
	void *ckpt_m;		/* (n_params) int32 Q7.24 (fixed) or float64 */
	void *ckpt_v;		/* (n_params) int64 Q14.48 (fixed) or float64 */
};

/*
 * ds_model_save - write m to path atomically (a temporary renamed into
 * place): a reader sees the previous file or the new one, never half.
 * 0 or -1 (printed).
 */
int ds_model_save(const char *path, const struct ds_model *m);
/*
 * ds_model_load - read and validate path.  NULL after a one-line error
 * naming path.  Free with ds_model_free().
 */
struct ds_model *ds_model_load(const char *path);
/* ds_model_free - free the contents and the struct (NULL is a no-op) */
void ds_model_free(struct ds_model *m);

/*
 * ds_model_digest - FNV-1a over every weight (and checkpoint) byte: equal
 * digests, equal models (schedcast info prints it).
 */
uint64_t ds_model_digest(const struct ds_model *m);

#endif /* SC_DATA_MODELFILE_H */
