"""The ready property suite: one test per catalog op against ``--derive-target``, and one of its
engine on generated graphs.

Run it with::

    python -m pytest --pyargs derive.suite --derive-target mypkg.functional
"""

import pytest

from derive.catalog.registry import names


@pytest.mark.parametrize("op", names())
def test_backward_matches_derivation(op, derive_target, derive_dtype, derive_op_timeout):
    from hypothesis import settings

    from derive.checker.report import Status
    from derive.checker.run import RunOptions, run_ops
    active = settings()  # the active Hypothesis profile's examples and database
    options = RunOptions(examples=active.max_examples, database=active.database, no_database=active.database is None,
                         dtype=derive_dtype, op_timeout=derive_op_timeout)
    (summary,), _ = run_ops(derive_target, [op], options)
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
