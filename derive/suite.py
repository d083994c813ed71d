"""The ready property suite: one test per catalog op against ``--derive-target``, and one of its
engine on generated graphs.

Run it with::

    python -m pytest --pyargs derive.suite --derive-target mypkg.functional
"""

import pytest

from derive.catalog.registry import names


@pytest.mark.parametrize("op", names())
def test_backward_matches_derivation(op, derive_target, derive_dtype, derive_op_timeout):
    from derive.checker.report import Status
    from derive.checker.run import profile_options, run_ops
    (summary,), _ = run_ops(derive_target, [op], profile_options(dtype=derive_dtype, op_timeout=derive_op_timeout))
    if summary.status == Status.SKIPPED:
        pytest.skip(summary.report.message)
    assert summary, str(summary)


def test_engine_on_generated_graphs(derive_target):
    """The target's engine on generated expression graphs (skipped for a target that is not an engine)."""
    from hypothesis import settings

    from derive.checker.graphs import check_graphs
    report = check_graphs(derive_target, examples=settings().max_examples)
    if report.examples == 0 and any("not a graph engine" in note for note in report.notes):
        pytest.skip(report.notes[0])
    assert report, str(report)
