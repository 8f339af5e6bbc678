// SPDX-License-Identifier: GPL-2.0
/*
 * A progress line on a terminal, as git's progress.c draws one: nothing for
 * the first two seconds (short runs stay quiet), then "title: 42% (n/total)"
 * redrawn at most five times a second, and a final line with the time taken.
 * Nothing at all when stderr is not a terminal.  The hot path is one
 * counter compare: the clock is read every 64k units of work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/common.h"

#define PROGRESS_DELAY_NS (2 * NSEC_PER_SEC)
#define PROGRESS_REDRAW_NS (200 * NSEC_PER_MSEC)
#define PROGRESS_STEP 65536

static int progress_forced = -1;	/* -1: ask isatty, else SCHEDCAST_PROGRESS */

static int progress_wanted(void)
{
	if (progress_forced < 0) {
		const char *env = getenv("SCHEDCAST_PROGRESS");

		progress_forced = env && *env ? (*env == '1') + 2 * (*env == '0') : 0;
	}
	if (progress_forced == 1)
		return 1;
	if (progress_forced == 2)
		return 0;
	return sc_isatty_stderr();
}

void sc_progress_start(struct sc_progress *p, const char *title, uint64_t total)
{
	p->title = title;
	p->total = total;
	p->done = 0;
	p->next_check = PROGRESS_STEP;
	p->start_ns = sc_now_ns();
	p->last_draw_ns = 0;
	p->shown = 0;
	p->enabled = progress_wanted();
}

static void draw(struct sc_progress *p, uint64_t now, int final)
{
	double secs = (double)(now - p->start_ns) / 1e9;

	if (p->total)
		fprintf(stderr, "\r%s: %3u%% (%llu/%llu)%s", p->title,
			(unsigned int)(p->done >= p->total ? 100 : p->done * 100 / p->total),
			(unsigned long long)p->done, (unsigned long long)p->total,
			final ? "" : "\033[K");
	else
		fprintf(stderr, "\r%s: %llu%s", p->title, (unsigned long long)p->done,
			final ? "" : "\033[K");
	if (final)
		fprintf(stderr, ", done in %.1fs.\033[K\n", secs);
	fflush(stderr);
	p->last_draw_ns = now;
	p->shown = 1;
}

void sc_progress_check(struct sc_progress *p)
{
	uint64_t now;

	p->next_check = p->done + PROGRESS_STEP;
	if (!p->enabled)
		return;
	now = sc_now_ns();
	/* forced (SCHEDCAST_PROGRESS=1, for tests): from the start */
	if ((progress_forced != 1 && now - p->start_ns < PROGRESS_DELAY_NS) ||
	    now - p->last_draw_ns < PROGRESS_REDRAW_NS)
		return;
	draw(p, now, 0);
}

void sc_progress_stop(struct sc_progress *p, int ok)
{
	if (!p->shown)
		return;
	if (ok) {
		draw(p, sc_now_ns(), 1);
	} else {
		/* an error message follows: leave it a clean line */
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	p->shown = 0;
}
