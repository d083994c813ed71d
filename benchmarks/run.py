"""Verification speed: derive.check against torch.autograd.gradcheck and against the floor.

    python benchmarks/run.py [--out benchmarks/results.md] [--quick]

Prints a Markdown table and writes it to ``--out``.  Every timing is the median
of several runs, measured side by side in one process on this machine.  torch
columns are skipped with a note when torch is not installed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = (16, 32, 64, 128, 512)
FULL_GRADCHECK_MAX = 64  # full gradcheck builds an n^2 x n^2 Jacobian numerically; beyond this it takes minutes


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fmt(seconds):
    if seconds is None:
        return "–"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def ratio(a, b):
    if a is None or b is None:
        return "–"
    r = a / b
    return f"{r:,.1f}x" if r >= 0.1 else f"{r:.3f}x"


def bench_matmul(quick):
    import derive
    import numeric.backward as nb
    from derive.symbolic.oracle import evaluate_closed_form
    from derive.catalog.strategies import make_inputs, make_upstream
    from derive.checker.verify import derivation_for
    from derive.catalog.registry import Case

    try:
        import torch
        from torch.autograd import gradcheck
    except ImportError:
        torch = None

    from derive.isolation import load_target
    in_process = load_target("numeric.backward", isolate=False)
    rows = []
    for n in SIZES:
        shapes = [(n, n), (n, n)]
        repeat = 3 if n >= 512 else 7
        derive.check("matmul", target="numeric.backward", shapes=shapes, database=None)  # warm the cache
        ours = median_time(lambda: derive.check("matmul", target="numeric.backward", shapes=shapes,
                                                database=None), repeat)
        local = median_time(lambda: derive.check("matmul", target=in_process, shapes=shapes, database=None), repeat)
        report = derive.check("matmul", target="numeric.backward", shapes=shapes, database=None)
        evidence = ", ".join(k for k, v in report.evidence.items() if v)
        case = Case(tuple(shapes), {})
        x, y = make_inputs("matmul", case, 0)
        G = make_upstream((n, n), 0)
        d, _ = derivation_for("matmul", case)

        def floor():
            nb.matmul(G, x, y)
            for g in d:
                evaluate_closed_form(g, {"G": G, "X": x, "Y": y})

        floor_t = median_time(floor, repeat)
        full = fast = None
        if torch is not None:
            A = torch.tensor(x, requires_grad=True)
            B = torch.tensor(y, requires_grad=True)
            fast = median_time(lambda: gradcheck(torch.matmul, (A, B), fast_mode=True), repeat)
            if n <= FULL_GRADCHECK_MAX and not (quick and n > 32):
                full = median_time(lambda: gradcheck(torch.matmul, (A, B)), 1 if n >= 64 else 3)
        rows.append((n, evidence, ours, local, floor_t, full, fast))
    return rows, torch is not None


CONV2D = {"shapes": [(8, 16, 32, 32), (32, 16, 3, 3), (32,)], "params": {"stride": 2, "padding": 1, "dilation": 1}}


def bench_conv2d(repeat=5):
    """One conv2d case checked per entry, against one im2col forward + backward of numeric.convolution."""
    import derive
    from numeric import convolution as C
    from derive.isolation import load_target
    shapes, params = CONV2D["shapes"], CONV2D["params"]
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s) for s in shapes)
    G = rng.standard_normal((8, 32, 16, 16))

    def floor():
        C.conv2d_forward(x, w, b, **params)
        C.conv2d_grad_x(G, x, w, b, **params)
        C.conv2d_grad_weight(G, x, w, b, **params)
        C.conv2d_grad_bias(G, x, w, b, **params)

    local = load_target("numeric.backward", isolate=False)
    report = derive.check("conv2d", target=local, shapes=shapes, params=params, database=None)  # warm up
    assert report, str(report)
    floor_t = median_time(floor, repeat)
    ours = median_time(lambda: derive.check("conv2d", target=local, shapes=shapes, params=params,
                                            database=None), repeat)
    isolated = median_time(lambda: derive.check("conv2d", target="numeric.backward", shapes=shapes,
                                                params=params, database=None), repeat)
    return floor_t, ours, isolated


def peak_memory_512():
    import derive
    shapes = [(512, 512), (512, 512)]
    derive.check("matmul", target="numeric.backward", shapes=shapes, database=None)
    tracemalloc.start()
    derive.check("matmul", target="numeric.backward", shapes=shapes, database=None)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, 2 * 512 * 512 * 8 / 2**20


def per_example_overhead(examples=200):
    """Seconds per drawn example of a matmul check, isolated and in-process."""
    import derive
    from derive.isolation import load_target
    times = []
    for target in (load_target("numeric"), load_target("numeric", isolate=False)):
        derive.check("matmul", target=target, examples=examples, seed=0, database=None)  # warm up
        times.append(median_time(lambda: derive.check("matmul", target=target, examples=examples, seed=0,
                                                      database=None), 3) / examples)
    return times


def sandbox_costs(submissions=4, examples=200):
    """What the sandbox costs: seconds per graded submission (its start: a copy of its folder and a
    bubblewrap launch) and per drawn example, sandbox on against off."""
    import shutil
    import tempfile
    import derive
    from derive.isolation.sandbox import Sandbox, available
    from derive.isolation import load_target
    if not available()[0]:
        return None
    sys.path.insert(0, os.path.join(HERE, "..", "tests"))
    from classroom import OPS, _source
    root = tempfile.mkdtemp(prefix="derive-bench-")
    try:
        for k in range(submissions):
            os.makedirs(os.path.join(root, "subs", f"s{k}"))
            with open(os.path.join(root, "subs", f"s{k}", "functional.py"), "w") as f:
                f.write(_source())
        per_run = {}
        for mode in ("on", "off"):
            cmd = [sys.executable, "-m", "derive.check", *OPS, "--target", "subs/*/functional.py", "--jobs", "1",
                   "--examples", "20", "--sandbox", mode, "--gradebook", f"out-{mode}"]
            per_run[mode] = median_time(lambda: subprocess.run(cmd, cwd=root, capture_output=True, check=True), 3)
        per_submission = (per_run["on"] - per_run["off"]) / submissions
        spec = os.path.join(root, "subs", "s0", "functional.py")
        times = {}
        for mode in ("on", "off"):
            box = Sandbox() if mode == "on" else None
            target = load_target(box.prepare(spec) if box else spec, sandbox=box)
            derive.check("exp", target=target, examples=examples, seed=0, database=None)  # warm up
            times[mode] = median_time(lambda: derive.check("exp", target=target, examples=examples, seed=0,
                                                           database=None), 3) / examples
            target.close()
            if box:
                box.cleanup()
        return per_run, per_submission, times
    finally:
        shutil.rmtree(root, ignore_errors=True)


def wall(cmd, repeat):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return median_time(lambda: subprocess.run(cmd, check=False, capture_output=True, env=env), repeat)


def plugin_cost(repeat):
    """``pytest --collect-only`` of an unrelated one-test project, with derive's plugin and without."""
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "test_unrelated.py"), "w") as f:
            f.write("def test_one():\n    assert 1 + 1 == 2\n")
        base = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-n", "0", folder]
        with_plugin = wall(base, repeat)
        without = wall(base + ["-p", "no:derive"], repeat)
    return with_plugin, without


