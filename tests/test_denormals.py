"""Subnormal floats are flushed to zero in the threads that run models, including the OpenMP threads
torch's parallel ops run on (models/denormals.py, decision 0155), and flushing leaves an embedding
as it was."""

from __future__ import annotations

import ctypes
import platform
import threading

import numpy as np
import pytest
import torch
from thread_helpers import in_thread

import models.denormals as denormals
from desktop.core.refine_threads import AHEAD, ThreadPolicy
from models import load_model
from models.segmentation.tiny import write_tiny_folder

FTZ_DAZ = 0x8040  # MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6)
x86_linux = pytest.mark.skipif(denormals._libraries() is None or platform.machine() not in ("x86_64", "AMD64"),
                               reason="reads MXCSR through glibc's x86-64 fenv_t and libgomp")



def _team_mxcsr(threads: int = 2) -> dict[int, int]:
    """MXCSR of each thread of the calling thread's OpenMP team (libgomp runs a callback in each)."""
    gomp, libm = denormals._libraries()
    seen, lock = {}, threading.Lock()

    @ctypes.CFUNCTYPE(None, ctypes.c_void_p)
    def read(_data):
        env = ctypes.create_string_buffer(64)
        libm.fegetenv(env)
        with lock:
            seen[threading.get_native_id()] = int.from_bytes(env.raw[28:32], "little")  # fenv_t.__mxcsr

    gomp.GOMP_parallel(ctypes.cast(read, ctypes.c_void_p), None, threads, 0)
    return seen


def _team_made_before(flush) -> dict[int, int]:
    """A fresh thread whose OpenMP team exists (torch ops on 2 threads) before `flush` runs in it."""
    def work():
        torch.set_flush_denormal(False)
        torch.set_num_threads(2)
        a = torch.randn(256, 256)
        (a @ a).relu_().sum()
        torch.randn(1 << 20).mul_(2.0)
        flush()
        return {("caller" if tid == threading.get_native_id() else "worker"): v for tid, v in _team_mxcsr(2).items()}

    return in_thread(work)


def _mxcsr() -> int:
    env = ctypes.create_string_buffer(64)
    denormals._libraries()[1].fegetenv(env)
    return int.from_bytes(env.raw[28:32], "little")


@x86_linux
def test_torchs_own_call_leaves_the_openmp_threads_it_already_has():
    seen = _team_made_before(lambda: torch.set_flush_denormal(True))
    assert seen["caller"] & FTZ_DAZ == FTZ_DAZ and seen["worker"] & FTZ_DAZ == 0  # the case below mends


@x86_linux
def test_inside_flushed_every_thread_of_the_team_flushes_and_afterwards_the_caller_is_as_before():
    def flush_and_look():
        with denormals.flushed() as on:
            inside = _mxcsr()
        assert on and inside & FTZ_DAZ == FTZ_DAZ
        assert _mxcsr() & FTZ_DAZ == 0  # the calling thread: IEEE-754 again

    seen = _team_made_before(flush_and_look)
    assert seen["worker"] & FTZ_DAZ == FTZ_DAZ and seen["caller"] & FTZ_DAZ == 0


@x86_linux
def test_an_embedding_and_an_assist_task_flush_and_give_the_thread_back(tmp_path):
    m = load_model("sam-vit-base", weights=write_tiny_folder(tmp_path / "sam", "sam", "sam", seed=1), device="cpu")
    rgb = np.random.default_rng(0).integers(0, 255, (120, 80, 3), dtype=np.uint8)

    def embeds():
        torch.set_flush_denormal(False)
        torch.set_num_threads(2)
        torch.randn(1 << 20).mul_(2.0)  # the team exists before the embedding
        m.embed(rgb)
        return _mxcsr(), _team_mxcsr(2)

    def task():
        torch.set_flush_denormal(False)
        with ThreadPolicy(cores=2).task(AHEAD):
            inside = _mxcsr(), _team_mxcsr(2)
        return inside, _mxcsr()

    caller, team = in_thread(embeds)
    assert caller & FTZ_DAZ == 0 and len(team) == 2
    assert sum(v & FTZ_DAZ == FTZ_DAZ for v in team.values()) == 1  # the worker (the caller is itself again)
    (caller_in, team_in), after = in_thread(task)
    assert caller_in & FTZ_DAZ == FTZ_DAZ and all(v & FTZ_DAZ == FTZ_DAZ for v in team_in.values())
    assert after & FTZ_DAZ == 0


def test_flushing_leaves_the_embedding_of_a_padded_image_as_it_was(tmp_path, monkeypatch):
    import contextlib

    m = load_model("medsam", weights=write_tiny_folder(tmp_path / "sam", "sam", "medsam", seed=2), device="cpu")
    rgb = np.random.default_rng(0).integers(0, 255, (300, 170, 3), dtype=np.uint8)  # padded on the right
    flushed = in_thread(lambda: m.embed(rgb).features)
    monkeypatch.setattr(denormals, "flushed", lambda: contextlib.nullcontext(False))
    kept = in_thread(lambda: (torch.set_flush_denormal(False), m.embed(rgb).features)[1])  # subnormals kept
    torch.testing.assert_close(flushed, kept, rtol=0, atol=1e-30)
