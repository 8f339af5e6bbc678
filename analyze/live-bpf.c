// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast live --in-kernel: load the in-kernel predictor
 * (analyze/bpf/live.bpf.c), give it the model, run, read its counters.
 *
 * The program does all the work in the kernel: runqueue state, features,
 * the encoder once per window that a contested decision scores, the head
 * and the rankings at each decision; userspace only reads per-CPU counters (every second on a
 * terminal, and at the end).  With --check the program also streams every
 * event it handled, with its prediction for each decision, through a ring
 * buffer; userspace replays exactly those events through features/ and the
 * model (what `schedcast live` does with tracefs events) and compares the
 * predictions one by one: the arithmetic is integer, so they must be equal.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "analyze/live-bpf.h"
#include "collect/workload.h"
#include "common/common.h"
#include "common/run-command.h"
#include "data/trace.h"
#include "features/features.h"
#include "model/lstm.h"

#ifndef SC_HAVE_BPF

int ana_live_kernel(const struct lstm_model *m, const struct ana_kernel_opts *o)
{
	return -error("--in-kernel: this schedcast was built without BPF support "
		      "(needs clang, bpftool, libbpf-dev and a kernel with BTF at build time)");
}

#else

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "analyze/bpf/live-bpf.h"
#include "live.skel.h"

#define LINE_NS NSEC_PER_SEC	/* terminal line refresh */
#define LOG_TAIL 4		/* verifier log lines quoted to the user */
#define MAX_SHOWN_DIFFS 5
#define LB_RING_CHECK (1u << 26)	/* --check's ring buffer: 64 MiB, ~600k events */

static volatile sig_atomic_t kstop;

static void on_signal(int sig)
{
	kstop = sig;
}

/* libbpf's messages (the verifier log among them) are kept, printed only on failure */
static struct strbuf bpf_log = STRBUF_INIT;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *buf;

	if (level == LIBBPF_DEBUG)
		return 0;
	if (vasprintf(&buf, fmt, ap) < 0)
		return 0;
	strbuf_addstr(&bpf_log, buf);
	free(buf);
	return 0;
}

/* log_tail - the last n non-empty lines of the kept log, joined by " / " */
static void log_tail(struct strbuf *out, int n)
{
	const char *s = bpf_log.buf, *end = s + bpf_log.len;
	const char *starts[LOG_TAIL];
	int nr = 0;

	for (const char *p = end; p > s && nr < n;) {
		const char *e = p, *b;

		while (e > s && (e[-1] == '\n' || e[-1] == ' '))
			e--;
		b = e;
		while (b > s && b[-1] != '\n')
			b--;
		if (e > b && strncmp(b, "-- END", 6) && strncmp(b, "libbpf:", 7) &&
		    strncmp(b, "processed ", 10))
			starts[nr++] = b;
		p = b;
	}
	for (int i = nr - 1; i >= 0; i--) {
		const char *e = strchr(starts[i], '\n');

		strbuf_add(out, starts[i], e ? (size_t)(e - starts[i]) : strlen(starts[i]));
		if (i)
			strbuf_addstr(out, " / ");
	}
}

/* save_log - the whole kept log to a file; its path, or NULL */
static const char *save_log(void)
{
	static char path[256];
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	snprintf(path, sizeof(path), "%s/schedcast-bpf-verifier.log", tmp && *tmp ? tmp : "/tmp");
	f = fopen(path, "we");
	if (!f)
		return NULL;
	fwrite(bpf_log.buf, 1, bpf_log.len, f);
	if (fclose(f))
		return NULL;
	return path;
}

/* ---- the model into the program's layout ------------------------------------ */

/*
 * What the program computes, in this order, all Q7.8 (features/window.c at
 * the time it was written): a model must take exactly these inputs.
 */
static const char *const lb_ep_names[LB_E] = {
	"ep_present", "ep_burst", "ep_wait", "ep_woken", "ep_preempted", "ep_sleep",
	"ep_out_runnable", "ep_out_blocked", "ep_prio", "ep_cpu_changed",
};
static const char *const lb_state_names[LB_S] = {
	"queued", "since_ran", "never_ran", "cpu_10ms", "cpu_100ms", "prio", "woken_by_prev",
	"last_ran_here", "wait_woken", "wait_preempted", "sleep", "oldest",
};

_Static_assert(LB_S == FEAT_S_BASIC && LB_E == FEAT_E,
	       "the in-kernel predictor computes the basic state set");

/*
 * The raw values the program can give each episode feature (add_episode in
 * the program; a padding episode is all 0): log2us() is at most 32767,
 * the flags 0 or ONE, prio_feat() any int16.
 */
static const int32_t lb_ep_range[LB_E][2] = {
	{ 0, 256 }, { 0, 32767 }, { 0, 32767 }, { 0, 256 }, { 0, 256 }, { 0, 32767 },
	{ 0, 256 }, { 0, 256 }, { -32768, 32767 }, { 0, 256 },
};

/*
 * The raw values the program can give each state feature (fill_state in
 * the program): log2us() at most 32767, the flags and the CPU shares 0 to
 * ONE, prio_feat() any int16.
 */
static const int32_t lb_state_range[LB_S][2] = {
	{ 0, 32767 }, { 0, 32767 }, { 0, 256 }, { 0, 256 }, { 0, 256 }, { -32768, 32767 },
	{ 0, 256 }, { 0, 256 }, { 0, 256 }, { 0, 256 }, { 0, 32767 }, { 0, 256 },
};

