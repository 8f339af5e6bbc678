// SPDX-License-Identifier: GPL-2.0
/*
 * Starting other programs: fork, exec, and the exec-failure pipe.  See
 * common/run-command.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "common/run-command.h"

const char *strvec_empty_array[] = { NULL };

static void strvec_init(struct strvec *sv)
{
	sv->v = strvec_empty_array;
	sv->nr = sv->alloc = 0;
}

void strvec_push(struct strvec *sv, const char *s)
{
	if (sv->v == strvec_empty_array)
		sv->v = NULL;
	ALLOC_GROW(sv->v, sv->nr + 2, sv->alloc);
	sv->v[sv->nr++] = xstrdup(s);
	sv->v[sv->nr] = NULL;
}

void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strvec_push(sv, sb.buf);
	strbuf_release(&sb);
}

void strvec_pushl(struct strvec *sv, ...)
{
	const char *arg;
	va_list ap;

	va_start(ap, sv);
	while ((arg = va_arg(ap, const char *)))
		strvec_push(sv, arg);
	va_end(ap);
}

void strvec_pushv(struct strvec *sv, const char *const *argv)
{
	for (; *argv; argv++)
		strvec_push(sv, *argv);
}

void strvec_clear(struct strvec *sv)
{
	if (sv->v != strvec_empty_array) {
		for (size_t i = 0; i < sv->nr; i++)
			free((char *)sv->v[i]);
		free(sv->v);
	}
	strvec_init(sv);
}

void child_process_init(struct child_process *cp)
{
	struct child_process blank = CHILD_PROCESS_INIT;

	*cp = blank;
}

void child_process_clear(struct child_process *cp)
{
	strvec_clear(&cp->args);
}

static const char *child_name(const struct child_process *cp)
{
	if (cp->args.v[0])
		return cp->args.v[0];
	return cp->exec_path ? cp->exec_path : "a child";
}

/*
 * In the child: report errno e to the parent through the exec-failure pipe
 * fd and exit as a shell would.  A function child has no such pipe (its
 * parent does not wait for it to start): it says so itself.
 */
static void SC_NORETURN child_die(const struct child_process *cp, int fd, int e)
{
	if (fd >= 0) {
		ssize_t n = write(fd, &e, sizeof(e));

		(void)n;
	} else {
		errno = e;
		error_errno("cannot start '%s'", child_name(cp));
	}
	_exit(127);
}

static void child_setup(struct child_process *cp, int errpipe, int outpipe)
{
	if (cp->default_signals) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
	}
	/* stderr first: stdout_to_stderr means the child's stderr, wherever it goes */
	if (cp->err >= 0 && dup2(cp->err, STDERR_FILENO) < 0)
		child_die(cp, errpipe, errno);
	if (outpipe >= 0 && dup2(outpipe, STDOUT_FILENO) < 0)
		child_die(cp, errpipe, errno);
	if (cp->out >= 0 && !cp->out_pipe && dup2(cp->out, STDOUT_FILENO) < 0)
		child_die(cp, errpipe, errno);
	if (cp->stdout_to_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		child_die(cp, errpipe, errno);
	/*
	 * Everything above 2 closes at exec, whatever flags it was opened with
	 * (the exec-failure pipe too: that is how the parent learns exec worked).
	 * A function child does not exec and keeps them.
	 */
	if (!cp->fn)
		sc_cloexec_all();
	for (const char *const *e = cp->env; e && *e; e++)
		if (putenv((char *)*e))
			child_die(cp, errpipe, errno);
}

int start_command(struct child_process *cp)
{
	int epfd[2] = { -1, -1 }, opfd[2] = { -1, -1 }, e = 0;
	const char *prog = cp->fn ? child_name(cp) : cp->exec_path ? cp->exec_path : cp->args.v[0];
	ssize_t n;

	if (!prog)
		return error("internal: start_command without a program");
	/* a function child does not exec: nothing to wait for, as fork() itself */
	if (!cp->fn && pipe2(epfd, O_CLOEXEC))
		return error_errno("cannot create a pipe");
	if (cp->out_pipe && pipe2(opfd, O_CLOEXEC)) {
		if (epfd[0] >= 0) {
			close(epfd[0]);
			close(epfd[1]);
		}
		return error_errno("cannot create a pipe");
	}
	fflush(NULL);
	cp->pid = fork();
	if (cp->pid < 0) {
		e = errno;
		if (epfd[0] >= 0) {
			close(epfd[0]);
			close(epfd[1]);
		}
		if (opfd[0] >= 0) {
			close(opfd[0]);
			close(opfd[1]);
		}
		errno = e;
		return error_errno("cannot fork to run '%s'", prog);
	}
	if (cp->pid == 0) {
		child_setup(cp, epfd[1], opfd[1]);
		if (cp->fn)
			_exit(cp->fn(cp->fn_data));
		if (strchr(prog, '/'))
			execv(prog, (char *const *)cp->args.v);
		else
			execvp(prog, (char *const *)cp->args.v);
		child_die(cp, epfd[1], errno);
	}
	if (opfd[1] >= 0)
		close(opfd[1]);
	if (cp->fn) {
		if (cp->out_pipe)
			cp->out = opfd[0];
		return 0;
	}
	close(epfd[1]);
	while ((n = read(epfd[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(epfd[0]);
	if (n == (ssize_t)sizeof(e)) {
		if (opfd[0] >= 0)
			close(opfd[0]);
		while (waitpid(cp->pid, &cp->status, 0) < 0 && errno == EINTR)
			;
		cp->pid = -1;
		errno = e;
		return error_errno("cannot run '%s'", prog);
	}
	if (cp->out_pipe)
		cp->out = opfd[0];
	return 0;
}

/* exit_code - finish_command()'s code for a raw wait status */
static int exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}

int check_command(struct child_process *cp)
{
	pid_t got;

	if (cp->pid < 0)
		return 1;
	do
		got = waitpid(cp->pid, &cp->status, WNOHANG);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return error_errno("cannot wait for '%s'", child_name(cp));
	if (got == 0)
		return 0;
	cp->pid = -1;
	return 1;
}

int wait_command(struct child_process *cp, uint64_t tick_ns, void (*tick)(void *data),
		 void *data)
{
	int ret = 0;

	if (!tick || !tick_ns) {
		while (cp->pid >= 0 && waitpid(cp->pid, &cp->status, 0) < 0) {
			if (errno != EINTR) {
				ret = error_errno("cannot wait for '%s'", child_name(cp));
				break;
			}
		}
	} else {
		struct timespec ts = { (time_t)(tick_ns / NSEC_PER_SEC),
				       (long)(tick_ns % NSEC_PER_SEC) };

		while ((ret = check_command(cp)) == 0) {
			tick(data);
			nanosleep(&ts, NULL);
		}
		ret = ret < 0 ? -1 : 0;
	}
	cp->pid = -1;
	child_process_clear(cp);
	return ret < 0 ? -1 : exit_code(cp->status);
}

int finish_command(struct child_process *cp)
{
	return wait_command(cp, 0, NULL, NULL);
}

int run_command(struct child_process *cp)
{
	if (start_command(cp)) {
		child_process_clear(cp);
		return -1;
	}
	return finish_command(cp);
}

void catch_stop_signals(void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
