"""``python -m derive.check``: derive each op's gradient and check a backward against it.

Exit codes: 0 nothing failed (skipped ops and ops whose forward is not NumPy's are
reported, not failures; ``--strict`` makes them failures); 1 a gradient check failed,
a backward raised, exited, crashed or timed out, or no op could be checked at all; 2 a
usage error (unknown op, a target that cannot be imported or whose calling protocol
cannot be settled, a bad option).

A ``--target`` glob grades every submission it matches (see :mod:`derive.grading`);
the exit code is then 0 once the gradebook is written, whatever the submissions did,
3 when some submission could not be graded for derive's own reasons (a checker
process that died twice on it, derive's own error: the gradebook names them), and
130 when interrupted (Ctrl-C, SIGTERM or SIGHUP; what was graded is written).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time

from .._version import __version__

__all__ = ["main"]


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(message)


def _parser():
    p = _Parser(prog="python -m derive.check",
                description="Derive each op's gradient with SymPy and cross-check a hand-written "
                            "backward against it on Hypothesis-generated shapes.")
    p.add_argument("ops", nargs="*", metavar="OP", help="op names or aliases, or 'all'")
    p.add_argument("--list", action="store_true", help="print the op catalog and exit")
    p.add_argument("--ops", action="append", default=[], dest="ops_files", metavar="FILE",
                   help="a file of your own ops (derive.define(...) at its top level), loaded before anything "
                        "else; repeatable")
    p.add_argument("--version", action="version", version=f"derive {__version__}")
    p.add_argument("--expression", metavar="TEXT",
                   help="derive the gradient of a whole expression over catalog ops, e.g. "
                        "'mean((X @ W + b - y)**2)', with --input NAME=SIZES for each input")
    p.add_argument("--input", action="append", default=[], metavar="NAME=SIZES",
                   help="an input's shape for --expression: X=N,D (sizes are numbers or names)")
    p.add_argument("--graphs", action="store_true",
                   help="check the target's engine on generated expression graphs (fan-out, diamonds, shared "
                        "leaves, broadcasting, a second backward()) instead of one op at a time; ops named "
                        "are the only ones drawn")
    p.add_argument("--target", default="numeric",
                   help="numeric (default), numeric.backward, a library with a ready binding (torch, "
                        "autograd, jax, mygrad, mlfz), module, module:attr, file.py or binding.py:binding")
    p.add_argument("--style", choices=["functions", "cache-pairs", "tensor", "function-class", "functional"],
                   help="force the target's style (default: discovered when the target is loaded)")
    p.add_argument("--shapes", metavar="SHAPES",
                   help='check one case with these input shapes, e.g. "(2,3),(3,4)" (one op only)')
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a parameter of that case, e.g. --param axis=1 --param keepdims=True")
    p.add_argument("--strict", action="store_true",
                   help="skipped ops and ops whose forward differs from NumPy's also fail the run")
    p.add_argument("--examples", type=int, default=100, help="Hypothesis examples per op (default 100)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="time limit of one call of the target (forward and backward of one case; default 10)")
    p.add_argument("--op-timeout", type=float, default=None, metavar="SECONDS",
                   help="time limit of one op's whole check (default 300); the search stops there")
    p.add_argument("--load-timeout", type=float, default=None, metavar="SECONDS",
                   help="time limit of importing the target and settling its protocol (default 60)")
    p.add_argument("--gradebook", metavar="DIR", default="gradebook",
                   help="grading (a --target glob such as 'submissions/*/functional.py'): where the gradebook "
                        "goes (default ./gradebook)")
    p.add_argument("--sandbox", choices=["auto", "on", "off"], default=None,
                   help="run each target's worker in a bubblewrap sandbox (a scratch copy of its folder, a "
                        "private /tmp, no network, its own PID namespace, no view of other submissions). "
                        "Default: auto when grading (on where the system has it, and said when it is off), "
                        "off for one target")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="grading: the most one submission may take, load and all ops (default 900); the "
                        "ops it leaves read 'not checked'")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="grading: check the submissions on the Dask cluster whose scheduler is at ADDRESS "
                        "(tcp://host:8786), one task per submission; its workers need derive and the "
                        "submissions at the same paths")
    p.add_argument("--resume", action="store_true",
                   help="grading: keep the rows of submissions already graded into --gradebook with the same "
                        "settings and unchanged code, and grade the rest")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="ops (or, grading, submissions) checked at once, each in its own process "
                        "(default: the number of cores; --in-process checks one at a time); ops start "
                        "longest first, by the last run's times, kept next to the example database")
    p.add_argument("--in-process", action="store_true",
                   help="run the target in this process (for a debugger); by default it runs in a worker "
                        "process, so that its exits, crashes, hangs and prints cannot decide the run")
    p.add_argument("--seed", type=int, help="seed for a reproducible run (a seeded run neither reads nor writes the database)")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"],
                   help="dtype of the inputs given to the target")
    p.add_argument("--ties", default="subgradient", choices=["subgradient", "declared"],
                   help="at ties (max, maximum): accept any gradient inside the subdifferential, naming its "
                        "convention (default), or only the catalog's declared one (torch's)")
    p.add_argument("--dtype-tolerance", default="inputs", choices=["inputs", "gradient"],
                   help="a gradient in a lower precision than its inputs (float16 for float64) is compared at "
                        "the inputs' tolerance (default) or at its own dtype's (lenient)")
    p.add_argument("--format", default="text", choices=["text", "json", "markdown"])
    db = p.add_mutually_exclusive_group()
    db.add_argument("--database", metavar="PATH",
                    help="Hypothesis example database (failing examples are replayed first; default: "
                         "the examples folder of derive's cache, see DERIVE_CACHE_DIR)")
    db.add_argument("--no-database", action="store_true", help="do not read or write an example database")
    return p


def _catalog_lines(fmt):
    from ..catalog.registry import ops
    rows = []
    for op in ops():
        inputs = ", ".join(i.name + ("" if i.differentiable else " (not differentiable)") for i in op.inputs)
        evidence = "exact, numeric" if op.exact else "numeric"
        generic = "symbolic sizes" if op.shape_generic else "per concrete shape"
        rows.append((op.name, ", ".join(op.aliases), inputs, ", ".join(op.params), op.doc, evidence, generic))
    if fmt == "markdown":
        out = ["| op | aliases | inputs | params | definition | evidence | derived for |",
               "|---|---|---|---|---|---|---|"]
        out += ["| `{}` | {} | {} | {} | {} | {} | {} |".format(*r) for r in rows]
        return out
    if fmt == "json":
        keys = ("op", "aliases", "inputs", "params", "doc", "evidence", "derived_for")
        return [json.dumps([dict(zip(keys, r)) for r in rows], indent=2)]
    width = max(len(r[0]) for r in rows)
    return [f"{r[0]:<{width}}  {r[4]}" + (f"  [aliases: {r[1]}]" if r[1] else "") for r in rows]


def _storage():
    """Hypothesis keeps more than examples in its folder (the constants it found in the code it
    imported), by default ``.hypothesis`` in the working folder.  A run writes nothing there: it
    goes to derive's cache folder, where the next run finds the constants already collected (the
    examples are kept apart, and only with the database).  A folder the user chose
    (``HYPOTHESIS_STORAGE_DIRECTORY``) is kept; the variable reaches the processes this run starts too."""
    if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
        from .._paths import cache_directory
        os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = cache_directory("hypothesis")


def _run_options(args, shapes=None, params=None):
    """The command line's options as the run loop's :class:`~derive.checker.run.RunOptions`."""
    from ..checker.run import RunOptions
    return RunOptions(target=args.target, style=args.style, isolate=not args.in_process, timeout=args.timeout,
                      load_timeout=args.load_timeout, sandbox=getattr(args, "sandboxed", False),
                      examples=args.examples, seed=args.seed, dtype=args.dtype, database=args.database,
                      no_database=args.no_database, op_timeout=args.op_timeout, ties=args.ties,
                      ops_files=tuple(os.path.abspath(p) for p in args.ops_files),
                      dtype_tolerance=args.dtype_tolerance, jobs=args.jobs, shapes=shapes, params=params or {})


def _declarations(paths):
    """Load the ``--ops`` files (a usage error, in one line, for one that is missing or raises)."""
    if not paths:
        return
    from ..catalog.declarations import DeclarationError, load_declarations
    try:
        load_declarations(paths)
    except DeclarationError as exc:
        raise _UsageError(str(exc)) from None


def _resolve_ops(names):
    from ..catalog.registry import get_op, ops
    if not names:
        raise _UsageError("name at least one op (or 'all'); --list shows the catalog")
    if "all" in names:
        return ops()
    resolved = []
    for n in names:
        try:
            resolved.append(get_op(n))
        except ValueError as exc:
            raise _UsageError(f"{exc} (an op of your own: derive.define(...) in a file, given as --ops FILE)") \
                from None
    return resolved


def _literal(text, what):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise _UsageError(f"{what}: cannot read {text!r} as a Python literal") from None


def _one_case(args):
    """The ``--shapes``/``--param`` case, or (None, None)."""
    params = {}
    for item in args.param:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise _UsageError(f"--param takes NAME=VALUE, got {item!r}")
        params[name.strip()] = _literal(value.strip(), f"--param {name.strip()}")
    if args.shapes is None:
        if params:
            raise _UsageError("--param goes with --shapes (the case to check)")
        return None, None
    shapes = _literal(args.shapes, "--shapes")
    if isinstance(shapes, tuple) and all(isinstance(n, int) for n in shapes):
        shapes = (shapes,)  # one input: "(2,3)"
    if not isinstance(shapes, (tuple, list)) or not all(
            isinstance(s, (tuple, list)) and all(isinstance(n, int) and n >= 0 for n in s) for s in shapes):
        raise _UsageError(f"--shapes takes shapes of non-negative sizes like \"(2,3),(3,4)\", got {args.shapes!r}")
    return [tuple(s) for s in shapes], params


class _Progress:
    """Examples done, on stderr: a live line on a terminal, otherwise a line every ``every`` seconds."""

    def __init__(self, stream=None, every=30.0):
        self.stream = stream or sys.stderr
        self.live = getattr(self.stream, "isatty", lambda: False)()
        self.every = 0.25 if self.live else every
        self.shown = False

    def __call__(self, op_name):
        start = last = time.monotonic()

        def update(done, total):
            nonlocal last
            now = time.monotonic()
            if now - last < self.every:
                return
            last = now
            text = f"derive.check: {op_name}: {done:,}/{total:,} examples, {now - start:.0f} s"
            if self.live:
                self.stream.write("\r" + text + "\x1b[K")
                self.shown = True
            else:
                self.stream.write(text + "\n")
            self.stream.flush()
        return update

    def clear(self):
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


def _expression(args):
    """``--expression``: the composite derivation, printed; exit 0, or 2 for a bad expression."""
    if args.ops:
        raise _UsageError("--expression derives one expression; name no op")
    shapes = {}
    for item in args.input:
        name, eq, sizes = item.partition("=")
        if not eq or not name.strip().isidentifier():
            raise _UsageError(f"--input takes NAME=SIZES (X=N,D), got {item!r}")
        shapes[name.strip()] = tuple(int(n) if n.strip().isdigit() else n.strip()
                                     for n in sizes.split(",") if n.strip())
    from ..symbolic.composite import vjp_expression
    try:
        derivation = vjp_expression(args.expression, **shapes)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    print(derivation)
    return 0


def _graphs(args):
    """``--graphs``: the engine on generated graphs; exit 0 pass, 1 fail or nothing run."""
    ops = [op.name for op in _resolve_ops(args.ops)] if args.ops else None
    from ..checker.graphs import check_graphs
    from ..targets import TargetError
    from ..isolation import load_target
    try:
        target = load_target(args.target, args.style, isolate=not args.in_process, timeout=args.timeout,
                             load_timeout=args.load_timeout)
    except TargetError as exc:
        raise _UsageError(str(exc)) from None
    report = check_graphs(target, examples=args.examples, seed=args.seed, ops=ops)
    if args.format == "json":
        failure = report.failure
        print(json.dumps({"target": report.target, "status": report.status, "graphs": report.examples,
                          "ops": list(report.ops), "seconds": round(report.seconds, 3), "notes": report.notes,
                          "failure": None if failure is None else {"expression": failure.graph.expression(),
                                                                    "leaf_shapes": [list(s) for s in failure.leaf_shapes],
                                                                    "message": failure.message}}, indent=2))
    else:
        print(report)
    return 0 if report else 1


def _run(argv):
    args = _parser().parse_args(argv)
    _declarations(args.ops_files)
    if args.list:
        print("\n".join(_catalog_lines(args.format)))
        return 0
    _prestart(args)
    from ..checker.verify import MAX_EXAMPLES
    if not 1 <= args.examples <= MAX_EXAMPLES:
        raise _UsageError(f"--examples must be between 1 and {MAX_EXAMPLES:,}, got {args.examples}")
    for option in ("timeout", "op_timeout", "load_timeout", "budget"):
        value = getattr(args, option)
        if value is not None and not value > 0:
            raise _UsageError(f"--{option.replace('_', '-')} must be a positive number of seconds, got {value:g}")
    if args.jobs is not None and args.jobs < 1:
        raise _UsageError(f"--jobs must be at least 1, got {args.jobs}")
    if not args.gradebook.strip():
        raise _UsageError("--gradebook needs a folder's name")
    if args.expression is not None:
        return _expression(args)
    if args.graphs:
        return _graphs(args)
    selected = _resolve_ops(args.ops)
    shapes, params = _one_case(args)
    if shapes is not None and len(selected) != 1:
        raise _UsageError("--shapes checks one case of one op; name exactly one op")
    from ..grading import is_pattern
    if is_pattern(args.target):
        _storage()
        return _grade(args, selected)
    from ..checker.report import Status, run_summary
    from ..checker.run import load, run_ops
    from ..targets import TargetError
    from ..targets.base import describe_loaded
    setting = _sandbox_setting(args, grading=False)
    if setting == "on" and args.in_process:
        raise _UsageError("--sandbox on runs the target in a worker process; drop --in-process")
    args.sandboxed = setting == "on"
    if args.sandbox == "auto" and not args.sandboxed:
        print(f"derive.check: the sandbox is {setting}", file=sys.stderr)
    options = _run_options(args, shapes, params)
    _storage()
    try:
        target = load(options, wait=False)  # loads while the first op derives
    except TargetError as exc:
        raise _UsageError(str(exc)) from None
    many = len(selected) > 1
    progress = _Progress()

    def show(summary):
        progress.clear()
        if args.format == "text":
            print(summary.body() if many else summary, flush=True)

    try:
        reports, elapsed = run_ops(target, [op.name for op in selected], options, show, progress)
    except TargetError as exc:  # over processes: a target that cannot load is one usage error
        raise _UsageError(str(exc)) from None
    except ValueError as exc:  # a given case that does not fit the op
        raise _UsageError(str(exc)) from None
    passed = sum(1 for r in reports if r)
    failed = sum(1 for r in reports if Status(r.status).counts_as_failed)
    errors = sum(1 for r in reports if r.status == Status.ERROR)  # derive could not check it: not the code's FAIL
    skipped = sum(1 for r in reports if r.status == Status.SKIPPED)
    differs = sum(1 for r in reports if r.status == Status.DIFFERS)
    if args.format == "json":
        print(json.dumps(run_summary(target, reports, elapsed, seed=args.seed), indent=2))
    elif args.format == "markdown":
        print(f"Target: `{target.name}` ({target.style})\n")
        print("| op | status | examples | evidence | first failure |")
        print("|---|---|---|---|---|")
        for r in reports:
            ev = ", ".join(f"{k} {v}" for k, v in r.evidence.items())
            first = r.first.replace("|", "\\|")
            print(f"| `{r.op}` | {r.status} | {r.examples} | {ev} | {first} |")
    elif many:
        extra = f", {differs} with a different forward" if differs else ""
        errored = f", {errors} could not be checked" if errors else ""
        print(f"{passed} passed, {failed - errors} failed{errored}, {skipped} skipped{extra} in {elapsed:.1f}s "
              f"(target {describe_loaded(target)})")
    if failed or not passed:
        return 1
    if args.strict and passed != len(reports):
        return 1
    return 0


def _prestart(args):
    """Start the worker of a run that will want one (isolated, unsandboxed, one target) before the
    heavy imports: its imports and this process's then take one import time, not two."""
    from ..grading.submissions import is_pattern
    if not args.in_process and args.sandbox in (None, "off") and not is_pattern(args.target) \
            and not getattr(args, "expression", None):
        from ..isolation.process import prestart
        prestart()