/* the program's norm_apply() */
static int64_t lb_norm(int32_t raw, int32_t mu, int32_t inv)
{
	int64_t v = ((int64_t)(raw - mu) * inv) >> 16;

	return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/*
 * pair_rows - 1 when every gate row's pre-activation sum provably stays
 * within (-2^31, 2^31), so that the program may take two rows per
 * multiply (struct lb_model's pair): |b| 2^12 + sum |wx| max|x| + sum |wh|
 * max|h|, with max|x| over the raw range of each feature (the
 * normalisation is monotone) and |h| <= 2^12 when the activation tables
 * stay within +-2^30 (then every activation is within +-2^12, and so is
 * h = o tanh(c) >> 12).
 */
static int pair_rows(const struct lstm_fixed_view *v)
{
	int H = v->sh->H, E = v->sh->E;
	int64_t xmax[LB_E];

	for (int i = 0; i < 513; i++)
		if (llabs(v->sigmoid_tab[i]) > (1 << 30) || llabs(v->tanh_tab[i]) > (1 << 30))
			return 0;
	for (int k = 0; k < E; k++) {
		int64_t lo = llabs(lb_norm(lb_ep_range[k][0], v->norm_mu[k], v->norm_inv[k]));
		int64_t hi = llabs(lb_norm(lb_ep_range[k][1], v->norm_mu[k], v->norm_inv[k]));

		xmax[k] = lo > hi ? lo : hi;
	}
	for (int r = 0; r < 4 * H; r++) {
		int64_t sum = llabs(v->b[r]) * 4096;

		for (int k = 0; k < E; k++)
			sum += llabs(v->wx[r * E + k]) * xmax[k];
		for (int k = 0; k < H; k++)
			sum += llabs(v->wh[r * H + k]) * 4096;
		if (sum >= ((int64_t)1 << 31))
			return 0;
	}
	return 1;
}

/*
 * pair_head - 1 when every head row kept in lm (its first M rows) has a
 * sum b1 2^12 + w1h . h + w1s . z provably within (-2^31, 2^31), so that
 * the program may take two rows per multiply (struct lb_model's hpair):
 * |h| <= 2^12 as in pair_rows(), |z| at most that of the raw range of
 * each state feature
 */
static int pair_head(const struct lb_model *lm, const struct lstm_fixed_view *v)
{
	int H = v->sh->H, E = v->sh->E;
	int64_t zmax[LB_S];

	for (int i = 0; i < 513; i++)
		if (llabs(v->sigmoid_tab[i]) > (1 << 30) || llabs(v->tanh_tab[i]) > (1 << 30))
			return 0;
	for (int k = 0; k < LB_S; k++) {
		int32_t mu = v->norm_mu[E + k], inv = v->norm_inv[E + k];
		int64_t lo = llabs(lb_norm(lb_state_range[k][0], mu, inv));
		int64_t hi = llabs(lb_norm(lb_state_range[k][1], mu, inv));

		zmax[k] = lo > hi ? lo : hi;
	}
	for (int r = 0; r < lm->M; r++) {
		int64_t sum = llabs(lm->b1[r]) * 4096;

		for (int k = 0; k < H; k++)
			sum += llabs(lm->w1h[r][k]) * 4096;
		for (int k = 0; k < LB_S; k++)
			sum += llabs(lm->w1s[r][k]) * zmax[k];
		if (sum >= ((int64_t)1 << 31))
			return 0;
	}
	return 1;
}

/*
 * flag_z - feature f (its index in the model's normalisation) normalised as
 * the program does, at ONE (256) when bit i of flag combination c is set,
 * else at 0
 */
static int64_t flag_z(const struct lb_model *lm, int f, int c, int i)
{
	return lb_norm((c >> i) & 1 ? 256 : 0, lm->mu[f], lm->inv[f]);
}

/*
 * flag_terms - lm's tables of the flag features' terms, for each of their 64
 * combinations: hbin and hlin from the head (w1s or pw1s, wl, M, hpair) and
 * the state's flags, and with pair, xbin from each unit's bias and gate rows
 * (pb, pwx) and an episode's flags.  Sums mod 2^64, as the program's.
 */
static void flag_terms(struct lb_model *lm, int H)
{
	static const int sflags[6] = LB_S_FLAGS, eflags[6] = LB_E_FLAGS;
	int rows = lm->hpair ? (lm->M + 1) / 2 : lm->M;

	for (int c = 0; c < 64; c++) {
		uint64_t lin = 0;

		for (int r = 0; r < rows; r++) {
			uint64_t sum = 0;

			for (int i = 0; i < 6; i++) {
				int k = sflags[i];

				sum += (uint64_t)(lm->hpair ? lm->pw1s[r][k] : lm->w1s[r][k]) *
				       (uint64_t)flag_z(lm, LB_E + k, c, i);
			}
			lm->hbin[c][r] = (int64_t)sum;
		}
		for (int i = 0; i < 6; i++)
			lin += (uint64_t)(int64_t)lm->wl[sflags[i]] *
			       (uint64_t)flag_z(lm, LB_E + sflags[i], c, i);
		lm->hlin[c] = (int64_t)lin;
		for (int j = 0; lm->pair && j < H; j++) {
			for (int p = 0; p < 2; p++) {
				uint64_t sum = (uint64_t)lm->pb[j][p];

				for (int i = 0; i < 6; i++)
					sum += (uint64_t)lm->pwx[j][eflags[i]][p] *
					       (uint64_t)flag_z(lm, eflags[i], c, i);
				lm->xbin[c][j][p] = (int64_t)sum;
			}
		}
	}
}

/* the program's interp_q12() (model/model-local.h fx_interp_q12) */
static int16_t lb_interp_q12(const int32_t *tab, int16_t x)
{
	uint32_t u = (uint32_t)((int32_t)x + 32768);
	uint32_t i = u >> 7, r = u & 127;
	int64_t y = tab[i] + (((int64_t)(tab[i + 1] - tab[i]) * r + 64) >> 7);

	y = (y + (1 << 17)) >> 18;
	return y > 32767 ? 32767 : y < -32768 ? -32768 : (int16_t)y;
}

/* fill_act - the activation of every Q3.12 input, for the paired encoder */
static void fill_act(struct lb_act *a, const struct lstm_fixed_view *v)
{
	for (int x = -32768; x < 32768; x++) {
		a->sig[x + 32768] = (uint16_t)(lb_interp_q12(v->sigmoid_tab, (int16_t)x) + 32768);
		a->tanh[x + 32768] = (uint16_t)(lb_interp_q12(v->tanh_tab, (int16_t)x) + 32768);
	}
}

/* pack - the lane pair a + b * 2^32 */
static int64_t pack(int64_t a, int64_t b)
{
	return a + (int64_t)((uint64_t)b << 32);
}

static int check_inputs(const struct lstm_fixed_view *v, const char *path)
{
	for (int i = 0; i < LB_E; i++)
		if (strcmp(v->ep_names[i], lb_ep_names[i]) || v->ep_frac[i] != 8)
			return error("'%s': episode input %d is '%s', the in-kernel predictor "
				     "computes '%s' (Q7.8)", path, i, v->ep_names[i], lb_ep_names[i]);
	for (int i = 0; i < LB_S; i++)
		if (strcmp(v->state_names[i], lb_state_names[i]) || v->state_frac[i] != 8)
			return error("'%s': state input %d is '%s', the in-kernel predictor "
				     "computes '%s' (Q7.8)", path, i, v->state_names[i],
				     lb_state_names[i]);
	return 0;
}

static int fill_model(struct lb_model *lm, struct lb_act *act, struct lb_task *tmpl,
		      const struct lstm_model *m, const char *path)
{
	struct lstm_fixed_view v;
	const struct lstm_shape *sh;
	int16_t *zero, h0[LSTM_MAX_HIDDEN];
	int H, E, S, M, Z, stateful;

	if (lstm_model_fixed_view(m, &v))
		return error("'%s' is not a fixed-point candidates model: the in-kernel predictor "
			     "runs integer models only (train with --arith fixed)", path);
	sh = v.sh;
	H = sh->H;
	E = sh->E;
	S = sh->S;
	M = sh->M;
	Z = H + S;
	if (E == LB_E && S != LB_S && feat_set_of(v.state_names, v.state_frac, S) >= 0)
		return error("'%s' takes the %s state features (%d): the in-kernel predictor "
			     "computes only the basic set (%d); train it on schedcast features "
			     "--state basic", path, feat_set_name(feat_set_of(v.state_names,
			     v.state_frac, S)), S, LB_S);
	if (E != LB_E || S != LB_S || v.norm_n != E + S)
		return error("'%s': the in-kernel predictor computes %d episode and %d state "
			     "features, the model takes %d and %d", path, LB_E, LB_S, E, S);
	if (check_inputs(&v, path))
		return -1;
	if (H > LB_H_MAX)
		return error("'%s': hidden size %d is more than the in-kernel limit of %d "
			     "(train with --hidden %d or less)", path, H, LB_H_MAX, LB_H_MAX);
	stateful = sh->encoder == LSTM_ENC_STATEFUL;
	/* a stateful model's K is its training's truncation: inference has no window */
	if (sh->K > LB_K_MAX && !stateful)
		return error("'%s': window length K=%d is more than the in-kernel limit of %d",
			     path, sh->K, LB_K_MAX);
	if (M > LB_M_MAX)
		return error("'%s': head size %d is more than the in-kernel limit of %d", path, M,
			     LB_M_MAX);
	lm->K = sh->K < LB_K_MAX ? sh->K : LB_K_MAX;	/* the episode ring's length */
	lm->H = H;
	lm->stateful = stateful;
	for (int f = 0; f < E + S; f++) {
		lm->mu[f] = v.norm_mu[f];
		lm->inv[f] = v.norm_inv[f];
	}
	for (int g = 0; g < 4; g++) {
		for (int j = 0; j < H; j++) {
			int src = g * H + j, dst = g * LB_H_MAX + j;

			for (int k = 0; k < E; k++)
				lm->wx[dst][k] = v.wx[src * E + k];
			for (int k = 0; k < H; k++)
				lm->wh[dst][k] = v.wh[src * H + k];
			lm->b[dst] = v.b[src];
		}
	}
	lm->pair = pair_rows(&v);
	fill_act(act, &v);
	for (int j = 0; lm->pair && j < H; j++) {
		for (int p = 0; p < 2; p++) {
			int ra = (2 * p) * H + j, rb = (2 * p + 1) * H + j;

			lm->pb[j][p] = pack((int64_t)v.b[ra] * 4096, (int64_t)v.b[rb] * 4096);
			for (int k = 0; k < E; k++)
				lm->pwx[j][k][p] = pack(v.wx[ra * E + k], v.wx[rb * E + k]);
			for (int k = 0; k < H; k++)
				lm->pwh[j][k][p] = pack(v.wh[ra * H + k], v.wh[rb * H + k]);
		}
	}
	/*
	 * The head rows whose output weight is zero add exactly 0 to a score:
	 * left out (all of them when training kept the linear path alone,
	 * and then no encoder runs).
	 */
	lm->M = 0;
	for (int i = 0; i < M; i++) {
		int r = lm->M;

		if (!v.w2[i])
			continue;
		for (int k = 0; k < H; k++)
			lm->w1h[r][k] = v.w1[i * Z + k];
		for (int k = 0; k < S; k++)
			lm->w1s[r][k] = v.w1[i * Z + H + k];
		lm->b1[r] = v.b1[i];
		lm->w2[r] = v.w2[i];
		lm->M++;
	}
	for (int k = 0; k < S; k++)
		lm->wl[k] = v.wl[k];
	lm->hpair = lm->M > 0 && pair_head(lm, &v);
	for (int p = 0; lm->hpair && 2 * p < lm->M; p++) {
		int ra = 2 * p, rb = 2 * p + 1;	/* rb = M: zeros (lm is zeroed) */

		lm->pb1[p] = pack((int64_t)lm->b1[ra] * 4096, (int64_t)lm->b1[rb] * 4096);
		for (int k = 0; k < H; k++)
			lm->pw1h[p][k] = pack(lm->w1h[ra][k], lm->w1h[rb][k]);
		for (int k = 0; k < S; k++)
			lm->pw1s[p][k] = pack(lm->w1s[ra][k], lm->w1s[rb][k]);
	}
	flag_terms(lm, H);
	for (int n = 1; n <= LB_QMAX; n++) {
		lm->chance_q32[n][0] = (1ULL << 32) / (uint64_t)n;
		lm->chance_q32[n][1] = (n < 3 ? (uint64_t)n : 3) * (1ULL << 32) / (uint64_t)n;
	}
	memcpy(lm->sig_tab, v.sigmoid_tab, sizeof(lm->sig_tab));
	memcpy(lm->tanh_tab, v.tanh_tab, sizeof(lm->tanh_tab));
	{
		uint64_t l1000;

		feat_log2_tables(lm->log2_tab, &l1000);
		lm->log2_1000 = l1000;
	}

	/*
	 * a new task's encoder output, computed here once: of the empty window
	 * (windowed), the zero state (stateful)
	 */
	memset(h0, 0, sizeof(h0));
	if (!stateful) {
		zero = xcalloc((size_t)sh->K * E, sizeof(*zero));
		lstm_encode_fixed(m, zero, h0);
		free(zero);
	}

	memset(tmpl, 0, sizeof(*tmpl));
	tmpl->prio = -1;
	tmpl->cpu = tmpl->last_cpu = tmpl->waker = -1;
	for (int i = 0; i < lm->M; i++) {
		int64_t acc = (int64_t)lm->b1[i] * 4096;

		for (int k = 0; k < H; k++)
			acc += (int32_t)lm->w1h[i][k] * h0[k];
		tmpl->hw[i] = acc;
	}
	if (lm->hpair) {	/* the pairs' sums, exact: each row's is within 31 bits */
		for (int p = 0; 2 * p < lm->M; p++)
			tmpl->hw[p] = pack(tmpl->hw[2 * p], 2 * p + 1 < lm->M ? tmpl->hw[2 * p + 1] : 0);
	}
	return 0;
}

/* ---- counters ------------------------------------------------------------------ */

/* read_counters - the sum over CPUs, and each CPU's into per_cpu (nr_cpus) unless NULL */
static int read_counters(struct live_bpf *skel, int nr_cpus, struct lb_counters *sum,
			 struct lb_counters *per_cpu)
{
	size_t sz = (sizeof(struct lb_counters) + 7) / 8 * 8;
	char *vals = xcalloc((size_t)nr_cpus, sz);
	__u32 key = 0;
	int ret;

	memset(sum, 0, sizeof(*sum));
	ret = bpf_map_lookup_elem(bpf_map__fd(skel->maps.counters), &key, vals);
	if (!ret) {
		for (int c = 0; c < nr_cpus; c++) {
			const __u64 *src = (const __u64 *)(vals + (size_t)c * sz);
			__u64 *dst = (__u64 *)sum;

			for (size_t i = 0; i < sizeof(*sum) / sizeof(__u64); i++)
				dst[i] += src[i];
			if (per_cpu)
				memcpy(&per_cpu[c], src, sizeof(*per_cpu));
		}
	}
	free(vals);
	return ret ? error_errno("cannot read the in-kernel counters") : 0;
}

struct prog_stat {
	const char *name;
	uint64_t run_cnt, run_time_ns, recursion_misses;
};

static void read_prog_stats(struct live_bpf *skel, struct prog_stat *ps, int *n)
{
	struct bpf_program *p;

	*n = 0;
	bpf_object__for_each_program(p, skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		ps[*n].name = bpf_program__name(p);
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len)) {
			ps[*n].run_cnt = info.run_cnt;
			ps[*n].run_time_ns = info.run_time_ns;
			ps[*n].recursion_misses = info.recursion_misses;
		}
		(*n)++;
	}
}

