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

import models.denormals as denormals
from desktop.core.refine_threads import AHEAD, ThreadPolicy
from models import load_model
from models.segmentation.tiny import write_tiny_folder

FTZ_DAZ = 0x8040  # MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6)
x86_linux = pytest.mark.skipif(denormals._libraries() is None or platform.machine() not in ("x86_64", "AMD64"),
                               reason="reads MXCSR through glibc's x86-64 fenv_t and libgomp")


def _in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


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
        return _team_mxcsr(2)

    return _in_thread(work)


@x86_linux
def test_torchs_own_call_leaves_the_openmp_threads_it_already_has():
    seen = _team_made_before(lambda: torch.set_flush_denormal(True))
    assert len(seen) == 2 and any(v & FTZ_DAZ != FTZ_DAZ for v in seen.values())  # the case below mends


@x86_linux
def test_flush_denormals_reaches_every_thread_of_the_team():
    seen = _team_made_before(denormals.flush_denormals)
    assert len(seen) == 2 and all(v & FTZ_DAZ == FTZ_DAZ for v in seen.values())


@x86_linux
def test_load_model_and_an_assist_task_flush_their_threads(tmp_path):
    folder = write_tiny_folder(tmp_path / "sam", "sam", "sam", seed=1)

    def loads():
        torch.set_flush_denormal(False)
        load_model("sam-vit-base", weights=folder, device="cpu")
        return _team_mxcsr(2)

    def task():
        torch.set_flush_denormal(False)
        with ThreadPolicy(cores=2).task(AHEAD):
            return _team_mxcsr(2)

    for seen in (_in_thread(loads), _in_thread(task)):
        assert seen and all(v & FTZ_DAZ == FTZ_DAZ for v in seen.values())


def test_flushing_leaves_the_embedding_of_a_padded_image_as_it_was(tmp_path, monkeypatch):
    m = load_model("medsam", weights=write_tiny_folder(tmp_path / "sam", "sam", "medsam", seed=2), device="cpu")
    rgb = np.random.default_rng(0).integers(0, 255, (300, 170, 3), dtype=np.uint8)  # padded on the right
    flushed = _in_thread(lambda: m.embed(rgb).features)
    monkeypatch.setattr(denormals, "flush_denormals", lambda: bool(torch.set_flush_denormal(False)))
    kept = _in_thread(lambda: m.embed(rgb).features)  # subnormals kept
    torch.testing.assert_close(flushed, kept, rtol=0, atol=1e-30)
