"""The ready property suite: one test per catalog op against ``--derive-target``.

Run it with::

    python -m pytest --pyargs derive.suite --derive-target mypkg.functional
"""

import pytest

from derive.catalog.registry import names


@pytest.mark.parametrize("op", names())
def test_backward_matches_derivation(op, derive_target, derive_dtype, derive_op_timeout):
    from hypothesis import settings

    from derive.checker.verify import check
    report = check(op, target=derive_target, examples=settings().max_examples, dtype=derive_dtype,
                   op_timeout=derive_op_timeout)
    if report.status == "skipped":
        pytest.skip(report.message)
    assert report, str(report)
