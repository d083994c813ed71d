"""Run target code in worker processes, so that nothing it does can decide a verdict.

A target given by name (``"numeric"``, ``"torch"``, ``"student.py"``...) is imported,
discovered and called in a worker process; the checker sends the inputs and ``G``,
the worker sends back arrays, and every comparison happens in the checker::

    >>> import derive
    >>> from derive.isolation import load_target
    >>> target = load_target("numeric")          # starts (or reuses) a worker
    >>> target.describe()
    'numeric (tensor; backward(grad=G)) [isolated]'
    >>> derive.check("exp", target=target, examples=5, seed=0, database=None)
    <Report exp: PASS 5 example(s) (numeric 5, finite differences 5)>
    >>> target.worker.alive()
    True

What the target does in its process stays there:

- a call over the time limit ends the worker: "the target's matmul timed out after 10 s";
- ``sys.exit(n)``, ``os._exit(n)``, a segfault or a signal end the call:
  "the target called sys.exit(0)", "the target's matmul crashed with SIGSEGV";
- what it prints is kept apart from the report and shown with its failure;
- patching derive's modules changes only the worker's copy;
- its answers are read by an unpickler that builds nothing but data.

Each ends as a FAIL of that op; the worker starts again for the next one.
Targets given as objects (a function, a module object, a Binding) already live in
the caller's process and run there.
"""

from .._lazy import lazy_names

#: the public surface and where each name lives, imported on first use: the command line starts a
#: worker (:func:`~.process.prestart`) before anything imports SymPy
_PUBLIC = {"load_target": "loading", **dict.fromkeys(["MAX_OUTPUT_BYTES", "OUTPUT_LIMIT", "Worker"], "process"),
           **dict.fromkeys(["DEFAULT_TIMEOUT", "LOAD_TIMEOUT", "IsolatedTarget", "isolated", "shutdown"], "target")}

__all__ = ["load_target", "IsolatedTarget", "Worker", "isolated", "shutdown", "DEFAULT_TIMEOUT", "LOAD_TIMEOUT",
           "OUTPUT_LIMIT", "MAX_OUTPUT_BYTES"]


__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)
