// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel predictor of `schedcast live --in-kernel`: the runqueue
 * model of features/ (features/runqueue.c, features/window.c) and the
 * fixed-point network of model/ (model/lstm-fixed.c) as one BPF program on
 * the scheduler's tracepoints.  Every rule below is a line-for-line port of
 * the userspace code it names, in the same integer arithmetic, so that on
 * the same events both compute the same features and the same scores
 * (`live --in-kernel --check` replays this program's own event stream
 * through the userspace engine and compares every prediction).
 *
 * The encoder's output for a task changes only when its window does, when
 * an episode completes at a switch-out.  It is computed once per window, at
 * the first contested decision that scores the task, and kept in the
 * task's map entry: a decision costs one head per candidate, and a window
 * that no contested decision reads (a task woken onto an idle CPU, one
 * that only ever runs alone) is never encoded.
 *
 * Concurrency: a CPU's queue and the tasks on it change under that CPU's
 * runqueue lock in the kernel (wakeups, switches), which serialises the
 * handlers that touch them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "analyze/bpf/live-bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* open-coded iterators (kernel 6.4+); libbpf 1.1's headers predate bpf_for */
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __weak __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __weak __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __weak __ksym;

#define bpf_for(i, start, end)                                                               \
	for (struct bpf_iter_num ___it __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *___p __attribute__((unused)) =                                                  \
		     (bpf_iter_num_new(&___it, (start), (end)), (void)bpf_iter_num_destroy,  \
		      (void *)0);                                                             \
	     ({                                                                               \
		     int *___t = bpf_iter_num_next(&___it);                                   \
		     (___t && ((i) = *___t, (i) >= (start) && (i) < (end)));                  \
	     });)

/*
 * bound - v & mask, in a way clang cannot drop: inside an iterator loop the
 * verifier forgets the range of values computed before the loop, so an
 * index from outside is bounded again where it is used.
 */
#define bound(v, mask) ({ __typeof__(v) ___v = (v); asm volatile("%0 &= " #mask : "+r"(___v)); ___v; })

#define NSEC_PER_MSEC 1000000ULL
#define CPU_SHORT_NS (10 * NSEC_PER_MSEC)
#define CPU_LONG_NS (100 * NSEC_PER_MSEC)
#define ONE 256		/* Q7.8 */
#define SCORE_MAX (1 << 20)

const volatile int check_mode = 0;	/* stream every event to the ring buffer */
/*
 * --time-parts: clock the decision, the encoder runs and steps with
 * bpf_ktime_get_ns() (five calls a decision or so, a cost of their own:
 * off, the verifier drops them as dead code and the counters stay 0)
 */
const volatile int time_parts = 0;
/*
 * Fault injection for the tests (SCHEDCAST_BPF_FAULT=verifier): on_exit
 * reads memory through a plain number, which the verifier must refuse.  At
 * 0, the verifier drops that branch as dead code before checking it.
 */
const volatile int fault_verifier = 0;
/*
 * The recurrent columns a step reads, in groups of four: (R + 3) / 4 for a
 * model of recurrent width R (1 .. LB_H_MAX / 4; the default reads all
 * LB_H_MAX).  A constant to the verifier, which then follows the one path
 * through REC_SWITCH (a bound read from the model map would fork its
 * states at every group).
 */
const volatile int rec_g4 = LB_H_MAX / 4;

/*
 * REC_SWITCH - COLS4(k) for k = 4 (rec_g4 - 1), ..., 4, 0: the recurrent
 * columns h[0..4 rec_g4 - 1] as one entry into straight-line code, a
 * constant's compares, not a loop's bound and counter.  The columns past R
 * add 0: their weights are 0 (wh, pwh), their h finite.
 */
#define REC_SWITCH(COLS4)                                                           \
	switch (rec_g4) {                                                           \
	default:                                                                    \
	case 16: COLS4(60); __attribute__((fallthrough));                           \
	case 15: COLS4(56); __attribute__((fallthrough));                           \
	case 14: COLS4(52); __attribute__((fallthrough));                           \
	case 13: COLS4(48); __attribute__((fallthrough));                           \
	case 12: COLS4(44); __attribute__((fallthrough));                           \
	case 11: COLS4(40); __attribute__((fallthrough));                           \
	case 10: COLS4(36); __attribute__((fallthrough));                           \
	case 9: COLS4(32); __attribute__((fallthrough));                            \
	case 8: COLS4(28); __attribute__((fallthrough));                            \
	case 7: COLS4(24); __attribute__((fallthrough));                            \
	case 6: COLS4(20); __attribute__((fallthrough));                            \
	case 5: COLS4(16); __attribute__((fallthrough));                            \
	case 4: COLS4(12); __attribute__((fallthrough));                            \
	case 3: COLS4(8); __attribute__((fallthrough));                             \
	case 2: COLS4(4); __attribute__((fallthrough));                             \
	case 1: COLS4(0);                                                           \
	}

__u64 lost_flags = 0;			/* LB_UNC_* seen so far */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_TASKS);
	__type(key, __s32);
	__type(value, struct lb_task);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_CPUS);
	__type(key, __u32);
	__type(value, struct lb_cpu);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_model);
} model SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_act);
} act SEC(".maps");

/* the record of a new task (prio, cpus and waker -1, h = the empty window's) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_task);
} task_tmpl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_counters);
} counters SEC(".maps");

struct rank {
	__s32 pid[3];
	__s32 score[3];
	__u64 k1[3], k2[3];
};

struct decide_out {
	__s32 ncand;
	__u32 unc;
	__s64 cand_sum;
};

struct decision {
	__u64 now, old_qts, short_ns, long_ns;
	/*
	 * cpu_times()' windows, the same for every candidate: their starts
	 * lo, the ms m_lo they start in, that ms's bucket and the share
	 * (m_lo + 1) 1 ms - lo of it in the window; m_hi the ms of now - 1
	 */
	__u64 lo_s, lo_l, m_lo_s, m_lo_l, part_s, part_l, m_hi;
	__u32 b_lo_s, b_lo_l, b_hi, pad;
	__s32 cpu, prev_pid, next_pid, nc, covered, old_pid, stale;
	__s32 fast, redo;	/* the first pass read the queue only; it was wrong */
	__s64 cand_sum;
};

struct scratch {
	struct decision d;		/* the decision being made */
	__s64 x[LB_K_MAX][LB_E];	/* normalised window, Q3.12 widened (see lb_model) */
	__u32 xcomb[LB_K_MAX];		/* x[t]'s flags (ep_flags()): its row of lb_model's xbin */
	__s64 h[2][LB_H_MAX];		/* Q3.12 widened */
	__s16 c[2][LB_H_MAX];
	__s16 gate[4 * LB_H_MAX];
	__s16 st[LB_S];
	struct rank model, lq, lrr;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline void set_cpu_times(struct scratch *sc, __u64 s, __u64 l)
{
	sc->d.short_ns = s;
	sc->d.long_ns = l;
}

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} events SEC(".maps");

/* ---- fixed-point maths (model/model-local.h, model/fx.c) ------------------------ */

/*
 * sat16 - v clamped to [-32768, 32767], without a branch: each branch
 * doubles the paths the verifier walks through straight-line code (the
 * head's six features), and a branch costs more than these four ALU ops
 */
static __always_inline __s16 sat16(__s64 v)
{
	__s64 hi = v - 32767, lo;

	v -= hi & ~(hi >> 63);		/* min(v, 32767) */
	lo = v + 32768;
	v -= lo & (lo >> 63);		/* max(v, -32768) */
	return (__s16)v;
}

/* flag - 1 for a flag feature at ONE, 0 at 0 */
static __always_inline int flag(__s16 v)
{
	_Static_assert(ONE == 1 << 8, "a flag at ONE is bit 8");
	return ((__u16)v >> 8) & 1;
}

static __always_inline __s64 rshift_round(__s64 v, int n)
{
	return (v + ((__s64)1 << (n - 1))) >> n;
}

/* fx_interp_q12 */
static __always_inline __s16 interp_q12(const __s32 *tab, __s16 x)
{
	__u32 u = (__u32)((__s32)x + 32768);
	__u32 i = u >> 7, r = u & 127;
	__s64 y;

	if (i > 511)
		i = 511;	/* never: u < 65536 (for the verifier) */
	y = tab[i] + (((__s64)(tab[i + 1] - tab[i]) * r + 64) >> 7);
	return sat16(rshift_round(y, 18));
}

/*
 * sat_idx - sat16(rshift_round(v, 12)) + 32768, the index of that value in a
 * struct lb_act table, computed at once: the lower clamp of sat16 is
 * max(x + 32768, 0) (a few instructions fewer than sat16, the cast and the
 * index apart)
 */
static __always_inline __u64 sat_idx(__s64 v)
{
	__s64 x = (v + 2048) >> 12, hi = x - 32767;

	x -= hi & ~(hi >> 63);		/* min(x, 32767) */
	x += 32768;
	x -= x & (x >> 63);		/* max(x, 0) */
	return bound((__u64)x, 65535);	/* 64-bit: no zero extension where it indexes */
}

/* act_idx - interp_q12() of the value at index i (sat_idx()) from a struct lb_act table */
static __always_inline __s64 act_idx(const __u16 *tab, __u64 i)
{
	return (__s64)tab[i] - 32768;
}

static __always_inline __s16 norm_apply(const struct lb_model *m, int f, __s16 raw)
{
	if (f < 0 || f >= LB_E + LB_S)
		return 0;
	return sat16(((__s64)(raw - m->mu[f]) * m->inv[f]) >> 16);
}

/*
 * in_order - the sum a as it stands, in a register: after each term of an
 * unrolled chain of multiply-adds, it keeps clang from regrouping the chain
 * into a tree, whose partial products outnumber BPF's registers and go
 * through the stack (a store and a load each); the chain in order needs
 * one register a sum.  The same sums (addition mod 2^64 is associative).
 */
#define in_order(a) asm volatile("" : "+r"(a))

/* ---- features (features/window.c) ----------------------------------------------- */

/*
 * msb64 - the index of x's highest set bit (0 for x = 0), without a
 * branch: at each step x < 2^(2 k), so y = x >> k < 2^k and
 * (y + 2^k - 1) >> k is 1 when y > 0, else 0 (the shift taken then is k,
 * else 0).  The same result as the binary search by branches it replaces
 * (whose branches, on the durations of a switch, the CPU mispredicts).
 */
