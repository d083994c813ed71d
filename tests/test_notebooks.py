"""Every notebook in notebooks/ is stored executed, and executing it again gives no cell error and
the outputs it is stored with (a new notebook is picked up by itself)."""

import glob
import importlib.util
import os
import re

import pytest

HERE = os.path.join(os.path.dirname(__file__), os.pardir, "notebooks")
NOTEBOOKS = sorted(glob.glob(os.path.join(HERE, "*.ipynb")))


def _refresh():
    spec = importlib.util.spec_from_file_location("refresh", os.path.join(HERE, "refresh.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stable(text):
    """A cell's text without what differs from run to run: seconds, and how many of the unseeded draws
    were small enough for finite differences."""
    text = re.sub(r"\bin \d+(\.\d+)?\s?m?s\b", "in <time>", text)
    return re.sub(r"finite differences \d+", "finite differences <n>", text)


def _texts(book):
    """Each code cell's outputs as text; a stream's consecutive pieces as one (a kernel under load
    sends one print's text in several messages)."""
    texts = []
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        streams = None
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain") or ""
            if out.output_type == "stream" and streams == out.get("name"):
                texts[-1] = (texts[-1][0], texts[-1][1] + text)
                continue
            streams = out.get("name") if out.output_type == "stream" else None
            texts.append((out.output_type, text))
    return [(kind, _stable(text)) for kind, text in texts]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 7


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p) for p in NOTEBOOKS])
def test_notebook_is_stored_executed_and_executes_to_its_outputs(path, tmp_path):
    import nbformat
    stored = nbformat.read(path, as_version=4)
    code = [cell for cell in stored.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), \
        "store notebooks executed, top to bottom: python notebooks/refresh.py"
    book = _refresh().execute(path, str(tmp_path))  # raises CellExecutionError on the first failing cell
    images = sum("image/png" in out.get("data", {}) for cell in book.cells if cell.cell_type == "code"
                 for out in cell.get("outputs", []))
    assert images >= 1, "each notebook has at least one picture"
    changed = [(was, now) for was, now in zip(_texts(stored), _texts(book)) if was != now]
    assert len(_texts(book)) == len(_texts(stored)) and not changed, \
        f"its stored outputs are stale (python notebooks/refresh.py): {changed[:1]}"
