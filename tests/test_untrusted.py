"""Untrusted code cannot decide a run: each hostile target in tests/targets/hostile ends with the right
verdict, the right exit code and a parseable report, and the other ops are still checked."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import derive
from derive.targets import TargetError
from derive.isolation import load_target

HOSTILE = os.path.join(os.path.dirname(__file__), "targets", "hostile")


def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "derive.check", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=os.path.dirname(HOSTILE))


def check_hostile(name, *extra):
    r = cli("add", "exp", "--target", os.path.join(HOSTILE, name + ".py"), "--format", "json", "--examples", "10",
            "--seed", "0", "--no-database", "--timeout", "2", *extra)
    data = json.loads(r.stdout)  # always valid JSON, whatever the target printed
    return r, {o["op"]: o for o in data["ops"]}


# name, words in exp's failure message
BACKWARDS = [
    ("exit0", "the target called sys.exit(0)"),
    ("exit3", "the target called sys.exit(3)"),
    ("raise_systemexit", "the target called sys.exit()"),
    ("os_exit", "the target's exp ended the process with exit code 0"),
    ("busy_loop", "the target's exp timed out after 2 s"),
    ("long_sleep", "the target's exp timed out after 2 s"),
    ("segfault", "the target's exp crashed with SIGSEGV (at segfault.py:8)"),
    ("sigterm", "the target's exp crashed with SIGTERM"),
    ("keyboard_interrupt", "the backward raised KeyboardInterrupt (at keyboard_interrupt.py:5)"),
    ("tampers", "dl/dX"),  # its patches of derive stay in its own process: the wrong exp is found
    ("typo_tensor", "the forward raised AttributeError: 'Tensor' object has no attribute 'vlaue'"),
    ("nondeterministic", "two calls with the same arguments gave different results"),
    ("huge_allocation", "the backward raised MemoryError"),
    ("stalls_mid_reply", "the target's exp timed out after 2 s (its answer stalled)"),
    ("huge_wrong_shape", "broke the worker's answer: a reply of 1600000215 bytes, more than this call can hold"),
    ("sympy_entry", "dl/dX: not an array (ndarray: holds objects that are not numbers (Tuple))"),
]


@pytest.mark.parametrize("name,words", BACKWARDS, ids=[b[0] for b in BACKWARDS])
def test_a_hostile_backward_fails_its_op_and_nothing_else(name, words):
    r, ops = check_hostile(name)
    assert r.returncode == 1, r.stderr
    assert ops["exp"]["status"] == "fail", ops["exp"]
    assert words in ops["exp"]["failures"][0]["message"], ops["exp"]["failures"][0]
    assert ops["add"]["status"] == "pass" and ops["add"]["examples"] == 10  # the other op is still checked


def test_a_crash_shows_what_the_target_printed_before_it():
    r, ops = check_hostile("segfault")
    output = ops["exp"]["failures"][0]["output"]
    assert "about to read address 0" in output and "Segmentation fault" in output


def test_output_stays_out_of_the_report_and_is_shown_with_its_failure():
    r, ops = check_hostile("prints")
    assert r.returncode == 1
    assert len(r.stdout) < 200_000  # 2 MB printed per call of add never reaches the report
    assert ops["add"]["status"] == "pass"
    assert any("printed" in n and "bytes" in n for n in ops["add"]["notes"])
    failure = ops["exp"]["failures"][0]
    assert failure["output"].startswith("DEBUG exp backward: shape") and "xxxx" not in failure["output"]
    text = cli("exp", "--target", os.path.join(HOSTILE, "prints.py"), "--examples", "5", "--seed", "0",
               "--no-database").stdout
    assert "the target printed" in text and "| DEBUG exp backward" in text


@pytest.mark.parametrize("name,words", [
    ("exits_at_import", "it called sys.exit(0)"),
    ("hangs_at_import", "timed out after 2 s"),
    ("segfault_at_import", "crashed with SIGSEGV (at segfault_at_import.py:3)"),
])
def test_a_target_that_cannot_be_loaded_is_one_line_and_exit_2(name, words):
    r = cli("add", "--target", os.path.join(HOSTILE, name + ".py"), "--format", "json", "--load-timeout", "2")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, r.stderr
    data = json.loads(r.stdout)  # a reader of --format json still gets JSON, saying why nothing ran
    assert words in data["error"] and data["ops"] == [], r.stdout


def test_the_python_api_survives_every_hostile_target():
    """A grading loop through the API goes on past exits and crashes (they never reach the caller)."""
    verdicts = {}
    for name in ("exit0", "os_exit", "segfault", "keyboard_interrupt"):
        report = derive.check("exp", target=os.path.join(HOSTILE, name + ".py"), examples=5, seed=0,
                              database=None)
        verdicts[name] = report.status
    assert verdicts == dict.fromkeys(verdicts, "fail")
    with pytest.raises(TargetError, match="it called sys.exit"):
        load_target(os.path.join(HOSTILE, "exits_at_import.py"))


def test_an_exit_in_process_is_a_failure_too():
    def exp(grad, x):
        sys.exit(0)

    report = derive.check("exp", target=exp, examples=5, seed=0, database=None)
    assert report.status == "fail" and "the target called sys.exit(0)" in report.failures[0].message


@pytest.mark.parametrize("kind", ["eval", "sympy", "numpy"])
def test_a_forged_reply_runs_nothing_in_the_checker(kind, tmp_path):
    """The worker is the target's: one that forges its replies (a pickle naming eval, a SymPy object
    rebuilt from text, an ndarray of objects) gets a FAIL, and its code never runs in the checker."""
    marker = tmp_path / "marker"
    r = subprocess.run([sys.executable, "-m", "derive.check", "exp", "--target",
                        os.path.join(HOSTILE, "forged_reply.py"), "--format", "json", "--examples", "5",
                        "--no-database"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                       env={**os.environ, "FORGED_KIND": kind, "FORGED_MARKER": str(marker)})
    op = json.loads(r.stdout)["ops"][0]
    assert r.returncode == 1 and op["status"] == "fail"
    assert "broke the worker's answer: a reply may not build" in op["failures"][0]["message"]
    assert not marker.exists()


@pytest.mark.parametrize("reply,words", [
    (("ok", [1.0]), "a reply that is not a message (tuple)"),
    ({"kind": "eval"}, "an unexpected reply 'eval'"),
    ({"kind": "loaded", "name": "x"}, "an unexpected reply 'loaded'"),  # an answer to another request
    ({"kind": "ran", "output": None, "grads": []}, "a ran reply without notes, inputs_after, G_after, again"),
])
def test_a_reply_that_is_not_the_protocols_is_the_workers_crash(reply, words):
    """Both sides read one protocol: a reply of another shape is a crash of the worker (its op's FAIL,
    "unreadable answer"), never read by position into the wrong field."""
    from derive.isolation.target import _answer
    from derive.targets.base import TargetCrashed
    with pytest.raises(TargetCrashed, match="unreadable answer") as info:
        _answer(reply, "ran")
    assert words in str(info.value)


def test_an_error_reply_is_raised_as_what_it_stands_for():
    from derive.isolation.protocol import reply
    from derive.isolation.target import _answer
    from derive.targets.base import ProtocolError, TargetCrashed
    with pytest.raises(ProtocolError) as info:
        _answer(reply("protocol", message="wants a Tensor", mismatch=True), "ran")
    assert info.value.mismatch is True and str(info.value) == "wants a Tensor"
    with pytest.raises(TargetCrashed, match=r"sys.exit\(3\)"):
        _answer(reply("exit", code=3), "supported")
    with pytest.raises(TypeError, match="has the fields"):
        reply("exit")  # the worker cannot write a reply short of a field either


def test_a_reply_builds_no_class_at_all():
    import pickle

    from derive.isolation.channel import ReplyError, loads_reply
    assert loads_reply(pickle.dumps(("ok", [1, 2.5, "x", b"\0", {"k": (None, True)}]))) == \
        ("ok", [1, 2.5, "x", b"\0", {"k": (None, True)}])
    for forged in (pickle.dumps(os.system), pickle.dumps(np.arange(3.0)), pickle.dumps(np.float64(1.0)),
                   b"cposix\nsystem\n(S'true'\ntR."):
        with pytest.raises(ReplyError, match="may not build"):
            loads_reply(forged)


def _decode(item, symbols=None, nodes=None):
    from derive.isolation.channel import Budget, decode_value
    from derive.targets import CONSTANT
    return decode_value(item, CONSTANT, symbols, None if nodes is None else Budget(nodes))


def test_exact_values_cross_as_whitelisted_trees_and_come_back_equal():
    import sympy as sp

    from derive.isolation.channel import encode_value
    from derive.symbolic.oracle import symbol_array
    from derive.targets import CONSTANT
    from derive.targets.base import to_array
    X, G = symbol_array("X", (2, 2)), symbol_array("G", (2,))
    value = np.array([[G[0] * X[0, 1] - sp.Rational(1, 3) * X[1, 0] ** 2, 0],
                      [sp.Float(0.5) * G[1], (X[0, 0] + G[0]) ** -1]], dtype=object)
    item = encode_value(value, to_array, CONSTANT)
    assert item[0] == "exact"
    back = _decode(item, symbols={s.name: s for s in [*X.ravel(), *G.ravel()]})
    assert back.shape == (2, 2) and all(sp.simplify(a - b) == 0 for a, b in zip(back.ravel(), value.ravel()))
    from fractions import Fraction
    ints = np.array([3, Fraction(-7, 2), 2 ** 100], dtype=object)
    assert _decode(encode_value(ints, to_array, CONSTANT)).tolist() == [3, Fraction(-7, 2), 2 ** 100]


@pytest.mark.parametrize("tree,words", [
    (("sym", "__import__('os')"), "a symbol that its case does not have"),
    (("call", "exec", "1"), "not a number or a polynomial"),
    (("^", ("sym", "X[0]"), 10 ** 6), "not a number or a polynomial"),
    (2 ** 5000, "not a bounded integer"),
    (("frac", 1, 0), "denominator is not positive"),
    ("X[0]", "not a number or a polynomial"),
])
def test_an_exact_tree_outside_the_whitelist_is_refused(tree, words):
    import sympy as sp

    from derive.isolation.channel import ReplyError
    with pytest.raises(ReplyError, match=words):
        _decode(("exact", [1], [tree]), symbols={"X[0]": sp.Symbol("X[0]")})


def test_a_tree_of_shared_references_cannot_make_the_checker_build_without_end():
    import pickle

    from derive.isolation.channel import ReplyError, loads_reply
    node = ("+", [1, 1])
    for _ in range(60):  # 2**60 nodes once unfolded, a few hundred bytes as a pickle
        node = ("+", [node, node])
    item = loads_reply(pickle.dumps(("exact", [1], [node])))
    with pytest.raises(ReplyError, match="more terms than its case can hold"):
        _decode(item, nodes=10_000)


@pytest.mark.parametrize("item,words", [
    (("array", "|O", [1], b"\0" * 8), "dtype that is not numeric"),
    (("array", "<f8", [2], b"\0" * 8), "bytes do not fill its shape"),
    (("array", "<f8", [-1], b""), "shape that is not a list of sizes"),
    (("array", "<f8", [2 ** 40, 2 ** 40], b""), "larger than any reply"),
    (("exact", [2], [1]), "entries do not fill its shape"),
    (("eval", "1"), "unknown value tag"),
    (["array"], "without its tag"),
])
def test_a_malformed_array_is_refused(item, words):
    from derive.isolation.channel import ReplyError
    with pytest.raises(ReplyError, match=words):
        _decode(item)


def test_a_reply_larger_than_its_call_can_hold_is_refused_before_it_is_read():
    import socket

    from derive.isolation.channel import Channel, ReplyError
    import threading
    a, b = socket.socketpair()
    sender, receiver = Channel(a), Channel(b)
    thread = threading.Thread(target=lambda: _ignore_broken_pipe(sender.send, ("ok", np.zeros(100_000))))
    thread.start()  # 800 kB, out of band: more than a socket holds unread
    with pytest.raises(ReplyError, match="a reply of 800... bytes, more than this call can hold"):
        receiver.receive(limit=10_000)
    b.close()
    thread.join(10)
    a.close()
    assert not thread.is_alive()


def _ignore_broken_pipe(fn, *args):
    try:
        fn(*args)
    except OSError:
        pass


def test_a_worker_is_reused_across_ops_and_restarted_after_a_crash():
    target = load_target(os.path.join(HOSTILE, "segfault.py"))
    assert derive.check("add", target=target, examples=5, seed=0, database=None)
    first = target.worker.started
    assert derive.check("add", target=target, examples=5, seed=0, database=None)
    assert derive.check("add", target=load_target(os.path.join(HOSTILE, "segfault.py")), examples=5, seed=0,
                        database=None)
    assert target.worker.started == first  # no new process for another check
    assert derive.check("exp", target=target, examples=5, seed=0, database=None).status == "fail"
    assert derive.check("add", target=target, examples=5, seed=0, database=None)  # a fresh worker
    assert target.worker.started > first and target.worker.alive()


def test_what_a_call_modified_is_judged_by_the_checker():
    r, ops = check_hostile("mutates")
    assert r.returncode == 1
    assert "modified its input X in place" in ops["add"]["failures"][0]["message"]
    assert "modified the upstream gradient G in place" in ops["exp"]["failures"][0]["message"]


def test_answers_apart_by_rounding_are_the_same_answer():
    target = os.path.join(os.path.dirname(HOSTILE), "rounds_differently.py")
    r = cli("exp", "--target", target, "--format", "json", "--examples", "20", "--no-database")
    op = json.loads(r.stdout)["ops"][0]
    assert r.returncode == 0 and op["status"] == "pass" and op["examples"] == 20, op


def test_a_changing_answer_is_caught_in_process_too():
    def exp(grad, x):
        return grad * np.exp(x) + np.random.default_rng().normal(scale=1e-3, size=np.shape(x))

    report = derive.check("exp", target=exp, examples=5, seed=0, database=None)
    assert report.status == "fail" and "gave different results" in report.failures[0].message


def test_a_list_is_the_gradient_of_a_one_input_op():
    report = derive.check("exp", target=os.path.join(HOSTILE, "list_for_one_input.py"), examples=10, seed=0,
                          database=None)
    assert report and report.examples == 10


def test_the_op_time_limit_ends_a_slow_search_and_says_so():
    r = cli("exp", "--target", os.path.join(HOSTILE, "slow.py"), "--op-timeout", "2", "--no-database",
            "--format", "json")
    op = json.loads(r.stdout)["ops"][0]
    assert r.returncode == 0 and op["status"] == "pass"  # slow but right is not a failure
    assert 1 <= op["examples"] < 100
    assert any(f"stopped after {op['examples']} example(s)" in n for n in op["notes"])


def pytest_suite(tmp_path, target, *extra):
    return subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "derive.suite", "--derive-target", target,
                           "-q", "-p", "no:cacheprovider", *extra], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600, env={**os.environ, "HYPOTHESIS_PROFILE": "dev"})


def test_the_pytest_suite_as_an_autograder_survives_a_hang(tmp_path):
    r = pytest_suite(tmp_path, os.path.join(HOSTILE, "busy_loop.py"), "--derive-timeout", "1", "-n", "2")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "1 failed, 1 passed" in r.stdout and "timed out after 1 s" in r.stdout


def test_the_pytest_suite_reports_a_bad_target_once(tmp_path):
    r = pytest_suite(tmp_path, os.path.join(HOSTILE, "exits_at_import.py"))
    out = r.stdout + r.stderr
    assert r.returncode == 4 and out.count("it called sys.exit(0)") == 1 and len(out.splitlines()) < 5, out


# ---- the smaller items -----------------------------------------------------------------------

def test_a_student_folder_with_numpy_py_and_random_py_does_not_break_the_cli(tmp_path):
    (tmp_path / "numpy.py").write_text("raise ImportError('the student numpy')\n")
    (tmp_path / "random.py").write_text("raise ImportError('the student random')\n")
    (tmp_path / "functional.py").write_text("import numpy as np\n\n\ndef exp(grad, x):\n"
                                            "    return grad * np.exp(x)\n")
    r = subprocess.run([sys.executable, "-m", "derive.check", "exp", "--target", "functional.py", "--examples", "5"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0 and "PASS exp" in r.stdout, r.stdout + r.stderr


def test_a_user_op_cannot_replace_a_standard_one_by_accident():
    with pytest.raises(ValueError, match="already in the catalog; pass replace=True"):
        derive.elementwise("sum", lambda x: x, lambda X: X)
    assert derive.get_op("sum").params  # still NumPy's sum, with axis and keepdims


@pytest.mark.parametrize("shapes,words", [([(-1, 3)], "cannot have negative sizes"),
                                          ([(0, 3)], "has no entries to compare")])
def test_a_bad_case_is_a_value_error_naming_the_op(shapes, words):
    with pytest.raises(ValueError, match=f"exp: .*{words}"):
        derive.check("exp", shapes=shapes)


def test_a_target_that_is_not_one_is_one_clear_error():
    with pytest.raises(TargetError, match="a target is a name, a module"):
        derive.check("exp", target=42)


def test_a_users_op_is_found_in_a_file_target_that_runs_in_a_worker(tmp_path):
    # the op is declared here (a notebook); the worker that imports the file must know its name too,
    # or discovery finds "no function named after any op" in a correct target
    import sympy as sp
    (tmp_path / "student_silu.py").write_text(
        "import numpy as np\n"
        "def my_silu_op(grad, x):\n"
        "    s = 1 / (1 + np.exp(-x))\n"
        "    return grad * (s + x * s * (1 - s))\n")
    from derive.isolation.target import IsolatedTarget
    derive.elementwise("my_silu_op", lambda x: x / (1 + sp.exp(-x)), lambda X: X / (1 + np.exp(-X)))
    try:
        target = load_target(str(tmp_path / "student_silu.py"))
        assert isinstance(target, IsolatedTarget)
        report = derive.check("my_silu_op", target=target, examples=10, seed=0, database=None)
    finally:
        derive.unregister("my_silu_op")
    assert report.status == "pass" and report.examples == 10, report.verdict()


def test_a_user_op_whose_own_forward_raises_is_not_blamed_on_the_backward():
    import sympy as sp
    derive.elementwise("broken_forward", sp.exp, lambda X: 1 / 0)
    try:
        report = derive.check("broken_forward", target=lambda grad, x: grad * np.exp(x), examples=5, seed=0,
                              database=None)
    finally:
        derive.unregister("broken_forward")
    assert report.status == "error" and "the NumPy forward declared for broken_forward raised" in report.message
    assert not report.failures


def test_a_stray_constant_is_not_called_a_missing_1_over_n():
    def sum_backward(grad, x, axis=None, keepdims=False):
        return 2 * np.broadcast_to(np.expand_dims(grad, 0), np.shape(x))

    report = derive.check("sum", target=sum_backward, shapes=[(1, 3)], params={"axis": 0})
    assert "no size in this case is 2" in report.failures[0].diagnosis


def test_a_float16_gradient_is_judged_at_the_inputs_precision():
    """1.5% off in float16 for float64 inputs had passed at float16's tolerance; it fails now, naming the
    dtype, and passes only where the grader asks for that leniency. A float32 cast of a right float64
    gradient still passes (test_real_code)."""
    import types

    from derive.targets import FunctionsTarget
    ns = types.SimpleNamespace(exp=lambda grad, x: (grad * np.exp(x) * 1.015).astype(np.float16))
    report = derive.check("exp", target=FunctionsTarget(ns, "f16"), database=None, examples=20, seed=0)
    assert report.status == "fail"
    assert "the gradient came back as float16 for float64 inputs" in report.failures[0].message
    lenient = derive.check("exp", target=FunctionsTarget(ns, "f16"), database=None, examples=20, seed=0,
                           dtype_tolerance="gradient")
    assert lenient.status == "pass" and any("compared at float16's tolerance" in n for n in lenient.notes)
    with pytest.raises(ValueError, match="dtype_tolerance must be one of inputs, gradient"):
        derive.check("exp", dtype_tolerance="loose")


def test_a_worker_started_ahead_is_adopted_and_runs_the_target():
    """The command line starts a worker before its own heavy imports; the target's worker is that process."""
    from derive.isolation import process
    from derive.isolation.target import IsolatedTarget
    process.prestart()
    spare = process._SPARE[0].process
    target = IsolatedTarget("numeric.backward", None, load_timeout=60)
    try:
        target.load()
        assert target.worker.process is spare and process._SPARE == []
        assert derive.check("exp", target=target, examples=3, seed=0, database=None)
    finally:
        target.close()


def test_starting_a_worker_imports_no_sympy():
    """What the command line imports to start its worker early stays light, or the head start is lost."""
    code = ("import sys, derive.isolation.process, derive.grading.submissions; "
            "print(sorted(m for m in ('sympy', 'hypothesis', 'derive.catalog') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr
