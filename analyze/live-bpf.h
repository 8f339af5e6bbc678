/* SPDX-License-Identifier: GPL-2.0 */
/*
 * analyze/live-bpf.h - `schedcast live --in-kernel`: the model and the
 * runqueue state of features/ run as a BPF program (analyze/bpf/live.bpf.c),
 * loaded, fed and read by analyze/live-bpf.c.
 */
#ifndef SC_ANALYZE_LIVE_BPF_H_USER
#define SC_ANALYZE_LIVE_BPF_H_USER

#include <stdint.h>
#include <sys/types.h>

#include "model/lstm.h"

struct ana_kernel_opts {
	const char *model_path;		/* for messages and the summary */
	uint64_t duration_ns;		/* 0: until the command ends or a signal */
	int json;
	int check;			/* replay the program's events in userspace and compare */
	int time_parts;			/* the program clocks its parts (decision, encoder) */
	int workload;			/* run the built-in mixed workload meanwhile */
	char **command;			/* or this command (NULL: none) */
	pid_t (*spawn)(char **argv);	/* starts command, -1 after an error */
	const char *output;		/* --check: write the events the program saw (trace.h5) */
	const char *command_line;
};

/*
 * ana_live_kernel - run the model in the kernel until the duration passes,
 * the command or workload ends, or SIGINT/SIGTERM; then print the summary.
 * m must be a fixed-point candidates model for the live features (the
 * caller checked the feature names).  Returns the exit status: 0, or 1
 * after a one-line error (no BPF or BTF, a verifier rejection whose log
 * goes to a file, a model beyond the program's limits).
 */
int ana_live_kernel(const struct lstm_model *m, const struct ana_kernel_opts *o);

#endif /* SC_ANALYZE_LIVE_BPF_H_USER */
