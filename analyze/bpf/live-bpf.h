/* SPDX-License-Identifier: GPL-2.0 */
/*
 * analyze/bpf/live-bpf.h - the layout shared by the in-kernel predictor
 * (analyze/bpf/live.bpf.c) and its loader (analyze/live-bpf.c).
 *
 * The BPF program includes vmlinux.h first (which has __u8 .. __s64);
 * userspace gets them from <linux/types.h>.
 * The program keeps the state of features/ (features/features-local.h) in
 * maps: struct lb_task per task, struct lb_cpu per CPU.  Every bound below
 * is a hard limit of the program; the loader refuses a model beyond them.
 */
#ifndef SC_ANALYZE_LIVE_BPF_H
#define SC_ANALYZE_LIVE_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LB_MAX_CPUS 256		/* CPUs the program tracks (cpu >= this: ignored) */
#define LB_QMAX 512		/* tasks queued on one CPU (a power of two) */
#define LB_MAX_TASKS 16384	/* tasks tracked at once */
#define LB_K_MAX 16		/* episodes per window */
#define LB_E 10			/* FEAT_E */
#define LB_S 12			/* FEAT_S_BASIC: the basic state set */
#define LB_H_MAX 64		/* LSTM hidden size */
#define LB_M_MAX 64		/* head hidden size */
#define LB_NR_BUCKETS 100	/* FEAT_NR_BUCKETS of 1 ms */

/* enum feat_task_st and enum feat_wait_kind of features/features-local.h */
enum { LB_UNKNOWN, LB_RUNNING, LB_QUEUED, LB_SLEEPING };
enum { LB_FW_UNKNOWN, LB_FW_WOKEN, LB_FW_PREEMPTED, LB_FW_NEW };

/* Event types: enum ds_event_type of data/trace.h */
enum { LB_EV_SWITCH = 0, LB_EV_WAKEUP, LB_EV_WAKEUP_NEW, LB_EV_WAKING, LB_EV_MIGRATE,
       LB_EV_FORK, LB_EV_EXIT };

/* Why a decision was not scored against userspace: bits of lb_event.uncovered */
#define LB_UNC_TASKS_FULL 0x1	/* the task map was full at some point: state lost */
#define LB_UNC_QUEUE_FULL 0x2	/* a CPU queue overflowed LB_QMAX at some point */
#define LB_UNC_CPU 0x4		/* a CPU beyond LB_MAX_CPUS */
#define LB_UNC_RACE 0x8		/* another CPU changed this CPU's queue meanwhile */
#define LB_UNC_RING 0x10	/* --check: the ring was full once, userspace missed events */
#define LB_UNC_STALE 0x20	/* the CPU's queue held a task that is not queued there */

struct lb_episode {		/* struct feat_episode, the wait part of the current one */
	__u64 wait_ns, sleep_ns;
	__s32 prio;
	__u8 wait_kind, cpu_changed, pad[2];
};

struct lb_task {
	__s32 pid, prio;	/* prio -1: unknown */
	__s32 cpu, last_cpu, waker;
	__u8 st, exiting, has_run, wait_kind, waker_set, cur_valid, pad[2];
	/*
	 * ep_gen counts the window's changes, hw_gen is the ep_gen hw was
	 * computed from: a generation, not a flag, so that a switch-out on
	 * another CPU (a move the program did not see) while a decision
	 * encodes leaves hw due again, not marked current.
	 */
	__u32 ep_gen, hw_gen;
	__u64 queued_ts, wait_ts, sleep_ns, run_ts, out_ts;
	struct lb_episode cur;
	__u32 ep_head, ep_nr;
	__u64 bucket_ms;
	__u32 bucket_b, pad2;			/* bucket_ms's bucket, bucket_ms % LB_NR_BUCKETS */
	/*
	 * cum[m % LB_NR_BUCKETS]: the ns run in every ms up to m, for the
	 * ring's ms (the program's own, mod 2^64, only their differences
	 * read): the sum of any run of buckets is two loads apart, as
	 * features/' pref[] (a window's sum is below 2^64, hence exact)
	 */
	__u64 cum[LB_NR_BUCKETS];
	__u32 bucket[LB_NR_BUCKETS];		/* ns run in each ms */
	__s16 ep[LB_K_MAX][LB_E];		/* (K, E) Q7.8 ring of the last K episodes */
	/*
	 * (M) the part of the head's first layer that depends on the window
	 * only, b1 * 2^12 + w1[:, :H] . h (Q.24) with h the encoder's output:
	 * computed once per window (at the first contested decision that
	 * scores it, when hw_gen != ep_gen), so that a decision costs M x S multiply-adds
	 * per candidate, not M x (H + S), and a window no contested decision
	 * reads is never encoded.
	 */
	__s64 hw[LB_M_MAX];
	/*
	 * A stateful model's encoder state (h, c), Q3.12: all zero for a new
	 * task, one LSTM step on each episode as add_episode() appends it
	 * (the windowed encoder's step, the same integers).  hw is then the
	 * head's share of h, due again when ep_gen moves, as above.
	 */
	__s16 enc_h[LB_H_MAX], enc_c[LB_H_MAX];
};

