// SPDX-License-Identifier: GPL-2.0
/*
 * recload - small workloads with known scheduler events, for the record tests.
 *
 *   recload forks N SLEEP_MS   fork N children that each sleep SLEEP_MS and
 *                              exit; prints "forks PARENT_PID CHILD_PID..."
 *   recload pingpong K         two processes ("rl-ping", "rl-pong") pass a
 *                              byte through two pipes K round trips; prints
 *                              "pingpong PING_PID PONG_PID"
 *
 * The ping-pong pins both processes to CPU 0 and makes them SCHED_FIFO at
 * priority 1 when it may: a wakeup then never preempts (same priority), so
 * each round trip is exactly two switches, ping -> pong and pong -> ping,
 * both leaving the blocked side sleeping.  "fifo" or "other" is printed last
 * on the line, so that a test knows which guarantee it has.
 * Output goes to stdout once the work is done (it does not disturb the trace).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int forks(int n, int sleep_ms)
{
	pid_t *kids = calloc((size_t)n, sizeof(*kids));
	struct timespec ts = { sleep_ms / 1000, (long)(sleep_ms % 1000) * 1000000L };

	if (!kids)
		return 1;
	for (int i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			perror("recload: fork");
			return 1;
		}
		if (kids[i] == 0) {
			prctl(PR_SET_NAME, "rl-child");
			nanosleep(&ts, NULL);
			_exit(0);
		}
	}
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	printf("forks %d", (int)getpid());
	for (int i = 0; i < n; i++)
		printf(" %d", (int)kids[i]);
	printf("\n");
	free(kids);
	return 0;
}

static int xfer(int rfd, int wfd, int first)
{
	char c = 'x';

	if (first && write(wfd, &c, 1) != 1)
		return -1;
	if (read(rfd, &c, 1) != 1)
		return -1;
	if (!first && write(wfd, &c, 1) != 1)
		return -1;
	return 0;
}

static int pingpong(int k)
{
	struct sched_param sp = { .sched_priority = 1 };
	int ab[2], ba[2], fifo;
	cpu_set_t set;
	pid_t pong;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* inherited by the child */
	fifo = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
	if (pipe(ab) || pipe(ba)) {
		perror("recload: pipe");
		return 1;
	}
	pong = fork();
	if (pong < 0) {
		perror("recload: fork");
		return 1;
	}
	if (pong == 0) {
		prctl(PR_SET_NAME, "rl-pong");
		/* only our ends: a killed ping then gives us EOF, not a hang */
		close(ab[1]);
		close(ba[0]);
		for (int i = 0; i < k; i++)
			if (xfer(ab[0], ba[1], 0))
				_exit(1);
		_exit(0);
	}
	prctl(PR_SET_NAME, "rl-ping");
	close(ab[0]);
	close(ba[1]);
	for (int i = 0; i < k; i++) {
		if (xfer(ba[0], ab[1], 1)) {
			perror("recload: ping-pong");
			return 1;
		}
	}
	waitpid(pong, NULL, 0);
	/* back to normal before printing, so that the output does not run at RT */
	sp.sched_priority = 0;
	sched_setscheduler(0, SCHED_OTHER, &sp);
	printf("pingpong %d %d %s\n", (int)getpid(), (int)pong, fifo ? "fifo" : "other");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "forks"))
		return forks(atoi(argv[2]), atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "pingpong"))
		return pingpong(atoi(argv[2]));
	fprintf(stderr, "usage: recload forks N SLEEP_MS | recload pingpong K\n");
	return 2;
}
