// SPDX-License-Identifier: GPL-2.0
/*
 * HTML rendering: one self-contained page (inline CSS, inline SVG, no
 * scripts, nothing fetched) with the report's tables and its plots: a
 * per-CPU timeline of who ran when, the wakeup-latency and preemption-delay
 * histograms, the scheduling-delay CDF per task class, utilisation and
 * runqueue length over time per CPU, and with a prediction section accuracy
 * over time, by candidate count and the model against every baseline, with
 * a glossary of the prediction terms beside the numbers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze-local.h"
#include "common/common.h"

#define W 640
#define H 280
#define ML 56	/* margins: left, right, top, bottom */
#define MR 150
#define MT 28
#define MB 40

static const char *const palette[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
};

static void esc(struct strbuf *out, const char *str)
{
	struct strbuf safe = STRBUF_INIT;

	strbuf_add_safe(&safe, str);
	for (const char *s = safe.buf; *s; s++) {
		switch (*s) {
		case '<': strbuf_addstr(out, "&lt;"); break;
		case '>': strbuf_addstr(out, "&gt;"); break;
		case '&': strbuf_addstr(out, "&amp;"); break;
		case '"': strbuf_addstr(out, "&quot;"); break;
		default: strbuf_addch(out, *s);
		}
	}
	strbuf_release(&safe);
}

struct series {
	const char *name;
	const double *x, *y;
	int n;
	int dashed;
};

struct axis {
	double lo, hi;
	int log;	/* base-10 log scale (lo, hi > 0) */
};

static double pos(const struct axis *a, double v, double from, double to)
{
	double t;

	if (a->log) {
		v = v < a->lo ? a->lo : v;
		t = (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
	} else {
		t = a->hi > a->lo ? (v - a->lo) / (a->hi - a->lo) : 0;
	}
	return from + t * (to - from);
}

/*
 * nice_top - the smallest 4 * step >= v with step 1, 2, 2.5 or 5 times a
 * power of ten: the y axis's four intervals land on round numbers (a
 * runqueue plot topped at 79 had ticks at 19.75 and 39.5).
 */
static double nice_top(double v)
{
	static const double m[] = { 1, 2, 2.5, 5, 10 };
	double step, p;

	if (!(v > 0))
		return 1;
	p = pow(10, floor(log10(v / 4)));
	for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
		step = m[i] * p;
		if (4 * step >= v * (1 - 1e-12))
			return 4 * step;
	}
	return 40 * p;
}

static void fmt_tick(char *buf, size_t size, double v)
{
	if (fabs(v) >= 1000000)
		snprintf(buf, size, "%gM", v / 1e6);
	else if (fabs(v) >= 1000)
		snprintf(buf, size, "%gk", v / 1e3);
	else
		snprintf(buf, size, "%g", v);
}

/* Frame, ticks and labels of a plot; x and y scales given. */
static void frame(struct strbuf *out, const char *title, const char *xlabel, const char *ylabel,
		  const struct axis *xa, const struct axis *ya)
{
	char b[32];

	strbuf_addf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
			 "viewBox=\"0 0 %d %d\" role=\"img\"><title>", W, H, W, H);
	esc(out, title);
	strbuf_addf(out, "</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>", W, H);
	strbuf_addf(out, "<text x=\"%d\" y=\"18\" class=\"t\">", ML);
	esc(out, title);
	strbuf_addstr(out, "</text>");
	strbuf_addf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
			 "stroke=\"#999\"/>", ML, MT, W - ML - MR, H - MT - MB);
	for (int i = 0; i <= 4; i++) {
		double v = ya->lo + (ya->hi - ya->lo) * i / 4;
		double y = pos(ya, v, H - MB, MT);

		fmt_tick(b, sizeof(b), round(v * 1000) / 1000);
		strbuf_addf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
				 "<text x=\"%d\" y=\"%.1f\" class=\"a\" text-anchor=\"end\">%s</text>",
			    ML, W - MR, y, y, ML - 4, y + 4, b);
	}
	if (xa->log) {
		for (double v = pow(10, ceil(log10(xa->lo))); v <= xa->hi * 1.0001; v *= 10) {
			double x = pos(xa, v, ML, W - MR);

			fmt_tick(b, sizeof(b), v);
			strbuf_addf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" "
					 "stroke=\"#eee\"/><text x=\"%.1f\" y=\"%d\" class=\"a\" "
					 "text-anchor=\"middle\">%s</text>",
				    x, x, MT, H - MB, x, H - MB + 14, b);
		}
	} else if (xa->hi > xa->lo) {
		/* about five ticks at a step of 1, 2 or 5 times a power of ten */
		double range = xa->hi - xa->lo, step = pow(10, floor(log10(range / 5)));

		if (range / step > 25)
			step *= 5;
		else if (range / step > 10)
			step *= 2;
		for (double v = ceil(xa->lo / step) * step; v <= xa->hi + step * 1e-6; v += step) {
			double x = pos(xa, v, ML, W - MR);

			fmt_tick(b, sizeof(b), round(v / step) * step);
			strbuf_addf(out, "<text x=\"%.1f\" y=\"%d\" class=\"a\" "
					 "text-anchor=\"middle\">%s</text>", x, H - MB + 14, b);
		}
	}
	strbuf_addf(out, "<text x=\"%d\" y=\"%d\" class=\"a\" text-anchor=\"middle\">",
		    (ML + W - MR) / 2, H - 8);
	esc(out, xlabel);
	strbuf_addf(out, "</text><text transform=\"translate(14 %d) rotate(-90)\" class=\"a\" "
			 "text-anchor=\"middle\">", (MT + H - MB) / 2);
	esc(out, ylabel);
	strbuf_addstr(out, "</text>");
}

