"""Process-tree helpers shared by the e2e harness (harness.py) and the
benchmark driver (bench/bench_driver/procs.py, which imports this file by
path): becoming a child subreaper, so that whatever a command leaves behind
is adopted and can be killed and reaped; listing a process's descendants;
killing and reaping by pid; a free loopback port. Standard library only."""

import ctypes
import glob
import os
import signal
import socket

PR_SET_CHILD_SUBREAPER = 36


def make_subreaper():
    """Makes this process a child subreaper; 0, or the errno of the failure."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        return ctypes.get_errno()
    return 0


def children_of(pid):
    kids = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(path) as f:
                kids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return kids


def descendants(pid):
    out, todo = [], children_of(pid)
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children_of(p)
    return out


def is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def kill_pid(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
