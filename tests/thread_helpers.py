"""Running a function in a fresh thread (torch's thread counts and floating-point state are per thread)."""

from __future__ import annotations

import threading


def in_thread(fn):
    """fn() in a new thread; its result."""
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]
