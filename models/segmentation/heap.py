"""Keep freed memory for the next prompt (issue 16: a prompt under 50 ms on CPU).

A SAM prompt allocates a dozen 1-8 MB tensors (layer-norm outputs, the 1024 x 1024 first resize).
glibc's malloc gives blocks that large their own mmap and returns them to the system when freed, so
the next prompt pays the page faults again: first-touch zeroing of every page, measured at 13-15% of
a published-size click -> box here (83 -> 71 ms and 87 -> 70 ms, SAM ViT-B, one thread, load 2.3).
`keep_freed_memory` raises glibc's mmap threshold to its maximum (32 MB on 64-bit) and its trim
threshold to 256 MB, so these blocks come from the heap and are reused; at most 256 MB of freed heap
stays with the process. It changes no value anything computes. Process-wide and once: called when a
segment-anything model loads. Elsewhere than glibc (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_MAX = 32 * 1024 * 1024  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
_TRIM = 256 * 1024 * 1024
_done = False


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds (module docstring); True when they were set."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM))
    return _done