static __always_inline int msb64(__u64 x)
{
	__u64 s, r;

	s = (((x >> 32) + 0xffffffffULL) >> 32) << 5; x >>= s; r = s;
	s = (((x >> 16) + 0xffffULL) >> 16) << 4; x >>= s; r += s;
	s = (((x >> 8) + 0xffULL) >> 8) << 3; x >>= s; r += s;
	s = (((x >> 4) + 0xfULL) >> 4) << 2; x >>= s; r += s;
	s = (((x >> 2) + 0x3ULL) >> 2) << 1; x >>= s; r += s;
	return (int)(r + (x >> 1));
}

/* feat_log2us (inlined: three a candidate) */
static __always_inline int log2us(const struct lb_model *m, __u64 ns)
{
	__u64 x, mm, i, r, lo, hi, l;
	int ip;

	if (!m)
		return 0;
	if (ns > ~0ULL - 1000)
		ns = ~0ULL - 1000;
	x = 1000 + ns;
	ip = msb64(x);
	mm = ip >= 24 ? (x >> (ip - 24)) & 0xffffff : (x << (24 - ip)) & 0xffffff;
	i = mm >> 16;
	r = mm & 0xffff;
	if (i > 255)
		i = 255;
	lo = m->log2_tab[i];
	hi = m->log2_tab[i + 1];
	l = ((__u64)ip << 16) + lo + (((hi - lo) * r + 0x8000) >> 16);
	if (l <= m->log2_1000)
		return 0;
	l = (l - m->log2_1000 + 128) >> 8;
	return l > 32767 ? 32767 : (__s16)l;
}

/*
 * Divisions by constants as a multiply and a shift where the dividend's
 * range allows it in 64 bits (BPF has no multiply-high; the JIT emits a
 * division as one): the same quotient for every dividend in range
 * (checked exhaustively), a division outside it.
 */
static __always_inline __u32 div20(__u32 v)	/* v / 20 */
{
	return v < 32768 ? (v * 26215U) >> 19 : v / 20;
}

/* x * ONE / CPU_SHORT_NS (= 2 x / 78125) */
static __always_inline __s16 share_short(__u64 x)
{
	return (__s16)(x <= CPU_SHORT_NS ? (2 * x * 56294996ULL) >> 42 : x * ONE / CPU_SHORT_NS);
}

/* x * ONE / CPU_LONG_NS (= 2 x / 781250) */
static __always_inline __s16 share_long(__u64 x)
{
	return (__s16)(x <= CPU_LONG_NS ? (2 * x * 360287971ULL) >> 48 : x * ONE / CPU_LONG_NS);
}

static __always_inline __s16 prio_feat(__s32 prio)
{
	__s32 v;

	if (prio < 0)
		return 0;
	v = (prio - 120) * ONE;		/* C division truncates toward zero */
	return (__s16)(v >= 0 ? (__s32)div20((__u32)v) : -(__s32)div20((__u32)-v));
}

/* bucket_of - m % LB_NR_BUCKETS, with a range check the verifier can see */
static __always_inline __u32 bucket_of(__u64 m)
{
	__u32 b = (__u32)(m % LB_NR_BUCKETS);

	asm volatile("" : "+r"(b));	/* clang may not drop the check below */
	return b < LB_NR_BUCKETS ? b : 0;
}

/*
 * bucket_next - the bucket after b (b < LB_NR_BUCKETS), with the wrap, and
 * no branch (b + 1 - LB_NR_BUCKETS is negative unless it wraps), so that
 * a loop's steps do not split the verifier's states.  The result is below
 * LB_NR_BUCKETS; the verifier is told only that it is below 128, which
 * keeps an access t->bucket[b] within the task's record (the assert below).
 */
static __always_inline __u32 bucket_next(__u32 b)
{
	__u64 r = b, m;

	/* in asm: clang turns the same select written in C back into a branch */
	_Static_assert(LB_NR_BUCKETS == 100, "bucket_next's constants");
	asm volatile("%[r] += -99\n\t"		/* x = b + 1 - LB_NR_BUCKETS */
		     "%[m] = %[r]\n\t"
		     "%[m] s>>= 63\n\t"
		     "%[m] &= 100\n\t"		/* LB_NR_BUCKETS if x < 0 */
		     "%[r] += %[m]\n\t"
		     "%[r] &= 127"
		     : [r] "+r"(r), [m] "=&r"(m));
	return (__u32)r;
}
_Static_assert(__builtin_offsetof(struct lb_task, bucket) + 128 * sizeof(__u32) <=
	       sizeof(struct lb_task), "bucket_next's bound stays within the record");

_Static_assert(__builtin_offsetof(struct lb_task, cum) + 128 * sizeof(__u64) <=
	       sizeof(struct lb_task), "bucket_next's bound stays within the record (cum)");

/*
 * feat_add_run, with the ring's running sums (cum) kept as the buckets
 * change: a ms the task did not run gets the sum of the ms before it, a
 * run's ns are added to its ms' buckets and to the sums of every ms from
 * there to bucket_ms.  Plain bounded loops (at most 100 steps, few
 * branches, the bucket index stepped: no modulo a ms).
 */
__noinline int add_run(struct lb_task *t, __u64 start, __u64 end)
{
	__u64 m_end, m0, acc = 0;
	__u32 b;
	int i;

	if (!t || end <= start)
		return 0;
	m_end = (end - 1) / NSEC_PER_MSEC;
	if (m_end > t->bucket_ms) {
		__u64 base = t->cum[bound(t->bucket_b, 127)];

		if (m_end - t->bucket_ms >= LB_NR_BUCKETS) {
			for (i = 0; i < LB_NR_BUCKETS; i++) {
				t->bucket[i] = 0;
				t->cum[i] = base;
			}
			t->bucket_b = bucket_of(m_end);
		} else {
			__u64 from = t->bucket_ms + 1;

			b = t->bucket_b;
			for (i = 0; i < LB_NR_BUCKETS; i++) {
				if (from + i > m_end)
					break;
				b = bucket_next(b);
				t->bucket[b] = 0;
				t->cum[b] = base;
			}
			t->bucket_b = b;
		}
		t->bucket_ms = m_end;
	}
	m0 = start / NSEC_PER_MSEC;
	if (t->bucket_ms >= LB_NR_BUCKETS - 1 && m0 < t->bucket_ms - (LB_NR_BUCKETS - 1))
		m0 = t->bucket_ms - (LB_NR_BUCKETS - 1);
	b = bucket_of(m0);
	for (i = 0; i < LB_NR_BUCKETS; i++) {
		__u64 m = m0 + i, lo, hi;

		if (m > m_end)
			break;
		lo = start > m * NSEC_PER_MSEC ? start : m * NSEC_PER_MSEC;
		hi = end < (m + 1) * NSEC_PER_MSEC ? end : (m + 1) * NSEC_PER_MSEC;
		if (hi > lo) {
			t->bucket[b] += (__u32)(hi - lo);
			acc += (__u32)(hi - lo);
		}
		t->cum[b] += acc;
		b = bucket_next(b);
	}
	/* a run that ended before bucket_ms (rare): the later ms' sums too */
	for (i = 0; i < LB_NR_BUCKETS; i++) {
		if (m_end + 1 + i > t->bucket_ms)
			break;
		t->cum[b] += acc;
		b = bucket_next(b);
	}
	return 0;
}

/*
 * window_sum - feat_cpu_time(t, now, span) for lo = now - span, m_lo = lo / 1 ms
 * (its bucket b_lo, part = (m_lo + 1) 1 ms - lo), m_hi the ms of now - 1
 * (its bucket b_hi): the buckets of [from, to] from the running sums, a
 * difference of two (the same integer as the sum of the buckets)
 */
static __always_inline __u64 window_sum(const struct lb_task *t, __u64 m_lo, __u32 b_lo,
					__u64 part, __u64 m_hi, __u32 b_hi, __u64 span)
{
	__u64 bms = t->bucket_ms, from, to, sum;
	__u32 bb = t->bucket_b, bf, bt;

	if (bms >= LB_NR_BUCKETS - 1 && m_lo <= bms - (LB_NR_BUCKETS - 1)) {
		from = bms - (LB_NR_BUCKETS - 1);	/* the oldest ms, the bucket after bms' */
		bf = bucket_next(bound(bb, 127));
	} else {	/* m_lo is in the ring (bms < 99: the ring holds ms 0 on) */
		from = m_lo;
		bf = b_lo;
	}
	if (m_hi < bms) {
		to = m_hi;
		bt = b_hi;
	} else {
		to = bms;
		bt = bb;
	}
	if (from > to)
		return 0;
	bf = bound(bf, 127);
	bt = bound(bt, 127);
	sum = t->cum[bt] - t->cum[bf];
	/* the oldest bucket straddles the window start: prorated, as feat_cpu_time does */
	if (from == m_lo)
		sum += t->bucket[bf] * part / NSEC_PER_MSEC;
	else
		sum += t->bucket[bf];
	return sum < span ? sum : span;
}

/* cpu_windows - the windows of cpu_times() at now into sc->d, once a decision */
static __always_inline void cpu_windows(struct scratch *sc, __u64 now)
{
	struct decision *d = &sc->d;

	d->lo_s = now > CPU_SHORT_NS ? now - CPU_SHORT_NS : 0;
	d->lo_l = now > CPU_LONG_NS ? now - CPU_LONG_NS : 0;
	if (now > CPU_LONG_NS) {
		/*
		 * Two divisions, not five: now = q 1 ms + r, and the spans are
		 * whole ms, so lo's ms are q - 10 and q - 100, their buckets
		 * (q - 10) % 100 and q % 100, the ms of now - 1 is q - (r == 0)
		 */
		__u64 q = now / NSEC_PER_MSEC;
		__u32 b = bucket_of(q);

		d->m_lo_s = q - CPU_SHORT_NS / NSEC_PER_MSEC;
		d->m_lo_l = q - CPU_LONG_NS / NSEC_PER_MSEC;
		_Static_assert(CPU_SHORT_NS / NSEC_PER_MSEC == 10 &&
			       CPU_LONG_NS / NSEC_PER_MSEC == LB_NR_BUCKETS, "the spans' buckets");
		d->b_lo_s = b >= 10 ? b - 10 : b + LB_NR_BUCKETS - 10;
		d->b_lo_l = b;
		d->m_hi = q - (now == q * NSEC_PER_MSEC);
		d->b_hi = now == q * NSEC_PER_MSEC ? (b ? b - 1 : LB_NR_BUCKETS - 1) : b;
	} else {
		d->m_lo_s = d->lo_s / NSEC_PER_MSEC;
		d->m_lo_l = d->lo_l / NSEC_PER_MSEC;
		d->b_lo_s = bucket_of(d->m_lo_s);
		d->b_lo_l = bucket_of(d->m_lo_l);
		d->m_hi = now ? (now - 1) / NSEC_PER_MSEC : 0;
		d->b_hi = bucket_of(d->m_hi);
	}
	d->part_s = (d->m_lo_s + 1) * NSEC_PER_MSEC - d->lo_s;
	d->part_l = (d->m_lo_l + 1) * NSEC_PER_MSEC - d->lo_l;
}