struct lb_cpu {
	__s32 curr;		/* pid on the cpu, 0 idle, -1 unknown */
	__u32 nq;
	__u64 idle_since;
	/*
	 * A handler on another CPU that changes this queue without this CPU's
	 * runqueue lock (a migration, which holds the source's; a task the
	 * program had queued here found running or exiting there: a move it
	 * did not see) holds mig_busy up and bumps mig_gen on entry and on
	 * exit, both before its ring slot and after its changes.  A decision
	 * that sees mig_busy up or mig_gen changed raced with it: its ring
	 * order and the order the changes took in the maps may differ.
	 */
	__u64 mig_gen, mig_busy;
	__s32 q[LB_QMAX];	/* queued pids, unordered; nq, q and qts change under
				   the CPU's lock in the program's qlocks map */
	__u64 qts[LB_QMAX];	/* q[i]'s queued_ts, for a decision's first pass */
};

/* Per-CPU counters, summed by the loader. */
struct lb_counters {
	__u64 events, decisions, contested, covered, contested_covered;
	__u64 chance_q32, chance_c_q32;		/* sums of 2^32 / n */
	__u64 rnd1_q32, rnd3_q32, rnd1c_q32, rnd3c_q32;	/* the random baseline */
	__u64 model[4];		/* top-1, top-3, top-1 contested, top-3 contested */
	__u64 lq[4];		/* longest-queued */
	__u64 lrr[4];		/* least-recently-run */
	__u64 uncovered, unc_tasks_full, unc_queue_full, unc_race, unc_ring, unc_stale;
	__u64 stale_cands;	/* queue entries left out and removed as stale */
	__u64 inferred_switches, encodes, scored_cands, ring_drops;
	__u64 tasks_full, queue_full;
	__u64 encode_ns, decide_ns;	/* ktime spent in the encoder, in decisions
					   (the encoder runs within them, not counted) */
	__u64 steps, step_ns;	/* a stateful model's encoder steps (at switch-outs) */
};

/*
 * The model, in fixed strides (the loader repacks the file's tensors):
 * gate rows g*LB_H_MAX + j for gate g (i f g o) and unit j < H.  Only the
 * head rows whose output weight (w2) is not zero are kept, M of them: the
 * others add exactly 0 to every score.  M = 0 (a model that kept its
 * linear path alone) needs no encoder at all.  The encoder's weights are
 * Q3.12 values widened to 64 bits: BPF (cpu v3) has no sign-extending
 * load, so an int16 operand costs a load and two shifts, an int64 one a
 * load; the products and sums are the same integers.
 *
 * Paired rows (pair = 1): the gates i and f of unit j, and g and o, in one
 * 64-bit lane pair, a + b * 2^32.  One multiply by an input then makes both
 * rows' products, and the pair's sum is A + B * 2^32 for the two rows'
 * exact sums A and B, taken apart exactly when |A|, |B| < 2^31.  The loader
 * pairs the rows only when every row's sum provably stays below that (the
 * sum of |weight| times the largest |input| it can meet: a normalised
 * episode feature of its known raw range, |h| <= 2^12 from the activation
 * tables); else pair = 0 and the encoder takes one row at a time (wx, wh).
 * Weights laid out in the order the encoder reads them.
 */
