"""The README's op table is the catalog's."""

import os

from derive.check.cli import _catalog_lines

README = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")


def test_readme_op_table_is_generated_from_the_catalog():
    with open(README) as f:
        text = f.read()
    table = "\n".join(_catalog_lines("markdown"))
    assert table in text, "regenerate with: python -m derive.check --list --format markdown"
