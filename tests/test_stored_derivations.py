"""Derivations kept on disk (:mod:`derive.symbolic.stored`): a later process gets the same
formulas and the same values, never a stale or a user's derivation, and a damaged file is a miss."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

import derive
from derive.catalog import strategies as dst
from derive.catalog.registry import Case
from derive.symbolic import derivation, stored
from derive.symbolic.expected import derivation_for, expected_gradients

#: one op per kind of evaluator: a closed form, a scatter (strided read), an index formula (a bracket)
CASES = {"closed form": ("matmul", ((3, 4), (4, 2)), {}),
         "scatter": ("conv1d", ((2, 3, 7), (4, 3, 3), (4,)), {"stride": 2, "padding": 1}),
         "index formula": ("max_pool2d", ((1, 2, 4, 4),), {"kernel": 2})}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("DERIVE_DERIVATION_CACHE", raising=False)
    derivation.clear_cache()
    yield tmp_path / "derivations"
    derivation.clear_cache()


def _files(folder):
    return sorted(p for p in folder.rglob("*.pickle")) if folder.exists() else []


def _expected(op, case, seed=3):
    inputs = dst.make_inputs(op, case, seed)
    d, bindings = derivation_for(op, case)
    out_shape = tuple(int(sp.sympify(n).subs(bindings)) for n in d.output_shape)
    G = np.random.default_rng(seed).standard_normal(out_shape)
    return d, expected_gradients(op, case, inputs, G)


def _forbid_deriving(monkeypatch):
    def refuse(*args):
        raise AssertionError("derived again: the stored derivation was not used")
    monkeypatch.setattr(derivation, "_derive", refuse)


@pytest.mark.parametrize("kind", list(CASES))
def test_a_stored_derivation_gives_the_formulas_and_values_of_the_derived_one(cache, monkeypatch, kind):
    name, shapes, params = CASES[kind]
    op = derive.get_op(name)
    case = Case(shapes, params)
    fresh, fresh_values = _expected(op, case)
    assert len(_files(cache)) == 1
    assert {derivation.evaluator_kind(g.evaluator) for g in fresh} >= {kind}
    derivation.clear_cache()
    _forbid_deriving(monkeypatch)
    loaded, loaded_values = _expected(op, case)
    assert loaded is not fresh and loaded.op is op
    for g, h in zip(fresh, loaded):
        assert (h.index_formula, h.closed_form, h.einsum, h.steps) == (g.index_formula, g.closed_form, g.einsum,
                                                                      g.steps)
        assert derivation.evaluator_kind(h.evaluator) == derivation.evaluator_kind(g.evaluator)
    assert fresh_values.keys() == loaded_values.keys()
    for k in fresh_values:
        np.testing.assert_array_equal(loaded_values[k], fresh_values[k])


def test_a_change_in_derives_code_is_another_file_not_a_stale_answer(cache, monkeypatch):
    derive.vjp("matmul", (3, 4), (4, 2))
    (first,) = _files(cache)
    derivation.clear_cache()
    monkeypatch.setattr(stored, "_DIGEST", ["a digest of other source"])
    assert stored.load(derive.get_op("matmul"), *_key("matmul", (3, 4), (4, 2))) is None
    derive.vjp("matmul", (3, 4), (4, 2))
    assert len(_files(cache)) == 2 and first in _files(cache)


def _key(name, *shapes):
    op = derive.get_op(name)
    return derivation.symbolic_case(op, shapes), derivation._freeze(op.with_defaults({}))


def test_a_users_op_is_derived_in_each_process_never_stored(cache):
    users = dataclasses.replace(derive.get_op("exp"), name="my_exp")
    d = derive.vjp(users, (3,))
    assert d["X"].closed_form == "np.exp(X)*G"
    assert _files(cache) == []
    replaced = dataclasses.replace(derive.get_op("exp"))  # the standard name, another declaration
    derive.vjp(replaced, (2,))
    assert _files(cache) == []


def test_a_damaged_file_is_derived_again(cache):
    derive.vjp("matmul", (3, 4), (4, 2))
    (path,) = _files(cache)
    path.write_bytes(b"not a pickle")
    derivation.clear_cache()
    d = derive.vjp("matmul", (3, 4), (4, 2))
    assert d["X"].closed_form == "G @ Y.T"


def test_off_keeps_no_derivation(cache, monkeypatch):
    monkeypatch.setenv("DERIVE_DERIVATION_CACHE", "off")
    assert derive.vjp("matmul", (3, 4), (4, 2))["Y"].closed_form == "X.T @ G"
    assert _files(cache) == []
