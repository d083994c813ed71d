"""Execute every notebook here in place, so that they are stored with their outputs.

    python notebooks/refresh.py [NOTEBOOK ...]

Run it after changing a notebook or anything its outputs show; ``tests/test_notebooks.py``
re-executes each one and fails when its stored outputs are not the ones it gives now.
"""

import glob
import os
import sys

import nbclient
import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))


def execute(path, folder):
    """The notebook at ``path``, executed in ``folder`` (its working directory)."""
    book = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(book, timeout=600, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": folder}}).execute()
    return book


def main(paths):
    import tempfile
    for path in paths or sorted(glob.glob(os.path.join(HERE, "*.ipynb"))):
        with tempfile.TemporaryDirectory() as folder:  # what a notebook writes stays out of the repository
            book = execute(path, folder)
        nbformat.write(book, path)
        print(f"executed {os.path.basename(path)}")


if __name__ == "__main__":
    main(sys.argv[1:])