static void legend(struct strbuf *out, int i, const char *name, int dashed)
{
	int y = MT + 10 + 16 * i;

	strbuf_addf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
			 "stroke-width=\"2\"%s/><text x=\"%d\" y=\"%d\" class=\"a\"",
		    W - MR + 8, W - MR + 26, y, y, palette[i % ARRAY_SIZE(palette)],
		    dashed ? " stroke-dasharray=\"4 3\"" : "", W - MR + 30, y + 4);
	/*
	 * The legend has MR - 34 px: a longer name ("least-recent-cpu (best)")
	 * is squeezed to fit rather than cut at the edge of the plot.
	 */
	if (strlen(name) > 18)
		strbuf_addf(out, " textLength=\"%d\" lengthAdjust=\"spacingAndGlyphs\"", MR - 34);
	strbuf_addch(out, '>');
	esc(out, name);
	strbuf_addstr(out, "</text>");
}

static void lines(struct strbuf *out, const char *title, const char *xlabel, const char *ylabel,
		  const struct series *s, int ns, const struct axis *xa, const struct axis *ya,
		  int step)
{
	frame(out, title, xlabel, ylabel, xa, ya);
	for (int i = 0; i < ns; i++) {
		if (s[i].n <= 0)
			continue;
		strbuf_addf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s "
				 "points=\"", palette[i % ARRAY_SIZE(palette)],
			    s[i].dashed ? " stroke-dasharray=\"4 3\"" : "");
		for (int j = 0; j < s[i].n; j++) {
			double x = pos(xa, s[i].x[j], ML, W - MR);
			double y = pos(ya, s[i].y[j], H - MB, MT);

			if (j && j < s[i].n - 1 && s[i].x[j] == s[i].x[j - 1] &&
			    s[i].y[j] == s[i].y[j - 1])
				continue;	/* the same point again (CDF steps) */

			if (step && j) {
				double py = pos(ya, s[i].y[j - 1], H - MB, MT);

				strbuf_addf(out, "%.1f,%.1f ", x, py);
			}
			strbuf_addf(out, "%.1f,%.1f ", x, y);
		}
		strbuf_addstr(out, "\"/>");
		legend(out, i, s[i].name, s[i].dashed);
	}
	if (!ns)
		strbuf_addf(out, "<text x=\"%d\" y=\"%d\" class=\"a\">no data</text>", ML + 10,
			    MT + 20);
	strbuf_addstr(out, "</svg>\n");
}

/* The scheduling-delay CDF of the classes with the most delay samples. */
static void delay_cdf(struct strbuf *out, const struct ana_trace_stats *st)
{
	enum { MAXC = 6, PTS = 100 };
	struct { char name[DS_COMM_LEN]; uint64_t n; } cls[64];
	int ncls = 0, shown = 0;
	struct series s[MAXC + 1];
	static double xs[MAXC + 1][PTS], ys[MAXC + 1][PTS];
	char names[MAXC + 1][48];
	struct axis xa = { 1, 10, 1 }, ya = { 0, 1, 0 };
	uint64_t maxd = 1, mind = UINT64_MAX;

	for (uint64_t i = 0; i < st->nr_tasks; i++) {
		char c[DS_COMM_LEN];
		int j;

		if (!st->tasks[i].delay.n)
			continue;
		ana_task_class(c, st->tasks[i].comm);
		for (j = 0; j < ncls; j++)
			if (!strcmp(cls[j].name, c))
				break;
		if (j == ncls) {
			if (ncls == (int)ARRAY_SIZE(cls))
				continue;
			snprintf(cls[ncls].name, sizeof(cls[ncls].name), "%s", c);
			cls[ncls++].n = 0;
		}
		cls[j].n += st->tasks[i].delay.n;
		if (st->tasks[i].delay.max > maxd)
			maxd = st->tasks[i].delay.max;
		if (st->tasks[i].delay.min < mind)
			mind = st->tasks[i].delay.min;
	}
	/* most samples first (stable: insertion sort) */
	for (int i = 1; i < ncls; i++)
		for (int j = i; j > 0 && cls[j].n > cls[j - 1].n; j--) {
			char t[DS_COMM_LEN];
			uint64_t tn = cls[j].n;

			memcpy(t, cls[j].name, sizeof(t));
			memcpy(cls[j].name, cls[j - 1].name, sizeof(t));
			cls[j].n = cls[j - 1].n;
			memcpy(cls[j - 1].name, t, sizeof(t));
			cls[j - 1].n = tn;
		}
	xa.lo = pow(10, floor(log10(mind == UINT64_MAX || !mind ? 1 : (double)mind / 1000)));
	if (xa.lo < 0.1)
		xa.lo = 0.1;
	xa.hi = pow(10, ceil(log10((double)maxd / 1000 + 1e-9)));
	if (xa.hi <= xa.lo)
		xa.hi = xa.lo * 10;
	for (int k = 0; k < ncls && k < MAXC; k++) {
		/* the class's delays: its tasks' histograms merged */
		uint64_t n = cls[k].n, m;
		struct ana_hist all = { 0 };

		for (uint64_t i = 0; i < st->nr_tasks; i++) {
			char c[DS_COMM_LEN];

			if (!st->tasks[i].delay.n || !st->tasks[i].delays)
				continue;
			ana_task_class(c, st->tasks[i].comm);
			if (strcmp(c, cls[k].name))
				continue;
			ana_hist_merge(&all, st->tasks[i].delays);
		}
		m = all.n ? all.n : 1;
		for (int p = 0; p < PTS; p++) {
			uint64_t rank = (uint64_t)((double)(p + 1) / PTS * (double)m);

			rank = rank ? rank : 1;
			xs[shown][p] = (double)ana_hist_rank(&all, rank) / 1000;
			ys[shown][p] = (double)rank / (double)m;
		}
		ana_hist_release(&all);
		snprintf(names[shown], sizeof(names[shown]), "%s (%llu)", cls[k].name,
			 (unsigned long long)n);
		s[shown] = (struct series){ names[shown], xs[shown], ys[shown], PTS, 0 };
		shown++;
	}
	lines(out, "Scheduling delay CDF per task class", "delay (us, log scale)",
	      "share of waits", s, shown, &xa, &ya, 1);
}

