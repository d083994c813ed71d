"""One worker process seen from the checker: start, ask with a time limit, read its output, end.

The worker's stdout and stderr go to an unlinked temporary file (appended to,
so the checker can empty it between calls); each answer comes with the first
``OUTPUT_LIMIT`` characters the call printed and how many bytes it printed in
all.  A call that does not answer in time ends the worker's whole process
group; a worker that died is described by how it ended, and the next call
starts a fresh one.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time

from .channel import SMALL_REPLY, Channel, ReplyError, ReplyTimeout, loads_reply, printable

__all__ = ["Worker", "prestart", "OUTPUT_LIMIT", "MAX_OUTPUT_BYTES", "MAX_MEMORY_BYTES"]

#: characters of a call's output kept to show with its failure
OUTPUT_LIMIT = 2000
#: seconds to wait for an answer without sleeping (a sleeping checker wakes up late on a busy machine)
SPIN = 0.002
#: address space a worker may map (torch's worker peaks near 0.7 GB); beyond it, allocations fail
MAX_MEMORY_BYTES = 8 * 2 ** 30
#: a worker that writes more than this (output and files together) is ended (SIGXFSZ)
MAX_OUTPUT_BYTES = 256 * 2 ** 20


def _crashed(kind, message):
    """The :class:`~derive.targets.base.TargetCrashed` to raise (imported then: this module stays light
    enough to start a worker before the catalog is imported)."""
    from ..targets.base import TargetCrashed
    return TargetCrashed(kind, message)


#: a worker started ahead of need (:func:`prestart`), for the next unsandboxed Worker to take
_SPARE = []


def prestart():
    """Start a worker process now, before the checker imports SymPy and the catalog, so that the two
    processes import at once; the next :class:`Worker` without a sandbox adopts it (it has run no
    target code, only derive's imports).  The command line calls this first thing."""
    if not _SPARE:
        spare = Worker()
        spare.start()
        _SPARE.append(spare)


_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_DERIVE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def crash_site(text):
    """``file:line`` of the innermost frame of target code in a faulthandler dump, or ``""``."""
    stdlib = sysconfig.get_paths()["stdlib"]
    for match in re.finditer(r'File "([^"]+)", line (\d+)', text):
        path = match.group(1)
        if path.startswith("<") or path.startswith(_DERIVE_DIR) or path.startswith(stdlib):
            continue
        return f"{os.path.basename(path)}:{match.group(2)}"
    return ""


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class Worker:
    """A worker process running target code; restarted after it dies."""

    def __init__(self, sandbox=None):
        self.sandbox = sandbox  # a :class:`~.sandbox.Sandbox`, or None: run as the checker's user, unconfined
        self.process = None
        self.conn = None
        self._capture = None
        self.started = 0
        self.pending_output = []  # (text, total bytes) of calls since the last drain

    # -- life cycle ------------------------------------------------------------------
    def start(self):
        if self.sandbox is None and _SPARE:
            spare = _SPARE.pop()
            if spare.alive():
                self.process, self.conn, self._capture = spare.process, spare.conn, spare._capture
                self.started += 1
                return
            spare.stop()
        parent, child = socket.socketpair()
        for sock in (parent, child):  # large arrays cross in few large writes
            for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, option, 8 * 2 ** 20)
                except OSError:  # pragma: no cover - a system that refuses: its default
                    pass
        fd, path = tempfile.mkstemp(prefix="derive-worker-", suffix=".out")
        os.close(fd)
        self._capture = os.open(path, os.O_RDWR | os.O_APPEND)
        os.unlink(path)
        # -I: no user site, no PYTHON* variables, no working directory on the path (a folder of the
        # target's cannot plant a usercustomize or a derive/ that runs first); derive's path is given
        python_path = [p for p in sys.path if p and os.path.abspath(p) != os.getcwd()]
        code = (f"import sys; sys.path[:] = {python_path!r}; "
                f"from derive.isolation.worker import main; "
                f"main({child.fileno()}, {MAX_OUTPUT_BYTES}, {MAX_MEMORY_BYTES})")
        # unbuffered, so that what was printed before a crash is kept; faulthandler shows where it crashed
        env = dict(os.environ)
        for name in _THREAD_VARIABLES:  # BLAS threads of two processes fight over the cores
            env.setdefault(name, "1")
        argv = [sys.executable, "-I", "-u", "-X", "faulthandler", "-c", code]
        if self.sandbox is not None:
            argv, env = self.sandbox.command(argv, env), None
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                        stdout=self._capture, stderr=self._capture, pass_fds=(child.fileno(),),
                                        start_new_session=True, env=env, close_fds=True)
        child.close()
        self.conn = Channel(parent)
        self.started += 1

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        """End the worker and its whole process group."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - a zombie the kernel keeps
                pass
        if self.conn is not None:
            self.conn.close()
        if self._capture is not None:
            os.close(self._capture)
        self.process = self.conn = self._capture = None

    # -- one call ----------------------------------------------------------------------
    def ask(self, request, timeout, what, limit=SMALL_REPLY):
        """Send ``request``; its reply, or :class:`TargetCrashed` after ``timeout`` seconds or a death.

        ``what`` says what was running, for the message ("the target", "importing target x");
        ``limit`` is the most bytes the reply may take (a larger one is refused unread).
        """
        self.post(request, what)
        return self.answer(timeout, what, limit)

    def post(self, request, what):
        """Send ``request`` (starting the worker if needed) without waiting for the answer."""
        if not self.alive():
            self.stop()
            self.start()
        try:
            self.conn.send(request)
        except (OSError, ValueError):
            return self._died(what)

    def answer(self, timeout, what, limit=SMALL_REPLY):
        """The answer to the request posted last (see :meth:`ask`): the whole of it within ``timeout``."""
        deadline = time.monotonic() + timeout
        spin_until = time.monotonic() + SPIN
        try:  # most answers come within a millisecond: wait for them awake (sleeping costs a wake-up)
            while time.monotonic() < spin_until and not self.conn.poll(0):
                pass
        except (OSError, ValueError):
            return self._died(what)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._collect()
                self.stop()
                raise _crashed("timeout", f"{what} timed out after {timeout:g} s")
            try:
                ready = self.conn.poll(min(remaining, 0.5))
            except (OSError, ValueError):
                return self._died(what)
            if ready:
                break
            if not self.alive():
                return self._died(what)
        try:
            reply = self.conn.receive(loads_reply, deadline=deadline, limit=limit)
        except ReplyTimeout:
            self._collect()
            self.stop()
            raise _crashed("timeout", f"{what} timed out after {timeout:g} s (its answer stalled)") from None
        except (EOFError, OSError):
            return self._died(what)
        except ReplyError as exc:
            self._collect()
            self.stop()
            raise _crashed("crash", f"{what} broke the worker's answer: {exc}") from None
        self._collect()
        return reply

    def _died(self, what):
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            code = None
        site = crash_site(self._tail())
        self._collect()
        self.stop()
        if self.sandbox is not None and self.sandbox.exit_signal(code):
            code = -self.sandbox.exit_signal(code)
        if code is not None and code < 0:
            name = _signal_name(-code)
            detail = " (it wrote more output than the limit)" if name == "SIGXFSZ" else \
                f" (at {site})" if site else ""
            raise _crashed("crash", f"{what} crashed with {name}{detail}")
        raise _crashed("exit", f"{what} ended the process with exit code {code} "
                                    "(os._exit, or an exit from C code)")

    def _tail(self, size=8192):
        if self._capture is None:
            return ""
        total = os.fstat(self._capture).st_size
        return os.pread(self._capture, size, max(0, total - size)).decode("utf-8", "replace")

    def _collect(self):
        """Keep the first ``OUTPUT_LIMIT`` characters printed since the last call, and the byte count."""
        if self._capture is None:
            return
        total = os.fstat(self._capture).st_size
        if total:
            text = printable(os.pread(self._capture, OUTPUT_LIMIT * 4, 0).decode("utf-8", "replace"))[:OUTPUT_LIMIT]
            os.ftruncate(self._capture, 0)
            self.pending_output.append((text, total))

    def drain_output(self):
        """Output of every call since the last drain, ``(text, total_bytes)``, text truncated."""
        text = "".join(t for t, _ in self.pending_output)[:OUTPUT_LIMIT]
        total = sum(n for _, n in self.pending_output)
        self.pending_output = []
        return text, total
