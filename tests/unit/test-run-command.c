// SPDX-License-Identifier: GPL-2.0
/* Unit tests of common/run-command.c: exit codes, exec failures, pipes, fds, ticks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "common/run-command.h"

/* out of a child whose stdout is a pipe: everything it wrote */
static char *run_capture(struct child_process *cp, int *code)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[256];
	ssize_t n;

	cp->out_pipe = 1;
	assert_int_equal(start_command(cp), 0);
	while ((n = read(cp->out, buf, sizeof(buf))) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	close(cp->out);
	*code = finish_command(cp);
	return strbuf_detach(&sb, NULL);
}

static void sh(struct child_process *cp, const char *script)
{
	child_process_init(cp);
	strvec_push(&cp->args, "sh");
	strvec_push(&cp->args, "-c");
	strvec_push(&cp->args, script);
}

static void test_exit_codes(void **state)
{
	struct child_process cp;

	sh(&cp, "exit 0");
	assert_int_equal(run_command(&cp), 0);
	sh(&cp, "exit 3");
	assert_int_equal(run_command(&cp), 3);
	sh(&cp, "kill -TERM $$");
	assert_int_equal(run_command(&cp), 128 + 15);
	assert_true(WIFSIGNALED(cp.status));
	assert_int_equal(cp.args.nr, 0);	/* cleared */
}

static void test_exec_failure(void **state)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	int status;

	strvec_push(&cp.args, "schedcast-no-such-program");
	sc_set_quiet(1);
	assert_int_equal(start_command(&cp), -1);
	sc_set_quiet(0);
	assert_int_equal(cp.pid, -1);
	/* reaped by start_command: no child left behind */
	assert_int_equal(waitpid(-1, &status, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	child_process_clear(&cp);

	strvec_push(&cp.args, "/nonexistent/dir/prog");
	sc_set_quiet(1);
	assert_int_equal(run_command(&cp), -1);
	sc_set_quiet(0);
}

static void test_pipe_env_and_argv0(void **state)
{
	static const char *const env[] = { "SC_RUN_TEST=forty two", NULL };
	struct child_process cp;
	int code;
	char *out;

	sh(&cp, "echo \"$SC_RUN_TEST\"; echo to-err >&2");
	cp.env = env;
	cp.err = open("/dev/null", O_WRONLY | O_CLOEXEC);
	out = run_capture(&cp, &code);
	close(cp.err);
	assert_int_equal(code, 0);
	assert_string_equal(out, "forty two\n");
	free(out);

	/* exec_path runs one file under another name */
	child_process_init(&cp);
	cp.exec_path = "/bin/cat";
	strvec_push(&cp.args, "seen-as");
	strvec_push(&cp.args, "/proc/self/cmdline");
	out = run_capture(&cp, &code);
	assert_int_equal(code, 0);
	assert_string_equal(out, "seen-as");	/* then a NUL, then the argument */
	free(out);
}

static void test_out_to_file_and_stdout_to_stderr(void **state)
{
	char path[] = "/tmp/sc-run-test.XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);
	struct child_process cp;
	char buf[64] = { 0 };

	assert_true(fd >= 0);
	unlink(path);
	sh(&cp, "echo one");
	cp.out = fd;
	assert_int_equal(run_command(&cp), 0);
	sh(&cp, "echo two");
	cp.err = fd;
	cp.stdout_to_stderr = 1;	/* stdout follows stderr: into the file */
	assert_int_equal(run_command(&cp), 0);
	assert_int_equal(pread(fd, buf, sizeof(buf) - 1, 0), 8);
	assert_string_equal(buf, "one\ntwo\n");
	close(fd);
}

/* A descriptor opened without O_CLOEXEC is still not inherited. */
static void test_no_fd_leaks(void **state)
{
	int leaky = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC on purpose */
	struct child_process cp;
	int code;
	char *out;

	assert_true(leaky > 2);
	sh(&cp, "cd /proc/self/fd && echo *");
	out = run_capture(&cp, &code);
	assert_int_equal(code, 0);
	/* sh's own descriptors: 0 1 2 and the one `echo *` reads the directory with */
	assert_true(!strcmp(out, "0 1 2\n") || !strcmp(out, "0 1 2 3\n"));
	free(out);
	close(leaky);
}

static void count_tick(void *data)
{
	(*(int *)data)++;
}

static void test_wait_with_ticks(void **state)
{
	struct child_process cp;
	int ticks = 0;

	sh(&cp, "sleep 0.3");
	assert_int_equal(start_command(&cp), 0);
	assert_int_equal(check_command(&cp), 0);	/* still running */
	assert_int_equal(wait_command(&cp, 20 * NSEC_PER_MSEC, count_tick, &ticks), 0);
	assert_true(ticks >= 5 && ticks <= 40);
}

/* a function child: writes its argument to stdout and exits with its length */
static int say(void *data)
{
	const char *s = data;
	ssize_t n = write(STDOUT_FILENO, s, strlen(s));

	return n == (ssize_t)strlen(s) ? (int)n : 99;
}

/* writes "x" to the descriptor data points at, inherited from the parent */
static int write_x(void *data)
{
	return write(*(int *)data, "x", 1) == 1 ? 1 : 99;
}

static int die_by_signal(void *data)
{
	raise(SIGKILL);
	return 0;
}

static void test_function_child(void **state)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	int pfd[2], code;
	char *out, buf[8];

	/* its stdout is the pipe; the exit code is fn's return value */
	cp.fn = say;
	cp.fn_data = "from fn";
	out = run_capture(&cp, &code);
	assert_int_equal(code, 7);
	assert_string_equal(out, "from fn");
	free(out);

	/* a signal that kills it is reported as by a program */
	child_process_init(&cp);
	strvec_push(&cp.args, "killed-child");
	cp.fn = die_by_signal;
	assert_int_equal(run_command(&cp), 128 + SIGKILL);

	/* unlike an exec'd child, it keeps our descriptors: a pipe made before works */
	assert_int_equal(pipe(pfd), 0);
	child_process_init(&cp);
	cp.fn = write_x;
	cp.fn_data = &pfd[1];
	assert_int_equal(start_command(&cp), 0);
	close(pfd[1]);
	assert_int_equal(read(pfd[0], buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(finish_command(&cp), 1);
	close(pfd[0]);

	/* a set-up that fails (stderr onto a closed fd): the child says so, exits 127 */
	child_process_init(&cp);
	cp.fn = say;
	cp.fn_data = "never";
	cp.err = 1000;
	sc_set_quiet(1);
	assert_int_equal(run_command(&cp), 127);
	sc_set_quiet(0);
}

static void test_strvec(void **state)
{
	struct strvec sv = STRVEC_INIT;

	assert_null(sv.v[0]);
	strvec_push(&sv, "a");
	strvec_pushf(&sv, "%d-%s", 7, "b");
	assert_int_equal(sv.nr, 2);
	assert_string_equal(sv.v[1], "7-b");
	assert_null(sv.v[2]);
	strvec_clear(&sv);
	assert_int_equal(sv.nr, 0);
	assert_null(sv.v[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_exec_failure),
		cmocka_unit_test(test_pipe_env_and_argv0),
		cmocka_unit_test(test_out_to_file_and_stdout_to_stderr),
		cmocka_unit_test(test_no_fd_leaks),
		cmocka_unit_test(test_wait_with_ticks),
		cmocka_unit_test(test_function_child),
		cmocka_unit_test(test_strvec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
