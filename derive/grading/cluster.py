"""Grade on a Dask cluster: one task per submission, each sandboxed on the machine that runs it.

    python -m derive.check all --target 'submissions/*/functional.py' --cluster tcp://scheduler:8786

The cluster's workers need derive installed and the submissions at the same paths
(a shared file system); the gradebook is written where the command runs, as it is
without a cluster.  A task whose Dask worker dies is run once more elsewhere
(``retries=1``), then marked with what happened.  Needs ``distributed``
(``pip install "derive-vjp[cluster]"``).
"""

from __future__ import annotations

import os

from .run import _failed, check_submission, write_detail

__all__ = ["grade_on_cluster"]


def grade_on_cluster(submissions, options, out_dir, address, progress=None, results=None, owns=None, hide=None):
    """:func:`~derive.grading.run.grade` with its submissions checked on the cluster at ``address``."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise RuntimeError("--cluster needs Dask's distributed: pip install distributed") from None
    os.makedirs(os.path.join(out_dir, "submissions"), exist_ok=True)
    results = {} if results is None else results
    owns = owns or [None] * len(submissions)
    with Client(address, timeout="30s") as client:
        futures = {}
        for k, (name, spec) in enumerate(submissions):
            if name in results:
                continue
            path, colon, attr = spec.partition(":")
            where = os.path.abspath(path) + colon + attr  # the cluster's workers run in folders of their own
            future = client.submit(check_submission, name, where, options, None, owns[k],
                                   hide(k) if hide else (), pure=False, retries=1, key=f"derive-{k}-{name}")
            futures[future] = (name, spec)
        try:
            for future in as_completed(futures):
                name, spec = futures[future]
                try:
                    data = future.result()
                except Exception as exc:  # noqa: BLE001  the task's worker died twice, or derive failed there
                    data = _failed(name, spec, f"the cluster could not check this submission: "
                                               f"{type(exc).__name__}: {exc}", fault="checker")
                data["target"] = spec
                write_detail(out_dir, name, data)
                results[name] = data
                if progress is not None:
                    progress(len(results), len(submissions), data)
        except BaseException:
            client.cancel(list(futures))
            raise
    return [results[name] for name, _ in submissions]