static double q32(uint64_t v)
{
	return (double)v / 4294967296.0;
}

static void to_eval(struct ana_eval *e, const struct lb_counters *n)
{
	e->decisions = n->decisions;
	e->contested = n->contested;
	e->covered = n->covered;
	e->chance = q32(n->chance_q32);
	e->chance_c = q32(n->chance_c_q32);
	e->inferred_switches = n->inferred_switches;
	e->model.top1 = (double)n->model[0];
	e->model.top3 = (double)n->model[1];
	e->model.top1_c = (double)n->model[2];
	e->model.top3_c = (double)n->model[3];
	for (int b = 0; b < ANA_NR_BASELINES; b++)
		e->bl_available[b] = b == ANA_BL_RANDOM || b == ANA_BL_LONGEST_QUEUED ||
				     b == ANA_BL_LEAST_RECENT;
	e->bl[ANA_BL_RANDOM].top1 = q32(n->rnd1_q32);
	e->bl[ANA_BL_RANDOM].top3 = q32(n->rnd3_q32);
	e->bl[ANA_BL_RANDOM].top1_c = q32(n->rnd1c_q32);
	e->bl[ANA_BL_RANDOM].top3_c = q32(n->rnd3c_q32);
	e->bl[ANA_BL_LONGEST_QUEUED] = (struct ana_score){ (double)n->lq[0], (double)n->lq[1],
							   (double)n->lq[2], (double)n->lq[3] };
	e->bl[ANA_BL_LEAST_RECENT] = (struct ana_score){ (double)n->lrr[0], (double)n->lrr[1],
							 (double)n->lrr[2], (double)n->lrr[3] };
}