/*
 * feat_cpu_time for the last CPU_SHORT_NS and CPU_LONG_NS into sc->d.short_ns,
 * long_ns, in the windows cpu_windows() set for now (inlined into the candidate's
 * pass: with the running sums there is no loop left to verify once, and the
 * call cost more than the two windows)
 */
static __always_inline int cpu_times(const struct lb_task *t, __u64 now, struct scratch *sc)
{
	struct decision *d;

	if (!t || !sc)
		return 0;
	if (!now) {
		set_cpu_times(sc, 0, 0);
		return 0;
	}
	d = &sc->d;
	set_cpu_times(sc, window_sum(t, d->m_lo_s, d->b_lo_s, d->part_s, d->m_hi, d->b_hi,
				     CPU_SHORT_NS),
		      window_sum(t, d->m_lo_l, d->b_lo_l, d->part_l, d->m_hi, d->b_hi,
				 CPU_LONG_NS));
	return 0;
}

/* ---- the network (model/lstm-fixed.c) ------------------------------------------- */

struct enc_ctx {
	struct lb_model *m;
	struct scratch *s;
	int cur;
};

/*
 * One LSTM step (lstm_cell_forward) from s->h[cur], s->c[cur] into the
 * other buffers, input s->x[t].
 */
/* column k, and k..k+3, of lstm_step's recurrent products (its wr, h, acc) */
#define STEP_COL(k)                                                                 \
	do {                                                                        \
		acc += wr[k] * h[k];                                                \
		in_order(acc);                                                      \
	} while (0)
#define STEP_COLS4(k) \
	do { STEP_COL(k); STEP_COL((k) + 1); STEP_COL((k) + 2); STEP_COL((k) + 3); } while (0)

__noinline int lstm_step(struct lb_model *m, struct scratch *s, int t, int cur)
{
	int H, j, k, src = cur, dst;

	if (!m || !s || t < 0 || t >= LB_K_MAX)
		return 0;
	H = m->H;
	if (H < 1 || H > LB_H_MAX)
		return 0;
	/* keep the verifier's bounds on the buffer indices: clang folds a plain & 1 away */
	asm volatile("%0 &= 1" : "+r"(src));
	dst = src ^ 1;
	asm volatile("%0 &= 1" : "+r"(dst));
	bpf_for(j, 0, H) {
		int tt = bound(t, 15), hs = bound(src, 1), jj = bound(j, 63);

#pragma unroll
		for (int g = 0; g < 4; g++) {
			int r = g * LB_H_MAX + jj;
			__s64 acc = (__s64)m->b[r] * 4096;
			const __s64 *h = s->h[hs];
			const __s64 *wr = m->wh[r];
			__s16 pre;

#pragma unroll
			for (k = 0; k < LB_E; k++)
				acc += m->wx[r][k] * s->x[tt][k];
			/*
			 * the recurrent columns, h[0..R-1] (REC_SWITCH); the bases
			 * opaque, or clang keeps h's loads across the four gates
			 * (past BPF's stack)
			 */
			asm volatile("" : "+r"(wr), "+r"(h));
			REC_SWITCH(STEP_COLS4);
			pre = sat16(rshift_round(acc, 12));
			s->gate[r] = g == 2 ? interp_q12(m->tanh_tab, pre) :
					      interp_q12(m->sig_tab, pre);
		}
	}
	bpf_for(j, 0, H) {
		int jj = bound(j, 63);
		__s32 ig, fg, gg, og;
		__s64 c;
		__s16 cn, tc;

		ig = s->gate[jj];
		fg = s->gate[LB_H_MAX + jj];
		gg = s->gate[2 * LB_H_MAX + jj];
		og = s->gate[3 * LB_H_MAX + jj];
		c = (__s64)fg * s->c[bound(src, 1)][jj] + (__s64)ig * gg;
		cn = sat16(rshift_round(c, 12));
		tc = interp_q12(m->tanh_tab, cn);
		s->c[bound(dst, 1)][jj] = cn;
		s->h[bound(dst, 1)][jj] = sat16(rshift_round((__s32)og * tc, 12));
	}
	return 0;
}

/* lane_lo - A of a lane pair A + B * 2^32 with |A|, |B| < 2^31 (then B = (v - A) >> 32) */
static __always_inline __s64 lane_lo(__s64 v)
{
	return (__s64)((__u64)v << 32) >> 32;
}

/* ep_flags - the combination of an episode's flag features (LB_E_FLAGS), lb_model's xbin */
static __always_inline __u32 ep_flags(const __s16 *f)
{
	return flag(f[0]) | flag(f[3]) << 1 | flag(f[4]) << 2 | flag(f[6]) << 3 |
	       flag(f[7]) << 4 | flag(f[9]) << 5;
}

/* column k of the recurrent products of unit_core() (its wh, h, a_if, a_go) */
#define REC_COL(k)                                         \
	do {                                               \
		__s64 hk = h[k];                           \
                                                           \
		a_if += wh[k][0] * hk;                     \
		a_go += wh[k][1] * hk;                     \
		in_order(a_if);                            \
		in_order(a_go);                            \
	} while (0)
#define REC_COLS4(k) \
	do { REC_COL(k); REC_COL((k) + 1); REC_COL((k) + 2); REC_COL((k) + 3); } while (0)

/*
 * lstm_step with the rows in pairs (lb_model's pair), unit j of step t:
 * its four gates from two lane-pair sums, two products per multiply, each
 * input loaded once for the four; then its cell at once (its gates are
 * all known).  The same integers as lstm_step: each gate's sum is the same
 * exact sum, taken apart from its pair.
 */
static __always_inline void unit_core(struct lb_model *m, const struct lb_act *a,
				      struct scratch *s, __u64 tt, __u64 hs, __u64 jj, __s16 cold,
				      __s16 *cout, __s16 *hout)
{
	__u64 xc = bound((__u64)s->xcomb[tt], 63);
	/* the bias and the flags' terms (xbin), then the four other features */
	__s64 a_if = m->xbin[xc][jj][0], a_go = m->xbin[xc][jj][1], pi, pf, pg, po, c;
	__s64 ig, fg, gg, og;
	const __s64 (*wh)[2], *h;
	__u64 ci;
	__s16 cn, tc;

	/* each input loaded once for both sums, the sums in order (in_order()) */
#pragma unroll
	for (int f = 0; f < 4; f++) {
		const int xf[4] = { 1, 2, 5, 8 };
		__s64 xv = s->x[tt][xf[f]];

		a_if += m->pwx[jj][xf[f]][0] * xv;
		a_go += m->pwx[jj][xf[f]][1] * xv;
		in_order(a_if);
		in_order(a_go);
	}
	/*
	 * the recurrent columns h[0..R-1] (REC_SWITCH), the rows' and h's
	 * bases in registers: not computed again at each case
	 */
	wh = m->pwh[jj];
	h = s->h[hs];
	asm volatile("" : "+r"(wh), "+r"(h));
	REC_SWITCH(REC_COLS4);
	pi = lane_lo(a_if);
	pf = (a_if - pi) >> 32;
	pg = lane_lo(a_go);
	po = (a_go - pg) >> 32;
	ig = act_idx(a->sig, sat_idx(pi));
	fg = act_idx(a->sig, sat_idx(pf));
	gg = act_idx(a->tanh, sat_idx(pg));
	og = act_idx(a->sig, sat_idx(po));
	c = fg * cold + ig * gg;
	ci = sat_idx(c);
	cn = (__s16)((__s32)ci - 32768);
	tc = act_idx(a->tanh, ci);
	*cout = cn;
	*hout = sat16(rshift_round((__s32)og * tc, 12));
}

/* unit_core from s->h[src], s->c[src] into s->h[dst], s->c[dst] (the window's steps) */
static __always_inline void unit_pair(struct lb_model *m, const struct lb_act *a,
				      struct scratch *s, int t, int src, int dst, int j)
{
	__u64 tt = bound((__u64)(__u32)t, 15), hs = bound((__u64)(__u32)src, 1);
	__u64 hd = bound((__u64)(__u32)dst, 1), jj = bound((__u64)(__u32)j, 63);
	__s16 cn, hn;

	unit_core(m, a, s, tt, hs, jj, s->c[hs][jj], &cn, &hn);
	s->c[hd][jj] = cn;
	s->h[hd][jj] = hn;
}

/*
 * unit_core for a stateful step: h[0..R-1] from s->h[0] (copied in by
 * enc_step), the unit's c read and its (h, c) written in the task's record
 * (no copy of c in, nor of h and c out)
 */
static __always_inline void unit_task(struct lb_model *m, const struct lb_act *a,
				      struct scratch *s, struct lb_task *tk, int j)
{
	__u64 jj = bound((__u64)(__u32)j, 63);

	unit_core(m, a, s, 0, 0, jj, tk->enc_c[jj], &tk->enc_c[jj], &tk->enc_h[jj]);
}

/*
 * One LSTM step with the rows in pairs, four units an iteration (an
 * iterator's step is a call).  A unit past H is computed from zero
 * weights and read by nothing: its columns in pwh and w1h are zero too.
 */
__noinline int lstm_step_pair(struct lb_model *m, const struct lb_act *a, struct scratch *s,
			      int t, int cur)
{
	int H, j, src = cur, dst;

	if (!m || !a || !s || t < 0 || t >= LB_K_MAX)
		return 0;
	H = m->H;
	if (H < 1 || H > LB_H_MAX)
		return 0;
	asm volatile("%0 &= 1" : "+r"(src));
	dst = src ^ 1;
	asm volatile("%0 &= 1" : "+r"(dst));
	bpf_for(j, 0, (H + 3) >> 2) {
		unit_pair(m, a, s, t, src, dst, 4 * j);
		unit_pair(m, a, s, t, src, dst, 4 * j + 1);
		unit_pair(m, a, s, t, src, dst, 4 * j + 2);
		unit_pair(m, a, s, t, src, dst, 4 * j + 3);
	}
	return 0;
}

