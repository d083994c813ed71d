"""Every spelling a Tensor offers for an op (the operator, the method, the module's function, the
reflected operator) is checked on each example, and a failure names the spelling that failed."""

import os

import pytest

import derive
from derive.isolation import load_target

HERE = os.path.join(os.path.dirname(__file__), "targets")
SPELLINGS = os.path.join(HERE, "spellings.py")


@pytest.fixture(scope="module")
def target():
    return load_target(SPELLINGS)


@pytest.mark.parametrize("op, spelling, words", [
    ("exp", "function spellings.exp", "dl/dX"),           # forgets G
    ("mul_scalar", "operator reflected *", "dl/dX"),      # 2 * X takes the factor from the wrong side
    ("matmul", "method Tensor.dot", "the backward raised ValueError"),  # G @ Y: no transpose, no fit
])
def test_a_mistake_in_one_spelling_fails_naming_it(target, op, spelling, words):
    report = derive.check(op, target, examples=60, seed=0, database=None)
    assert report.status == "fail" and report.failures, report
    failure = report.failures[0]
    assert failure.spelling == spelling and words in failure.message, failure.describe()
    assert f"through {spelling}" in failure.describe().splitlines()[0]
    assert failure.to_dict()["spelling"] == spelling


@pytest.mark.parametrize("op, spellings", [
    ("add", {"operator +"}),
    ("multiply", {"operator *"}),
    ("sum", {"method Tensor.sum", "function spellings.sum"}),
])
def test_the_right_spellings_pass_and_the_report_names_each(target, op, spellings):
    report = derive.check(op, target, examples=60, seed=0, database=None)
    assert report and report.examples == 60, report
    checked = {n.split("checked through ", 1)[1] for n in report.notes if "checked through " in n}
    assert checked == spellings


def test_an_operator_that_computes_something_else_is_a_different_forward_naming_it(target):
    """2 + X is X + 2 by Python's meaning of +: a reflected + that computes 2 - X is the student's."""
    report = derive.check("add_scalar", target, examples=60, seed=0, database=None)
    assert report.status == "differs" and report.forward and not report.failures, report
    assert report.forward[0].spelling == "operator reflected +"
    assert "through operator reflected +" in report.forward[0].describe()


def test_a_function_of_the_same_name_is_checked_only_where_it_is_the_op(target):
    """spellings.sum(x, axes) sums over the first axis of a tuple: another op there, and never the
    student's FAIL; where it is the sum, its gradient is checked."""
    report = derive.check("sum", target, examples=100, seed=0, database=None)
    assert report and not report.forward, report
    assert any("function spellings.sum is not checked on cases where its forward gives other values" in n
               for n in report.notes), report.notes


def test_numeric_is_checked_through_its_methods_and_its_functions():
    report = derive.check("exp", "numeric", examples=20, seed=0, database=None)
    assert report, report
    assert {"exp: checked through method Tensor.exp", "exp: checked through function numeric.exp"} <= set(report.notes)