struct lb_model {
	__s32 K, H, M, pair;
	__s32 stateful;		/* the encoder's kind: 1 stateful, 0 windowed (K steps) */
	__s32 hpair;		/* the head's rows in pairs (below) */
	/* first: within a BPF load's 16-bit offset of the start (one instruction each) */
	__s64 pb[LB_H_MAX][2];			/* (H, 2) b * 2^12 of (i, f), (g, o), paired */
	__s64 pwx[LB_H_MAX][LB_E][2];		/* (H, E, 2) wx of (i, f), (g, o), paired */
	__s32 sig_tab[513], tanh_tab[513];	/* fx_sigmoid_tab, fx_tanh_tab: Q1.30 */
	__s64 pwh[LB_H_MAX][LB_H_MAX][2];	/* (H, H, 2) wh of (i, f), (g, o), paired */
	__s32 mu[LB_E + LB_S], inv[LB_E + LB_S];	/* struct lstm_norm */
	__s64 wx[4 * LB_H_MAX][LB_E];		/* Q3.12 */
	__s64 wh[4 * LB_H_MAX][LB_H_MAX];	/* Q3.12 */
	__s16 b[4 * LB_H_MAX];			/* Q3.12 */
	__s64 w1h[LB_M_MAX][LB_H_MAX];		/* head layer 1, the H columns, Q3.12 */
	__s64 w1s[LB_M_MAX][LB_S];		/* head layer 1, the S columns, Q3.12 */
	__s16 b1[LB_M_MAX], w2[LB_M_MAX];
	__s16 wl[LB_S];				/* the linear path (head/w_lin) */
	/*
	 * The head's first layer with its rows in pairs (hpair = 1), rows 2p
	 * and 2p + 1 in the lane pair a + b * 2^32 as the encoder's gates
	 * (an odd M: the last pair's second row is zero, w2 0): t->hw[p] is
	 * then the pair's sum.  The loader pairs them only when each row's
	 * whole sum, b1 2^12 + w1h . h + w1s . z, provably stays within
	 * (-2^31, 2^31) (|h| <= 2^12, |z| at most that of the raw range of
	 * each state feature); else hpair = 0 and the rows go one at a time.
	 */
	__s64 pb1[LB_M_MAX / 2];		/* (M/2) b1 * 2^12, paired */
	__s64 pw1h[LB_M_MAX / 2][LB_H_MAX];	/* (M/2, H) w1h, paired */
	__s64 pw1s[LB_M_MAX / 2][LB_S];		/* (M/2, S) w1s, paired */
	__u32 log2_tab[257];			/* features' log2(1 + i/256), Q16 */
	__u64 log2_1000;
	/*
	 * The head's terms of the six flag features of the state (LB_S_FLAGS:
	 * each 0 or ONE) for each of their 64 combinations c (bit i set: the
	 * i-th flag is ONE): hbin[c][r] the sum over the flags of w1s . z of
	 * row r (hpair: pw1s . z of pair r), hlin[c] that of wl . z.  A
	 * candidate then multiplies its six other features only; its sums are
	 * the same integers (every sum here is taken mod 2^64, as BPF's).
	 */
	__s64 hbin[64][LB_M_MAX];
	__s64 hlin[64];
	/*
	 * The same for the encoder's gates (pair = 1): xbin[c][j] the pair
	 * sums of unit j's bias and of the terms of the six flag features of
	 * an episode (LB_E_FLAGS) at their combination c, so that a step
	 * multiplies an episode's four other features only.
	 */
	__s64 xbin[64][LB_H_MAX][2];
	/* 2^32 / n and min(n, 3) 2^32 / n: a decision's chance of a random pick */
	__u64 chance_q32[LB_QMAX + 1][2];
};

/* the episode features that are flags (0 or ONE; the first is 0 in padding) */
#define LB_E_FLAGS { 0, 3, 4, 6, 7, 9 }

/* the state features that are flags (0 or ONE), bit i of a combination */
#define LB_S_FLAGS { 2, 6, 7, 8, 9, 11 }

/*
 * The activations of every Q3.12 input x, at index x + 32768, for the
 * paired encoder: interp_q12() of the model's tables, stored + 32768 (so
 * that an unsigned 16-bit load, the one BPF has, reads them): one load in
 * place of two and the interpolation.  The same integers.
 */
struct lb_act {
	__u16 sig[65536], tanh[65536];
};

/* Streamed to userspace with --check: every event, decisions with the prediction. */
struct lb_event {
	__u64 ts;
	__s64 state;
	__s32 cpu, common_pid, pid, prio, next_pid, next_prio, target_cpu, dest_cpu;
	__s32 pred_pid;		/* switch: the model's pick, -1 none */
	__s32 ncand;		/* switch: candidates, -1 not a decision */
	__s64 cand_sum;		/* switch: the sum of the candidates' pids (--check
				   names the one the two sides disagree on) */
	__u32 uncovered;	/* LB_UNC_* */
	__u8 type, pad[3];
	char comm[16], next_comm[16];
};

#endif /* SC_ANALYZE_LIVE_BPF_H */