def derivation_times():
    """Deriving the default catalog in a new process: from nothing (no derivation kept on disk), from
    the derivations an earlier process kept, and again in the same process (in memory)."""
    import tempfile
    code = ("import time, derive; t=time.perf_counter(); [derive.vjp(o) for o in derive.names()]; "
            "c=time.perf_counter()-t; t=time.perf_counter(); [derive.vjp(o) for o in derive.names()]; "
            "print(c, time.perf_counter()-t)")
    cold, stored, cached = [], [], []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as folder:
            env = {**os.environ, "DERIVE_CACHE_DIR": folder}
            for times in (cold, stored):
                out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                     env=env).stdout
                a, b = map(float, out.split())
                times.append(a)
                cached.append(b)
    return statistics.median(cold), statistics.median(stored), statistics.median(cached)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(HERE, "results.md"))
    parser.add_argument("--quick", action="store_true", help="fewer repeats, full gradcheck only up to n=32")
    args = parser.parse_args(argv)

    lines = []
    emit = lines.append
    emit(f"Measured {datetime.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, "
         f"Python {platform.python_version()}, NumPy {np.__version__}"
         + (f", torch {__import__('torch').__version__}" if _has_torch() else ", torch not installed") + ".")
    emit("")
    rows, has_torch = bench_matmul(args.quick)
    emit("Per-entry verification of the matmul backward (square float64, `derive.check` with given shapes, "
         "target `numeric.backward` run isolated in a worker process as by default, and in-process; "
         "median of several runs):")
    emit("")
    emit("| n | evidence | derive.check | in-process | floor (backward + closed form) | ours / floor "
         "| gradcheck full | full / ours | gradcheck fast_mode | fast / ours |")
    emit("|---|---|---|---|---|---|---|---|---|---|")
    for n, evidence, ours, local, floor_t, full, fast in rows:
        emit(f"| {n} | {evidence} | {fmt(ours)} | {fmt(local)} | {fmt(floor_t)} | {ratio(ours, floor_t)} "
             f"| {fmt(full)} | {ratio(full, ours)} | {fmt(fast)} | {ratio(fast, ours)} |")
    emit("")
    emit("Cases of up to 512 input entries (every drawn case) also get exact evidence: random rationals, "
         "no tolerance; that is what makes n = 16 slower than the float-only sizes.")
    if not has_torch:
        emit("")
        emit("torch is not installed: the gradcheck columns are empty (`pip install torch`).")
    else:
        emit("")
        emit(f"Full gradcheck is measured up to n = {FULL_GRADCHECK_MAX}: it builds the numerical Jacobian with "
             "two forward passes per input entry (2·2n² matmuls), minutes beyond that.")
    floor_t, ours, isolated = bench_conv2d(3 if args.quick else 5)
    emit("")
    emit("conv2d, N=8, C_in=16, C_out=32, 32x32 images, 3x3 kernels, stride 2, padding 1, one case checked per entry "
         "(the target `numeric.backward` is called twice, for determinism; the reference for X is the chain-rule "
         "sum scattered, for W and b the derived index formula evaluated vectorized):")
    emit("")
    emit("| im2col forward + backward (the floor) | derive.check in-process | ours / floor | isolated | target |")
    emit("|---|---|---|---|---|")
    emit(f"| {fmt(floor_t)} | {fmt(ours)} | {ratio(ours, floor_t)} | {fmt(isolated)} | 5x |")
    peak, inputs = peak_memory_512()
    emit("")
    emit(f"Peak traced memory of the n = 512 check: {peak:.1f} MiB (the two inputs alone are {inputs:.1f} MiB).")

    floor_cmd = [sys.executable, "-c", "import numpy, sympy, hypothesis"]
    repeat = 3 if args.quick else 5
    imports = wall(floor_cmd, repeat)
    one = wall([sys.executable, "-m", "derive.check", "matmul", "--no-database"], repeat)
    every = wall([sys.executable, "-m", "derive.check", "all", "--no-database"], 1 if args.quick else 3)
    every_serial = wall([sys.executable, "-m", "derive.check", "all", "--no-database", "--jobs", "1"], 1)
    every_local = wall([sys.executable, "-m", "derive.check", "all", "--no-database", "--in-process"], 1)
    with_plugin, without_plugin = plugin_cost(repeat)
    isolated_example, local_example = per_example_overhead()
    cold, stored, cached = derivation_times()
    emit("")
    emit("| command | wall time | against |")
    emit("|---|---|---|")
    emit(f"| `import numpy, sympy, hypothesis` (the floor) | {fmt(imports)} | |")
    emit(f"| `python -m derive.check matmul` | {fmt(one)} | {ratio(one, imports)} the import floor |")
    emit(f"| `pytest --collect-only` of an unrelated project, derive installed | {fmt(with_plugin)} | "
         f"+{(with_plugin / without_plugin - 1) * 100:.0f}% over {fmt(without_plugin)} without the plugin "
         "(target at most +15%) |")
    emit(f"| `python -m derive.check all` (one process per core) | {fmt(every)} | target under 30 s |")
    emit(f"| `python -m derive.check all --jobs 1` (one op at a time) | {fmt(every_serial)} | "
         f"{ratio(every_serial, every)} the parallel run |")
    emit(f"| `python -m derive.check all --in-process` (one op at a time) | {fmt(every_local)} | isolation costs "
         f"{fmt(every_serial - every_local)} ({ratio(every_serial, every_local)}) |")
    emit(f"| derive the default catalog ({len(__import__('derive').names())} ops), cold | {fmt(cold)} "
         "| target under 5 s |")
    emit(f"| the same, from the derivations an earlier run kept on disk | {fmt(stored)} | |")
    emit(f"| the same, again in one process (in memory) | {fmt(cached)} | |")
    emit("")
    emit(f"Isolation per drawn example (matmul, target `numeric`, 200 examples, 2-3 calls of the target each): "
         f"{fmt(isolated_example)} in a worker process, {fmt(local_example)} in-process "
         f"(overhead {fmt(isolated_example - local_example)} per example).")
    costs = sandbox_costs()
    emit("")
    if costs is None:
        emit("The sandbox is not available on this machine: its cost is not measured.")
    else:
        per_run, per_submission, per_example = costs
        emit(f"The sandbox (grading 4 correct submissions, 5 ops, 20 examples each, `--jobs 1`): "
             f"{fmt(per_run['on'])} with it, {fmt(per_run['off'])} without, {fmt(per_submission)} per submission; "
             f"per drawn example of exp (200 examples), {fmt(per_example['on'])} sandboxed, "
             f"{fmt(per_example['off'])} in a plain worker.")
    text = "\n".join(lines)
    print(text)
    with open(args.out, "w") as f:
        f.write(text + "\n")
    return 0


def _has_torch():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


if __name__ == "__main__":
    sys.exit(main())
