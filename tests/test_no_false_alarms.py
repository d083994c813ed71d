"""No false alarms: the correct implementations pass every op, in float64 and float32.

The number of examples follows the Hypothesis profile: ``thorough`` runs 1000 per op.
"""

import pytest
from hypothesis import settings

import derive
from derive.checker.example import TOO_LARGE_FOR_EXACT

TARGETS = ["numeric", "numeric.backward", "torch"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("op", derive.names())
def test_correct_implementation_passes(op, target, dtype):
    if target == "torch":
        pytest.importorskip("torch")
    examples = settings().max_examples
    report = derive.check(op, target=target, examples=examples, dtype=dtype, database=None)
    assert report, str(report)
    assert report.examples == examples and report.evidence["numeric"] == examples
    if derive.get_op(op).exact and target != "torch" and dtype == "float64":
        # every case within EXACT_MAX_ENTRIES got exact evidence; the larger ones are counted apart
        assert report.evidence.get("exact", 0) + report.evidence.get(TOO_LARGE_FOR_EXACT, 0) == examples
        assert report.evidence.get("exact", 0) > 0


#: where jax.numpy's forward is not NumPy's by design: the verdict is DIFFERS there, never FAIL
JAX_DIFFERS = {"split": "jax.numpy.split refuses negative indices, which NumPy counts from the end"}


@pytest.mark.parametrize("op", derive.names())
def test_jax_passes_every_op_it_spells(op):
    """The JAX binding, through ``jax.vjp`` in float64 (20 examples: each one traces afresh).  An op
    jax.numpy does not have is skipped as absent, and only as absent: a call derive got wrong (a
    TypeError, a protocol it could not settle) would say so in the reason, and fails here."""
    pytest.importorskip("jax")
    from derive.checker.report import Status
    op = derive.get_op(op)
    report = derive.check(op.name, target="jax", examples=min(20, settings().max_examples), database=None)
    if report.status == Status.SKIPPED:
        assert report.message == f"no `{op.name}` in target", str(report)
    elif op.name in JAX_DIFFERS:
        assert report.status == Status.DIFFERS and not report.failures, str(report)
    else:
        assert report and report.examples > 0, str(report)