/* lstm_step_pair's step of a stateful model, on s->x[0], into the task's (h, c) */
__noinline int lstm_step_task(struct lb_model *m, const struct lb_act *a, struct scratch *s,
			      struct lb_task *tk)
{
	int H, j;

	if (!m || !a || !s || !tk)
		return 0;
	H = m->H;
	if (H < 1 || H > LB_H_MAX)
		return 0;
	bpf_for(j, 0, (H + 3) >> 2) {
		unit_task(m, a, s, tk, 4 * j);
		unit_task(m, a, s, tk, 4 * j + 1);
		unit_task(m, a, s, tk, 4 * j + 2);
		unit_task(m, a, s, tk, 4 * j + 3);
	}
	return 0;
}

/*
 * hw_pairs - the head's first layer, rows in pairs, on h into t->hw: h is
 * the task's own (h16, a stateful model's) or the scratch's widened one
 * (h64); the other is NULL, a constant where this is inlined
 */
static __always_inline void hw_pairs(const struct lb_model *m, struct lb_task *t,
				     const __s16 *h16, const __s64 *h64, int H, int M)
{
	/*
	 * four pairs at a time, each column of h loaded once for the four
	 * (plain loops: no call a step); the pairs past M / 2 in the last
	 * four are zero (pb1 and pw1h) and read by nothing
	 */
	for (int i = 0; i < LB_M_MAX / 2; i += 4) {
		__u64 pi = bound((__u64)i, 31);
		const __s64 *w = m->pw1h[pi];
		__s64 a0, a1, a2, a3;

		if (2 * i >= M)
			break;
		a0 = m->pb1[pi];
		a1 = m->pb1[pi + 1];
		a2 = m->pb1[pi + 2];
		a3 = m->pb1[pi + 3];
		for (int kc = 0; kc < LB_H_MAX; kc += 16) {
			if (kc >= H)
				break;
#pragma unroll
			for (int j = kc; j < kc + 16; j++) {
				__s64 hj = h16 ? h16[j] : h64[j];

				a0 += w[j] * hj;
				a1 += w[LB_H_MAX + j] * hj;
				a2 += w[2 * LB_H_MAX + j] * hj;
				a3 += w[3 * LB_H_MAX + j] * hj;
				in_order(a0);
				in_order(a1);
				in_order(a2);
				in_order(a3);
			}
		}
		t->hw[pi] = a0;
		t->hw[pi + 1] = a1;
		t->hw[pi + 2] = a2;
		t->hw[pi + 3] = a3;
	}
}

/*
 * fx_encode_raw from the task's window (padding first, oldest episode
 * first), or a stateful model's h of the task, then the window's part of
 * the head's first layer into t->hw
 */
__noinline int encode(struct lb_model *m, struct scratch *s, struct lb_task *t)
{
	__u32 zero = 0;
	const struct lb_act *a = bpf_map_lookup_elem(&act, &zero);
	int K, H, M, pad, i, j, cur = 0;

	if (!m || !s || !t)
		return 0;
	K = m->K;
	H = m->H;
	M = m->M;
	if (K < 1 || K > LB_K_MAX || H < 1 || H > LB_H_MAX || M < 1 || M > LB_M_MAX)
		return 0;
	if (m->stateful && m->hpair) {
		/* the paired rows straight from the task's h (enc_step() keeps it): no copy */
		hw_pairs(m, t, t->enc_h, NULL, H, M);
		return 0;
	}
	if (m->stateful) {	/* h is the task's, kept by enc_step() */
		for (j = 0; j < LB_H_MAX; j++)
			s->h[0][j] = t->enc_h[j];
		goto project;
	}
	pad = K - (int)t->ep_nr;
	/* plain loops (no call a step): encode is verified once, as a global function */
	for (i = 0; i < LB_K_MAX; i++) {
		__u32 slot;

		if (i >= K)
			break;
		if (i < pad) {
			for (j = 0; j < LB_E; j++)
				s->x[i][j] = norm_apply(m, j, 0);
			s->xcomb[i] = 0;	/* every flag 0 */
			continue;
		}
		slot = (t->ep_head - t->ep_nr + (__u32)(i - pad) + (__u32)K) % (__u32)K;
		slot = bound(slot, 15);	/* a no-op: slot < K <= LB_K_MAX = 16 */
		for (j = 0; j < LB_E; j++)
			s->x[i][j] = norm_apply(m, j, t->ep[slot][j]);
		s->xcomb[i] = ep_flags(t->ep[slot]);
	}
	__builtin_memset(s->h[0], 0, sizeof(s->h[0]));
	__builtin_memset(s->c[0], 0, sizeof(s->c[0]));
	bpf_for(i, 0, K) {
		if (m->pair && a)
			lstm_step_pair(m, a, s, bound(i, 15), cur);
		else
			lstm_step(m, s, bound(i, 15), cur);
		cur ^= 1;
	}
project:
	if (m->hpair) {
		hw_pairs(m, t, NULL, s->h[bound(cur, 1)], H, M);
		return 0;
	}
	bpf_for(i, 0, M) {
		int mi = bound(i, 63), hc = bound(cur, 1);
		__s64 acc = (__s64)m->b1[mi] * 4096;

		for (int kc = 0; kc < LB_H_MAX; kc += 16) {
			if (kc >= H)
				break;
#pragma unroll
			for (j = kc; j < kc + 16; j++)
				acc += m->w1h[mi][j] * s->h[hc][j];
		}
		t->hw[mi] = acc;
	}
	return 0;
}

/*
 * enc_step - a stateful model's step on the episode in t's ring slot:
 * (h, c) <- one LSTM step (the windowed encoder's, the same code) from the
 * task's state on that episode's normalised row
 */
__noinline int enc_step(struct lb_model *m, struct scratch *s, struct lb_task *t, __u32 slot)
{
	__u32 zero = 0;
	const struct lb_act *a = bpf_map_lookup_elem(&act, &zero);
	int j, H;

	if (!m || !s || !t || slot >= LB_K_MAX)
		return 0;
	H = m->H;
	if (m->pair && a) {
		/* the paired step reads the four features that are not flags
		   alone: the flags' terms come from xbin, by xcomb */
		s->x[0][1] = norm_apply(m, 1, t->ep[slot][1]);
		s->x[0][2] = norm_apply(m, 2, t->ep[slot][2]);
		s->x[0][5] = norm_apply(m, 5, t->ep[slot][5]);
		s->x[0][8] = norm_apply(m, 8, t->ep[slot][8]);
	} else {
		for (j = 0; j < LB_E; j++)
			s->x[0][j] = norm_apply(m, j, t->ep[slot][j]);
	}
	s->xcomb[0] = ep_flags(t->ep[slot]);
	/* of h the units the step reads alone (REC_SWITCH's groups of four) */
	for (j = 0; j < LB_H_MAX; j += 4) {
		if (j >= 4 * rec_g4)
			break;
#pragma unroll
		for (int u = j; u < j + 4; u++)
			s->h[0][u] = t->enc_h[u];
	}
	if (m->pair && a) {
		/* each unit's (h, c) straight into the task's record */
		lstm_step_task(m, a, s, t);
		return 0;
	}
	/*
	 * lstm_step: the first H units' c in, in fours (a unit past H stays 0:
	 * zero weights, its c from 0), then (h, c) out
	 */
	for (j = 0; j < LB_H_MAX; j += 4) {
		if (j >= H)
			break;
#pragma unroll
		for (int u = j; u < j + 4; u++)
			s->c[0][u] = t->enc_c[u];
	}
	lstm_step(m, s, 0, 0);
	for (j = 0; j < LB_H_MAX; j += 4) {
		if (j >= H)
			break;
#pragma unroll
		for (int u = j; u < j + 4; u++) {
			t->enc_h[u] = (__s16)s->h[1][u];
			t->enc_c[u] = s->c[1][u];
		}
	}
	return 0;
}

/* relu - max(v, 0) without a branch (the head's loops: fewer paths to verify) */
static __always_inline __s64 relu(__s64 v)
{
	return v & ~(v >> 63);
}

/*
 * relu_sat - relu(sat16(rshift_round(v, 12))), that is min(max(x, 0), 32767)
 * of x = rshift_round(v, 12): the lower clamp of sat16 is then moot (no
 * clamp at -32768, no 16-bit cast)
 */
static __always_inline __s64 relu_sat(__s64 v)
{
	__s64 x = relu(rshift_round(v, 12)), hi = x - 32767;

	return x - (hi & ~(hi >> 63));
}

/*
 * fx_score_raw + fx_head_forward: the score of the task's window (t->hw, the
 * encoder's share of the first layer) joined with its state features; the
 * flags' terms from the model's table of their combinations (lb_model's
 * hbin), the other six features multiplied here
 */
