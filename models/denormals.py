"""Subnormal floats flushed to zero on the CPU, in every thread that runs a model (decision 0155).

An x86 core takes ~100 cycles for an operation on a subnormal (|x| < 1.2e-38 in float32) instead of
one. Segment-anything encoders make them in the zero padding SAM's processor adds to every
non-square image: the embedding of a 2048 x 2500 radiograph took 280 s on one core against 30 s for
a square one with the same (1, 3, 1024, 1024) input, and 22 s with subnormals flushed. TensorFlow
flushes them by default for the same reason. A flushed value differs from the subnormal it replaces
by under 1.2e-38, far below float32's rounding of anything the models' outputs are read at.

`torch.set_flush_denormal` sets FTZ and DAZ in the calling thread's MXCSR only. The threads of its
OpenMP team keep the state they had when they were created (a thread takes its creator's), so a
team made by an earlier parallel op in that thread does not flush: the embedding above took 102 s
on two threads that way, against 11 s. `flushed` therefore also copies the calling thread's
floating-point environment into every thread of its OpenMP team (libgomp's `GOMP_parallel` running
the C library's `fesetenv` in each); threads the team adds meanwhile inherit it.

It is scoped (`flushed()`): the calling thread's previous floating-point environment comes back
when the block ends, so code that runs later in that thread (numpy, a test's hypothesis, which
refuses to run with subnormals flushed) sees IEEE-754 as before. The OpenMP threads, which run
torch's parallel ops only, keep flushing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def flushed() -> Iterator[bool]:
    """Subnormals flushed to zero in the calling thread and its OpenMP threads inside the block; the
    calling thread's floating-point environment as it was afterwards. Yields False where the CPU
    cannot flush (torch says so); then nothing changes."""
    import torch

    saved = _environment()
    on = bool(torch.set_flush_denormal(True))
    try:
        if on:
            copy_environment_to_openmp_team(max(torch.get_num_threads(), os.cpu_count() or 1))
        yield on
    finally:
        if on and not _set_environment(saved):
            torch.set_flush_denormal(False)


@functools.cache
def _libraries():
    """(libgomp, the C maths library) as loaded in this process, or None: Linux with torch's libgomp.
    Looked up once (`flushed` imports torch, which loads libgomp, before the first call)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "libgomp" in line.rsplit("/", 1)[-1]}
    except OSError:
        return None
    # torch's own copy when another library brought a second one (its pool is the one torch uses)
    path = min(paths, key=lambda p: ("torch" not in p, p), default=None)
    libm = ctypes.util.find_library("m")
    if path is None or libm is None:
        return None
    gomp, libm = ctypes.CDLL(path), ctypes.CDLL(libm)
    gomp.GOMP_parallel.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
    gomp.GOMP_parallel.restype = None
    return gomp, libm


def _environment():
    """The calling thread's floating-point environment (glibc's fenv_t), or None where unavailable."""
    libs = _libraries()
    if libs is None:
        return None
    env = ctypes.create_string_buffer(64)  # fenv_t: 32 bytes on x86-64 glibc, 8 on arm64
    return env if libs[1].fegetenv(env) == 0 else None


def _set_environment(env) -> bool:
    libs = _libraries()
    return env is not None and libs is not None and libs[1].fesetenv(env) == 0


def copy_environment_to_openmp_team(threads: int) -> bool:
    """Run `fesetenv(this thread's environment)` in each of `threads` threads of the calling thread's
    OpenMP team (the pool torch's parallel ops use). False where that cannot be done here."""
    libs = _libraries()
    env = _environment()
    if libs is None or env is None:
        return False
    gomp, libm = libs
    gomp.GOMP_parallel(ctypes.cast(libm.fesetenv, ctypes.c_void_p), ctypes.cast(env, ctypes.c_void_p), threads, 0)
    return True
