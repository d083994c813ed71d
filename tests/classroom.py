"""A generated class of submissions for the gradebook tests: correct ones, the classic mistakes, and
submissions that exit, hang, crash, print or do not import.  ``make_class(folder)`` writes them and
returns what each one's gradebook row must say."""

import os
import textwrap

OPS = ["add", "matmul", "sum", "mean", "exp"]

CORRECT = {
    "head": '''
        import numpy as np


        def _unbroadcast(grad, shape):
            while grad.ndim > len(shape):
                grad = grad.sum(axis=0)
            for axis, n in enumerate(shape):
                if n == 1 and grad.shape[axis] != 1:
                    grad = grad.sum(axis=axis, keepdims=True)
            return grad
        ''',
    "add": '''
        def add(grad, x, y):
            return _unbroadcast(grad, np.shape(x)), _unbroadcast(grad, np.shape(y))
        ''',
    "matmul": '''
        def matmul(grad, x, y):
            x, y, grad = np.asarray(x), np.asarray(y), np.asarray(grad)
            if x.ndim == 1 and y.ndim == 1:
                return grad * y, grad * x
            x2 = x[None, :] if x.ndim == 1 else x
            y2 = y[:, None] if y.ndim == 1 else y
            if x.ndim == 1:
                grad = np.expand_dims(grad, -2)
            if y.ndim == 1:
                grad = np.expand_dims(grad, -1)
            gx = _unbroadcast(grad @ np.swapaxes(y2, -1, -2), x2.shape)
            gy = _unbroadcast(np.swapaxes(x2, -1, -2) @ grad, y2.shape)
            return gx.reshape(x.shape), gy.reshape(y.shape)
        ''',
    "sum": '''
        def sum(grad, x, axis=None, keepdims=False):
            x = np.asarray(x)
            if axis is not None and not keepdims:
                axes = (axis,) if isinstance(axis, int) else tuple(axis)
                grad = np.expand_dims(grad, tuple(a % x.ndim for a in axes))
            return np.broadcast_to(grad, x.shape).copy()
        ''',
    "mean": '''
        def mean(grad, x, axis=None, keepdims=False):
            return sum(grad, x, axis, keepdims) * np.size(grad) / np.size(x)
        ''',
    "exp": '''
        def exp(grad, x):
            return grad * np.exp(x)
        ''',
}

# name: (op replaced, its code, words the op's cell must contain)
MISTAKES = {
    "no_unbroadcast": ("add", '''
        def add(grad, x, y):
            return grad, grad
        ''', "FAIL: dl/dX: gradient has shape"),
    "matmul_swapped": ("matmul", '''
        def matmul(grad, x, y):
            return np.swapaxes(y, -1, -2) @ grad, grad @ np.swapaxes(x, -1, -2)
        ''', "FAIL"),
    "sum_aligned_by_size": ("sum", '''
        def sum(grad, x, axis=None, keepdims=False):
            if axis is None or keepdims:
                return np.broadcast_to(grad, np.shape(x)).copy()
            remaining = list(np.shape(grad))
            aligned = tuple(remaining.pop(remaining.index(n)) if n in remaining else 1 for n in np.shape(x))
            return np.broadcast_to(np.reshape(grad, aligned), np.shape(x)).copy()
        ''', "FAIL: dl/dX"),
    "mean_without_1_over_n": ("mean", '''
        def mean(grad, x, axis=None, keepdims=False):
            return sum(grad, x, axis, keepdims)
        ''', "FAIL: dl/dX"),
    "exp_times_x": ("exp", '''
        def exp(grad, x):
            return grad * x
        ''', "FAIL: dl/dX"),
}

HOSTILE = {
    "exits_in_exp": ("exp", '''
        def exp(grad, x):
            import sys
            sys.exit(0)
        ''', "FAIL: the target called sys.exit(0)"),
    "hangs_in_matmul": ("matmul", '''
        def matmul(grad, x, y):
            while True:
                pass
        ''', "FAIL: the target's matmul timed out after"),
    "segfaults_in_sum": ("sum", '''
        def sum(grad, x, axis=None, keepdims=False):
            import ctypes
            return ctypes.string_at(0)
        ''', "FAIL: the target's sum crashed with SIGSEGV"),
    "os_exit_in_mean": ("mean", '''
        def mean(grad, x, axis=None, keepdims=False):
            import os
            os._exit(1)
        ''', "FAIL: the target's mean ended the process with exit code 1"),
    "prints_in_add": ("add", '''
        def add(grad, x, y):
            print("debug " * 10000)
            return _unbroadcast(grad, np.shape(x)), _unbroadcast(grad, np.shape(y))
        ''', "PASS"),
}

# name: (source, words in the row's problem)
BROKEN = {
    "import_error": ("import numpy as np\nimport no_such_module_for_grading\n", "No module named"),
    "syntax_error": ("def add(grad, x, y)\n    return grad, grad\n", "syntax error"),
    "exits_at_import": ("import sys\nsys.exit(0)\n", "it called sys.exit(0)"),
}


def _source(replace=None):
    parts = [CORRECT["head"]] + [CORRECT[op] for op in OPS]
    if replace is not None:
        op, code = replace
        parts[1 + OPS.index(op)] = code
    return "\n".join(textwrap.dedent(p).strip() + "\n\n" for p in parts)


def _write(folder, name, source):
    os.makedirs(os.path.join(folder, name), exist_ok=True)
    with open(os.path.join(folder, name, "functional.py"), "w") as f:
        f.write(source)


def assert_rows_match(table, expected):
    """Each gradebook row (``{submission: row}``) says what :func:`make_class` said it must."""
    assert set(table) == set(expected)
    for student, (problem, cells) in expected.items():
        row = table[student]
        assert problem in row["problem"] and bool(problem) == bool(row["problem"]), (student, row)
        for op, words in cells.items():
            assert row[op].startswith(words) or words in row[op], (student, op, row[op])
            if words == "PASS":
                assert row[op] == "PASS", (student, op, row[op])


def make_class(folder, correct=12, repeats=2):
    """Write the class into ``folder/<student>/functional.py``; ``{student: (problem words, {op: words})}``."""
    expected = {}
    for k in range(correct):
        _write(folder, f"correct_{k:02d}", _source())
        expected[f"correct_{k:02d}"] = ("", dict.fromkeys(OPS, "PASS"))
    for name, (op, code, words) in {**MISTAKES, **HOSTILE}.items():
        copies = repeats if name in MISTAKES else 1
        for k in range(copies):
            student = f"{name}_{k}" if copies > 1 else name
            _write(folder, student, _source((op, code)))
            cells = dict.fromkeys(OPS, "PASS")
            cells[op] = words
            if op == "sum":  # mean calls the student's sum: it inherits the mistake
                cells["mean"] = words.replace("sum", "mean") if "crashed" in words else "FAIL"
            expected[student] = ("", cells)
    for name, (source, words) in BROKEN.items():
        _write(folder, name, source)
        expected[name] = (words, dict.fromkeys(OPS, "NOT LOADED"))
    return expected
