"""Takes over its worker's side of the channel and answers every run with a forged pickle that would run
code in the checker if the checker built what a reply names (FORGED_KIND: ``eval`` calls builtins.eval;
``sympy`` rebuilds a sympy Tuple from text, which sympify evaluates; ``numpy`` an ndarray of objects).
The code, run in the checker, would write the file FORGED_MARKER; its gradients are all wrong."""
import os
import pickle
import struct

import numpy as np

import derive.isolation.channel as channel
from numeric.backward import add  # noqa: F401  correct

MARKER = os.environ.get("FORGED_MARKER", "forged-marker")
PAYLOAD = f"open({MARKER!r}, 'w').write('the checker ran the reply')"


class _Eval:
    def __reduce__(self):
        return eval, (PAYLOAD,)


class _SympyText:
    def __reduce__(self):
        import sympy
        return sympy.Tuple, (f"__import__('builtins').exec({PAYLOAD!r})",)


def _forged():
    kind = os.environ.get("FORGED_KIND", "eval")
    if kind == "numpy":
        return pickle.dumps({"kind": "ran", "output": np.array([_Eval()], dtype=object)}, protocol=5)
    return pickle.dumps({"kind": "ran", "output": _Eval() if kind == "eval" else _SympyText()}, protocol=5)


_send = channel.Channel.send


def _send_forged(self, obj):
    if isinstance(obj, dict) and obj.get("kind") == "ran":
        head = _forged()
        self.sock.sendall(struct.pack("<4sIQ", b"DRV1", 0, len(head)) + head)
        return
    _send(self, obj)


channel.Channel.send = _send_forged


def exp(grad, x):
    return np.zeros_like(x)
