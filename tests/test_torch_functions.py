"""A library author's torch.autograd.Function, checked out of the box: called through ``apply`` on
torch tensors and seeded by torch's own autograd, from the CLI, the Python API and pytest.  The
fixtures in tests/targets/torch_functions/ are written here in torch's documented forms."""

import json
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")  # in the reference extra: CI runs these

import derive  # noqa: E402
from derive.isolation import load_target  # noqa: E402
from derive.testing import assert_vjp  # noqa: E402
from fixtures import import_fixture  # noqa: E402

HERE = os.path.join(os.path.dirname(__file__), "targets", "torch_functions")
CORRECT, BUGGY = os.path.join(HERE, "correct.py"), os.path.join(HERE, "buggy.py")

#: each buggy rule: the input whose gradient is wrong
MISTAKES = {"silu": "X", "linear": "bias", "leaky_relu": "X", "sum": "X"}


def check_all(path, *extra):
    r = subprocess.run([sys.executable, "-m", "derive.check", "all", "--target", path, "--format", "json",
                        "--examples", "60", "--seed", "0", "--no-database", *extra],
                       capture_output=True, text=True, timeout=600)
    return r, {o["op"]: o for o in json.loads(r.stdout)["ops"] if o["status"] != "skipped"}


def test_a_module_of_functions_loads_as_torch_functions_run_by_torch():
    target = load_target(CORRECT, isolate=False)
    assert "Fn.apply(*tensors), then torch.autograd.grad" in target.describe()
    assert target.supports(derive.get_op("silu")) == (True, "")
    assert target.supports(derive.get_op("exp"))[0] is False


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_correct_functions_pass_from_the_command_line(dtype):
    r, ops = check_all(CORRECT, "--dtype", dtype)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert set(ops) == {"silu", "linear", "leaky_relu", "sum", "greater"}
    assert all(o["status"] == "pass" and o["examples"] == 60 for o in ops.values()), ops


def test_each_classic_mistake_fails_naming_its_input():
    r, ops = check_all(BUGGY)
    assert r.returncode == 1
    assert set(ops) == set(MISTAKES)
    for name, wrong in MISTAKES.items():
        assert ops[name]["status"] == "fail", ops[name]
        assert [(f["input"], f["kind"]) for f in ops[name]["failures"]] == [(wrong, "value")], ops[name]


def test_a_mean_for_a_sum_over_the_batch_is_diagnosed():
    r, ops = check_all(BUGGY)
    (failure,) = ops["linear"]["failures"]
    assert "off by a factor" in failure["diagnosis"], failure


def test_assert_vjp_takes_a_function_class_whatever_its_name():
    correct, buggy = import_fixture(CORRECT, "torch_correct"), import_fixture(BUGGY, "torch_buggy")
    report = assert_vjp("silu", correct.SiLU, examples=20)
    assert report and report.examples == 20
    with pytest.raises(AssertionError, match=r"dl/dbias"):
        assert_vjp("linear", buggy.Linear, examples=20)


def test_the_pytest_suite_checks_a_torch_function_module(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "derive.suite", "--derive-target", BUGGY,
                        "-q", "-p", "no:cacheprovider", "-n", "0", "-k", "silu or linear"],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 1, r.stdout[-2000:]
    assert "2 failed" in r.stdout, r.stdout[-2000:]