__noinline int head(struct lb_model *m, const struct lb_task *t, struct scratch *s)
{
	int H, M, mi, comb;
	__s64 score, sc, z0, z1, z3, z4, z5, z10;

	if (!m || !t || !s)
		return 0;
	H = m->H;
	M = m->M;
	if (H < 1 || H > LB_H_MAX || M < 0 || M > LB_M_MAX)
		return 0;
	/*
	 * LB_S_FLAGS: st[2], st[6], st[7], st[8], st[9], st[11], each 0 or ONE
	 * (bit 8), taken without a branch (each would double the paths the
	 * verifier walks through the rows' loop)
	 */
	comb = flag(s->st[2]) | flag(s->st[6]) << 1 | flag(s->st[7]) << 2 |
	       flag(s->st[8]) << 3 | flag(s->st[9]) << 4 | flag(s->st[11]) << 5;
	comb = bound(comb, 63);
	z0 = norm_apply(m, LB_E + 0, s->st[0]);
	z1 = norm_apply(m, LB_E + 1, s->st[1]);
	z3 = norm_apply(m, LB_E + 3, s->st[3]);
	z4 = norm_apply(m, LB_E + 4, s->st[4]);
	z5 = norm_apply(m, LB_E + 5, s->st[5]);
	z10 = norm_apply(m, LB_E + 10, s->st[10]);
	score = m->hlin[comb];
	if (m->hpair) {
		for (mi = 0; mi < LB_M_MAX / 2; mi++) {	/* rows 2 mi and 2 mi + 1 */
			const __s64 *w = m->pw1s[mi];
			__s64 acc, a, b, pa, pb;

			if (2 * mi >= M)
				break;
			acc = t->hw[mi] + m->hbin[comb][mi] + w[0] * z0 + w[1] * z1 + w[3] * z3 +
			      w[4] * z4 + w[5] * z5 + w[10] * z10;
			a = lane_lo(acc);
			b = (acc - a) >> 32;
			pa = relu_sat(a);
			pb = relu_sat(b);
			score += (__s32)m->w2[2 * mi] * pa + (__s32)m->w2[2 * mi + 1] * pb;
		}
		goto linear;
	}
	for (mi = 0; mi < LB_M_MAX; mi++) {	/* no call a step */
		const __s64 *w = m->w1s[mi];
		__s64 acc, pre;

		if (mi >= M)
			break;
		/* b1 and the H columns from the encoder (t->hw), the flags from hbin */
		acc = t->hw[mi] + m->hbin[comb][mi] + w[0] * z0 + w[1] * z1 + w[3] * z3 +
		      w[4] * z4 + w[5] * z5 + w[10] * z10;
		pre = relu_sat(acc);
		score += (__s32)m->w2[mi] * pre;
	}
linear:
	/* the linear path, in the same Q.24 sum (model/lstm-fixed.c fx_head_forward) */
	score += (__s32)m->wl[0] * z0 + (__s32)m->wl[1] * z1 + (__s32)m->wl[3] * z3 +
		 (__s32)m->wl[4] * z4 + (__s32)m->wl[5] * z5 + (__s32)m->wl[10] * z10;
	sc = rshift_round(score, 12);
	return (__s32)(sc > SCORE_MAX ? SCORE_MAX : sc < -SCORE_MAX ? -SCORE_MAX : sc);
}

/* ---- the runqueue model (features/runqueue.c) ------------------------------------ */

static __always_inline struct lb_counters *ctrs(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline struct lb_cpu *cpu_get(__s32 cpu)
{
	__u32 c = (__u32)cpu;

	if (cpu < 0 || cpu >= LB_MAX_CPUS)
		return NULL;
	return bpf_map_lookup_elem(&cpus, &c);
}

/* the lock of each CPU's queue (its own map: a global function may not see a lock) */
struct qlock {
	struct bpf_spin_lock lock;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_CPUS);
	__type(key, __u32);
	__type(value, struct qlock);
} qlocks SEC(".maps");

static __always_inline struct qlock *qlock_get(__s32 cpu)
{
	__u32 c = (__u32)cpu;

	if (cpu < 0 || cpu >= LB_MAX_CPUS)
		return NULL;
	return bpf_map_lookup_elem(&qlocks, &c);
}

static __always_inline struct lb_task *task_find(__s32 pid)
{
	return bpf_map_lookup_elem(&tasks, &pid);
}

/*
 * foreign_begin - before a handler on cpu takes its ring slot: when the
 * task pid is queued on another CPU in the program's state (its record
 * changes here: it runs or exits on cpu), mark that CPU's queue busy (see
 * struct lb_cpu).  Returns that CPU for foreign_end(), or -1.
 */
static __always_inline __s32 foreign_of(struct lb_task *t, __s32 cpu)
{
	struct lb_cpu *o;
	__s32 other;

	if (!t || t->st != LB_QUEUED)
		return -1;
	other = t->cpu;
	if (other == cpu)
		return -1;
	o = cpu_get(other);
	if (!o)
		return -1;
	__sync_fetch_and_add(&o->mig_busy, 1);
	__sync_fetch_and_add(&o->mig_gen, 1);
	return other;
}

static __always_inline __s32 foreign_begin(__s32 pid, __s32 cpu)
{
	return foreign_of(pid > 0 ? task_find(pid) : NULL, cpu);
}

/* foreign_end - after the handler's ring slot and its changes */
static __always_inline void foreign_end(__s32 other)
{
	struct lb_cpu *o = other >= 0 ? cpu_get(other) : NULL;

	if (!o)
		return;
	__sync_fetch_and_add(&o->mig_gen, 1);
	__sync_fetch_and_add(&o->mig_busy, -1);
}

/* task_new - a record for pid, from the template (task_get()'s slow path) */
static __noinline struct lb_task *task_new(__s32 pid, __s32 prio)
{
	struct lb_task *tmpl, *t;
	__u32 zero = 0;

	tmpl = bpf_map_lookup_elem(&task_tmpl, &zero);
	if (!tmpl)
		return NULL;
	if (bpf_map_update_elem(&tasks, &pid, tmpl, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&tasks, &pid)) {
		struct lb_counters *n = ctrs();

		__sync_fetch_and_or(&lost_flags, LB_UNC_TASKS_FULL);
		if (n)
			n->tasks_full++;
		return NULL;
	}
	t = bpf_map_lookup_elem(&tasks, &pid);
	if (!t)
		return NULL;
	t->pid = pid;
	if (prio >= 0)
		t->prio = prio;
	return t;
}

/* task_get - pid's record, made if it has none (prio >= 0: its new prio); inline but for that */
static __always_inline struct lb_task *task_get(__s32 pid, __s32 prio)
{
	struct lb_task *t = bpf_map_lookup_elem(&tasks, &pid);

	if (!t)
		return task_new(pid, prio);
	if (prio >= 0)
		t->prio = prio;
	return t;
}

/*
 * A CPU's queue changes under its lock: the kernel serialises most writers
 * with that CPU's runqueue lock, but a migration from another CPU holds
 * only the source's.  No helper may run under a BPF spin lock, hence the
 * search by pid (queues are short) instead of an index kept in the task.
 */
static __always_inline void queue_del(__s32 cpu, __s32 pid)
{
	struct lb_cpu *c = cpu_get(cpu);
	struct qlock *lk = qlock_get(cpu);
	__u32 nq;
	int i;

	if (!c || !lk)
		return;
	bpf_spin_lock(&lk->lock);
	nq = c->nq;
	if (nq > LB_QMAX)
		nq = LB_QMAX;
	for (i = 0; i < LB_QMAX; i++) {
		if (i >= (int)nq)
			break;
		if (c->q[i] == pid) {
			c->q[i] = c->q[(nq - 1) & (LB_QMAX - 1)];
			c->qts[i] = c->qts[(nq - 1) & (LB_QMAX - 1)];
			c->nq = nq - 1;
			break;
		}
	}
	bpf_spin_unlock(&lk->lock);
}

/* queue_add - 0, or -1 when the queue is full */
static __always_inline int queue_add(__s32 cpu, __s32 pid, __u64 ts)
{
	struct lb_cpu *c = cpu_get(cpu);
	struct qlock *lk = qlock_get(cpu);
	int ret = -1;
	__u32 nq;

	if (!c || !lk)
		return -1;
	bpf_spin_lock(&lk->lock);
	nq = c->nq;
	if (nq < LB_QMAX) {
		c->q[nq & (LB_QMAX - 1)] = pid;
		c->qts[nq & (LB_QMAX - 1)] = ts;
		c->nq = nq + 1;
		ret = 0;
	}
	bpf_spin_unlock(&lk->lock);
	return ret;
}

__noinline int dequeue_queued(struct lb_task *t)
{
	if (!t || t->st != LB_QUEUED)
		return 0;
	t->st = LB_UNKNOWN;
	queue_del(t->cpu, t->pid);
	return 0;
}

/* dequeue - t off its CPU's queue if it is queued (the call only then: most are not) */
static __always_inline void dequeue(struct lb_task *t)
{
	if (t && t->st == LB_QUEUED)
		dequeue_queued(t);
}

__noinline int enqueue(struct lb_task *t, __s32 cpu, __u64 ts)
{
	__u8 st;
	__s32 old_cpu;
	__u64 old_ts;

	if (!t)
		return 0;
	dequeue(t);
	/*
	 * The record first, then the queue entry: a decision on another CPU
	 * that sees the entry sees the task queued there (queued_on()).
	 */
	st = t->st;
	old_cpu = t->cpu;
	old_ts = t->queued_ts;
	t->st = LB_QUEUED;
	t->cpu = cpu;
	t->queued_ts = ts;
	if (queue_add(cpu, t->pid, ts)) {
		struct lb_counters *n = ctrs();

		t->st = st;
		t->cpu = old_cpu;
		t->queued_ts = old_ts;
		__sync_fetch_and_or(&lost_flags, LB_UNC_QUEUE_FULL);
		if (n)
			n->queue_full++;
	}
	return 0;
}

__noinline int task_free(struct lb_task *t)
{
	struct lb_cpu *c;
	__s32 pid;

	if (!t)
		return 0;
	pid = t->pid;
	dequeue(t);
	if (t->st == LB_RUNNING) {
		c = cpu_get(t->cpu);
		if (c && c->curr == pid)
			c->curr = -1;
	}
	bpf_map_delete_elem(&tasks, &pid);
	return 0;
}

/*
 * task_known - task_get(pid, prio) from a record the handler looked up
 * already (known, or NULL): the same record while it still holds pid (it
 * may have been freed and reused meanwhile by another CPU), one map lookup
 * fewer
 */
static __always_inline struct lb_task *task_known(struct lb_task *known, __s32 pid, __s32 prio)
{
	if (!known || known->pid != pid)
		return task_get(pid, prio);
	if (prio >= 0)
		known->prio = prio;
	return known;
}

/* switch_in - pid goes on cpu at ts (known: its record, or NULL) */
__noinline int switch_in(__s32 cpu, __s32 pid, __s32 prio, __u64 ts, struct lb_task *known)
{
	struct lb_cpu *c = cpu_get(cpu), *o;
	struct lb_task *t;

	if (!c)
		return 0;
	c->curr = pid;
	if (pid == 0) {
		c->idle_since = ts;
		return 0;
	}
	t = task_known(known, pid, prio);
	if (!t)
		return 0;
	if (t->st == LB_RUNNING && t->cpu != cpu) {
		o = cpu_get(t->cpu);
		if (o && o->curr == pid)
			o->curr = -1;
	}
	__builtin_memset(&t->cur, 0, sizeof(t->cur));
	t->cur_valid = t->st == LB_QUEUED;
	if (t->cur_valid) {
		t->cur.wait_ns = ts > t->wait_ts ? ts - t->wait_ts : 0;
		t->cur.sleep_ns = t->sleep_ns;
		t->cur.wait_kind = t->wait_kind;
	}
	t->cur.prio = t->prio;
	t->cur.cpu_changed = t->has_run && t->last_cpu != cpu;
	dequeue(t);
	t->st = LB_RUNNING;
	t->cpu = cpu;
	t->run_ts = ts;
	return 0;
}

