"""pytest integration: the plugin and the ready suite against a package outside this repository,
assert_vjp, the public strategies, and the doctests."""

import doctest
import importlib
import importlib.util
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given

import derive
import derive.catalog.strategies as dst
from derive.testing import assert_vjp

STUDENT = '''
import numpy as np


def negative(grad, x):
    return -grad


def transpose(grad, x, axes=None):
    return np.transpose(grad, axes)  # the classic: not inverted
'''


def run_suite(tmp_path, target, *extra):
    pkg = tmp_path / "studentpkg"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "functional.py").write_text(textwrap.dedent(STUDENT))
    return subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "derive.suite", "--derive-target",
                           target, "-q", "-rs", "-p", "no:cacheprovider", *extra],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          env={**__import__("os").environ, "PYTHONPATH": str(tmp_path),
                               "HYPOTHESIS_PROFILE": "dev"})


def test_ready_suite_against_an_outside_package(tmp_path):
    r = run_suite(tmp_path, "studentpkg.functional")
    out = r.stdout
    assert r.returncode == 1, out + r.stderr
    n_ops = len(derive.names())
    assert f"1 failed, 1 passed, {n_ops - 2 + 1} skipped" in out, out  # + the graphs test: not an engine
    assert "not a graph engine" in out
    assert "test_backward_matches_derivation[transpose]" in out  # the failing one
    assert "not inverted" in out  # the diagnosis reaches the pytest report
    assert "no `softmax` in studentpkg.functional" in out  # skipped with a reason, not passed


def test_plugin_registers_the_profiles(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "derive.suite", "--derive-target", "numeric",
                        "--hypothesis-profile=thorough", "-q", "-p", "no:cacheprovider", "-k", "negative",
                        "--hypothesis-show-statistics"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]])
def test_suite_without_a_target_is_one_usage_error(tmp_path, xdist):
    r = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "derive.suite", "-q", "-p",
                        "no:cacheprovider", *xdist], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 4, out  # pytest's usage error: never 22 skips and exit 0
    assert out.count("none was given") == 1 and "--derive-target" in out and "Traceback" not in out


def test_bad_target_is_a_usage_error(tmp_path):
    r = run_suite(tmp_path, "no_such_pkg_here")
    assert r.returncode != 0 and "cannot import target no_such_pkg_here" in (r.stdout + r.stderr)


def test_assert_vjp_passes_and_fails_with_the_report():
    def transpose(grad, x, axes=None):
        return np.transpose(grad, axes)

    assert_vjp("transpose", transpose, shapes=[(2, 3)])  # a 2-D swap is its own inverse
    with pytest.raises(AssertionError, match=r"dl/dX\[0,0,1\]: expected G\[0,1,0\], got G\[1,0,0\]"):
        assert_vjp("transpose", transpose, shapes=[(2, 2, 2)], params={"axes": (1, 2, 0)})
    with pytest.raises(AssertionError, match="FAIL transpose"):
        assert_vjp("transpose", transpose, examples=50)
    assert assert_vjp("sum", "numeric", examples=10)


@given(dst.cases("sum"))
def test_strategies_draw_valid_cases(case):
    (shape,) = case.shapes
    x = np.zeros(shape)
    np.sum(x, axis=case.params["axis"], keepdims=case.params["keepdims"])  # NumPy accepts the case


@given(dst.cases("matmul").flatmap(lambda c: dst.inputs("matmul", c).map(lambda a: (c, a))))
def test_strategy_inputs_match_the_case(case_and_inputs):
    case, (x, y) = case_and_inputs
    assert x.shape == tuple(case.shapes[0]) and y.shape == tuple(case.shapes[1])
    np.matmul(x, y)


@given(dst.cases("log").flatmap(lambda c: dst.inputs("log", c)))
def test_strategy_inputs_respect_the_domain(arrays):
    assert np.all(arrays[0] > 0)


