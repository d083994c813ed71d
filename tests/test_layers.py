"""The layer contract (``.importlinter``): each stage imports only the stages below it, no module
imports itself back through its siblings, and numeric knows nothing of derive."""

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def lint(cwd):
    return subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                           "lint_imports_command()", "--no-cache"], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": cwd}, timeout=300)


def test_the_layers_hold():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout, result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    """The contract can fail: the catalog importing the checker is caught."""
    for name in ("derive", "numeric"):
        shutil.copytree(os.path.join(ROOT, name), tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(os.path.join(ROOT, ".importlinter"), tmp_path)
    registry = tmp_path / "derive" / "catalog" / "registry.py"
    registry.write_text(registry.read_text() + "\n\ndef _upward():\n    from ..checker import report  # noqa\n")
    result = lint(str(tmp_path))
    assert result.returncode != 0 and "derive.catalog.registry -> derive.checker.report" in result.stdout, \
        result.stdout