/*
 * time_axis - the x axis of a per-bucket series over the window, in the unit
 * that suits its span: xs gets each bucket's middle; returns the axis label.
 */
static const char *time_axis(const struct ana_trace_stats *st, double *xs, struct axis *xa)
{
	double unit = st->span_ns >= NSEC_PER_SEC ? 1e9 : st->span_ns >= NSEC_PER_MSEC ? 1e6 : 1e3;

	*xa = (struct axis){ 0, (double)st->span_ns / unit, 0 };
	for (int b = 0; b < ANA_SERIES_BUCKETS; b++)
		xs[b] = (double)st->span_ns / unit * (b + 0.5) / ANA_SERIES_BUCKETS;
	return unit == 1e9 ? "time since start (s)" : unit == 1e6 ? "time since start (ms)" :
	       "time since start (us)";
}

/*
 * cpu_plot - one line per CPU (the first 8) over the window: each CPU's busy
 * share (util), or its runqueue length (y up to the nice top of the highest).
 */
static void cpu_plot(struct strbuf *out, const struct ana_trace_stats *st, int util)
{
	enum { MAXCPU = 8 };
	struct series s[MAXCPU];
	static double xs[ANA_SERIES_BUCKETS];
	char names[MAXCPU][16];
	struct axis xa, ya = { 0, 1, 0 };
	const char *xlabel = time_axis(st, xs, &xa);
	int n = st->nr_cpu_rows < MAXCPU ? st->nr_cpu_rows : MAXCPU;

	for (int i = 0; i < n; i++) {
		const double *y = util ? st->cpus[i].util_series : st->cpus[i].rq_series;

		for (int b = 0; !util && b < ANA_SERIES_BUCKETS; b++)
			if (y[b] > ya.hi)
				ya.hi = nice_top(y[b]);
		snprintf(names[i], sizeof(names[i]), "cpu%d", st->cpus[i].cpu);
		s[i] = (struct series){ names[i], xs, y, ANA_SERIES_BUCKETS, 0 };
	}
	if (xa.hi <= 0)
		xa.hi = 1;
	if (util)
		lines(out, st->nr_cpu_rows > MAXCPU ? "CPU utilisation over time (the first 8 CPUs)" :
		      "CPU utilisation over time", xlabel, "busy share", s, n, &xa, &ya, 0);
	else
		lines(out, "Runqueue length over time (mean per interval)", xlabel, "queued tasks",
		      s, n, &xa, &ya, 0);
}

struct bar_series {
	const char *name;
	const double *y;	/* (number of categories) */
};

/*
 * bars - grouped bars: a group per category (its label, and a second line
 * under it such as a count), a bar per series; faint categories drawn
 * lighter.  y from 0 to ymax (pct: as percentages).
 */
static void bars(struct strbuf *out, const char *title, const char *xlabel, const char *ylabel,
		 const char *const *cats, const char *const *subs, const int *faint, int nc,
		 const struct bar_series *s, int ns, double ymax, int pct)
{
	struct axis xa = { 0, 0, 0 }, ya = { 0, ymax, 0 };	/* x: categories, no ticks */
	int tilt = nc > 12;	/* many categories: labels slanted so that they do not collide */
	double gw = nc ? (double)(W - ML - MR) / nc : 0, bw = ns ? gw * 0.8 / ns : 0;

	frame(out, title, xlabel, ylabel, &xa, &ya);
	for (int k = 0; k < nc; k++) {
		double x0 = ML + gw * k + gw * 0.1;

		for (int i = 0; i < ns; i++) {
			double v = s[i].y[k] > ymax ? ymax : s[i].y[k];
			double y = pos(&ya, v, H - MB, MT);

			strbuf_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
					 "fill=\"%s\"%s><title>", x0 + bw * i, y, bw > 1 ? bw - 1 : bw,
				    H - MB - y, palette[i % ARRAY_SIZE(palette)],
				    faint && faint[k] ? " fill-opacity=\"0.3\"" : "");
			esc(out, s[i].name);
			strbuf_addstr(out, ", ");
			esc(out, cats[k]);
			strbuf_addf(out, ": %.1f%s</title></rect>", pct ? 100 * s[i].y[k] : s[i].y[k],
				    pct ? "%" : "");
		}
		if (tilt)
			strbuf_addf(out, "<text transform=\"translate(%.1f %d) rotate(-40)\" "
					 "class=\"s\" text-anchor=\"end\">", ML + gw * (k + 0.5) + 3,
				    H - MB + 8);
		else
			strbuf_addf(out, "<text x=\"%.1f\" y=\"%d\" class=\"a\" "
					 "text-anchor=\"middle\">", ML + gw * (k + 0.5), H - MB + 12);
		esc(out, cats[k]);
		strbuf_addstr(out, "</text>");
		if (subs) {
			strbuf_addf(out, "<text x=\"%.1f\" y=\"%d\" class=\"s\" "
					 "text-anchor=\"middle\">", ML + gw * (k + 0.5), H - MB + 22);
			esc(out, subs[k]);
			strbuf_addstr(out, "</text>");
		}
	}
	for (int i = 0; i < ns; i++) {
		int y = MT + 10 + 16 * i;

		strbuf_addf(out, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"10\" fill=\"%s\"/>",
			    W - MR + 8, y - 6, palette[i % ARRAY_SIZE(palette)]);
		strbuf_addf(out, "<text x=\"%d\" y=\"%d\" class=\"a\"", W - MR + 26, y + 4);
		if (strlen(s[i].name) > 18)
			strbuf_addf(out, " textLength=\"%d\" lengthAdjust=\"spacingAndGlyphs\"",
				    MR - 30);
		strbuf_addch(out, '>');
		esc(out, s[i].name);
		strbuf_addstr(out, "</text>");
	}
	if (!nc)
		strbuf_addf(out, "<text x=\"%d\" y=\"%d\" class=\"a\">no data</text>", ML + 10,
			    MT + 20);
	strbuf_addstr(out, "</svg>\n");
}

