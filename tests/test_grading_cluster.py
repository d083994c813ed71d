"""Grading on a Dask cluster (a LocalCluster here): one task per submission, each sandboxed on its
worker, the same gradebook as on one machine."""

import csv
import json
import os
import subprocess
import sys

import pytest

from classroom import OPS, assert_rows_match, make_class

distributed = pytest.importorskip("distributed")  # in the test extra: CI runs this


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local


def test_a_class_graded_on_a_cluster_gets_the_gradebook_of_one_machine(tmp_path, cluster):
    expected = make_class(str(tmp_path / "submissions"), correct=2, repeats=1)
    r = subprocess.run([sys.executable, "-m", "derive.check", *OPS, "--target", "submissions/*/functional.py",
                        "--timeout", "2", "--gradebook", "out", "--cluster", cluster.scheduler_address], capture_output=True, text=True, cwd=tmp_path,
                       timeout=900)
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "out" / "gradebook.csv", newline="") as f:
        table = {row["submission"]: row for row in csv.DictReader(f)}
    assert_rows_match(table, expected)
    data = json.loads((tmp_path / "out" / "gradebook.json").read_text())
    detail = json.loads((tmp_path / "out" / data["details"]["correct_00"]).read_text())
    assert detail["sandbox"] == "on" and detail["passed"] == len(OPS)  # sandboxed on its worker


def test_a_cluster_that_cannot_be_reached_is_one_line(tmp_path):
    make_class(str(tmp_path / "submissions"), correct=1, repeats=0)
    r = subprocess.run([sys.executable, "-m", "derive.check", "exp", "--target", "submissions/*/functional.py",
                        "--cluster", "tcp://127.0.0.1:9", "--gradebook", "out"], capture_output=True, text=True,
                       cwd=tmp_path, timeout=300)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("derive.check: error: --cluster tcp://127.0.0.1:9:")
    assert "Traceback" not in r.stderr