static double pct(double hits, uint64_t n)
{
	return n ? 100.0 * hits / (double)n : 0.0;
}

/* ---- --check: the same events through the userspace engine --------------------- */

struct check {
	const struct lstm_model *m;
	struct lstm_cache *cache;	/* bit-identical to lstm_predict(), as live's */
	struct lstm_tasks *tasks;	/* a stateful model: its tasks' states, not cache */
	struct feat_state *feat;
	struct ana_eval e;		/* userspace's figures on the same events */
	int32_t *scores;
	uint64_t events, decisions, same, differ, uncovered, unc_reason[6];
	uint64_t ncand_differ;
	int shown;
	int failed;
	/*
	 * ring_buffer__poll() consumes until the ring is empty, which is never
	 * while the program produces faster than the replay: every 1024
	 * records the callback stops it once the poll has run 100 ms, so the
	 * main loop still sees the deadline, the command's exit and signals.
	 */
	uint64_t poll_start;
	unsigned since_clock;
	int draining;
};

#define POLL_SLICE_NS (100 * NSEC_PER_MSEC)
#define POLL_YIELD (-ECANCELED)	/* from on_record: stop this poll, not an error */

/*
 * " (the kernel's candidates also hold pid P)" when the two sides' sets
 * differ by one pid (from the sums of their pids), else ""
 */
static const char *cand_diff(const struct lb_event *r, const struct feat_decision_out *out,
			     int64_t usum)
{
	static char buf[96];

	if (r->ncand == out->ncand + 1)
		snprintf(buf, sizeof(buf), " (the kernel's candidates also hold pid %lld)",
			 (long long)(r->cand_sum - usum));
	else if (r->ncand + 1 == out->ncand)
		snprintf(buf, sizeof(buf), " (userspace's candidates also hold pid %lld)",
			 (long long)(usum - r->cand_sum));
	else
		buf[0] = '\0';
	return buf;
}

