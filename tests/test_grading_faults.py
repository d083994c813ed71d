"""Grading survives its own faults: a checker process that dies, SIGTERM, a second run into the same
folder, a run resumed, a submission over its budget, a disk that refuses the write, a planted derive/."""

import csv
import fcntl
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import pytest

from classroom import OPS, _source, make_class
from derive.grading.run import detail_name

GRADE = [sys.executable, "-m", "derive.check", *OPS, "--target", "submissions/*/functional.py", "--timeout", "2",
         "--examples", "20", "--gradebook", "out"]


def _write(root, name, source):
    os.makedirs(root / "submissions" / name, exist_ok=True)
    (root / "submissions" / name / "functional.py").write_text(source)


def _rows(root):
    with open(root / "out" / "gradebook.csv", newline="") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


def test_detail_files_of_distinct_submissions_are_distinct():
    names = ["x/y", "x__y", "x%2Fy", "..", "a b", "é"]
    files = [detail_name(n) for n in names]
    assert len(set(files)) == len(names)
    assert all("/" not in f and not f.startswith(".") for f in files)


def test_a_submission_that_kills_its_checker_costs_only_its_own_row(tmp_path):
    # without the sandbox a worker can see its checker: it dies on both tries, the others are graded
    make_class(str(tmp_path / "submissions"), correct=2, repeats=0)
    for name in os.listdir(tmp_path / "submissions"):
        if not name.startswith("correct"):
            shutil.rmtree(tmp_path / "submissions" / name)
    _write(tmp_path, "kills_checker", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n")
    r = subprocess.run([*GRADE, "--sandbox", "off"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 3, r.stderr  # not graded, for derive's reasons: never a silent exit 0
    assert "could not be graded for derive's own reasons: kills_checker" in r.stderr
    assert "the sandbox is off (--sandbox off)" in r.stderr
    rows = _rows(tmp_path)
    assert "the checker process ended (SIGKILL) while checking this submission, twice" in rows["kills_checker"]["problem"]
    assert all(rows[f"correct_{k:02d}"][op] == "PASS" for k in range(2) for op in OPS)
    assert json.loads((tmp_path / "out" / "gradebook.json").read_text())["not_graded"] == ["kills_checker"]


def test_sigterm_keeps_what_was_graded(tmp_path):
    make_class(str(tmp_path / "submissions"), correct=6, repeats=0)
    (tmp_path / "tmp").mkdir()
    p = subprocess.Popen(GRADE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                         env=dict(os.environ, TMPDIR=str(tmp_path / "tmp")))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (tmp_path / "out" / "gradebook.csv").exists():
        time.sleep(0.2)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "interrupted by SIGTERM" in err and "Traceback" not in err
    rows = _rows(tmp_path)
    data = json.loads((tmp_path / "out" / "gradebook.json").read_text())
    graded = int(err.split("interrupted by SIGTERM: ")[1].split(" of ")[0])
    assert 1 <= len(rows) == graded == len(data["submissions"]) < len(os.listdir(tmp_path / "submissions"))
    assert not [f for f in os.listdir(tmp_path / "out") if f.endswith(".tmp")]
    assert os.listdir(tmp_path / "tmp") == []  # the sandboxes' scratch copies went with the run


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    make_class(str(tmp_path / "submissions"), correct=1, repeats=0)
    os.makedirs(tmp_path / "out")
    with open(tmp_path / "out" / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242")
        held.flush()
        r = subprocess.run(GRADE, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "another grading run (pid 4242) is writing into out/" in r.stderr
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_resume_grades_only_what_is_new_or_changed(tmp_path):
    make_class(str(tmp_path / "submissions"), correct=3, repeats=0)
    for name in os.listdir(tmp_path / "submissions"):
        if not name.startswith("correct"):
            shutil.rmtree(tmp_path / "submissions" / name)
    first = subprocess.run(GRADE, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert first.returncode == 0, first.stderr
    _write(tmp_path, "correct_01", _source(("exp", "def exp(grad, x):\n    return grad * x\n")))  # resubmitted
    _write(tmp_path, "late", _source())
    again = subprocess.run([*GRADE, "--resume"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "2 kept from the last run" in again.stderr
    graded_now = [line.split("] ")[1].split(":")[0] for line in again.stderr.splitlines() if line.startswith("[")]
    assert sorted(graded_now) == ["correct_01", "late"]
    rows = _rows(tmp_path)
    assert set(rows) == {"correct_00", "correct_01", "correct_02", "late"}
    assert rows["correct_01"]["exp"].startswith("FAIL") and rows["correct_00"]["exp"] == "PASS"
    other_seed = subprocess.run([*GRADE, "--resume", "--seed", "1"], capture_output=True, text=True, cwd=tmp_path,
                                timeout=600)
    assert "kept from the last run" not in other_seed.stderr  # other settings: everything again


def test_the_budget_bounds_one_submission(tmp_path):
    # 20 examples of an add taking 1 s (two calls of 0.5 s) cannot fit a 10 s budget; the quick
    # submission's whole check does, even on two loaded cores (4 s did not, under a parallel suite)
    slow = _source(("add", "def add(grad, x, y):\n    import time\n    time.sleep(0.5)\n    return grad, grad\n"))
    _write(tmp_path, "slow", slow)
    _write(tmp_path, "quick", _source())
    r = subprocess.run([*GRADE, "--budget", "10"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    rows = _rows(tmp_path)
    assert all(rows["quick"][op] == "PASS" for op in OPS)
    left = [op for op in OPS if rows["slow"][op].startswith("SKIP: not checked: the budget of 10 s")]
    assert left == OPS[1:], rows["slow"]  # add spent it: the ops after it are not checked
    assert rows["slow"]["add"].startswith("FAIL")  # what ran keeps its verdict


def test_the_reference_is_flagged_when_the_sandbox_is_off(tmp_path):
    _write(tmp_path, "cheat", "from numeric.backward import *\n")
    _write(tmp_path, "honest", _source())
    r = subprocess.run([*GRADE, "--sandbox", "off"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    rows = _rows(tmp_path)
    assert rows["cheat"]["flags"] == "it imports derive's reference implementation (numeric)"
    assert rows["honest"]["flags"] == ""


def test_a_write_that_fails_leaves_the_last_gradebook_whole(tmp_path):
    make_class(str(tmp_path / "submissions"), correct=2, repeats=0)
    first = subprocess.run(GRADE, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert first.returncode == 0, first.stderr
    before = {f: (tmp_path / "out" / f).read_text() for f in ("gradebook.csv", "gradebook.json", "gradebook.md")}

    def small_files():  # a full disk, as the grader sees it: writes past 2 kB fail
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    r = subprocess.run(GRADE, capture_output=True, text=True, cwd=tmp_path, timeout=600, preexec_fn=small_files)
    assert r.returncode != 0
    assert "cannot write the gradebook into out/" in r.stderr and "Traceback" not in r.stderr
    for name, text in before.items():  # each file is the old one or a new one, never a cut one
        now = (tmp_path / "out" / name).read_text()
        assert now == text or len(now) < 2048
    json.loads((tmp_path / "out" / "gradebook.json").read_text())
    assert not [f for f in os.listdir(tmp_path / "out") if f.endswith(".tmp")]


def test_a_planted_derive_in_the_working_folder_is_refused(tmp_path):
    import derive
    shutil.copytree(os.path.dirname(derive.__file__), tmp_path / "derive")  # a copy a submission could patch
    r = subprocess.run([sys.executable, "-m", "derive.check", "exp", "--examples", "3"], capture_output=True,
                       text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "./derive in the working directory is not the installed derive" in r.stderr


def test_a_folder_named_derive_in_the_working_folder_is_one_line(tmp_path):
    """Run from the folder that holds a checkout called derive/: its root has no __init__.py."""
    (tmp_path / "derive").mkdir()
    r = subprocess.run([sys.executable, "-m", "derive.check", "exp", "--examples", "3"], capture_output=True,
                       text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "./derive in the working directory is a folder, not the derive package" in r.stderr


@pytest.mark.parametrize("argv, words", [
    (["--budget", "0"], "--budget must be a positive number of seconds"),
    (["--jobs", "0"], "--jobs must be at least 1"),
])
def test_grading_usage_errors_are_one_line(tmp_path, argv, words):
    make_class(str(tmp_path / "submissions"), correct=1, repeats=0)
    r = subprocess.run([*GRADE, *argv], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and words in r.stderr, r.stderr