/*
 * Histogram bins of delays: edges at 1, 2 and 5 times a power of ten from
 * 1 us to 100 s (ns), the first bin from 0.
 */
#define DELAY_EDGES 25
static uint64_t delay_edge(int i)
{
	static const uint64_t m[] = { 1, 2, 5 };
	uint64_t p = 1000;

	for (int d = 0; d < i / 3; d++)
		p *= 10;
	return m[i % 3] * p;
}

static void fmt_us(char *buf, size_t size, uint64_t ns)
{
	if (ns >= NSEC_PER_SEC)
		snprintf(buf, size, "%llus", (unsigned long long)(ns / NSEC_PER_SEC));
	else if (ns >= NSEC_PER_MSEC)
		snprintf(buf, size, "%llums", (unsigned long long)(ns / NSEC_PER_MSEC));
	else
		snprintf(buf, size, "%lluus", (unsigned long long)(ns / 1000));
}

/* The wakeup-latency and preemption-delay histograms: share of each's samples per bin. */
static void delay_hists(struct strbuf *out, const struct ana_trace_stats *st)
{
	const struct ana_hist *h[2] = { st->wake_hist, st->preempt_hist };
	static double y[2][DELAY_EDGES + 1];
	static char cats[DELAY_EDGES + 1][24];
	const char *cp[DELAY_EDGES + 1];
	char names[2][64];
	struct bar_series bs[2];
	int lo = DELAY_EDGES, hi = 0, nc = 0;
	double ymax = 0;

	/* the bins from the first to the last that holds a sample */
	for (int i = 0; i < 2; i++) {
		uint64_t below = 0;

		for (int b = 0; h[i] && h[i]->n && b <= DELAY_EDGES; b++) {
			uint64_t upto = b < DELAY_EDGES ? ana_hist_count_below(h[i], delay_edge(b))
							: h[i]->n;

			if (upto > below) {
				lo = SC_MIN(lo, b);
				hi = SC_MAX(hi, b);
			}
			below = upto;
		}
	}
	for (int b = lo; b <= hi; b++) {
		char a[12], z[12];

		fmt_us(a, sizeof(a), b ? delay_edge(b - 1) : 0);
		fmt_us(z, sizeof(z), b < DELAY_EDGES ? delay_edge(b) : UINT64_MAX);
		if (!b)
			snprintf(cats[nc], sizeof(cats[nc]), "<%s", z);
		else if (b == DELAY_EDGES)
			snprintf(cats[nc], sizeof(cats[nc]), ">=%s", a);
		else
			snprintf(cats[nc], sizeof(cats[nc]), "%s", a);
		cp[nc] = cats[nc];
		for (int i = 0; i < 2; i++) {
			uint64_t n = h[i] ? h[i]->n : 0, upto, from;

			if (!n) {
				y[i][nc] = 0;
				continue;
			}
			upto = b < DELAY_EDGES ? ana_hist_count_below(h[i], delay_edge(b)) : n;
			from = b ? ana_hist_count_below(h[i], delay_edge(b - 1)) : 0;
			y[i][nc] = (double)(upto - from) / (double)n;
			ymax = SC_MAX(ymax, y[i][nc]);
		}
		nc++;
	}
	snprintf(names[0], sizeof(names[0]), "wakeup latency (%llu)",
		 (unsigned long long)st->wake_lat.n);
	snprintf(names[1], sizeof(names[1]), "preemption delay (%llu)",
		 (unsigned long long)st->preempt_delay.n);
	bs[0] = (struct bar_series){ names[0], y[0] };
	bs[1] = (struct bar_series){ names[1], y[1] };
	bars(out, "Wakeup latency and preemption delay (bins from the value shown)", "",
	     "share of its samples", cp, NULL, NULL, nc, bs, 2,
	     ymax > 0 ? nice_top(ymax) : 1, 1);
}

/* the timeline's colours: one per thread group with the most run time, grey for the rest */
static const char *const tl_palette[ANA_TL_GROUPS] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
	"#8c564b", "#e377c2", "#bcbd22", "#17becf", "#393b79",
};
#define TL_OTHER "#b0b0b0"

static void tl_secs(char *buf, size_t size, uint64_t ns)
{
	snprintf(buf, size, "%llu.%06llu", (unsigned long long)(ns / NSEC_PER_SEC),
		 (unsigned long long)(ns % NSEC_PER_SEC / 1000));
}

/*
 * timeline - who ran on each CPU over the window: a row per CPU, a column
 * per 1/ANA_TL_COLS of the window coloured by the thread group of the task
 * that ran longest in it; a column where tasks ran less than half the time
 * is drawn faint, one where nothing ran is a gap.  Runs of columns of one
 * task are one rectangle whose tooltip names it.
 */