static int replay(struct check *k, const struct lb_event *r)
{
	struct ds_event ev;
	struct feat_decision_out out;

	k->events++;
	ds_event_init(&ev, r->type, r->ts, r->cpu);
	ev.common_pid = r->common_pid;
	ev.pid = r->pid;
	ev.prio = r->prio;
	ev.state = r->state;
	ev.next_pid = r->next_pid;
	ev.next_prio = r->next_prio;
	ev.target_cpu = r->target_cpu;
	ev.dest_cpu = r->dest_cpu;
	memcpy(ev.comm, r->comm, sizeof(ev.comm));
	ev.comm[DS_COMM_LEN - 1] = '\0';
	memcpy(ev.next_comm, r->next_comm, sizeof(ev.next_comm));
	ev.next_comm[DS_COMM_LEN - 1] = '\0';

	if (ev.type == DS_EV_SWITCH && feat_decision(k->feat, &ev, &out) == 1) {
		struct ana_decision d = {
			.ts = out.ts, .cpu = out.cpu, .ncand = out.ncand, .label = out.label,
			.next_pid = out.next_pid, .cand = out.cand,
		};
		int top[3] = { -1, -1, -1 };
		int32_t pred = -1;

		k->decisions++;
		if (ana_model_predict(k->m, k->cache, k->tasks, &out, k->scores) >= 0)
			ana_top3(k->scores, out.ncand, top);
		if (top[0] >= 0)
			pred = out.cand[top[0]].pid;
		ana_eval_add(&k->e, &d, top, 1);
		if (r->uncovered || r->ncand < 0) {
			k->uncovered++;
			for (int b = 0; b < 6; b++)
				if (r->uncovered & (1u << b))
					k->unc_reason[b]++;
		} else if (pred == r->pred_pid && out.ncand == r->ncand) {
			k->same++;
		} else {
			int64_t usum = 0;

			for (int i = 0; i < out.ncand; i++)
				usum += out.cand[i].pid;
			k->differ++;
			k->ncand_differ += out.ncand != r->ncand;
			if (k->shown++ < MAX_SHOWN_DIFFS)
				warning("check: decision at %llu ns on cpu %d: kernel picked %d of %d "
					"candidates, userspace %d of %d%s",
					(unsigned long long)r->ts, r->cpu, r->pred_pid, r->ncand,
					pred, out.ncand, cand_diff(r, &out, usum));
		}
	}
	if (feat_apply(k->feat, &ev)) {
		k->failed = 1;
		return -1;
	}
	/* a stateful model steps on every completed episode, as the program does */
	ana_model_episodes(k->feat, k->tasks);
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct check *k = ctx;

	if (size < sizeof(struct lb_event))
		return 0;
	if (replay(k, data))
		return -1;
	/* libbpf has consumed this record already: yield only after replaying it */
	if (!k->draining && ++k->since_clock >= 1024) {
		k->since_clock = 0;
		if (kstop || sc_now_ns() - k->poll_start >= POLL_SLICE_NS)
			return POLL_YIELD;
	}
	return 0;
}

/* ---- output ------------------------------------------------------------------- */

struct run {
	uint64_t span_ns;
	int nr_cpus;
	struct lb_counters n;
	struct lb_counters *per_cpu;	/* (nr_cpus) */
	struct prog_stat ps[8];
	int nps;
	int stats_on;
	int head_rows;		/* of the model's head, those with a non-zero w2 */
	int pair;		/* the encoder takes its gate rows in pairs (lb_model) */
	int stateful;		/* the model's encoder is stateful (lb_model) */
	int hpair;		/* the head takes its rows in pairs (lb_model) */
	int H, R;		/* hidden size, recurrent width (lb_model) */
	int timed;		/* --time-parts: decide_ns, encode_ns, step_ns were clocked */
};

static uint64_t total_run_ns(const struct run *r)
{
	uint64_t t = 0;

	for (int i = 0; i < r->nps; i++)
		t += r->ps[i].run_time_ns;
	return t;
}

static double ns_per_decision(const struct run *r)
{
	return r->n.decisions && r->stats_on ? (double)total_run_ns(r) / (double)r->n.decisions
					     : -1;
}

/* the per-CPU breakdown of eval, from the per-CPU counters (per task needs comms: none) */
static void cpu_groups(struct ana_eval *e, const struct run *r)
{
	size_t n = 0;

	free(e->cpu_groups);
	e->cpu_groups = xcalloc((size_t)r->nr_cpus, sizeof(*e->cpu_groups));
	for (int c = 0; c < r->nr_cpus; c++) {
		const struct lb_counters *p = &r->per_cpu[c];
		struct ana_group *g = &e->cpu_groups[n];

		if (!p->decisions)
			continue;
		snprintf(g->name, sizeof(g->name), "cpu%d", c);
		g->n = p->decisions;
		g->contested = p->contested;
		g->model_top1 = (double)p->model[0];
		g->best_top1 = e->best == ANA_BL_LONGEST_QUEUED ? (double)p->lq[0] :
			       e->best == ANA_BL_LEAST_RECENT ? (double)p->lrr[0] : q32(p->rnd1_q32);
		n++;
	}
	e->nr_cpu_groups = n;
}

/* print_step_shape - ", " and how a step takes its gate rows and h */
static void print_step_shape(const struct run *r)
{
	printf(", %s", r->pair ? "two gate rows per multiply" :
	       "one gate row per multiply (the weights are too large to pair)");
	if (r->R < r->H)
		printf(", h[0..%d] of %d units fed back (recurrent width %d)", r->R - 1, r->H,
		       r->R);
}

