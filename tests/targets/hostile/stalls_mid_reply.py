"""Answers exp with a frame header and the first bytes of its reply, then stalls: the whole reply must
come within the time limit, not only its first byte."""
import struct
import time

import derive.isolation.channel as channel
import numeric.backward

_send = channel.Channel.send


def _stall(self, obj):
    if isinstance(obj, dict) and obj.get("kind") == "ran" and _stall.armed:
        self.sock.sendall(struct.pack("<4sIQ", b"DRV1", 0, 1000) + b"\x80\x05")
        time.sleep(3600)
    _send(self, obj)


_stall.armed = False
channel.Channel.send = _stall


def add(grad, x, y):
    _stall.armed = False
    return numeric.backward.add(grad, x, y)


def exp(grad, x):
    _stall.armed = True
    return grad