/* feat_episode_features into the ring: the window changed, its encoding is due */
__noinline int add_episode(struct lb_task *t, __u64 burst_ns, int runnable,
				   int blocked)
{
	__u32 zero = 0, K, head;
	struct lb_model *m = bpf_map_lookup_elem(&model, &zero);
	__s16 *f;

	if (!t || !m)
		return 0;
	K = (__u32)m->K;
	if (K < 1 || K > LB_K_MAX)
		return 0;
	head = t->ep_head;
	if (head >= LB_K_MAX)
		return 0;
	f = t->ep[bound(head, 15)];
	f[0] = ONE;
	f[1] = log2us(m, burst_ns);
	f[2] = log2us(m, t->cur.wait_ns);
	f[3] = (t->cur.wait_kind == LB_FW_WOKEN || t->cur.wait_kind == LB_FW_NEW) ? ONE : 0;
	f[4] = t->cur.wait_kind == LB_FW_PREEMPTED ? ONE : 0;
	f[5] = log2us(m, t->cur.sleep_ns);
	f[6] = runnable ? ONE : 0;
	f[7] = blocked ? ONE : 0;
	f[8] = prio_feat(t->cur.prio);
	f[9] = t->cur.cpu_changed ? ONE : 0;
	t->ep_head = (head + 1) % K;
	if (t->ep_nr < K)
		t->ep_nr++;
	if (m->stateful && m->M > 0) {	/* the step before the generation: see lb_task's hw */
		struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);
		struct lb_counters *n = ctrs();
		__u64 t0 = time_parts ? bpf_ktime_get_ns() : 0;

		if (sc)
			enc_step(m, sc, t, bound(head, 15));
		if (n) {
			n->steps++;
			if (time_parts)
				n->step_ns += bpf_ktime_get_ns() - t0;
		}
	}
	__sync_fetch_and_add(&t->ep_gen, 1);	/* hw is due (M = 0: no score reads it) */
	return 0;
}

/* switch_out - t's task (task_get()'s record, NULL: none) leaves cpu at ts in state */
__noinline int switch_out(__s32 cpu, __s64 state, __u64 ts, struct lb_task *t)
{
	int was_running, dead, runnable;

	if (!t)
		return 0;
	was_running = t->st == LB_RUNNING && t->cpu == cpu;
	dead = t->exiting || (state >= 0 && (state & (0x10 | 0x20)));
	runnable = state >= 0 && (state & 0xff) == 0 && !dead;
	dequeue(t);
	if (was_running) {
		add_run(t, t->run_ts, ts);
		if (t->cur_valid && state >= 0)
			add_episode(t, ts > t->run_ts ? ts - t->run_ts : 0, runnable,
				    (state & 0x2) && !dead);
	}
	t->cur_valid = 0;
	if (was_running || state >= 0) {
		t->has_run = 1;
		t->out_ts = ts;
		t->last_cpu = cpu;
	}
	if (dead) {
		task_free(t);
		return 0;
	}
	if (runnable) {
		enqueue(t, cpu, ts);
		t->wait_ts = ts;
		t->wait_kind = LB_FW_PREEMPTED;
		t->sleep_ns = 0;
	} else if (state >= 0) {
		t->st = LB_SLEEPING;
	} else {
		t->st = LB_UNKNOWN;
	}
	return 0;
}

/* repair: make the state agree that `who` is on cpu at ts */
__noinline int repair(__s32 cpu, __s32 who, __u64 ts)
{
	struct lb_cpu *c = cpu_get(cpu);
	struct lb_task *t = NULL;
	__u64 t_in = ts;
	int known_start = 0;

	if (!c || who < 0 || c->curr == who)
		return 0;
	if (c->curr < 0) {
		t = who ? task_find(who) : NULL;
		if (t && t->st == LB_RUNNING && t->cpu == cpu) {
			c->curr = who;
			return 0;
		}
	} else {
		struct lb_counters *n = ctrs();
		__s32 curr = c->curr;

		if (n)
			n->inferred_switches++;
		if (curr > 0)
			switch_out(cpu, -1, ts, task_get(curr, -1));
		t = who > 0 ? task_find(who) : NULL;
		if (t && curr == 0 && t->st == LB_QUEUED && t->cpu == cpu) {
			t_in = t->queued_ts > c->idle_since ? t->queued_ts : c->idle_since;
			known_start = 1;
		}
	}
	switch_in(cpu, who, -1, t_in, NULL);
	if (who > 0 && !known_start) {
		t = task_find(who);
		if (t)
			t->cur_valid = 0;
	}
	return 0;
}

struct wake_args {
	__u64 ts;
	__s32 common_pid, pid, prio, target, kind, type;
};

static __always_inline int wakeup(const struct wake_args *a)
{
	struct lb_task *t;
	__s32 common_pid, pid, prio, target, kind, type;
	__u64 ts;

	if (!a)
		return 0;
	common_pid = a->common_pid;
	pid = a->pid;
	prio = a->prio;
	target = a->target;
	kind = a->kind;
	type = a->type;
	ts = a->ts;

	if (pid <= 0 || target < 0 || target >= LB_MAX_CPUS)
		return 0;
	t = task_get(pid, prio);
	if (!t || t->st == LB_RUNNING || t->st == LB_QUEUED)
		return 0;
	t->sleep_ns = t->st == LB_SLEEPING && t->has_run && ts > t->out_ts ? ts - t->out_ts : 0;
	enqueue(t, target, ts);
	t->wait_ts = ts;
	t->wait_kind = (__u8)kind;
	if (!t->waker_set || type == LB_EV_WAKING || kind == LB_FW_NEW)
		t->waker = common_pid;
	t->waker_set = 0;
	return 0;
}

/* ---- decisions ------------------------------------------------------------------ */

/*
 * The rankings of ana_top3 (model) and ana_online_rank (baselines): a key,
 * then the queue order (queued_ts, pid) or the tie rule (pid).  A top-3
 * with pid -1 in the empty places.  Inlined into cand_rank (a global
 * function, verified once): a call per candidate and ranking cost more
 * than the code.
 */
static __always_inline void rank_put(struct rank *r, int at, __s32 pid, __s32 score, __u64 k1,
				     __u64 k2)
{
	if (at == 0) {
		r->pid[2] = r->pid[1]; r->score[2] = r->score[1];
		r->k1[2] = r->k1[1]; r->k2[2] = r->k2[1];
		r->pid[1] = r->pid[0]; r->score[1] = r->score[0];
		r->k1[1] = r->k1[0]; r->k2[1] = r->k2[0];
		r->pid[0] = pid; r->score[0] = score; r->k1[0] = k1; r->k2[0] = k2;
	} else if (at == 1) {
		r->pid[2] = r->pid[1]; r->score[2] = r->score[1];
		r->k1[2] = r->k1[1]; r->k2[2] = r->k2[1];
		r->pid[1] = pid; r->score[1] = score; r->k1[1] = k1; r->k2[1] = k2;
	} else if (at == 2) {
		r->pid[2] = pid; r->score[2] = score; r->k1[2] = k1; r->k2[2] = k2;
	}
}

/* model: score high, then queued_ts low, then pid low */
static __always_inline int rank_model(struct rank *r, __s32 pid, __s32 score, __u64 qts)
{
	int at;

	if (!r)
		return 0;
	for (at = 0; at < 3; at++) {
		if (r->pid[at] < 0)
			break;
		if (score != r->score[at] ? score > r->score[at] :
		    qts != r->k1[at] ? qts < r->k1[at] : pid < r->pid[at])
			break;
	}
	rank_put(r, at, pid, score, qts, 0);
	return 0;
}

/* longest-queued: queued_ns high, then pid low */
static __always_inline int rank_lq(struct rank *r, __s32 pid, __u64 queued)
{
	int at;

	if (!r)
		return 0;
	for (at = 0; at < 3; at++) {
		if (r->pid[at] < 0)
			break;
		if (queued != r->k1[at] ? queued > r->k1[at] : pid < r->pid[at])
			break;
	}
	rank_put(r, at, pid, 0, queued, 0);
	return 0;
}

/* least-recently-run: since_ran high, then queued_ns high, then pid low */
static __always_inline int rank_lrr(struct rank *r, __s32 pid, __u64 queued, __u64 since)
{
	int at;

	if (!r)
		return 0;
	for (at = 0; at < 3; at++) {
		if (r->pid[at] < 0)
			break;
		if (since != r->k2[at] ? since > r->k2[at] :
		    queued != r->k1[at] ? queued > r->k1[at] : pid < r->pid[at])
			break;
	}
	rank_put(r, at, pid, 0, queued, since);
	return 0;
}

static __always_inline void rank_reset(struct rank *r)
{
	for (int i = 0; i < 3; i++)
		r->pid[i] = -1;
}

static __always_inline void hits(__u64 *ctr, const struct rank *r, __s32 next, int contested)
{
	int h1 = r->pid[0] == next;
	int h3 = h1 || r->pid[1] == next || r->pid[2] == next;

	ctr[0] += h1;
	ctr[1] += h3;
	if (contested) {
		ctr[2] += h1;
		ctr[3] += h3;
	}
}

/* feat_fill_state into s->st */
static __always_inline void fill_state(struct lb_model *m, struct scratch *sc,
				       const struct lb_task *t, int oldest)
{
	__u64 queued, since, short_ns, long_ns, now = sc->d.now;
	__s32 cpu = sc->d.cpu, prev_pid = sc->d.prev_pid;
	__s16 *s = sc->st;
	int woken;

	queued = now > t->queued_ts ? now - t->queued_ts : 0;
	since = now > t->out_ts ? now - t->out_ts : 0;
	cpu_times(t, now, sc);
	short_ns = sc->d.short_ns;
	long_ns = sc->d.long_ns;
	woken = t->wait_kind == LB_FW_WOKEN || t->wait_kind == LB_FW_NEW;
	s[0] = log2us(m, queued);
	s[1] = t->has_run ? log2us(m, since) : 0;
	s[2] = t->has_run ? 0 : ONE;
	s[3] = share_short(short_ns);
	s[4] = share_long(long_ns);
	s[5] = prio_feat(t->prio);
	s[6] = (t->waker >= 0 && t->waker == prev_pid && woken) ? ONE : 0;
	s[7] = (t->has_run && t->last_cpu == cpu) ? ONE : 0;
	s[8] = woken ? ONE : 0;
	s[9] = t->wait_kind == LB_FW_PREEMPTED ? ONE : 0;
	s[10] = log2us(m, t->sleep_ns);
	s[11] = oldest ? ONE : 0;
}