static void print_text(const struct run *r, struct ana_eval *e, const struct check *k,
		       const struct ana_kernel_opts *o)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[32];

	printf("live: %s in the kernel (BPF) on %d CPUs: %llu events, %llu decisions (%.0f/s)\n",
	       format_duration(buf, sizeof(buf), r->span_ns), r->nr_cpus,
	       (unsigned long long)r->n.events, (unsigned long long)r->n.decisions,
	       r->span_ns ? r->n.decisions / (r->span_ns / 1e9) : 0.0);
	if (r->stats_on && r->n.decisions) {
		printf("kernel: %.0f ns of CPU per decision, all programs (bpf_stats run_time_ns / "
		       "decisions)\n", ns_per_decision(r));
		for (int i = 0; i < r->nps; i++)
			if (r->ps[i].run_cnt)
				printf("  %-14s %10llu runs %8.0f ns/run\n", r->ps[i].name,
				       (unsigned long long)r->ps[i].run_cnt,
				       (double)r->ps[i].run_time_ns / (double)r->ps[i].run_cnt);
		if (r->timed)
			printf("  decisions: %.0f ns each (%.1f candidates scored by the head on "
			       "average, %.0f ns each)\n",
			       (double)r->n.decide_ns / (double)r->n.decisions,
			       (double)r->n.scored_cands / (double)r->n.decisions,
			       r->n.scored_cands ? (double)r->n.decide_ns / (double)r->n.scored_cands
						 : 0.0);
		else
			printf("  decisions: %.1f candidates scored by the head on average (their "
			       "time: --time-parts)\n",
			       (double)r->n.scored_cands / (double)r->n.decisions);
		if (r->stateful && r->n.steps) {
			printf("  encoder (stateful): %llu steps (one per completed episode)",
			       (unsigned long long)r->n.steps);
			if (r->timed)
				printf(", %.0f ns each", (double)r->n.step_ns / (double)r->n.steps);
			print_step_shape(r);
			printf("; the head's share of h: %llu runs", (unsigned long long)r->n.encodes);
			if (r->timed)
				printf(", %.0f ns each", r->n.encodes ? (double)r->n.encode_ns /
								(double)r->n.encodes : 0.0);
			printf("\n");
		} else if (r->n.encodes) {
			printf("  encoder: %llu runs (windows a contested decision scored after they "
			       "changed)", (unsigned long long)r->n.encodes);
			if (r->timed)
				printf(", %.0f ns each",
				       (double)r->n.encode_ns / (double)r->n.encodes);
			print_step_shape(r);
			printf("\n");
		}
		else if (!r->head_rows)
			printf("  encoder: never run (the model kept its linear path alone: "
			       "no score reads the LSTM)\n");
	}
	if (r->n.uncovered)
		printf("uncovered: %llu decisions the userspace engine may see otherwise: after "
		       "the program lost state (task map full %llu, a CPU queue beyond %d tasks "
		       "%llu), while another CPU changed the CPU's queue %llu, "
		       "after the --check ring was full %llu, with a stale queue entry left out "
		       "%llu\n",
		       (unsigned long long)r->n.uncovered, (unsigned long long)r->n.unc_tasks_full,
		       LB_QMAX, (unsigned long long)r->n.unc_queue_full,
		       (unsigned long long)r->n.unc_race, (unsigned long long)r->n.unc_ring,
		       (unsigned long long)r->n.unc_stale);
	ana_eval_text(e, &sb);
	{
		/* no comms in the kernel: no per-task table, no misprediction pairs */
		char *cut = strstr(sb.buf, "\nper task");

		if (cut)
			cut[1] = '\0';
	}
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
	if (k) {
		const struct ana_eval *u = &k->e;

		printf("\ncheck: the program's %llu events replayed through the userspace "
		       "engine: %llu decisions, %llu identical predictions, %llu different, "
		       "%llu uncovered\n",
		       (unsigned long long)k->events, (unsigned long long)k->decisions,
		       (unsigned long long)k->same, (unsigned long long)k->differ,
		       (unsigned long long)k->uncovered);
		printf("  %-28s %10s %10s\n", "", "in-kernel", "userspace");
		printf("  %-28s %10llu %10llu\n", "decisions", (unsigned long long)e->decisions,
		       (unsigned long long)u->decisions);
		printf("  %-28s %9.1f%% %9.1f%%\n", "coverage", pct((double)e->covered, e->decisions),
		       pct((double)u->covered, u->decisions));
		printf("  %-28s %9.1f%% %9.1f%%\n", "model top-1", pct(e->model.top1, e->decisions),
		       pct(u->model.top1, u->decisions));
		printf("  %-28s %9.1f%% %9.1f%%\n", "model top-1 contested",
		       pct(e->model.top1_c, e->contested), pct(u->model.top1_c, u->contested));
		printf("  %-28s %9.1f%% %9.1f%%\n", "longest-queued top-1 contested",
		       pct(e->bl[ANA_BL_LONGEST_QUEUED].top1_c, e->contested),
		       pct(u->bl[ANA_BL_LONGEST_QUEUED].top1_c, u->contested));
		printf("  %-28s %9.1f%% %9.1f%%\n", "least-recently-run top-1 c.",
		       pct(e->bl[ANA_BL_LEAST_RECENT].top1_c, e->contested),
		       pct(u->bl[ANA_BL_LEAST_RECENT].top1_c, u->contested));
	}
	(void)o;
}

/* timed_ns - ns, clocked by --time-parts, as a JSON number into buf, else null */
static const char *timed_ns(char *buf, const struct run *r, uint64_t ns)
{
	if (!r->timed)
		return "null";
	snprintf(buf, 24, "%llu", (unsigned long long)ns);
	return buf;
}

static void print_json(const struct run *r, struct ana_eval *e, const struct check *k)
{
	struct strbuf sb = STRBUF_INIT;
	char b0[24], b1[24], b2[24];

	ana_eval_json(e, &sb);
	while (sb.len && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == ' '))
		sb.buf[--sb.len] = '\0';
	if (sb.len && sb.buf[sb.len - 1] == '}') {
		sb.buf[--sb.len] = '\0';
		strbuf_addf(&sb, ",\"kernel_ns_per_decision\":");
		if (ns_per_decision(r) >= 0)
			strbuf_addf(&sb, "%.1f", ns_per_decision(r));
		else
			strbuf_addstr(&sb, "null");
		strbuf_addf(&sb,
			    ",\"live\":{\"backend\":\"bpf\",\"nr_cpus\":%d,\"duration_ns\":%llu,"
			    "\"events\":%llu,\"decisions\":%llu,\"skipped\":0,\"fell_behind\":0,"
			    "\"max_lag_ns\":0,\"lost\":0,\"predict_ns\":%llu}",
			    r->nr_cpus, (unsigned long long)r->span_ns,
			    (unsigned long long)r->n.events, (unsigned long long)r->n.decisions,
			    (unsigned long long)total_run_ns(r));
		strbuf_addf(&sb,
			    ",\"kernel\":{\"encoder\":\"%s\",\"hidden\":%d,\"recurrent\":%d,"
			    "\"head_rows\":%d,\"paired_rows\":%s,"
			    "\"paired_head_rows\":%s,\"parts_timed\":%s,"
			    "\"decide_ns\":%s,\"encode_ns\":%s,\"encodes\":%llu,"
			    "\"steps\":%llu,\"step_ns\":%s,\"scored_candidates\":%llu,"
			    "\"uncovered\":%llu,\"uncovered_task_map_full\":%llu,"
			    "\"uncovered_queue_full\":%llu,\"uncovered_race\":%llu,"
			    "\"uncovered_ring\":%llu,\"uncovered_stale\":%llu,\"stale_entries\":%llu,"
			    "\"programs\":[",
			    r->stateful ? "stateful" : "window", r->H, r->R, r->head_rows,
			    r->pair ? "true" : "false", r->hpair ? "true" : "false",
			    r->timed ? "true" : "false", timed_ns(b0, r, r->n.decide_ns),
			    timed_ns(b1, r, r->n.encode_ns), (unsigned long long)r->n.encodes,
			    (unsigned long long)r->n.steps, timed_ns(b2, r, r->n.step_ns),
			    (unsigned long long)r->n.scored_cands,
			    (unsigned long long)r->n.uncovered,
			    (unsigned long long)r->n.unc_tasks_full,
			    (unsigned long long)r->n.unc_queue_full,
			    (unsigned long long)r->n.unc_race, (unsigned long long)r->n.unc_ring,
			    (unsigned long long)r->n.unc_stale, (unsigned long long)r->n.stale_cands);
		for (int i = 0; i < r->nps; i++)
			strbuf_addf(&sb, "%s{\"name\":\"%s\",\"run_cnt\":%llu,\"run_time_ns\":%llu,"
				    "\"recursion_misses\":%llu}", i ? "," : "", r->ps[i].name,
				    (unsigned long long)r->ps[i].run_cnt,
				    (unsigned long long)r->ps[i].run_time_ns,
				    (unsigned long long)r->ps[i].recursion_misses);
		strbuf_addstr(&sb, "]}");
		if (k)
			strbuf_addf(&sb,
				    ",\"check\":{\"events\":%llu,\"decisions\":%llu,\"same\":%llu,"
				    "\"different\":%llu,\"uncovered\":%llu,\"ring_drops\":%llu}",
				    (unsigned long long)k->events, (unsigned long long)k->decisions,
				    (unsigned long long)k->same, (unsigned long long)k->differ,
				    (unsigned long long)k->uncovered,
				    (unsigned long long)r->n.ring_drops);
		strbuf_addch(&sb, '}');
	}
	printf("%s\n", sb.buf);
	strbuf_release(&sb);
}

