/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common/run-command.h - the one place schedcast starts other programs, in
 * the manner of git's run-command.h: describe the child in a struct
 * child_process, start_command() it, then finish_command() (or poll it with
 * check_command(), or wait with a tick callback with wait_command()).
 *
 * What every child gets:
 *   - only fds 0, 1 and 2 from us: every other descriptor is close-on-exec in
 *     the child (close_range), so no child ever holds a ring buffer, a tracefs
 *     instance or a temporary file of ours, whatever its flags;
 *   - stdio flushed before the fork (no output written twice);
 *   - an exec-failure pipe: when exec fails, start_command() itself reports
 *     "cannot run 'x': <reason>" and returns -1, and the child is reaped;
 *   - with default_signals, SIGINT, SIGTERM, SIGHUP and SIGPIPE as at exec
 *     (we catch the first three to stop cleanly; the child must not inherit
 *     that, nor an ignored SIGPIPE).
 *
 * A child that runs our own code rather than a program (the built-in
 * workload's parts) sets cp->fn: the child runs fn(fn_data) after the same
 * set-up, and leaves with _exit(fn's return value).  start_command() returns
 * as soon as it is forked (there is no exec to wait for): a
 * set-up failure is said by the child, which exits 127.  _exit() and never exit():
 * a forked child must not run our atexit handlers or fatal-signal handler,
 * which would remove the parent's temporary output files (common/outfile.c).
 * Such a child keeps our descriptors (it does not exec), which is what lets
 * two parts share a pipe made before they start.
 *
 * Ownership: cp->args is owned by cp and freed by child_process_clear() (also
 * called by finish_command() and wait_command()).  Descriptors the caller
 * puts in cp->out / cp->err stay the caller's: start_command() dups them into
 * the child and never closes them.  With out_pipe, cp->out is set to the read
 * end of a new pipe, which the caller then owns and closes.
 */
#ifndef SC_COMMON_RUN_COMMAND_H
#define SC_COMMON_RUN_COMMAND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * struct strvec - a NULL-terminated, growable array of strings (git's).
 * Invariant: v[nr] == NULL; v is never NULL from STRVEC_INIT on (an empty
 * vector points at a static NULL).  Entries are copies owned by the vector.
 */
struct strvec {
	const char **v;
	size_t nr, alloc;
};

extern const char *strvec_empty_array[];
#define STRVEC_INIT { strvec_empty_array, 0, 0 }

void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* strvec_pushl - push each string argument up to the NULL that ends them */
void strvec_pushl(struct strvec *sv, ...) __attribute__((sentinel));
/* strvec_pushv - push each string of the NULL-terminated argv */
void strvec_pushv(struct strvec *sv, const char *const *argv);
/* strvec_clear - free the entries and leave an empty, reusable vector */
void strvec_clear(struct strvec *sv);

struct child_process {
	/* args.v[0] is the program: looked up in PATH unless it holds a '/' */
	struct strvec args;
	/* when set, the file to exec instead (args.v[0] is then only the name it sees) */
	const char *exec_path;
	/* NAME=VALUE strings set in the child's environment (NULL-terminated), or NULL */
	const char *const *env;
	/*
	 * out, err: -1 inherits ours; an fd >= 0 becomes the child's stdout or
	 * stderr.  out_pipe: start_command() makes a pipe and sets out to its
	 * read end.  stdout_to_stderr: the child's stdout is our stderr.
	 */
	int out, err;
	unsigned out_pipe:1;
	unsigned stdout_to_stderr:1;
	unsigned default_signals:1;
	/*
	 * fn: when set, the child runs fn(fn_data) instead of exec'ing args (which
	 * may then be empty, or hold only a name for error messages) and exits
	 * with its return value.  fn_data is read in the child's copy of our
	 * memory, so it may point at the caller's stack.
	 */
	int (*fn)(void *fn_data);
	void *fn_data;
	/* set by start_command() */
	pid_t pid;
	/* the raw wait status once reaped (WIFEXITED() ...) */
	int status;
};

#define CHILD_PROCESS_INIT { .args = STRVEC_INIT, .out = -1, .err = -1, .pid = -1 }

void child_process_init(struct child_process *cp);
/* child_process_clear - free args (the process itself is not touched) */
void child_process_clear(struct child_process *cp);

/*
 * start_command - fork and exec cp (or run cp->fn).  0 with cp->pid set, or
 * -1 after a one-line error ("cannot run 'x': No such file or directory",
 * "cannot fork to run 'x': ...", ...).
 */
int start_command(struct child_process *cp);
/*
 * finish_command - wait for cp (retrying on EINTR) and clear it.  Returns
 * its exit code, 128 + the signal number if a signal killed it, or -1 if it
 * could not be waited for (printed).  cp->status holds the raw status.
 */
int finish_command(struct child_process *cp);
/*
 * check_command - has cp ended?  1 (reaped; cp->status set), 0 (still
 * running), -1 on a wait error (printed).  Does not clear cp.
 */
int check_command(struct child_process *cp);
/*
 * wait_command - as finish_command(), calling tick(data) about every
 * tick_ns while the child runs (a progress line); tick may be NULL.
 */
int wait_command(struct child_process *cp, uint64_t tick_ns, void (*tick)(void *data),
		 void *data);
/* run_command - start_command() then finish_command(): the exit code, or -1 */
int run_command(struct child_process *cp);

/*
 * catch_stop_signals - SIGINT, SIGTERM and SIGHUP call handler (which sets a
 * flag the caller's loop checks; no SA_RESTART, so a blocking wait returns
 * early), SIGPIPE is ignored: how record, live and live --in-kernel end
 * cleanly with a valid file and their summary.
 */
void catch_stop_signals(void (*handler)(int));

#endif /* SC_COMMON_RUN_COMMAND_H */