/*
 * The candidate loops of a decision.  Their bodies are global functions
 * and what they accumulate lives in the scratch map: the verifier then
 * checks each body once instead of once per iteration.
 */

/*
 * A queue entry whose task is not queued on that CPU: left behind by
 * updates the kernel does not serialise (a task's record changed by two
 * CPUs at once, a record freed and reused under another CPU's pointer).
 * userspace's queues never hold one; the decision leaves it out and says
 * it was not comparable (LB_UNC_STALE), and queue_purge() removes it.
 */
static __always_inline int queued_on(const struct lb_task *t, __s32 cpu)
{
	return t->st == LB_QUEUED && t->cpu == cpu;
}

/* queue_purge - drop the stale entries of cpu's queue, from the end */
__noinline int queue_purge(__s32 cpu)
{
	struct lb_cpu *c = cpu_get(cpu);
	struct qlock *lk = qlock_get(cpu);
	__u32 nq0;
	int j;

	if (!c || !lk)
		return 0;
	nq0 = c->nq;
	if (nq0 > LB_QMAX)
		nq0 = LB_QMAX;
	bpf_for(j, 0, LB_QMAX) {
		struct lb_task *t;
		__s32 pid;
		__u32 i, nq;

		if (j >= (int)nq0)
			break;
		i = bound(nq0 - 1 - (__u32)j, 511);
		pid = c->q[i];
		t = task_find(pid);
		if (t && queued_on(t, cpu))
			continue;
		/* the entries after i are checked: one of them takes its place */
		bpf_spin_lock(&lk->lock);
		nq = c->nq;
		if (i < nq && nq <= LB_QMAX && c->q[i] == pid) {
			c->q[i] = c->q[(nq - 1) & (LB_QMAX - 1)];
			c->qts[i] = c->qts[(nq - 1) & (LB_QMAX - 1)];
			c->nq = nq - 1;
		}
		bpf_spin_unlock(&lk->lock);
	}
	return 0;
}

/* pass 1, candidate slot i: count, find the label and the oldest */
__noinline int cand_scan(struct scratch *sc, const struct lb_cpu *c, int i)
{
	struct lb_task *t;
	__s32 pid;

	if (!sc || !c || i < 0 || i >= LB_QMAX)
		return 0;
	pid = c->q[i];
	if (pid == sc->d.prev_pid)
		return 0;
	t = task_find(pid);
	if (!t)
		return 0;
	if (!queued_on(t, sc->d.cpu)) {
		sc->d.stale++;
		return 0;
	}
	sc->d.nc++;
	sc->d.cand_sum += pid;
	if (pid == sc->d.next_pid)
		sc->d.covered = 1;
	if (t->queued_ts < sc->d.old_qts ||
	    (t->queued_ts == sc->d.old_qts && pid < sc->d.old_pid)) {
		sc->d.old_qts = t->queued_ts;
		sc->d.old_pid = pid;
	}
	return 0;
}

/* pass 2, candidate slot i: features, score, the three rankings */
__noinline int cand_rank(struct lb_model *m, struct scratch *sc, const struct lb_cpu *c,
			 struct lb_counters *n, int i)
{
	struct lb_task *t;
	__u64 queued, since, now;
	__s32 pid, score = 0;

	if (!m || !sc || !c || !n || i < 0 || i >= LB_QMAX)
		return 0;
	now = sc->d.now;
	pid = c->q[i];
	if (pid == sc->d.prev_pid)
		return 0;
	if (sc->d.redo)
		return 0;
	t = task_find(pid);
	if (sc->d.fast && (!t || !queued_on(t, sc->d.cpu) || t->queued_ts != c->qts[i])) {
		sc->d.redo = 1;	/* the first pass counted an entry cand_scan() leaves out */
		return 0;
	}
	if (!t || !queued_on(t, sc->d.cpu))
		return 0;
	queued = now > t->queued_ts ? now - t->queued_ts : 0;
	since = t->has_run ? (now > t->out_ts ? now - t->out_ts : 0) : ~0ULL;
	if (sc->d.nc >= 2) {
		/* a plain load: a generation compared, nothing ordered by it */
		__u32 gen = *(volatile __u32 *)&t->ep_gen;

		if (t->hw_gen != gen && m->M > 0) {
			__u64 t0 = time_parts ? bpf_ktime_get_ns() : 0;

			encode(m, sc, t);
			t->hw_gen = gen;
			n->encodes++;
			if (time_parts)
				n->encode_ns += bpf_ktime_get_ns() - t0;
		}
		fill_state(m, sc, t, pid == sc->d.old_pid);
		score = head(m, t, sc);
		n->scored_cands++;
	}
	rank_model(&sc->model, pid, score, t->queued_ts);
	rank_lq(&sc->lq, pid, queued);
	rank_lrr(&sc->lrr, pid, queued, since);
	return 0;
}

/* the queue entries a decision reads in plain loops before bpf_for's */
#define LB_QFAST 8

/* decide()'s first pass, entry i (< LB_QMAX): the queue alone (each entry's queued_ts) */
static __always_inline void scan_queued(struct scratch *s, const struct lb_cpu *c, int i,
					__s32 prev_pid, __s32 next_pid)
{
	__s32 pid = c->q[i];
	__u64 qts = c->qts[i];

	if (pid == prev_pid)
		return;
	s->d.nc++;
	s->d.cand_sum += pid;
	if (pid == next_pid)
		s->d.covered = 1;
	if (qts < s->d.old_qts || (qts == s->d.old_qts && pid < s->d.old_pid)) {
		s->d.old_qts = qts;
		s->d.old_pid = pid;
	}
}

/*
 * feat_decision + the model + the baselines: the switch on cpu from prev_pid
 * to next_pid at now, before it is applied.  Returns the model's pick (-1:
 * none); out gets the number of candidates and the uncovered reasons.
 */
__noinline int decide(__s32 cpu, __s32 prev_pid, __s32 next_pid, __u64 now,
		      struct decide_out *out)
{
	__u32 zero = 0;
	struct lb_cpu *c = cpu_get(cpu);
	struct lb_model *m = bpf_map_lookup_elem(&model, &zero);
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	struct lb_counters *n = ctrs();
	int i, nc, covered, contested;
	__u32 nq;

	if (!c || !m || !s || !n || !out)
		return -1;
	n->decisions++;
	out->unc = (__u32)lost_flags;
	if (out->unc) {
		if (out->unc & LB_UNC_TASKS_FULL)
			n->unc_tasks_full++;
		if (out->unc & LB_UNC_QUEUE_FULL)
			n->unc_queue_full++;
		if (out->unc & LB_UNC_RING)
			n->unc_ring++;
	}
	if (c->curr >= 0)
		prev_pid = c->curr;
	nq = c->nq;
	if (nq > LB_QMAX)
		nq = LB_QMAX;
	s->d.cpu = cpu;
	s->d.prev_pid = prev_pid;
	s->d.next_pid = next_pid;
	s->d.now = now;
	cpu_windows(s, now);
	s->d.nc = 0;
	s->d.covered = 0;
	s->d.old_qts = ~0ULL;
	s->d.old_pid = -1;
	s->d.stale = 0;
	s->d.cand_sum = 0;
	/*
	 * The first pass from the queue alone (its pids and their queued_ts):
	 * what cand_scan() finds when every entry's task is queued here,
	 * with that queued_ts, which the second pass checks.  Where one is
	 * not (a stale entry, rare), both passes run again the slow way (the
	 * counters of scored candidates and encoder runs then count the
	 * first try's too; the decision's figures are the slow way's).
	 */
	s->d.fast = 1;
	s->d.redo = 0;
	/*
	 * The first LB_QFAST entries in plain bounded loops (no kfunc call a
	 * step, as bpf_for's iterator makes), the rest, rare, in bpf_for
	 */
	for (i = 0; i < LB_QFAST; i++) {
		if (i >= (int)nq)
			break;
		scan_queued(s, c, i, prev_pid, next_pid);
	}
	if (nq > LB_QFAST) {
		bpf_for(i, LB_QFAST, LB_QMAX) {
			if (i >= (int)nq)
				break;
			scan_queued(s, c, bound(i, 511), prev_pid, next_pid);
		}
	}
	rank_reset(&s->model);
	rank_reset(&s->lq);
	rank_reset(&s->lrr);
	for (i = 0; i < LB_QFAST; i++) {
		if (i >= (int)nq)
			break;
		cand_rank(m, s, c, n, i);
	}
	if (nq > LB_QFAST) {
		bpf_for(i, LB_QFAST, LB_QMAX) {
			if (i >= (int)nq)
				break;
			cand_rank(m, s, c, n, i);
		}
	}
	if (s->d.redo) {
		s->d.fast = 0;
		s->d.nc = 0;
		s->d.covered = 0;
		s->d.old_qts = ~0ULL;
		s->d.old_pid = -1;
		s->d.cand_sum = 0;
		bpf_for(i, 0, LB_QMAX) {
			if (i >= (int)nq)
				break;
			cand_scan(s, c, i);
		}
		rank_reset(&s->model);
		rank_reset(&s->lq);
		rank_reset(&s->lrr);
		bpf_for(i, 0, LB_QMAX) {
			if (i >= (int)nq)
				break;
			cand_rank(m, s, c, n, i);
		}
	}
	nc = s->d.nc;
	covered = s->d.covered;
	contested = nc >= 2;
	out->ncand = nc;
	out->cand_sum = s->d.cand_sum;
	if (s->d.stale) {
		out->unc |= LB_UNC_STALE;
		n->unc_stale++;
		n->stale_cands += (__u32)s->d.stale;
		queue_purge(cpu);
	}
	if (out->unc)
		n->uncovered++;
	n->covered += covered;
	n->contested += contested;
	n->contested_covered += contested && covered;
	if (nc >= 1) {
		__u64 p, p3;

		if (nc <= LB_QMAX) {	/* the loader's quotients, two divisions fewer */
			p = m->chance_q32[nc][0];
			p3 = m->chance_q32[nc][1];
		} else {
			p = (1ULL << 32) / (__u64)nc;
			p3 = (nc < 3 ? (__u64)nc : 3) * (1ULL << 32) / (__u64)nc;
		}

		n->chance_q32 += p;
		if (contested)
			n->chance_c_q32 += p;
		if (covered) {
			n->rnd1_q32 += p;
			n->rnd3_q32 += p3;
			if (contested) {
				n->rnd1c_q32 += p;
				n->rnd3c_q32 += p3;
			}
		}
	}
	if (covered) {
		hits(n->model, &s->model, next_pid, contested);
		hits(n->lq, &s->lq, next_pid, contested);
		hits(n->lrr, &s->lrr, next_pid, contested);
	}
	return s->model.pid[0];
}

