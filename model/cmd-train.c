// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast train - fit the LSTM to a windows file, in fixed point (or the
 * double reference), writing model.h5 atomically after every epoch.
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "common/common.h"
#include "data/modelfile.h"
#include "data/windows.h"
#include "features/features.h"
#include "model/model-local.h"

static const char train_usage[] =
	"usage: schedcast train [-o model.h5] [--hidden N] [--recurrent R] [--epochs N] [--batch N] [--batch-run N] [--lr X] "
	"[--linear-epochs N] [--linear-output FILE] [--arith fixed|float] [--encoder window|stateful] [--seed N] [--threads N] "
	"[--shuffle-buffer SIZE] [--resume | --init MODEL] windows.h5\n"
	"\n"
	"Train the LSTM on the training split of a windows file (made by schedcast\n"
	"features), validating on its validation split after each epoch and keeping\n"
	"the weights of the best epoch.  In candidates mode a linear path from the\n"
	"state features to the score is trained first, alone; the LSTM and head then\n"
	"start as a zero residual on top of it and are kept only if they beat it on\n"
	"validation by more than chance (McNemar's test, 5% level); with fewer than\n"
	"300 validation decisions, the weights of the lowest validation log-loss\n"
	"are kept instead.  The model is written after every epoch, atomically;\n"
	"Ctrl-C stops and leaves the last complete epoch's model.\n"
	"\n"
	"    -o, --output FILE    model file to write (default model.h5)\n"
	"        --hidden N       LSTM hidden size (default 32)\n"
	"        --recurrent R    the first R of the H hidden units feed the gates back\n"
	"                         (the other columns of the recurrent weights are zero\n"
	"                         and stay zero): R/H of the recurrent products a step,\n"
	"                         for the in-kernel program (default: H, all of them)\n"
	"        --head N         candidates mode: head layer size (default 16)\n"
	"        --embed N        sequence mode: task embedding width (default 8)\n"
	"        --epochs N       at most N epochs (default 20)\n"
	"        --batch N        decisions per mini-batch (default 32)\n"
	"        --batch-run N    candidates mode: a mini-batch is made of runs of N\n"
	"                         consecutive decisions, which share most of their\n"
	"                         candidates' windows, each encoded once a batch:\n"
	"                         faster, but other batches (default 1: decisions\n"
	"                         shuffled one by one; --resume: the file's)\n"
	"        --lr X           Adam learning rate (default 0.01)\n"
	"        --patience N     stop after N epochs without a better validation top-1\n"
	"                         (default 3)\n"
	"        --linear-epochs N  candidates mode: epochs of the linear stage at most\n"
	"                         (default 5; 0: none, the linear path trains with the rest)\n"
	"        --linear-output FILE  candidates mode: also write the linear stage alone\n"
	"                         (its best epoch) to FILE, a model eval scores like any\n"
	"                         other\n"
	"        --arith A        fixed (integers only, the default) or float (double\n"
	"                         reference)\n"
	"        --encoder E      candidates mode: window (the default: K LSTM steps from\n"
	"                         zero over a candidate's last K episodes) or stateful\n"
	"                         (each task carries the LSTM's state, one step per\n"
	"                         completed episode; K is how far back the gradient\n"
	"                         flows; the epochs stream the file in time order;\n"
	"                         --resume, --init: the model's own)\n"
	"        --seed N         seed of the initial weights and the batch order (default 1)\n"
	"        --threads N      training threads (default: the online CPUs); the same\n"
	"                         seed and threads give a bit-identical model (fixed:\n"
	"                         any number of threads)\n"
	"        --shuffle-buffer SIZE  candidates mode: memory for the decisions held at\n"
	"                         once, the decisions shuffled within them: their\n"
	"                         candidates' states and distinct windows (bytes, or\n"
	"                         with k, M, G; 64k at least; default 64M)\n"
	"        --resume         continue from the checkpoint in the output file\n"
	"        --init MODEL     fine-tune: start from MODEL's weights and normalisation\n"
	"                         (its inputs must be the windows'; hidden, head, embed\n"
	"                         and arith default to its own); an epoch replaces them\n"
	"                         only if it beats MODEL on validation\n"
	"    -q, --quiet          no progress line\n"
	"    -h, --help           show this help\n"
	"\n"
	"EXAMPLES\n"
	"    schedcast train windows.h5\n"
	"    schedcast train -o float.h5 --arith float --hidden 32 --epochs 10 windows.h5\n"
	"    schedcast train --resume -o model.h5 windows.h5\n"
	"    schedcast train --init general.h5 --epochs 2 -o tuned.h5 windows.h5\n";

struct train_opts {
	const char *out;
	int hidden, head, embed, epochs, batch, patience, threads, arith, resume, quiet, encoder;
	int run;
	int recurrent;		/* 0: the hidden size */
	uint64_t buffer;
	const char *init;
	const char *linear_out;
	unsigned set;		/* SET_* bits: options given on the command line */
	int linear_epochs;
	uint64_t seed;
	double lr;
};

enum { SET_HIDDEN = 1, SET_HEAD = 2, SET_EMBED = 4, SET_ARITH = 8, SET_RUN = 16,
       SET_ENCODER = 32, SET_RECURRENT = 64 };

static const char *encoder_name(int e)
{
	return e == LSTM_ENC_STATEFUL ? "stateful" : "window";
}

static volatile int stop_requested;

/* wilson - the Wilson score 95% interval of a proportion p over n trials */
static void wilson(double p, double n, double *lo, double *hi)
{
	const double z = 1.959964, z2 = z * z;
	double c = (p + z2 / (2 * n)) / (1 + z2 / n);
	double h = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);

	*lo = c - h < 0 ? 0 : c - h;
	*hi = c + h > 1 ? 1 : c + h;
}

static void on_stop(int sig)
{
	stop_requested = 1;
}

static int bad_value(const char *opt, const char *val)
{
	error("invalid value '%s' for %s", val, opt);
	return sc_usage(train_usage, 1);
}

/*
 * init_shape - with --init, the network's shape and arithmetic are the
 * initial model's: take them where the command line is silent, refuse a
 * contradiction in one line.
 */
static int init_shape(struct train_opts *o)
{
	struct lstm_model *m = lstm_model_load(o->init);
	const struct lstm_shape *sh;
	int ret = 0;

	if (!m)
		return -1;
	sh = lstm_model_shape(m);
	if ((o->set & SET_HIDDEN) && o->hidden != sh->H)
		ret = error("cannot fine-tune '%s': its hidden size is %d, not %d", o->init, sh->H,
			    o->hidden);
	else if ((o->set & SET_RECURRENT) && o->recurrent != sh->R)
		ret = error("cannot fine-tune '%s': its recurrent width is %d, not %d", o->init,
			    sh->R, o->recurrent);
	else if ((o->set & SET_HEAD) && sh->M && o->head != sh->M)
		ret = error("cannot fine-tune '%s': its head size is %d, not %d", o->init, sh->M,
			    o->head);
	else if ((o->set & SET_EMBED) && sh->D && o->embed != sh->D)
		ret = error("cannot fine-tune '%s': its embedding width is %d, not %d", o->init,
			    sh->D, o->embed);
	else if ((o->set & SET_ARITH) && o->arith != sh->arith)
		ret = error("cannot fine-tune '%s': it is a %s model, not %s", o->init,
			    sh->arith == LSTM_FIXED ? "fixed" : "float",
			    o->arith == LSTM_FIXED ? "fixed" : "float");
	else if ((o->set & SET_ENCODER) && o->encoder != sh->encoder)
		ret = error("cannot fine-tune '%s': its encoder is %s, not %s", o->init,
			    encoder_name(sh->encoder), encoder_name(o->encoder));
	if (!ret) {
		o->encoder = sh->encoder;
		o->hidden = sh->H;
		o->recurrent = sh->R;
		if (sh->M)
			o->head = sh->M;
		if (sh->D)
			o->embed = sh->D;
		o->arith = sh->arith;
	}
	lstm_model_free(m);
	return ret;
}