def test_masks_with_no_true_and_no_false_are_drawn():
    """A mask with no True (where picks Y everywhere, dropout drops all of G) is a classic edge: drawn on purpose."""
    from derive.catalog.registry import Case
    case = Case(((3, 4), (3, 4), (3, 4)))
    masks = [dst.make_inputs("where", case, seed)[0] for seed in range(60)]
    assert all(m.dtype == bool and m.shape == (3, 4) for m in masks)
    assert any(not m.any() for m in masks) and any(m.all() for m in masks)
    assert sum(0 < m.sum() < m.size for m in masks) > 30  # most are mixed


def _modules_with_doctests():
    """Every module of derive and numeric whose source holds a ``>>>`` example: found, not listed."""
    import os
    import pkgutil
    found = []
    for package in ("derive", "numeric"):
        root = importlib.import_module(package)
        found.append(package)
        found += [m.name for m in pkgutil.walk_packages(root.__path__, f"{package}.")]
    def runs_examples(module):  # an example that is not all ``# doctest: +SKIP``
        path = importlib.util.find_spec(module).origin
        return os.path.basename(path) != "__main__.py" and any(
            ">>> " in line and "doctest: +SKIP" not in line for line in open(path))
    return [m for m in found if runs_examples(m)]


DOCTESTED = _modules_with_doctests()


def test_the_doctests_are_found_not_listed():
    assert {"derive", "derive.symbolic.derivation", "numeric.tensor", "derive.isolation.channel"} <= set(DOCTESTED)


@pytest.mark.parametrize("module", DOCTESTED)
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_public_names_are_not_shadowed_by_subpackages():
    """``derive.ops()`` and ``derive.catalog.elementwise()`` stay functions once the catalog is loaded.

    Importing a submodule sets it as an attribute of its package, so a subpackage named like a
    public function (the old ``derive/ops/``) silently replaced the function after the first lookup.
    """
    code = ("import derive, derive.catalog; derive.get_op('matmul'); "
            "assert callable(derive.ops) and callable(derive.catalog.elementwise), (derive.ops, derive.catalog.elementwise); "
            "assert len(derive.ops()) == len(derive.names()) > 50 and 'log' in derive.names()")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_ready_suite_runs_the_graphs_of_an_engine(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "derive.suite", "--derive-target", "numeric",
                        "-q", "-p", "no:cacheprovider", "-k", "graphs"], capture_output=True, text=True,
                       cwd=tmp_path, timeout=600)
    assert r.returncode == 0 and "1 passed" in r.stdout, r.stdout + r.stderr


def test_an_unrelated_test_run_does_not_import_sympy(tmp_path):
    """The plugin is loaded into every pytest run of anyone who installed derive: it registers its
    profiles and options and imports nothing heavy until a derive fixture or suite is used."""
    (tmp_path / "test_unrelated.py").write_text(textwrap.dedent('''
        import sys

        def test_the_plugin_is_loaded_and_light():
            assert "derive.pytest_plugin" in sys.modules
            assert [m for m in ("sympy", "derive.catalog.registry", "derive.checker.verify") if m in sys.modules] == []
    '''))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
                             str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("profile,own,expected", [
    ("dev", False, (25, False)),
    ("thorough", False, (1000, False)),
    ("ci", False, (100, True)),  # Hypothesis's own ci: what it loads by itself on a CI machine
    ("dev", True, (7, False)),  # the project's own profile is kept
])
def test_the_plugin_registers_its_profiles_and_keeps_a_projects_own(tmp_path, profile, own, expected):
    if own:
        (tmp_path / "conftest.py").write_text("from hypothesis import settings\n"
                                              "settings.register_profile('dev', max_examples=7)\n")
    (tmp_path / "test_profile.py").write_text(textwrap.dedent(f'''
        from hypothesis import settings

        def test_profile():
            assert (settings().max_examples, settings().derandomize) == {expected!r}
    '''))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
                             f"--hypothesis-profile={profile}", str(tmp_path)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300,
                            env={k: v for k, v in __import__("os").environ.items()
                                 if k not in ("CI", "HYPOTHESIS_PROFILE")})
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr
