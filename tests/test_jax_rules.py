"""A library author's jax.custom_vjp and jax.custom_jvp rules, checked out of the box through
jax.vjp, so that the custom rule is what runs.  The fixtures in tests/targets/jax_rules/ are
written here in JAX's documented forms."""

import json
import os
import subprocess
import sys

import pytest

jax = pytest.importorskip("jax")  # in the reference extra: CI runs these

from derive.isolation import load_target  # noqa: E402
from derive.testing import assert_vjp  # noqa: E402

HERE = os.path.join(os.path.dirname(__file__), "targets", "jax_rules")
CORRECT, BUGGY = os.path.join(HERE, "correct.py"), os.path.join(HERE, "buggy.py")

#: each buggy rule: the input whose gradient is wrong, and how it is found
MISTAKES = {"silu": ("X", "value"), "softplus": ("X", "value"), "leaky_relu": ("X", "value"),
            "linear": (None, "exception")}  # x.T @ g.T raises where N != M


def check_all(path):
    r = subprocess.run([sys.executable, "-m", "derive.check", "all", "--target", path, "--format", "json",
                        "--examples", "20", "--seed", "0", "--no-database"],
                       capture_output=True, text=True, timeout=900)
    return r, {o["op"]: o for o in json.loads(r.stdout)["ops"] if o["status"] != "skipped"}


def test_a_module_of_custom_rules_loads_through_jax_vjp_in_float64():
    target = load_target(CORRECT, isolate=False)
    assert "jax.vjp(rule, *inputs)" in target.describe()
    assert jax.config.jax_enable_x64


def test_correct_rules_pass_and_mistakes_fail_naming_their_input():
    r, ops = check_all(CORRECT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert set(ops) == set(MISTAKES) and all(o["status"] == "pass" and o["examples"] == 20 for o in ops.values())
    r, ops = check_all(BUGGY)
    assert r.returncode == 1 and set(ops) == set(MISTAKES)
    for name, (wrong, kind) in MISTAKES.items():
        assert [(f["input"], f["kind"]) for f in ops[name]["failures"]] == [(wrong, kind)], ops[name]


def test_assert_vjp_takes_one_custom_rule_whatever_its_name():
    sys.path.insert(0, HERE)
    try:
        import buggy
        import correct
    finally:
        sys.path.remove(HERE)
    assert assert_vjp("silu", correct.silu, examples=10).examples == 10
    with pytest.raises(AssertionError, match=r"dl/dX"):
        assert_vjp("softplus", buggy.softplus, examples=10)