static void live_line(const struct lb_counters *n, uint64_t elapsed, uint64_t rate)
{
	fprintf(stderr, "\r\033[K%5.1f s %6llu dec/s  in-kernel model %5.1f%% top-3 %5.1f%%  "
		"longest-queued %5.1f%%  least-recently-run %5.1f%%  coverage %5.1f%%",
		elapsed / 1e9, (unsigned long long)rate, pct((double)n->model[0], n->decisions),
		pct((double)n->model[1], n->decisions), pct((double)n->lq[0], n->decisions),
		pct((double)n->lrr[0], n->decisions), pct((double)n->covered, n->decisions));
	fflush(stderr);
}

/* ---- the run ------------------------------------------------------------------- */

static int load(struct live_bpf **out, const struct ana_kernel_opts *o, int R)
{
	struct live_bpf *skel;
	const char *fault;
	int err;

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return error("--in-kernel needs a kernel with BTF (/sys/kernel/btf/vmlinux: %s; "
			     "CONFIG_DEBUG_INFO_BTF=y)", strerror(errno));
	libbpf_set_print(libbpf_print);
	skel = live_bpf__open();
	if (!skel)
		return error_errno("cannot open the in-kernel predictor");
	skel->rodata->check_mode = o->check;
	skel->rodata->time_parts = o->time_parts;
	/*
	 * Only --check streams events (ev_begin()): its ring gets room for
	 * about 600k, so a replay falling behind for a while loses none;
	 * without it the ring is one page.
	 */
	if (bpf_map__set_max_entries(skel->maps.events,
				     o->check ? LB_RING_CHECK : (uint32_t)sysconf(_SC_PAGESIZE))) {
		live_bpf__destroy(skel);
		return error_errno("cannot size the in-kernel predictor's ring buffer");
	}
	/* the step reads the recurrent width's columns only (the verifier's constants) */
	skel->rodata->rec_g4 = (R + 3) / 4;
	/* the tests' way to a real verifier refusal (see fault_verifier in live.bpf.c) */
	fault = getenv("SCHEDCAST_BPF_FAULT");
	skel->rodata->fault_verifier = fault && !strcmp(fault, "verifier");
	err = live_bpf__load(skel);
	if (err) {
		struct strbuf tail = STRBUF_INIT;
		const char *path;
		int e = errno;

		live_bpf__destroy(skel);
		/* the verifier says EACCES or EINVAL; EPERM is a missing capability */
		if (e == EPERM)
			return error("cannot load BPF programs: %s (run as root, or with "
				     "CAP_BPF and CAP_PERFMON)", strerror(e));
		if (e == ENOSYS)
			return error("cannot load BPF programs: the kernel has no bpf() system call");
		path = save_log();
		log_tail(&tail, 2);
		error("the kernel refused the in-kernel predictor: %s%s%s", tail.buf,
		      path ? "; full log in " : "", path ? path : "");
		strbuf_release(&tail);
		return -1;
	}
	*out = skel;
	return 0;
}

