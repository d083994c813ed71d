"""Grade a class: check many submissions in parallel and write one gradebook.

    python -m derive.check all --target 'submissions/*/functional.py' --gradebook gradebook/

finds every submission the glob matches, checks each (isolated: an exit, a crash
or a hang costs only that submission's op) over the machine's cores with the
same seed and limits for all, and writes

- ``gradebook/gradebook.csv`` and ``gradebook.json``: a row per submission, a column
  per op, each cell the verdict and the first failure's one-line message;
- ``gradebook/gradebook.md``: per op, how many passed and the commonest failure;
- ``gradebook/submissions/<name>.json``: each submission's full report (the data
  of ``--format json``), which a batch system can collect when a class outgrows
  one machine.
"""

from .._lazy import lazy_names

#: the public surface and where each name lives, imported on first use (the command line asks
#: ``is_pattern`` before it imports the checker)
_PUBLIC = {**dict.fromkeys(["rows", "summary", "write"], "gradebook"),
           **dict.fromkeys(["Options", "check_submission", "grade"], "run"),
           **dict.fromkeys(["find", "is_pattern", "short_names"], "submissions")}

__all__ = ["Options", "grade", "check_submission", "write", "rows", "summary", "find", "is_pattern",
           "short_names"]


__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)