def _sandbox_setting(args, grading):
    """``"on"`` or ``"off: <why>"``; a usage error when ``--sandbox on`` cannot be had."""
    from ..isolation.sandbox import available
    wanted = args.sandbox or ("auto" if grading else "off")
    if wanted == "off":
        return "off: --sandbox off" if args.sandbox else "off: not asked for (--sandbox on)"
    ok, why = available()
    if ok:
        return "on"
    if wanted == "on":
        raise _UsageError(f"--sandbox on: {why}")
    return f"off: {why}"


def _lock(folder):
    """Hold ``folder``'s lock for this run; a usage error when another run holds it."""
    import fcntl
    os.makedirs(folder, exist_ok=True)
    handle = open(os.path.join(folder, ".lock"), "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        pid = handle.read().strip()
        handle.close()
        raise _UsageError(f"another grading run{f' (pid {pid})' if pid else ''} is writing into {folder}/; "
                          "wait for it to end or give another --gradebook") from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _resumed(names, specs, owns, options, folder):
    """The rows already in ``folder`` graded with the same settings from the same code."""
    from ..grading.run import detail_name, fingerprint, source_digest
    settings, kept = fingerprint(options), {}
    for name, spec, own in zip(names, specs, owns):
        try:
            with open(os.path.join(folder, "submissions", detail_name(name))) as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        if (isinstance(data, dict) and data.get("settings") == settings and not data.get("fault")
                and data.get("source") == source_digest(spec, own) and data.get("submission") == name):
            kept[name] = data
    return kept


class _Stop(BaseException):
    """SIGTERM or SIGHUP: the grading ends as after Ctrl-C."""


def _on_signals():
    import signal

    def stop(number, frame):
        raise _Stop(signal.Signals(number).name)

    for name in ("SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), stop)


def _grade(args, selected):
    """Grading: every submission the ``--target`` glob matches, in parallel, into one gradebook."""
    from ..grading import Options, find, grade, short_names, write
    from ..grading.gradebook import not_graded, plain
    from ..grading.run import DEFAULT_BUDGET
    from ..grading.submissions import own_folders
    from ..isolation.sandbox import can_hide
    if args.shapes is not None or args.in_process:
        raise _UsageError("grading (a --target glob) checks drawn cases in worker processes; "
                          "drop --shapes/--in-process")
    specs = find(args.target)
    if not specs:
        raise _UsageError(f"--target {args.target!r} matches no file or folder")
    if os.path.exists(args.gradebook) and not os.path.isdir(args.gradebook):
        raise _UsageError(f"--gradebook {args.gradebook!r} is a file, not a folder")
    names = short_names(specs)
    owns, root = own_folders(specs)
    ops = [op.name for op in selected]
    options = Options(ops=ops, examples=args.examples, seed=0 if args.seed is None else args.seed,
                      dtype=args.dtype, style=args.style, timeout=args.timeout, op_timeout=args.op_timeout,
                      load_timeout=args.load_timeout, ties=args.ties, dtype_tolerance=args.dtype_tolerance,
                      budget=args.budget or DEFAULT_BUDGET, sandbox=_sandbox_setting(args, grading=True),
                      ops_files=tuple(os.path.abspath(p) for p in args.ops_files))
    lock = _lock(args.gradebook)
    finished = _resumed(names, specs, owns, options, args.gradebook) if args.resume else {}
    # a sandbox hides every other submission: their common folder when it can be hidden, else each one
    shared = [root] if root and len(specs) > 1 and can_hide(root) else None

    def hide(k):
        return shared if shared is not None else [o for j, o in enumerate(owns) if j != k]

    start = time.perf_counter()
    print(f"derive.check: grading {len(specs)} submission(s) on {len(ops)} op(s), seed {options.seed}, "
          f"into {args.gradebook}/" + (f", {len(finished)} kept from the last run" if finished else ""),
          file=sys.stderr, flush=True)
    if options.sandbox != "on":
        print(f"derive.check: the sandbox is off ({options.sandbox[len('off: '):]}): submissions run as this "
              "user, with this user's view of the files and the network", file=sys.stderr, flush=True)

    def save():
        return write([finished[n] for n in names if n in finished], ops, args.gradebook,
                     options=vars(options), seconds=time.perf_counter() - start)

    def progress(done, total, data):
        if data.get("error"):
            verdict = "not loaded: " + plain(data["error"])[:120]
        else:
            verdict = f"{data['passed']} passed, {data['failed']} failed, {data['skipped']} skipped"
        print(f"[{done:>{len(str(total))}}/{total}] {plain(data['submission'])}: {verdict} "
              f"({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
        save()  # the gradebook is up to date as each submission finishes

    _on_signals()
    try:
        try:
            if args.cluster:
                from ..grading.cluster import grade_on_cluster
                try:
                    results = grade_on_cluster(list(zip(names, specs)), options, args.gradebook, args.cluster,
                                               progress=progress, results=finished, owns=owns, hide=hide)
                except (RuntimeError, OSError, TimeoutError) as exc:
                    raise _UsageError(f"--cluster {args.cluster}: {exc}") from None
            else:
                results = grade(list(zip(names, specs)), options, args.gradebook, jobs=args.jobs,
                                progress=progress, results=finished, owns=owns, hide=hide)
        except (KeyboardInterrupt, _Stop) as exc:  # keep what was graded
            paths = save()
            why = f" by {exc.args[0]}" if isinstance(exc, _Stop) and exc.args else ""
            print(f"derive.check: interrupted{why}: {len(finished)} of {len(specs)} submission(s) graded, "
                  f"written to {paths['csv']}", file=sys.stderr)
            return 130
        elapsed = time.perf_counter() - start
        paths = write(results, ops, args.gradebook, options=vars(options), seconds=elapsed)
    except OSError as exc:
        raise _UsageError(f"cannot write the gradebook into {args.gradebook}/: {exc}") from None
    finally:
        lock.close()
    with open(paths["md"]) as f:
        print(f.read(), end="")
    print(f"derive.check: gradebook written to {paths['csv']}, {paths['json']} and {paths['md']} "
          f"in {elapsed:.0f} s", file=sys.stderr)
    missed = not_graded(results)
    if missed:
        print(f"derive.check: {len(missed)} submission(s) could not be graded for derive's own reasons: "
              f"{', '.join(plain(n) for n in missed[:10])}", file=sys.stderr)
        return 3
    return 0


def _installed_derive(path):
    """The folder of the derive package Python finds on ``path`` (sys.path without the working
    directory), or None."""
    saved = sys.path[:]
    sys.path[:] = path
    try:
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            try:
                spec = find("derive", None) if find else None
            except Exception:  # noqa: BLE001  a finder that cannot answer
                continue
            if spec is not None and spec.origin:
                return os.path.dirname(os.path.realpath(spec.origin))
        return None
    finally:
        sys.path[:] = saved


def _own_imports():
    """derive is never imported from the working directory (where a submission could have written a
    ``derive/``): the directory leaves ``sys.path`` (so the processes this run starts cannot import
    from it either), and a derive that came from there but is not the installed one is refused."""
    import derive
    cwd = os.path.realpath(os.getcwd())
    clean = [p for p in sys.path if p and os.path.realpath(p) != cwd]
    if getattr(derive, "__file__", None) is None:  # ./derive is a folder with no __init__.py (a checkout's root)
        raise _UsageError("./derive in the working directory is a folder, not the derive package; "
                          "run from another folder, or use the derive-check script")
    running = os.path.dirname(os.path.realpath(derive.__file__))
    if os.path.dirname(running) == cwd:
        installed = _installed_derive(clean)
        if installed is not None and installed != running:
            raise _UsageError(f"./derive in the working directory is not the installed derive ({installed}); "
                              "run from another folder, or use the derive-check script")
        return  # a checkout of derive, run from its root: it is the installed one
    sys.path[:] = clean


def _wants_json(argv):
    """Whether ``argv`` asks for ``--format json`` (read without the parser, which may be what failed)."""
    return any(a == "--format=json" or (a == "--format" and nxt == "json") for a, nxt in zip(argv, [*argv[1:], ""]))


def main(argv=None):
    """Entry point of ``python -m derive.check`` and the ``derive-check`` script."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        _own_imports()
        return _run(argv)
    except _UsageError as exc:
        print(f"derive.check: error: {exc}", file=sys.stderr)
        if _wants_json(argv):  # a reader of stdout gets valid JSON that says so, not nothing
            from ..checker.report import JSON_SCHEMA
            print(json.dumps({"schema": JSON_SCHEMA, "derive": __version__, "error": str(exc),
                              "ops": []}, indent=2))
        return 2
    except KeyboardInterrupt:
        print("derive.check: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left (``--list | head``): the rest goes nowhere, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
