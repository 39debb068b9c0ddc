"""ckpt: the application API of ckpt for Python (docs/api.md).

Pure Python over ctypes: it finds the entry points that the preloaded
libckpt.so exports (ckpt_rt_*) in the running process, the same ones
ckpt.h uses. Without ckpt they are absent, and every function answers as
ckpt.h does then: is_running() is False, checkpoint() returns NOT_RUNNING,
restart_count() is 0, hooks are never called, critical sections do nothing.

    import ckpt
    if ckpt.checkpoint() == ckpt.RESTARTED: ...
    ckpt.add_hook(ckpt.HOOK_PRE_CHECKPOINT, flush)
    with ckpt.critical():
        write_to_database()
"""

import contextlib
import ctypes

API_VERSION = 1

RESUMED = 1
RESTARTED = 2
NOT_RUNNING = -1
FAILED = -2
DEADLOCK = -3
INVALID = -4
FULL = -5

HOOK_PRE_CHECKPOINT = 1
HOOK_RESUME = 2
HOOK_RESTART = 3

_HOOK_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_hooks = []  # ctypes callbacks must outlive their registration


class CheckpointError(RuntimeError):
    """A checkpoint asked for with checkpoint(check=True) failed."""


def _runtime():
    try:
        process = ctypes.CDLL(None)  # the program and what it loaded, libckpt.so included
        version = process.ckpt_rt_api_version
    except (OSError, AttributeError):
        return None
    version.restype = ctypes.c_int
    version.argtypes = []
    return process if version() == API_VERSION else None


_rt = _runtime()


def _fn(name, restype=ctypes.c_int, argtypes=()):
    if _rt is None:
        return None
    f = getattr(_rt, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_is_running = _fn("ckpt_rt_is_running")
_checkpoint = _fn("ckpt_rt_checkpoint")
_restart_count = _fn("ckpt_rt_restart_count")
_add_hook = _fn("ckpt_rt_add_hook", argtypes=(ctypes.c_int, _HOOK_TYPE, ctypes.c_void_p))
_critical_begin = _fn("ckpt_rt_critical_begin")
_critical_end = _fn("ckpt_rt_critical_end")
_error = _fn("ckpt_rt_error", restype=ctypes.c_char_p)


def is_running():
    """True when the program runs under ckpt."""
    return bool(_is_running and _is_running())


def checkpoint(check=False):
    """Asks for a checkpoint of the whole computation and waits until it is
    over. Returns RESUMED, RESTARTED, FAILED, NOT_RUNNING or DEADLOCK (inside a
    critical section or a hook); with check=True a failure raises
    CheckpointError instead. The GIL is released while it waits."""
    r = _checkpoint() if _checkpoint else NOT_RUNNING
    if check and r == FAILED:
        raise CheckpointError(error())
    return r


def restart_count():
    """How many times this process was restarted (0 without ckpt)."""
    return _restart_count() if _restart_count else 0


def add_hook(event, function):
    """Registers function() for HOOK_PRE_CHECKPOINT, HOOK_RESUME or
    HOOK_RESTART. It runs on ckpt's checkpoint thread (holding the GIL), must
    not raise, and must not call checkpoint() or enter a critical section.
    Returns 0, NOT_RUNNING (never called then), INVALID or FULL."""
    if _add_hook is None:
        return NOT_RUNNING

    def call(_arg):
        try:
            function()
        except BaseException as e:  # an exception cannot cross into C
            import sys
            print(f"ckpt hook {function!r} raised {e!r}", file=sys.stderr)

    callback = _HOOK_TYPE(call)
    r = _add_hook(event, callback, None)
    if r == 0:
        _hooks.append(callback)
    return r


def critical_begin():
    """Enters a critical section (checkpoints wait for it); 0 or NOT_RUNNING."""
    return _critical_begin() if _critical_begin else NOT_RUNNING


def critical_end():
    """Leaves a critical section; 0, NOT_RUNNING or INVALID (not inside one)."""
    return _critical_end() if _critical_end else NOT_RUNNING


@contextlib.contextmanager
def critical():
    """A critical section as a context manager."""
    critical_begin()
    try:
        yield
    finally:
        critical_end()


def error():
    """Why the last checkpoint this process asked for failed ("" if none)."""
    if _error is None:
        return "not running under ckpt"
    return (_error() or b"").decode("utf-8", "replace")