/* ---- the tracepoints ------------------------------------------------------------ */

static __always_inline struct lb_event *ev_begin(int type, __u64 ts, __s32 cpu, __s32 common_pid)
{
	struct lb_event *e;

	if (!check_mode)
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		struct lb_counters *n = ctrs();

		/* userspace's replay misses this event: no later decision compares */
		__sync_fetch_and_or(&lost_flags, LB_UNC_RING);
		if (n)
			n->ring_drops++;
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts = ts;
	e->type = (__u8)type;
	e->cpu = cpu;
	e->common_pid = common_pid;
	e->pid = e->prio = e->next_pid = e->next_prio = -1;
	e->target_cpu = e->dest_cpu = -1;
	e->state = -1;
	e->pred_pid = -1;
	e->ncand = -1;
	return e;
}

static __always_inline void count_event(void)
{
	struct lb_counters *n = ctrs();

	if (n)
		n->events++;
}

static __always_inline __s32 cur_pid(void)
{
	return (__s32)(bpf_get_current_pid_tgid() & 0xffffffff);
}

/* __trace_sched_switch_state: prev_state as the sched_switch event reports it */
static __always_inline __s64 report_state(bool preempt, unsigned int prev_state,
					  struct task_struct *p)
{
	unsigned int st;
	int idx;

	if (preempt)
		return 0x100;
	st = (prev_state | p->exit_state) & 0x7f;
	if ((prev_state & 0x402) == 0x402)
		st = 0x80;
	if ((prev_state & 0x1000) || (prev_state & 0x8000))
		st = 0x2;
	if (!st)
		return 0;
	idx = msb64(st) + 1;
	return 1LL << (idx - 1);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u64 ts = bpf_ktime_get_ns();
	__s32 cpu = (__s32)bpf_get_smp_processor_id();
	/* trusted BTF pointers: plain loads, no bpf_probe_read_kernel() call each */
	__s32 prev_pid = prev->pid, next_pid = next->pid;
	__s32 prev_prio = prev->prio, next_prio = next->prio;
	__s64 state = report_state(preempt, prev_state, prev);
	struct lb_cpu *self = cpu_get(cpu);
	/* read before the ring slot is taken: see struct lb_cpu's mig_gen */
	__u64 busy = self ? __sync_fetch_and_add(&self->mig_busy, 0) : 0;
	__u64 gen = self ? __sync_fetch_and_add(&self->mig_gen, 0) : 0;
	/* each record looked up once: by the checks for moves, then by the switch */
	struct lb_task *tprev = prev_pid > 0 ? task_find(prev_pid) : NULL;
	struct lb_task *tnext = next_pid > 0 ? task_find(next_pid) : NULL;
	__s32 fprev = foreign_of(tprev, cpu), fnext = foreign_of(tnext, cpu);
	struct lb_event *e = ev_begin(LB_EV_SWITCH, ts, cpu, prev_pid);
	struct decide_out d = { .ncand = -1 };
	__s32 pick = -1;

	count_event();
	if (cpu >= LB_MAX_CPUS) {
		__sync_fetch_and_or(&lost_flags, LB_UNC_CPU);
		goto out;
	}
	/* repair()'s first test inline: prev is nearly always the CPU's curr */
	if (self && prev_pid >= 0 && self->curr != prev_pid)
		repair(cpu, prev_pid, ts);
	if (next_pid > 0) {
		struct lb_counters *n = ctrs();
		__u64 enc0 = n ? n->encode_ns : 0;

		pick = decide(cpu, prev_pid, next_pid, ts, &d);
		n = ctrs();
		if (self && (busy || __sync_fetch_and_add(&self->mig_gen, 0) != gen)) {
			if (n) {
				n->unc_race++;
				if (!d.unc)
					n->uncovered++;
			}
			d.unc |= LB_UNC_RACE;
		}
		if (n && time_parts)	/* the encoder runs within, counted on its own */
			n->decide_ns += bpf_ktime_get_ns() - ts - (n->encode_ns - enc0);
	}
	if (prev_pid > 0)
		switch_out(cpu, state, ts, task_known(tprev, prev_pid, prev_prio));
	switch_in(cpu, next_pid, next_prio, ts, tnext);
out:
	if (e) {
		e->pid = prev_pid;
		e->prio = prev_prio;
		e->state = state;
		e->next_pid = next_pid;
		e->next_prio = next_prio;
		e->pred_pid = pick;
		e->ncand = d.ncand;
		e->cand_sum = d.cand_sum;
		e->uncovered = d.unc;
		BPF_CORE_READ_STR_INTO(&e->comm, prev, comm);
		BPF_CORE_READ_STR_INTO(&e->next_comm, next, comm);
		bpf_ringbuf_submit(e, 0);
	}
	foreign_end(fprev);
	foreign_end(fnext);
	return 0;
}

static __always_inline int on_wake(struct task_struct *p, int type, int kind)
{
	__s32 cpu = (__s32)bpf_get_smp_processor_id(), common = cur_pid();
	struct lb_cpu *self = cpu_get(cpu);
	/*
	 * common already on cpu in the program's state (nearly always): no
	 * repair, so this handler does not change common's record, and no
	 * other CPU's queue is to be marked for it (foreign_begin()); a
	 * waking event then needs no clock either
	 */
	int here = self && self->curr == common;
	__u64 ts = here && type == LB_EV_WAKING && !check_mode ? 0 : bpf_ktime_get_ns();
	__s32 pid = p->pid, prio = p->prio;
	__s32 target = (__s32)p->thread_info.cpu;
	__s32 fcommon = here ? -1 : foreign_begin(common, cpu);
	struct lb_event *e = ev_begin(type, ts, cpu, common);
	struct lb_task *t;

	count_event();
	if (cpu < LB_MAX_CPUS) {
		if (!here)
			repair(cpu, common, ts);
		if (type == LB_EV_WAKING) {
			if (pid > 0) {
				t = task_get(pid, prio);
				if (t) {
					t->waker = common;
					t->waker_set = 1;
				}
			}
		} else {
			struct wake_args a = { .ts = ts, .common_pid = common, .pid = pid,
					       .prio = prio, .target = target, .kind = kind,
					       .type = type };

			wakeup(&a);
		}
	}
	if (e) {
		e->pid = pid;
		e->prio = prio;
		e->target_cpu = target;
		BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
		bpf_ringbuf_submit(e, 0);
	}
	foreign_end(fcommon);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p)
{
	return on_wake(p, LB_EV_WAKEUP, LB_FW_WOKEN);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(on_wakeup_new, struct task_struct *p)
{
	return on_wake(p, LB_EV_WAKEUP_NEW, LB_FW_NEW);
}

SEC("tp_btf/sched_waking")
int BPF_PROG(on_waking, struct task_struct *p)
{
	return on_wake(p, LB_EV_WAKING, LB_FW_WOKEN);
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(on_migrate, struct task_struct *p, int dest_cpu)
{
	__u64 ts = bpf_ktime_get_ns();
	__s32 cpu = (__s32)bpf_get_smp_processor_id(), common = cur_pid();
	__s32 pid = p->pid, prio = p->prio;
	struct lb_cpu *dest = dest_cpu != cpu ? cpu_get(dest_cpu) : NULL;
	__s32 fcommon;
	struct lb_event *e;
	struct lb_task *t;

	if (dest) {	/* before the ring slot: see struct lb_cpu's mig_gen */
		__sync_fetch_and_add(&dest->mig_busy, 1);
		__sync_fetch_and_add(&dest->mig_gen, 1);
	}
	fcommon = foreign_begin(common, cpu);
	e = ev_begin(LB_EV_MIGRATE, ts, cpu, common);

	count_event();
	if (cpu < LB_MAX_CPUS) {
		repair(cpu, common, ts);
		if (pid > 0 && dest_cpu >= 0 && dest_cpu < LB_MAX_CPUS) {
			t = task_get(pid, prio);
			if (t) {
				if (t->st == LB_QUEUED && t->cpu != dest_cpu)
					enqueue(t, dest_cpu, ts);
				else if (t->st != LB_RUNNING && t->st != LB_QUEUED)
					t->cpu = dest_cpu;
			}
		}
	}
	if (e) {
		e->pid = pid;
		e->prio = prio;
		e->dest_cpu = dest_cpu;
		BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
		bpf_ringbuf_submit(e, 0);
	}
	foreign_end(fcommon);
	if (dest) {
		__sync_fetch_and_add(&dest->mig_gen, 1);
		__sync_fetch_and_add(&dest->mig_busy, -1);
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u64 ts = bpf_ktime_get_ns();
	__s32 cpu = (__s32)bpf_get_smp_processor_id(), common = cur_pid();
	__s32 pid = p->pid, prio = p->prio;
	__s32 fcommon, fpid;
	struct lb_event *e;
	struct lb_task *t;

	if (fault_verifier)
		return *(volatile int *)(long)ts;
	fcommon = foreign_begin(common, cpu);
	fpid = pid != common ? foreign_begin(pid, cpu) : -1;
	e = ev_begin(LB_EV_EXIT, ts, cpu, common);
	count_event();
	if (cpu < LB_MAX_CPUS) {
		repair(cpu, common, ts);
		if (pid > 0) {
			t = task_find(pid);
			if (t) {
				t->exiting = 1;
				if (t->st != LB_RUNNING)
					task_free(t);
			}
		}
	}
	if (e) {
		e->pid = pid;
		e->prio = prio;
		BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
		bpf_ringbuf_submit(e, 0);
	}
	foreign_end(fcommon);
	foreign_end(fpid);
	return 0;
}
