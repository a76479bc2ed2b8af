"""heap.keep_freed_memory: a freed 8 MB block stays with the process for the next prompt (glibc)."""

import ctypes
import ctypes.util
import sys

import numpy as np
import pytest

from models.segmentation.heap import keep_freed_memory


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def _libc():
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc only")
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("no mallinfo2 (glibc < 2.33 or not glibc)")
    libc.mallinfo2.restype = _Mallinfo2
    return libc


def test_a_freed_8_mb_block_comes_from_the_heap_and_stays_there():
    libc = _libc()
    assert keep_freed_memory() is True
    before = libc.mallinfo2()
    block = np.ones(2 * 1024 * 1024, dtype=np.float32)  # 8 MB, what a prompt's layer-norm outputs are
    during = libc.mallinfo2()
    assert during.hblkhd - before.hblkhd < 8 * 1024 * 1024  # not its own mmap
    del block
    after = libc.mallinfo2()
    assert after.arena >= during.arena  # not given back to the system
    assert after.fordblks - during.fordblks >= 8 * 1024 * 1024  # kept as free heap for the next one
