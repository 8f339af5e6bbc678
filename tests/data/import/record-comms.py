#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# Record comms.ftrace.txt: children whose comms hold what a comm may hold
# (escape sequences, newlines, '=', " ==> ", control bytes, a UTF-8
# character cut at 15 bytes), traced in a private tracefs instance with
# set_event_pid + event-fork.  Run as root:
#   python3 record-comms.py >comms.ftrace.txt
import ctypes, os, sys, time

T = "/sys/kernel/tracing/instances/sc_comms_%d" % os.getpid()
NAMES = [b"a\x1b[31mX\nb=c", b"pid=5 x", b"a=b\x01", b"x ==> y", b"\x1b" * 15,
         b"caf" + b"\xc3\xa9" * 5 + b"\xc3", b"\n\n", b"comm=x pid=1"]


def w(path, value):
    with open(T + "/" + path, "w") as f:
        f.write(value)


os.mkdir(T)
try:
    w("tracing_on", "0")
    for e in ["sched_switch", "sched_wakeup", "sched_wakeup_new", "sched_waking",
              "sched_migrate_task", "sched_process_fork", "sched_process_exit"]:
        w("events/sched/%s/enable" % e, "1")
    w("options/event-fork", "1")
    w("set_event_pid", str(os.getpid()))
    libc = ctypes.CDLL(None)
    w("tracing_on", "1")
    for name in NAMES:
        pid = os.fork()
        if pid == 0:
            libc.prctl(15, ctypes.c_char_p(name), 0, 0, 0)	# PR_SET_NAME
            time.sleep(0.002)
            os._exit(0)
        os.waitpid(pid, 0)
    w("tracing_on", "0")
    with open(T + "/trace", "rb") as f:
        sys.stdout.buffer.write(f.read())
finally:
    os.rmdir(T)