static void timeline(struct strbuf *out, const struct ana_trace_stats *st)
{
	const struct ana_timeline *tl = st->timeline;
	const int lm = 56, rowh = 22, top = 10;
	int w = lm + ANA_TL_COLS + 20, h = top + tl->nr_rows * rowh + 40;
	uint64_t dur = tl->end_ns - tl->start_ns, colns = dur / ANA_TL_COLS + 1;
	char a[32], b[32];
	double range, step;

	tl_secs(a, sizeof(a), tl->start_ns);
	tl_secs(b, sizeof(b), tl->end_ns);
	strbuf_addf(out, "<h2>Timeline</h2>\n<p>Who ran on each CPU from %s to %s s (the trace's "
			 "clock)", a, b);
	if (!tl->busiest)
		strbuf_addstr(out, ": the <code>--time</code> window.");
	else if (tl->start_ns == st->start_ns && tl->end_ns == st->end_ns)
		strbuf_addstr(out, ": the whole trace, shorter than a second.");
	else
		strbuf_addstr(out, ": the second with the most busy time; <code>--time "
				   "START,END</code> draws another window.");
	strbuf_addf(out, " A column is 1/%d of the window, coloured by the thread group of the "
			 "task that ran longest in it; faint: busy less than half of it; a gap: "
			 "idle. Hover for the task.", ANA_TL_COLS);
	if (tl->cpus_left_out)
		strbuf_addf(out, " The first %d CPUs (-C chooses others; %d left out).",
			    ANA_TL_MAX_CPUS, tl->cpus_left_out);
	strbuf_addf(out, "</p>\n<svg class=\"tl\" xmlns=\"http://www.w3.org/2000/svg\" "
			 "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">"
			 "<title>Per-CPU timeline</title><rect width=\"%d\" height=\"%d\" "
			 "fill=\"#fff\"/>", w, h, w, h, w, h);
	for (int r = 0; r < tl->nr_rows; r++) {
		int y = top + r * rowh;

		strbuf_addf(out, "<text x=\"%d\" y=\"%d\" class=\"a\" text-anchor=\"end\">cpu%d"
				 "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
				 "fill=\"#f6f6f6\"/>", lm - 6, y + 15, tl->cpu[r], lm, y + 1,
			    ANA_TL_COLS, rowh - 2);
		for (int k = 0; k < ANA_TL_COLS;) {
			const struct ana_tl_cell *c = &tl->cells[(size_t)r * ANA_TL_COLS + k];
			int faint = c->busy_ns * 2 < colns, j = k + 1;
			const char *col = c->group >= 0 ? tl_palette[c->group] : TL_OTHER;
			char comm[SC_SAFE_SIZE(DS_COMM_LEN)];

			if (!c->pid) {
				k++;
				continue;
			}
			while (j < ANA_TL_COLS) {
				const struct ana_tl_cell *d = &tl->cells[(size_t)r * ANA_TL_COLS + j];

				if (d->pid != c->pid || (d->busy_ns * 2 < colns) != faint)
					break;
				j++;
			}
			tl_secs(a, sizeof(a), tl->start_ns + dur / ANA_TL_COLS * (uint64_t)k);
			tl_secs(b, sizeof(b), tl->start_ns + dur / ANA_TL_COLS * (uint64_t)j);
			strbuf_addf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
					 "fill=\"%s\"%s><title>", lm + k, y + 1, j - k, rowh - 2, col,
				    faint ? " fill-opacity=\"0.35\"" : "");
			strbuf_addf(out, "%d ", c->pid);
			esc(out, sc_safe_str(comm, sizeof(comm), c->comm));
			strbuf_addf(out, " on cpu%d, %s to %s s</title></rect>", tl->cpu[r], a, b);
			k = j;
		}
	}
	/* time axis: ms from the window's start, about five ticks */
	range = (double)dur / 1e6;
	step = range > 0 ? pow(10, floor(log10(range / 5))) : 1;
	if (range / step > 25)
		step *= 5;
	else if (range / step > 10)
		step *= 2;
	for (double v = 0; range > 0 && v <= range + step * 1e-6; v += step) {
		double x = lm + v / range * ANA_TL_COLS;
		char t[32];

		fmt_tick(t, sizeof(t), round(v / step) * step);
		strbuf_addf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" "
				 "stroke=\"#ccc\"/><text x=\"%.1f\" y=\"%d\" class=\"a\" "
				 "text-anchor=\"middle\">%s</text>", x, x, top + tl->nr_rows * rowh,
			    top + tl->nr_rows * rowh + 4, x, top + tl->nr_rows * rowh + 16, t);
	}
	strbuf_addf(out, "<text x=\"%d\" y=\"%d\" class=\"a\" text-anchor=\"middle\">ms "
			 "from the window's start</text></svg>\n", lm + ANA_TL_COLS / 2, h - 6);
	/* the legend: thread groups by run time in the window */
	strbuf_addstr(out, "<p class=\"lg\">");
	for (int g = 0; g < tl->nr_groups; g++) {
		char comm[SC_SAFE_SIZE(DS_COMM_LEN)];

		strbuf_addf(out, "<span><i style=\"background:%s\"></i>", tl_palette[g]);
		esc(out, sc_safe_str(comm, sizeof(comm), tl->groups[g].comm));
		strbuf_addf(out, " (%d) %.3f ms</span> ", tl->groups[g].tgid,
			    (double)tl->groups[g].ns / 1e6);
	}
	if (tl->other_ns)
		strbuf_addf(out, "<span><i style=\"background:%s\"></i>other groups %.3f ms</span>",
			    TL_OTHER, (double)tl->other_ns / 1e6);
	if (!tl->nr_groups)
		strbuf_addstr(out, "nothing ran in this window");
	strbuf_addstr(out, "</p>\n");
}

