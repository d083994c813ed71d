"""An instructor's own op, declared in a file with derive.define, is an op like matmul from every
front-end: the command line (``--ops FILE``, also over several processes), a gradebook, the ready
pytest suite (``--derive-ops``, ``derive_ops`` in the ini file)."""

import json
import subprocess
import sys
import textwrap

import pytest

DECLARATION = """
import derive
derive.define("Z[i, j] = X[i, j] * X[i, j] * X[i, j]", inputs="X[N, M]", name="cube")
"""
CORRECT = "def cube(grad, x):\n    return 3 * grad * x ** 2\n"
WRONG = "def cube(grad, x):\n    return 3 * grad * x  # the power rule's exponent not lowered\n"


@pytest.fixture
def course(tmp_path):
    (tmp_path / "course_ops.py").write_text(textwrap.dedent(DECLARATION))
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "alice.py").write_text(CORRECT)
    (tmp_path / "subs" / "bob.py").write_text(WRONG)
    return tmp_path


def derive_check(folder, *argv):
    return subprocess.run([sys.executable, "-m", "derive.check", *argv, "--no-database"], capture_output=True,
                          text=True, timeout=600, cwd=folder)


def test_the_command_line_checks_a_declared_op(course):
    r = derive_check(course, "cube", "--ops", "course_ops.py", "--target", "subs/alice.py", "--examples", "30")
    assert r.returncode == 0 and "PASS cube: 30 examples" in r.stdout, r.stdout + r.stderr
    r = derive_check(course, "cube", "--ops", "course_ops.py", "--target", "subs/bob.py", "--examples", "30")
    assert r.returncode == 1 and "expected 3*G[0,0]*X[0,0]**2, got 3*G[0,0]*X[0,0]" in r.stdout, r.stdout


def test_every_checker_process_knows_the_declared_op(course):
    r = derive_check(course, "cube", "exp", "--ops", "course_ops.py", "--target", "subs/alice.py", "--jobs", "2",
                     "--examples", "10", "--format", "json")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    ops = {o["op"]: o["status"] for o in json.loads(r.stdout)["ops"]}
    assert ops == {"cube": "pass", "exp": "skipped"}


def test_an_undeclared_op_says_how_to_declare_it(course):
    r = derive_check(course, "cube", "--target", "subs/alice.py")
    assert r.returncode == 2 and "unknown op 'cube'" in r.stderr and "--ops FILE" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("contents, says", [(None, "--ops missing.py: no such file"),
                                            ("import derive\n\nraise ValueError('no such index k')\n",
                                             "--ops broken.py: line 3: ValueError: no such index k")])
def test_a_declarations_file_that_cannot_be_loaded_is_one_usage_error(course, contents, says):
    name = "missing.py" if contents is None else "broken.py"
    if contents is not None:
        (course / name).write_text(contents)
    r = derive_check(course, "cube", "--ops", name)
    assert r.returncode == 2 and r.stderr.strip() == f"derive.check: error: {says}", r.stderr


def test_a_gradebook_grades_a_declared_op(course):
    r = derive_check(course, "cube", "--ops", "course_ops.py", "--target", "subs/*.py", "--gradebook", "gb",
                     "--examples", "20")
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {row["submission"]: row for row in json.loads((course / "gb" / "gradebook.json").read_text())["submissions"]}
    assert (rows["alice"]["passed"], rows["bob"]["failed"]) == (1, 1), rows


@pytest.mark.parametrize("how", ["option", "ini"])
def test_the_pytest_suite_checks_a_declared_op(course, how):
    extra = ["--derive-ops", "course_ops.py"] if how == "option" else []
    if how == "ini":
        (course / "pytest.ini").write_text("[pytest]\nderive_ops = course_ops.py\n")
    for submission, code in (("alice", 0), ("bob", 1)):
        r = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "derive.suite", "--derive-target",
                            f"subs/{submission}.py", *extra, "-q", "-p", "no:cacheprovider", "-n", "0", "-k", "cube"],
                           capture_output=True, text=True, timeout=600, cwd=course)
        assert r.returncode == code, r.stdout[-2000:]
        assert ("1 passed" if code == 0 else "1 failed") in r.stdout, r.stdout[-2000:]
