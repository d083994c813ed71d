"""A library author's custom rules, checked out of the box through the framework's own machinery,
so that the custom rule is what runs: jax.custom_vjp and jax.custom_jvp through jax.vjp, HIPS
autograd's @primitive with defvjp through make_vjp, MyGrad's Operation through execute_op (torch's
Function: tests/test_torch_functions.py).  The fixtures in tests/targets/ are written here in each
library's documented forms."""

import json
import os
import subprocess
import sys

import pytest

from derive.isolation import load_target
from fixtures import TARGETS, import_fixture
from derive.testing import assert_vjp


#: framework -> (its fixtures' folder, examples per op, each buggy rule: the input whose gradient is wrong
#: and how it is found, how the report says it was called, silu's name in the fixtures)
FRAMEWORKS = {
    "jax": ("jax_rules", 20, {"silu": ("X", "value"), "softplus": ("X", "value"), "leaky_relu": ("X", "value"),
                              "linear": (None, "exception"),  # x.T @ g.T raises where N != M
                              "mse_loss": ("pred", "value")},  # a scalar as shape (1,): G comes as (1,) too
            "jax.vjp(rule, *inputs)", "silu"),
    "autograd": ("autograd_rules", 60, {"silu": ("X", "value"), "linear": ("bias", "value"),
                                        "logsumexp": ("X", "value")},
                 "autograd.make_vjp(rule)(*inputs)", "silu"),
    "mygrad": ("mygrad_operations", 60, {"silu": ("X", "value"), "multiply": ("X", "value"), "sum": ("X", "value")},
               "mygrad.execute_op(Op, *tensors)", "SiLU"),
}


def _fixtures(framework):
    pytest.importorskip(framework)  # jax: in the reference extra; autograd, mygrad: in the test extra
    return os.path.join(TARGETS, FRAMEWORKS[framework][0])


def check_all(path, examples):
    r = subprocess.run([sys.executable, "-m", "derive.check", "all", "--target", path, "--format", "json",
                        "--examples", str(examples), "--seed", "0", "--no-database"],
                       capture_output=True, text=True, timeout=900)
    return r, {o["op"]: o for o in json.loads(r.stdout)["ops"] if o["status"] != "skipped"}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_module_of_custom_rules_loads_through_the_transform(framework):
    target = load_target(os.path.join(_fixtures(framework), "correct.py"), isolate=False)
    assert FRAMEWORKS[framework][3] in target.describe()
    if framework == "jax":
        import jax
        assert jax.config.jax_enable_x64


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_correct_rules_pass_and_mistakes_fail_naming_their_input(framework):
    _, examples, mistakes, _, _ = FRAMEWORKS[framework]
    folder = _fixtures(framework)
    r, ops = check_all(os.path.join(folder, "correct.py"), examples)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert set(ops) == set(mistakes)
    assert all(o["status"] == "pass" and o["examples"] == examples for o in ops.values()), ops
    r, ops = check_all(os.path.join(folder, "buggy.py"), examples)
    assert r.returncode == 1 and set(ops) == set(mistakes)
    for name, (wrong, kind) in mistakes.items():
        assert [(f["input"], f["kind"]) for f in ops[name]["failures"]] == [(wrong, kind)], ops[name]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_assert_vjp_takes_one_custom_rule_whatever_its_name(framework):
    folder = _fixtures(framework)
    correct, buggy = (import_fixture(os.path.join(folder, f"{name}.py"), f"{framework}_{name}") for name in ("correct", "buggy"))
    name = FRAMEWORKS[framework][4]
    assert assert_vjp("silu", getattr(correct, name), examples=10).examples == 10
    with pytest.raises(AssertionError, match=r"dl/dX"):
        assert_vjp("silu", getattr(buggy, name), examples=10)
