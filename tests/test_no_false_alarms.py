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