/* The prediction terms, beside the numbers that use them. */
static const char glossary[] =
	"<dl class=\"gl\"><dt>decision</dt><dd>a sched_switch to a task: the kernel picked "
	"it to run on that CPU</dd>"
	"<dt>candidates</dt><dd>the tasks queued on that CPU at the decision (the ones the "
	"predictors choose from)</dd>"
	"<dt>contested</dt><dd>a decision with two or more candidates: the only ones where a "
	"prediction can be wrong</dd>"
	"<dt>coverage</dt><dd>the share of decisions whose pick was among the candidates (the "
	"rest every predictor misses)</dd>"
	"<dt>chance</dt><dd>the top-1 of picking a candidate at random: the mean of 1/n</dd>"
	"<dt>top-1, top-3 (top-k)</dt><dd>the share of decisions where the kernel's pick was "
	"the predictor's first choice, or among its first three</dd>"
	"<dt>best baseline</dt><dd>the simple rule with the highest contested top-1 on the "
	"same decisions; a model must beat it to be worth anything</dd>"
	"<dt>95% CI</dt><dd>the Wilson interval: where the true rate lies for 95% of such "
	"samples</dd>"
	"<dt>split</dt><dd>the decisions scored: test (the last 15% of each trace by "
	"default), val or all</dd></dl>";

static void eval_plots(struct strbuf *out, const struct ana_eval *e)
{
	static double xs[ANA_TIME_SLICES], ym[ANA_TIME_SLICES], yb[ANA_TIME_SLICES];
	static double cm[ANA_NCAND_MAX + 1], cb[ANA_NCAND_MAX + 1];
	struct series s[2];
	struct axis xa = { 0, 100, 0 }, ya = { 0, 1, 0 };
	const char *best = e->best >= 0 ? ana_baseline_names[e->best] : "baseline";
	char bname[48];
	int n = 0, ns = 0;

	snprintf(bname, sizeof(bname), "%s (best)", best);
	for (int k = 0; k < ANA_TIME_SLICES; k++) {
		if (!e->slice_n[k])
			continue;
		xs[n] = 100.0 * (k + 0.5) / ANA_TIME_SLICES;
		ym[n] = ana_rate(e->slice_model[k], e->slice_n[k]);
		yb[n] = ana_rate(e->slice_best[k], e->slice_n[k]);
		n++;
	}
	if (e->has_model)
		s[ns++] = (struct series){ "model", xs, ym, n, 0 };
	s[ns++] = (struct series){ bname, xs, yb, n, 1 };
	lines(out, "Contested top-1 accuracy over time", "scored decisions, in time order (%)",
	      "top-1", s, n ? ns : 0, &xa, &ya, 0);

	n = 0;
	{
		static char cats[ANA_NCAND_MAX + 1][16], subs[ANA_NCAND_MAX + 1][24];
		const char *cp[ANA_NCAND_MAX + 1], *sp[ANA_NCAND_MAX + 1];
		int faint[ANA_NCAND_MAX + 1];
		struct bar_series bs[2];
		int nb = 0;

		for (int k = 1; k <= ANA_NCAND_MAX; k++) {
			if (!e->ncand_n[k])
				continue;
			snprintf(cats[n], sizeof(cats[n]), k == ANA_NCAND_MAX ? "%d+" : "%d", k);
			snprintf(subs[n], sizeof(subs[n]), "n=%llu",
				 (unsigned long long)e->ncand_n[k]);
			cp[n] = cats[n];
			sp[n] = subs[n];
			/* a handful of decisions is no accuracy: drawn faint, its count shown */
			faint[n] = e->ncand_n[k] < 30;
			cm[n] = ana_rate(e->ncand_model[k], e->ncand_n[k]);
			cb[n] = ana_rate(e->ncand_best[k], e->ncand_n[k]);
			n++;
		}
		if (e->has_model)
			bs[nb++] = (struct bar_series){ "model", cm };
		bs[nb++] = (struct bar_series){ bname, cb };
		bars(out, "Top-1 accuracy by number of candidates",
		     "candidates at the decision (faint: fewer than 30 decisions)", "top-1", cp, sp,
		     faint, n, bs, nb, 1, 1);
	}

	/* model vs baselines: horizontal bars of contested top-1 with the 95% interval */
	{
		int rows = e->has_model + ANA_NR_BASELINES, r = 0, bh = 22;
		int hh = MT + rows * bh + 30, x0 = 170, x1 = W - 40;

		strbuf_addf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
				 "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\"><title>Model against "
				 "baselines</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
				 "<text x=\"%d\" y=\"18\" class=\"t\">Contested top-1, model against "
				 "baselines (95%% CI)</text>", W, hh, W, hh, W, hh, ML);
		for (int i = 0; i <= 4; i++) {
			double x = x0 + (x1 - x0) * i / 4.0;

			strbuf_addf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" "
					 "stroke=\"#eee\"/><text x=\"%.1f\" y=\"%d\" class=\"a\" "
					 "text-anchor=\"middle\">%d%%</text>",
				    x, x, MT, MT + rows * bh, x, MT + rows * bh + 14, 25 * i);
		}
		for (int b = -1; b < ANA_NR_BASELINES; b++) {
			const struct ana_score *sc = b < 0 ? &e->model : &e->bl[b];
			double v, lo, hi;
			int y = MT + r * bh;
			const char *col = b < 0 ? (e->model_beats_best ? "#2ca02c" : "#d62728")
						: (b == e->best ? "#1f77b4" : "#9ecae1");

			if (b < 0 && !e->has_model)
				continue;
			if (b >= 0 && !e->bl_available[b])
				continue;
			v = ana_rate(sc->top1_c, e->contested);
			ana_wilson(sc->top1_c, (double)e->contested, &lo, &hi);
			strbuf_addf(out, "<text x=\"%d\" y=\"%d\" class=\"a\" text-anchor=\"end\">%s%s"
					 "</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
					 "fill=\"%s\"/><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" "
					 "stroke=\"#333\"/><text x=\"%.1f\" y=\"%d\" class=\"a\">%.1f%%</text>",
				    x0 - 6, y + 15, b < 0 ? "model" : ana_baseline_names[b],
				    b < 0 && !e->model_beats_best ? " (below best!)" : "", x0, y + 4,
				    (x1 - x0) * v, bh - 8, col, x0 + (x1 - x0) * lo, x0 + (x1 - x0) * hi,
				    y + 11, y + 11, x0 + (x1 - x0) * hi + 4, y + 15, 100 * v);
			r++;
		}
		strbuf_addstr(out, "</svg>\n");
	}
}