static int do_train(int argc, char **argv, char **init_path)
{
	enum { O_HIDDEN = 256, O_HEAD, O_EMBED, O_EPOCHS, O_BATCH, O_LR, O_ARITH, O_SEED,
	       O_THREADS, O_RESUME, O_PATIENCE, O_INIT, O_LINEAR, O_BUFFER, O_RUN,
	       O_LINEAR_OUT, O_ENCODER, O_RECURRENT };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "hidden", required_argument, NULL, O_HIDDEN },
		{ "recurrent", required_argument, NULL, O_RECURRENT },
		{ "head", required_argument, NULL, O_HEAD },
		{ "embed", required_argument, NULL, O_EMBED },
		{ "epochs", required_argument, NULL, O_EPOCHS },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "lr", required_argument, NULL, O_LR },
		{ "arith", required_argument, NULL, O_ARITH },
		{ "encoder", required_argument, NULL, O_ENCODER },
		{ "seed", required_argument, NULL, O_SEED },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "patience", required_argument, NULL, O_PATIENCE },
		{ "linear-epochs", required_argument, NULL, O_LINEAR },
		{ "linear-output", required_argument, NULL, O_LINEAR_OUT },
		{ "resume", no_argument, NULL, O_RESUME },
		{ "shuffle-buffer", required_argument, NULL, O_BUFFER },
		{ "batch-run", required_argument, NULL, O_RUN },
		{ "init", required_argument, NULL, O_INIT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct train_opts opts = {
		.out = "model.h5", .hidden = 32, .head = 16, .embed = 8, .epochs = 20,
		.batch = 32, .run = LSTM_DEFAULT_RUN, .patience = 3, .threads = 0, .arith = LSTM_FIXED, .seed = 1,
		.lr = 0.01, .linear_epochs = 5,
	};
	struct lstm_train_opts to;
	struct lstm_train_result res;
	const struct ds_windows *w;
	struct ds_windows *loaded = NULL;
	struct ds_windows_reader *rd;
	struct sigaction sa, old_int, old_term, old_hup;
	char *cmdline;
	int c, ret;

	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			opts.out = optarg;
			break;
		case O_HIDDEN:
			if (parse_int(optarg, 1, LSTM_MAX_HIDDEN, &opts.hidden))
				return bad_value("--hidden", optarg);
			opts.set |= SET_HIDDEN;
			break;
		case O_RECURRENT:
			if (parse_int(optarg, 1, LSTM_MAX_HIDDEN, &opts.recurrent))
				return bad_value("--recurrent", optarg);
			opts.set |= SET_RECURRENT;
			break;
		case O_HEAD:
			if (parse_int(optarg, 1, LSTM_MAX_HEAD, &opts.head))
				return bad_value("--head", optarg);
			opts.set |= SET_HEAD;
			break;
		case O_EMBED:
			if (parse_int(optarg, 1, LSTM_MAX_IN - 1, &opts.embed))
				return bad_value("--embed", optarg);
			opts.set |= SET_EMBED;
			break;
		case O_EPOCHS:
			if (parse_int(optarg, 1, 100000, &opts.epochs))
				return bad_value("--epochs", optarg);
			break;
		case O_BATCH:
			if (parse_int(optarg, 1, 1 << 20, &opts.batch))
				return bad_value("--batch", optarg);
			break;
		case O_PATIENCE:
			if (parse_int(optarg, 1, 100000, &opts.patience))
				return bad_value("--patience", optarg);
			break;
		case O_LINEAR:
			if (parse_int(optarg, 0, 100000, &opts.linear_epochs))
				return bad_value("--linear-epochs", optarg);
			break;
		case O_LINEAR_OUT:
			opts.linear_out = optarg;
			break;
		case O_THREADS:
			if (parse_int(optarg, 1, 64, &opts.threads))
				return bad_value("--threads", optarg);
			break;
		case O_LR:
			/* Q0.32 in the fixed path: at least one step, below 1 */
			if (parse_double(optarg, &opts.lr) || !(opts.lr >= 1e-9 && opts.lr < 1))
				return bad_value("--lr", optarg);
			break;
		case O_ARITH:
			if (!strcmp(optarg, "fixed"))
				opts.arith = LSTM_FIXED;
			else if (!strcmp(optarg, "float"))
				opts.arith = LSTM_FLOAT;
			else
				return bad_value("--arith", optarg);
			opts.set |= SET_ARITH;
			break;
		case O_ENCODER:
			if (!strcmp(optarg, "window"))
				opts.encoder = LSTM_ENC_WINDOW;
			else if (!strcmp(optarg, "stateful"))
				opts.encoder = LSTM_ENC_STATEFUL;
			else
				return bad_value("--encoder", optarg);
			opts.set |= SET_ENCODER;
			break;
		case O_SEED:
			if (parse_u64(optarg, &opts.seed))
				return bad_value("--seed", optarg);
			break;
		case O_RUN:
			if (parse_int(optarg, 1, 1 << 20, &opts.run))
				return bad_value("--batch-run", optarg);
			opts.set |= SET_RUN;
			break;
		case O_BUFFER:
			if (parse_size(optarg, &opts.buffer) || opts.buffer < (64 << 10) ||
			    opts.buffer > (1ull << 40))
				return bad_value("--shuffle-buffer", optarg);
			break;
		case O_RESUME:
			opts.resume = 1;
			break;
		case O_INIT:
			opts.init = optarg;
			break;
		case 'q':
			opts.quiet = 1;
			break;
		case 'h':
			return sc_usage(train_usage, 0);
		default:
			return sc_usage(train_usage, 1);
		}
	}
	if (!opts.threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		opts.threads = (int)SC_MAX(1L, SC_MIN(n, 64L));
	}
	if (argc - optind != 1) {
		error(optind >= argc ? "no windows file given" : "too many arguments");
		return sc_usage(train_usage, 1);
	}
	if (opts.init && !(*init_path = sc_model_path(opts.init)))
		return 1;
	opts.init = *init_path;
	if (opts.resume && opts.init) {
		error("--resume and --init exclude each other (a resumed run keeps its own start)");
		return sc_usage(train_usage, 1);
	}
	if (opts.linear_out && (opts.resume || opts.init || !opts.linear_epochs)) {
		error("--linear-output needs the linear stage (not with --resume, --init or "
		      "--linear-epochs 0)");
		return sc_usage(train_usage, 1);
	}
	if (opts.linear_out && !strcmp(opts.linear_out, opts.out)) {
		error("--linear-output and -o name the same file '%s'", opts.out);
		return sc_usage(train_usage, 1);
	}
	{
		const char *inputs[] = { argv[optind], opts.init };

		if (sc_check_output(opts.out, inputs, opts.init ? 2 : 1))
			return 1;
		if (opts.linear_out && sc_check_output(opts.linear_out, inputs, opts.init ? 2 : 1))
			return 1;
	}
	if (opts.init && init_shape(&opts))
		return 1;
	if (opts.recurrent > opts.hidden) {
		error("--recurrent %d is more than the hidden size %d", opts.recurrent,
		      opts.hidden);
		return sc_usage(train_usage, 1);
	}
	if (opts.resume && access(opts.out, F_OK))
		die("cannot resume: '%s' does not exist", opts.out);
	/*
	 * a resumed run keeps its encoder and recurrent width unless told (then the
	 * settings check compares)
	 */
	if (opts.resume && (~opts.set & (SET_ENCODER | SET_RECURRENT))) {
		struct ds_model *f = ds_model_load(opts.out);

		if (!f)
			return 1;
		if (!(opts.set & SET_ENCODER))
			opts.encoder = f->stateful ? LSTM_ENC_STATEFUL : LSTM_ENC_WINDOW;
		if (!(opts.set & SET_RECURRENT))
			opts.recurrent = f->R;
		ds_model_free(f);
	}

	/*
	 * Candidates mode streams the file (only its header is read here);
	 * sequence mode, one int32 and one int16 per pick, is loaded whole.
	 */
	rd = feat_windows_open(argv[optind]);
	if (!rd)
		return 1;
	if (ds_windows_header(rd)->mode == DS_WIN_SEQUENCE) {
		ds_windows_close(rd);
		rd = NULL;
		w = loaded = feat_windows_load(argv[optind]);
		if (!w)
			return 1;
	} else {
		w = ds_windows_header(rd);
	}

	cmdline = sc_cmdline(argc, argv);
	to = (struct lstm_train_opts){
		.out = opts.out, .windows_path = argv[optind], .hidden = opts.hidden,
		.recurrent = opts.recurrent,
		.head = opts.head, .embed = opts.embed, .epochs = opts.epochs,
		.batch = opts.batch, .threads = opts.threads, .patience = opts.patience,
		.linear_epochs = opts.linear_epochs, .linear_out = opts.linear_out,
		.buffer = opts.buffer,
		.run = opts.resume && !(opts.set & SET_RUN) ? LSTM_RUN_CKPT : opts.run,
		.arith = opts.arith, .encoder = opts.encoder, .seed = opts.seed, .lr = opts.lr,
		.resume = opts.resume,
		.init = opts.init, .progress = !opts.quiet && sc_isatty_stderr(), .verbose = !opts.quiet,
		.stop = &stop_requested, .command_line = cmdline,
	};

	/* Ctrl-C, kill, a closed terminal: finish the batch, keep the last complete epoch's file */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	ret = lstm_train(w, &to, &res);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	free(cmdline);
	ds_windows_free(loaded);
	ds_windows_close(rd);
	if (ret)
		return 1;
	if (res.interrupted) {
		if (res.epochs_run)
			error("interrupted: '%s' holds the checkpoint of epoch %d", opts.out,
			      res.epochs_run);
		else
			error("interrupted before the first epoch ended: '%s' not written",
			      opts.out);
		return 130;
	}
	printf("%s: %d epochs%s, best epoch %d", opts.out, res.epochs_run,
	       res.early_stopped ? " (early stop)" : "", res.best_epoch);
	if (res.init_val_top1 >= 0)
		printf(" (initial model %.2f%%%s)", 100.0 * res.init_val_top1,
		       res.best_epoch ? "" : ", kept: no epoch beat it");
	if (res.best_val_top1 >= 0)
		printf(", validation top-1 %.2f%% on %llu decisions", 100.0 * res.best_val_top1,
		       (unsigned long long)res.val_decisions);
	else
		printf(", no validation decisions");
	if (res.linear_val_top1 >= 0 && res.by_loss && res.loss_epoch)
		printf(", linear path %.2f%% (%s: chosen by validation log-loss, the linear "
		       "path's %.3f against the LSTM's %.3f at epoch %d)",
		       100.0 * res.linear_val_top1,
		       res.residual_kept ? "the LSTM kept" : "kept alone", res.linear_loss,
		       res.lstm_loss, res.loss_epoch);
	else if (res.linear_val_top1 >= 0 && !res.residual_kept && res.unsure_epoch)
		printf(", linear path %.2f%% (kept alone: the LSTM's epoch %d, %.2f%%, was not "
		       "better by more than chance: right on %llu of the decisions where the two "
		       "differ, wrong on %llu)", 100.0 * res.linear_val_top1, res.unsure_epoch,
		       100.0 * res.unsure_val_top1, (unsigned long long)res.unsure_won,
		       (unsigned long long)res.unsure_lost);
	else if (res.linear_val_top1 >= 0)
		printf(", linear path %.2f%% (%s)", 100.0 * res.linear_val_top1,
		       res.residual_kept ? "the LSTM kept" : "kept alone: the LSTM did not beat it");
	printf(", %llu training decisions, %.0f decisions/s (%s%s, %d threads)",
	       (unsigned long long)res.train_decisions, res.decisions_per_s,
	       opts.arith == LSTM_FIXED ? "fixed" : "float",
	       opts.encoder == LSTM_ENC_STATEFUL ? ", stateful" : "", opts.threads);
	if (res.cache_uses)
		printf(", encoder cache: %llu of %llu candidate windows encoded",
		       (unsigned long long)res.cache_encoded, (unsigned long long)res.cache_uses);
	putchar('\n');
	/* few validation decisions: say so, with the interval of the kept figure */
	if (res.best_val_top1 >= 0 && res.val_decisions < LSTM_FEW_VAL) {
		double lo, hi;

		wilson(res.best_val_top1, (double)res.val_decisions, &lo, &hi);
		warning("only %llu validation decisions (fewer than %d): the weights "
			"kept are those of the lowest log-loss; their top-1 is a noisy "
			"figure, %.1f%% with a 95%% interval of [%.1f%%, %.1f%%]",
			(unsigned long long)res.val_decisions,
			LSTM_FEW_VAL, 100.0 * res.best_val_top1, 100.0 * lo, 100.0 * hi);
	}
	return 0;
}

int cmd_train(int argc, char **argv)
{
	char *init_path = NULL;	/* --init, resolved (sc_model_path) */
	int ret = do_train(argc, argv, &init_path);

	free(init_path);
	return ret;
}