int ana_live_kernel(const struct lstm_model *m, const struct ana_kernel_opts *o)
{
	struct live_bpf *skel = NULL;
	struct lb_model *lm = xcalloc(1, sizeof(*lm));
	struct lb_task *tmpl = xcalloc(1, sizeof(*tmpl));
	struct lb_act *act = xcalloc(1, sizeof(*act));
	struct ring_buffer *rb = NULL;
	struct col_workload *wl = NULL;
	struct check *k = NULL;
	struct ana_eval e;
	struct run r = { 0 };
	uint64_t t0, deadline = 0, last_line = 0, last_dec = 0;
	int ret = 1, stats_fd = -1, tty, eval_init = 0, nr_cpus;
	pid_t child = -1;
	__u32 zero = 0;

	if (fill_model(lm, act, tmpl, m, o->model_path))
		goto out;
	nr_cpus = libbpf_num_possible_cpus();
	if (nr_cpus < 1) {
		error("cannot count the possible CPUs");
		goto out;
	}
	if (load(&skel, o, lstm_model_shape(m)->R))
		goto out;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.model), &zero, lm, 0) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.act), &zero, act, 0) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.task_tmpl), &zero, tmpl, 0)) {
		error_errno("cannot give the model to the in-kernel predictor");
		goto out;
	}
	for (__u32 c = 0; c < LB_MAX_CPUS; c++) {
		struct lb_cpu cpu = { .curr = -1 };

		if (bpf_map_update_elem(bpf_map__fd(skel->maps.cpus), &c, &cpu, 0)) {
			error_errno("cannot initialise the in-kernel CPU state");
			goto out;
		}
	}
	if (o->check) {
		struct feat_opts fo = {
			.mode = DS_WIN_CANDIDATES,
			.state_set = FEAT_SET_BASIC,	/* what the program computes */
			.K = lstm_model_shape(m)->K,
			.events_recorded = DS_EV_BIT(DS_EV_SWITCH) | DS_EV_BIT(DS_EV_WAKEUP) |
					   DS_EV_BIT(DS_EV_WAKEUP_NEW) | DS_EV_BIT(DS_EV_WAKING) |
					   DS_EV_BIT(DS_EV_MIGRATE) | DS_EV_BIT(DS_EV_EXIT),
		};

		k = xcalloc(1, sizeof(*k));
		k->m = m;
		k->scores = xcalloc(LSTM_MAX_CAND, sizeof(*k->scores));
		k->tasks = lstm_tasks_new(m);	/* NULL for a windowed encoder */
		fo.episodes = k->tasks != NULL;
		fo.retired = fo.episodes;
		k->feat = feat_state_new(&fo, nr_cpus);
		if (!k->tasks)
			k->cache = lstm_cache_new(m, 4096);
		if (!k->feat || (!k->cache && !k->tasks))
			goto out;
		ana_eval_init(&k->e, DS_WIN_CANDIDATES, o->model_path, "fixed", "live");
		rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, k, NULL);
		if (!rb) {
			error_errno("cannot open the in-kernel predictor's ring buffer");
			goto out;
		}
	}
	/* run_time_ns and run_cnt are kept while this fd is open */
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	r.stats_on = stats_fd >= 0;
	r.head_rows = lm->M;
	r.pair = lm->pair;
	r.stateful = lm->stateful;
	r.hpair = lm->hpair;
	r.H = lstm_model_shape(m)->H;
	r.R = lstm_model_shape(m)->R;	/* 1..H: the loader checked the zero columns past it */
	r.timed = o->time_parts;
	if (!r.stats_on)
		warning("cannot enable BPF run-time statistics (%s): no cost per decision",
			strerror(errno));

	catch_stop_signals(on_signal);

	if (live_bpf__attach(skel)) {
		error_errno("cannot attach the in-kernel predictor to the sched tracepoints");
		goto out;
	}
	t0 = sc_now_ns();
	if (o->duration_ns)
		deadline = t0 + o->duration_ns;
	if (o->workload) {
		struct col_workload_opts wo = { .seed = 1 };

		wl = col_workload_start(&wo);
		if (!wl)
			goto out_detach;
	} else if (o->command) {
		child = o->spawn(o->command);
		if (child < 0)
			goto out_detach;
	}
	tty = sc_isatty_stderr();
	while (!kstop) {
		uint64_t now = sc_now_ns();
		int timeout = 100;

		if (deadline && now >= deadline)
			break;
		if (deadline)
			timeout = (int)SC_MIN(100, (deadline - now) / NSEC_PER_MSEC + 1);
		if (rb) {
			int n;

			k->poll_start = sc_now_ns();
			n = ring_buffer__poll(rb, timeout);
			if (n < 0 && n != POLL_YIELD && n != -EINTR) {
				if (!k->failed)
					error("cannot read the in-kernel predictor's ring buffer: %s",
					      strerror(-n));
				goto out_detach;
			}
		} else {
			usleep((useconds_t)timeout * 1000);
		}
		if (child > 0) {
			int status;

			if (waitpid(child, &status, WNOHANG) == child) {
				child = -1;
				break;
			}
		}
		if (wl && col_workload_done(wl))
			break;
		if (tty && sc_now_ns() - last_line >= LINE_NS) {
			uint64_t t = sc_now_ns(), dt = last_line ? t - last_line : t - t0;

			if (!read_counters(skel, nr_cpus, &r.n, NULL))
				live_line(&r.n, t - t0,
					  dt ? (r.n.decisions - last_dec) * NSEC_PER_SEC / dt : 0);
			last_line = t;
			last_dec = r.n.decisions;
		}
	}
	r.span_ns = sc_now_ns() - t0;
	live_bpf__detach(skel);
	if (tty)
		fprintf(stderr, "\r\033[K");
	if (rb) {
		k->draining = 1;
		if (ring_buffer__consume(rb) < 0 && k->failed)
			goto out;
	}
	r.per_cpu = xcalloc((size_t)nr_cpus, sizeof(*r.per_cpu));
	if (read_counters(skel, nr_cpus, &r.n, r.per_cpu))
		goto out;
	read_prog_stats(skel, r.ps, &r.nps);
	r.nr_cpus = nr_cpus;

	ana_eval_init(&e, DS_WIN_CANDIDATES, o->model_path, "fixed", "live");
	eval_init = 1;
	to_eval(&e, &r.n);
	ana_eval_finish(&e);
	cpu_groups(&e, &r);
	if (k) {
		k->e.inferred_switches = feat_coverage(k->feat)->inferred_switches;
		ana_eval_finish(&k->e);
	}
	if (o->json)
		print_json(&r, &e, k);
	else
		print_text(&r, &e, k, o);
	if (kstop && !o->json)
		fprintf(stderr, "stopped by %s\n", strsignal(kstop));
	ret = 0;
	if (k && r.n.ring_drops) {
		ret = error("--check: the ring buffer dropped %llu events: the replay is not "
			    "the program's input, no comparison", (unsigned long long)r.n.ring_drops);
		ret = 1;
	} else if (k && k->differ) {
		error("--check: %llu of %llu decisions differ between the kernel and userspace",
		      (unsigned long long)k->differ, (unsigned long long)(k->same + k->differ));
		ret = 1;
	}
	goto out;

out_detach:
	live_bpf__detach(skel);
out:
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, NULL, 0);
	}
	if (wl)
		col_workload_finish(wl, NULL);
	ring_buffer__free(rb);
	live_bpf__destroy(skel);
	if (stats_fd >= 0)
		close(stats_fd);
	if (k) {
		feat_state_free(k->feat);
		lstm_cache_free(k->cache);
		lstm_tasks_free(k->tasks);
		ana_eval_release(&k->e);
		free(k->scores);
		free(k);
	}
	if (eval_init)
		ana_eval_release(&e);
	strbuf_release(&bpf_log);
	free(r.per_cpu);
	free(lm);
	free(tmpl);
	free(act);
	return ret;
}

#endif /* SC_HAVE_BPF */