static const char css[] =
	"body{font:14px/1.4 sans-serif;margin:24px;color:#222;max-width:1340px}"
	"h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}"
	"table{border-collapse:collapse;font-size:12px;margin:8px 0}"
	"td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #eee}"
	"td.l,th.l{text-align:left}th{background:#f4f4f4}"
	".warn{color:#b00;font-weight:bold}.plots svg{margin:6px 12px 6px 0}"
	"svg .t{font:bold 13px sans-serif}svg .a{font:11px sans-serif;fill:#333}"
	"pre{background:#f7f7f7;padding:8px;overflow-x:auto}"
	"svg .s{font:9px sans-serif;fill:#777}"
	".lg span{margin-right:14px;white-space:nowrap;font-size:12px}"
	".lg i{display:inline-block;width:12px;height:10px;margin-right:4px}"
	".pred{display:flex;gap:16px;align-items:flex-start}.pred pre{flex:1 1 auto;margin:0}"
	".gl{flex:0 0 300px;font-size:12px;margin:0;background:#fafafa;padding:8px;"
	"border:1px solid #eee}.gl dt{font-weight:bold}.gl dd{margin:0 0 6px 0}";

/* report --wakers: each listed task's most frequent wakers */
static void wakers_table(struct strbuf *out, const struct ana_trace_stats *st, uint64_t top)
{
	strbuf_addstr(out, "<h2>Wakers per task</h2><p>The waker of a wakeup is the task that "
			   "was running where it fired (&lt;idle&gt;: an interrupt on an idle "
			   "CPU).</p><table>\n<tr><th class=\"l\">pid</th><th class=\"l\">comm</th>"
			   "<th>wakeups</th><th class=\"l\">most frequent wakers (pid comm: "
			   "count)</th></tr>\n");
	for (uint64_t i = 0; i < st->nr_tasks && (!top || i < top); i++) {
		const struct ana_task_stats *t = &st->tasks[i];

		strbuf_addf(out, "<tr><td class=\"l\">%d</td><td class=\"l\">", t->pid);
		esc(out, t->comm);
		strbuf_addf(out, "</td><td>%llu</td><td class=\"l\">",
			    (unsigned long long)t->wakeups);
		for (int k = 0; k < ANA_TOP_WAKERS && t->wakers[k].pid >= 0; k++) {
			strbuf_addf(out, "%s%d ", k ? ", " : "", t->wakers[k].pid);
			esc(out, t->wakers[k].comm);
			strbuf_addf(out, ": %llu", (unsigned long long)t->wakers[k].n);
		}
		if (t->wakers_other)
			strbuf_addf(out, ", others: %llu", (unsigned long long)t->wakers_other);
		strbuf_addstr(out, "</td></tr>\n");
	}
	strbuf_addstr(out, "</table>\n");
}

static void th(struct strbuf *out, const char *const *cols, size_t n)
{
	strbuf_addstr(out, "<tr>");
	for (size_t i = 0; i < n; i++)
		strbuf_addf(out, "<th%s>%s</th>", i < 2 ? " class=\"l\"" : "", cols[i]);
	strbuf_addstr(out, "</tr>\n");
}

static void td_ms(struct strbuf *out, uint64_t ns)
{
	strbuf_addf(out, "<td>%.3f</td>", (double)ns / 1e6);
}

int ana_report_html(const struct ana_trace_stats *st, const struct ana_eval *e,
		    struct strbuf *out, uint64_t top)
{
	static const char *const cpu_cols[] = { "cpu", "util", "busy ms", "idle ms",
						"idle while queued ms", "switches",
						"inferred", "rq avg", "rq max", "lost" };
	static const char *const task_cols[] = { "pid", "comm", "run ms", "switches", "inferred",
						 "run avg", "run max", "delays", "delay avg",
						 "p50", "p90", "p99", "delay max",
						 "longest delay from (s)", "to (s)", "sleep ms",
						 "migrations", "preempted" };
	char span[32];

	format_duration(span, sizeof(span), st->span_ns);
	strbuf_addf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<title>schedcast report</title><style>%s</style></head><body>\n", css);
	strbuf_addstr(out, "<h1>schedcast report: ");
	esc(out, st->path);
	strbuf_addstr(out, "</h1>\n<p>source ");
	esc(out, st->meta.source);
	strbuf_addf(out, ", %d CPUs, span %s, %llu events, %llu context switches (%.1f/s), "
			 "lost events %llu", st->nr_cpus, span, (unsigned long long)st->nr_events,
		    (unsigned long long)st->nr_switches, st->switch_rate,
		    (unsigned long long)st->lost_total);
	if (st->lost_unknown)
		strbuf_addf(out, " + %llu marker(s) of unknown size",
			    (unsigned long long)st->lost_unknown);
	strbuf_addch(out, '.');
	strbuf_addf(out, " Scheduling delay over all tasks: %llu samples, avg %.3f ms, p50 %.3f, "
			 "p90 %.3f, p99 %.3f, max %.3f ms; %llu waits unmeasured.</p>\n",
		    (unsigned long long)st->delay.n, st->delay.avg / 1e6, st->delay.p50 / 1e6,
		    st->delay.p90 / 1e6, st->delay.p99 / 1e6, st->delay.max / 1e6,
		    (unsigned long long)st->delay_unmeasured);
	if (!st->has_wakeups)
		strbuf_addstr(out, "<p class=\"warn\">The trace has no wakeup events: delays "
				   "count preemptions only.</p>\n");

