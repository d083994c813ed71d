"""Grading a class: 30 generated submissions (correct ones, the classic mistakes, exits, hangs, crashes,
prints, ones that do not import) in one command, into one gradebook."""

import csv
import json
import os
import subprocess
import sys

import pytest

from classroom import OPS, assert_rows_match, make_class
from derive.grading import is_pattern, short_names


def test_short_names_are_the_parts_submissions_do_not_share():
    assert short_names(["s/alice/functional.py", "s/bob/functional.py"]) == ["alice", "bob"]
    assert short_names(["hw/alice.py", "hw/bob.py"]) == ["alice", "bob"]
    assert short_names(["a/x/f.py", "b/x/f.py"]) == ["a", "b"]
    assert short_names(["hw/alice/functional.py"]) == ["alice"]
    assert is_pattern("submissions/*/functional.py") and not is_pattern("mypkg.functional")


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    expected = make_class(str(root / "submissions"))
    r = subprocess.run([sys.executable, "-m", "derive.check", *OPS, "--target", "submissions/*/functional.py",
                        "--timeout", "2", "--gradebook", "out"], capture_output=True, text=True, cwd=root,
                       timeout=900)
    return root / "out", expected, r


def test_the_gradebook_has_the_right_verdict_for_every_submission(gradebook):
    out, expected, r = gradebook
    assert r.returncode == 0, r.stderr
    assert len(expected) >= 30
    with open(out / "gradebook.csv", newline="") as f:
        table = {row["submission"]: row for row in csv.DictReader(f)}
    assert_rows_match(table, expected)
    correct = [s for s in expected if s.startswith("correct")]
    assert all(table[s]["passed"] == str(len(OPS)) and table[s]["failed"] == "0" for s in correct)


def test_the_gradebook_comes_as_json_markdown_and_a_report_per_submission(gradebook):
    out, expected, r = gradebook
    data = json.loads((out / "gradebook.json").read_text())
    assert data["ops"] == OPS and len(data["submissions"]) == len(expected)
    assert data["options"]["seed"] == 0  # every submission sees the same cases
    detail = json.loads((out / data["details"]["exp_times_x_0"]).read_text())
    exp = next(o for o in detail["ops"] if o["op"] == "exp")
    assert exp["status"] == "fail" and exp["failures"][0]["input"] == "X"
    summary = (out / "gradebook.md").read_text()
    assert "| `add` |" in summary and "| correct_00 | 5/5 |" in summary
    assert summary in r.stdout
    assert "[30/30]" in r.stderr or f"[{len(expected)}/{len(expected)}]" in r.stderr  # progress was shown


def test_grading_a_glob_that_matches_nothing_is_a_usage_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "derive.check", "add", "--target", "nobody/*/functional.py"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and "matches no file" in r.stderr and len(r.stderr.splitlines()) == 1
    assert not os.path.exists(tmp_path / "gradebook")


def test_ctrl_c_keeps_what_was_graded(tmp_path):
    import signal
    import time

    make_class(str(tmp_path / "submissions"), correct=4)
    p = subprocess.Popen([sys.executable, "-m", "derive.check", *OPS, "--target", "submissions/*/functional.py",
                          "--timeout", "2", "--gradebook", "out"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, cwd=tmp_path, start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(8)
    os.killpg(p.pid, signal.SIGINT)  # what the terminal sends to the whole group
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "interrupted:" in err and "Traceback" not in err
    with open(tmp_path / "out" / "gradebook.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    graded = int(err.split("interrupted: ")[1].split(" of ")[0])
    assert len(rows) == graded < len(os.listdir(tmp_path / "submissions"))


def test_each_cell_names_its_failing_case_and_each_submission_gets_a_feedback_file(gradebook):
    """A cell is enough to reproduce the failure; the feedback file is what a student is handed."""
    out, expected, r = gradebook
    with open(out / "gradebook.csv", newline="") as f:
        table = {row["submission"]: row for row in csv.DictReader(f)}
    detail = json.loads((out / "submissions" / "exp_times_x_0.json").read_text())
    failure = next(o for o in detail["ops"] if o["op"] == "exp")["failures"][0]
    assert failure["case"].startswith("exp(X(")
    assert table["exp_times_x_0"]["exp"] == f"FAIL: {failure['message']} (at {failure['case']})"
    text = (out / "submissions" / "exp_times_x_0.txt").read_text()
    block = text.split("\nFAIL exp\n", 1)[1].split("\n\n", 1)[0]
    assert f"  at {failure['case']}\n  {failure['message']}" in block
    assert "dl/dX was checked against the derived entry exp(X[" in block
    assert "PASS add (" in text
    assert len(list((out / "submissions").glob("*.txt"))) == len(expected)
    not_loaded = next(s for s in expected if s.startswith("syntax_error"))
    assert "not checked: " in (out / "submissions" / f"{not_loaded}.txt").read_text()
