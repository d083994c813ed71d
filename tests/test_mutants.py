"""Every mutant of the zoo is caught with the default settings (100 examples; a random draw, and in CI
the draw of seed 0, so that a CI run can be replayed).  Every catalog op has at least one mutant."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from mutants.kill_rate import run_mutant  # noqa: E402
from mutants.zoo import MUTANTS  # noqa: E402

import derive  # noqa: E402


def test_the_zoo_covers_every_family():
    assert len(MUTANTS) >= 25
    families = {m.family for m in MUTANTS}
    assert {"transpose", "matmul", "broadcasting", "reduction", "sign", "swap", "elementwise", "softmax",
            "loss", "in-place"} <= families
    assert {m.op for m in MUTANTS} <= set(derive.names())


def test_every_op_has_a_mutant():
    """A rule with no wrong twin in the zoo has never been shown to fail."""
    assert set(derive.names()) - {derive.get_op(m.op).name for m in MUTANTS} == set()


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_caught(mutant):
    report = run_mutant(mutant, seed=0 if os.environ.get("CI") else None)
    assert report.status == "fail", f"{mutant.name} ({mutant.mistake}) survived: {report.verdict()}"
    assert report.failures and report.failures[0].message