	if (st->timeline)
		timeline(out, st);
	strbuf_addstr(out, "<h2>Plots</h2><div class=\"plots\">\n");
	delay_hists(out, st);
	delay_cdf(out, st);
	cpu_plot(out, st, 1);
	cpu_plot(out, st, 0);
	if (e)
		eval_plots(out, e);
	strbuf_addstr(out, "</div>\n");

	if (e) {
		struct strbuf t = STRBUF_INIT;

		strbuf_addstr(out, "<h2>Prediction</h2>\n");
		if (e->has_model && !e->model_beats_best)
			strbuf_addf(out, "<p class=\"warn\">The model does not beat the best "
					 "baseline (%s).</p>\n", ana_baseline_names[e->best]);
		ana_eval_text(e, &t);
		strbuf_addstr(out, "<div class=\"pred\"><pre>");
		/* line by line: the untrusted-string rule escapes a newline inside a string */
		for (char *line = t.buf, *nl; *line; line = nl + 1) {
			nl = strchr(line, '\n');
			if (!nl) {
				esc(out, line);
				break;
			}
			*nl = '\0';
			esc(out, line);
			strbuf_addch(out, '\n');
		}
		strbuf_addf(out, "</pre>%s</div>\n", glossary);
		strbuf_release(&t);
	}

	strbuf_addstr(out, "<h2>Per CPU</h2><table>\n");
	th(out, cpu_cols, ARRAY_SIZE(cpu_cols));
	for (int i = 0; i < st->nr_cpu_rows; i++) {
		const struct ana_cpu_stats *c = &st->cpus[i];

		strbuf_addf(out, "<tr><td class=\"l\">%d</td><td class=\"l\">%.1f%%</td>", c->cpu,
			    100 * c->util);
		td_ms(out, c->busy_ns);
		td_ms(out, c->idle_ns);
		td_ms(out, c->idle_queued_ns);
		strbuf_addf(out, "<td>%llu</td><td>%llu</td><td>%.2f</td><td>%u</td><td>%llu</td>"
				 "</tr>\n", (unsigned long long)c->switches,
			    (unsigned long long)c->inferred, c->rq_avg, c->rq_max,
			    (unsigned long long)c->lost);
	}
	strbuf_addstr(out, "</table>\n<h2>Per task</h2>");
	if (top && st->nr_tasks > top)
		strbuf_addf(out, "<p>The %llu tasks with the most run time of %llu.</p>",
			    (unsigned long long)top, (unsigned long long)st->nr_tasks);
	strbuf_addstr(out, "<table>\n");
	th(out, task_cols, ARRAY_SIZE(task_cols));
	for (uint64_t i = 0; i < st->nr_tasks && (!top || i < top); i++) {
		const struct ana_task_stats *t = &st->tasks[i];

		strbuf_addf(out, "<tr><td class=\"l\">%d</td><td class=\"l\">", t->pid);
		esc(out, t->comm);
		strbuf_addstr(out, "</td>");
		td_ms(out, t->run_ns);
		strbuf_addf(out, "<td>%llu</td><td>%llu</td>", (unsigned long long)t->switches,
			    (unsigned long long)t->inferred_in);
		td_ms(out, (uint64_t)(t->burst.avg + 0.5));
		td_ms(out, t->burst.max);
		strbuf_addf(out, "<td>%llu</td>", (unsigned long long)t->delay.n);
		td_ms(out, (uint64_t)(t->delay.avg + 0.5));
		td_ms(out, t->delay.p50);
		td_ms(out, t->delay.p90);
		td_ms(out, t->delay.p99);
		td_ms(out, t->delay.max);
		if (t->delay.n) {
			char a[32], b[32];

			tl_secs(a, sizeof(a), t->max_delay_start);
			tl_secs(b, sizeof(b), t->max_delay_end);
			strbuf_addf(out, "<td>%s</td><td>%s</td>", a, b);
		} else {
			strbuf_addstr(out, "<td></td><td></td>");
		}
		td_ms(out, t->sleep_ns);
		strbuf_addf(out, "<td>%llu</td><td>%llu</td></tr>\n",
			    (unsigned long long)t->migrations, (unsigned long long)t->preemptions);
	}
	strbuf_addstr(out, "</table>\n");
	if (st->show_wakers)
		wakers_table(out, st, top);
	strbuf_addstr(out, "<h2>Run bursts per task</h2><table>\n<tr><th class=\"l\">pid"
			   "</th><th class=\"l\">comm</th>");
	for (int b = 0; b < ANA_BURST_BUCKETS; b++) {
		strbuf_addstr(out, "<th>");
		esc(out, ana_burst_bucket_names[b]);
		strbuf_addstr(out, "</th>");
	}
	strbuf_addstr(out, "</tr>\n");
	for (uint64_t i = 0; i < st->nr_tasks && (!top || i < top); i++) {
		const struct ana_task_stats *t = &st->tasks[i];

		strbuf_addf(out, "<tr><td class=\"l\">%d</td><td class=\"l\">", t->pid);
		esc(out, t->comm);
		strbuf_addstr(out, "</td>");
		for (int b = 0; b < ANA_BURST_BUCKETS; b++)
			strbuf_addf(out, "<td>%llu</td>", (unsigned long long)t->burst_hist[b]);
		strbuf_addstr(out, "</tr>\n");
	}
	strbuf_addstr(out, "</table>\n<p>Definitions: see schedcast-report(1), FIELDS.</p>\n"
			   "</body></html>\n");
	return 0;
}
